import { describe, expect, it } from 'vitest';
import {
  type Applied,
  apply,
  effectiveOnHand,
  emptyPosition,
  type MarkerState,
  markerIdsOf,
  orderMovementId,
  type Position,
  type ProjectionInput,
  recordChannelState,
} from '#shared/inventory/projection.ts';

const NOW = Date.parse('2026-11-27T17:00:00.000Z');

/** Applies inputs one after the other with an in-memory marker store, as the repository does. */
function serial(
  inputs: readonly ProjectionInput[],
  start: Position = emptyPosition('SKU-1', '7'),
  now = NOW,
) {
  let position = start;
  const markers = new Map<string, MarkerState>();
  const outcomes: Applied['outcome'][] = [];
  for (const input of inputs) {
    const read = Object.fromEntries(markerIdsOf(input).map((id) => [id, markers.get(id)]));
    const applied = apply(position, input, read, { now });
    for (const [id, state] of Object.entries(applied.markers)) markers.set(id, state);
    position = applied.next;
    outcomes.push(applied.outcome);
  }
  return { position, outcomes, markers };
}

const count = (sequence: number, quantity: number, books?: string): ProjectionInput => ({
  kind: 'erp-count',
  sequence,
  quantity,
  ...(books ? { books } : {}),
});
const erpDelta = (sequence: number, delta: number, movementId = `adj-${sequence}`): ProjectionInput => ({
  kind: 'erp-adjustment',
  sequence,
  movementId,
  delta,
});
const sale = (movementId: string, delta = -1): ProjectionInput => ({
  kind: 'movement',
  source: 'pos',
  movementId,
  delta,
});
const seen = (channel: 'shopify' | 'pos', sequence: number, quantity: number | null): ProjectionInput => ({
  kind: 'observation',
  channel,
  sequence,
  quantity,
});

