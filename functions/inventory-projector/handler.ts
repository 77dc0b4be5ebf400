import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { inventoryProjector, ProjectorEnvSchema } from '#shared/flows/inventory-sync.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(ProjectorEnvSchema);
const project = inventoryProjector(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    sqs: tracer.captureAWSv3Client(new SQSClient({})),
  },
  { telemetry: powertoolsTelemetry, log: logger },
);

/** SQS `InventoryEvents` → projection → availability queues, with partial batch responses. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => project(event));
