import type { LineItemRecord, OrderRecord, ShopStore } from './store.ts';

/**
 * Order arithmetic shared by the GraphQL views and the REST payloads, so both always agree:
 * quantities after edits, refunds and fulfilments, tax per line, totals and statuses, the way
 * Shopify's `current_*` and `total_*` fields behave.
 */

/** Units still on the order (after edits and refunds): Shopify's `current_quantity`. */
export function currentQuantity(line: LineItemRecord): number {
  return Math.max(0, line.quantity - line.removedQuantity - line.refundedQuantity);
}

/** Units on the order after edits, before refunds (what `total_*` is computed on). */
export function editedQuantity(line: LineItemRecord): number {
  return Math.max(0, line.quantity - line.removedQuantity);
}

/** Units that can still be fulfilled: Shopify's `fulfillable_quantity`. */
export function fulfillableQuantity(line: LineItemRecord, order: OrderRecord): number {
  if (order.cancelledAt !== null) return 0;
  return Math.max(0, line.quantity - line.removedQuantity - line.fulfilledQuantity - line.cancelledQuantity);
}

/** Tax on `minor` at `bp` basis points, rounded half up. */
export function taxOf(minor: number, bp: number): number {
  return Math.round((minor * bp) / 10_000);
}

/** Line tax for `qty` units. */
export function lineTax(order: OrderRecord, line: LineItemRecord, qty: number): number {
  return line.taxable ? taxOf(line.priceMinor * qty, order.taxRateBp) : 0;
}

/** Totals of an order, in minor units. */
export interface OrderTotals {
  lineItemsPrice: number;
  subtotal: number;
  tax: number;
  shipping: number;
  total: number;
  currentSubtotal: number;
  currentTax: number;
  currentShipping: number;
  currentTotal: number;
  refunded: number;
  outstanding: number;
  weight: number;
}

/** Computes every total the payloads and views show. */
export function totals(order: OrderRecord): OrderTotals {
  let subtotal = 0;
  let tax = 0;
  let currentSubtotal = 0;
  let currentTax = 0;
  let weight = 0;
  let lineItemsPrice = 0;
  for (const line of order.lineItems) {
    const q = editedQuantity(line);
    const c = currentQuantity(line);
    lineItemsPrice += line.priceMinor * q;
    subtotal += line.priceMinor * q;
    tax += lineTax(order, line, q);
    currentSubtotal += line.priceMinor * c;
    currentTax += lineTax(order, line, c);
    weight += line.grams * c;
  }
  const shipping = order.shippingLine.priceMinor;
  const currentShipping = Math.max(0, shipping - order.shippingRefundedMinor);
  const refunded = order.transactions
    .filter((t) => t.kind === 'REFUND')
    .reduce((sum, t) => sum + t.amountMinor, 0);
  const total = subtotal + tax + shipping;
  const currentTotal = currentSubtotal + currentTax + currentShipping;
  const paid = order.transactions.filter((t) => t.kind === 'SALE').reduce((sum, t) => sum + t.amountMinor, 0);
  return {
    lineItemsPrice,
    subtotal,
    tax,
    shipping,
    total,
    currentSubtotal,
    currentTax,
    currentShipping,
    currentTotal,
    refunded,
    outstanding: Math.max(0, currentTotal - (paid - refunded)),
    weight,
  };
}

/** REST `financial_status`. */
export function financialStatus(order: OrderRecord): 'paid' | 'partially_refunded' | 'refunded' | 'voided' {
  const t = totals(order);
  if (order.transactions.some((x) => x.kind === 'VOID')) return 'voided';
  if (t.refunded <= 0) return 'paid';
  const paid = order.transactions.filter((x) => x.kind === 'SALE').reduce((sum, x) => sum + x.amountMinor, 0);
  return t.refunded >= paid ? 'refunded' : 'partially_refunded';
}

/** REST `fulfillment_status`: null, `partial` or `fulfilled`. */
export function fulfillmentStatus(order: OrderRecord): 'fulfilled' | 'partial' | null {
  const fulfilled = order.lineItems.reduce((s, l) => s + l.fulfilledQuantity, 0);
  if (fulfilled === 0) return null;
  const open = order.lineItems.reduce((s, l) => s + fulfillableQuantity(l, order), 0);
  return open === 0 ? 'fulfilled' : 'partial';
}

/** GraphQL `displayFulfillmentStatus`. */
export function displayFulfillmentStatus(order: OrderRecord): string {
  const s = fulfillmentStatus(order);
  if (s === 'fulfilled') return 'FULFILLED';
  if (s === 'partial') return 'PARTIALLY_FULFILLED';
  if (order.cancelledAt !== null) return 'UNFULFILLED';
  return 'UNFULFILLED';
}

/** Updates `order.updatedAt` to `at`, strictly after its previous value (Shopify's clock is per order). */
export function touch(order: OrderRecord, at: number): number {
  order.updatedAt = Math.max(at, order.updatedAt + 1000);
  return order.updatedAt;
}

/** The store's total available for a line's variant (for inventory policy checks). */
export function variantAvailable(store: ShopStore, variantId: string | null): number {
  const v = variantId ? store.variantById.get(variantId) : undefined;
  const item = v ? store.itemById.get(v.inventoryItemId) : undefined;
  return item ? store.totalAvailable(item) : 0;
}
