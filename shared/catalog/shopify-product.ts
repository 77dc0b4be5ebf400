import { HubError } from '../errors.ts';
import { toDecimalString } from '../events/money.ts';
import type { Product } from '../events/product.ts';
import type { EffectivePrice } from './price-book.ts';

/**
 * ERP product → Shopify `productSet` input (Admin GraphQL 2025-04).
 *
 * `productSet` creates or updates a product *with its whole variant list* (variants not listed are
 * deleted), matched by the `identifier` (the Shopify id the ledger holds, else the handle), so one
 * call makes Shopify's product equal to the ERP's and a replay of the same call changes nothing.
 * Contract facts it relies on (https://shopify.dev/docs/api/admin-graphql/2025-04/mutations/productSet):
 * - `synchronous: true` (the default) answers the product with its variant ids in the same call; the
 *   asynchronous mode returns a `ProductSetOperation` to poll — not used, the ledger needs the ids;
 * - at most 3 options; variants up to 2,048 per product (and 10 + 0.2 per variant points,
 *   https://shopify.dev/changelog/dynamic-complexity-cost-for-productset-mutation);
 * - each variant names its value for every option (`optionValues: [{optionName, name}]`).
 *
 * Status: new items stay `DRAFT` until launch. The ERP item master says when an item is launched
 * (`status: 'active'`); anything else (`draft`, `unlisted`, `unknown`) is a `DRAFT` on Shopify, and
 * `archived` is `ARCHIVED`. Prices: the price *in effect now* from the price books when the hub has
 * one (so a product update in the middle of a promotion does not overwrite the promotional price),
 * else the ERP's list price.
 */

export const MAX_PRODUCT_OPTIONS = 3;
export const MAX_PRODUCT_VARIANTS = 2048;

/** A product Shopify would refuse (too many options or variants, a variant without its option values). */
export class ProductShapeError extends HubError {
  readonly code = 'PRODUCT_SHAPE_INVALID';
  readonly retryable = false;
}

export const PRODUCT_SET_MUTATION = `mutation PublishProduct($input: ProductSetInput!, $identifier: ProductSetIdentifiers) {
  productSet(input: $input, identifier: $identifier, synchronous: true) {
    product { id variants(first: 250) { nodes { id sku } } }
    userErrors { field message code }
  }
}`;

export type ShopifyStatus = 'ACTIVE' | 'DRAFT' | 'ARCHIVED';

export function shopifyStatus(status: Product['status']): ShopifyStatus {
  if (status === 'active') return 'ACTIVE';
  if (status === 'archived') return 'ARCHIVED';
  return 'DRAFT';
}

export interface ProductSetVariables {
  readonly input: Record<string, unknown>;
  readonly identifier: { id: string } | { handle: string };
}

/**
 * The `productSet` variables for a product. `shopifyProductId` is the ledger's (absent for a product
 * Shopify does not have yet); `prices` the price in effect per SKU.
 */
export function productSetVariables(
  product: Product,
  options: { shopifyProductId?: string; prices?: ReadonlyMap<string, EffectivePrice> } = {},
): ProductSetVariables {
  const optionNames = product.options ?? [];
  if (optionNames.length > MAX_PRODUCT_OPTIONS)
    throw new ProductShapeError(
      `${product.source.productId}: ${optionNames.length} options (Shopify allows 3)`,
    );
  if (product.variants.length > MAX_PRODUCT_VARIANTS)
    throw new ProductShapeError(
      `${product.source.productId}: ${product.variants.length} variants (Shopify allows ${MAX_PRODUCT_VARIANTS})`,
    );
  const handle = product.handle ?? slug(product.title);
  const names = optionNames.length > 0 ? optionNames : ['Title'];
  const valuesOf = (i: number) =>
    [...new Set(product.variants.map((v) => (v.optionValues ?? [v.title])[i] ?? ''))].map((name) => ({
      name,
    }));
  const variants = product.variants.map((v, position) => {
    const values = v.optionValues ?? [v.title];
    if (values.length !== names.length)
      throw new ProductShapeError(
        `${product.source.productId}: variant ${v.item.sku} has ${values.length} option values for ${names.length} options`,
      );
    const sku = v.item.sku;
    if (!sku) throw new ProductShapeError(`${product.source.productId}: a variant without a SKU`);
    const effective = options.prices?.get(sku);
    const price = effective?.price ?? v.price;
    const compareAt = effective ? effective.compareAtPrice : v.compareAtPrice;
    return {
      optionValues: names.map((optionName, i) => ({ optionName, name: values[i] as string })),
      price: toDecimalString(price),
      compareAtPrice: compareAt === null ? null : toDecimalString(compareAt),
      ...(v.barcode ? { barcode: v.barcode } : {}),
      ...(v.taxable === null ? {} : { taxable: v.taxable }),
      position: v.position ?? position + 1,
      inventoryItem: { sku, tracked: v.inventoryTracked ?? true },
    };
  });
  return {
    input: {
      title: product.title,
      handle,
      status: shopifyStatus(product.status),
      ...(product.vendor ? { vendor: product.vendor } : {}),
      ...(product.productType ? { productType: product.productType } : {}),
      tags: product.tags,
      productOptions: names.map((name, i) => ({ name, values: valuesOf(i) })),
      variants,
    },
    identifier: options.shopifyProductId ? { id: options.shopifyProductId } : { handle },
  };
}

/** Requested cost of a `productSet` with `variants` variants and the selection above. */
export function productSetCost(variants: number): number {
  // 10 + 0.2/variant, plus the `variants(first: 250)` connection: 2 + 250 × 1.
  return Math.ceil(10 + 0.2 * variants) + 252;
}

function slug(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
