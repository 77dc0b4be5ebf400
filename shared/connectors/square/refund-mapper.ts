import { MappingError } from '../../errors.ts';
import { toUtc } from '../../events/common.ts';
import { currencyExponent } from '../../events/money.ts';
import type { Refund } from '../../events/refund.ts';
import type { StoreReturnRecorded } from '../../events/return.ts';
import { type VariationInfo, variationKey } from './client.ts';
import { PosUnsupportedOrderError } from './errors.ts';
import { gatewayName } from './mapper.ts';
import type { SquareOrder, SquareRefund, SquareReturnLineItem } from './payloads.ts';

/** What a POS refund maps from: the refund, its return order, the sale it returns, and the variations. */
export interface PosRefundContext {
  readonly merchantId: string;
  readonly refund: SquareRefund;
  /** `refund.order_id`: the return order Square created for the refund. */
  readonly returnOrder: SquareOrder;
  /** `returns[0].source_order_id` of the return order: the sale the hub booked as a cash sale. */
  readonly sale: SquareOrder;
  readonly variations: ReadonlyMap<string, VariationInfo | null>;
}

/** The catalog variations a return order's lines name (for their SKUs). */
export function returnCatalogRefs(order: SquareOrder): { id: string; version: number | null }[] {
  const refs = new Map<string, { id: string; version: number | null }>();
  for (const line of order.returns.flatMap((entry) => entry.return_line_items)) {
    if (!line.catalog_object_id) continue;
    const ref = { id: line.catalog_object_id, version: line.catalog_version ?? null };
    refs.set(variationKey(ref.id, ref.version), ref);
  }
  return [...refs.values()];
}

function wholeQuantity(line: SquareReturnLineItem): number {
  const match = /^(\d+)(?:\.0+)?$/.exec(line.quantity.trim());
  if (!match?.[1]) {
    throw new MappingError(
      `return line ${line.uid} has quantity ${line.quantity}: not a whole number of units`,
    );
  }
  return Number(match[1]);
}

/**
 * A completed Square refund of a POS sale → canonical `RefundCreated` data. Lines come from the return
 * order's `return_line_items` (Square records what was returned there, for itemized and custom refunds
 * alike): `subtotal` = the line's total less its tax (so additive and inclusive taxes both come out
 * net), `tax` = its `total_tax_money`, both in Square's integer minor units. `orderId` is the sale's
 * order id, so the ERP finds the cash sale by its external id. Square adjusts its own stock for a return
 * (announced through `inventory.count.updated`), so the refund says `restock: false` with restock type
 * `return` (the goods came back; the hub restocks nothing).
 *
 * A refund that pays back only part of its return (a return refunded over several tenders) or a return
 * with tips or service charges is not carried yet: {@link PosUnsupportedOrderError} parks it.
 */
export function mapSquareRefund(context: PosRefundContext): Refund {
  const { refund, returnOrder, sale } = context;
  const currency = refund.amount_money.currency;
  currencyExponent(currency);
  const money = (value: { amount: number; currency: string } | undefined, what: string): number => {
    if (!value) return 0;
    if (value.currency !== currency)
      throw new MappingError(`${what} is in ${value.currency}, the refund in ${currency}`);
    return value.amount;
  };
  const returned = returnOrder.returns.flatMap((entry) => entry.return_line_items);
  const lines = returned.map((line) => {
    const total = money(line.total_money, `return line ${line.uid} total`);
    const tax = money(line.total_tax_money, `return line ${line.uid} tax`);
    const variation = line.catalog_object_id
      ? context.variations.get(variationKey(line.catalog_object_id, line.catalog_version))
      : undefined;
    return {
      lineId: line.uid,
      orderLineId: line.source_line_item_uid ?? line.uid,
      sku: variation?.sku ?? null,
      quantity: wholeQuantity(line),
      restockType: 'return' as const,
      locationId: returnOrder.location_id,
      subtotal: { amount: total - tax, currency },
      tax: { amount: tax, currency },
    };
  });
  const linesTotal = lines.reduce((sum, line) => sum + line.subtotal.amount + line.tax.amount, 0);
  if (linesTotal !== refund.amount_money.amount) {
    throw new PosUnsupportedOrderError(
      `Square refund ${refund.id} pays back ${refund.amount_money.amount} of a return worth ${linesTotal} (return order ${returnOrder.id}): a return refunded in parts is not booked automatically`,
    );
  }
  const tender = sale.tenders.find((candidate) => candidate.id === refund.payment_id) ?? sale.tenders[0];
  return {
    source: { system: 'pos', account: context.merchantId, refundId: refund.id, orderId: sale.id },
    currency,
    note: refund.reason,
    restock: false,
    lines,
    shipping: { amount: 0, currency },
    adjustments: [],
    transactions: [
      {
        transactionId: refund.id,
        kind: 'refund',
        status: 'success',
        gateway: tender ? gatewayName(tender.type) : null,
        amount: { amount: refund.amount_money.amount, currency },
      },
    ],
    total: { amount: refund.amount_money.amount, currency },
    createdAt: toUtc(refund.created_at),
    processedAt: refund.updated_at ? toUtc(refund.updated_at) : null,
  };
}

