import { describe, expect, it } from 'vitest';
import { PosNotFoundError, PosUnavailableError } from '#shared/connectors/square/errors.ts';
import { type PosSweepDeps, type PosSweepSource, sweepPosOrders } from '#shared/flows/pos-sweep.ts';
import type { SweepCursorStore } from '#shared/repositories/pos-sweep-cursor.ts';
import { RecordingExceptions, RecordingPublisher } from '#test/support/ingress-fakes.ts';
import { FakeSquare, MemoryPosOrderRegistry, squareSale } from '#test/support/square.ts';

/** The sweep: SearchOrders as Square requires it, through the capture path, skipping what webhooks captured. */
const NOW = new Date('2026-11-27T12:00:00.000Z');
const MERCHANT = 'MERCHANT00001';
const usd = (amount: number) => ({ amount, currency: 'USD' });

class SweepSquare extends FakeSquare implements PosSweepSource {
  readonly searches: Record<string, unknown>[] = [];
  readonly pages: { orders: unknown[]; cursor?: string }[] = [];
  readonly refunds = new Map<string, unknown>();
  failSearches: Error[] = [];
  locations = Array.from({ length: 12 }, (_, i) => ({
    id: `LOC${String(i).padStart(10, '0')}`,
    merchant_id: MERCHANT,
    status: 'ACTIVE',
  }));

  async listLocations() {
    return this.locations;
  }
  async searchOrders(request: Readonly<Record<string, unknown>>) {
    this.searches.push(structuredClone(request) as Record<string, unknown>);
    const failure = this.failSearches.shift();
    if (failure) throw failure;
    return this.pages.shift() ?? { orders: [] };
  }
  async retrieveRefund(id: string) {
    return this.refunds.get(id);
  }
}

class MemoryCursors implements SweepCursorStore {
  readonly values = new Map<string, string>();
  async get(merchantId: string) {
    return this.values.get(merchantId);
  }
  async put(merchantId: string, at: string) {
    this.values.set(merchantId, at);
  }
}

class MarkingRegistry extends MemoryPosOrderRegistry {
  readonly captured = new Map<string, number>();
  async markCaptured(merchantId: string, key: string, version: number) {
    const k = `${merchantId}#${key}`;
    this.captured.set(k, Math.max(version, this.captured.get(k) ?? 0));
  }
  async capturedVersion(merchantId: string, key: string) {
    return this.captured.get(`${merchantId}#${key}`);
  }
}

function sweep(overrides: Partial<PosSweepDeps> = {}) {
  const square = new SweepSquare();
  const registry = new MarkingRegistry();
  const publisher = new RecordingPublisher();
  const exceptions = new RecordingExceptions();
  const cursors = new MemoryCursors();
  const sleeps: number[] = [];
  const deps: PosSweepDeps = {
    square,
    registry,
    publisher,
    exceptions,
    cursors,
    telemetry: { count: () => {} },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    overlapSeconds: 300,
    initialLookbackSeconds: 3600,
    now: () => NOW,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  };
  return { deps, square, registry, publisher, exceptions, cursors, sleeps };
}

