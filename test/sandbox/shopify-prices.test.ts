import { afterEach, describe, expect, it } from 'vitest';
import {
  MAX_VARIANTS_PER_CALL,
  planPriceCalls,
  priceCallCost,
  ShopifyPricePublisher,
  type VariantPrice,
} from '#shared/catalog/shopify-prices.ts';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { assertShopifyDocument, type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/**
 * The Shopify price publisher against the sandbox: `productVariantsBulkUpdate` per product (checked
 * against the pinned Admin schema), paced by the cost bucket, refused variants reported, and each
 * applied write in the sandbox's timestamped price log.
 */
let harness: ShopifyHarness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

async function setup(options: { restoreRate?: number; maximumAvailable?: number } = {}) {
  harness = await startShopify({ items: 200, stores: 2, ...options });
  const h = harness;
  const sent: { query: string; variables: Record<string, unknown>; cost?: number }[] = [];
  const checkingFetch: typeof fetch = async (url, init) => {
    const body = JSON.parse(String(init?.body)) as { query: string; variables: Record<string, unknown> };
    assertShopifyDocument(body.query);
    const res = await fetch(url, init);
    const copy = (await res.clone().json()) as { extensions?: { cost?: { requestedQueryCost: number } } };
    sent.push({
      ...body,
      ...(copy.extensions?.cost ? { cost: copy.extensions.cost.requestedQueryCost } : {}),
    });
    return res;
  };
  const graphql = shopifyGraphql({
    baseUrl: h.base,
    accessToken: h.app.credentials.accessToken,
    fetch: checkingFetch,
  });
  const targets = (count: number, price: (i: number) => number, compareAt: (i: number) => number | null) =>
    h.app.store.variants.slice(0, count).map(
      (v, i): VariantPrice => ({
        sku: v.sku,
        productId: `gid://shopify/Product/${v.productId}`,
        variantId: `gid://shopify/ProductVariant/${v.id}`,
        price: { amount: price(i), currency: 'USD' },
        compareAtPrice: compareAt(i) === null ? null : { amount: compareAt(i) as number, currency: 'USD' },
      }),
    );
  const publisher = new ShopifyPricePublisher({ graphql, pacer: new CostPacer(), currency: 'USD' });
  return { h, sent, targets, publisher };
}

describe('Shopify price publisher', () => {
  it('writes prices and compare-at prices per product, at the requested cost it estimated, and logs each write', async () => {
    const { h, sent, targets, publisher } = await setup();
    const started = Date.now();
    const wanted = targets(
      120,
      (i) => 1000 + i,
      (i) => (i % 2 === 0 ? 2000 + i : null),
    );
    const report = await publisher.publish(wanted);
    const products = new Set(wanted.map((t) => t.productId));
    expect(report).toMatchObject({ calls: products.size, written: 120, refused: {}, throttled: 0 });
    for (const [i, t] of wanted.entries()) {
      const v = h.app.store.variantBySku.get(t.sku);
      expect({ sku: t.sku, price: v?.priceMinor, compareAt: v?.compareAtMinor }).toEqual({
        sku: t.sku,
        price: 1000 + i,
        compareAt: i % 2 === 0 ? 2000 + i : null,
      });
    }
    // The cost the publisher reserves is the cost Shopify (the sandbox) charges: no over- or under-pacing.
    for (const s of sent)
      expect({ n: (s.variables.variants as unknown[]).length, cost: s.cost }).toEqual({
        n: (s.variables.variants as unknown[]).length,
        cost: priceCallCost((s.variables.variants as unknown[]).length),
      });
    const log = (await h.control('GET', `price-writes?since=${started}&sku=${wanted[0]?.sku}`)).body;
    expect(log).toMatchObject({
      count: 1,
      writes: [
        { sku: wanted[0]?.sku, price: '10.00', compareAtPrice: '20.00', via: 'productVariantsBulkUpdate' },
      ],
    });
  });

  it('a variant Shopify no longer has is refused alone (allowPartialUpdates); the others are written', async () => {
    const { h, targets, publisher } = await setup();
    const wanted = targets(
      200,
      () => 4242,
      () => null,
    );
    const gone = wanted[1] as VariantPrice;
    // Another variant of the same product: one call carries both.
    const other = wanted.find((t) => t.productId === gone.productId && t.sku !== gone.sku);
    if (!other) throw new Error('no second variant of the product');
    const report = await publisher.publish([{ ...gone, variantId: 'gid://shopify/ProductVariant/1' }, other]);
    expect(report).toMatchObject({
      written: 1,
      refused: { PRODUCT_VARIANT_DOES_NOT_EXIST: 1 },
      refusedSkus: [gone.sku],
    });
    expect(h.app.store.variantBySku.get(other.sku)?.priceMinor).toBe(4242);
  });

  it('stays within a small bucket without being throttled', async () => {
    const { publisher, targets } = await setup({ restoreRate: 50, maximumAvailable: 100 });
    const report = await publisher.publish(
      targets(
        150,
        () => 999,
        () => null,
      ),
    );
    expect(report.written).toBe(150);
    expect(report.throttled).toBe(0);
  });

  it('refuses a price in another currency than the shop’s', async () => {
    const { publisher, targets } = await setup();
    const [t] = targets(
      1,
      () => 1,
      () => null,
    );
    await expect(
      publisher.publish([{ ...(t as VariantPrice), price: { amount: 1, currency: 'EUR' } }]),
    ).rejects.toThrow(/EUR price for a USD shop/);
  });
});

describe('planPriceCalls', () => {
  it('groups by product and splits a product at 250 variants', () => {
    const many = Array.from({ length: 600 }, (_, i) => ({
      sku: `S${i}`,
      productId: i < 520 ? 'P1' : 'P2',
      variantId: `V${i}`,
      price: { amount: 1, currency: 'USD' },
      compareAtPrice: null,
    }));
    expect(planPriceCalls(many).map((c) => [c.productId, c.variants.length])).toEqual([
      ['P1', MAX_VARIANTS_PER_CALL],
      ['P1', MAX_VARIANTS_PER_CALL],
      ['P1', 20],
      ['P2', 80],
    ]);
  });
});
