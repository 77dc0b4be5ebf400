import * as z from 'zod';
import { money } from '../events/money.ts';
import type { CostPacer } from '../inventory/cost-pacer.ts';
import {
  type ShopifyGraphql,
  ShopifyRequestError,
  ShopifyUnavailableError,
} from '../inventory/shopify-publisher.ts';
import type { ChannelOrder } from './compare.ts';

/**
 * Shopify's side of the reconciliation: the orders updated in the window, read with the Admin GraphQL
 * `orders(query: "updated_at:>=… updated_at:<=…")` connection page by page (search syntax:
 * https://shopify.dev/docs/api/usage/search-syntax; the `updated_at` filter of `orders`:
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/orders), each call paced by the shop's
 * {@link CostPacer} (the same leaky-bucket model as the inventory publisher) and retried after
 * `THROTTLED`, 429 and 5xx.
 *
 * Each order is read with every field the webhook mapper needs, so a missing one can be healed: the node
 * is turned into the REST webhook shape ({@link toOrderPayload}) and mapped by the ingress's own
 * `mapOrder` (shared/connectors/shopify/mappers.ts).
 */

const MONEY = 'shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }';
const TAX_LINES = `title rate priceSet { ${MONEY} }`;

/**
 * Orders per page of the listing: each costs 3 points (the order, `totalPriceSet` and its `shopMoney`),
 * so 250 (the connection maximum) stay under the 1,000-point single-query limit.
 */
export const ORDERS_PAGE_SIZE = 250;
/** Lines read per order when healing: the order query stays under 1,000 points. */
export const LINES_PER_ORDER = 40;

/** The window's orders, just what the comparison needs. */
export const RECONCILE_ORDERS_QUERY = /* GraphQL */ `
  query ReconcileOrders($first: Int!, $after: String, $query: String) {
    orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes {
        legacyResourceId
        name
        updatedAt
        cancelledAt
        currencyCode
        totalPriceSet { shopMoney { amount currencyCode } }
      }
    }
  }
`;

/** One order with every field the webhook mapper reads (heal). */
export const RECONCILE_ORDER_QUERY = /* GraphQL */ `
  query ReconcileOrder($id: ID!) {
    order(id: $id) {
      id
      legacyResourceId
      name
      test
      createdAt
      updatedAt
      closedAt
      cancelledAt
      cancelReason
      currencyCode
      presentmentCurrencyCode
      sourceName
      displayFinancialStatus
      paymentGatewayNames
      taxesIncluded
      discountCodes
      retailLocation { id }
      customer { id }
      taxLines { ${TAX_LINES} }
      subtotalPriceSet { ${MONEY} }
      totalDiscountsSet { ${MONEY} }
      totalShippingPriceSet { ${MONEY} }
      totalTaxSet { ${MONEY} }
      totalPriceSet { ${MONEY} }
      currentSubtotalPriceSet { ${MONEY} }
      currentTotalTaxSet { ${MONEY} }
      currentTotalPriceSet { ${MONEY} }
      lineItems(first: ${LINES_PER_ORDER}) {
        pageInfo { hasNextPage }
        nodes {
          id
          sku
          title
          variantTitle
          quantity
          currentQuantity
          requiresShipping
          taxable
          isGiftCard
          variant { id }
          product { id }
          originalUnitPriceSet { ${MONEY} }
          discountAllocations { allocatedAmountSet { ${MONEY} } }
          taxLines { ${TAX_LINES} }
        }
      }
      shippingLines(first: 5) {
        nodes {
          id
          title
          code
          source
          deliveryCategory
          originalPriceSet { ${MONEY} }
          discountAllocations { allocatedAmountSet { ${MONEY} } }
          taxLines { ${TAX_LINES} }
        }
      }
    }
  }
`;

/** Requested costs (Shopify answers the real ones; the pacer is re-based on them). */
const PAGE_COST = 2 + ORDERS_PAGE_SIZE * 3;
const ORDER_COST = 1000;

const MoneyBag = z.object({
  shopMoney: z.object({ amount: z.string(), currencyCode: z.string() }),
  presentmentMoney: z.object({ amount: z.string(), currencyCode: z.string() }),
});
const TaxLine = z.object({ title: z.string(), rate: z.number().nullable(), priceSet: MoneyBag });
const Allocation = z.object({ allocatedAmountSet: MoneyBag });

