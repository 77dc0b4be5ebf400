import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getJson, OpsError } from './hub.ts';

/**
 * `send-shopify orders/create --sample`: an `orders/create` body the running local cloud can book. The shape
 * is Shopify's own (the captured `orders/create` webhook in test/fixtures/shopify/webhooks, see SOURCES.md);
 * what the ERP needs to know is taken from the running Shopify sandbox — one of its variants (SKU, title,
 * price, product and variant ids), its shop currency and the gateway its checkout uses — so the order maps
 * onto the mappings `npm start` built from the sandboxes and is booked, where the fixture as captured (SKUs
 * of Shopify's demo shop) is parked UNKNOWN_MAPPING.
 *
 * Each sample is a new order: its id is taken from the clock (about 1.8e12, below the Shopify sandbox's own
 * order ids, which start at 6.1e12 — sandbox/shopify/ids.ts — so a sample never collides with an order the
 * sandbox places), and its totals reconcile (one line, no tax, shipping or discount).
 */
const FIXTURE = fileURLToPath(
  new URL('../../test/fixtures/shopify/webhooks/orders__create.json', import.meta.url),
);

/** The gateway the Shopify sandbox's checkout records (sandbox/shopify/payloads.ts `payment_gateway_names`). */
const SANDBOX_GATEWAY = 'shopify_payments';

interface SandboxVariant {
  id: string;
  sku: string;
  title: string;
  price: string;
}
interface SandboxShopState {
  shop: { domain: string; currency: string };
  records: {
    products: { total: number; items: { id: string; title: string; variants: SandboxVariant[] }[] };
  };
}

export interface SampleOrder {
  readonly shopDomain: string;
  readonly body: Record<string, unknown>;
  readonly summary: string;
}

const moneySet = (amount: string, currency: string) => ({
  shop_money: { amount, currency_code: currency },
  presentment_money: { amount, currency_code: currency },
});

/** Shopify's REST time format: seconds, with an offset (UTC here). */
const restTime = (at: Date) => at.toISOString().replace(/\.\d{3}Z$/, '+00:00');

export async function sampleOrder(url: string, now: Date = new Date()): Promise<SampleOrder> {
  // One of the first hundred products, chosen by the clock: repeated samples vary their SKUs.
  const pick = now.getTime();
  const offset = pick % 100;
  const { status, body: state } = await getJson<SandboxShopState>(
    `${url}/_sandbox/shopify/_control/state?records=products&limit=1&offset=${offset}`,
  );
  if (status !== 200)
    throw new OpsError(
      `no Shopify sandbox at ${url}/_sandbox/shopify (${status}): --sample needs npm start's sandboxes`,
    );
  const product = state.records.products.items[0];
  const variants = (product?.variants ?? []).filter((variant) => variant.sku);
  const variant = variants[pick % Math.max(variants.length, 1)];
  if (!product || !variant) throw new OpsError('the Shopify sandbox has no product with a SKU to sample');

  const currency = state.shop.currency;
  const orderId = String(pick);
  const lineId = String(pick * 10 + 1);
  const price = variant.price;
  const zero = '0.00';
  const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, unknown>;
  const [lineTemplate] = fixture.line_items as Record<string, unknown>[];
  const at = restTime(now);
  const number = Number(orderId.slice(-6));
  const line = {
    ...lineTemplate,
    id: Number(lineId),
    admin_graphql_api_id: `gid://shopify/LineItem/${lineId}`,
    attributed_staffs: [],
    current_quantity: 1,
    fulfillable_quantity: 1,
    fulfillment_status: null,
    name: `${product.title} - ${variant.title}`,
    title: product.title,
    variant_title: variant.title,
    price,
    price_set: moneySet(price, currency),
    product_id: Number(product.id),
    variant_id: Number(variant.id),
    quantity: 1,
    sku: variant.sku,
    total_discount: zero,
    total_discount_set: moneySet(zero, currency),
    tax_lines: [],
    duties: [],
    discount_allocations: [],
  };
  const body: Record<string, unknown> = {
    ...fixture,
    id: Number(orderId),
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#${number}`,
    number: number - 1000,
    order_number: number,
    created_at: at,
    updated_at: at,
    processed_at: at,
    cancelled_at: null,
    cancel_reason: null,
    closed_at: null,
    test: false,
    currency,
    presentment_currency: currency,
    financial_status: 'paid',
    fulfillment_status: null,
    payment_gateway_names: [SANDBOX_GATEWAY],
    line_items: [line],
    shipping_lines: [],
    discount_codes: [],
    discount_applications: [],
    tax_lines: [],
    refunds: [],
    fulfillments: [],
    returns: [],
    line_item_groups: [],
    subtotal_price: price,
    subtotal_price_set: moneySet(price, currency),
    current_subtotal_price: price,
    current_subtotal_price_set: moneySet(price, currency),
    total_line_items_price: price,
    total_line_items_price_set: moneySet(price, currency),
    total_price: price,
    total_price_set: moneySet(price, currency),
    current_total_price: price,
    current_total_price_set: moneySet(price, currency),
    total_discounts: zero,
    total_discounts_set: moneySet(zero, currency),
    current_total_discounts: zero,
    current_total_discounts_set: moneySet(zero, currency),
    total_tax: zero,
    total_tax_set: moneySet(zero, currency),
    current_total_tax: zero,
    current_total_tax_set: moneySet(zero, currency),
    total_shipping_price_set: moneySet(zero, currency),
    current_shipping_price_set: moneySet(zero, currency),
    total_outstanding: zero,
  };
  return {
    shopDomain: state.shop.domain,
    body,
    summary: `sample order ${orderId} (#${number}): 1 × ${variant.sku} at ${price} ${currency}, paid with ${SANDBOX_GATEWAY}`,
  };
}
