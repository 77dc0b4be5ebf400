import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { erpPriceFeedPoller, PriceFeedEnvSchema, type PriceFeedRun } from '#shared/flows/catalog-prices.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(PriceFeedEnvSchema);
const run = erpPriceFeedPoller(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    eventBridge: tracer.captureAWSv3Client(new EventBridgeClient({})),
  },
  { telemetry: powertoolsTelemetry, log: logger },
);

/** Run by EventBridge Scheduler — thin glue: the work is in shared/flows/catalog-prices.ts. */
export const handler = middy<unknown, PriceFeedRun, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async () => run());
