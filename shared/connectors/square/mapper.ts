import { MappingError } from '../../errors.ts';
import { toUtc } from '../../events/common.ts';
import { currencyExponent, type Money } from '../../events/money.ts';
import type { Order, OrderLine, OrderTotals, TaxLine } from '../../events/order.ts';
import { type VariationInfo, variationKey } from './client.ts';
import { PosUnsupportedOrderError } from './errors.ts';
import { type SquareLineItem, type SquareMoney, type SquareOrder, SquareOrderSchema } from './payloads.ts';

/** What the mapper knows besides the order: the merchant (from the webhook) and the sold variations. */
export interface PosOrderContext {
  /** Square merchant id: the canonical `source.account`, part of the ERP external id. */
  readonly merchantId: string;
  /** Catalog variations of the lines by {@link variationKey}; missing or null → the line has no SKU. */
  readonly variations: ReadonlyMap<string, VariationInfo | null>;
}

/** Parses a Square Order; a shape the hub cannot read is a {@link MappingError} naming the paths. */
export function parseSquareOrder(raw: unknown): SquareOrder {
  const parsed = SquareOrderSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new MappingError(
    `Square order does not match the expected shape: ${issues.slice(0, 5).join('; ')}`,
    issues,
  );
}

/** The catalog variations an order's lines were sold as (with the catalog version of the sale). */
export function catalogRefs(order: SquareOrder): { id: string; version: number | null }[] {
  const refs = new Map<string, { id: string; version: number | null }>();
  for (const line of order.line_items) {
    if (!line.catalog_object_id) continue;
    const ref = { id: line.catalog_object_id, version: line.catalog_version ?? null };
    refs.set(variationKey(ref.id, ref.version), ref);
  }
  return [...refs.values()];
}

/**
 * Square `percentage` ("9", "8.875") → canonical decimal rate ("0.09", "0.08875"), by moving the
 * decimal point in the string: no floating point.
 */
export function percentageToRate(percentage: string): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(percentage.trim());
  if (!match) throw new MappingError(`tax percentage ${JSON.stringify(percentage)} is not a decimal`);
  const [, whole = '0', fraction = ''] = match;
  const padded = whole.padStart(3, '0');
  const integer = padded.slice(0, -2).replace(/^0+(?=\d)/, '');
  const decimals = `${padded.slice(-2)}${fraction}`.replace(/0+$/, '');
  return decimals ? `${integer}.${decimals}` : integer;
}

/** Effective rate `tax / base` to four decimals, for taxes Square reports without a percentage. */
export function effectiveRate(tax: number, base: number): string {
  if (base <= 0 || tax <= 0) return '0';
  const scaled = Math.round((tax * 10_000) / base);
  const text = scaled.toString().padStart(5, '0');
  const decimals = text.slice(-4).replace(/0+$/, '');
  const integer = text.slice(0, -4);
  return decimals ? `${integer}.${decimals}` : integer;
}

const sum = (values: readonly number[]): number => values.reduce((total, value) => total + value, 0);

/** Square tender types as payment gateway names (the mapping table's `gateway#<name>`). */
function gatewayOf(tenderType: string): string {
  return tenderType === 'SQUARE_GIFT_CARD' ? 'gift_card' : tenderType.toLowerCase();
}

function fulfilmentOf(order: SquareOrder): Order['fulfilmentMethod'] {
  const types = new Set(order.fulfillments.map((fulfillment) => fulfillment.type));
  if (types.has('SHIPMENT')) return 'ship';
  if (types.has('DELIVERY')) return 'local_delivery';
  if (types.has('PICKUP')) return 'pickup';
  return 'carry_out';
}

function statusOf(state: string): Order['status'] {
  if (state === 'COMPLETED') return 'closed';
  if (state === 'CANCELED') return 'cancelled';
  return 'open';
}

function paymentStatusOf(order: SquareOrder, total: number, tendered: number, refunded: number) {
  if (refunded > 0) return refunded >= tendered ? 'refunded' : 'partially_refunded';
  if (order.state === 'CANCELED') return 'voided';
  const cards = order.tenders.filter((tender) => tender.card_details?.status);
  if (cards.length > 0 && cards.every((tender) => tender.card_details?.status === 'AUTHORIZED')) {
    return 'authorized';
  }
  if (tendered >= total && (total > 0 || order.state === 'COMPLETED')) return 'paid';
  if (tendered > 0) return 'partially_paid';
  return 'pending';
}

