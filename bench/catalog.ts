/**
 * Catalog price benchmark: the time to publish a 5,000-variant price change to Shopify, against the
 * theoretical minimum for the shop's plan.
 *
 * The sandbox Shopify (in process, over HTTP on loopback) holds 5,000 variants (500 products of 10).
 * Every variant gets a new price (a storewide promotion: price and compare-at) through the hub's
 * {@link ShopifyPricePublisher} — `productVariantsBulkUpdate` per product, paced by the
 * {@link CostPacer} — starting from a full bucket, as a scheduled price change would.
 *
 * Theoretical minimum (bucket arithmetic, {@link minimumPublishMs}): each call costs 10 + 0.2 × its
 * variants (Shopify's dynamic complexity for the mutation); the bucket holds `maximumAvailable` points
 * at the start and restores `restoreRate` points/s, so nothing can finish before
 * `(Σ cost − maximumAvailable) ÷ restoreRate`. Plan: `BENCH_PLAN` (default `standard`: 100 points/s, a
 * 2,000-point bucket — the plan where pacing matters most; `plus` restores 1,000 points/s and 5,000
 * variants then fit in its 20,000-point bucket, a minimum of 0).
 *
 * Last line: `{"bench":"catalog","variants":…,"ms":…,"minMs":…,"ratioToMin":…}` (goal ≤ 1.5).
 */
import { serveSandboxes } from '#sandbox/core/http.ts';
import type { PlanName } from '#sandbox/shopify/bucket.ts';
import { createShopifySandbox } from '#sandbox/shopify/index.ts';
import {
  minimumPublishMs,
  planPriceCalls,
  ShopifyPricePublisher,
  type VariantPrice,
} from '#shared/catalog/shopify-prices.ts';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';

const VARIANTS = Number(process.env.BENCH_VARIANTS ?? 5000);
const PLAN = (process.env.BENCH_PLAN ?? 'standard') as PlanName;

export async function run(): Promise<Record<string, unknown>> {
  const app = createShopifySandbox({ items: VARIANTS, stores: 1, plan: PLAN });
  const server = await serveSandboxes([app]);
  try {
    const graphql = shopifyGraphql({
      baseUrl: server.urlOf('shopify'),
      accessToken: app.credentials.accessToken,
    });
    const targets = app.store.variants.slice(0, VARIANTS).map(
      (v): VariantPrice => ({
        sku: v.sku,
        productId: `gid://shopify/Product/${v.productId}`,
        variantId: `gid://shopify/ProductVariant/${v.id}`,
        price: { amount: Math.max(1, Math.round(v.priceMinor * 0.8)), currency: app.store.currency },
        compareAtPrice: { amount: v.priceMinor, currency: app.store.currency },
      }),
    );
    const calls = planPriceCalls(targets);
    const limits = app.bucket.currentLimits;
    const minMs = minimumPublishMs(calls, limits);
    const publisher = new ShopifyPricePublisher({
      graphql,
      pacer: new CostPacer(),
      currency: app.store.currency,
    });
    const started = performance.now();
    const report = await publisher.publish(targets);
    const ms = performance.now() - started;
    const wrong = targets.filter(
      (t) => app.store.variantBySku.get(t.sku)?.priceMinor !== t.price.amount,
    ).length;
    console.error(
      `catalog: ${targets.length} variants, ${calls.length} calls on ${PLAN} (${limits.restoreRate} points/s, bucket ${limits.maximumAvailable}): ${(ms / 1000).toFixed(1)} s, minimum ${(minMs / 1000).toFixed(1)} s`,
    );
    return {
      variants: targets.length,
      products: new Set(targets.map((t) => t.productId)).size,
      calls: report.calls,
      written: report.written,
      wrong,
      throttled: report.throttled,
      plan: PLAN,
      restoreRate: limits.restoreRate,
      maximumAvailable: limits.maximumAvailable,
      ms: Math.round(ms),
      minMs: Math.round(minMs),
      ratioToMin: minMs > 0 ? Number((ms / minMs).toFixed(3)) : null,
    };
  } finally {
    await server.close();
  }
}
