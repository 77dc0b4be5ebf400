import { describe, expect, it } from 'vitest';
import { buildEvent, type EventData } from '#shared/events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '#shared/events/envelope.ts';
import {
  apply,
  emptyPosition,
  type MarkerState,
  markerIdsOf,
  type Position,
  type ProjectionInput,
  recordChannelState,
} from '#shared/inventory/projection.ts';
import { type InventoryEvent, projectInventoryEvents } from '#shared/inventory/projector.ts';

const AT = '2026-11-27T17:00:00.000Z';
let n = 0;
const metadata = (system: 'erp' | 'pos' | 'shopify' | 'hub') => ({
  eventId: deterministicUuid('test', String(++n)),
  transactionId: `tx-${n}`,
  idempotencyKey: `key-${n}`,
  occurredAt: AT,
  receivedAt: AT,
  origin: { system, account: 'acct' },
});

function counted(
  system: 'erp' | 'pos' | 'shopify',
  data: Partial<EventData<'InventoryCounted'>> & { sequence: number; quantity: number | null },
): InventoryEvent {
  const event = buildEvent('InventoryCounted', EVENT_SOURCES[system], metadata(system), {
    item: { sku: 'SKU-1' },
    location: { system, id: system === 'erp' ? '7' : `${system}-loc` },
    quantityName: system === 'shopify' ? 'available' : 'on_hand',
    countedAt: AT,
    ...data,
  });
  return { detailType: 'InventoryCounted', detail: event.detail };
}

function adjusted(
  system: 'erp' | 'pos' | 'hub',
  data: Partial<EventData<'InventoryAdjusted'>> & { movementId: string; delta: number },
): InventoryEvent {
  const event = buildEvent('InventoryAdjusted', EVENT_SOURCES[system], metadata(system), {
    item: { sku: 'SKU-1' },
    location: { system, id: system === 'erp' ? '7' : `${system}-loc` },
    reason: 'sale',
    occurredAt: AT,
    ...data,
  });
  return { detailType: 'InventoryAdjusted', detail: event.detail };
}

/** The projection in memory, through the pure rules. */
function memory(start?: (p: Position) => Position) {
  const positions = new Map<string, Position>();
  const markers = new Map<string, MarkerState>();
  return {
    positions,
    apply: async (key: { sku: string; location: string }, input: ProjectionInput) => {
      const id = `${key.sku}|${key.location}`;
      const current = positions.get(id) ?? (start ?? ((p) => p))(emptyPosition(key.sku, key.location));
      const read = Object.fromEntries(markerIdsOf(input).map((m) => [m, markers.get(`${id}|${m}`)]));
      const applied = apply(current, input, read, { now: Date.parse(AT) });
      for (const [m, state] of Object.entries(applied.markers)) markers.set(`${id}|${m}`, state);
      positions.set(id, applied.next);
      return applied;
    },
  };
}

const locations: Record<string, string> = { 'pos|pos-loc': '7', 'shopify|shopify-loc': '7' };
const hubLocation = async (l: { system: string; id: string }) => locations[`${l.system}|${l.id}`];

