import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BopisStartEnvSchema, bopisStarter } from '#shared/flows/bopis/handlers.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, tracer } from '#shared/runtime/observability.ts';

const start = bopisStarter(
  readEnv(BopisStartEnvSchema),
  tracer.captureAWSv3Client(new SFNClient({})),
  logger,
);

/** SQS `BopisOrders` (online pick-up OrderCreated) → one BOPIS execution per order, named after it. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => start(event));
