import { HubError } from '../errors.ts';
import { type Money, toDecimalString } from '../events/money.ts';
import type { CostPacer } from '../inventory/cost-pacer.ts';
import {
  type GraphqlAnswer,
  type ShopifyGraphql,
  ShopifyRequestError,
  ShopifyUnavailableError,
} from '../inventory/shopify-publisher.ts';

/**
 * Publishes variant prices (and compare-at prices, for promotions) to Shopify with
 * `productVariantsBulkUpdate`: batched, paced, idempotent.
 *
 * - **Batch**: the mutation updates variants of *one* product, so targets are grouped by product and
 *   each product's variants go in calls of at most 250 (Shopify's input array limit,
 *   https://shopify.dev/docs/api/usage/limits#input-limits). A product is the unit: there is no
 *   cheaper way to write prices of many products with these mutations.
 * - **Cost**: 10 + 0.2 per variant ("Dynamic complexity for productVariantsBulkCreate and
 *   productVariantsBulkUpdate mutations", https://shopify.dev/changelog/dynamic-complexity-for-productvariantsbulkcreate-and-productvariantsbulkupdate-mutations)
 *   plus the payload selected ({@link PRICE_UPDATE_PAYLOAD_COST}); each call waits in the shared
 *   {@link CostPacer} for its points, so several calls can be in flight without ever being throttled
 *   in steady state.
 * - **Idempotent**: a price is an absolute value, so a retried call (after 429, 5xx, a lost answer)
 *   writes the same values; the caller computes the values from the price books at *its* now, so a
 *   late retry never brings back a price that is no longer in effect.
 * - **Partial**: `allowPartialUpdates: true`, so one variant Shopify no longer has (deleted in the admin)
 *   does not hold back the prices of the others; it is reported as refused by code.
 */

/** The price one variant should show. */
export interface VariantPrice {
  readonly sku: string;
  /** `gid://shopify/Product/…` */
  readonly productId: string;
  /** `gid://shopify/ProductVariant/…` */
  readonly variantId: string;
  readonly price: Money;
  /** Promotions: the regular price, struck through; null clears it. */
  readonly compareAtPrice: Money | null;
}

/** A price in another currency than the shop's: Shopify variant prices are in the shop currency. */
export class PriceCurrencyError extends HubError {
  readonly code = 'PRICE_CURRENCY_MISMATCH';
  readonly retryable = false;
}

export const PRICE_UPDATE_MUTATION = `mutation PublishPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants, allowPartialUpdates: true) {
    productVariants { id }
    userErrors { field message code }
  }
}`;

/**
 * The payload above costs nothing more: a mutation costs its base "plus the connections selected in
 * its payload" (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits), and it selects
 * none.
 */
export const PRICE_UPDATE_PAYLOAD_COST = 0;

/** Shopify's input array limit. */
export const MAX_VARIANTS_PER_CALL = 250;

/** Requested cost of one call with `variants` variants. */
export function priceCallCost(variants: number): number {
  return Math.ceil(10 + 0.2 * variants) + PRICE_UPDATE_PAYLOAD_COST;
}

/** The calls that publish `targets`: per product, ≤ 250 variants each, in the order given. */
export function planPriceCalls(
  targets: readonly VariantPrice[],
): { productId: string; variants: VariantPrice[] }[] {
  const byProduct = new Map<string, VariantPrice[]>();
  for (const t of targets) {
    const list = byProduct.get(t.productId) ?? [];
    list.push(t);
    byProduct.set(t.productId, list);
  }
  const calls: { productId: string; variants: VariantPrice[] }[] = [];
  for (const [productId, variants] of byProduct)
    for (let i = 0; i < variants.length; i += MAX_VARIANTS_PER_CALL)
      calls.push({ productId, variants: variants.slice(i, i + MAX_VARIANTS_PER_CALL) });
  return calls;
}

/**
 * The least time Shopify's bucket allows for a set of calls: the points beyond what the bucket holds
 * at the start, restored at the plan's rate (the bench's "theoretical minimum").
 */
export function minimumPublishMs(
  calls: readonly { variants: readonly unknown[] }[],
  bucket: { readonly maximumAvailable: number; readonly restoreRate: number },
): number {
  const points = calls.reduce((sum, c) => sum + priceCallCost(c.variants.length), 0);
  return (Math.max(0, points - bucket.maximumAvailable) / bucket.restoreRate) * 1000;
}

