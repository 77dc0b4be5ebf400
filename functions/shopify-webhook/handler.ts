import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/bus/publisher.ts';
import { handleShopifyWebhook } from '#shared/ingress/shopify-webhook.ts';
import { traceRecorder } from '#shared/ops/trace.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { powertoolsDeduplicator } from '#shared/runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerWebhookSecrets } from '#shared/runtime/secrets.ts';
import { ShopsSchema } from '#shared/runtime/shops.ts';

const env = readEnv(
  z.object({
    EVENT_BUS_NAME: z.string().min(1),
    IDEMPOTENCY_TABLE_NAME: z.string().min(1),
    EXCEPTIONS_TABLE_NAME: z.string().min(1),
    SHOPIFY_WEBHOOK_SECRET_ID: z.string().min(1),
    SHOPIFY_SHOPS: ShopsSchema,
    MAX_BODY_BYTES: z.coerce.number().int().positive(),
    TRACE_TABLE_NAME: z.string().min(1).optional(),
  }),
);

const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const dedup = powertoolsDeduplicator({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  client: dynamo,
  keyPrefix: IDEMPOTENCY_KEY_PREFIXES.shopifyWebhook,
});
const deps = {
  shops: env.SHOPIFY_SHOPS,
  secrets: secretsManagerWebhookSecrets(env.SHOPIFY_WEBHOOK_SECRET_ID),
  publisher: new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    env.EVENT_BUS_NAME,
  ),
  exceptions: new DynamoExceptionStore(DynamoDBDocumentClient.from(dynamo), env.EXCEPTIONS_TABLE_NAME),
  deduplicate: dedup.deduplicate,
  telemetry: powertoolsTelemetry,
  log: logger,
  maxBodyBytes: env.MAX_BODY_BYTES,
  trace: traceRecorder({
    documents: DynamoDBDocumentClient.from(dynamo),
    tableName: env.TRACE_TABLE_NAME,
    service: 'shopify-webhook',
    telemetry: powertoolsTelemetry,
    log: logger,
  }),
  correlate: (transactionId: string) => logger.setCorrelationId(transactionId),
};

/** POST /webhooks/shopify — thin glue: the work is in shared/ingress/shopify-webhook.ts. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    dedup.registerLambdaContext(context);
    return handleShopifyWebhook(event, deps);
  });
