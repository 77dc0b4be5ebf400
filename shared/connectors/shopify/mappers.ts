import { createHash } from 'node:crypto';
import type * as z from 'zod';
import { HubError, MappingError } from '../../errors.ts';
import type { DetailType, EventData } from '../../events/catalog.ts';
import { toUtc } from '../../events/common.ts';
import { type Money, money, sumMoney } from '../../events/money.ts';
import { type Order, type OrderTotals, PaymentStatusSchema, type TaxLine } from '../../events/order.ts';
import { gidToId } from './json.ts';
import {
  CustomerDataRequestPayloadSchema,
  CustomerRedactPayloadSchema,
  InventoryLevelPayloadSchema,
  type OrderPayload,
  OrderPayloadSchema,
  ProductPayloadSchema,
  RefundPayloadSchema,
  type ShopifyMoneySet,
  ShopRedactPayloadSchema,
} from './payloads.ts';

/** What a mapper knows besides the payload: the verified shop and its settings. */
export interface ShopContext {
  readonly shopDomain: string;
  /** Shop currency, for payloads that carry prices without one (products/update). */
  readonly currency: string;
}

/** One canonical event a webhook turns into, before the envelope is added. */
export interface MappedEvent<T extends DetailType = DetailType> {
  readonly detailType: T;
  readonly data: EventData<T>;
  /** Business key: the same source change always gives the same key. */
  readonly idempotencyKey: string;
  /** When it happened at the source; absent when the payload has no time (the delivery's time is used). */
  readonly occurredAt?: string;
  readonly resourceId: string;
}

type Mapper = (payload: unknown, shop: ShopContext) => MappedEvent[];

/**
 * Short digest of a mapped payload for business keys. Shopify's `updated_at` has one-second
 * precision, so two different changes in the same second share a timestamp; the digest keeps their
 * keys apart, while a producer resending the same change still gets the same key.
 */
function digest(data: unknown): string {
  return createHash('sha256').update(JSON.stringify(data)).digest('base64url').slice(0, 12);
}

/**
 * Runs a zod parse and a mapping step, turning every failure into a {@link MappingError} that names
 * what was wrong — the reason an operator reads when the input is parked.
 */
function mapWith<S extends z.ZodType>(schema: S, map: (input: z.infer<S>) => MappedEvent[]): Mapper {
  return (payload) => {
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const issues = parsed.error.issues.map(
        (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
      );
      throw new MappingError(
        `payload does not match the expected shape: ${issues.slice(0, 5).join('; ')}`,
        issues,
      );
    }
    try {
      return map(parsed.data);
    } catch (error) {
      if (error instanceof MappingError) throw error;
      if (error instanceof HubError || error instanceof RangeError) {
        throw new MappingError(error.message, [error.message], { cause: error });
      }
      throw error;
    }
  };
}

const shopMoney = (set: ShopifyMoneySet, currency: string): Money => {
  if (set.shop_money.currency_code !== currency) {
    throw new MappingError(`amount in ${set.shop_money.currency_code} on an order in ${currency}`);
  }
  return money(set.shop_money.amount, currency);
};

const rateText = (rate: number | string): string => (typeof rate === 'number' ? rate.toString() : rate);

const taxLines = (lines: OrderPayload['tax_lines'], currency: string): TaxLine[] =>
  lines.map((line) => ({
    title: line.title,
    rate: rateText(line.rate),
    amount: shopMoney(line.price_set, currency),
  }));

const allocated = (allocations: readonly { amount_set: ShopifyMoneySet }[], currency: string): Money =>
  sumMoney(
    allocations.map((allocation) => shopMoney(allocation.amount_set, currency)),
    currency,
  );

/** Shopify's financial statuses the canonical order names as they are; anything else is `unknown`. */
const PAYMENT_STATUSES: ReadonlySet<string> = new Set(
  PaymentStatusSchema.options.filter((status) => status !== 'unknown'),
);

function shippingMethod(line: OrderPayload['shipping_lines'][number]): 'ship' | 'pickup' | 'local_delivery' {
  const category = line.delivery_category?.toLowerCase() ?? '';
  if (category.includes('pick')) return 'pickup';
  if (category.includes('local')) return 'local_delivery';
  return 'ship';
}

/**
 * Shopify order → canonical order. A POS sale is recognised only when both `source_name` is `pos`
 * and `location_id` is set: some apps inject location ids into online orders. Pick-up is read from
 * the shipping line's delivery category; the BOPIS flow confirms it on the fulfillment orders.
 */
