import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { CatalogSkuResolver, SquareClient } from '../connectors/square/client.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { DynamoPosOrderRegistry } from '../repositories/pos-orders.ts';
import { DynamoSweepCursorStore } from '../repositories/pos-sweep-cursor.ts';
import { jsonVariable } from '../runtime/env.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken } from '../runtime/secrets.ts';
import type { PosSweepDeps } from './pos-sweep.ts';

const seconds = z.coerce.number().int().positive();

/** The pos-sweep function's environment, as the PosIngress flow sets it. */
export const PosSweepEnvSchema = z.object({
  EVENT_BUS_NAME: z.string().min(1),
  EXCEPTIONS_TABLE_NAME: z.string().min(1),
  LEDGER_TABLE_NAME: z.string().min(1),
  SQUARE_ACCESS_TOKEN_SECRET_ID: z.string().min(1),
  SQUARE_BASE_URL: z.url(),
  SQUARE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  SQUARE_MERCHANT_IDS: jsonVariable(z.array(z.string().min(1)).min(1)).optional(),
  SWEEP_OVERLAP_SECONDS: seconds,
  SWEEP_INITIAL_LOOKBACK_SECONDS: seconds,
});
export type PosSweepEnv = z.infer<typeof PosSweepEnvSchema>;

/** The sweep wired from its environment and the clients the handler built (traced there). */
export function posSweepDeps(
  env: PosSweepEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly eventBridge: EventBridgeClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
): PosSweepDeps {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const square = new SquareClient({
    baseUrl: env.SQUARE_BASE_URL,
    apiVersion: env.SQUARE_API_VERSION,
    token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
  });
  const catalog = new CatalogSkuResolver(square);
  return {
    square: {
      retrieveOrder: (orderId) => square.retrieveOrder(orderId),
      variations: (refs) => catalog.resolve(refs),
      listLocations: () => square.listLocations(),
      searchOrders: (request) => square.searchOrders(request),
      retrieveRefund: (refundId) => square.retrieveRefund(refundId),
    },
    registry: new DynamoPosOrderRegistry(documents, env.LEDGER_TABLE_NAME),
    cursors: new DynamoSweepCursorStore(documents, env.LEDGER_TABLE_NAME),
    publisher: new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME),
    exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
    ...observability,
    overlapSeconds: env.SWEEP_OVERLAP_SECONDS,
    initialLookbackSeconds: env.SWEEP_INITIAL_LOOKBACK_SECONDS,
    ...(env.SQUARE_MERCHANT_IDS ? { merchants: new Set(env.SQUARE_MERCHANT_IDS) } : {}),
  };
}
