import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { EventPublisher } from '../bus/publisher.ts';
import { shopifyTopicMapper } from '../connectors/shopify/mappers.ts';
import type { SquareOrder } from '../connectors/square/payloads.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { InventoryPolicy } from '../inventory/policy.ts';
import { orderExternalId, refundExternalId } from '../ports/erp.ts';
import type { ReconciliationRun, StoredDiscrepancy } from '../repositories/reconciliation.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import {
  type ChannelOrder,
  compareAvailability,
  compareOrders,
  countByKind,
  type Discrepancy,
  type ErpDocument,
  type InventoryObservation,
} from './compare.ts';
import { comparePrices, type ShopPrices } from './prices.ts';
import { type ShopifyOrderNode, type ShopifyOrdersRead, toOrderPayload } from './shopify-orders.ts';
import type { SquareOrdersRead } from './square-orders.ts';

/**
 * One reconciliation run: read every system for the window, compare (`compare.ts`), store the run and
 * its discrepancies, emit the `ReconciliationDrift` metric (the number of discrepancies; the ops alarm
 * pages on > 0), and — with heal — repair what the hub can repair by itself:
 *
 * - an order missing in the ERP is re-published as the ingress would have published it: the Shopify
 *   order (read through GraphQL) is turned into its webhook shape and mapped by the ingress's own
 *   `orders/create` mapper; the Square order goes through the POS ingress's `captureOrder`. Event ids and
 *   idempotency keys come from the order alone, and the ERP write is an upsert by external id, so a
 *   heal that races a late webhook (or a second heal) books the order once.
 * - an order whose event is parked (unknown mapping, …) is not re-published — it would park again; it
 *   is reported with its exception (`healing: parked`) for the operator to fix and replay.
 * - a drifted availability position is re-enqueued for the channel publisher, which recomputes it from
 *   the projection as it is then.
 *
 * Totals, status and price mismatches are reported only: which side is right is a person's call (a price
 * changed in Shopify's admin may be deliberate; the price flow writes the books' price again at the
 * book's next change or transition).
 */

export const ReconcileRequestSchema = z
  .object({
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    heal: z.boolean().optional(),
  })
  .strict();
export type ReconcileRequest = z.infer<typeof ReconcileRequestSchema>;

export interface ReconcileResult {
  readonly reconcile: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly discrepancies: StoredDiscrepancy[];
  readonly counts: Record<string, number>;
  readonly healed: number;
  /** True when heal was asked for but the environment is dry-run only (nothing was changed). */
  readonly dryRun: boolean;
  readonly read: Record<string, number>;
}

export interface ReconcileDeps {
  /** One per shop. */
  readonly shopify: readonly {
    readonly shopDomain: string;
    readonly currency: string;
    readonly readOrders: (window: { since: string; until: string }) => Promise<ShopifyOrdersRead>;
    /** One order whole (heal); null when Shopify no longer has it. */
    readonly readOrder: (orderId: string) => Promise<ShopifyOrderNode | null>;
  }[];
  readonly square?: {
    readonly readOrders: (window: { since: string; until: string }) => Promise<SquareOrdersRead>;
    /** Captures one order as the POS ingress would (heal). */
    readonly capture: (
      order: SquareOrder,
      merchantId: string,
      runId: string,
    ) => Promise<'published' | 'other'>;
  };
  readonly erp: {
    /** The documents with these external ids (each with the currency it is booked in). */
    readonly read: (wanted: ReadonlyMap<string, string>) => Promise<Map<string, ErpDocument>>;
  };
  readonly inventory?: {
    readonly policy: InventoryPolicy;
    readonly read: () => Promise<InventoryObservation[]>;
    readonly republish: (keys: readonly { sku: string; location: string }[]) => Promise<void>;
  };
  /** Prices (shared/reconcile/prices.ts): each shop's variants against the price books; report only. */
  readonly prices?: {
    /** How long after a book's transition a shop may still show the previous price (publishing). */
    readonly graceMs: number;
    readonly read: () => Promise<{ shops: ShopPrices[]; pages: number }>;
  };
  /** External ids of orders whose canonical event is parked (exceptionId by external id). */
  readonly parkedOrders: () => Promise<Map<string, string>>;
  readonly publisher: EventPublisher;
  readonly store: {
    save(run: ReconciliationRun, discrepancies: readonly StoredDiscrepancy[]): Promise<void>;
  };
  /** Heal on request; false: every run is a dry run whatever it asks (prod by default). */
  readonly healAllowed: boolean;
  /** How far back a run without `since` reaches. */
  readonly defaultLookbackMinutes: number;
  /** Orders updated in the last minutes are left to the next run: their webhooks may be in flight. */
  readonly settleMinutes: number;
  readonly telemetry: Telemetry;
  readonly metric: (name: string, value: number) => void;
  readonly log: LogSink;
  readonly now?: () => Date;
  readonly runId?: () => string;
}

