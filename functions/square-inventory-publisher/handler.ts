import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SquarePublisherEnvSchema, squareInventoryPublisher } from '#shared/flows/inventory-sync.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(SquarePublisherEnvSchema);
const publish = squareInventoryPublisher(
  env,
  { dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})) },
  { telemetry: powertoolsTelemetry, log: logger },
);

/** SQS availability queue of the POS → Square batch-create PHYSICAL_COUNT per store (coalesced, idempotent, paced). */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => publish(event));
