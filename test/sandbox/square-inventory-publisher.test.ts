import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { DEFAULT_POLICY, type InventoryPolicy } from '#shared/inventory/policy.ts';
import {
  apply,
  type ChannelState,
  emptyPosition,
  type Position,
  type ProjectionInput,
  recordChannelState,
} from '#shared/inventory/projection.ts';
import type { PositionStore } from '#shared/inventory/shopify-publisher.ts';
import {
  SquareInventoryPublisher,
  SquareLevelDirectory,
  squareInventoryApi,
} from '#shared/inventory/square-publisher.ts';
import { json, start } from './helpers.ts';

/** The projection in memory, through the same pure rules the DynamoDB repository applies. */
class MemoryPositions implements PositionStore {
  readonly byKey = new Map<string, Position>();
  private sequence = 0;

  get(sku: string, location: string): Position {
    return this.byKey.get(`${sku}|${location}`) ?? emptyPosition(sku, location);
  }

  input(sku: string, location: string, input: ProjectionInput): void {
    const next = apply(this.get(sku, location), input, {}, { now: Date.now() }).next;
    this.byKey.set(`${sku}|${location}`, next);
  }

  erpCount(sku: string, location: string, quantity: number): void {
    this.sequence += 1;
    this.input(sku, location, { kind: 'erp-count', sequence: this.sequence, quantity });
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

const TOKEN = 'EAAAEOmnihubSandboxAccessToken';
let app: SquareSandbox;
let server: StartedServer;
let base: string;

beforeAll(async () => {
  app = new SquareSandbox({ seed: 7, items: 60, stores: 3 });
  ({ server, url: base } = await start(app));
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
});

interface Sent {
  idempotencyKey: string;
  changes: { physical_count: { quantity: string; occurred_at: string } }[];
}

async function setup(
  options: {
    policy?: InventoryPolicy;
    loseAnswer?: (n: number) => boolean;
    maxCallsPerSecond?: number;
    /** Answers the n-th batch-create with a 503 (not applied) instead of sending it. */
    unavailable?: (n: number) => boolean;
    /** Runs during each pacing or backoff wait of the publisher. */
    duringWait?: () => void;
  } = {},
) {
  const sent: Sent[] = [];
  const recording: typeof fetch = async (url, init) => {
    if (String(url).includes('/inventory/changes/batch-create')) {
      const body = JSON.parse(String(init?.body)) as { idempotency_key: string; changes: Sent['changes'] };
      sent.push({ idempotencyKey: body.idempotency_key, changes: body.changes });
      if (options.unavailable?.(sent.length)) return new Response('{}', { status: 503 });
    }
    const res = await fetch(url, init);
    if (String(url).includes('batch-create') && res.ok && options.loseAnswer?.(sent.length))
      throw new TypeError('fetch failed: socket hang up');
    return res;
  };
  const api = squareInventoryApi({ baseUrl: base, accessToken: async () => TOKEN, fetch: recording });
  const { locations } = await json<{ locations: { id: string }[] }>(
    fetch(`${base}/v2/locations`, { headers: { authorization: `Bearer ${TOKEN}` } }),
  );
  // Hub locations (ERP ids) 'ERP-1'… mapped to the sandbox's stores.
  const locationMap = new Map(locations.map((l, i) => [`ERP-${i + 1}`, l.id]));
  const directory = new SquareLevelDirectory(api, locationMap);
  const skus: { sku: string; variationId: string }[] = [];
  for (let cursor: string | undefined, first = true; first || cursor; first = false) {
    const page = await api.listVariations(cursor);
    for (const v of page.variations) if (v.sku) skus.push({ sku: v.sku, variationId: v.id });
    cursor = page.cursor;
  }
  const positions = new MemoryPositions();
  const publisher = new SquareInventoryPublisher({
    api,
    positions,
    levels: directory,
    policy: options.policy ?? DEFAULT_POLICY,
    maxCallsPerSecond: options.maxCallsPerSecond ?? 50,
    sleep: (ms) => {
      options.duringWait?.();
      return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 50)));
    },
  });
  /** What Square holds now, per variation × location. */
  const squareCount = async (variationId: string, locationId: string) => {
    const { counts } = await json<{ counts: { location_id: string; quantity: string }[] }>(
      fetch(`${base}/v2/inventory/${variationId}?location_ids=${locationId}`, {
        headers: { authorization: `Bearer ${TOKEN}`, 'square-version': '2025-08-20' },
      }),
    );
    return Number(counts.find((c) => c.location_id === locationId)?.quantity);
  };
  return { publisher, positions, sent, skus, locationMap, squareCount };
}

