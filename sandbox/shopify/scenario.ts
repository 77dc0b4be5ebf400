import * as z from 'zod';
import { createRng, type Rng } from '../core/rng.ts';
import type { Commerce, OrderLineInput } from './commerce.ts';
import { currentQuantity, fulfillableQuantity } from './orders.ts';
import type { LocationRecord, OrderRecord, ShopStore, VariantRecord } from './store.ts';

const count = z.number().int().min(0).max(10_000);
const range = (min: number, max: number) =>
  z
    .object({ min: z.number().int().min(min).max(max), max: z.number().int().min(min).max(max) })
    .refine((r) => r.max >= r.min, 'max must be >= min');

/**
 * `POST _control/scenario`: store activity under a seed. The same body on the same seeded store
 * produces the same orders, ids, timestamps and webhook bodies (pin `startAt`, or inject the clock,
 * for byte-identical times).
 */
export const ScenarioSchema = z.object({
  /** Seed of this scenario's choices (independent of the store seed). */
  seed: z.number().int().default(1),
  /** Restrict the lines of new orders to these SKUs (a hot-item storm on a few SKUs). */
  skus: z.array(z.string().min(1)).min(1).optional(),
  /** Online orders to place. */
  orders: count.default(10),
  /** Share of orders that are buy-online-pick-up-in-store (assigned to a store). */
  pickupShare: z.number().min(0).max(1).default(0.3),
  linesPerOrder: range(1, 20).default({ min: 1, max: 3 }),
  maxQuantity: z.number().int().min(1).max(50).default(2),
  /** Order edits (a quantity reduced or a line added) on open orders. */
  edits: count.default(0),
  /** Cancellations (full refund and restock) of unfulfilled orders. */
  cancellations: count.default(0),
  /** Partial refunds (one unit; restocked: `cancel` if unfulfilled, `return` if fulfilled). */
  refunds: count.default(0),
  /** Shipping orders fulfilled from the warehouse. */
  fulfillments: count.default(0),
  /** Pick-up orders the store marks ready (normally the hub does this through the API). */
  pickupsReady: count.default(0),
  /** Manual stock adjustments in the admin (received, corrections, shrinkage). */
  stockAdjustments: count.default(0),
  /** Price changes on products (products/update). */
  productUpdates: count.default(0),
  /** Time of the first activity (UTC ISO-8601); default: the store clock. */
  startAt: z.iso.datetime().optional(),
  /** Seconds between activities. */
  spacingSeconds: range(1, 86_400).default({ min: 20, max: 120 }),
  /** Wait until the resulting webhooks are delivered (or given up) before answering. */
  wait: z.boolean().default(false),
});

export type ScenarioInput = z.input<typeof ScenarioSchema>;
export type Scenario = z.output<typeof ScenarioSchema>;

/** What a scenario did. */
export interface ScenarioSummary {
  seed: number;
  startedAt: string;
  endedAt: string;
  orders: { placed: number; shipping: number; pickup: number; ids: string[]; names: string[] };
  activities: Record<
    | 'edits'
    | 'cancellations'
    | 'refunds'
    | 'fulfillments'
    | 'pickupsReady'
    | 'stockAdjustments'
    | 'productUpdates',
    number
  >;
  /** Activities that found no eligible target (e.g. a cancellation when every order is fulfilled). */
  skipped: Record<string, number>;
  /** Events emitted by this scenario, per topic. */
  events: Record<string, number>;
}

type Activity = keyof ScenarioSummary['activities'];

