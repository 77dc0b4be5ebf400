import { decimal, gid, inventoryLevelGid, moneySet, restId, restTime } from './ids.ts';
import {
  currentQuantity,
  editedQuantity,
  financialStatus,
  fulfillableQuantity,
  fulfillmentStatus,
  lineTax,
  totals,
} from './orders.ts';
import type {
  AddressRecord,
  FulfillmentOrderRecord,
  FulfillmentRecord,
  InventoryItemRecord,
  LineItemRecord,
  LocationRecord,
  OrderRecord,
  ProductRecord,
  RefundRecord,
  ShopStore,
} from './store.ts';

/**
 * Webhook bodies in Shopify's REST JSON shape, key for key as the documented samples in
 * `shared/fixtures/shopify/webhooks/` show them (2026-04 samples; order payloads carry
 * `line_item_groups`, no `checkout_id`). Numeric ids are JSON numbers — exact, because the sandbox
 * keeps ids below 2^53 — and every object carries its `admin_graphql_api_id`. Times are rendered
 * in the shop's time zone with its offset, as Shopify does.
 */

/** What the builders need to know about the shop. */
export interface PayloadContext {
  store: ShopStore;
  shopDomain: string;
  timeZone: string;
  /** Numeric shop id (REST `order_status_url` and friends). */
  shopId: string;
}

type Json = Record<string, unknown>;

const money = (ctx: PayloadContext, minor: number) => moneySet(minor, ctx.store.currency);

function address(a: AddressRecord | null): Json | null {
  if (!a) return null;
  return {
    first_name: a.firstName,
    address1: a.address1,
    phone: a.phone,
    city: a.city,
    zip: a.zip,
    province: a.province,
    country: a.country,
    last_name: a.lastName,
    address2: null,
    company: null,
    latitude: null,
    longitude: null,
    name: `${a.firstName} ${a.lastName}`,
    country_code: a.countryCode,
    province_code: a.provinceCode,
  };
}

function taxLines(ctx: PayloadContext, order: OrderRecord, minorTax: number, channel = false): Json[] {
  if (minorTax === 0 && order.taxRateBp === 0) return [];
  return [
    {
      channel_liable: channel,
      price: decimal(minorTax),
      price_set: money(ctx, minorTax),
      rate: order.taxRateBp / 10_000,
      title: order.taxTitle,
    },
  ];
}

/** A line item as it appears in orders/* payloads. */
export function lineItemPayload(ctx: PayloadContext, order: OrderRecord, line: LineItemRecord): Json {
  const qty = editedQuantity(line);
  return {
    id: restId(line.id),
    admin_graphql_api_id: gid('LineItem', line.id),
    attributed_staffs: [],
    current_quantity: currentQuantity(line),
    fulfillable_quantity: fulfillableQuantity(line, order),
    fulfillment_service: 'manual',
    fulfillment_status:
      line.fulfilledQuantity === 0 ? null : line.fulfilledQuantity >= qty ? 'fulfilled' : 'partial',
    gift_card: false,
    grams: line.grams,
    name: line.variantTitle ? `${line.title} - ${line.variantTitle}` : line.title,
    price: decimal(line.priceMinor),
    price_set: money(ctx, line.priceMinor),
    product_exists: line.productId !== null,
    product_id: line.productId ? restId(line.productId) : null,
    properties: [],
    quantity: qty,
    requires_shipping: line.requiresShipping,
    sales_line_item_group_id: null,
    sku: line.sku,
    taxable: line.taxable,
    title: line.title,
    total_discount: '0.00',
    total_discount_set: money(ctx, 0),
    variant_id: line.variantId ? restId(line.variantId) : null,
    variant_inventory_management: line.variantId ? 'shopify' : null,
    variant_title: line.variantTitle,
    vendor: line.vendor,
    tax_lines: taxLines(ctx, order, lineTax(order, line, qty)),
    duties: [],
    discount_allocations: [],
  };
}

function fulfillmentPayload(ctx: PayloadContext, order: OrderRecord, f: FulfillmentRecord): Json {
  const loc = ctx.store.locationById.get(f.locationId);
  return {
    id: restId(f.id),
    admin_graphql_api_id: gid('Fulfillment', f.id),
    created_at: restTime(f.createdAt, ctx.timeZone),
    location_id: loc ? restId(loc.id) : null,
    name: f.name,
    order_id: restId(order.id),
    origin_address: {},
    receipt: {},
    service: 'manual',
    shipment_status: null,
    status: f.status.toLowerCase(),
    tracking_company: f.trackingCompany,
    tracking_number: f.trackingNumber,
    tracking_numbers: f.trackingNumber ? [f.trackingNumber] : [],
    tracking_url: null,
    tracking_urls: [],
    updated_at: restTime(f.updatedAt, ctx.timeZone),
    line_items: f.lineItems.flatMap((fl) => {
      const line = order.lineItems.find((l) => l.id === fl.lineItemId);
      return line ? [{ ...lineItemPayload(ctx, order, line), quantity: fl.quantity }] : [];
    }),
  };
}

