import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type CollectSummary, collectFinance } from '#shared/finance/collector.ts';
import { FinanceCollectorEnvSchema, financeCollectorDeps } from '#shared/finance/deps.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(FinanceCollectorEnvSchema);
const deps = financeCollectorDeps(
  env,
  { eventBridge: tracer.captureAWSv3Client(new EventBridgeClient({})) },
  { telemetry: powertoolsTelemetry, log: logger },
);

/** Run by EventBridge Scheduler — thin glue: the work is in shared/finance/collector.ts. */
export const handler = middy<unknown, CollectSummary, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async () => collectFinance(deps));