describe('Square inventory publisher (against the Square sandbox)', () => {
  it('sets each store count to ERP on hand − reserved with PHYSICAL_COUNT changes, ≤ 100 a call, then has nothing to send', async () => {
    const { publisher, positions, sent, skus, locationMap, squareCount } = await setup();
    const keys: { sku: string; location: string }[] = [];
    skus.slice(0, 50).forEach(({ sku }, i) => {
      for (const location of locationMap.keys()) {
        positions.erpCount(sku, location, 10 + i);
        keys.push({ sku, location });
      }
    });
    // One reservation (a BOPIS hold) at the first store.
    const [first] = skus;
    positions.input(first?.sku ?? '', 'ERP-1', { kind: 'reservation', movementId: 'hold-1', delta: 3 });

    const report = await publisher.publish(keys);
    expect(report).toMatchObject({ positions: 150, written: 150, calls: 2, throttled: 0, unmapped: 0 });
    expect(sent.map((s) => s.changes.length)).toEqual([100, 50]);
    for (const s of sent) {
      expect(s.idempotencyKey.length).toBeLessThanOrEqual(128);
      for (const c of s.changes) expect(c.physical_count.occurred_at).toMatch(/Z$/);
    }
    expect(await squareCount(first?.variationId ?? '', locationMap.get('ERP-1') ?? '')).toBe(10 - 3);
    expect(await squareCount(skus[7]?.variationId ?? '', locationMap.get('ERP-3') ?? '')).toBe(17);

    const again = await publisher.publish(keys);
    expect(again).toMatchObject({ written: 0, calls: 0, unchanged: 150 });
  });

  it('counts a POS sale the ERP has not booked yet (never raises the store count above what the projection holds)', async () => {
    const { publisher, positions, skus, locationMap, squareCount } = await setup();
    const { sku, variationId } = skus[0] ?? { sku: '', variationId: '' };
    positions.erpCount(sku, 'ERP-2', 12);
    await publisher.publish([{ sku, location: 'ERP-2' }]);
    positions.input(sku, 'ERP-2', { kind: 'movement', source: 'pos', movementId: 'pos-m-o1#x', delta: -5 });
    const report = await publisher.publish([{ sku, location: 'ERP-2' }]);
    expect(await squareCount(variationId, locationMap.get('ERP-2') ?? '')).toBe(7);
    // Square showed 12 while the truth was 7 until this write: an oversell window, counted.
    expect(report.oversellWindows).toBe(1);
  });

  it('does not publish a position the ERP has not reported yet (its on hand is unknown, 0 would be a guess)', async () => {
    const { publisher, positions, sent, skus } = await setup();
    const { sku } = skus[0] ?? { sku: '' };
    // A register sale at a position no ERP count has reached: the projection knows only the movement.
    positions.input(sku, 'ERP-1', { kind: 'movement', source: 'pos', movementId: 'pos-m-o9#x', delta: -1 });
    const report = await publisher.publish([{ sku, location: 'ERP-1' }]);
    expect(report).toMatchObject({ unknownOnHand: 1, written: 0, calls: 0 });
    expect(sent).toEqual([]);
  });

  it('builds a retry from the projection as it is then: a sale projected during the backoff lowers the count sent (no stale raise)', async () => {
    let sold = false;
    const held: { ctx?: Awaited<ReturnType<typeof setup>> } = {};
    const ctx = await setup({
      unavailable: (n) => n === 2,
      duringWait: () => {
        // Once the second send was answered 503: the sale lands during the backoff before the resend.
        if (sold || held.ctx?.sent.length !== 2) return;
        sold = true;
        held.ctx.positions.input(held.ctx.skus[0]?.sku ?? '', 'ERP-1', {
          kind: 'movement',
          source: 'pos',
          movementId: 'pos-m-o8#x',
          delta: -4,
        });
      },
    });
    held.ctx = ctx;
    const { sku, variationId } = ctx.skus[0] ?? { sku: '', variationId: '' };
    ctx.positions.erpCount(sku, 'ERP-1', 20);
    await ctx.publisher.publish([{ sku, location: 'ERP-1' }]);
    ctx.positions.erpCount(sku, 'ERP-1', 30);
    const report = await ctx.publisher.publish([{ sku, location: 'ERP-1' }]);
    // The 503'd send asked for 30; the sale (−4) arrived during the backoff: the resend asks for 26.
    expect(ctx.sent.map((c) => c.changes[0]?.physical_count.quantity)).toEqual(['20', '30', '26']);
    expect(report).toMatchObject({ written: 1, transientRetries: 1 });
    expect(await ctx.squareCount(variationId, ctx.locationMap.get('ERP-1') ?? '')).toBe(26);
  });

  it('corrects drift: a count keyed in at the register (newer than the last write) is set back to the ERP on hand', async () => {
    const { publisher, positions, skus, locationMap, squareCount } = await setup();
    const { sku, variationId } = skus[1] ?? { sku: '', variationId: '' };
    positions.erpCount(sku, 'ERP-1', 9);
    await publisher.publish([{ sku, location: 'ERP-1' }]);
    // The webhook of the hub's own write: an echo, nothing to send.
    const echo = positions.get(sku, 'ERP-1');
    positions.input(sku, 'ERP-1', {
      kind: 'observation',
      channel: 'pos',
      sequence: Date.now() + 1,
      quantity: 9,
    });
    expect(
      apply(
        echo,
        { kind: 'observation', channel: 'pos', sequence: Date.now() + 1, quantity: 9 },
        {},
        { now: Date.now() },
      ).outcome,
    ).toBe('echo');
    expect((await publisher.publish([{ sku, location: 'ERP-1' }])).calls).toBe(0);
    // A clerk's count of 4 arrives as inventory.count.updated: drift, corrected.
    positions.input(sku, 'ERP-1', {
      kind: 'observation',
      channel: 'pos',
      sequence: Date.now() + 2,
      quantity: 4,
    });
    const report = await publisher.publish([{ sku, location: 'ERP-1' }]);
    expect(report.written).toBe(1);
    expect(await squareCount(variationId, locationMap.get('ERP-1') ?? '')).toBe(9);
  });

  it('resends a call whose answer was lost with the same idempotency key: Square applies it once', async () => {
    const { publisher, positions, sent, skus } = await setup({ loseAnswer: (n) => n === 1 });
    for (const { sku } of skus.slice(0, 5)) positions.erpCount(sku, 'ERP-1', 3);
    const report = await publisher.publish(skus.slice(0, 5).map(({ sku }) => ({ sku, location: 'ERP-1' })));
    expect(report).toMatchObject({ written: 5, transientRetries: 1 });
    expect(sent).toHaveLength(2);
    expect(sent[1]?.idempotencyKey).toBe(sent[0]?.idempotencyKey);
    const state = await json<{ counters: Record<string, number> }>(fetch(`${base}/_control/state`));
    expect(state.counters.idempotentReplays).toBe(1);
    expect(state.counters.inventoryChanges).toBe(5);
  });

  it('backs off on 429 RATE_LIMITED and still writes everything', async () => {
    const { publisher, positions, skus } = await setup();
    await fetch(`${base}/_control/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ throttleStorm: { rate: 1, durationMs: 300 }, paths: ['/v2/inventory'] }),
    });
    for (const { sku } of skus.slice(0, 3)) positions.erpCount(sku, 'ERP-1', 2);
    const report = await publisher.publish(skus.slice(0, 3).map(({ sku }) => ({ sku, location: 'ERP-1' })));
    expect(report.written).toBe(3);
    expect(report.throttled).toBeGreaterThan(0);
  });

  it('does not touch stores the policy does not publish to the POS, nor SKUs Square does not know', async () => {
    const policy: InventoryPolicy = {
      ...DEFAULT_POLICY,
      channels: { ...DEFAULT_POLICY.channels, pos: { locations: ['ERP-1'] } },
    };
    const { publisher, positions, skus } = await setup({ policy });
    const sku = skus[2]?.sku ?? '';
    positions.erpCount(sku, 'ERP-1', 4);
    positions.erpCount(sku, 'ERP-2', 4);
    positions.erpCount('NOT-IN-SQUARE', 'ERP-1', 4);
    const report = await publisher.publish([
      { sku, location: 'ERP-1' },
      { sku, location: 'ERP-2' },
      { sku: 'NOT-IN-SQUARE', location: 'ERP-1' },
    ]);
    expect(report).toMatchObject({ written: 1, notPublished: 1, unmapped: 1 });
  });
});