/** The orders/create, orders/updated, orders/cancelled (and orders/paid) body. */
export function orderPayload(ctx: PayloadContext, order: OrderRecord): Json {
  const t = totals(order);
  const tz = ctx.timeZone;
  const cur = ctx.store.currency;
  const shipping = order.shippingLine;
  return {
    id: restId(order.id),
    admin_graphql_api_id: gid('Order', order.id),
    app_id: 580111,
    browser_ip: null,
    buyer_accepts_marketing: false,
    cancel_reason: order.cancelReason ? order.cancelReason.toLowerCase() : null,
    cancelled_at: order.cancelledAt !== null ? restTime(order.cancelledAt, tz) : null,
    cart_token: null,
    checkout_token: null,
    client_details: null,
    closed_at: order.closedAt !== null ? restTime(order.closedAt, tz) : null,
    confirmation_number: order.token.slice(0, 9).toUpperCase(),
    confirmed: true,
    contact_email: order.email,
    created_at: restTime(order.createdAt, tz),
    currency: cur,
    current_shipping_price_set: money(ctx, t.currentShipping),
    current_subtotal_price: decimal(t.currentSubtotal),
    current_subtotal_price_set: money(ctx, t.currentSubtotal),
    current_total_additional_fees_set: null,
    current_total_discounts: '0.00',
    current_total_discounts_set: money(ctx, 0),
    current_total_duties_set: null,
    current_total_price: decimal(t.currentTotal),
    current_total_price_set: money(ctx, t.currentTotal),
    current_total_tax: decimal(t.currentTax),
    current_total_tax_set: money(ctx, t.currentTax),
    customer_locale: 'en',
    device_id: null,
    discount_codes: [],
    duties_included: false,
    email: order.email,
    estimated_taxes: false,
    financial_status: financialStatus(order),
    fulfillment_status: fulfillmentStatus(order),
    landing_site: null,
    landing_site_ref: null,
    location_id: null,
    merchant_business_entity_id: 'MTU0ODM4MDAwOQ',
    merchant_of_record_app_id: null,
    name: order.name,
    note: order.note,
    note_attributes: [],
    number: order.number - 1000,
    order_number: order.number,
    order_status_url: `https://${ctx.shopDomain}/${ctx.shopId}/orders/${order.token}/authenticate?key=${order.token.slice(0, 16)}`,
    original_total_additional_fees_set: null,
    original_total_duties_set: null,
    payment_gateway_names: ['shopify_payments'],
    phone: null,
    po_number: null,
    presentment_currency: cur,
    processed_at: restTime(order.processedAt, tz),
    reference: null,
    referring_site: null,
    source_identifier: null,
    source_name: order.sourceName,
    source_url: null,
    subtotal_price: decimal(t.subtotal),
    subtotal_price_set: money(ctx, t.subtotal),
    tags: order.tags.join(', '),
    tax_exempt: false,
    tax_lines: taxLines(ctx, order, t.tax),
    taxes_included: false,
    test: false,
    token: order.token,
    total_cash_rounding_payment_adjustment_set: money(ctx, 0),
    total_cash_rounding_refund_adjustment_set: money(ctx, 0),
    total_discounts: '0.00',
    total_discounts_set: money(ctx, 0),
    total_line_items_price: decimal(t.lineItemsPrice),
    total_line_items_price_set: money(ctx, t.lineItemsPrice),
    total_outstanding: decimal(t.outstanding),
    total_price: decimal(t.total),
    total_price_set: money(ctx, t.total),
    total_shipping_price_set: money(ctx, t.shipping),
    total_tax: decimal(t.tax),
    total_tax_set: money(ctx, t.tax),
    total_tip_received: '0.00',
    total_weight: t.weight,
    updated_at: restTime(order.updatedAt, tz),
    user_id: null,
    billing_address: address(order.billingAddress),
    customer: {
      id: restId(order.customer.id),
      created_at: restTime(order.customer.createdAt, tz),
      updated_at: restTime(order.customer.createdAt, tz),
      first_name: order.customer.firstName,
      last_name: order.customer.lastName,
      state: 'disabled',
      note: null,
      verified_email: true,
      multipass_identifier: null,
      tax_exempt: false,
      email: order.customer.email,
      phone: order.customer.phone,
      currency: cur,
      tax_exemptions: [],
      admin_graphql_api_id: gid('Customer', order.customer.id),
      default_address: order.shippingAddress
        ? {
            ...address(order.shippingAddress),
            id: restId(order.shippingAddress.id),
            customer_id: restId(order.customer.id),
            country_name: order.shippingAddress.country,
            default: true,
          }
        : null,
    },
    discount_applications: [],
    fulfillments: order.fulfillmentIds.flatMap((id) => {
      const f = ctx.store.fulfillmentById.get(id);
      return f ? [fulfillmentPayload(ctx, order, f)] : [];
    }),
    line_items: order.lineItems.map((line) => lineItemPayload(ctx, order, line)),
    payment_terms: null,
    refunds: order.refundIds.flatMap((id) => {
      const r = ctx.store.refundById.get(id);
      return r ? [refundPayload(ctx, r)] : [];
    }),
    shipping_address: address(order.shippingAddress),
    shipping_lines: [
      {
        id: restId(shipping.id),
        carrier_identifier: null,
        code: shipping.code,
        current_discounted_price_set: money(
          ctx,
          Math.max(0, shipping.priceMinor - order.shippingRefundedMinor),
        ),
        delivery_category: shipping.deliveryCategory,
        discounted_price: decimal(shipping.priceMinor),
        discounted_price_set: money(ctx, shipping.priceMinor),
        is_removed: false,
        phone: null,
        price: decimal(shipping.priceMinor),
        price_set: money(ctx, shipping.priceMinor),
        requested_fulfillment_service_id: null,
        source: shipping.source,
        title: shipping.title,
        tax_lines: [],
        discount_allocations: [],
      },
    ],
    returns: [],
    line_item_groups: [],
  };
}

