import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { EventBridgePublisher } from '../../bus/publisher.ts';
import { NetSuiteErpAdapter } from '../../connectors/netsuite/adapter.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '../../connectors/netsuite/auth.ts';
import { NetSuiteClient } from '../../connectors/netsuite/client.ts';
import { NetSuiteMappingConfigSchema } from '../../connectors/netsuite/mapper.ts';
import { SquareClient } from '../../connectors/square/client.ts';
import { buildEvent } from '../../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../../events/envelope.ts';
import { type ShopifyGraphql, shopifyGraphql } from '../../inventory/shopify-publisher.ts';
import { mappingLookupFrom } from '../../ports/erp.ts';
import { MappingRepository } from '../../repositories/mappings.ts';
import { ReservationRepository } from '../../repositories/reservations.ts';
import { jsonVariable } from '../../runtime/env.ts';
import type { LogSink } from '../../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerJson } from '../../runtime/secrets.ts';
import { sendAvailability } from '../inventory-sync.ts';
import { NetSuitePickupAdapter } from './netsuite.ts';
import { ShopifyPickupAdapter } from './shopify.ts';
import { SquarePickupAdapter } from './square.ts';
import type { BopisTaskDeps, PickupOrder } from './tasks.ts';

const name = z.string().min(1);

/** The bopis-tasks function's environment, as the Bopis flow sets it. */
export const BopisTasksEnvSchema = z.object({
  EVENT_BUS_NAME: name,
  INVENTORY_TABLE_NAME: name,
  MAPPINGS_TABLE_NAME: name,
  /** Every shop's Admin API: domain → {baseUrl, tokenSecretId}. */
  SHOPIFY_SHOPS: jsonVariable(z.record(z.string(), z.object({ baseUrl: z.url(), tokenSecretId: name }))),
  SQUARE_BASE_URL: z.url(),
  SQUARE_API_VERSION: name,
  SQUARE_ACCESS_TOKEN_SECRET_ID: name,
  NETSUITE_ACCOUNT_ID: name,
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_CREDENTIALS_SECRET_ID: name,
  NETSUITE_MAPPING_CONFIG: jsonVariable(NetSuiteMappingConfigSchema),
  AVAILABILITY_QUEUE_URLS: jsonVariable(z.array(z.url())),
  PICKUP_WINDOW_SECONDS: z.coerce.number().int().positive(),
});
export type BopisTasksEnv = z.infer<typeof BopisTasksEnvSchema>;

/** The task dependencies of one shop's order (the Shopify adapter is per shop). */
export function bopisTaskDeps(
  env: BopisTasksEnv,
  clients: {
    readonly dynamo: DynamoDBClient;
    readonly sqs: SQSClient;
    readonly eventBridge: EventBridgeClient;
  },
  log: LogSink,
): (shop: string) => BopisTaskDeps {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
  const reservations = new ReservationRepository(documents, env.INVENTORY_TABLE_NAME);
  const publisher = new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME);
  const square = new SquareClient({
    baseUrl: env.SQUARE_BASE_URL,
    apiVersion: env.SQUARE_API_VERSION,
    token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
    timeoutMs: 10_000,
  });
  const netsuiteClient = new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    accountId: env.NETSUITE_ACCOUNT_ID,
    auth: new NetSuiteAuth({
      tokenUrl: `${env.NETSUITE_BASE_URL}${NETSUITE_TOKEN_PATH}`,
      credentials: secretsManagerJson(
        env.NETSUITE_CREDENTIALS_SECRET_ID,
        NetSuiteCredentialsSchema,
        'NetSuite M2M credentials',
      ),
    }),
    // One call at a time per instance: BOPIS books a handful of records per pick-up.
    maxConcurrency: 1,
  });
  const netsuite = {
    client: netsuiteClient,
    adapter: new NetSuiteErpAdapter({
      client: netsuiteClient,
      mappings: mappingLookupFrom(mappings),
      config: env.NETSUITE_MAPPING_CONFIG,
    }),
  };
  const graphqls = new Map<string, { token: string; graphql: ShopifyGraphql }>();
  const shopGraphql = (shop: string) => async () => {
    const config = env.SHOPIFY_SHOPS[shop];
    if (!config) throw new Error(`no Shopify Admin API configured for ${shop}`);
    const token = await secretsManagerAccessToken(config.tokenSecretId).token();
    const held = graphqls.get(shop);
    if (held && held.token === token) return held.graphql;
    const graphql = shopifyGraphql({ baseUrl: config.baseUrl, accessToken: token });
    graphqls.set(shop, { token, graphql });
    return graphql;
  };
  const common = {
    pos: new SquarePickupAdapter(async () => square),
    erp: new NetSuitePickupAdapter(async () => netsuite),
    reservations,
    locations: {
      hubLocation: (shopifyLocationId: string) => mappings.lookup('location', 'shopify', shopifyLocationId),
      posLocation: async (hubLocation: string) => {
        for (const [sk, target] of await mappings.targets('location'))
          if (target === hubLocation && sk.startsWith('pos#')) return sk.slice('pos#'.length);
        return undefined;
      },
    },
    republish: (keys: readonly { sku: string; location: string }[]) =>
      sendAvailability(clients.sqs, env.AVAILABILITY_QUEUE_URLS, keys),
    notify: async (order: PickupOrder, reason: string) => {
      const origin = `${order.system}:${order.shop}:${order.orderId}`;
      const now = new Date().toISOString();
      await publisher.publish([
        buildEvent(
          'PickupCancelled',
          EVENT_SOURCES.hub,
          {
            eventId: deterministicUuid('bopis', origin, 'cancelled'),
            transactionId: deterministicUuid('bopis', origin),
            idempotencyKey: `bopis#${origin}#cancelled`,
            occurredAt: now,
            receivedAt: now,
            origin: { system: 'shopify', account: order.shop, resourceId: order.orderId },
          },
          {
            origin,
            orderId: order.orderId,
            orderName: order.name,
            reason: reason as 'STOCK_UNAVAILABLE',
          },
        ),
      ]);
    },
    pickupWindowSeconds: env.PICKUP_WINDOW_SECONDS,
    log,
  };
  const perShop = new Map<string, BopisTaskDeps>();
  return (shop) => {
    let deps = perShop.get(shop);
    if (!deps) {
      deps = { ...common, shopify: new ShopifyPickupAdapter(shopGraphql(shop)) };
      perShop.set(shop, deps);
    }
    return deps;
  };
}
