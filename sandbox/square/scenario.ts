import * as z from 'zod';
import { createRng } from '../core/rng.ts';
import type { WebhookDispatcher } from '../core/webhooks.ts';
import { runStaff, StaffSchema } from './pickups.ts';
import type { SquareSession } from './session.ts';
import { sqError } from './validation.ts';

/** `POST _control/scenario`: store activity under a seed. */
export const SquareScenarioSchema = z.object({
  seed: z.number().int().optional(),
  /** Time of the first activity; later ones follow at seeded intervals. @default now */
  at: z.iso.datetime().optional(),
  /**
   * Seconds between activities. The run compresses time: every record exists at once, stamped forward from
   * `at`, so the last of N activities lies about N × the mean spacing in the future. The hub's POS sweep
   * searches `updated_at` up to its own now, so it finds such a record only once the clock has passed it:
   * a run whose webhooks are dropped keeps its spacing small for the sweep to find them soon.
   */
  spacingSeconds: z
    .object({ min: z.number().int().min(0).max(86_400), max: z.number().int().min(0).max(86_400) })
    .refine((r) => r.max >= r.min, 'max must be >= min')
    .default({ min: 1, max: 90 }),
  sales: z.number().int().min(0).max(100_000).default(0),
  /** Returns of earlier in-store sales (linked returns with a refund on the original payment). */
  returns: z.number().int().min(0).max(100_000).default(0),
  /**
   * Returns of online orders at a store: unlinked return orders carrying the online order number
   * (`reference_id`), refunded in cash at the register by an unlinked refund (`refund.*` webhooks).
   */
  onlineReturns: z
    .union([
      z.number().int().min(0).max(10_000),
      z.array(
        z.object({
          reference: z.string().min(1),
          location: z.string().optional(),
          lines: z
            .array(
              z.object({
                sku: z.string(),
                quantity: z.number().int().min(1),
                priceMinor: z.number().int().min(0).optional(),
              }),
            )
            .min(1),
        }),
      ),
    ])
    .default(0),
  /** Physical counts (cycle counts) at stores. */
  counts: z.number().int().min(0).max(100_000).default(0),
  /** Shrink adjustments (IN_STOCK → WASTE). */
  adjustments: z.number().int().min(0).max(100_000).default(0),
  /** Restrict activity to these stores (location ids or codes such as `ST-001`). */
  locations: z.array(z.string()).optional(),
  /** Restrict sales, returns, counts and shrink to these SKUs (a hot-item storm on a few SKUs). */
  skus: z.array(z.string().min(1)).min(1).optional(),
  maxLinesPerSale: z.number().int().min(1).max(20).default(3),
  /**
   * Square publishes no order events for orders made in the POS app (only payment, refund and inventory
   * events); set true to emit `order.created` and `order.updated` for register sales anyway.
   */
  orderCreatedForPos: z.boolean().default(false),
  /**
   * Sales made through the Orders API by another application (a kiosk, an order-ahead app): versioned
   * orders that publish `order.created` (OPEN), `payment.*` and `order.updated` (COMPLETED).
   */
  apiSales: z.number().int().min(0).max(100_000).default(0),
  /**
   * Pick-up orders the hub itself created through the Orders API for online orders (BOPIS), marked
   * `metadata.omnihub_origin`, picked up at the store: `order.created`, `order.fulfillment.updated`
   * and `order.updated` (COMPLETED), no payment (it was taken online).
   */
  pickups: z.number().int().min(0).max(10_000).default(0),
  /**
   * The store staff working the open pick-up orders the hub created (BOPIS): shares prepared, then
   * collected after a delay, or cancelled (sandbox/square/pickups.ts).
   */
  staff: StaffSchema.optional(),
  /** Fault: every webhook of this run is lost by "Square" (recorded and counted as dropped, never sent). */
  dropWebhooks: z.boolean().default(false),
});

/** Settings of a scenario run that belong to the sandbox, not to the request. */
export interface ScenarioOptions {
  /** Sandbox seed: a scenario without its own seed draws `seed × 1000 + run number`. */
  seed: number;
  clock: () => number;
  /** Its counters close the summary (what the run queued, what is delivered so far). */
  webhooks: WebhookDispatcher;
}

/**
 * Runs POS activity (sales, returns, online returns, counts, shrink) in a seeded random order at
 * seeded intervals from `at`; returns a summary. The same body on the same seeded session produces
 * the same ids, records and webhook bodies.
 */