export function mapOrder(payload: OrderPayload, shop: ShopContext): Order {
  const currency = payload.currency;
  const orderId = gidToId(payload.admin_graphql_api_id) ?? payload.id;
  const isPos = payload.source_name === 'pos' && payload.location_id !== null;
  const shippingLines = payload.shipping_lines.map((line) => ({
    lineId: line.id,
    code: line.code,
    title: line.title,
    method: shippingMethod(line),
    price: shopMoney(line.price_set, currency),
    discount: allocated(line.discount_allocations, currency),
    taxLines: taxLines(line.tax_lines, currency),
  }));
  const lines = payload.line_items.map((line) => ({
    lineId: gidToId(line.admin_graphql_api_id) ?? line.id,
    sku: line.sku?.trim() ? line.sku.trim() : null,
    variantId: line.variant_id,
    productId: line.product_id,
    title: line.title,
    variantTitle: line.variant_title,
    quantity: line.quantity,
    currentQuantity: line.current_quantity ?? line.quantity,
    unitPrice: shopMoney(line.price_set, currency),
    discount: allocated(line.discount_allocations, currency),
    taxLines: taxLines(line.tax_lines, currency),
    isGiftCard: line.gift_card,
    requiresShipping: line.requires_shipping,
    taxable: line.taxable,
  }));
  const totals: OrderTotals = {
    subtotal: shopMoney(payload.subtotal_price_set, currency),
    discounts: shopMoney(payload.total_discounts_set, currency),
    shipping: shopMoney(payload.total_shipping_price_set, currency),
    tax: shopMoney(payload.total_tax_set, currency),
    total: shopMoney(payload.total_price_set, currency),
  };
  const current = (set: ShopifyMoneySet | undefined, fallback: Money) =>
    set ? shopMoney(set, currency) : fallback;
  const methods = new Set(shippingLines.map((line) => line.method));
  const fulfilmentMethod = isPos
    ? 'carry_out'
    : methods.has('pickup')
      ? 'pickup'
      : methods.has('local_delivery')
        ? 'local_delivery'
        : shippingLines.length > 0 || lines.some((line) => line.requiresShipping)
          ? 'ship'
          : 'none';
  const financial = payload.financial_status ?? 'unknown';
  return {
    source: { system: 'shopify', account: shop.shopDomain, orderId, name: payload.name },
    channel: isPos ? 'pos' : 'online',
    storeLocationId: isPos ? payload.location_id : null,
    fulfilmentMethod,
    status: payload.cancelled_at ? 'cancelled' : payload.closed_at ? 'closed' : 'open',
    cancelReason: payload.cancel_reason,
    paymentStatus: (PAYMENT_STATUSES.has(financial) ? financial : 'unknown') as Order['paymentStatus'],
    paymentGateways: payload.payment_gateway_names,
    currency,
    presentment: {
      currency: payload.presentment_currency ?? currency,
      total: money(
        payload.total_price_set.presentment_money.amount,
        payload.total_price_set.presentment_money.currency_code,
      ),
    },
    taxesIncluded: payload.taxes_included,
    lines,
    shippingLines,
    discounts: payload.discount_codes.map((code) => ({
      code: code.code,
      kind: code.type,
      amount: money(code.amount, currency),
    })),
    taxLines: taxLines(payload.tax_lines, currency),
    totals,
    currentTotals: {
      subtotal: current(payload.current_subtotal_price_set, totals.subtotal),
      discounts: current(payload.current_total_discounts_set, totals.discounts),
      shipping: current(payload.current_shipping_price_set, totals.shipping),
      tax: current(payload.current_total_tax_set, totals.tax),
      total: current(payload.current_total_price_set, totals.total),
    },
    customerRef: payload.customer
      ? { system: 'shopify', id: gidToId(payload.customer.admin_graphql_api_id) ?? payload.customer.id }
      : null,
    test: payload.test,
    createdAt: toUtc(payload.created_at),
    updatedAt: toUtc(payload.updated_at),
    cancelledAt: payload.cancelled_at ? toUtc(payload.cancelled_at) : null,
  };
}

const orderEvent =
  (detailType: 'OrderCreated' | 'OrderUpdated' | 'OrderCancelled'): Mapper =>
  (payload, shop) =>
    mapWith(OrderPayloadSchema, (input) => {
      const order = mapOrder(input, shop);
      const version = Date.parse(order.updatedAt);
      const occurredAt = detailType === 'OrderCreated' ? order.createdAt : order.updatedAt;
      return [
        {
          detailType,
          data: order,
          idempotencyKey: `shopify:${shop.shopDomain}:order:${order.source.orderId}:${detailType}:${version}:${digest(order)}`,
          occurredAt,
          resourceId: order.source.orderId,
        },
      ];
    })(payload, shop);

