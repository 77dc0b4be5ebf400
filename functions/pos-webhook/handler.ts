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
import { CatalogSkuResolver, SquareClient } from '#shared/connectors/square/client.ts';
import { handlePosWebhook, POS_DELIVERY_RECORD_TTL_SECONDS } from '#shared/ingress/pos-webhook.ts';
import { requestUrl } from '#shared/ingress/webhook.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { DynamoPosOrderRegistry } from '#shared/repositories/pos-orders.ts';
import { jsonVariable, readEnv } from '#shared/runtime/env.ts';
import { powertoolsDeduplicator } from '#shared/runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerWebhookSecrets } from '#shared/runtime/secrets.ts';

const env = readEnv(
  z.object({
    EVENT_BUS_NAME: z.string().min(1),
    IDEMPOTENCY_TABLE_NAME: z.string().min(1),
    EXCEPTIONS_TABLE_NAME: z.string().min(1),
    LEDGER_TABLE_NAME: z.string().min(1),
    SQUARE_SIGNATURE_KEY_SECRET_ID: z.string().min(1),
    SQUARE_ACCESS_TOKEN_SECRET_ID: z.string().min(1),
    SQUARE_BASE_URL: z.url(),
    SQUARE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    /** The URL registered with Square, when API Gateway sees another (custom domain with an API mapping). */
    SQUARE_NOTIFICATION_URL: z.url().optional(),
    MAX_BODY_BYTES: z.coerce.number().int().positive(),
    /** The merchants this environment serves (a JSON array); unset = any (dev only). */
    SQUARE_MERCHANT_IDS: jsonVariable(z.array(z.string().min(1)).min(1)).optional(),
  }),
);

const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const documents = DynamoDBDocumentClient.from(dynamo);
const dedup = powertoolsDeduplicator({
  tableName: env.IDEMPOTENCY_TABLE_NAME,
  client: dynamo,
  keyPrefix: IDEMPOTENCY_KEY_PREFIXES.posWebhook,
  expiresAfterSeconds: POS_DELIVERY_RECORD_TTL_SECONDS,
});
const square = new SquareClient({
  baseUrl: env.SQUARE_BASE_URL,
  apiVersion: env.SQUARE_API_VERSION,
  token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
});
const catalog = new CatalogSkuResolver(square);
const deps = {
  signatureKeys: secretsManagerWebhookSecrets(env.SQUARE_SIGNATURE_KEY_SECRET_ID),
  square: {
    retrieveOrder: (orderId: string) => square.retrieveOrder(orderId),
    variations: (refs: readonly { id: string; version: number | null }[]) => catalog.resolve(refs),
  },
  registry: new DynamoPosOrderRegistry(documents, env.LEDGER_TABLE_NAME),
  publisher: new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    env.EVENT_BUS_NAME,
  ),
  exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
  deduplicate: dedup.deduplicate,
  telemetry: powertoolsTelemetry,
  log: logger,
  maxBodyBytes: env.MAX_BODY_BYTES,
  ...(env.SQUARE_MERCHANT_IDS ? { merchants: new Set(env.SQUARE_MERCHANT_IDS) } : {}),
};

/** POST /webhooks/pos — thin glue: the work is in shared/ingress/pos-webhook.ts. */
export const handler = middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    dedup.registerLambdaContext(context);
    return handlePosWebhook(
      { ...event, notificationUrl: env.SQUARE_NOTIFICATION_URL ?? requestUrl(event) },
      deps,
    );
  });
