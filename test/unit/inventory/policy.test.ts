import { describe, expect, it } from 'vitest';
import {
  availableFor,
  DEFAULT_POLICY,
  InvalidPolicyError,
  type InventoryPolicy,
  type PendingPublish,
  parsePolicy,
  publishesTo,
  publishOrder,
  safetyStockFor,
  urgency,
} from '#shared/inventory/policy.ts';

const policy = (patch: Partial<InventoryPolicy> = {}): InventoryPolicy => ({ ...DEFAULT_POLICY, ...patch });

const position = (onHand: number, committed = 0, reserved = 0) => ({ onHand, committed, reserved });

describe('inventory policy', () => {
  describe('the dev default', () => {
    it('publishes every location to both channels with no safety stock', () => {
      expect(publishesTo(DEFAULT_POLICY, 'online', 'any-location')).toBe(true);
      expect(publishesTo(DEFAULT_POLICY, 'pos', 'any-location')).toBe(true);
      expect(safetyStockFor(DEFAULT_POLICY, { sku: 'SKU-1', location: '7' })).toBe(0);
    });

    it('parses as data: the default survives a JSON round trip unchanged', () => {
      expect(parsePolicy(JSON.parse(JSON.stringify(DEFAULT_POLICY)))).toEqual(DEFAULT_POLICY);
    });
  });

  describe('availability', () => {
    it('is on hand − committed − safety stock online (a pick-up hold is already in Shopify committed)', () => {
      const p = policy({ safetyStock: { default: 2, rules: [] } });
      expect(availableFor(p, 'online', { sku: 'A', location: '1' }, position(20, 3, 4))).toBe(15);
    });

    it('never goes below zero', () => {
      expect(availableFor(DEFAULT_POLICY, 'online', { sku: 'A', location: '1' }, position(3, 5, 0))).toBe(0);
      expect(availableFor(DEFAULT_POLICY, 'online', { sku: 'A', location: '1' }, position(-2, 0, 0))).toBe(0);
      expect(availableFor(DEFAULT_POLICY, 'pos', { sku: 'A', location: '1' }, position(-2, 0, 0))).toBe(0);
    });

    it('at the POS is the on hand less pick-up reservations: online commitments and safety stock do not apply', () => {
      const p = policy({ safetyStock: { default: 2, rules: [] } });
      expect(availableFor(p, 'pos', { sku: 'A', location: '1' }, position(20, 3, 0))).toBe(20);
      expect(availableFor(p, 'pos', { sku: 'A', location: '1' }, position(20, 3, 4))).toBe(16);
    });

    it('is null for a location the channel is not fed from (it must not be touched)', () => {
      const p = policy({ channels: { online: { locations: ['1', '2'] }, pos: { locations: 'all' } } });
      expect(availableFor(p, 'online', { sku: 'A', location: '3' }, position(20))).toBeNull();
      expect(availableFor(p, 'online', { sku: 'A', location: '2' }, position(20))).toBe(20);
      expect(availableFor(p, 'pos', { sku: 'A', location: '3' }, position(20))).toBe(20);
    });
  });

  describe('safety stock', () => {
    const p = policy({
      safetyStock: {
        default: 1,
        rules: [
          { location: 'WH', quantity: 10 },
          { category: 'shoes', quantity: 3 },
          { category: 'shoes', location: 'WH', quantity: 4 },
          { sku: 'SKU-9', quantity: 7 },
          { sku: 'SKU-9', location: 'ST-1', quantity: 0 },
        ],
      },
    });

    it.each([
      ['no rule applies: the default', { sku: 'SKU-1', location: 'ST-1' }, 1],
      ['location rule', { sku: 'SKU-1', location: 'WH' }, 10],
      ['category beats location', { sku: 'SKU-1', location: 'ST-1', category: 'shoes' }, 3],
      ['category at location beats category', { sku: 'SKU-1', location: 'WH', category: 'shoes' }, 4],
      ['sku beats category and location', { sku: 'SKU-9', location: 'WH', category: 'shoes' }, 7],
      ['sku at location beats sku, even when smaller', { sku: 'SKU-9', location: 'ST-1' }, 0],
    ])('%s', (_name, item, expected) => {
      expect(safetyStockFor(p, item)).toBe(expected);
    });

    it('takes the larger of equally specific rules (the safer one)', () => {
      const tie = policy({
        safetyStock: {
          default: 0,
          rules: [
            { category: 'a', quantity: 2 },
            { category: 'a', quantity: 5 },
          ],
        },
      });
      expect(safetyStockFor(tie, { sku: 'X', location: '1', category: 'a' })).toBe(5);
    });
  });

  describe('parsing a policy document', () => {
    it('reports every problem at once, by path', () => {
      let error: unknown;
      try {
        parsePolicy({
          version: '',
          safetyStock: { default: -1, rules: [{ quantity: 2 }] },
          channels: { online: { locations: [] }, pos: { locations: 'all' } },
          priority: { lowStockThreshold: 1.5, fastMoverUnitsPerDay: 1 },
        });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidPolicyError);
      const problems = (error as InvalidPolicyError).problems.join('\n');
      expect(problems).toMatch(/^version:/m);
      expect(problems).toMatch(/^safetyStock\.default:/m);
      expect(problems).toMatch(/^safetyStock\.rules\.0:.*sku, a location or a category/m);
      expect(problems).toMatch(/^channels\.online\.locations/m);
      expect(problems).toMatch(/^priority\.lowStockThreshold:/m);
    });
  });

  describe('publishing priority', () => {
    const change = (
      sku: string,
      current: number | null,
      target: number,
      extra: Partial<PendingPublish> = {},
    ) => ({ sku, location: '1', current, target, since: 0, ...extra }) satisfies PendingPublish;

    it('sends decreases into low stock first, fast movers before slow ones, increases last', () => {
      const ordered = publishOrder(DEFAULT_POLICY, [
        change('raise-fast', 10, 40, { unitsPerDay: 50 }),
        change('raise', 10, 40),
        change('drop', 50, 30),
        change('drop-fast', 50, 30, { unitsPerDay: 50 }),
        change('low', 8, 2),
        change('low-fast', 8, 2, { unitsPerDay: 50 }),
        change('unknown', null, 30),
        change('raise-from-zero', 0, 3),
      ]);
      expect(ordered.map((c) => c.sku)).toEqual([
        'low-fast',
        'low',
        'drop-fast',
        'drop',
        'unknown',
        'raise-from-zero',
        'raise-fast',
        'raise',
      ]);
    });

    it('within the same urgency: lower target, then faster, then older, then by key', () => {
      const ordered = publishOrder(DEFAULT_POLICY, [
        change('d', 10, 1, { since: 5 }),
        change('c', 10, 1, { since: 2 }),
        change('b', 10, 0),
        change('a', 10, 1, { since: 5 }),
      ]);
      expect(ordered.map((c) => c.sku)).toEqual(['b', 'c', 'a', 'd']);
    });

    it('uses the policy thresholds', () => {
      const strict = policy({ priority: { lowStockThreshold: 0, fastMoverUnitsPerDay: 1000 } });
      expect(urgency(strict, change('x', 8, 2, { unitsPerDay: 50 }))).toBe(3);
      expect(urgency(DEFAULT_POLICY, change('x', 8, 2, { unitsPerDay: 50 }))).toBe(0);
    });
  });
});