export function runScenario(session: SquareSession, input: unknown, options: ScenarioOptions) {
  const { store, activity } = session;
  const sc = SquareScenarioSchema.parse(input ?? {});
  session.scenarioRuns++;
  const rng = createRng(sc.seed ?? options.seed * 1000 + session.scenarioRuns);
  const locations = sc.locations
    ? store.locations.filter((l) => sc.locations?.includes(l.id) || sc.locations?.includes(l.description))
    : store.locations;
  if (locations.length === 0)
    throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'No matching locations', 'locations');
  const variations = [...store.variations.values()].filter(
    (v) => !sc.skus || sc.skus.includes(v.item_variation_data.sku),
  );
  if (variations.length === 0)
    throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'No matching SKUs', 'skus');
  const online = Array.isArray(sc.onlineReturns) ? sc.onlineReturns : [];
  const kinds = rng.shuffle([
    ...Array<string>(sc.sales).fill('sale'),
    ...Array<string>(sc.apiSales).fill('apiSale'),
    ...Array<string>(sc.pickups).fill('pickup'),
    ...Array<string>(sc.returns).fill('return'),
    ...Array<string>(Array.isArray(sc.onlineReturns) ? sc.onlineReturns.length : sc.onlineReturns).fill(
      'online',
    ),
    ...Array<string>(sc.counts).fill('count'),
    ...Array<string>(sc.adjustments).fill('adjust'),
  ]);
  let t = sc.at ? Date.parse(sc.at) : options.clock();
  const firstEvent = store.events.length;
  const summary = {
    sales: [] as string[],
    apiSales: [] as string[],
    pickups: [] as string[],
    returns: [] as string[],
    onlineReturns: [] as string[],
    refunds: [] as string[],
    counts: 0,
    adjustments: 0,
    skipped: 0,
  };
  let onlineIdx = 0;
  session.emitter.dropping = sc.dropWebhooks;
  try {
    for (const kind of kinds) {
      t += rng.int(sc.spacingSeconds.min, sc.spacingSeconds.max) * 1000;
      const at = new Date(t).toISOString();
      const loc = rng.pick(locations);
      if (kind === 'sale') {
        const lines = Array.from({ length: rng.int(1, sc.maxLinesPerSale) }, () => ({
          v: rng.pick(variations),
          q: rng.int(1, 2),
        }));
        summary.sales.push(activity.sale(rng, loc.id, lines, at, sc.orderCreatedForPos));
      } else if (kind === 'apiSale' || kind === 'pickup') {
        const lines = Array.from({ length: rng.int(1, sc.maxLinesPerSale) }, () => ({
          v: rng.pick(variations),
          q: rng.int(1, 2),
        }));
        const made = activity.apiOrder(rng, loc.id, lines, at, kind === 'pickup');
        (kind === 'pickup' ? summary.pickups : summary.sales).push(made);
        if (kind === 'apiSale') summary.apiSales.push(made);
      } else if (kind === 'return') {
        const r = activity.linkedReturn(rng, at);
        if (r) {
          summary.returns.push(r.orderId);
          summary.refunds.push(r.refundId);
        } else summary.skipped++;
      } else if (kind === 'online') {
        const spec = online[onlineIdx++];
        const returnedAt = spec?.location
          ? (store.locationByCode.get(spec.location) ?? store.locations.find((l) => l.id === spec.location))
          : loc;
        const lines = spec
          ? spec.lines.map((l) => {
              const v = store.variationBySku.get(l.sku);
              if (!v)
                throw sqError(
                  400,
                  'INVALID_REQUEST_ERROR',
                  'INVALID_VALUE',
                  `Unknown SKU ${l.sku}`,
                  'onlineReturns',
                );
              return { v, q: l.quantity, price: l.priceMinor };
            })
          : Array.from({ length: rng.int(1, 2) }, () => ({
              v: rng.pick(variations),
              q: 1,
              price: undefined,
            }));
        const made = activity.onlineReturn(
          rng,
          (returnedAt ?? loc).id,
          spec?.reference ?? `#${rng.int(1001, 99999)}`,
          lines,
          at,
        );
        summary.onlineReturns.push(made.orderId);
        summary.refunds.push(made.refundId);
      } else if (kind === 'count') {
        const v = rng.pick(variations);
        const cur = store.quantity(v.id, loc.id);
        const counted = Math.max(0, cur + rng.int(-2, 2));
        activity.inventoryChange(rng, v.id, loc.id, 'count', counted, at, 'PHYSICAL_COUNT');
        summary.counts++;
      } else {
        const v = rng.pick(variations);
        activity.inventoryChange(rng, v.id, loc.id, 'adjust', -rng.int(1, 2), at, 'WASTE');
        summary.adjustments++;
      }
    }
  } finally {
    session.emitter.dropping = false;
  }
  const staff = sc.staff ? runStaff(() => session, sc.staff, options.clock, rng.int(1, 2 ** 30)) : undefined;
  const events = store.events.slice(firstEvent);
  return {
    ...summary,
    ...(staff ? { staff } : {}),
    events: events.length,
    eventIds: events.map((e) => e.event_id),
    webhooks: options.webhooks.counters,
  };
}
