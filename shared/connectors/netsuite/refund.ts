import { toDecimalString, toMinorUnits } from '../../events/money.ts';
import type { Refund } from '../../events/refund.ts';
import type { MappingLookup } from '../../ports/erp.ts';
import { type MissingMapping, TotalsMismatchError, UnknownMappingError } from '../../ports/erp-errors.ts';
import { type NetSuiteMappingConfig, type NsSaleLine, type NsTaxDetail, tranDateOf } from './mapper.ts';

/**
 * Canonical POS refund → the body of NetSuite's cash sale → cash refund transform
 * (`POST /record/v1/cashSale/{id}/!transform/cashRefund?replace=item`).
 *
 * Why a cash refund by transform: a POS sale is booked as a cash sale (paid at once), and NetSuite's
 * record for giving that money back is the cash refund ("A cash refund transaction records the return of
 * money to a customer who immediately paid for goods or services using cash, a check or a credit card",
 * Oracle NetSuite help, Cash Refund, docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/
 * section_40160920714.html). Transforming the cash sale (a supported pair, CASH_SALE_CASH_REFUND; REST
 * "Transforming Records", section_157901123882.html: `POST …/<type>/<id>/!transform/<type>`, 204 with the
 * new record's Location) links the refund to the sale (`createdFrom`) and takes over its customer,
 * currency, location and payment method, so the hub sends only what differs: the refunded lines. The
 * transform pre-fills the sale's lines; `replace=item` makes the lines sent the lines kept (NetSuite's
 * sublist semantics: unmatched existing lines are removed, sent ones added). An upsert by external id is
 * not possible for a transform, so the `externalId` goes in the body — NetSuite keeps external ids unique
 * per record type, which makes a second transform of the same refund fail instead of booking twice — and
 * the adapter looks the refund up by that id first.
 *
 * Money: the returned lines at their net amount (subtotal after discount, before tax) and the tax the
 * customer gets back as a SuiteTax tax details override ({@link refundTaxDetails}), as exact decimal
 * strings from integer minor units; the body must add up to the refund's total to the cent before it is
 * sent.
 */

export interface NsCashRefundBody {
  readonly externalId: string;
  readonly tranDate: string;
  readonly memo: string;
  readonly item: { readonly items: readonly NsSaleLine[] };
  readonly taxDetailsOverride: true;
  readonly taxDetails: { readonly items: readonly NsTaxDetail[] };
}

const sum = (amounts: readonly number[]): number => amounts.reduce((total, amount) => total + amount, 0);

/** The hub's key of a returned line on the cash refund, also its `taxDetailsReference`. */
export const refundLineKey = (lineId: string) => `refund-line-${lineId}`;

/** A rate in percent from a tax and the amount it was charged on, at most 4 decimals ("8.875"). */
function percentFrom(tax: number, basis: number): string {
  if (basis === 0) return '0';
  return (Math.round((tax / basis) * 1_000_000) / 10_000).toString();
}

/**
 * The refund's tax, booked the way the cash sale books tax (shared/connectors/netsuite/mapper.ts): under
 * SuiteTax, a tax details override with one line per returned line that carried tax — the configured tax
 * type and code, the line's net amount as basis, the tax Square refunded — linked to the item line by its
 * `taxDetailsReference`. No tax charge line: SuiteTax would add its own tax on top of it.
 */
export function refundTaxDetails(
  refund: {
    readonly currency: string;
    readonly lines: readonly Pick<Refund['lines'][number], 'lineId' | 'subtotal' | 'tax'>[];
  },
  config: Pick<NetSuiteMappingConfig, 'tax'>,
): NsTaxDetail[] {
  const money = (amount: number) => toDecimalString({ amount, currency: refund.currency });
  return refund.lines
    .filter((line) => line.tax.amount !== 0)
    .map((line) => ({
      taxDetailsReference: refundLineKey(line.lineId),
      taxType: { id: config.tax.typeId },
      taxCode: { id: config.tax.codeId },
      taxBasis: money(line.subtotal.amount),
      taxRate: percentFrom(line.tax.amount, line.subtotal.amount),
      taxAmount: money(line.tax.amount),
    }));
}

/**
 * Builds the cash refund body. Throws {@link UnknownMappingError} naming every SKU without an ERP item
 * (a custom-amount return has no SKU) and {@link TotalsMismatchError} when the lines would not add up to
 * the refund's total.
 */
export async function mapRefundToNetSuite(
  refund: Refund,
  externalId: string,
  lookup: MappingLookup,
  config: NetSuiteMappingConfig,
): Promise<NsCashRefundBody> {
  const missing: MissingMapping[] = [];
  const items = new Map<string, string>();
  for (const line of refund.lines) {
    if (line.sku === null) {
      missing.push({ kind: 'item', key: `refund line ${line.lineId}`, reason: 'returned line has no SKU' });
      continue;
    }
    if (items.has(line.sku)) continue;
    const id = await lookup.erpItemId(line.sku);
    if (id === undefined) missing.push({ kind: 'item', key: line.sku });
    else items.set(line.sku, id);
  }
  if (missing.length > 0) throw new UnknownMappingError(missing);

  const money = (amount: number) => toDecimalString({ amount, currency: refund.currency });
  const lines: NsSaleLine[] = refund.lines
    .filter((line) => line.quantity > 0 || line.subtotal.amount !== 0)
    .map((line) => {
      const exact = line.quantity > 0 && line.subtotal.amount % line.quantity === 0;
      return {
        item: { id: items.get(line.sku ?? '') ?? '' },
        quantity: line.quantity,
        ...(exact ? { rate: money(line.subtotal.amount / line.quantity) } : {}),
        amount: money(line.subtotal.amount),
        description: `Returned ${line.sku ?? line.lineId} (sale line ${line.orderLineId})`,
        taxDetailsReference: refundLineKey(line.lineId),
      };
    });
  const body: NsCashRefundBody = {
    externalId,
    tranDate: tranDateOf(refund.processedAt ?? refund.createdAt, config.timeZone),
    memo: `POS refund ${refund.source.refundId} of order ${refund.source.orderId} (${refund.source.account})`,
    item: { items: lines },
    taxDetailsOverride: true,
    taxDetails: { items: refundTaxDetails(refund, config) },
  };
  reconcileRefund(refund, body);
  return body;
}

/** The body's lines add up to the refund's total, each `rate × quantity` to its amount, to the cent. */
export function reconcileRefund(refund: Refund, body: NsCashRefundBody): void {
  const minor = (decimal: string) => toMinorUnits(decimal, refund.currency);
  const text = (amount: number) => toDecimalString({ amount, currency: refund.currency });
  const mismatches: { field: string; expected: string; actual: string }[] = [];
  body.item.items.forEach((line, index) => {
    if (line.rate === undefined) return;
    const expected = minor(line.rate) * line.quantity;
    if (expected !== minor(line.amount)) {
      mismatches.push({
        field: `item.items[${index}].amount`,
        expected: text(expected),
        actual: line.amount,
      });
    }
  });
  const total =
    sum(body.item.items.map((line) => minor(line.amount))) +
    sum(body.taxDetails.items.map((detail) => minor(detail.taxAmount)));
  if (total !== refund.total.amount) {
    mismatches.push({ field: 'total', expected: text(refund.total.amount), actual: text(total) });
  }
  if (mismatches.length > 0) {
    throw new TotalsMismatchError(
      `the cash refund does not reconcile with POS refund ${refund.source.refundId}: ${mismatches
        .map((m) => `${m.field} ${m.actual} ≠ ${m.expected}`)
        .join('; ')}`,
      mismatches,
    );
  }
}
