/**
 * Inventory availability benchmark (issue #13): how close the Shopify publisher gets to the cost
 * bucket's theoretical limit when a storm of stock movements lands, against a naive publisher.
 *
 * What is measured — the publisher and its pacer against the Shopify sandbox, in this process:
 * - A Shopify sandbox with 2,000 SKUs × 120 stores (+ the warehouse), on the Standard plan (restore 100
 *   points/s, bucket 2,000) and then on Plus (1,000/s, 20,000). The projection is held in memory through
 *   the same pure rules as the DynamoDB repository; before the storm it equals Shopify (the hub's steady
 *   state: every level's last write confirmed, the SKU → inventory item directory warm).
 * - The storm: `--movements N` (default 100,000) ERP stock changes over random SKU × store positions,
 *   applied to the projection in bulk. NOT measured here: the ingestion path (NetSuite change feed →
 *   poller → bus → SQS → projector) — the bench starts when the last movement is in the projection
 *   ("accepted by the hub") and ends when every touched level in Shopify equals the invariant
 *   max(0, ERP on hand − Shopify committed), checked from the sandbox's own state.
 * - The bucket starts empty (`_control/plan currentlyAvailable: 0`), so the restore rate dominates.
 * - Theoretical minimum = (10 points × ⌈changed levels ÷ 250⌉ mutations − 0 points at the start) ÷
 *   restore rate + one call's latency (the median measured in the run).
 * - Naive baseline: one `inventorySetQuantities` per movement (10 points each), paced by the same cost
 *   model so it is never throttled, run on a sample (`--naive N`, default 2,000) and extrapolated
 *   linearly to the storm's size (the bucket makes it linear: 10 points per movement).
 * - p99 lag: 50 single changes one after another under normal load (bucket not drained), each timed from
 *   the projection change to the confirmed write (the deployed flow adds its SQS batching window, 2 s).
 *
 * The last line reports the Standard plan; the line before it, Plus.
 */
import { randomUUID } from 'node:crypto';
import { serveSandboxes } from '#sandbox/core/http.ts';
import { createShopifySandbox } from '#sandbox/shopify/index.ts';
import { CostPacer, type ThrottleStatus } from '#shared/inventory/cost-pacer.ts';
import { DEFAULT_POLICY } from '#shared/inventory/policy.ts';
import {
  apply,
  type ChannelState,
  emptyPosition,
  type Position,
  recordChannelState,
} from '#shared/inventory/projection.ts';
import { INVENTORY_SET_AVAILABLE_MUTATION } from '#shared/inventory/shopify-documents.ts';
import {
  type PositionStore,
  ShopifyInventoryPublisher,
  ShopifyLevelDirectory,
  shopifyGraphql,
} from '#shared/inventory/shopify-publisher.ts';

const MUTATION_COST = 10;
const PER_CALL = 250;

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

