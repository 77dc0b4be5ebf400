import type { CostPacer } from '../inventory/cost-pacer.ts';
import {
  type ShopifyGraphql,
  ShopifyRequestError,
  ShopifyUnavailableError,
} from '../inventory/shopify-publisher.ts';
import type { EffectivePrice } from './price-book.ts';
import type { BookKey, PricePort } from './price-flow.ts';
import type { PricePublishReport, ShopifyPricePublisher, VariantPrice } from './shopify-prices.ts';

/**
 * The price flow's Shopify channel: the price books' online price list, SKU → variant and product ids
 * (looked up by SKU, 50 SKUs a query, cached for the instance; the id ledger will replace the lookup
 * for launched SKUs), then {@link ShopifyPricePublisher}. SKUs Shopify does not have are reported,
 * not retried (a product not launched on the storefront yet has no variant to price).
 */
export const VARIANTS_BY_SKU_QUERY = `query PriceVariantsBySku($after: String, $query: String) {
  productVariants(first: 50, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { id sku product { id } }
  }
}`;

/**
 * Requested cost of one page: 2 + 50 × (variant + product). A page of 50 matches the 50 SKUs a query
 * names (Shopify charges the requested `first`, not what is returned): 250 would reserve five times the
 * points and hold the bucket for a 500-SKU lookup.
 */
const PAGE_COST = 102;

export interface ShopifyPricePortOptions {
  readonly graphql: ShopifyGraphql;
  readonly pacer: CostPacer;
  readonly publisher: ShopifyPricePublisher;
  /** The price lists this shop shows (e.g. `online-USD`); other books are another channel's. */
  readonly priceLists: ReadonlySet<string>;
  readonly onReport?: (report: PricePublishReport & { readonly unknownSkus: readonly string[] }) => void;
}

export class ShopifyPricePort implements PricePort {
  private readonly ids = new Map<string, { variantId: string; productId: string } | null>();

  constructor(private readonly options: ShopifyPricePortOptions) {}

  async publish(prices: readonly (BookKey & { readonly effective: EffectivePrice })[]): Promise<void> {
    const mine = prices.filter((p) => this.options.priceLists.has(p.priceList));
    if (mine.length === 0) return;
    await this.resolve(mine.map((p) => p.sku));
    const unknownSkus: string[] = [];
    const targets: VariantPrice[] = [];
    for (const p of mine) {
      const ids = this.ids.get(p.sku);
      if (!ids) {
        unknownSkus.push(p.sku);
        continue;
      }
      targets.push({
        sku: p.sku,
        ...ids,
        price: p.effective.price,
        compareAtPrice: p.effective.compareAtPrice,
      });
    }
    const report = await this.options.publisher.publish(targets);
    // A variant deleted since it was cached: forget it, the next publish looks it up again.
    for (const sku of report.refusedSkus) this.ids.delete(sku);
    this.options.onReport?.({ ...report, unknownSkus });
  }

  private async resolve(skus: readonly string[]): Promise<void> {
    const missing = [...new Set(skus)].filter((sku) => !this.ids.has(sku));
    for (let start = 0; start < missing.length; start += 50) {
      const chunk = missing.slice(start, start + 50);
      const found = new Map<string, { variantId: string; productId: string }>();
      const query = chunk.map((sku) => `sku:${JSON.stringify(sku)}`).join(' OR ');
      let after: string | null = null;
      for (let throttled = 0; ; ) {
        const grant = await this.options.pacer.acquire(PAGE_COST);
        let answer: Awaited<ReturnType<ShopifyGraphql>>;
        try {
          answer = await this.options.graphql(VARIANTS_BY_SKU_QUERY, { query, after });
        } catch (error) {
          grant.settle({});
          throw error;
        }
        grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
        if (answer.errors.some((e) => e.code === 'THROTTLED')) {
          if (++throttled > 6) throw new ShopifyUnavailableError('Shopify kept answering THROTTLED');
          continue;
        }
        if (answer.errors.length > 0)
          throw new ShopifyRequestError(`Shopify refused: ${answer.errors.map((e) => e.message).join('; ')}`);
        const page = answer.data?.productVariants as
          | {
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
              nodes: { id: string; sku: string | null; product: { id: string } }[];
            }
          | undefined;
        for (const node of page?.nodes ?? [])
          if (node.sku) found.set(node.sku, { variantId: node.id, productId: node.product.id });
        after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        if (after === null) break;
      }
      // Cached only once every page was read (a failure half way caches nothing).
      for (const sku of chunk) this.ids.set(sku, found.get(sku) ?? null);
    }
  }
}
