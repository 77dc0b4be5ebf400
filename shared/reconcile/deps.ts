import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { NETSUITE_TOKEN_PATH, NetSuiteAuth, NetSuiteCredentialsSchema } from '../connectors/netsuite/auth.ts';
import { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { CatalogSkuResolver, SquareClient } from '../connectors/square/client.ts';
import { onlinePriceList } from '../flows/catalog-prices.ts';
import { sendAvailability } from '../flows/inventory-sync.ts';
import { captureOrder } from '../ingress/pos-capture.ts';
import { CostPacer } from '../inventory/cost-pacer.ts';
import { InventoryPolicySchema } from '../inventory/policy.ts';
import { effectiveOnHand, emptyPosition, type Position } from '../inventory/projection.ts';
import { INVENTORY_LEVELS_QUERY, inventoryLevelGid } from '../inventory/shopify-documents.ts';
import { ShopifyLevelDirectory, shopifyGraphql } from '../inventory/shopify-publisher.ts';
import { orderExternalId } from '../ports/erp.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { INVENTORY_KEY_PREFIX } from '../repositories/inventory.ts';
import { MappingRepository } from '../repositories/mappings.ts';
import { DynamoPosOrderRegistry } from '../repositories/pos-orders.ts';
import { DynamoPriceBookStore } from '../repositories/price-books.ts';
import { DynamoReconciliationStore } from '../repositories/reconciliation.ts';
import { jsonVariable } from '../runtime/env.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerJson } from '../runtime/secrets.ts';
import type { InventoryObservation } from './compare.ts';
import { readErpDocuments } from './erp-documents.ts';
import { readShopifyPrices, type ShopPrices } from './prices.ts';
import type { ReconcileDeps } from './reconcile.ts';
import { paced, readShopifyOrder, readShopifyOrders } from './shopify-orders.ts';
import { readSquareOrders } from './square-orders.ts';

const name = z.string().min(1);
const minutes = z.coerce.number().int().nonnegative();

/** The reconciler's environment, as the Reconciliation flow sets it. */
export const ReconcilerEnvSchema = z.object({
  RECONCILIATION_TABLE_NAME: name,
  RECONCILIATION_RETENTION_DAYS: z.coerce.number().int().positive(),
  EVENT_BUS_NAME: name,
  EXCEPTIONS_TABLE_NAME: name,
  LEDGER_TABLE_NAME: name,
  MAPPINGS_TABLE_NAME: name,
  INVENTORY_TABLE_NAME: name,
  /** The price books (the Catalog flow's table): prices are compared when set. */
  CATALOG_TABLE_NAME: name.optional(),
  /** The shops, each with its Admin API token secret. */
  SHOPIFY_SHOPS: jsonVariable(
    z.array(z.object({ domain: name, currency: z.string().regex(/^[A-Z]{3}$/), tokenSecretId: name })),
  ),
  /** The shops' Admin API base URL (the local sandbox); default `https://<domain>`. */
  SHOPIFY_ADMIN_BASE_URL: z.url().optional(),
  SQUARE_ACCESS_TOKEN_SECRET_ID: name,
  SQUARE_BASE_URL: z.url(),
  SQUARE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  NETSUITE_ACCOUNT_ID: name,
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_CREDENTIALS_SECRET_ID: name,
  /** The shops' availability queues (heal re-enqueues drifted positions there). */
  AVAILABILITY_QUEUE_URLS: jsonVariable(z.array(z.url())),
  INVENTORY_POLICY: jsonVariable(InventoryPolicySchema),
  /** `true`: a run may heal when asked; `false` (prod by default): every run is a dry run. */
  HEAL_ALLOWED: z.enum(['true', 'false']).transform((v) => v === 'true'),
  LOOKBACK_MINUTES: minutes,
  SETTLE_MINUTES: minutes,
});
export type ReconcilerEnv = z.infer<typeof ReconcilerEnvSchema>;

const SHOPIFY_LOCATION_GID = 'gid://shopify/Location/';

const LevelsAnswerSchema = z.object({
  nodes: z.array(
    z
      .object({
        id: z.string(),
        quantities: z.array(z.object({ name: z.string(), quantity: z.number().int() })),
      })
      .nullable(),
  ),
});

/** The canonical event a parked `erp-order` exception holds: which order's external id it is. */
const ParkedEventSchema = z.object({
  detail: z.object({
    data: z.object({
      source: z.object({ system: z.enum(['shopify', 'pos']), account: z.string(), orderId: z.string() }),
    }),
  }),
});

export function reconcilerDeps(
  env: ReconcilerEnv,
  clients: {
    readonly dynamo: DynamoDBClient;
    readonly eventBridge: EventBridgeClient;
    readonly sqs: SQSClient;
  },
  observability: {
    readonly telemetry: Telemetry;
    readonly log: LogSink;
    readonly metric: (name: string, value: number) => void;
  },
): ReconcileDeps {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const publisher = new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME);
  const exceptions = new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME);
  const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);

  // ── NetSuite: one call at a time, so the reconciler never takes the order sync's slots ──
  const erpClient = new NetSuiteClient({
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
    maxConcurrency: 1,
  });

  // ── Shopify: one cost pacer per shop ──
  const shops = env.SHOPIFY_SHOPS.map((shop) => {
    const token = secretsManagerAccessToken(shop.tokenSecretId);
    const pacer = new CostPacer();
    const graphql: ReturnType<typeof shopifyGraphql> = async (document, variables) =>
      shopifyGraphql({
        baseUrl: env.SHOPIFY_ADMIN_BASE_URL ?? `https://${shop.domain}`,
        accessToken: await token.token(),
      })(document, variables);
    return { ...shop, graphql, pacer };
  });

  // ── Square ──
  const square = new SquareClient({
    baseUrl: env.SQUARE_BASE_URL,
    apiVersion: env.SQUARE_API_VERSION,
    token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
  });
  const catalog = new CatalogSkuResolver(square);
  const registry = new DynamoPosOrderRegistry(documents, env.LEDGER_TABLE_NAME);

  /** Every position of the projection (a Scan of the SKU partitions), with what each shop shows. */
  async function readInventory(): Promise<InventoryObservation[]> {
    const positions: {
      sku: string;
      location: string;
      onHand: number;
      committed: number;
      reserved: number;
    }[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(
        new ScanCommand({
          TableName: env.INVENTORY_TABLE_NAME,
          FilterExpression: 'begins_with(pk, :sku) AND begins_with(sk, :loc)',
          ExpressionAttributeValues: { ':sku': INVENTORY_KEY_PREFIX, ':loc': 'LOC#' },
          ProjectionExpression: 'sku, #location, onHand, committed, reserved, pending, erpSequence',
          ExpressionAttributeNames: { '#location': 'location' },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.sku !== 'string' || typeof item.location !== 'string') continue;
        // No ERP count has reached this position yet (it holds only a channel's observation): its on hand is
        // unknown, the publishers leave it alone (`unknownOnHand`), and so does the comparison.
        if (Number(item.erpSequence ?? -1) < 0) continue;
        // What the publisher computes from (shared/inventory/shopify-publisher.ts): the effective on hand —
        // ERP on hand less the channel sales the ERP has not booked yet — and the reservations.
        const position = {
          ...emptyPosition(item.sku, item.location),
          onHand: Number(item.onHand ?? 0),
          pending: (item.pending as Position['pending'] | undefined) ?? {},
        };
        positions.push({
          sku: item.sku,
          location: item.location,
          onHand: effectiveOnHand(position),
          committed: Number(item.committed ?? 0),
          reserved: Math.max(0, Number(item.reserved ?? 0)),
        });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    if (positions.length === 0 || shops.length === 0) return positions;
    // Online availability is published to the first shop's levels (one online channel per environment).
    const shop = shops[0];
    if (!shop) return positions;
    const locations = new Map<string, string>();
    for (const [sk, target] of await mappings.targets('location'))
      if (sk.startsWith('shopify#'))
        locations.set(target, `${SHOPIFY_LOCATION_GID}${sk.slice('shopify#'.length)}`);
    const refs = await new ShopifyLevelDirectory(shop.graphql, shop.pacer, locations).resolve(positions);
    const byLevel = new Map<string, string>();
    for (const [key, ref] of refs) byLevel.set(inventoryLevelGid(ref.locationId, ref.inventoryItemId), key);
    const levels = new Map<string, { available: number | null; committed: number }>();
    const ids = [...byLevel.keys()];
    for (let start = 0; start < ids.length; start += 250) {
      const chunk = ids.slice(start, start + 250);
      // About 2 points a level (the level and its quantities list), as the publisher's reads.
      const data = await paced(shop, INVENTORY_LEVELS_QUERY, { ids: chunk }, chunk.length * 2 + 1);
      const parsed = LevelsAnswerSchema.parse(data);
      parsed.nodes.forEach((node, index) => {
        const key = byLevel.get(chunk[index] ?? '');
        if (!key) return;
        const quantity = (name: string) => node?.quantities.find((q) => q.name === name)?.quantity;
        levels.set(key, { available: quantity('available') ?? null, committed: quantity('committed') ?? 0 });
      });
    }
    // Shopify's own `committed` (its open orders' units), as read now: the invariant is Shopify available =
    // max(0, on hand − committed − reserved − safety) with the committed Shopify holds.
    return positions.map((p) => {
      const level = levels.get(`${p.sku}|${p.location}`);
      return level ? { ...p, committed: level.committed, shopify: level.available } : p;
    });
  }

  /** Each shop's variants with their prices, and the books of their SKUs (the shop's online price list). */
  const catalogTable = env.CATALOG_TABLE_NAME;
  async function readPrices(table: string): Promise<{ shops: ShopPrices[]; pages: number }> {
    const books = new DynamoPriceBookStore(documents, table);
    const out: ShopPrices[] = [];
    let pages = 0;
    for (const shop of shops) {
      const read = await readShopifyPrices(shop, shop.currency);
      pages += read.pages;
      const priceList = onlinePriceList(shop.currency);
      const skus = [...new Set(read.prices.map((p) => p.sku))];
      out.push({
        shopDomain: shop.domain,
        books: await books.getMany(skus.map((sku) => ({ sku, priceList }))),
        channel: read.prices,
      });
    }
    return { shops: out, pages };
  }

  return {
    shopify: shops.map((shop) => ({
      shopDomain: shop.domain,
      currency: shop.currency,
      readOrders: (window) => readShopifyOrders({ ...shop, shopDomain: shop.domain, ...window }),
      readOrder: (orderId) => readShopifyOrder(shop, orderId),
    })),
    square: {
      readOrders: (window) => readSquareOrders(square, window),
      capture: async (order, merchantId, runId) => {
        const outcome = await captureOrder(
          order,
          {
            merchantId,
            receivedAt: new Date().toISOString(),
            topic: 'reconcile',
            deliveryId: `reconcile-${runId}`,
            log: { merchantId, runId, orderId: order.id },
            // A sale that cannot be mapped now is reported, not parked a second time.
            park: async (error) => ({ status: 'ignored', reason: (error as Error).message }),
          },
          {
            square: {
              retrieveOrder: (id) => square.retrieveOrder(id),
              variations: (refs) => catalog.resolve(refs),
            },
            registry,
            publisher,
            telemetry: observability.telemetry,
            log: observability.log,
          },
        );
        return outcome.status === 'published' ? 'published' : 'other';
      },
    },
    erp: {
      read: async (wanted) => (await readErpDocuments(erpClient, wanted)).documents,
    },
    inventory: {
      policy: env.INVENTORY_POLICY,
      read: readInventory,
      // The channel showed another value than the hub last wrote: the publisher reads it before deciding.
      republish: (keys) => sendAvailability(clients.sqs, env.AVAILABILITY_QUEUE_URLS, keys, { reread: true }),
    },
    // A price that changed within the settle time may still be on its way (a transition fires, then the
    // publish takes what the plan's bucket allows): as for webhooks, the next run judges it.
    ...(catalogTable
      ? { prices: { graceMs: env.SETTLE_MINUTES * 60_000, read: () => readPrices(catalogTable) } }
      : {}),
    parkedOrders: async () => {
      const out = new Map<string, string>();
      for (const exception of await exceptions.listParked('erp-order')) {
        try {
          const parsed = ParkedEventSchema.safeParse(JSON.parse(exception.payload.toString('utf8')));
          if (parsed.success) out.set(orderExternalId(parsed.data.detail.data.source), exception.exceptionId);
        } catch {
          // not an order event: nothing to match
        }
      }
      return out;
    },
    publisher,
    store: new DynamoReconciliationStore(
      documents,
      env.RECONCILIATION_TABLE_NAME,
      env.RECONCILIATION_RETENTION_DAYS,
    ),
    healAllowed: env.HEAL_ALLOWED,
    defaultLookbackMinutes: env.LOOKBACK_MINUTES,
    settleMinutes: env.SETTLE_MINUTES,
    ...observability,
  };
}