/** A line quantity as a whole number: the canonical order (and the ERP lines) count units. */
function wholeQuantity(line: SquareLineItem): number {
  const match = /^(\d+)(?:\.0+)?$/.exec(line.quantity.trim());
  if (!match?.[1]) {
    throw new MappingError(
      `line ${line.uid} ("${line.name ?? ''}") has quantity ${line.quantity}: unit-priced (fractional) quantities are not in the canonical order`,
    );
  }
  return Number(match[1]);
}

/** Things a Square order can hold that the canonical order cannot carry yet (checked before mapping). */
function unsupported(order: SquareOrder, amount: (money: SquareMoney | undefined) => number): string[] {
  const reasons: string[] = [];
  if (order.returns.length > 0) {
    reasons.push(
      order.line_items.length > 0
        ? 'an exchange (a sale with returned items): POS returns are not mapped yet'
        : 'a return: POS returns are not mapped yet (they become refunds and returns, not orders)',
    );
  }
  if (amount(order.total_tip_money) !== 0) reasons.push('a tip');
  if (order.service_charges.length > 0 || amount(order.total_service_charge_money) !== 0) {
    reasons.push('service charges');
  }
  if (amount(order.rounding_adjustment?.amount_money ?? undefined) !== 0)
    reasons.push('a cash rounding adjustment');
  return reasons;
}

/**
 * Square Order → canonical order, for a POS sale. Money stays in Square's integer minor units, in the
 * order's currency (any other currency inside the order is a mapping error). Lines carry the SKU of the
 * catalog variation they were sold as; the unit price is the gross sales (base price and modifiers)
 * per unit; taxes come from the line's applied taxes (title and percentage from the order's taxes),
 * or — when Square reports a line's tax without a breakdown — one "Sales tax" line at the order's
 * effective rate. Tenders become payment gateways (`card`, `cash`, `gift_card`, …). The amounts are
 * checked to add up to Square's totals before anything is published, so that an event on the bus
 * always reconciles with the ERP document made from it.
 */
