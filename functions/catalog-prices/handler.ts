import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { catalogPrices, PricesEnvSchema } from '#shared/flows/catalog-prices.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(PricesEnvSchema);
const handle = catalogPrices(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    scheduler: tracer.captureAWSv3Client(new SchedulerClient({})),
  },
  { telemetry: powertoolsTelemetry, log: logger },
);

/** SQS price queue (PriceChanged events and price-due schedule messages) → price books, schedules, Shopify. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => handle(event, context));
