import { describe, expect, it } from 'vitest';
import {
  batchUpsertRequests,
  MAX_OBJECTS_PER_BATCH,
  repricedVariation,
  type SquareVariation,
} from '#shared/catalog/square-catalog.ts';
import { formatIssues, loadSquareSpec } from '#test/support/square-spec.ts';

/** Square `batch-upsert` bodies: valid for Square's OpenAPI (closed objects, no read-only fields), batched within its limits. */
const spec = loadSquareSpec();

/** A variation as Square answers it (and the sandbox serves it). */
const variation = (n: number, item = 'ITEMAAAAAAAAAAAAAAAAAAAA'): SquareVariation => ({
  type: 'ITEM_VARIATION',
  id: `VAR${String(n).padStart(21, '0')}`,
  updated_at: '2026-01-01T00:00:00.000Z',
  version: 1767225600000 + n,
  is_deleted: false,
  present_at_all_locations: true,
  item_variation_data: {
    item_id: item,
    name: 'Navy / M',
    sku: `SKU-${n}`,
    upc: '2000000000017',
    ordinal: 0,
    pricing_type: 'FIXED_PRICING',
    price_money: { amount: 5000, currency: 'USD' },
    track_inventory: true,
    sellable: true,
    stockable: true,
  },
});

describe('Square catalog batch-upsert', () => {
  it('reprices a variation as read, keeping its version for the concurrency check, in a body Square accepts', () => {
    const object = repricedVariation(variation(1), { amount: 3999, currency: 'USD' });
    expect(object).toMatchObject({
      id: variation(1).id,
      version: variation(1).version,
      item_variation_data: { price_money: { amount: 3999, currency: 'USD' }, sku: 'SKU-1' },
    });
    expect(object).not.toHaveProperty('updated_at');
    const [request] = batchUpsertRequests([[object]], 'price');
    const issues = spec.validateRequest({
      method: 'POST',
      url: 'https://connect.squareup.com/v2/catalog/batch-upsert',
      body: request,
    });
    expect(formatIssues('batch-upsert', issues)).toEqual([]);
  });

  it('batches ≤ 1,000 objects without splitting an item from its variations, ≤ 10,000 a request, a stable key', () => {
    const groups = Array.from({ length: 1300 }, (_, g) =>
      Array.from({ length: 9 }, (_, v) =>
        repricedVariation(variation(g * 9 + v, `ITEM${g}`), { amount: 1, currency: 'USD' }),
      ),
    );
    const requests = batchUpsertRequests(groups, 'price');
    const batches = requests.flatMap((r) => r.batches);
    expect(batches.every((b) => b.objects.length <= MAX_OBJECTS_PER_BATCH)).toBe(true);
    expect(batches.reduce((n, b) => n + b.objects.length, 0)).toBe(11_700);
    for (const b of batches) {
      const items = new Set(b.objects.map((o) => (o.item_variation_data as { item_id: string }).item_id));
      for (const item of items)
        expect(
          b.objects.filter((o) => (o.item_variation_data as { item_id: string }).item_id === item),
        ).toHaveLength(9);
    }
    expect(requests).toHaveLength(2);
    expect(requests.every((r) => r.batches.reduce((n, b) => n + b.objects.length, 0) <= 10_000)).toBe(true);
    expect(batchUpsertRequests(groups, 'price').map((r) => r.idempotency_key)).toEqual(
      requests.map((r) => r.idempotency_key),
    );
    expect(new Set(requests.map((r) => r.idempotency_key)).size).toBe(2);
  });
});
