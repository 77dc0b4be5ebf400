import { afterEach, describe, expect, it } from 'vitest';
import {
  PRODUCT_SET_MUTATION,
  ProductShapeError,
  productSetCost,
  productSetVariables,
} from '#shared/catalog/shopify-product.ts';
import type { Product } from '#shared/events/product.ts';
import { type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/** ERP product → `productSet` (checked against the pinned Admin schema), applied by the sandbox. */
let harness: ShopifyHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

const usd = (amount: number) => ({ amount, currency: 'USD' });

const launch = (status: Product['status'], sizes = ['S', 'M', 'L']): Product => ({
  source: { system: 'erp', account: 'TSTDRV1', productId: 'trail-jacket-9001' },
  title: 'Trail Jacket',
  handle: 'trail-jacket-9001',
  vendor: 'Omnihub Outfitters',
  productType: 'Outerwear',
  status,
  tags: ['launch-2026-12'],
  options: ['Color', 'Size'],
  variants: sizes.map((size, i) => ({
    item: { sku: `SKU-L9001-${size}`, erpItemId: String(9000 + i) },
    title: `Navy / ${size}`,
    optionValues: ['Navy', size],
    price: usd(12900),
    compareAtPrice: null,
    barcode: `200000900${i}000`,
    taxable: true,
    inventoryTracked: true,
    position: i + 1,
  })),
  updatedAt: '2026-12-01T10:00:00.000Z',
});

describe('productSet for ERP products', () => {
  it('creates a new product as DRAFT with its options, variants, SKUs and barcodes; a replay changes nothing', async () => {
    harness = await startShopify({ items: 20, stores: 1 });
    const before = harness.app.store.products.length;
    const answer = await harness.gql(PRODUCT_SET_MUTATION, { ...productSetVariables(launch('draft')) });
    const payload = answer.body.data?.productSet as {
      product: { id: string; variants: { nodes: { id: string; sku: string }[] } };
      userErrors: unknown[];
    };
    expect(payload.userErrors).toEqual([]);
    expect(payload.product.variants.nodes.map((n) => n.sku)).toEqual([
      'SKU-L9001-S',
      'SKU-L9001-M',
      'SKU-L9001-L',
    ]);
    const product = harness.app.store.productByHandle.get('trail-jacket-9001');
    expect(product?.status).toBe('DRAFT');
    expect(harness.app.store.variantBySku.get('SKU-L9001-M')).toMatchObject({
      priceMinor: 12900,
      barcode: '2000009001000',
      optionValues: ['Navy', 'M'],
    });
    expect(answer.body.extensions?.cost.requestedQueryCost).toBe(productSetCost(3));
    // By the ledger's id, launched: the same product, now ACTIVE; a variant dropped in the ERP is removed.
    const id = payload.product.id;
    const again = await harness.gql(PRODUCT_SET_MUTATION, {
      ...productSetVariables(launch('active', ['S', 'M']), { shopifyProductId: id }),
    });
    expect(again.body.data?.productSet).toMatchObject({ userErrors: [] });
    expect(harness.app.store.products.length).toBe(before + 1);
    expect(harness.app.store.productByHandle.get('trail-jacket-9001')?.status).toBe('ACTIVE');
    expect(harness.app.store.variantBySku.has('SKU-L9001-L')).toBe(false);
  });

  it('publishes the price in effect (a running promotion is not overwritten by a product update)', () => {
    const prices = new Map([
      ['SKU-L9001-S', { price: usd(9900), compareAtPrice: usd(12900), promotionId: 'BF' }],
    ]);
    const { input } = productSetVariables(launch('active'), { prices });
    const variants = input.variants as { price: string; compareAtPrice: string | null }[];
    expect(variants[0]).toMatchObject({ price: '99.00', compareAtPrice: '129.00' });
    expect(variants[1]).toMatchObject({ price: '129.00', compareAtPrice: null });
  });

  it('refuses what Shopify would: more than 3 options, a variant missing an option value', () => {
    expect(() => productSetVariables({ ...launch('draft'), options: ['A', 'B', 'C', 'D'] })).toThrow(
      ProductShapeError,
    );
    const broken = launch('draft');
    const [first, ...rest] = broken.variants;
    expect(() =>
      productSetVariables({
        ...broken,
        variants: [{ ...(first as Product['variants'][number]), optionValues: ['Navy'] }, ...rest],
      }),
    ).toThrow(/1 option values for 2 options/);
  });
});