export function mapSquareOrder(order: SquareOrder, context: PosOrderContext): Order {
  const currency = order.total_money.currency;
  currencyExponent(currency);
  const money = (value: SquareMoney | undefined, what: string): Money => {
    if (!value) return { amount: 0, currency };
    if (value.currency !== currency) {
      throw new MappingError(`${what} is in ${value.currency} on an order in ${currency}`);
    }
    return { amount: value.amount, currency };
  };
  const amount = (value: SquareMoney | undefined) => (value ? value.amount : 0);

  const reasons = unsupported(order, amount);
  if (reasons.length > 0) {
    throw new PosUnsupportedOrderError(
      `Square order ${order.id} holds ${reasons.join(', ')}, which the canonical order cannot carry yet`,
    );
  }

  const taxes = new Map(order.taxes.map((tax) => [tax.uid, tax]));
  const taxTypes = new Set(
    order.line_items.flatMap((line) =>
      line.applied_taxes.map((applied) => taxes.get(applied.tax_uid)?.type ?? 'ADDITIVE'),
    ),
  );
  if (taxTypes.has('INCLUSIVE') && taxTypes.size > 1) {
    throw new MappingError(`Square order ${order.id} mixes inclusive and additive taxes`);
  }
  const taxesIncluded = taxTypes.has('INCLUSIVE');
  const fulfilmentMethod = fulfilmentOf(order);

  const drafts = order.line_items.map((line) => {
    const quantity = wholeQuantity(line);
    const what = `line ${line.uid}`;
    const gross =
      line.gross_sales_money !== undefined
        ? money(line.gross_sales_money, `${what} gross sales`).amount
        : money(line.base_price_money, `${what} base price`).amount * quantity +
          sum(line.modifiers.map((modifier) => money(modifier.total_price_money, `${what} modifier`).amount));
    if (quantity > 0 && gross % quantity !== 0) {
      throw new MappingError(`${what}: gross sales ${gross} is not a whole amount per unit of ${quantity}`);
    }
    const unitPrice =
      quantity > 0 ? gross / quantity : money(line.base_price_money, `${what} base price`).amount;
    const discount =
      line.total_discount_money !== undefined
        ? money(line.total_discount_money, `${what} discount`).amount
        : sum(
            line.applied_discounts.map((applied) => money(applied.applied_money, `${what} discount`).amount),
          );
    const applied = line.applied_taxes.map((entry) => ({
      tax: taxes.get(entry.tax_uid),
      amount: money(entry.applied_money, `${what} tax`).amount,
    }));
    const tax =
      line.total_tax_money !== undefined
        ? money(line.total_tax_money, `${what} tax`).amount
        : sum(applied.map((a) => a.amount));
    if (applied.length > 0 && sum(applied.map((a) => a.amount)) !== tax) {
      throw new MappingError(
        `${what}: applied taxes ${sum(applied.map((a) => a.amount))} ≠ total tax ${tax}`,
      );
    }
    return { line, quantity, gross, unitPrice, discount, applied, tax };
  });

  // A tax reported without a breakdown gets the order's effective rate over the lines that carry it.
  const unitemized = drafts.filter((draft) => draft.applied.length === 0 && draft.tax !== 0);
  const unitemizedRate = effectiveRate(
    sum(unitemized.map((draft) => draft.tax)),
    sum(unitemized.map((draft) => draft.gross - draft.discount - (taxesIncluded ? draft.tax : 0))),
  );

  const lines: OrderLine[] = drafts.map((draft) => {
    const { line } = draft;
    const base = draft.gross - draft.discount - (taxesIncluded ? draft.tax : 0);
    const taxLines: TaxLine[] =
      draft.applied.length > 0
        ? draft.applied.map(({ tax, amount: taxAmount }) => ({
            title: tax?.name ?? 'Tax',
            rate: tax?.percentage ? percentageToRate(tax.percentage) : effectiveRate(taxAmount, base),
            amount: { amount: taxAmount, currency },
          }))
        : draft.tax !== 0
          ? [{ title: 'Sales tax', rate: unitemizedRate, amount: { amount: draft.tax, currency } }]
          : [];
    const variation = line.catalog_object_id
      ? context.variations.get(variationKey(line.catalog_object_id, line.catalog_version))
      : undefined;
    return {
      lineId: line.uid,
      sku: variation?.sku ?? null,
      variantId: line.catalog_object_id,
      productId: variation?.itemId ?? null,
      title: line.name ?? line.variation_name ?? 'Custom amount',
      variantTitle: line.variation_name,
      quantity: draft.quantity,
      currentQuantity: draft.quantity,
      unitPrice: { amount: draft.unitPrice, currency },
      discount: { amount: draft.discount, currency },
      taxLines,
      isGiftCard: line.item_type === 'GIFT_CARD',
      requiresShipping: fulfilmentMethod === 'ship',
      taxable: taxLines.length > 0,
    };
  });

  const grossTotal = sum(drafts.map((draft) => draft.gross));
  const lineDiscounts = sum(drafts.map((draft) => draft.discount));
  const lineTax = sum(drafts.map((draft) => draft.tax));
  const totals: OrderTotals = {
    subtotal: { amount: grossTotal - lineDiscounts, currency },
    discounts: order.total_discount_money
      ? money(order.total_discount_money, 'total discount')
      : { amount: lineDiscounts, currency },
    shipping: { amount: 0, currency },
    tax: order.total_tax_money ? money(order.total_tax_money, 'total tax') : { amount: lineTax, currency },
    total: money(order.total_money, 'total'),
  };
  const expectedTotal = grossTotal - lineDiscounts + (taxesIncluded ? 0 : lineTax);
  const mismatches = [
    totals.total.amount !== expectedTotal ? `total ${totals.total.amount} ≠ lines ${expectedTotal}` : null,
    totals.tax.amount !== lineTax ? `tax ${totals.tax.amount} ≠ line taxes ${lineTax}` : null,
    totals.discounts.amount !== lineDiscounts
      ? `discounts ${totals.discounts.amount} ≠ line discounts ${lineDiscounts}`
      : null,
  ].filter((mismatch): mismatch is string => mismatch !== null);
  if (mismatches.length > 0) {
    throw new MappingError(`Square order ${order.id} does not add up: ${mismatches.join('; ')}`, mismatches);
  }

  // Order-level taxes: the lines' taxes by title and rate, so they always add up to the order's tax.
  const taxLines = new Map<string, TaxLine>();
  for (const tax of lines.flatMap((line) => line.taxLines)) {
    const key = `${tax.title}\u0000${tax.rate}`;
    const entry = taxLines.get(key);
    taxLines.set(
      key,
      entry ? { ...entry, amount: { amount: entry.amount.amount + tax.amount.amount, currency } } : tax,
    );
  }

  const tendered = sum(
    order.tenders.map((tender) => money(tender.amount_money, `tender ${tender.id}`).amount),
  );
  const refunded = sum(
    order.refunds
      .filter((refund) => refund.status === 'APPROVED' || refund.status === 'COMPLETED')
      .map((refund) => money(refund.amount_money, `refund ${refund.id}`).amount),
  );
  const updatedAt = toUtc(order.updated_at);
  return {
    source: {
      system: 'pos',
      account: context.merchantId,
      orderId: order.id,
      name: order.ticket_name ?? order.reference_id ?? null,
    },
    channel: 'pos',
    storeLocationId: order.location_id,
    fulfilmentMethod,
    status: statusOf(order.state),
    cancelReason: null,
    paymentStatus: paymentStatusOf(order, totals.total.amount, tendered, refunded),
    paymentGateways: [...new Set(order.tenders.map((tender) => gatewayOf(tender.type)))],
    currency,
    presentment: { currency, total: totals.total },
    taxesIncluded,
    lines,
    shippingLines: [],
    discounts: order.discounts.map((discount) => ({
      code: discount.name,
      kind: (discount.type ?? 'unknown').toLowerCase(),
      amount: discount.applied_money
        ? money(discount.applied_money, `discount ${discount.uid}`)
        : {
            amount: sum(
              order.line_items.flatMap((line) =>
                line.applied_discounts
                  .filter((applied) => applied.discount_uid === discount.uid)
                  .map((applied) => amount(applied.applied_money)),
              ),
            ),
            currency,
          },
    })),
    taxLines: [...taxLines.values()],
    totals,
    currentTotals: totals,
    customerRef: order.customer_id ? { system: 'pos', id: order.customer_id } : null,
    test: false,
    createdAt: toUtc(order.created_at),
    updatedAt,
    cancelledAt: order.state === 'CANCELED' ? toUtc(order.closed_at ?? order.updated_at) : null,
  };
}