/** Money returned: successful refund transactions, in their (presentment) currency. */
function refundedTotal(
  transactions: readonly { kind: string; status: string; amount: Money }[],
  shopCurrency: string,
): Money {
  const refunded = transactions.filter(
    (transaction) => transaction.kind === 'refund' && transaction.status === 'success',
  );
  const currencies = new Set(refunded.map((transaction) => transaction.amount.currency));
  if (currencies.size > 1)
    throw new MappingError(`refund transactions in several currencies: ${[...currencies].join(', ')}`);
  const [currency = shopCurrency] = currencies;
  return sumMoney(
    refunded.map((transaction) => transaction.amount),
    currency,
  );
}

function refundMapper(payload: unknown, shop: ShopContext): MappedEvent[] {
  return mapWith(RefundPayloadSchema, (input) => {
    // Lines are in the shop currency; transactions move money in the customer's (presentment) currency.
    const currency =
      input.refund_line_items[0]?.subtotal_set.shop_money.currency_code ??
      input.refund_shipping_lines[0]?.subtotal_amount_set.shop_money.currency_code ??
      input.order_adjustments[0]?.amount_set.shop_money.currency_code ??
      shop.currency;
    const refundId = gidToId(input.admin_graphql_api_id) ?? input.id;
    const transactions = input.transactions.map((transaction) => ({
      transactionId: gidToId(transaction.admin_graphql_api_id) ?? transaction.id,
      kind: transaction.kind,
      status: transaction.status,
      gateway: transaction.gateway,
      amount: money(transaction.amount, transaction.currency ?? currency),
    }));
    const data: EventData<'RefundCreated'> = {
      source: { system: 'shopify', account: shop.shopDomain, refundId, orderId: input.order_id },
      returnId: input.return ? (gidToId(input.return.admin_graphql_api_id) ?? input.return.id) : null,
      currency,
      note: input.note,
      restock: input.restock,
      lines: input.refund_line_items.map((line) => ({
        lineId: line.id,
        orderLineId: gidToId(line.line_item?.admin_graphql_api_id) ?? line.line_item_id,
        sku: line.line_item?.sku?.trim() ? line.line_item.sku.trim() : null,
        quantity: line.quantity,
        restockType: line.restock_type,
        locationId: line.location_id,
        subtotal: shopMoney(line.subtotal_set, currency),
        tax: shopMoney(line.total_tax_set, currency),
      })),
      shipping: sumMoney(
        input.refund_shipping_lines.map((line) => shopMoney(line.subtotal_amount_set, currency)),
        currency,
      ),
      adjustments: input.order_adjustments.map((adjustment) => ({
        kind: adjustment.kind,
        reason: adjustment.reason,
        amount: shopMoney(adjustment.amount_set, currency),
      })),
      transactions,
      total: refundedTotal(transactions, currency),
      createdAt: toUtc(input.created_at),
      processedAt: input.processed_at ? toUtc(input.processed_at) : null,
    };
    return [
      {
        detailType: 'RefundCreated',
        data,
        idempotencyKey: `shopify:${shop.shopDomain}:refund:${refundId}`,
        occurredAt: data.createdAt,
        resourceId: refundId,
      },
    ];
  })(payload, shop);
}

const inventoryLevelMapper: Mapper = (payload, shop) =>
  mapWith(InventoryLevelPayloadSchema, (input) => {
    const countedAt = toUtc(input.updated_at);
    const sequence = Date.parse(countedAt);
    return [
      {
        detailType: 'InventoryCounted',
        data: {
          item: { sku: null, shopifyInventoryItemId: input.inventory_item_id },
          location: { system: 'shopify', id: input.location_id },
          quantityName: 'available',
          quantity: input.available,
          sequence,
          countedAt,
        },
        idempotencyKey: `shopify:${shop.shopDomain}:inventory:${input.inventory_item_id}:${input.location_id}:${sequence}:${digest(input.available)}`,
        occurredAt: countedAt,
        resourceId: `${input.inventory_item_id}@${input.location_id}`,
      },
    ];
  })(payload, shop);

const PRODUCT_STATUSES = new Set(['active', 'draft', 'archived', 'unlisted']);