/**
 * A completed unlinked Square refund and its unlinked return order (goods bought online, returned and
 * refunded at a store) → canonical `StoreReturnRecorded` data. The online order is the one the store
 * recorded on the return order (`reference_id`: "A client-specified ID to associate an entity in another
 * system with this order", Order object, Square API 2025-08-20): its order number. Lines and money as
 * {@link mapSquareRefund} reads them; a refund paying back only part of its return is not carried
 * ({@link PosUnsupportedOrderError}), and a return naming no online order is refused ({@link MappingError}):
 * the finder parks both with the reason.
 */
export function mapStoreReturn(context: {
  readonly merchantId: string;
  readonly refund: SquareRefund;
  readonly returnOrder: SquareOrder;
  readonly variations: ReadonlyMap<string, VariationInfo | null>;
}): StoreReturnRecorded {
  const { refund, returnOrder } = context;
  const reference = returnOrder.reference_id?.trim();
  if (!reference) {
    throw new MappingError(
      `store return ${returnOrder.id} (refund ${refund.id}) names no online order: reference_id is empty`,
    );
  }
  const location = returnOrder.location_id ?? refund.location_id;
  if (!location) throw new MappingError(`store return ${returnOrder.id} names no location`);
  const currency = refund.amount_money.currency;
  currencyExponent(currency);
  const money = (value: { amount: number; currency: string } | undefined, what: string): number => {
    if (!value) return 0;
    if (value.currency !== currency)
      throw new MappingError(`${what} is in ${value.currency}, the refund in ${currency}`);
    return value.amount;
  };
  const lines = returnOrder.returns
    .flatMap((entry) => entry.return_line_items)
    .map((line) => {
      const total = money(line.total_money, `return line ${line.uid} total`);
      const tax = money(line.total_tax_money, `return line ${line.uid} tax`);
      const variation = line.catalog_object_id
        ? context.variations.get(variationKey(line.catalog_object_id, line.catalog_version))
        : undefined;
      return {
        lineId: line.uid,
        sku: variation?.sku ?? null,
        quantity: wholeQuantity(line),
        subtotal: { amount: total - tax, currency },
        tax: { amount: tax, currency },
      };
    });
  if (lines.length === 0) throw new MappingError(`store return ${returnOrder.id} returns no line`);
  const linesTotal = lines.reduce((sum, line) => sum + line.subtotal.amount + line.tax.amount, 0);
  if (linesTotal !== refund.amount_money.amount) {
    throw new PosUnsupportedOrderError(
      `Square refund ${refund.id} pays back ${refund.amount_money.amount} of a store return worth ${linesTotal} (return order ${returnOrder.id}): a return refunded in parts is not booked automatically`,
    );
  }
  return {
    source: {
      system: 'pos',
      account: context.merchantId,
      refundId: refund.id,
      returnOrderId: returnOrder.id,
    },
    onlineOrderReference: reference,
    location: { system: 'pos', id: location },
    currency,
    lines,
    refunded: { amount: refund.amount_money.amount, currency },
    refundedAt: toUtc(refund.updated_at ?? refund.created_at),
  };
}
