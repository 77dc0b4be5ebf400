/**
 * `npm run chaos -- [--scale s] [--seed n]`: every flow at once in the local cloud with chaos on, then
 * the ledger of what was lost, duplicated, drifted and parked. At `--scale 1` the issue's sizes (10,000
 * online and POS orders with edits and cancellations through the webhook path, 100,000 stock movements
 * entered in bulk in the ERP); the faults are the issue's at every scale: ERP 5xx on 8 % of calls, a
 * 30 s ERP outage once the burst reaches it, a Shopify 429 storm (80 % of Admin API calls throttled for
 * 30 s), 5 % duplicated, 10 % reordered and 3 % dropped webhooks (Shopify and Square), and the local
 * cloud's own AWS chaos (duplicated and reordered SQS/EventBridge deliveries, failed PutEvents entries).
 *
 * Each flow is a {@link ChaosFlow} in {@link FLOWS}: it loads its share of the work (`start`), and once
 * the hub is quiet and the final reconcile-with-heal ({@link HEAL}) has run, says what it finds
 * (`verify`). Not under chaos yet ({@link MISSING}): returns, pick-ups and the price launch, which have
 * their own e2e files; each would add a ChaosFlow.
 *
 * Last line: `{"bench":"chaos","orders","lost","duplicated","driftAfterHeal","parkedUnexplained","minutes",…}`.
 */
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { DEV_SHOP } from '#local/harness/shopify-webhooks.ts';
import { waitFor } from '#local/services/ports.ts';

export interface ChaosOptions {
  /** 1 = the issue's sizes. */
  readonly scale: number;
  readonly seed: number;
  /** The ERP outage (the issue: 30 s). */
  readonly outageMs: number;
  /** The Shopify 429 storm. */
  readonly stormMs: number;
  /** How long to wait for the hub to go quiet. */
  readonly settleTimeoutMs: number;
  /** Only the flows whose name contains one of these (default: all). */
  readonly only?: readonly string[];
  readonly log: (message: string) => void;
}

export interface FlowFindings {
  readonly flow: string;
  /** Source records the flow must carry (orders, movements…). */
  readonly records: number;
  /** Records with no outcome in the target system and no parked reason. */
  readonly lost: number;
  /** Of `lost`, those the hub never heard of (every webhook dropped by the vendor): the heal's work. */
  readonly lostAtVendor: number;
  /** Extra target documents for one source record. */
  readonly duplicated: number;
  /** Parked items without a code and a reason. */
  readonly parkedUnexplained: number;
  /** Source and target disagree after the heal (undefined: not measured by this flow yet). */
  readonly drift?: number;
  /**
   * False when the flow loaded its work but has no check of its outcome yet: its `lost`/`duplicated`
   * are then 0 because nothing was counted, not because nothing was lost (the run lists it as unverified).
   */
  readonly verified: boolean;
  readonly notes: string[];
}

interface ChaosContext {
  readonly pipeline: OrderPipeline;
  readonly options: ChaosOptions;
  /** When the run began (UTC ISO-8601): the reconcile's window starts here. */
  readonly startedAt: string;
}

export interface ChaosFlow {
  readonly name: string;
  start(context: ChaosContext): Promise<void>;
  verify(context: ChaosContext): Promise<FlowFindings>;
}

/** The issue's sizes at scale 1. */
export const SIZES = {
  onlineOrders: 4_000,
  posSales: 6_000,
  editShare: 0.1,
  cancellationShare: 0.03,
  movements: 100_000,
} as const;

export const FAULTS = {
  erpErrorRate: 0.08,
  webhooks: { duplicateRate: 0.05, reorderRate: 0.1, dropRate: 0.03 },
  shopifyStorm: { rate: 0.8 },
} as const;

const count = (n: number, scale: number) => Math.max(1, Math.round(n * scale));