/** The refunds/create body (also nested in order payloads). */
export function refundPayload(ctx: PayloadContext, refund: RefundRecord): Json {
  const order = ctx.store.orderById.get(refund.orderId);
  const tz = ctx.timeZone;
  const cur = ctx.store.currency;
  return {
    id: restId(refund.id),
    order_id: restId(refund.orderId),
    created_at: restTime(refund.createdAt, tz),
    note: refund.note,
    user_id: null,
    processed_at: restTime(refund.createdAt, tz),
    duties: [],
    total_duties_set: money(ctx, 0),
    return: refund.returnId
      ? { id: restId(refund.returnId), admin_graphql_api_id: gid('Return', refund.returnId) }
      : null,
    restock: refund.lineItems.some((l) => l.restockType !== 'NO_RESTOCK'),
    refund_shipping_lines: refund.shippingMinor
      ? [
          {
            id: restId(order?.shippingLine.id ?? '0'),
            shipping_line_id: restId(order?.shippingLine.id ?? '0'),
            subtotal_amount_set: money(ctx, refund.shippingMinor),
          },
        ]
      : [],
    admin_graphql_api_id: gid('Refund', refund.id),
    order_adjustments: [],
    refund_line_items: refund.lineItems.map((rl) => {
      const line = order?.lineItems.find((l) => l.id === rl.lineItemId);
      const li = order && line ? lineItemPayload(ctx, order, line) : null;
      return {
        id: restId(rl.id),
        quantity: rl.quantity,
        line_item_id: restId(rl.lineItemId),
        location_id: rl.locationId ? restId(rl.locationId) : null,
        restock_type: rl.restockType.toLowerCase(),
        subtotal: Number(decimal(rl.subtotalMinor)),
        total_tax: Number(decimal(rl.taxMinor)),
        subtotal_set: money(ctx, rl.subtotalMinor),
        total_tax_set: money(ctx, rl.taxMinor),
        line_item: li
          ? {
              id: li.id,
              variant_id: li.variant_id,
              title: li.title,
              quantity: li.quantity,
              sku: li.sku,
              variant_title: li.variant_title,
              vendor: li.vendor,
              fulfillment_service: li.fulfillment_service,
              product_id: li.product_id,
              requires_shipping: li.requires_shipping,
              taxable: li.taxable,
              gift_card: li.gift_card,
              name: li.name,
              variant_inventory_management: li.variant_inventory_management,
              properties: li.properties,
              product_exists: li.product_exists,
              fulfillable_quantity: li.fulfillable_quantity,
              grams: li.grams,
              price: li.price,
              total_discount: li.total_discount,
              fulfillment_status: li.fulfillment_status,
              price_set: li.price_set,
              total_discount_set: li.total_discount_set,
              discount_allocations: li.discount_allocations,
              duties: li.duties,
              admin_graphql_api_id: li.admin_graphql_api_id,
              tax_lines: li.tax_lines,
            }
          : null,
      };
    }),
    transactions: refund.transactionIds.flatMap((id) => {
      const tx = order?.transactions.find((t) => t.id === id);
      if (!tx || !order) return [];
      return [
        {
          id: restId(tx.id),
          order_id: restId(order.id),
          kind: tx.kind.toLowerCase(),
          gateway: tx.gateway,
          status: tx.status.toLowerCase(),
          message: 'Refund processed',
          created_at: restTime(tx.createdAt, tz),
          test: false,
          authorization: null,
          location_id: null,
          user_id: null,
          parent_id: tx.parentId ? restId(tx.parentId) : null,
          processed_at: restTime(tx.createdAt, tz),
          device_id: null,
          error_code: null,
          source_name: 'web',
          receipt: {},
          amount: decimal(tx.amountMinor),
          currency: cur,
          payment_id: `${order.token.slice(0, 12)}.${tx.id.slice(-3)}`,
          total_unsettled_set: {
            presentment_money: { amount: '0.0', currency: cur },
            shop_money: { amount: '0.0', currency: cur },
          },
          manual_payment_gateway: false,
          amount_rounding: null,
          admin_graphql_api_id: gid('OrderTransaction', tx.id),
        },
      ];
    }),
  };
}

