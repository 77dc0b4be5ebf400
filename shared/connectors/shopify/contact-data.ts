import { gidToId } from './json.ts';

/**
 * Where a Shopify REST payload (orders, refunds, customers, the compliance topics) holds a person's
 * contact data, and how the hub redacts it. Redaction keeps everything booking reads (ids, lines,
 * prices, taxes, discounts, shipping lines, payment gateways, statuses and times — see `mapOrder`), so a
 * redacted order still maps to the same canonical order and can be replayed; what goes is who bought and
 * where it went. Shopify's own erasure does the same: it erases "personal data, such as your customer's
 * name and address" and keeps what was sold
 * (https://help.shopify.com/en/manual/privacy-and-security/privacy/processing-customer-data-requests).
 *
 * The rules apply at any depth (a refund's order, a fulfilment's destination, an order's customer):
 * - `customer` keeps its `id` and `admin_graphql_api_id` only;
 * - address and client objects become null;
 * - contact fields, free text a buyer or merchant typed, and capability tokens (an order status URL
 *   shows the buyer's address to whoever has it) become null;
 * - free-form lists (note attributes, line item properties such as an engraving) become empty.
 */
const CUSTOMER_KEPT = new Set(['id', 'admin_graphql_api_id']);
const NULLED = new Set([
  // address and client objects
  'billing_address',
  'shipping_address',
  'default_address',
  'destination',
  'client_details',
  'payment_details',
  'receipt',
  // contact fields
  'email',
  'contact_email',
  'phone',
  'first_name',
  'last_name',
  'name_on_card',
  'company',
  'address1',
  'address2',
  'zip',
  'latitude',
  'longitude',
  'browser_ip',
  // free text and capability tokens
  'note',
  'order_status_url',
  'token',
  'cart_token',
  'checkout_token',
  'landing_site',
  'referring_site',
]);
const EMPTIED = new Set(['addresses', 'note_attributes', 'properties']);

const isEmpty = (value: unknown): boolean =>
  value === null || value === undefined || (Array.isArray(value) && value.length === 0);

/** Array indices collapse (`$.line_items[].properties`), so a report names fields, not positions. */
const child = (path: string, key: string) => `${path}.${key}`;

export interface ContactDataRedaction {
  /** The payload without contact data (the same value when there was none). */
  readonly value: unknown;
  /** The fields that held contact data, as JSON paths (`$.customer.email`, `$.billing_address`). */
  readonly removed: readonly string[];
}

/**
 * The payload with its contact data removed, and where there was some. Idempotent: a redacted payload
 * has nothing left to remove (`removed` is empty), which is how a re-run knows it changed nothing.
 */
export function redactContactData(payload: unknown): ContactDataRedaction {
  const removed = new Set<string>();
  const walk = (value: unknown, path: string): unknown => {
    if (Array.isArray(value)) return value.map((item) => walk(item, `${path}[]`));
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value)) {
      const at = child(path, key);
      if (NULLED.has(key)) {
        if (!isEmpty(inner)) removed.add(at);
        out[key] = null;
      } else if (EMPTIED.has(key)) {
        if (!isEmpty(inner)) removed.add(at);
        out[key] = [];
      } else if (key === 'customer' && inner !== null && typeof inner === 'object' && !Array.isArray(inner)) {
        const kept: Record<string, unknown> = {};
        for (const [field, fieldValue] of Object.entries(inner)) {
          if (CUSTOMER_KEPT.has(field)) kept[field] = fieldValue;
          else if (!isEmpty(fieldValue)) removed.add(child(at, field));
        }
        out[key] = kept;
      } else {
        out[key] = walk(inner, at);
      }
    }
    return out;
  };
  const value = walk(payload, '$');
  return { value: removed.size > 0 ? value : payload, removed: [...removed].sort() };
}

/** The order and customer ids a payload is about, for finding it again when a redaction comes. */
export interface PayloadSubjects {
  readonly orderIds: string[];
  readonly customerIds: string[];
}

const record = (value: unknown): Record<string, unknown> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;

const idText = (value: unknown): string | undefined =>
  typeof value === 'string' && /^\d+$/.test(value)
    ? value
    : typeof value === 'number' && Number.isSafeInteger(value)
      ? String(value)
      : undefined;

/** An object's id both ways Shopify writes it: the numeric id and the GID (exact where the number is rounded). */
function idsOf(value: unknown): string[] {
  const object = record(value);
  if (!object) return [];
  const gid =
    typeof object.admin_graphql_api_id === 'string' ? gidToId(object.admin_graphql_api_id) : undefined;
  return [idText(object.id), gid].filter((id): id is string => id !== undefined);
}

const idList = (value: unknown): string[] =>
  Array.isArray(value) ? value.map(idText).filter((id): id is string => id !== undefined) : [];

/**
 * Best effort, from a payload as `parseShopifyJson` reads it (even one the mapper refused): an order
 * topic's own id, a refund's `order_id`, the compliance topics' order lists, and the customer's id.
 */
export function shopifyPayloadSubjects(topic: string, payload: unknown): PayloadSubjects {
  const body = record(payload);
  if (!body) return { orderIds: [], customerIds: [] };
  const orderIds = [
    ...(topic.startsWith('orders/') ? idsOf(body) : []),
    ...[idText(body.order_id)].filter((id): id is string => id !== undefined),
    ...idList(body.orders_to_redact),
    ...idList(body.orders_requested),
  ];
  return { orderIds: [...new Set(orderIds)], customerIds: [...new Set(idsOf(body.customer))] };
}