/** Runs a scenario; `now` is the store clock, `lastEventAt` the latest time already used. */
export function runScenario(
  store: ShopStore,
  commerce: Commerce,
  input: Scenario,
  clock: { now: () => number; advanceTo: (t: number) => void },
  countEvents: () => Record<string, number>,
): ScenarioSummary {
  const rng = createRng(input.seed);
  const before = countEvents();
  let t = Math.max(input.startAt ? Date.parse(input.startAt) : clock.now(), clock.now());
  const startedAt = t;
  const step = (): number => {
    t += rng.int(input.spacingSeconds.min, input.spacingSeconds.max) * 1000;
    return t;
  };
  const placed: OrderRecord[] = [];
  const warehouse = store.onlineWarehouse;
  const stores = store.locations.filter((l) => l.kind === 'store');
  for (let i = 0; i < input.orders; i++) {
    const at = step();
    const pickup = stores.length > 0 && rng.chance(input.pickupShare);
    const location = pickup ? rng.pick(stores) : warehouse;
    const lines = pickLines(
      store,
      rng,
      location,
      rng.int(input.linesPerOrder.min, input.linesPerOrder.max),
      input.maxQuantity,
      input.skus,
    );
    if (lines.length === 0) continue;
    const { customer, address } = commerce.newCustomer(rng, at);
    placed.push(
      commerce.placeOrder({
        customer,
        address,
        delivery: pickup ? 'PICK_UP' : 'SHIPPING',
        location,
        lines,
        at,
        token: hex(rng, 32),
      }),
    );
  }

  const activities: Activity[] = [];
  const push = (kind: Activity, n: number) => {
    for (let i = 0; i < n; i++) activities.push(kind);
  };
  push('fulfillments', input.fulfillments);
  push('pickupsReady', input.pickupsReady);
  push('edits', input.edits);
  push('cancellations', input.cancellations);
  push('refunds', input.refunds);
  push('stockAdjustments', input.stockAdjustments);
  push('productUpdates', input.productUpdates);
  const done: ScenarioSummary['activities'] = {
    edits: 0,
    cancellations: 0,
    refunds: 0,
    fulfillments: 0,
    pickupsReady: 0,
    stockAdjustments: 0,
    productUpdates: 0,
  };
  const skipped: Record<string, number> = {};
  const pool = placed.length > 0 ? placed : store.orders;
  for (const kind of rng.shuffle(activities)) {
    const ok = runActivity(kind, store, commerce, rng, pool, step());
    if (ok) done[kind]++;
    else skipped[kind] = (skipped[kind] ?? 0) + 1;
  }
  clock.advanceTo(t);
  const after = countEvents();
  const events: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) {
    const d = v - (before[k] ?? 0);
    if (d > 0) events[k] = d;
  }
  return {
    seed: input.seed,
    startedAt: new Date(startedAt).toISOString(),
    endedAt: new Date(t).toISOString(),
    orders: {
      placed: placed.length,
      shipping: placed.filter((o) => o.delivery === 'SHIPPING').length,
      pickup: placed.filter((o) => o.delivery === 'PICK_UP').length,
      ids: placed.map((o) => o.id),
      names: placed.map((o) => o.name),
    },
    activities: done,
    skipped,
    events,
  };
}

function hex(rng: Rng, n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += rng.int(0, 15).toString(16);
  return s;
}

/** Picks up to `n` distinct in-stock variants at `location` (Shopify denies out-of-stock checkout). */
function pickLines(
  store: ShopStore,
  rng: Rng,
  location: LocationRecord,
  n: number,
  maxQty: number,
  skus?: readonly string[],
): OrderLineInput[] {
  const out: OrderLineInput[] = [];
  const used = new Set<string>();
  const variants = skus ? store.variants.filter((v) => skus.includes(v.sku ?? '')) : store.variants;
  if (variants.length === 0) return out;
  for (let tries = 0; tries < n * 40 && out.length < n; tries++) {
    const variant = rng.pick(variants);
    if (used.has(variant.id)) continue;
    const item = store.itemById.get(variant.inventoryItemId);
    if (!item) continue;
    const available = store.quantity(item, location, 'available');
    const quantity = rng.int(1, maxQty);
    if (available < quantity) continue;
    used.add(variant.id);
    out.push({ variant, quantity });
  }
  return out;
}