/** A seeded PRNG (mulberry32), so two runs storm the same positions. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class MemoryPositions implements PositionStore {
  readonly byKey = new Map<string, Position>();
  private sequence = 0;
  get(sku: string, location: string): Position {
    return this.byKey.get(`${sku}|${location}`) ?? emptyPosition(sku, location);
  }
  erpCount(sku: string, location: string, quantity: number, sourceAt = Date.now()): void {
    this.sequence += 1;
    const next = apply(
      this.get(sku, location),
      { kind: 'erp-count', sequence: this.sequence, quantity },
      {},
      { now: Date.now(), sourceAt },
    ).next;
    this.byKey.set(`${sku}|${location}`, next);
  }
  async getMany(keys: readonly { sku: string; location: string }[]): Promise<Position[]> {
    return keys.map((k) => this.get(k.sku, k.location));
  }
  async recordChannelState(key: { sku: string; location: string }, state: ChannelState): Promise<boolean> {
    const next = recordChannelState(this.get(key.sku, key.location), state);
    if (next) this.byKey.set(`${key.sku}|${key.location}`, next);
    return next !== undefined;
  }
}

interface PlanResult {
  plan: string;
  movements: number;
  levels: number;
  convergeSeconds: number;
  theoreticalMinSeconds: number;
  ratioToMin: number;
  naiveSample: number;
  naiveSampleSeconds: number;
  naiveSeconds: number;
  speedupVsNaive: number;
  throttled: number;
  p99LagMs: number;
  calls: number;
  medianCallMs: number;
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
};

async function runPlan(
  plan: 'standard' | 'plus',
  movements: number,
  naiveSample: number,
): Promise<PlanResult> {
  const app = createShopifySandbox({ seed: 13, items: 2000, stores: 120, plan });
  const server = await serveSandboxes([app], { port: 0 });
  try {
    const base = server.urlOf('shopify');
    const callMs: number[] = [];
    const timed: typeof fetch = async (url, init) => {
      const started = performance.now();
      const res = await fetch(url, init);
      const body = await res.arrayBuffer();
      callMs.push(performance.now() - started);
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const graphql = shopifyGraphql({ baseUrl: base, accessToken: app.credentials.accessToken, fetch: timed });
    const stores = app.store.locations.filter((l) => l.code.startsWith('ST-'));
    const skus = [...app.store.itemBySku.keys()];
    const control = async (body: Record<string, unknown>) => {
      const res = await fetch(`${base}/_control/plan`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return ((await res.json()) as { throttleStatus: ThrottleStatus }).throttleStatus;
    };
    /**
     * A pacer that knows the bucket is empty, as the hub's pacer does after its calls drained it (the
     * bench empties it behind the pacer's back; a pacer that had not been told would learn it from one
     * THROTTLED answer).
     */
    const drainedPacer = async () => {
      const status = await control({ plan, currentlyAvailable: 0 });
      const fresh = new CostPacer();
      fresh.observe(status);
      return fresh;
    };
    // Setup (not measured): the hub's warm SKU directory, read with a bucket that does not limit it.
    await control({ restoreRate: 1_000_000 });
    const directory = new ShopifyLevelDirectory(
      graphql,
      new CostPacer(),
      new Map(app.store.locations.map((l) => [l.code, `gid://shopify/Location/${l.id}`])),
    );
    await directory.resolve(skus.map((sku) => ({ sku, location: stores[0]?.code ?? '' })));
    const positions = new MemoryPositions();
    const shopifyOf = (sku: string, code: string) => {
      const item = app.store.itemBySku.get(sku);
      const loc = app.store.locations.find((l) => l.code === code);
      if (!item || !loc) throw new Error(`no level ${sku} @ ${code}`);
      return {
        available: () => app.store.quantity(item, loc, 'available'),
        committed: () => app.store.quantity(item, loc, 'committed'),
      };
    };
    /** The hub's steady state at a position: ERP on hand = Shopify available + committed, confirmed. */
    const settle = (sku: string, code: string) => {
      if (positions.byKey.has(`${sku}|${code}`)) return;
      const level = shopifyOf(sku, code);
      positions.erpCount(sku, code, level.available() + level.committed());
      const at = Date.now();
      void positions.recordChannelState(
        { sku, location: code },
        { channel: 'shopify', quantity: level.available(), committed: level.committed(), at },
      );
    };

    // The storm, applied to the projection in bulk.
    const random = rng(17);
    const storm: { sku: string; location: string; delta: number }[] = [];
    for (let i = 0; i < movements; i += 1) {
      const sku = skus[Math.floor(random() * skus.length)] as string;
      const location = (stores[Math.floor(random() * stores.length)] as { code: string }).code;
      const delta = random() < 0.3 ? Math.ceil(random() * 6) : -Math.ceil(random() * 2);
      storm.push({ sku, location, delta });
    }
    for (const m of storm) settle(m.sku, m.location);
    for (const m of storm) {
      const p = positions.get(m.sku, m.location);
      positions.erpCount(m.sku, m.location, Math.max(0, p.onHand + m.delta));
    }
    const keys = [...new Map(storm.map((m) => [`${m.sku}|${m.location}`, m])).values()].map((m) => ({
      sku: m.sku,
      location: m.location,
    }));
    const changed = keys.filter((k) => {
      const p = positions.get(k.sku, k.location);
      return Math.max(0, p.onHand - p.committed) !== p.confirmed.shopify?.quantity;
    }).length;

    const pacer = await drainedPacer();
    const publisher = new ShopifyInventoryPublisher({
      graphql,
      pacer,
      positions,
      levels: directory,
      policy: DEFAULT_POLICY,
    });
    callMs.length = 0;
    const started = performance.now();
    const report = await publisher.publish(keys);
    const convergeSeconds = (performance.now() - started) / 1000;
    const wrong = keys.filter((k) => {
      const p = positions.get(k.sku, k.location);
      const level = shopifyOf(k.sku, k.location);
      return level.available() !== Math.max(0, p.onHand - level.committed());
    });
    if (wrong.length > 0)
      throw new Error(`${wrong.length} levels did not converge: ${JSON.stringify(wrong.slice(0, 3))}`);
    const medianCallMs = percentile(callMs, 50);
    const restoreRate = pacer.lastStatus?.restoreRate ?? (plan === 'plus' ? 1000 : 100);
    if (restoreRate !== (plan === 'plus' ? 1000 : 100))
      throw new Error(`unexpected restore rate ${restoreRate}`);
    const theoreticalMinSeconds =
      (MUTATION_COST * Math.ceil(changed / PER_CALL)) / restoreRate + medianCallMs / 1000;

    // p99 lag of single changes under normal load (the bucket refills between them).
    const lags: number[] = [];
    for (let i = 0; i < 50; i += 1) {
      const k = keys[i % keys.length] as { sku: string; location: string };
      const p = positions.get(k.sku, k.location);
      const at = Date.now();
      positions.erpCount(k.sku, k.location, p.onHand + 1, at);
      await publisher.publish([k]);
      lags.push(Date.now() - at);
    }

    // Naive: one mutation per movement, paced so it is never throttled, on a sample.
    const sample = storm.slice(0, naiveSample);
    const naivePacer = await drainedPacer();
    const naiveStarted = performance.now();
    for (const m of sample) {
      const ref = (await directory.resolve([m])).get(`${m.sku}|${m.location}`);
      if (!ref) continue;
      const level = shopifyOf(m.sku, m.location);
      const current = level.available();
      for (;;) {
        const grant = await naivePacer.acquire(MUTATION_COST);
        const answer = await graphql(INVENTORY_SET_AVAILABLE_MUTATION, {
          key: randomUUID(),
          input: {
            name: 'available',
            reason: 'correction',
            quantities: [
              {
                inventoryItemId: ref.inventoryItemId,
                locationId: ref.locationId,
                quantity: Math.max(0, current + m.delta),
                changeFromQuantity: current,
              },
            ],
          },
        });
        grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
        if (!answer.errors.some((e) => e.code === 'THROTTLED')) break;
      }
    }
    const naiveSampleSeconds = (performance.now() - naiveStarted) / 1000;
    const naiveSeconds = (naiveSampleSeconds * movements) / Math.max(1, sample.length);
    const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
    return {
      plan,
      movements,
      levels: keys.length,
      convergeSeconds: round(convergeSeconds),
      theoreticalMinSeconds: round(theoreticalMinSeconds),
      ratioToMin: round(convergeSeconds / theoreticalMinSeconds, 3),
      naiveSample: sample.length,
      naiveSampleSeconds: round(naiveSampleSeconds),
      naiveSeconds: round(naiveSeconds, 0),
      speedupVsNaive: round(naiveSeconds / convergeSeconds, 1),
      throttled: report.throttled,
      p99LagMs: Math.round(percentile(lags, 99)),
      calls: report.calls,
      medianCallMs: round(medianCallMs, 1),
    };
  } finally {
    await server.close();
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const movements = flag('movements', 100_000);
  const naive = flag('naive', 2_000);
  const plus = await runPlan('plus', movements, naive);
  console.log(JSON.stringify({ bench: 'inventory', ...plus }));
  const standard = await runPlan('standard', movements, naive);
  console.log(JSON.stringify({ bench: 'inventory', ...standard }));
  return {
    movements: standard.movements,
    convergeSeconds: standard.convergeSeconds,
    theoreticalMinSeconds: standard.theoreticalMinSeconds,
    ratioToMin: standard.ratioToMin,
    naiveSeconds: standard.naiveSeconds,
    speedupVsNaive: standard.speedupVsNaive,
    throttled: standard.throttled,
    p99LagMs: standard.p99LagMs,
  };
}