/**
 * The version the hub keys an order change on: Square's `version` for orders made through the API; a
 * sale rung up at the register has none ("Orders not created through the API do not include a version
 * number", Order `version`), so its `updated_at` in epoch milliseconds stands in — it moves with every
 * change Square records, and an order never switches between the two kinds.
 */
export function orderVersionOf(order: Pick<SquareOrder, 'version' | 'updated_at'>): number {
  if (order.version !== undefined) return order.version;
  const at = Date.parse(order.updated_at);
  if (Number.isNaN(at)) throw new MappingError(`order updated_at ${order.updated_at} is not a timestamp`);
  return at;
}

/**
 * The metadata key the hub writes on every order it creates in Square itself (BOPIS pick-up orders:
 * `{"omnihub_origin": "<system>:<account>:<orderId>"}` of the online order). Square keeps an
 * application's metadata private to that application, so staff cannot set or fake it at the register,
 * and the hub reads it back with the same application's token. Such an order is already booked from
 * its online source: it is never a POS sale.
 */
export const HUB_ORIGIN_METADATA_KEY = 'omnihub_origin';

/** True for an order the hub created in Square (see {@link HUB_ORIGIN_METADATA_KEY}). */
export function isHubMadeOrder(order: Pick<SquareOrder, 'metadata'>): boolean {
  const origin = order.metadata?.[HUB_ORIGIN_METADATA_KEY];
  return typeof origin === 'string' && origin.length > 0;
}

/** Square tender / payment source types as payment gateway names (the mapping table's `gateway#<name>`). */
export const gatewayName = gatewayOf;