interface ShopifyOrder {
  id: string;
  name: string;
}
interface SquareOrder {
  id: string;
  state: string;
}
/** The order topics the hub turns into events. */
const ORDER_TOPICS = new Set(['orders/create', 'orders/updated', 'orders/cancelled']);
interface ShopifyEvent {
  topic: string;
  resourceId: string;
  deliveries: { state: string }[];
}

/** Online and POS orders, with edits and cancellations, through the vendors' webhooks. */
const ORDERS: ChaosFlow = {
  name: 'orders',
  async start({ pipeline, options }) {
    const online = count(SIZES.onlineOrders, options.scale);
    await pipeline.control('square', '/_control/scenario', {
      seed: options.seed + 1,
      sales: count(SIZES.posSales, options.scale),
      // Sales stamped at most a second apart (a peak hour across 120 stores): those whose webhooks Square
      // drops are swept once the clock passes them, within the settle time (sandbox/square/scenario.ts).
      spacingSeconds: { min: 0, max: 1 },
    });
    await pipeline.control('shopify', '/_control/scenario', {
      seed: options.seed + 2,
      orders: online,
      pickupShare: 0.15,
      edits: Math.round(online * SIZES.editShare),
      cancellations: Math.round(online * SIZES.cancellationShare),
      spacingSeconds: { min: 1, max: 5 },
    });
  },
  async verify({ pipeline, options }) {
    const shopify = await pipeline.all<ShopifyOrder>(
      'shopify',
      'records=orders',
      (state) =>
        (state.records as Record<string, unknown>).orders as {
          total: number;
          hasMore: boolean;
          items: ShopifyOrder[];
        },
    );
    const { merchantId } = await pipeline.control<{ merchantId: string }>(
      'square',
      '/_control/state?limit=1',
    );
    const square = (
      await pipeline.all<SquareOrder>(
        'square',
        'view=orders',
        (state) => state.records as { total: number; hasMore: boolean; items: SquareOrder[] },
      )
    ).filter((order) => order.state === 'COMPLETED');
    const expected = new Map<string, string>([
      ...shopify.map((o) => [`shopify-${DEV_SHOP}-${o.id}`, `online ${o.name}`] as const),
      ...square.map((o) => [`pos-${merchantId}-${o.id}`, `POS ${o.id}`] as const),
    ]);
    const documents = [
      ...(await pipeline.erpDocuments('salesOrder')),
      ...(await pipeline.erpDocuments('cashSale')),
    ];
    const perExternalId = new Map<string, number>();
    for (const document of documents) {
      const key = document.externalId ?? '';
      perExternalId.set(key, (perExternalId.get(key) ?? 0) + 1);
    }
    const parked = (await pipeline.exceptions()).filter((e) => e.status === 'PARKED');
    // `ORDER#<source>#<account>#<id>` (the ledger's order key) → `<source>-<account>-<id>` (the ERP external id).
    const parkedOrders = new Set(
      parked.map((e) => (e.attributes.orderKey ?? '').replace(/^ORDER#/, '').replaceAll('#', '-')),
    );
    // A missing order that is parked with its reason is accounted for (replayable), not lost.
    const lost = [...expected.keys()].filter((key) => !perExternalId.has(key) && !parkedOrders.has(key));
    const duplicated = [...perExternalId.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const shopifyHooks = await pipeline.control<{ webhooks: Record<string, number> }>(
      'shopify',
      '/_control/flush',
      {},
    );
    const squareHooks = await pipeline.control<{ webhooks: Record<string, number> }>(
      'square',
      '/_control/flush',
      {},
    );
    const notes = [
      `${shopify.length} online + ${square.length} POS orders; ERP ${documents.length} documents`,
      `Shopify webhooks ${JSON.stringify(shopifyHooks.webhooks)}`,
      `Square webhooks ${JSON.stringify(squareHooks.webhooks)}`,
    ];
    // A lost online order none of whose order webhooks the hub maps (orders/create, orders/updated,
    // orders/cancelled: shared/connectors/shopify/mappers.ts; orders/paid is acknowledged, not published)
    // left Shopify — every delivery dropped at the vendor — is the heal's to bring back: counted apart, so
    // that a lost one says whether the heal or the webhook path failed.
    const events = await pipeline.all<ShopifyEvent>(
      'shopify',
      'records=events',
      (state) =>
        (state.records as Record<string, unknown>).events as {
          total: number;
          hasMore: boolean;
          items: ShopifyEvent[];
        },
    );
    const droppedAtVendor = lost.filter((key) => {
      const orderId = key.split('-').at(-1) ?? '';
      const mine = events.filter((e) => ORDER_TOPICS.has(e.topic) && String(e.resourceId).endsWith(orderId));
      return (
        key.startsWith('shopify-') && mine.every((e) => e.deliveries.every((d) => d.state === 'dropped'))
      );
    });
    if (lost.length > 0) {
      const why = (key: string) =>
        droppedAtVendor.includes(key)
          ? ' (every order webhook dropped by Shopify, and the heal did not bring it)'
          : ' (UNEXPLAINED)';
      notes.push(
        `lost: ${lost
          .slice(0, 10)
          .map((key) => `${expected.get(key)}${why(key)}`)
          .join(', ')}`,
      );
    }
    options.log(`orders: ${notes.join('; ')}`);
    return {
      flow: 'orders',
      records: expected.size,
      lost: lost.length,
      lostAtVendor: droppedAtVendor.length,
      duplicated,
      parkedUnexplained: parked.filter((e) => !e.code || !e.reason).length,
      verified: true,
      notes,
    };
  },
};

/** Stock movements entered in bulk in the ERP (receipts and corrections), as the inventory bench does. */
const MOVEMENTS: ChaosFlow = {
  name: 'stock movements',
  async start({ pipeline, options }) {
    const total = count(SIZES.movements, options.scale);
    // The ERP sandbox's scenario enters them as the warehouse would: goods receipts and stock corrections.
    await pipeline.control('netsuite', '/_control/scenario', {
      seed: options.seed + 3,
      receipts: Math.round(total / 2),
      adjustments: total - Math.round(total / 2),
    });
  },
  async verify({ options }) {
    // Carried by the ERP change feed → projection → Shopify publisher; whether Shopify's availability
    // matches the projection after the storm is the reconcile's availability comparison, in driftAfterHeal.
    const total = count(SIZES.movements, options.scale);
    return {
      flow: 'stock movements',
      records: total,
      lost: 0,
      lostAtVendor: 0,
      duplicated: 0,
      parkedUnexplained: 0,
      verified: false,
      notes: [
        `${total} movements entered; no per-movement check: Shopify's availability against the projection is the reconcile's, counted in driftAfterHeal`,
      ],
    };
  },
};

/**
 * The flows under chaos. Extension points: returns (Shopify returnCreate/returnProcess + Square in-store
 * returns → NetSuite credit memos), pick-ups (BOPIS reservations and fulfilment orders), and the price
 * launch (EventBridge Scheduler promotions) each add a ChaosFlow here when they merge.
 */
export const FLOWS: ChaosFlow[] = [ORDERS, MOVEMENTS];

/** Not covered yet, printed with every run so that nobody mistakes the figures for the whole hub. */
export const MISSING = ['returns', 'pick-ups', 'price launch'];

interface ReconcileRun {
  readonly discrepancies: readonly { kind: string; system: string; id: string; healing?: string }[];
  readonly healed: number;
}

/**
 * The final reconcile with heal, between the burst and the verifications, as an operator runs it after an
 * incident: the reconciler Lambda (invoked as `ops reconcile --local --heal` invokes it) compares Shopify
 * and the POS with the ERP over the run's window and re-publishes what never reached the hub (webhooks the
 * vendor dropped and nobody swept) and re-enqueues drifted availability; once the hub is quiet again, a
 * second, dry run says what is still wrong. Its discrepancies, less those parked with a reason (accounted
 * for and replayable), are the drift after heal.
 */
export const HEAL = async ({ pipeline, options, startedAt }: ChaosContext): Promise<number> => {
  const reconciler = pipeline.cloud.template
    .ofType('AWS::Lambda::Function')
    .find((fn) => fn.logicalId.startsWith('ReconcilerFunction'));
  if (!reconciler) throw new Error('no reconciler in the template');
  // The scenarios stamp their activity forward from the moment they were loaded: the window reaches past now.
  const window = { since: startedAt, until: new Date(Date.now() + 6 * 3600_000).toISOString() };
  const run = async (heal: boolean): Promise<ReconcileRun> => {
    const result = await pipeline.cloud.lambdaService.invoke(reconciler.name, { ...window, heal });
    if (!result.ok) throw new Error(`the reconciler failed: ${result.errorType}: ${result.errorMessage}`);
    return result.payload as ReconcileRun;
  };
  const healing = await run(true);
  options.log(
    `chaos: reconcile with heal: ${healing.healed} healed of ${healing.discrepancies.length} discrepancies`,
  );
  // What the heal republished and re-enqueued goes through the bus, the queues, the ERP and the publishers:
  // dry runs until the hub has caught up, or the settle time is over (then what is left is the drift).
  const openOf = (run: ReconcileRun) => run.discrepancies.filter((d) => !d.healing?.startsWith('parked'));
  let after = await run(false);
  await waitFor(
    async () => {
      await pipeline.drained(options.settleTimeoutMs, ['shopify', 'square']);
      after = await run(false);
      return openOf(after).length === 0;
    },
    {
      timeoutMs: options.settleTimeoutMs,
      intervalMs: 5_000,
      what: 'the healed work to reach the ERP and the channels',
    },
  ).catch((error: Error) => options.log(`chaos: ${error.message}`));
  const open = openOf(after);
  if (open.length > 0)
    options.log(
      `chaos: after the heal: ${open
        .slice(0, 10)
        .map((d) => `${d.kind} ${d.system} ${d.id}`)
        .join(', ')}`,
    );
  return open.length;
};

export interface ChaosResult {
  readonly orders: number;
  readonly lost: number;
  /** Of `lost`: never reached the hub (every webhook dropped by the vendor, no heal yet). */
  readonly lostAtVendor: number;
  readonly duplicated: number;
  readonly driftAfterHeal: number | null;
  readonly parkedUnexplained: number;
  readonly minutes: number;
  readonly scale: number;
  readonly flows: FlowFindings[];
  readonly chaos: unknown;
  readonly erp: unknown;
  readonly missing: string[];
  /** Flows whose outcome was not checked (see {@link FlowFindings.verified}). */
  readonly unverified: string[];
}

export async function runChaos(given: ChaosOptions): Promise<ChaosResult> {
  const started = Date.now();
  // Every line says when it happened in the run, so a slow phase shows.
  const options: ChaosOptions = {
    ...given,
    log: (message) => given.log(`[+${((Date.now() - started) / 1000).toFixed(0)} s] ${message}`),
  };
  const pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 15,
    erpLatencyMs: { min: 20, max: 80 },
    seed: options.seed,
    // Four deliveries at a time per vendor: 8 made every cold start of a 2-core machine queue behind the others.
    webhookConcurrency: 4,
    chaos: { ...DEFAULT_CHAOS, reorderRate: 0.1, seed: options.seed + 10 },
  });
  try {
    const context: ChaosContext = { pipeline, options, startedAt: new Date(started).toISOString() };
    options.log(
      `chaos: local cloud up in ${((Date.now() - started) / 1000).toFixed(0)} s at ${pipeline.url}`,
    );
    await pipeline.control('shopify', '/_control/faults', {
      webhooks: FAULTS.webhooks,
      seed: options.seed + 11,
    });
    await pipeline.control('square', '/_control/faults', {
      webhooks: FAULTS.webhooks,
      seed: options.seed + 12,
    });
    await pipeline.control('netsuite', '/_control/faults', {
      errorRate: FAULTS.erpErrorRate,
      seed: options.seed + 13,
    });
    const flows = FLOWS.filter(
      (f) => !options.only?.length || options.only.some((name) => f.name.includes(name)),
    );
    for (const flow of flows) await flow.start(context);
    options.log(`chaos: work loaded (${flows.map((f) => f.name).join(', ')})`);
    // The ERP goes down once the burst reaches it; Shopify throttles its Admin API at the same time.
    await waitFor(
      async () =>
        (await pipeline.control<{ counters: { calls: number } }>('netsuite', '/_control/state?limit=1'))
          .counters.calls >= 20,
      { timeoutMs: options.settleTimeoutMs, intervalMs: 100, what: 'the burst to reach the ERP' },
    );
    await pipeline.control('netsuite', '/_control/faults', {
      errorRate: FAULTS.erpErrorRate,
      outage: { durationMs: options.outageMs },
    });
    await pipeline.control('shopify', '/_control/faults', {
      webhooks: FAULTS.webhooks,
      throttleStorm: { rate: FAULTS.shopifyStorm.rate, durationMs: options.stormMs },
    });
    options.log(
      `chaos: ERP outage ${options.outageMs / 1000} s and Shopify 429 storm ${options.stormMs / 1000} s started`,
    );
    await pipeline.drained(options.settleTimeoutMs, ['shopify', 'square']);
    options.log('chaos: the burst is through (webhooks delivered, queues empty)');
    // POS sales whose webhooks were dropped come back through the sweep (every minute): wait for it.
    await waitFor(
      async () => {
        const { merchantId } = await pipeline.control<{ merchantId: string }>(
          'square',
          '/_control/state?limit=1',
        );
        const completed = (
          await pipeline.all<SquareOrder>(
            'square',
            'view=orders',
            (state) => state.records as { total: number; hasMore: boolean; items: SquareOrder[] },
          )
        ).filter((order) => order.state === 'COMPLETED');
        const booked = new Set((await pipeline.erpDocuments('cashSale')).map((d) => d.externalId));
        return completed.every((order) => booked.has(`pos-${merchantId}-${order.id}`));
      },
      { timeoutMs: options.settleTimeoutMs, intervalMs: 5_000, what: 'the POS sweep to bring dropped sales' },
    ).catch((error: Error) => options.log(`chaos: ${error.message}`));
    await pipeline.drained(options.settleTimeoutMs, ['shopify', 'square']);
    options.log('chaos: every completed POS sale is booked (the sweep brought the dropped ones)');
    const drift = await HEAL(context);
    const findings: FlowFindings[] = [];
    for (const flow of flows) findings.push(await flow.verify(context));
    const erp = (await pipeline.control<{ counters: unknown }>('netsuite', '/_control/state?limit=1'))
      .counters;
    const sum = (key: 'lost' | 'lostAtVendor' | 'duplicated' | 'parkedUnexplained') =>
      findings.reduce((s, f) => s + f[key], 0);
    return {
      orders: findings.find((f) => f.flow === 'orders')?.records ?? 0,
      lost: sum('lost'),
      lostAtVendor: sum('lostAtVendor'),
      duplicated: sum('duplicated'),
      driftAfterHeal: drift ?? null,
      parkedUnexplained: sum('parkedUnexplained'),
      minutes: Number(((Date.now() - started) / 60_000).toFixed(1)),
      scale: options.scale,
      flows: findings,
      chaos: pipeline.cloud.chaos?.counters,
      erp,
      missing: MISSING,
      unverified: findings.filter((f) => !f.verified).map((f) => f.flow),
    };
  } finally {
    await pipeline.stop();
  }
}
