import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { ReconcilerEnvSchema, reconcilerDeps } from '#shared/reconcile/deps.ts';
import { ReconcileRequestSchema, type ReconcileResult, reconcile } from '#shared/reconcile/reconcile.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(ReconcilerEnvSchema);
const deps = reconcilerDeps(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    eventBridge: tracer.captureAWSv3Client(new EventBridgeClient({})),
    sqs: tracer.captureAWSv3Client(new SQSClient({})),
  },
  {
    telemetry: powertoolsTelemetry,
    log: logger,
    // The drift metric the ops alarm watches: the number of discrepancies of the run (0 included).
    metric: (name, value) => metrics.addMetric(name, MetricUnit.Count, value),
  },
);

/**
 * EventBridge Scheduler (the environment's rate, `{"heal": …}` from its config) or an operator
 * (`npm run -s ops -- reconcile`, Lambda Invoke with `{since, until, heal}`) — thin glue: the work is in
 * shared/reconcile/. A malformed request fails the invocation with the zod message.
 */
export const handler = middy<unknown, ReconcileResult, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => reconcile(ReconcileRequestSchema.parse(event ?? {}), deps));
