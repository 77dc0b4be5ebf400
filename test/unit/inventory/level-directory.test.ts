import { describe, expect, it } from 'vitest';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { type ShopifyGraphql, ShopifyLevelDirectory } from '#shared/inventory/shopify-publisher.ts';

/**
 * The SKU → inventory item lookup under a Shopify 5xx: the failed lookup leaves nothing cached (the
 * redelivered batch must resolve its SKUs, not drop them as unmapped) and releases its place in the pacer
 * (a cold pacer lets the next call out only when none is in flight).
 */
describe('ShopifyLevelDirectory under a failed lookup', () => {
  it('caches nothing from a lookup that threw, and the next lookup goes out and resolves', async () => {
    let calls = 0;
    const graphql: ShopifyGraphql = async () => {
      calls += 1;
      if (calls === 1) throw new Error('Shopify answered 503');
      return {
        data: {
          productVariants: {
            pageInfo: { hasNextPage: false, endCursor: null },
            nodes: [{ sku: 'SKU-1', inventoryItem: { id: 'gid://shopify/InventoryItem/1' } }],
          },
        },
        errors: [],
      } as unknown as Awaited<ReturnType<ShopifyGraphql>>;
    };
    // A real clock, but a pacer that would wait forever for a call still counted in flight.
    const directory = new ShopifyLevelDirectory(
      graphql,
      new CostPacer(),
      new Map([['1', 'gid://shopify/Location/1']]),
    );
    const key = { sku: 'SKU-1', location: '1' };
    await expect(directory.resolve([key])).rejects.toThrow(/503/);
    const resolved = await Promise.race([
      directory.resolve([key]),
      new Promise<'stuck'>((resolve) => setTimeout(() => resolve('stuck'), 5_000)),
    ]);
    expect(resolved).not.toBe('stuck');
    expect([...(resolved as Map<string, unknown>).values()]).toEqual([
      { inventoryItemId: 'gid://shopify/InventoryItem/1', locationId: 'gid://shopify/Location/1' },
    ]);
    expect(calls).toBe(2);
  });
});
