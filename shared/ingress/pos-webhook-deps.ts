import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { CatalogSkuResolver, SquareClient } from '../connectors/square/client.ts';
import { traceRecorder } from '../ops/trace.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { DynamoPosOrderRegistry } from '../repositories/pos-orders.ts';
import { jsonVariable } from '../runtime/env.ts';
import { powertoolsDeduplicator } from '../runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '../runtime/key-prefixes.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerWebhookSecrets } from '../runtime/secrets.ts';
import { POS_DELIVERY_RECORD_TTL_SECONDS, type PosWebhookDeps } from './pos-webhook.ts';

/** The pos-webhook function's environment, as the PosIngress flow sets it. */
export const PosWebhookEnvSchema = z.object({
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
  /** Trace checkpoints (infra/constructs/trace.ts); unset: none are written. */
  TRACE_TABLE_NAME: z.string().min(1).optional(),
});
export type PosWebhookEnv = z.infer<typeof PosWebhookEnvSchema>;

/**
 * The POS ingress wired from its environment and the clients the handler built (traced there): the
 * Square API and catalog, the first-completion registry, the bus, parking and delivery de-duplication.
 */
export function posWebhookDeps(
  env: PosWebhookEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly eventBridge: EventBridgeClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const dedup = powertoolsDeduplicator({
    tableName: env.IDEMPOTENCY_TABLE_NAME,
    client: clients.dynamo,
    keyPrefix: IDEMPOTENCY_KEY_PREFIXES.posWebhook,
    expiresAfterSeconds: POS_DELIVERY_RECORD_TTL_SECONDS,
  });
  const square = new SquareClient({
    baseUrl: env.SQUARE_BASE_URL,
    apiVersion: env.SQUARE_API_VERSION,
    token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
  });
  const catalog = new CatalogSkuResolver(square);
  const deps: PosWebhookDeps = {
    signatureKeys: secretsManagerWebhookSecrets(env.SQUARE_SIGNATURE_KEY_SECRET_ID),
    square: {
      retrieveOrder: (orderId) => square.retrieveOrder(orderId),
      variations: (refs) => catalog.resolve(refs),
    },
    registry: new DynamoPosOrderRegistry(documents, env.LEDGER_TABLE_NAME),
    publisher: new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME),
    exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
    deduplicate: dedup.deduplicate,
    ...observability,
    maxBodyBytes: env.MAX_BODY_BYTES,
    ...(env.SQUARE_MERCHANT_IDS ? { merchants: new Set(env.SQUARE_MERCHANT_IDS) } : {}),
    trace: traceRecorder({
      documents,
      tableName: env.TRACE_TABLE_NAME,
      service: 'pos-webhook',
      ...observability,
    }),
  };
  return { deps, registerLambdaContext: dedup.registerLambdaContext };
}
