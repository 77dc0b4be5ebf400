/**
 * Shopify signs the body, not the headers: `X-Shopify-Topic` and `X-Shopify-Shop-Domain` are claims.
 * A captured body re-sent under another topic (an `orders/create` body as `orders/cancelled`) or a
 * compliance body presented under another configured shop's header must not be acted on as claimed:
 * the body has to fit the topic, and a body that names its shop has to name the header's.
 */
export interface TopicMismatch {
  readonly code: 'TOPIC_PAYLOAD_MISMATCH' | 'SHOP_MISMATCH';
  readonly reason: string;
}

const has = (payload: Record<string, unknown>, key: string) =>
  payload[key] !== undefined && payload[key] !== null && payload[key] !== '';
const isArray = (payload: Record<string, unknown>, key: string) => Array.isArray(payload[key]);
const isObject = (payload: Record<string, unknown>, key: string) =>
  typeof payload[key] === 'object' && payload[key] !== null && !Array.isArray(payload[key]);

const notAnOrder = (payload: Record<string, unknown>): string | undefined =>
  has(payload, 'id') && isArray(payload, 'line_items') ? undefined : 'not an order (id, line_items)';

/** What each handled topic's body must carry (the shapes of shopify.dev's webhook reference). */
const BODY_RULES: Readonly<Record<string, (payload: Record<string, unknown>) => string | undefined>> = {
  'orders/create': (payload) => notAnOrder(payload),
  'orders/updated': (payload) => notAnOrder(payload),
  'orders/cancelled': (payload) =>
    notAnOrder(payload) ?? (has(payload, 'cancelled_at') ? undefined : 'a cancellation without cancelled_at'),
  'refunds/create': (payload) =>
    has(payload, 'order_id') && isArray(payload, 'refund_line_items')
      ? undefined
      : 'not a refund (order_id, refund_line_items)',
  'inventory_levels/update': (payload) =>
    has(payload, 'inventory_item_id') && has(payload, 'location_id')
      ? undefined
      : 'not an inventory level (inventory_item_id, location_id)',
  'products/update': (payload) =>
    has(payload, 'id') && isArray(payload, 'variants') ? undefined : 'not a product (id, variants)',
  'customers/data_request': (payload) =>
    isObject(payload, 'customer') && isObject(payload, 'data_request')
      ? undefined
      : 'not a data request (customer, data_request)',
  'customers/redact': (payload) =>
    isObject(payload, 'customer') && isArray(payload, 'orders_to_redact')
      ? undefined
      : 'not a customer redaction (customer, orders_to_redact)',
  'shop/redact': (payload) =>
    has(payload, 'shop_id') && !isObject(payload, 'customer') ? undefined : 'not a shop redaction (shop_id)',
};

/** Why `payload` cannot be the `topic` delivery of `shopDomain`, or undefined when it fits. */
export function topicMismatch(
  topic: string,
  payload: Record<string, unknown>,
  shopDomain: string,
): TopicMismatch | undefined {
  const bodyShop = payload.shop_domain;
  if (typeof bodyShop === 'string' && bodyShop.trim().toLowerCase() !== shopDomain) {
    return {
      code: 'SHOP_MISMATCH',
      reason: `the body is for shop ${bodyShop}, the header says ${shopDomain}`,
    };
  }
  const rule = Object.hasOwn(BODY_RULES, topic) ? BODY_RULES[topic] : undefined;
  const problem = rule?.(payload);
  return problem ? { code: 'TOPIC_PAYLOAD_MISMATCH', reason: `${topic}: ${problem}` } : undefined;
}
