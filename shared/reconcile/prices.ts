import * as z from 'zod';
import { type ChannelPrice, compareCatalog } from '../catalog/compare.ts';
import type { EffectivePrice, PriceBook } from '../catalog/price-book.ts';
import { type Money, toDecimalString, toMinorUnits } from '../events/money.ts';
import type { Discrepancy } from './compare.ts';
import { paced, type ShopifyReadOptions } from './shopify-orders.ts';

/**
 * Prices for the reconciler: what each shop's variants show against the price books (the ERP's list
 * prices and promotions, as the price flow last applied them), through `compareCatalog`
 * (shared/catalog/compare.ts): a price or compare-at that differs from the price in effect is a
 * `price-mismatch`, unless the book's last transition is younger than the grace (the price function may
 * still be publishing it: a transition fires, then the publish takes the time the plan's bucket allows).
 *
 * Only variants the books price are compared: a variant of a SKU the ERP never priced is not the hub's.
 * Report only: the books are the ERP's word, but a price changed in Shopify's admin may be a merchant's
 * deliberate act; which side is right is a person's call (the price flow republishes a book's price at
 * its next change or transition).
 */

/** One shop's variants with SKUs and prices, 250 a page (Shopify's page limit). */
export const VARIANT_PRICES_QUERY = `query ReconcileVariantPrices($after: String) {
  productVariants(first: 250, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { sku price compareAtPrice }
  }
}`;

/** Requested cost of a page: 2 + one point per variant requested (no connection below it). */
export const VARIANT_PRICES_PAGE_COST = 252;

const PageSchema = z.object({
  productVariants: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(
      z.object({ sku: z.string().nullable(), price: z.string(), compareAtPrice: z.string().nullable() }),
    ),
  }),
});

/**
 * Every variant of the shop that has a SKU, with its price and compare-at in the shop's currency
 * (the Admin API's `Money` scalar is a decimal string in the shop currency).
 */
export async function readShopifyPrices(
  options: ShopifyReadOptions,
  currency: string,
): Promise<{ prices: ChannelPrice[]; pages: number }> {
  const prices: ChannelPrice[] = [];
  let after: string | null = null;
  let pages = 0;
  do {
    const data: z.infer<typeof PageSchema>['productVariants'] = PageSchema.parse(
      await paced(options, VARIANT_PRICES_QUERY, { after }, VARIANT_PRICES_PAGE_COST),
    ).productVariants;
    pages += 1;
    for (const node of data.nodes) {
      if (!node.sku) continue;
      prices.push({
        sku: node.sku,
        price: { amount: toMinorUnits(node.price, currency), currency },
        compareAtPrice:
          node.compareAtPrice === null
            ? null
            : { amount: toMinorUnits(node.compareAtPrice, currency), currency },
      });
    }
    after = data.pageInfo.hasNextPage ? data.pageInfo.endCursor : null;
  } while (after !== null);
  return { prices, pages };
}

/** What one shop shows and the books of the SKUs it shows (its `online-<currency>` list). */
export interface ShopPrices {
  readonly shopDomain: string;
  readonly books: readonly PriceBook[];
  readonly channel: readonly ChannelPrice[];
}

const shown = (m: Money | null | undefined) => (m ? `${m.currency} ${toDecimalString(m)}` : 'none');
const describe = (e: EffectivePrice) =>
  `${shown(e.price)}${e.compareAtPrice ? ` (compare-at ${shown(e.compareAtPrice)})` : ''}`;

/** The shops' price discrepancies, as the reconciler stores them (`<sku>@<shop>`). */
export function comparePrices(
  shops: readonly ShopPrices[],
  options: { readonly now: number; readonly graceMs: number },
): Discrepancy[] {
  const out: Discrepancy[] = [];
  for (const shop of shops) {
    for (const d of compareCatalog(shop.books, shop.channel, options)) {
      const actual = d.actual
        ? `${shown(d.actual.price)}${d.actual.compareAtPrice ? ` (compare-at ${shown(d.actual.compareAtPrice)})` : ''}`
        : null;
      out.push({
        kind: 'price-mismatch',
        system: 'shopify',
        id: `${d.sku}@${shop.shopDomain}`,
        sku: d.sku,
        expected: describe(d.expected),
        actual,
        detail:
          d.kind === 'missing'
            ? `${shop.shopDomain} has no variant of ${d.sku}; the price books price it ${describe(d.expected)}`
            : `${shop.shopDomain} shows ${d.sku} at ${actual}; the price in effect is ${describe(d.expected)}`,
      });
    }
  }
  return out;
}
