import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { handlePosWebhook } from '#shared/ingress/pos-webhook.ts';
import { PosWebhookEnvSchema, posWebhookDeps } from '#shared/ingress/pos-webhook-deps.ts';
import { requestUrl } from '#shared/ingress/webhook.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(PosWebhookEnvSchema);
const { deps, registerLambdaContext } = posWebhookDeps(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    eventBridge: tracer.captureAWSv3Client(new EventBridgeClient({})),
  },
  { telemetry: powertoolsTelemetry, log: logger },
);

const correlatedDeps = {
  ...deps,
  correlate: (transactionId: string) => logger.setCorrelationId(transactionId),
};

/** POST /webhooks/pos — thin glue: the work is in shared/ingress/pos-webhook.ts. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    registerLambdaContext(context);
    return handlePosWebhook(
      { ...event, notificationUrl: env.SQUARE_NOTIFICATION_URL ?? requestUrl(event) },
      correlatedDeps,
    );
  });
