import { describe, expect, it } from 'vitest';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import type { ShopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { readShopifyPrices, VARIANT_PRICES_QUERY } from '#shared/reconcile/prices.ts';

describe('readShopifyPrices', () => {
  it('pages through every variant, keeps those with a SKU, and reads decimal prices as minor units', async () => {
    const calls: Record<string, unknown>[] = [];
    const pages = [
      {
        pageInfo: { hasNextPage: true, endCursor: 'c1' },
        nodes: [
          { sku: 'SKU-1', price: '43.21', compareAtPrice: null },
          { sku: null, price: '1.00', compareAtPrice: null },
        ],
      },
      {
        pageInfo: { hasNextPage: false, endCursor: 'c2' },
        nodes: [{ sku: 'SKU-2', price: '29.99', compareAtPrice: '43.21' }],
      },
    ];
    const graphql: ShopifyGraphql = async (document, variables) => {
      expect(document).toBe(VARIANT_PRICES_QUERY);
      calls.push(variables ?? {});
      const status = { maximumAvailable: 2000, currentlyAvailable: 1748, restoreRate: 100 };
      return { data: { productVariants: pages[calls.length - 1] }, errors: [], throttleStatus: status };
    };
    const read = await readShopifyPrices({ graphql, pacer: new CostPacer() }, 'USD');
    expect(calls).toEqual([{ after: null }, { after: 'c1' }]);
    expect(read).toEqual({
      pages: 2,
      prices: [
        { sku: 'SKU-1', price: { amount: 4321, currency: 'USD' }, compareAtPrice: null },
        {
          sku: 'SKU-2',
          price: { amount: 2999, currency: 'USD' },
          compareAtPrice: { amount: 4321, currency: 'USD' },
        },
      ],
    });
  });
});