export async function reconcile(request: ReconcileRequest, deps: ReconcileDeps): Promise<ReconcileResult> {
  const now = deps.now?.() ?? new Date();
  const startedAt = now.toISOString();
  const until = request.until
    ? new Date(request.until).toISOString()
    : new Date(now.getTime() - deps.settleMinutes * 60_000).toISOString();
  const since = request.since
    ? new Date(request.since).toISOString()
    : new Date(Date.parse(until) - deps.defaultLookbackMinutes * 60_000).toISOString();
  const window = { since, until };
  const runId = deps.runId?.() ?? `${startedAt.replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  const heal = request.heal === true && deps.healAllowed;
  const read: Record<string, number> = {};

  const orders: ChannelOrder[] = [];
  let squareOrders = new Map<string, SquareOrder>();
  let merchantId: string | undefined;
  for (const shop of deps.shopify) {
    const shopify = await shop.readOrders(window);
    orders.push(...shopify.orders);
    read.shopifyOrders = (read.shopifyOrders ?? 0) + shopify.orders.length;
    read.shopifyPages = (read.shopifyPages ?? 0) + shopify.pages;
  }
  if (deps.square) {
    const square = await deps.square.readOrders(window);
    orders.push(...square.orders);
    squareOrders = square.raw;
    merchantId = square.merchantId;
    read.posOrders = square.orders.length;
    read.posCalls = square.calls;
  }
  const wanted = new Map<string, string>();
  for (const order of orders) {
    wanted.set(orderExternalId(order), order.total.currency);
    for (const refundId of order.refundIds)
      wanted.set(
        refundExternalId({ system: order.system, account: order.account, refundId }),
        order.total.currency,
      );
  }
  const erp = await deps.erp.read(wanted);
  read.erpDocuments = erp.size;

  const found: Discrepancy[] = compareOrders(orders, erp);
  if (deps.inventory) {
    const positions = await deps.inventory.read();
    read.inventoryPositions = positions.length;
    found.push(...compareAvailability(deps.inventory.policy, positions));
  }
  if (deps.prices) {
    const prices = await deps.prices.read();
    read.shopifyPricePages = prices.pages;
    read.pricedVariants = prices.shops.reduce((sum, shop) => sum + shop.books.length, 0);
    // At the run's clock: a price is due now, whatever the order window.
    found.push(...comparePrices(prices.shops, { now: now.getTime(), graceMs: deps.prices.graceMs }));
  }

  const parked = found.some((d) => d.kind === 'order-missing-in-erp') ? await deps.parkedOrders() : new Map();
  let healed = 0;
  const discrepancies: StoredDiscrepancy[] = [];
  const drifted: { sku: string; location: string }[] = [];
  for (const d of found) {
    if (d.kind === 'order-missing-in-erp') {
      const exceptionId = d.externalId ? parked.get(d.externalId) : undefined;
      if (exceptionId) {
        discrepancies.push({ ...d, healing: `parked ${exceptionId}` });
        continue;
      }
      if (!heal) {
        discrepancies.push(d);
        continue;
      }
      try {
        const outcome =
          d.system === 'shopify'
            ? await republishShopify(d, deps, runId)
            : await republishPos(squareOrders.get(d.id), merchantId, deps, runId);
        if (outcome === 'published') healed += 1;
        discrepancies.push({ ...d, healing: outcome === 'published' ? 'republished' : 'not republished' });
      } catch (error) {
        deps.log.error('heal failed', { runId, id: d.id, error: error as Error });
        discrepancies.push({ ...d, healing: `failed: ${(error as Error).message}` });
      }
      continue;
    }
    if (d.kind === 'availability-mismatch' && heal && d.sku && d.location) {
      drifted.push({ sku: d.sku, location: d.location });
      discrepancies.push({ ...d, healing: 'enqueued' });
      continue;
    }
    discrepancies.push(d);
  }
  if (drifted.length > 0 && deps.inventory) {
    const unique = [...new Map(drifted.map((k) => [`${k.sku}@${k.location}`, k])).values()];
    await deps.inventory.republish(unique);
    healed += unique.length;
  }

  const counts = countByKind(discrepancies);
  const finishedAt = (deps.now?.() ?? new Date()).toISOString();
  await deps.store.save({ runId, window, startedAt, finishedAt, heal, counts, healed, read }, discrepancies);
  deps.metric('ReconciliationDrift', discrepancies.length);
  for (const [kind, count] of Object.entries(counts))
    if (count > 0) deps.telemetry.count(`Drift_${kind}`, count);
  deps.log.info('reconciliation done', { runId, window, counts, healed, heal, read });
  return {
    reconcile: runId,
    window,
    discrepancies,
    counts,
    healed,
    dryRun: request.heal === true && !deps.healAllowed,
    read,
  };
}

async function republishShopify(
  missing: Discrepancy,
  deps: ReconcileDeps,
  runId: string,
): Promise<'published' | 'other'> {
  const shopify = deps.shopify.find((shop) => missing.externalId?.startsWith(`shopify-${shop.shopDomain}-`));
  const mapper = shopifyTopicMapper('orders/create');
  if (!shopify || !mapper) return 'other';
  const node = await shopify.readOrder(missing.id);
  if (!node) return 'other';
  const shopDomain = shopify.shopDomain;
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const events: CanonicalEvent[] = mapper(toOrderPayload(node), {
    shopDomain,
    currency: shopify.currency,
  }).map((mapped) =>
    buildEvent(
      mapped.detailType,
      EVENT_SOURCES.shopify,
      {
        // As the webhook ingress derives it: from the mapped change alone, so it is the same event.
        eventId: deterministicUuid('shopify', shopDomain, mapped.detailType, mapped.idempotencyKey),
        transactionId: deterministicUuid('reconcile', shopDomain, mapped.resourceId),
        idempotencyKey: mapped.idempotencyKey,
        occurredAt: mapped.occurredAt ?? receivedAt,
        receivedAt,
        origin: {
          system: 'shopify',
          account: shopDomain,
          topic: 'orders/create',
          deliveryId: `reconcile-${runId}`,
          resourceId: mapped.resourceId,
        },
      },
      mapped.data,
    ),
  );
  await deps.publisher.publish(events);
  return 'published';
}

async function republishPos(
  order: SquareOrder | undefined,
  merchantId: string | undefined,
  deps: ReconcileDeps,
  runId: string,
): Promise<'published' | 'other'> {
  if (!order || !merchantId || !deps.square) return 'other';
  return deps.square.capture(order, merchantId, runId);
}