export interface PricePublishReport {
  readonly calls: number;
  readonly written: number;
  /** Variants Shopify refused for good, by user error code (e.g. PRODUCT_VARIANT_DOES_NOT_EXIST). */
  readonly refused: Record<string, number>;
  readonly refusedSkus: readonly string[];
  readonly throttled: number;
  readonly transientRetries: number;
}

export interface ShopifyPricePublisherOptions {
  readonly graphql: ShopifyGraphql;
  readonly pacer: CostPacer;
  /** The shop's currency (variant prices are in it). */
  readonly currency: string;
  /** Calls in flight at once (the pacer keeps them within the bucket). @default 4 */
  readonly concurrency?: number;
  /** Retries of one call after 429 / 5xx / network failures / `THROTTLED`. @default 6 */
  readonly maxRetries?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class ShopifyPricePublisher {
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ShopifyPricePublisherOptions) {
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async publish(targets: readonly VariantPrice[]): Promise<PricePublishReport> {
    for (const t of targets) {
      for (const m of [t.price, t.compareAtPrice]) {
        if (m && m.currency !== this.options.currency)
          throw new PriceCurrencyError(`${t.sku}: ${m.currency} price for a ${this.options.currency} shop`);
      }
    }
    const calls = planPriceCalls(targets);
    const report = {
      calls: 0,
      written: 0,
      refused: {} as Record<string, number>,
      refusedSkus: [] as string[],
      throttled: 0,
      transientRetries: 0,
    };
    let next = 0;
    const worker = async () => {
      while (next < calls.length) {
        const call = calls[next++];
        if (!call) break;
        await this.send(call, report);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.options.concurrency ?? 4) }, worker));
    return report;
  }

  private async send(
    call: { productId: string; variants: VariantPrice[] },
    report: {
      calls: number;
      written: number;
      refused: Record<string, number>;
      refusedSkus: string[];
      throttled: number;
      transientRetries: number;
    },
  ): Promise<void> {
    const variables = {
      productId: call.productId,
      variants: call.variants.map((v) => ({
        id: v.variantId,
        price: toDecimalString(v.price),
        compareAtPrice: v.compareAtPrice === null ? null : toDecimalString(v.compareAtPrice),
      })),
    };
    const answer = await this.paced(variables, priceCallCost(call.variants.length), report);
    report.calls += 1;
    const payload = answer.data?.productVariantsBulkUpdate as
      | { userErrors?: { field?: string[] | null; code?: string | null }[] }
      | null
      | undefined;
    if (!payload)
      throw new ShopifyRequestError(`productVariantsBulkUpdate answered no payload for ${call.productId}`);
    const refusedIndexes = new Set<number>();
    for (const e of payload.userErrors ?? []) {
      const index = e.field?.[0] === 'variants' ? Number(e.field[1]) : Number.NaN;
      const code = e.code ?? 'UNKNOWN';
      report.refused[code] =
        (report.refused[code] ?? 0) + (Number.isInteger(index) ? 1 : call.variants.length);
      if (Number.isInteger(index)) refusedIndexes.add(index);
      else for (let i = 0; i < call.variants.length; i += 1) refusedIndexes.add(i);
    }
    for (const i of refusedIndexes) {
      const sku = call.variants[i]?.sku;
      if (sku) report.refusedSkus.push(sku);
    }
    report.written += call.variants.length - refusedIndexes.size;
  }

  /** One paced call, retried with the same variables after `THROTTLED`, 429, 5xx and network failures. */
  private async paced(
    variables: Record<string, unknown>,
    cost: number,
    report: { throttled: number; transientRetries: number },
  ): Promise<GraphqlAnswer> {
    const maxRetries = this.options.maxRetries ?? 6;
    for (let attempt = 0; ; attempt += 1) {
      const grant = await this.options.pacer.acquire(cost);
      let answer: GraphqlAnswer;
      try {
        answer = await this.options.graphql(PRICE_UPDATE_MUTATION, variables);
      } catch (error) {
        grant.settle({});
        if (!(error instanceof ShopifyUnavailableError) || attempt >= maxRetries) throw error;
        report.transientRetries += 1;
        await this.sleep(error.retryAfterMs ?? Math.min(10_000, 200 * 2 ** attempt));
        continue;
      }
      grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
      if (answer.errors.some((e) => e.code === 'THROTTLED')) {
        report.throttled += 1;
        if (attempt >= maxRetries) throw new ShopifyUnavailableError('Shopify kept answering THROTTLED');
        continue;
      }
      if (answer.errors.length > 0)
        throw new ShopifyRequestError(`Shopify refused: ${answer.errors.map((e) => e.message).join('; ')}`);
      return answer;
    }
  }
}
