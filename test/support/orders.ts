import { sumMoney } from '#shared/events/money.ts';
import {
  type Order,
  type OrderLine,
  OrderSchema,
  type ShippingLine,
  type TaxLine,
} from '#shared/events/order.ts';

/** One product line for {@link canonicalOrder}: amounts in minor units of the order currency. */
export interface LineSpec {
  /** @default 1000 + index */
  lineId?: string;
  sku: string | null;
  unitPrice: number;
  quantity?: number;
  discount?: number;
  tax?: { title: string; rate: string; amount: number }[];
  giftCard?: boolean;
  title?: string;
}

export interface OrderSpec {
  system?: 'shopify' | 'pos';
  account?: string;
  orderId?: string;
  name?: string | null;
  channel?: 'online' | 'pos';
  storeLocationId?: string | null;
  currency?: string;
  presentment?: { currency: string; total: number };
  taxesIncluded?: boolean;
  status?: Order['status'];
  gateways?: string[];
  lines: LineSpec[];
  shipping?: {
    title: string;
    price: number;
    discount?: number;
    tax?: { title: string; rate: string; amount: number }[];
  }[];
  /** Discount not allocated to any line (Shopify `total_discounts` above the allocations). */
  orderDiscount?: number;
  discountCodes?: string[];
  createdAt?: string;
  updatedAt?: string;
}

/**
 * A valid canonical order whose totals are computed from its lines the way Shopify computes them
 * (tax added on top unless `taxesIncluded`), for tests that need orders the fixtures do not have:
 * POS sales, tax-inclusive shops, other currencies, orders for the sandbox's own SKUs.
 */
export function canonicalOrder(spec: OrderSpec): Order {
  const currency = spec.currency ?? 'USD';
  const money = (amount: number) => ({ amount, currency });
  const taxes = (list: LineSpec['tax']): TaxLine[] =>
    (list ?? []).map((t) => ({ title: t.title, rate: t.rate, amount: money(t.amount) }));
  const lines: OrderLine[] = spec.lines.map((line, index) => ({
    lineId: line.lineId ?? String(1000 + index),
    sku: line.sku,
    variantId: null,
    productId: null,
    title: line.title ?? `Product ${line.sku ?? index}`,
    variantTitle: null,
    quantity: line.quantity ?? 1,
    currentQuantity: line.quantity ?? 1,
    unitPrice: money(line.unitPrice),
    discount: money(line.discount ?? 0),
    taxLines: taxes(line.tax),
    isGiftCard: line.giftCard ?? false,
    requiresShipping: !(line.giftCard ?? false),
    taxable: (line.tax ?? []).length > 0,
  }));
  const shippingLines: ShippingLine[] = (spec.shipping ?? []).map((s, index) => ({
    lineId: String(2000 + index),
    code: null,
    title: s.title,
    method: 'ship',
    price: money(s.price),
    discount: money(s.discount ?? 0),
    taxLines: taxes(s.tax),
  }));
  const itemsGross = lines.reduce((t, l) => t + l.unitPrice.amount * l.quantity, 0);
  const lineDiscounts = lines.reduce((t, l) => t + l.discount.amount, 0);
  const shipping = shippingLines.reduce((t, s) => t + s.price.amount, 0);
  const shippingDiscounts = shippingLines.reduce((t, s) => t + s.discount.amount, 0);
  const discounts = lineDiscounts + shippingDiscounts + (spec.orderDiscount ?? 0);
  const allTaxes = [...lines.flatMap((l) => l.taxLines), ...shippingLines.flatMap((s) => s.taxLines)];
  const tax = sumMoney(
    allTaxes.map((t) => t.amount),
    currency,
  ).amount;
  const taxesIncluded = spec.taxesIncluded ?? false;
  const total = itemsGross - discounts + shipping + (taxesIncluded ? 0 : tax);
  const totals = {
    subtotal: money(itemsGross - lineDiscounts - (spec.orderDiscount ?? 0)),
    discounts: money(discounts),
    shipping: money(shipping),
    tax: money(tax),
    total: money(total),
  };
  const channel = spec.channel ?? (spec.system === 'pos' ? 'pos' : 'online');
  const createdAt = spec.createdAt ?? '2026-11-27T17:00:00.000Z';
  return OrderSchema.parse({
    source: {
      system: spec.system ?? 'shopify',
      account: spec.account ?? 'acme.myshopify.com',
      orderId: spec.orderId ?? '5550001',
      name: spec.name === undefined ? '#1001' : spec.name,
    },
    channel,
    storeLocationId: spec.storeLocationId ?? (channel === 'pos' ? 'L1' : null),
    fulfilmentMethod: channel === 'pos' ? 'carry_out' : 'ship',
    status: spec.status ?? 'open',
    cancelReason: null,
    paymentStatus: 'paid',
    paymentGateways: spec.gateways ?? (channel === 'pos' ? ['cash'] : ['shopify_payments']),
    currency,
    presentment: spec.presentment
      ? {
          currency: spec.presentment.currency,
          total: { amount: spec.presentment.total, currency: spec.presentment.currency },
        }
      : { currency, total: money(total) },
    taxesIncluded,
    lines,
    shippingLines,
    discounts: (spec.discountCodes ?? []).map((code) => ({
      code,
      kind: 'fixed_amount',
      amount: money(discounts),
    })),
    taxLines: [],
    totals,
    currentTotals: totals,
    customerRef: null,
    test: false,
    createdAt,
    updatedAt: spec.updatedAt ?? createdAt,
    cancelledAt: spec.status === 'cancelled' ? createdAt : null,
  });
}