describe('POS sweep: SearchOrders for what webhooks missed, through the same capture path', () => {
  it('searches COMPLETED orders by updated_at (sort field = filter field), ten locations per call, and moves the cursor', async () => {
    const { deps, square, cursors } = sweep();
    await sweepPosOrders(deps);
    expect(square.searches).toHaveLength(2);
    expect(square.searches.map((search) => (search.location_ids as string[]).length)).toEqual([10, 2]);
    expect(square.searches[0]).toMatchObject({
      query: {
        filter: {
          state_filter: { states: ['COMPLETED'] },
          date_time_filter: {
            updated_at: { start_at: '2026-11-27T11:00:00.000Z', end_at: '2026-11-27T12:00:00.000Z' },
          },
        },
        sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
      },
    });
    expect(cursors.values.get(MERCHANT)).toBe('2026-11-27T12:00:00.000Z');
    // The next run starts at the cursor less the overlap.
    square.locations = square.locations.slice(0, 1);
    await sweepPosOrders({ ...deps, now: () => new Date('2026-11-27T12:01:00.000Z') });
    expect(square.searches[2]).toMatchObject({
      query: { filter: { date_time_filter: { updated_at: { start_at: '2026-11-27T11:55:00.000Z' } } } },
    });
  });

  it('publishes a sale no webhook captured, under the webhook path’s business key, and skips one already captured', async () => {
    const { deps, square, publisher, registry } = sweep();
    square.locations = square.locations.slice(0, 1);
    const missed = squareSale({ id: 'MISSED', version: undefined });
    const seen = squareSale({ id: 'SEEN', version: undefined });
    await registry.markCaptured(MERCHANT, 'SEEN', Date.parse('2026-11-27T10:15:00.000Z'));
    square.pages.push({ orders: [missed], cursor: 'next' }, { orders: [seen] });
    const summary = await sweepPosOrders(deps);
    expect(square.searches.map((search) => search.cursor)).toEqual([undefined, 'next']);
    expect(publisher.published.map((event) => event.detail.metadata.idempotencyKey)).toEqual([
      `pos:${MERCHANT}:order:MISSED:OrderCreated:${Date.parse('2026-11-27T10:15:00.000Z')}`,
    ]);
    expect(summary).toMatchObject({ orders: 2, published: 1, skipped: 1 });
    // A second run over the overlap publishes nothing again.
    square.pages.push({ orders: [missed, seen] });
    await sweepPosOrders(deps);
    expect(publisher.published).toHaveLength(1);
  });

  it('captures the refunds of a return order, and leaves the hub’s own pick-up orders alone', async () => {
    const { deps, square, publisher } = sweep();
    square.locations = square.locations.slice(0, 1);
    square.orders.set('SQORDER0000000000000000000001', squareSale({ version: undefined }));
    const returnOrder = {
      id: 'RETURN1',
      location_id: 'LOC0000000001',
      returns: [
        {
          uid: 'r1',
          source_order_id: 'SQORDER0000000000000000000001',
          return_line_items: [
            {
              uid: 'rl1',
              source_line_item_uid: 'line-2',
              catalog_object_id: 'VAR-B',
              catalog_version: 1767225600000,
              quantity: '1',
              total_tax_money: usd(100),
              total_money: usd(1350),
            },
          ],
        },
      ],
      refunds: [{ id: 'TENDER1_r1', status: 'APPROVED', amount_money: usd(1350) }],
      state: 'COMPLETED',
      created_at: '2026-11-27T11:00:00.000Z',
      updated_at: '2026-11-27T11:00:00.000Z',
      total_money: usd(0),
    };
    square.orders.set('RETURN1', returnOrder);
    square.refunds.set('TENDER1_r1', {
      id: 'TENDER1_r1',
      status: 'COMPLETED',
      amount_money: usd(1350),
      payment_id: 'TENDER1',
      order_id: 'RETURN1',
      created_at: '2026-11-27T11:00:00.000Z',
      updated_at: '2026-11-27T11:00:02.000Z',
    });
    const pickup = squareSale({ id: 'PICKUP1', metadata: { omnihub_origin: 'shopify:shop:1' } });
    square.pages.push({ orders: [returnOrder, pickup] });
    await sweepPosOrders(deps);
    expect(
      publisher.published.map((event) => [event.detailType, event.detail.metadata.idempotencyKey]),
    ).toEqual([['RefundCreated', `pos:${MERCHANT}:refund:TENDER1_r1`]]);
  });

  it('finds a store return of an online order (unlinked refund of an unlinked return) under the webhook path’s key', async () => {
    const { deps, square, publisher } = sweep();
    square.locations = square.locations.slice(0, 1);
    const storeReturn = {
      id: 'RETURN2',
      location_id: 'LOC0000000001',
      reference_id: '#1001',
      returns: [
        {
          uid: 'r2',
          return_line_items: [
            {
              uid: 'rl2',
              catalog_object_id: 'VAR-B',
              catalog_version: 1767225600000,
              quantity: '1',
              total_tax_money: usd(100),
              total_money: usd(1350),
            },
          ],
        },
      ],
      refunds: [{ id: 'UNLINKED1', status: 'APPROVED', amount_money: usd(1350) }],
      state: 'COMPLETED',
      created_at: '2026-11-27T11:00:00.000Z',
      updated_at: '2026-11-27T11:00:00.000Z',
      total_money: usd(0),
    };
    square.orders.set('RETURN2', storeReturn);
    square.refunds.set('UNLINKED1', {
      id: 'UNLINKED1',
      status: 'COMPLETED',
      unlinked: true,
      amount_money: usd(1350),
      order_id: 'RETURN2',
      location_id: 'LOC0000000001',
      created_at: '2026-11-27T11:00:00.000Z',
      updated_at: '2026-11-27T11:00:02.000Z',
    });
    square.pages.push({ orders: [storeReturn] });
    await sweepPosOrders(deps);
    expect(
      publisher.published.map((event) => [event.detailType, event.detail.metadata.idempotencyKey]),
    ).toEqual([['StoreReturnRecorded', `pos:${MERCHANT}:store-return:UNLINKED1`]]);
  });

  it('parks a refund Square will not return (404) and sweeps the rest of the page; the cursor moves', async () => {
    const { deps, square, publisher, exceptions, cursors } = sweep();
    square.locations = square.locations.slice(0, 1);
    square.retrieveRefund = async (id: string) => {
      throw new PosNotFoundError(`refund ${id} not found`);
    };
    const returnOrder = {
      ...squareSale({ id: 'RETURN404', version: undefined }),
      line_items: [],
      returns: [{ uid: 'r1', source_order_id: 'LEGACY', return_line_items: [] }],
      refunds: [{ id: 'LEGACY_r1', status: 'COMPLETED', amount_money: usd(500) }],
    };
    const sale = squareSale({ id: 'AFTER', version: undefined });
    square.pages.push({ orders: [returnOrder, sale] });
    await sweepPosOrders(deps);
    expect(exceptions.parked.map((parked) => [parked.kind, parked.attributes.refundId])).toEqual([
      ['pos-sweep', 'LEGACY_r1'],
    ]);
    expect(publisher.published.map((event) => event.detail.metadata.idempotencyKey)).toEqual([
      expect.stringContaining(':order:AFTER:'),
    ]);
    expect(cursors.values.get(MERCHANT)).toBe(NOW.toISOString());
  });

  it('backs off on 429 and goes on; gives up (cursor unmoved) when Square stays throttled', async () => {
    const throttled = () => new PosUnavailableError('Square answered 429', 429);
    const { deps, square, sleeps, cursors } = sweep({ maxAttempts: 3 });
    square.locations = square.locations.slice(0, 1);
    square.failSearches = [throttled(), throttled()];
    await sweepPosOrders(deps);
    expect(sleeps).toHaveLength(2);
    // 0.5 s then 1 s, each with ±50 % jitter: the bands, not the order, are deterministic.
    expect(sleeps[0]).toBeGreaterThanOrEqual(250);
    expect(sleeps[0]).toBeLessThanOrEqual(750);
    expect(sleeps[1]).toBeGreaterThanOrEqual(500);
    expect(sleeps[1]).toBeLessThanOrEqual(1500);
    expect(cursors.values.get(MERCHANT)).toBe(NOW.toISOString());

    const stuck = sweep({ maxAttempts: 3 });
    stuck.square.locations = stuck.square.locations.slice(0, 1);
    stuck.square.failSearches = [throttled(), throttled(), throttled()];
    await expect(sweepPosOrders(stuck.deps)).rejects.toBeInstanceOf(PosUnavailableError);
    expect(stuck.cursors.values.size).toBe(0);
  });

  it('sweeps nothing for a merchant the environment does not serve', async () => {
    const { deps, square, cursors } = sweep({ merchants: new Set(['OTHER']) });
    await sweepPosOrders(deps);
    expect(square.searches).toHaveLength(0);
    expect(cursors.values.size).toBe(0);
  });
});