describe('inventory projector', () => {
  it('applies ERP counts at the ERP location and asks to publish what changed, once per position', async () => {
    const store = memory();
    const report = await projectInventoryEvents(
      [
        counted('erp', { sequence: 2, quantity: 10 }),
        counted('erp', { sequence: 1, quantity: 99 }),
        counted('erp', { sequence: 3, quantity: 9 }),
      ],
      { apply: store.apply, hubLocation },
    );
    expect(report.outcomes).toMatchObject({ applied: 2, stale: 1 });
    expect(report.publish).toEqual([{ sku: 'SKU-1', location: '7' }]);
    expect(store.positions.get('SKU-1|7')).toMatchObject({ onHand: 9, erpSequence: 3 });
  });

  it('maps POS locations to the ERP location; a sale counts once and is booked by the ERP count naming it', async () => {
    const store = memory();
    const sale = adjusted('pos', { movementId: 'pos-M-O1#SKU-1', delta: -2 });
    const report = await projectInventoryEvents(
      [
        counted('erp', { sequence: 1, quantity: 10 }),
        sale,
        sale,
        counted('erp', { sequence: 2, quantity: 8, books: 'pos-M-O1#SKU-1' }),
      ],
      { apply: store.apply, hubLocation },
    );
    expect(report.outcomes).toMatchObject({ applied: 3, duplicate: 1 });
    expect(store.positions.get('SKU-1|7')).toMatchObject({ onHand: 8, pending: {} });
  });

  it('parks what it cannot place: no SKU, an unmapped location, ERP deltas (no sequence)', async () => {
    const store = memory();
    const report = await projectInventoryEvents(
      [
        adjusted('pos', { movementId: 'a', delta: -1, item: { sku: null } }),
        adjusted('pos', { movementId: 'b', delta: -1, location: { system: 'pos', id: 'unknown' } }),
        adjusted('erp', { movementId: 'c', delta: -1 }),
      ],
      { apply: store.apply, hubLocation },
    );
    expect(report.parked.map((p) => p.code)).toEqual(['NO_SKU', 'UNKNOWN_MAPPING', 'UNSUPPORTED']);
    expect(report.parked[1]?.reason).toMatch(/pos location unknown/);
    expect(store.positions.size).toBe(0);
    expect(report.publish).toEqual([]);
  });

  it("publishes after a channel observation that differs, not after the echo of the hub's own write", async () => {
    const store = memory(
      (p) =>
        recordChannelState(p, {
          channel: 'shopify',
          quantity: 5,
          at: 1,
          published: { quantity: 5, at: 1, key: 'k' },
        }) as Position,
    );
    const echo = await projectInventoryEvents([counted('shopify', { sequence: 10, quantity: 5 })], {
      apply: store.apply,
      hubLocation,
    });
    expect(echo.outcomes.echo).toBe(1);
    expect(echo.publish).toEqual([]);
    const sale = await projectInventoryEvents([counted('shopify', { sequence: 11, quantity: 3 })], {
      apply: store.apply,
      hubLocation,
    });
    expect(sale.outcomes.observed).toBe(1);
    expect(sale.publish).toEqual([{ sku: 'SKU-1', location: '7' }]);
  });

  it('turns reservations into reserved units', async () => {
    const store = memory();
    await projectInventoryEvents(
      [adjusted('hub', { movementId: 'hold-1', delta: 2, reason: 'reservation' })],
      {
        apply: store.apply,
        hubLocation: async () => '7',
      },
    );
    expect(store.positions.get('SKU-1|7')).toMatchObject({ reserved: 2, pending: {} });
  });
  it('reads inventory_levels/update (which names the inventory item) through the item → SKU pairs the publisher records', async () => {
    const store = memory();
    const known: Record<string, string> = { '808950810': 'SKU-1' };
    const skuOfShopifyItem = async (id: string) => known[id];
    const echo = counted('shopify', {
      item: { sku: null, shopifyInventoryItemId: '808950810' },
      sequence: 5,
      quantity: 4,
    });
    const stranger = counted('shopify', {
      item: { sku: null, shopifyInventoryItemId: '999' },
      sequence: 6,
      quantity: 1,
    });
    const report = await projectInventoryEvents([echo, stranger], {
      apply: store.apply,
      hubLocation,
      skuOfShopifyItem,
    });
    expect(report.outcomes.observed).toBe(1);
    expect(store.positions.get('SKU-1|7')?.observed.shopify).toEqual({ quantity: 4, sequence: 5 });
    // An item the hub never published is left alone (not parked): the hub manages only what it publishes.
    expect(report.parked).toEqual([]);
    expect(report.unmanaged).toBe(1);
  });
});