describe('inventory projection rules', () => {
  describe('ERP counts (absolute, per ERP sequence)', () => {
    it('apply only if newer: an older or repeated count is stale and changes nothing', () => {
      const { position, outcomes } = serial([count(10, 50), count(8, 99), count(10, 99), count(12, 40)]);
      expect(outcomes).toEqual(['applied', 'stale', 'stale', 'applied']);
      expect(position).toMatchObject({ onHand: 40, erpSequence: 12 });
    });

    it('reset drift: a count overrides whatever the deltas before it added up to', () => {
      const { position } = serial([count(1, 10), erpDelta(2, -3), erpDelta(3, 100), count(4, 6)]);
      expect(position).toMatchObject({ onHand: 6, erpSequence: 4, erpDeltas: [] });
    });

    it('a count arriving after newer adjustments keeps them (it does not include them)', () => {
      const { position } = serial([erpDelta(13, -2), erpDelta(14, 5), count(12, 20)]);
      expect(position.onHand).toBe(23);
      expect(position.erpDeltas).toEqual([
        { sequence: 13, delta: -2 },
        { sequence: 14, delta: 5 },
      ]);
    });
  });

  describe('ERP adjustments (deltas)', () => {
    it('count once per movement id', () => {
      const { position, outcomes } = serial([count(1, 10), erpDelta(2, -3, 'm'), erpDelta(2, -3, 'm')]);
      expect(outcomes).toEqual(['applied', 'applied', 'duplicate']);
      expect(position.onHand).toBe(7);
    });

    it('are ignored when an applied count is at least as new (the count includes them)', () => {
      const { position, outcomes } = serial([count(5, 10), erpDelta(4, -3), erpDelta(5, -3)]);
      expect(outcomes).toEqual(['applied', 'included', 'included']);
      expect(position.onHand).toBe(10);
    });
  });

  describe('channel movements (seen before the ERP books them)', () => {
    const id = orderMovementId('POS-ORDER-1', 'SKU-1');

    it('lower availability at once and count once per movement id', () => {
      const { position, outcomes } = serial([count(1, 10), sale(id, -2), sale(id, -2)]);
      expect(outcomes).toEqual(['applied', 'applied', 'duplicate']);
      expect(position.onHand).toBe(10);
      expect(effectiveOnHand(position)).toBe(8);
    });

    it('leave when the ERP books them: the booked count already includes the sale', () => {
      const { position } = serial([count(1, 10), sale(id, -2), count(2, 8, id)]);
      expect(position.pending).toEqual({});
      expect(effectiveOnHand(position)).toBe(8);
    });

    it('booked before they arrive are never added', () => {
      const { position, outcomes } = serial([count(1, 10), count(2, 8, id), sale(id, -2)]);
      expect(outcomes).toEqual(['applied', 'applied', 'duplicate']);
      expect(effectiveOnHand(position)).toBe(8);
    });

    it('are booked by an older ERP change too (the newer count includes it as well)', () => {
      const { position, outcomes } = serial([count(3, 8), sale(id, -2), count(2, 99, id)]);
      expect(outcomes).toEqual(['applied', 'applied', 'stale']);
      expect(position.pending).toEqual({});
      expect(effectiveOnHand(position)).toBe(8);
    });

    it('raise availability only once booked when they are returns (never publish stock the ERP lacks)', () => {
      const ret = orderMovementId('POS-RETURN-1', 'SKU-1');
      const before = serial([count(1, 10), sale(ret, +3)]);
      expect(effectiveOnHand(before.position)).toBe(10);
      const after = serial([count(2, 13, ret)], before.position);
      expect(effectiveOnHand(after.position)).toBe(13);
    });

    it('expire when the ERP never books them: the ERP stays the truth', () => {
      const { position } = serial([count(1, 10), sale(id, -2)], undefined, NOW);
      expect(effectiveOnHand(position)).toBe(8);
      const later = apply(position, count(2, 10), {}, { now: NOW + 25 * 60 * 60 * 1000 });
      expect(effectiveOnHand(later.next)).toBe(10);
      const stillPending = apply(position, seen('pos', 1, 10), {}, { now: NOW + 60_000 });
      expect(effectiveOnHand(stillPending.next)).toBe(8);
    });
  });

  describe('reservations', () => {
    it('add up once per movement id, whichever of hold and release comes first', () => {
      const hold = { kind: 'reservation', movementId: 'hold', delta: 2 } as const;
      const release = { kind: 'reservation', movementId: 'release', delta: -2 } as const;
      expect(serial([hold, hold]).position.reserved).toBe(2);
      expect(serial([release, hold, release]).position.reserved).toBe(0);
    });
  });

  describe('channel observations', () => {
    it('keep the newest per channel; older ones are stale', () => {
      const { position, outcomes } = serial([
        seen('shopify', 5, 7),
        seen('shopify', 4, 9),
        seen('pos', 1, 3),
      ]);
      expect(outcomes).toEqual(['observed', 'stale', 'observed']);
      expect(position.observed).toEqual({
        shopify: { quantity: 7, sequence: 5 },
        pos: { quantity: 3, sequence: 1 },
      });
    });

    it("recognise the echo of the hub's own write", () => {
      const written = recordChannelState(emptyPosition('SKU-1', '7'), {
        channel: 'shopify',
        quantity: 12,
        at: NOW,
        published: { quantity: 12, at: NOW, key: 'k' },
      });
      expect(written).toBeDefined();
      const { outcomes } = serial([seen('shopify', 1, 12), seen('shopify', 2, 11)], written);
      expect(outcomes).toEqual(['echo', 'observed']);
    });

    it('never change availability', () => {
      const { position } = serial([count(1, 10), seen('shopify', 1, 3), seen('pos', 1, 2)]);
      expect(effectiveOnHand(position)).toBe(10);
    });
  });

  describe('source time (the start of the sync lag)', () => {
    it('keeps the newest source time of the inputs that changed availability, not of duplicates or stale ones', () => {
      const first = apply(emptyPosition('A', '1'), count(2, 10), {}, { now: NOW, sourceAt: NOW - 5_000 });
      expect(first.next.changedAt).toBe(NOW - 5_000);
      const stale = apply(first.next, count(1, 3), {}, { now: NOW, sourceAt: NOW - 1_000 });
      expect(stale.outcome).toBe('stale');
      expect(stale.next.changedAt).toBe(NOW - 5_000);
      const older = apply(first.next, sale('m-1'), {}, { now: NOW, sourceAt: NOW - 9_000 });
      expect(older.next.changedAt).toBe(NOW - 5_000);
      const newer = apply(older.next, sale('m-2'), {}, { now: NOW, sourceAt: NOW - 100 });
      expect(newer.next.changedAt).toBe(NOW - 100);
      const duplicate = apply(newer.next, sale('m-2'), { 'm-2': 'pending' }, { now: NOW, sourceAt: NOW });
      expect(duplicate.next.changedAt).toBe(NOW - 100);
    });
  });

  describe('channel state recorded by a publisher', () => {
    it('is the compare-and-set base and never moves backwards', () => {
      const first = recordChannelState(emptyPosition('SKU-1', '7'), {
        channel: 'shopify',
        quantity: 5,
        committed: 2,
        at: 200,
      });
      expect(first).toMatchObject({ confirmed: { shopify: { quantity: 5, at: 200 } }, committed: 2 });
      expect(
        first && recordChannelState(first, { channel: 'shopify', quantity: 9, at: 100 }),
      ).toBeUndefined();
    });
  });

  describe('whatever the order and the duplicates', () => {
    /** A small deterministic PRNG, so a failing permutation can be reproduced from its seed. */
    const rng = (seed: number) => () => {
      seed = (seed * 1664525 + 1013904223) % 2 ** 32;
      return seed / 2 ** 32;
    };
    const shuffled = <T>(items: readonly T[], random: () => number): T[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i -= 1) {
        const j = Math.floor(random() * (i + 1));
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    };
    const inputs: ProjectionInput[] = [
      count(10, 100),
      count(20, 96, orderMovementId('S1', 'SKU-1')),
      erpDelta(21, -5),
      erpDelta(25, 12),
      count(24, 91, orderMovementId('S2', 'SKU-1')),
      erpDelta(30, -1),
      sale(orderMovementId('S1', 'SKU-1'), -4),
      sale(orderMovementId('S2', 'SKU-1'), -1),
      sale(orderMovementId('S3', 'SKU-1'), -2),
      sale(orderMovementId('R1', 'SKU-1'), +1),
      { kind: 'reservation', movementId: 'h1', delta: 3 },
      { kind: 'reservation', movementId: 'r1', delta: -3 },
      { kind: 'reservation', movementId: 'h2', delta: 1 },
      seen('shopify', 3, 40),
      seen('shopify', 9, 38),
      seen('pos', 2, 90),
    ];
    const summary = (p: Position) => ({
      onHand: p.onHand,
      effective: effectiveOnHand(p),
      erpSequence: p.erpSequence,
      pending: Object.keys(p.pending).sort(),
      reserved: p.reserved,
      observed: p.observed,
    });
    const expected = summary(serial(inputs).position);

    it('the serial result is the one the rules promise', () => {
      // Count 24 (91) + the ERP deltas after it (25: +12, 30: −1); S3 and R1 pending, only the sale counts.
      expect(expected).toMatchObject({ onHand: 102, effective: 100, erpSequence: 24, reserved: 1 });
      expect(expected.pending).toEqual([orderMovementId('R1', 'SKU-1'), orderMovementId('S3', 'SKU-1')]);
    });

    it.each(Array.from({ length: 40 }, (_, i) => i + 1))(
      'permutation %i with every input delivered up to three times gives the same position',
      (seed) => {
        const random = rng(seed);
        const deliveries = inputs.flatMap((input) =>
          Array.from({ length: 1 + Math.floor(random() * 3) }, () => input),
        );
        expect(summary(serial(shuffled(deliveries, random)).position)).toEqual(expected);
      },
    );
  });
});