const productMapper: Mapper = (payload, shop) =>
  mapWith(ProductPayloadSchema, (input) => {
    const productId = gidToId(input.admin_graphql_api_id) ?? input.id;
    const updatedAt = toUtc(input.updated_at);
    const tags = Array.isArray(input.tags)
      ? input.tags
      : input.tags
          .split(',')
          .map((tag) => tag.trim())
          .filter(Boolean);
    const data: EventData<'ProductChanged'> = {
      source: { system: 'shopify', account: shop.shopDomain, productId },
      title: input.title,
      handle: input.handle,
      vendor: input.vendor,
      productType: input.product_type,
      status: (input.status && PRODUCT_STATUSES.has(input.status)
        ? input.status
        : 'unknown') as EventData<'ProductChanged'>['status'],
      tags,
      variants: input.variants.map((variant) => ({
        item: {
          sku: variant.sku?.trim() ? variant.sku.trim() : null,
          shopifyVariantId: gidToId(variant.admin_graphql_api_id) ?? variant.id,
          shopifyProductId: productId,
          ...(variant.inventory_item_id ? { shopifyInventoryItemId: variant.inventory_item_id } : {}),
        },
        title: variant.title,
        price: money(variant.price, shop.currency),
        compareAtPrice:
          variant.compare_at_price === null ||
          variant.compare_at_price === undefined ||
          variant.compare_at_price === ''
            ? null
            : money(variant.compare_at_price, shop.currency),
        barcode: variant.barcode,
        taxable: variant.taxable ?? null,
        inventoryTracked:
          variant.inventory_management === null ? null : variant.inventory_management === 'shopify',
        position: variant.position ?? null,
      })),
      updatedAt,
    };
    return [
      {
        detailType: 'ProductChanged',
        data,
        idempotencyKey: `shopify:${shop.shopDomain}:product:${productId}:${Date.parse(updatedAt)}:${digest(data)}`,
        occurredAt: updatedAt,
        resourceId: productId,
      },
    ];
  })(payload, shop);

/*
 * The compliance topics (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance).
 * Shopify sends the customer's email and phone along with the ids; the events carry the ids only
 * (schema 2.0): the hub finds what it holds by shop, customer and order ids, and the contact data
 * stays out of the bus, its archive and the queues' dead letters.
 */

const customerDataRequestMapper: Mapper = (payload, shop) =>
  mapWith(CustomerDataRequestPayloadSchema, (input) => [
    {
      detailType: 'CustomerDataRequested',
      data: {
        account: shop.shopDomain,
        shopId: input.shop_id,
        requestId: input.data_request.id,
        customer: { id: input.customer.id },
        orderIds: input.orders_requested,
      },
      idempotencyKey: `shopify:${shop.shopDomain}:data-request:${input.data_request.id}`,
      resourceId: input.customer.id,
    },
  ])(payload, shop);

const customerRedactMapper: Mapper = (payload, shop) =>
  mapWith(CustomerRedactPayloadSchema, (input) => [
    {
      detailType: 'CustomerRedactionRequested',
      data: {
        account: shop.shopDomain,
        shopId: input.shop_id,
        customer: { id: input.customer.id },
        orderIds: input.orders_to_redact,
      },
      idempotencyKey: `shopify:${shop.shopDomain}:customer-redact:${input.customer.id}`,
      resourceId: input.customer.id,
    },
  ])(payload, shop);

const shopRedactMapper: Mapper = (payload, shop) =>
  mapWith(ShopRedactPayloadSchema, (input) => [
    {
      detailType: 'ShopRedactionRequested',
      data: { account: shop.shopDomain, shopId: input.shop_id },
      idempotencyKey: `shopify:${shop.shopDomain}:shop-redact:${input.shop_id}`,
      resourceId: input.shop_id,
    },
  ])(payload, shop);

/**
 * The webhook topics the hub subscribes to and the canonical events they become. A topic that is not
 * here is acknowledged (200) and counted, never published.
 */
const TOPIC_MAPPERS: Readonly<Record<string, Mapper>> = {
  'orders/create': orderEvent('OrderCreated'),
  'orders/updated': orderEvent('OrderUpdated'),
  'orders/cancelled': orderEvent('OrderCancelled'),
  'refunds/create': refundMapper,
  'inventory_levels/update': inventoryLevelMapper,
  'products/update': productMapper,
  'customers/data_request': customerDataRequestMapper,
  'customers/redact': customerRedactMapper,
  'shop/redact': shopRedactMapper,
};

/**
 * The mapper of a topic, if the hub handles it. An own-property lookup: a topic named like an Object
 * member (`constructor`, `toString`) is simply not handled.
 */
export function shopifyTopicMapper(topic: string): Mapper | undefined {
  return Object.hasOwn(TOPIC_MAPPERS, topic) ? TOPIC_MAPPERS[topic] : undefined;
}

export const SHOPIFY_TOPICS: readonly string[] = Object.keys(TOPIC_MAPPERS);

/** Compliance topics must be answered even when everything else is switched off. */
export const SHOPIFY_COMPLIANCE_TOPICS = new Set([
  'customers/data_request',
  'customers/redact',
  'shop/redact',
]);