export const ShopifyOrderNodeSchema = z.object({
  id: z.string(),
  legacyResourceId: z.union([z.string(), z.number()]).transform(String),
  name: z.string(),
  test: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
  closedAt: z.string().nullable(),
  cancelledAt: z.string().nullable(),
  cancelReason: z.string().nullable(),
  currencyCode: z.string(),
  presentmentCurrencyCode: z.string(),
  sourceName: z.string().nullable(),
  displayFinancialStatus: z.string().nullable(),
  paymentGatewayNames: z.array(z.string()),
  taxesIncluded: z.boolean(),
  discountCodes: z.array(z.string()),
  retailLocation: z.object({ id: z.string() }).nullable(),
  customer: z.object({ id: z.string() }).nullable(),
  taxLines: z.array(TaxLine),
  subtotalPriceSet: MoneyBag.nullable(),
  totalDiscountsSet: MoneyBag.nullable(),
  totalShippingPriceSet: MoneyBag,
  totalTaxSet: MoneyBag.nullable(),
  totalPriceSet: MoneyBag,
  currentSubtotalPriceSet: MoneyBag,
  currentTotalTaxSet: MoneyBag,
  currentTotalPriceSet: MoneyBag,
  lineItems: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean() }),
    nodes: z.array(
      z.object({
        id: z.string(),
        sku: z.string().nullable(),
        title: z.string(),
        variantTitle: z.string().nullable(),
        quantity: z.number().int(),
        currentQuantity: z.number().int(),
        requiresShipping: z.boolean(),
        taxable: z.boolean(),
        isGiftCard: z.boolean(),
        variant: z.object({ id: z.string() }).nullable(),
        product: z.object({ id: z.string() }).nullable(),
        originalUnitPriceSet: MoneyBag,
        discountAllocations: z.array(Allocation),
        taxLines: z.array(TaxLine),
      }),
    ),
  }),
  shippingLines: z.object({
    nodes: z.array(
      z.object({
        id: z.string().nullable(),
        title: z.string(),
        code: z.string().nullable(),
        source: z.string().nullable(),
        deliveryCategory: z.string().nullable(),
        originalPriceSet: MoneyBag,
        discountAllocations: z.array(Allocation),
        taxLines: z.array(TaxLine),
      }),
    ),
  }),
});
export type ShopifyOrderNode = z.infer<typeof ShopifyOrderNodeSchema>;

const PageSchema = z.object({
  orders: z.object({
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
    nodes: z.array(z.unknown()),
  }),
});

const tail = (gid: string) => gid.slice(gid.lastIndexOf('/') + 1);
const set = (bag: z.infer<typeof MoneyBag>) => ({
  shop_money: { amount: bag.shopMoney.amount, currency_code: bag.shopMoney.currencyCode },
  presentment_money: {
    amount: bag.presentmentMoney.amount,
    currency_code: bag.presentmentMoney.currencyCode,
  },
});
const zero = (currency: string) => ({
  shop_money: { amount: '0.00', currency_code: currency },
  presentment_money: { amount: '0.00', currency_code: currency },
});
const taxLines = (lines: readonly z.infer<typeof TaxLine>[]) =>
  lines.map((line) => ({ title: line.title, rate: line.rate ?? 0, price_set: set(line.priceSet) }));
const allocations = (list: readonly z.infer<typeof Allocation>[]) =>
  list.map((a) => ({ amount_set: set(a.allocatedAmountSet) }));

/**
 * A GraphQL order node in the REST webhook shape (`OrderPayloadSchema`), field by field as the REST
 * resource names them (https://shopify.dev/docs/api/admin-rest/latest/resources/order), so the ingress's
 * mapper reads it as it reads an `orders/create` delivery. GraphQL enums are REST's values upper-cased
 * (`PAID` → `paid`); a POS order's `location_id` is its `retailLocation`.
 */
export function toOrderPayload(node: ShopifyOrderNode): Record<string, unknown> {
  const currency = node.currencyCode;
  return {
    id: node.legacyResourceId,
    admin_graphql_api_id: node.id,
    name: node.name,
    currency,
    presentment_currency: node.presentmentCurrencyCode,
    source_name: node.sourceName,
    location_id: node.retailLocation ? tail(node.retailLocation.id) : null,
    financial_status: node.displayFinancialStatus?.toLowerCase() ?? null,
    taxes_included: node.taxesIncluded,
    test: node.test,
    cancelled_at: node.cancelledAt,
    cancel_reason: node.cancelReason?.toLowerCase() ?? null,
    closed_at: node.closedAt,
    created_at: node.createdAt,
    updated_at: node.updatedAt,
    payment_gateway_names: node.paymentGatewayNames,
    customer: node.customer ? { id: tail(node.customer.id), admin_graphql_api_id: node.customer.id } : null,
    line_items: node.lineItems.nodes.map((line) => ({
      id: tail(line.id),
      admin_graphql_api_id: line.id,
      sku: line.sku,
      variant_id: line.variant ? tail(line.variant.id) : null,
      product_id: line.product ? tail(line.product.id) : null,
      title: line.title,
      variant_title: line.variantTitle,
      quantity: line.quantity,
      current_quantity: line.currentQuantity,
      price_set: set(line.originalUnitPriceSet),
      tax_lines: taxLines(line.taxLines),
      discount_allocations: allocations(line.discountAllocations),
      gift_card: line.isGiftCard,
      requires_shipping: line.requiresShipping,
      taxable: line.taxable,
    })),
    shipping_lines: node.shippingLines.nodes.map((line, index) => ({
      id: line.id ? tail(line.id) : String(index),
      code: line.code,
      title: line.title,
      source: line.source,
      delivery_category: line.deliveryCategory,
      price_set: set(line.originalPriceSet),
      discount_allocations: allocations(line.discountAllocations),
      tax_lines: taxLines(line.taxLines),
    })),
    // GraphQL lists the codes only; their amounts are in the lines' allocations and the total discounts.
    discount_codes: [],
    tax_lines: taxLines(node.taxLines),
    subtotal_price_set: node.subtotalPriceSet ? set(node.subtotalPriceSet) : zero(currency),
    total_discounts_set: node.totalDiscountsSet ? set(node.totalDiscountsSet) : zero(currency),
    total_shipping_price_set: set(node.totalShippingPriceSet),
    total_tax_set: node.totalTaxSet ? set(node.totalTaxSet) : zero(currency),
    total_price_set: set(node.totalPriceSet),
    current_subtotal_price_set: set(node.currentSubtotalPriceSet),
    current_total_tax_set: set(node.currentTotalTaxSet),
    current_total_price_set: set(node.currentTotalPriceSet),
  };
}