function runActivity(
  kind: Activity,
  store: ShopStore,
  commerce: Commerce,
  rng: Rng,
  pool: OrderRecord[],
  at: number,
): boolean {
  const open = pool.filter((o) => o.cancelledAt === null);
  switch (kind) {
    case 'fulfillments': {
      const candidates = open.filter((o) => o.delivery === 'SHIPPING' && openFo(store, o) !== undefined);
      const order = candidates.length > 0 ? rng.pick(candidates) : undefined;
      const fo = order ? openFo(store, order) : undefined;
      if (!fo) return false;
      commerce.fulfill(fo, null, { company: 'UPS', number: `1Z${hexUpper(rng, 16)}` }, at);
      return true;
    }
    case 'pickupsReady': {
      const candidates = open.filter((o) => {
        const fo = openFo(store, o);
        return o.delivery === 'PICK_UP' && fo !== undefined && fo.preparedForPickupAt === null;
      });
      const order = candidates.length > 0 ? rng.pick(candidates) : undefined;
      const fo = order ? openFo(store, order) : undefined;
      if (!fo) return false;
      commerce.prepareForPickup(fo, at);
      return true;
    }
    case 'edits': {
      const candidates = open.filter(
        (o) => o.lineItems.some((l) => fulfillableQuantity(l, o) > 0) && openFo(store, o) !== undefined,
      );
      const order = candidates.length > 0 ? rng.pick(candidates) : undefined;
      if (!order) return false;
      const reducible = order.lineItems.filter(
        (l) => fulfillableQuantity(l, order) > 0 && currentQuantity(l) > 1,
      );
      const line = reducible.length > 0 && rng.chance(0.5) ? rng.pick(reducible) : undefined;
      if (line) {
        commerce.editOrder(
          order,
          { setQuantities: [{ lineItemId: line.id, quantity: currentQuantity(line) - 1 }] },
          at,
        );
        return true;
      }
      const loc = store.locationById.get(order.locationId);
      const add = loc ? pickLines(store, rng, loc, 1, 1) : [];
      if (add.length === 0) return false;
      commerce.editOrder(order, { add }, at);
      return true;
    }
    case 'cancellations': {
      const candidates = open.filter(
        (o) =>
          o.lineItems.every((l) => l.fulfilledQuantity === 0) &&
          o.lineItems.some((l) => currentQuantity(l) > 0),
      );
      const order = candidates.length > 0 ? rng.pick(candidates) : undefined;
      if (!order) return false;
      commerce.cancelOrder(order, rng.pick(['CUSTOMER', 'INVENTORY', 'OTHER'] as const), at);
      return true;
    }
    case 'refunds': {
      const candidates = open.filter((o) => o.lineItems.some((l) => currentQuantity(l) > 0));
      const order = candidates.length > 0 ? rng.pick(candidates) : undefined;
      if (!order) return false;
      const lines = order.lineItems.filter((l) => currentQuantity(l) > 0);
      const line = rng.pick(lines);
      const returnable = line.fulfilledQuantity - (line.refundedQuantity - line.cancelledQuantity);
      const restockType =
        returnable > 0
          ? ('RETURN' as const)
          : fulfillableQuantity(line, order) > 0
            ? ('CANCEL' as const)
            : ('NO_RESTOCK' as const);
      commerce.refund(
        order,
        {
          lines: [{ lineItemId: line.id, quantity: 1, restockType, locationId: order.locationId }],
          note: restockType === 'RETURN' ? 'Customer return' : 'Item no longer wanted',
          money: 'computed',
        },
        at,
      );
      return true;
    }
    case 'stockAdjustments': {
      const variant: VariantRecord = rng.pick(store.variants);
      const item = store.itemById.get(variant.inventoryItemId);
      const loc = rng.pick(store.locations);
      if (!item) return false;
      const current = store.quantity(item, loc, 'available');
      const delta = rng.chance(0.6) ? rng.int(1, 12) : -Math.min(current, rng.int(1, 3));
      if (delta === 0) return false;
      const stamp = commerce.changeLevel(item, loc, { available: delta }, at);
      const after = store.quantities(item, loc);
      commerce.recordAdjustment(
        delta > 0 ? 'received' : 'shrinkage',
        null,
        [
          {
            name: 'available',
            delta,
            quantityAfterChange: after.available,
            inventoryItemId: item.id,
            locationId: loc.id,
            ledgerDocumentUri: null,
          },
          {
            name: 'on_hand',
            delta,
            quantityAfterChange: after.on_hand,
            inventoryItemId: item.id,
            locationId: loc.id,
            ledgerDocumentUri: null,
          },
        ],
        stamp,
      );
      return true;
    }
    case 'productUpdates': {
      const product = rng.pick(store.products);
      const variants = product.variantIds.flatMap((id) => {
        const v = store.variantById.get(id);
        return v ? [v] : [];
      });
      if (variants.length === 0) return false;
      const pct = rng.pick([-20, -10, 5, 10]);
      product.updatedAt = Math.max(at, product.updatedAt + 1000);
      for (const v of variants) {
        v.compareAtMinor = pct < 0 ? v.priceMinor : null;
        v.priceMinor = Math.max(100, Math.round((v.priceMinor * (100 + pct)) / 100 / 5) * 5 - 1);
        v.updatedAt = product.updatedAt;
      }
      commerce.emitProduct(product, false);
      return true;
    }
  }
}

function openFo(store: ShopStore, order: OrderRecord) {
  for (const id of order.fulfillmentOrderIds) {
    const fo = store.fulfillmentOrderById.get(id);
    if (
      fo &&
      (fo.status === 'OPEN' || fo.status === 'IN_PROGRESS') &&
      fo.lineItems.some((l) => l.remainingQuantity > 0)
    )
      return fo;
  }
  return undefined;
}

function hexUpper(rng: Rng, n: number): string {
  return hex(rng, n).toUpperCase();
}