/** The inventory_levels/update body. */
export function inventoryLevelPayload(
  ctx: PayloadContext,
  item: InventoryItemRecord,
  loc: LocationRecord,
  available: number,
  updatedAt: number,
): Json {
  return {
    inventory_item_id: restId(item.id),
    location_id: restId(loc.id),
    available,
    updated_at: restTime(updatedAt, ctx.timeZone),
    admin_graphql_api_id: inventoryLevelGid(loc.id, item.id),
  };
}

/** The products/update (and products/create) body. */
export function productPayload(ctx: PayloadContext, product: ProductRecord): Json {
  const tz = ctx.timeZone;
  const variants = product.variantIds.flatMap((id) => {
    const v = ctx.store.variantById.get(id);
    return v ? [v] : [];
  });
  return {
    admin_graphql_api_id: gid('Product', product.id),
    body_html: product.descriptionHtml,
    created_at: restTime(product.createdAt, tz),
    handle: product.handle,
    id: restId(product.id),
    product_type: product.productType,
    published_at: restTime(product.createdAt, tz),
    template_suffix: null,
    title: product.title,
    updated_at: restTime(product.updatedAt, tz),
    vendor: product.vendor,
    status: product.status.toLowerCase(),
    published_scope: 'global',
    tags: product.tags.join(', '),
    variants: variants.map((v) => {
      const item = ctx.store.itemById.get(v.inventoryItemId);
      const qty = item ? ctx.store.totalAvailable(item) : 0;
      return {
        admin_graphql_api_id: gid('ProductVariant', v.id),
        barcode: v.barcode,
        compare_at_price: v.compareAtMinor === null ? null : decimal(v.compareAtMinor),
        created_at: restTime(v.createdAt, tz),
        id: restId(v.id),
        inventory_policy: v.inventoryPolicy.toLowerCase(),
        position: v.position,
        price: decimal(v.priceMinor),
        product_id: restId(product.id),
        sku: v.sku,
        taxable: v.taxable,
        title: v.title,
        updated_at: restTime(v.updatedAt, tz),
        option1: v.optionValues[0] ?? null,
        option2: v.optionValues[1] ?? null,
        option3: v.optionValues[2] ?? null,
        image_id: null,
        inventory_item_id: item ? restId(item.id) : null,
        inventory_quantity: qty,
        old_inventory_quantity: qty,
      };
    }),
    options: product.optionNames.map((name, i) => ({
      name,
      id: restId(product.optionIds[i] ?? '0'),
      product_id: restId(product.id),
      position: i + 1,
      values: [
        ...new Set(variants.map((v) => v.optionValues[i]).filter((x): x is string => typeof x === 'string')),
      ],
    })),
    images: [],
    image: null,
    media: [],
    variant_gids: variants.map((v) => ({
      admin_graphql_api_id: gid('ProductVariant', v.id),
      updated_at: new Date(v.updatedAt).toISOString(),
    })),
    has_variants_that_requires_components: false,
    category: null,
  };
}

/** The fulfillment_orders/line_items_prepared_for_pickup body (the sample's shape: a GID id). */
export function preparedForPickupPayload(fo: FulfillmentOrderRecord): Json {
  return {
    fulfillment_order: {
      id: gid('FulfillmentOrder', fo.id),
      status: fo.status.toLowerCase(),
      preparable: false,
      delivery_method: { method_type: fo.deliveryMethod === 'PICK_UP' ? 'pickup' : 'shipping' },
    },
  };
}

/** The fulfillments/create body. */
export function fulfillmentCreatePayload(ctx: PayloadContext, f: FulfillmentRecord): Json {
  const order = ctx.store.orderById.get(f.orderId);
  return order ? fulfillmentPayload(ctx, order, f) : {};
}
