/**
 * Ids, money and time as the simulated Shopify store renders them.
 *
 * - Ids are strings of digits in the sandbox state. Real Shopify ids are 64-bit, and the documented
 *   sample payloads show ids above 2^53 that `JSON.parse` rounds; the sandbox keeps every id below
 *   2^53 (real captured ids are about 1e12–1e13) so that the numeric ids it puts in REST payloads are
 *   exact JSON numbers, while the GIDs (`gid://shopify/<Type>/<id>`) carry the same digits as text.
 * - Money is integer minor units inside, decimal strings (`"19.99"`) on the wire, as Shopify does.
 * - Times are epoch milliseconds inside; GraphQL renders UTC ISO-8601 without milliseconds
 *   (`2026-11-02T09:00:00Z`), REST payloads render the shop's local offset
 *   (`2026-11-02T04:00:00-05:00`), exactly as the fixtures in `shared/fixtures/shopify/webhooks` do.
 */

/** Shopify resource types the sandbox issues ids for. */
export type GidType =
  | 'Shop'
  | 'Location'
  | 'Product'
  | 'ProductVariant'
  | 'ProductOption'
  | 'InventoryItem'
  | 'InventoryAdjustmentGroup'
  | 'Order'
  | 'LineItem'
  | 'ShippingLine'
  | 'Customer'
  | 'MailingAddress'
  | 'FulfillmentOrder'
  | 'FulfillmentOrderLineItem'
  | 'Fulfillment'
  | 'FulfillmentLineItem'
  | 'Refund'
  | 'RefundLineItem'
  | 'OrderTransaction'
  | 'Return'
  | 'ReturnLineItem'
  | 'ReverseFulfillmentOrder'
  | 'ReverseFulfillmentOrderLineItem'
  | 'WebhookSubscription'
  | 'DeliveryMethod'
  | 'App'
  | 'ShopifyPaymentsAccount'
  | 'ShopifyPaymentsPayout'
  | 'ShopifyPaymentsBalanceTransaction';

/**
 * First id of each type. The magnitudes follow what real stores show (locations ~1e11, orders and
 * products ~1e12–1e13), and the ranges never overlap, so an id alone says what it is in logs.
 */
const BASE: Record<GidType, number> = {
  Shop: 71_000_000_000,
  Location: 72_000_000_000,
  Product: 8_100_000_000_000,
  ProductVariant: 45_000_000_000_000,
  ProductOption: 10_100_000_000_000,
  InventoryItem: 47_000_000_000_000,
  InventoryAdjustmentGroup: 29_000_000_000_000,
  Order: 6_100_000_000_000,
  LineItem: 15_200_000_000_000,
  ShippingLine: 5_000_000_000_000,
  Customer: 7_700_000_000_000,
  MailingAddress: 9_400_000_000_000,
  FulfillmentOrder: 7_100_000_000_000,
  FulfillmentOrderLineItem: 16_300_000_000_000,
  Fulfillment: 5_600_000_000_000,
  FulfillmentLineItem: 13_100_000_000_000,
  Refund: 9_800_000_000_000,
  RefundLineItem: 5_300_000_000_000,
  OrderTransaction: 7_900_000_000_000,
  Return: 12_400_000_000_000,
  ReturnLineItem: 19_700_000_000_000,
  ReverseFulfillmentOrder: 11_200_000_000_000,
  ReverseFulfillmentOrderLineItem: 18_500_000_000_000,
  WebhookSubscription: 1_500_000_000_000,
  DeliveryMethod: 3_300_000_000_000,
  App: 2_500_000,
  // Shopify Payments ids are issued by sandbox/shopify/payments.ts (its own counters, persisted with it).
  ShopifyPaymentsAccount: 0,
  ShopifyPaymentsPayout: 0,
  ShopifyPaymentsBalanceTransaction: 0,
};

/**
 * Sequential id allocator per type: deterministic (the same seed data and the same sequence of
 * operations give the same ids) and resettable.
 */
export class IdAllocator {
  private readonly next = new Map<GidType, number>();

  /** A new id of `type`, as a string of digits. */
  id(type: GidType): string {
    const n = (this.next.get(type) ?? 0) + 1;
    this.next.set(type, n);
    return String(BASE[type] + n * 17);
  }

  /** Back to the first id of every type. */
  reset(): void {
    this.next.clear();
  }
}

/** `gid://shopify/<Type>/<id>` */
export function gid(type: GidType, id: string): string {
  return `gid://shopify/${type}/${id}`;
}

/**
 * The GID of an inventory level. Shopify composes it from the location id and the inventory item
 * id (`gid://shopify/InventoryLevel/24826418?inventory_item_id=271878346596884015` in the docs).
 */
export function inventoryLevelGid(locationId: string, inventoryItemId: string): string {
  return `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${inventoryItemId}`;
}

/** Parses a GID into type and numeric id; undefined when it is not a Shopify GID of `type`. */
export function parseGid(
  value: unknown,
  type?: string,
): { type: string; id: string; query: string } | undefined {
  if (typeof value !== 'string') return undefined;
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(\?.*)?$/.exec(value);
  if (!m || (type !== undefined && m[1] !== type)) return undefined;
  return { type: m[1] as string, id: m[2] as string, query: m[3] ?? '' };
}

/** The numeric id in a REST payload: a JSON number (exact, because sandbox ids stay below 2^53). */
export function restId(id: string): number {
  const n = Number(id);
  if (!Number.isSafeInteger(n)) throw new RangeError(`id ${id} is not a safe integer`);
  return n;
}

/** Minor units → Shopify decimal string (`1999` → `"19.99"`). */
export function decimal(minor: number): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(Math.round(minor));
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Shopify decimal string → minor units; undefined when not a valid amount. */
export function parseDecimal(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.round(value * 100);
  if (typeof value !== 'string' || !/^-?\d+(\.\d{1,2})?$/.test(value.trim())) return undefined;
  const [whole, frac = ''] = value.trim().replace('-', '').split('.');
  const minor = Number(whole) * 100 + Number(frac.padEnd(2, '0'));
  return value.trim().startsWith('-') ? -minor : minor;
}

/** A REST money set: `{shop_money, presentment_money}` with the same amount (single-currency shop). */
export function moneySet(
  minor: number,
  currency: string,
): {
  shop_money: { amount: string; currency_code: string };
  presentment_money: { amount: string; currency_code: string };
} {
  const m = { amount: decimal(minor), currency_code: currency };
  return { shop_money: m, presentment_money: { ...m } };
}

/** GraphQL `DateTime`: UTC ISO-8601 without milliseconds. */
export function gqlTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/**
 * REST time in the shop's time zone with its offset (`2026-11-02T04:00:00-05:00`), as Shopify
 * renders webhook payloads.
 */
export function restTime(ms: number, timeZone: string): string {
  const date = new Date(Math.floor(ms / 1000) * 1000);
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '00';
  const local = `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}:${get('second')}`;
  const asUtc = Date.parse(`${local}Z`);
  const offsetMin = Math.round((asUtc - date.getTime()) / 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}
