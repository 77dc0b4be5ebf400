import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { BopisCallbacksEnvSchema, bopisCallbacks } from '#shared/flows/bopis/handlers.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, tracer } from '#shared/runtime/observability.ts';

const callbacks = bopisCallbacks(
  readEnv(BopisCallbacksEnvSchema),
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    sfn: tracer.captureAWSv3Client(new SFNClient({})),
  },
  logger,
);

/** SQS `BopisCallbacks` (PickupUpdated, OrderCancelled of pick-ups) → the waiting task tokens. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => callbacks(event));
