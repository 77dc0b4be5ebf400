import { afterEach, describe, expect, it } from 'vitest';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { DEFAULT_POLICY, type InventoryPolicy } from '#shared/inventory/policy.ts';
import {
  apply,
  type ChannelState,
  emptyPosition,
  type Position,
  type ProjectionInput,
  recordChannelState,
} from '#shared/inventory/projection.ts';
import { refreshCommitted } from '#shared/inventory/projector.ts';
import {
  type PositionStore,
  ShopifyInventoryPublisher,
  ShopifyLevelDirectory,
  shopifyGraphql,
} from '#shared/inventory/shopify-publisher.ts';
import { canonicalOrder } from '#test/support/orders.ts';
import { assertShopifyDocument, type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/** The projection in memory, through the same pure rules the DynamoDB repository applies. */
class MemoryPositions implements PositionStore {
  readonly byKey = new Map<string, Position>();
  private sequence = 0;

  private get(sku: string, location: string): Position {
    return this.byKey.get(`${sku}|${location}`) ?? emptyPosition(sku, location);
  }

  /** Any projection input (a POS sale, an observation), through the pure rules. */
  input(sku: string, location: string, input: ProjectionInput): void {
    this.byKey.set(`${sku}|${location}`, apply(this.get(sku, location), input, {}, { now: Date.now() }).next);
  }

  /** An ERP count (the next change-feed id), as the change-feed poller will send it. */
  erpCount(sku: string, location: string, quantity: number): void {
    this.sequence += 1;
    const next = apply(
      this.get(sku, location),
      { kind: 'erp-count', sequence: this.sequence, quantity },
      {},
      { now: Date.now() },
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

interface Sent {
  document: string;
  variables: Record<string, unknown>;
}

let harness: ShopifyHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const SKUS = Array.from({ length: 200 }, (_, i) => `SKU-${String(i + 1).padStart(6, '0')}`);

async function setup(
  options: {
    policy?: InventoryPolicy;
    /** Replaces the fetch: may drop an answer after Shopify applied it. */
    loseAnswer?: (sent: Sent, n: number) => boolean;
    /** Answers 503 instead of sending (Shopify never sees the request). */
    unavailable?: (sent: Sent, n: number) => boolean;
  } = {},
) {
  harness = await startShopify({ items: 200, stores: 5 });
  const h = harness;
  const locations = h.app.store.locations.map((l) => ({
    code: l.code,
    gid: `gid://shopify/Location/${l.id}`,
  }));
  const sent: Sent[] = [];
  // Every document the publisher sends is checked against Shopify's real Admin schema first.
  const checkingFetch: typeof fetch = async (url, init) => {
    const body = JSON.parse(String(init?.body)) as { query: string; variables: Record<string, unknown> };
    assertShopifyDocument(body.query);
    sent.push({ document: body.query, variables: body.variables });
    if (options.unavailable?.(sent.at(-1) as Sent, sent.length)) return new Response('{}', { status: 503 });
    const res = await fetch(url, init);
    if (options.loseAnswer?.(sent.at(-1) as Sent, sent.length))
      throw new TypeError('fetch failed: socket hang up');
    return res;
  };
  const graphql = shopifyGraphql({
    baseUrl: h.base,
    accessToken: h.app.credentials.accessToken,
    fetch: checkingFetch,
  });
  const positions = new MemoryPositions();
  /** A publisher with a pacer of its own (a cold start: it does not know the bucket yet). */
  const makePublisher = () => {
    const pacer = new CostPacer();
    const levels = new ShopifyLevelDirectory(graphql, pacer, new Map(locations.map((l) => [l.code, l.gid])));
    return new ShopifyInventoryPublisher({
      graphql,
      pacer,
      positions,
      levels,
      policy: options.policy ?? DEFAULT_POLICY,
    });
  };
  const publisher = makePublisher();
  const shopifyLevel = (sku: string, code: string) => {
    const item = h.app.store.itemBySku.get(sku);
    const loc = h.app.store.locations.find((l) => l.code === code);
    if (!item || !loc) throw new Error(`no level ${sku} @ ${code}`);
    return {
      item,
      loc,
      available: () => h.app.store.quantity(item, loc, 'available'),
      committed: () => h.app.store.quantity(item, loc, 'committed'),
    };
  };
  const mutations = () => sent.filter((s) => s.document.includes('inventorySetQuantities'));
  return {
    h,
    sent,
    mutations,
    positions,
    publisher,
    makePublisher,
    codes: locations.map((l) => l.code),
    shopifyLevel,
  };
}

describe('Shopify inventory publisher (against the Shopify sandbox)', () => {
  it('reads unknown levels once, then sets available = ERP on hand − committed, in calls of at most 250', async () => {
    const { positions, publisher, mutations, codes, shopifyLevel } = await setup();
    const keys = SKUS.slice(0, 100).flatMap((sku) =>
      codes.slice(0, 3).map((location) => ({ sku, location })),
    );
    keys.forEach((k, i) => {
      positions.erpCount(k.sku, k.location, 5 + (i % 7));
    });
    const report = await publisher.publish(keys);
    expect(report).toMatchObject({ positions: 300, unmapped: 0, throttled: 0, casConflicts: 0, read: 300 });
    expect(report.written + report.unchanged).toBe(300);
    expect(report.written).toBeGreaterThan(250);
    const sizes = mutations().map((m) => (m.variables.input as { quantities: unknown[] }).quantities.length);
    expect(sizes).toEqual([250, report.written - 250]);
    keys.forEach((k, i) => {
      expect(shopifyLevel(k.sku, k.location).available(), `${k.sku}@${k.location}`).toBe(5 + (i % 7));
    });
    // The idempotency key is on every write.
    for (const m of mutations()) expect(m.variables.key).toMatch(/^omnihub-inv-[0-9a-f]{40}$/);
  });

  it('coalesces: a burst of changes to the same levels is one quantity each, latest value wins', async () => {
    const { positions, publisher, mutations, shopifyLevel } = await setup();
    const keys = [];
    for (let round = 1; round <= 50; round += 1) {
      for (const sku of SKUS.slice(0, 4)) {
        positions.erpCount(sku, 'WH-01', round);
        keys.push({ sku, location: 'WH-01' });
      }
    }
    const report = await publisher.publish(keys);
    expect(report).toMatchObject({ requested: 200, positions: 4 });
    expect(mutations()).toHaveLength(1);
    for (const sku of SKUS.slice(0, 4)) expect(shopifyLevel(sku, 'WH-01').available()).toBe(50);
  });

  it('never overwrites a newer Shopify-side sale: stale rows are re-read, recomputed and retried', async () => {
    const { h, positions, publisher, mutations, shopifyLevel } = await setup();
    const sold = shopifyLevel(SKUS[0] as string, 'WH-01');
    const other = shopifyLevel(SKUS[1] as string, 'WH-01');
    positions.erpCount(SKUS[0] as string, 'WH-01', 20);
    positions.erpCount(SKUS[1] as string, 'WH-01', 20);
    const keys = [SKUS[0], SKUS[1]].map((sku) => ({ sku: sku as string, location: 'WH-01' }));
    await publisher.publish(keys);
    expect([sold.available(), other.available()]).toEqual([20, 20]);

    // An online sale of 3 at Shopify (available → committed), unknown to the hub; then the ERP receives 10.
    h.app.commerce.changeLevel(sold.item, sold.loc, { available: -3, committed: 3 }, Date.now());
    positions.erpCount(SKUS[0] as string, 'WH-01', 30);
    positions.erpCount(SKUS[1] as string, 'WH-01', 30);
    const report = await publisher.publish(keys);
    expect(report.casConflicts).toBe(1);
    expect(mutations()).toHaveLength(3); // first publish, the stale send, the resend
    // ERP 30 − Shopify committed 3, not 30: the sale is kept.
    expect([sold.available(), sold.committed(), other.available()]).toEqual([27, 3, 30]);
    expect(positions.byKey.get(`${SKUS[0]}|WH-01`)).toMatchObject({
      committed: 3,
      confirmed: { shopify: { quantity: 27 } },
      published: { shopify: { quantity: 27 } },
    });
  });

  it('corrects a Shopify-side edit it observed (inventory_levels/update): re-reads the level with committed, then sets it back', async () => {
    const { h, positions, publisher, shopifyLevel } = await setup();
    const sku = SKUS[2] as string;
    const level = shopifyLevel(sku, 'WH-01');
    positions.erpCount(sku, 'WH-01', 20);
    await publisher.publish([{ sku, location: 'WH-01' }]);
    expect(level.available()).toBe(20);
    // Someone raises available to 25 in the Shopify admin; its webhook reaches the projection.
    h.app.commerce.changeLevel(level.item, level.loc, { available: 5 }, Date.now());
    const observed = {
      kind: 'observation',
      channel: 'shopify',
      sequence: Date.now() + 1,
      quantity: 25,
    } as const;
    positions.byKey.set(
      `${sku}|WH-01`,
      apply(
        positions.byKey.get(`${sku}|WH-01`) ?? emptyPosition(sku, 'WH-01'),
        observed,
        {},
        { now: Date.now() },
      ).next,
    );
    const report = await publisher.publish([{ sku, location: 'WH-01' }]);
    expect(report).toMatchObject({ read: 1, written: 1, casConflicts: 0 });
    expect(level.available()).toBe(20);
  });

  it("heals an edit it never heard of (its webhook lost) only when asked to re-read: the reconciler's republish", async () => {
    const { h, positions, publisher, shopifyLevel, mutations } = await setup();
    const sku = SKUS[3] as string;
    const level = shopifyLevel(sku, 'WH-01');
    positions.erpCount(sku, 'WH-01', 20);
    await publisher.publish([{ sku, location: 'WH-01' }]);
    expect(level.available()).toBe(20);
    // An admin sets 25; the webhook never reaches the hub, which still believes 20 is in place.
    h.app.commerce.changeLevel(level.item, level.loc, { available: 5 }, Date.now());
    const written = mutations().length;
    const trusting = await publisher.publish([{ sku, location: 'WH-01' }]);
    expect(trusting).toMatchObject({ unchanged: 1, written: 0, read: 0 });
    expect(level.available()).toBe(25);
    const healing = await publisher.publish([{ sku, location: 'WH-01' }], {
      reread: new Set([`${sku}|WH-01`]),
    });
    expect(healing).toMatchObject({ read: 1, written: 1, casConflicts: 0 });
    expect(mutations()).toHaveLength(written + 1);
    expect(level.available()).toBe(20);
  });

  it('re-reads committed after a Shopify order event: a fulfilment (available unchanged, committed down) is not subtracted twice once the ERP books it', async () => {
    const { h, positions, publisher, shopifyLevel } = await setup();
    const sku = SKUS[3] as string;
    const level = shopifyLevel(sku, 'WH-01');
    positions.erpCount(sku, 'WH-01', 20);
    await publisher.publish([{ sku, location: 'WH-01' }]);
    // An online order commits 3 units at the warehouse (its inventory_levels/update makes the base unknown).
    h.app.commerce.changeLevel(level.item, level.loc, { available: -3, committed: 3 }, Date.now());
    const afterOrder = Date.now() + 1;
    positions.byKey.set(
      `${sku}|WH-01`,
      apply(
        positions.byKey.get(`${sku}|WH-01`) ?? emptyPosition(sku, 'WH-01'),
        { kind: 'observation', channel: 'shopify', sequence: afterOrder, quantity: 17 },
        {},
        { now: Date.now() },
      ).next,
    );
    await publisher.publish([{ sku, location: 'WH-01' }]);
    expect(level.available()).toBe(17);
    expect(positions.byKey.get(`${sku}|WH-01`)?.committed).toBe(3);
    // The order ships: committed 3 → 0 and on hand −3 at Shopify, available unchanged (no
    // inventory_levels/update); the ERP books the shipment: on hand 17.
    h.app.commerce.changeLevel(level.item, level.loc, { committed: -3 }, Date.now());
    positions.erpCount(sku, 'WH-01', 17);
    const shipped = canonicalOrder({
      lines: [{ sku, unitPrice: 1000, quantity: 3 }],
      updatedAt: new Date(Date.now() + 2).toISOString(),
    });
    const { publish } = await refreshCommitted(
      { detailType: 'OrderUpdated', detail: { metadata: {}, data: shipped } as never },
      {
        apply: async (key, input) => {
          const applied = apply(
            positions.byKey.get(`${key.sku}|${key.location}`) ?? emptyPosition(key.sku, key.location),
            input,
            {},
            { now: Date.now() },
          );
          positions.byKey.set(`${key.sku}|${key.location}`, applied.next);
          return applied;
        },
        withCommitted: async (s) =>
          [...positions.byKey.values()].filter((p) => p.sku === s && p.committed > 0),
      },
    );
    expect(publish).toEqual([{ sku, location: 'WH-01' }]);
    const report = await publisher.publish(publish);
    // Re-read: committed is 0 now, so the target is 17 − 0 = 17, what Shopify shows: nothing to write
    // (without the re-read the stale committed 3 would have set available to 14).
    expect(report).toMatchObject({ read: 1, written: 0 });
    expect(level.available()).toBe(17);
    expect(level.available()).toBe(Math.max(0, 17 - level.committed()));
  });

  it('builds a resend after a 5xx from the projection as it is then: a POS sale projected during the backoff lowers the quantity sent (no stale raise)', async () => {
    let failed = false;
    const held: { positions?: MemoryPositions; sku?: string } = {};
    const { positions, publisher, mutations, shopifyLevel } = await setup({
      unavailable: (sent) => {
        if (failed || !sent.document.includes('inventorySetQuantities')) return false;
        failed = true;
        // While the publisher backs off, a register sale of 4 reaches the projection.
        held.positions?.input(held.sku ?? '', 'WH-01', {
          kind: 'movement',
          source: 'pos',
          movementId: 'pos-sale-9#x',
          delta: -4,
        });
        return true;
      },
    });
    const sku = SKUS[4] as string;
    held.positions = positions;
    held.sku = sku;
    positions.erpCount(sku, 'WH-01', 30);
    const report = await publisher.publish([{ sku, location: 'WH-01' }]);
    const quantities = mutations().map(
      (m) => (m.variables.input as { quantities: { quantity: number }[] }).quantities[0]?.quantity,
    );
    // The 503'd send asked for 30; the resend, built after the backoff, asks for 30 − 4.
    expect(quantities).toEqual([30, 26]);
    expect(report).toMatchObject({ written: 1, transientRetries: 1 });
    expect(shopifyLevel(sku, 'WH-01').available()).toBe(26);
  });

  it('does not touch locations the policy does not publish online', async () => {
    const policy: InventoryPolicy = {
      ...DEFAULT_POLICY,
      channels: { ...DEFAULT_POLICY.channels, online: { locations: ['WH-01'] } },
    };
    const { positions, publisher, mutations, shopifyLevel } = await setup({ policy });
    const before = shopifyLevel(SKUS[0] as string, 'ST-001').available();
    positions.erpCount(SKUS[0] as string, 'WH-01', before + 7);
    positions.erpCount(SKUS[0] as string, 'ST-001', before + 7);
    const report = await publisher.publish([
      { sku: SKUS[0] as string, location: 'WH-01' },
      { sku: SKUS[0] as string, location: 'ST-001' },
    ]);
    expect(report.notPublished).toBe(1);
    expect(shopifyLevel(SKUS[0] as string, 'ST-001').available()).toBe(before);
    expect(shopifyLevel(SKUS[0] as string, 'WH-01').available()).toBe(before + 7);
    const quantities = mutations().flatMap(
      (m) => (m.variables.input as { quantities: { locationId: string }[] }).quantities,
    );
    expect(quantities).toHaveLength(1);
  });

  it('resends a write whose answer was lost with the same idempotency key: applied once', async () => {
    let dropped = false;
    const { h, positions, publisher, mutations, shopifyLevel } = await setup({
      loseAnswer: (sent) => {
        if (dropped || !sent.document.includes('inventorySetQuantities')) return false;
        dropped = true;
        return true;
      },
    });
    const target = shopifyLevel(SKUS[0] as string, 'WH-01').available() + 11;
    positions.erpCount(SKUS[0] as string, 'WH-01', target);
    const report = await publisher.publish([{ sku: SKUS[0] as string, location: 'WH-01' }]);
    expect(report.transientRetries).toBe(1);
    const [first, second] = mutations();
    expect(second?.variables.key).toBe(first?.variables.key);
    expect(shopifyLevel(SKUS[0] as string, 'WH-01').available()).toBe(target);
    expect(h.app.idempotency.stats()).toMatchObject({ replays: 1 });
  });

  it('paces on the cost bucket: starting empty, it waits for points instead of being THROTTLED', async () => {
    const { h, positions, makePublisher, mutations, codes } = await setup();
    const keys = SKUS.flatMap((sku) => codes.map((location) => ({ sku, location }))).slice(0, 1000);
    const change = (round: number) =>
      keys.forEach((k, i) => {
        positions.erpCount(k.sku, k.location, round + (i % 3));
      });
    change(100);
    await makePublisher().publish(keys); // learns the bases (reads) with Plus's full bucket
    // An Advanced-rate bucket (200 points/s), empty, and a publisher that starts cold (it does not know the bucket; its
    // first page of SKU → inventory item ids costs 502 points, hence a bucket that can hold one).
    await h.control('POST', 'plan', { restoreRate: 200, maximumAvailable: 600, currentlyAvailable: 0 });
    const publisher = makePublisher();
    change(200);
    const cold = await publisher.publish(keys);
    // Its first call is how it learns the bucket (a THROTTLED answer costs nothing and says how full it is).
    expect(cold).toMatchObject({ written: 1000, calls: 4 });
    expect(cold.throttled).toBeLessThanOrEqual(1);
    // Warm: the model knows the bucket, which the cold run left nearly empty: every call waits for its
    // points, none is refused.
    change(300);
    const throttledBefore = h.app.counters.throttled;
    const writesBefore = mutations().length;
    const warm = await publisher.publish(keys);
    expect(warm).toMatchObject({ throttled: 0, written: 1000, calls: 4 });
    expect(mutations().length - writesBefore).toBe(4);
    expect(h.app.counters.throttled - throttledBefore).toBe(0);
  });
});