const ListedOrderSchema = z.object({
  legacyResourceId: z.union([z.string(), z.number()]).transform(String),
  name: z.string(),
  updatedAt: z.string(),
  cancelledAt: z.string().nullable(),
  currencyCode: z.string(),
  totalPriceSet: z.object({ shopMoney: z.object({ amount: z.string(), currencyCode: z.string() }) }),
});

export interface ShopifyOrdersRead {
  readonly orders: ChannelOrder[];
  readonly pages: number;
}

export interface ShopifyReadOptions {
  readonly graphql: ShopifyGraphql;
  readonly pacer: CostPacer;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Retries of one call after THROTTLED / 429 / 5xx. @default 6 */
  readonly maxRetries?: number;
}

/** One paced call, retried with the same variables after `THROTTLED`, 429, 5xx and network failures. */
export async function paced(
  options: ShopifyReadOptions,
  document: string,
  variables: Record<string, unknown>,
  cost: number,
): Promise<Record<string, unknown> | null> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const maxRetries = options.maxRetries ?? 6;
  for (let attempt = 0; ; attempt += 1) {
    const grant = await options.pacer.acquire(cost);
    let answer: Awaited<ReturnType<ShopifyGraphql>>;
    try {
      answer = await options.graphql(document, variables);
    } catch (error) {
      grant.settle({});
      if (!(error instanceof ShopifyUnavailableError) || attempt >= maxRetries) throw error;
      await sleep(error.retryAfterMs ?? 500 * 2 ** attempt);
      continue;
    }
    grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
    if (answer.errors.some((e) => e.code === 'THROTTLED')) {
      // The pacer now knows the bucket and waits for the points before the next attempt.
      if (attempt >= maxRetries) throw new ShopifyUnavailableError('Shopify kept answering THROTTLED');
      continue;
    }
    if (answer.errors.length > 0)
      throw new ShopifyRequestError(`query refused: ${answer.errors.map((e) => e.message).join('; ')}`);
    return answer.data;
  }
}

/** The orders of the shop updated in the window (inclusive), in `updated_at` order. */
export async function readShopifyOrders(
  options: ShopifyReadOptions & {
    readonly shopDomain: string;
    readonly since: string;
    readonly until: string;
  },
): Promise<ShopifyOrdersRead> {
  const query = `updated_at:>='${options.since}' updated_at:<='${options.until}'`;
  const orders: ChannelOrder[] = [];
  let after: string | null = null;
  let pages = 0;
  for (;;) {
    const data = await paced(
      options,
      RECONCILE_ORDERS_QUERY,
      { first: ORDERS_PAGE_SIZE, after, query },
      PAGE_COST,
    );
    pages += 1;
    const page = PageSchema.parse(data).orders;
    for (const raw of page.nodes) {
      const node = ListedOrderSchema.parse(raw);
      orders.push({
        system: 'shopify',
        account: options.shopDomain,
        orderId: node.legacyResourceId,
        name: node.name,
        total: money(node.totalPriceSet.shopMoney.amount, node.currencyCode),
        status: node.cancelledAt ? 'cancelled' : 'open',
        refundIds: [],
      });
    }
    if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) break;
    after = page.pageInfo.endCursor;
  }
  return { orders, pages };
}

/** An order too large to be read whole in one query: healing it is left to an operator. */
export class OrderTooLargeError extends ShopifyRequestError {}

/** One order with every field the webhook mapper reads; null when Shopify has no such order. */
export async function readShopifyOrder(
  options: ShopifyReadOptions,
  orderId: string,
): Promise<ShopifyOrderNode | null> {
  const data = await paced(
    options,
    RECONCILE_ORDER_QUERY,
    { id: `gid://shopify/Order/${orderId}` },
    ORDER_COST,
  );
  const raw = (data as { order?: unknown } | null)?.order;
  if (raw === null || raw === undefined) return null;
  const node = ShopifyOrderNodeSchema.parse(raw);
  if (node.lineItems.pageInfo.hasNextPage)
    throw new OrderTooLargeError(`order ${orderId} has more than ${LINES_PER_ORDER} lines`);
  return node;
}
