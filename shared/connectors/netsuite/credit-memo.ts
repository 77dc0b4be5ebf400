import { toDecimalString, toMinorUnits } from '../../events/money.ts';
import type { ReturnRequested } from '../../events/return.ts';
import type { MappingLookup } from '../../ports/erp.ts';
import { type MissingMapping, TotalsMismatchError, UnknownMappingError } from '../../ports/erp-errors.ts';
import { type NetSuiteMappingConfig, type NsSaleLine, type NsTaxDetail, tranDateOf } from './mapper.ts';
import { refundTaxDetails } from './refund.ts';

/**
 * A return of an online order → the body of NetSuite's return authorization and credit memo.
 *
 * Why return authorization → credit memo: the hub books an online order as a sales order, and NetSuite
 * credits a customer for returned goods with a credit memo ("A credit memo is used to refund or credit a
 * customer account", Oracle NetSuite help, Credit Memo, docs.oracle.com/en/cloud/saas/netsuite/
 * ns-online-help/article_164460021767.html). A credit memo is made from an invoice or from a return
 * authorization, not from a sales order; the return authorization is made from the sales order
 * (record.transform pairs SALES_ORDER → RETURN_AUTHORIZATION and RETURN_AUTHORIZATION → CREDIT_MEMO; REST
 * "Transforming Records", section_157901123882.html: every SuiteScript transform is available in REST as
 * `POST …/<type>/<id>/!transform/<type>`). Both transforms carry the same body: `replace=item,taxDetails`
 * makes the returned lines the lines kept, and the external id (`return-<returnId>`, unique per record
 * type) makes a second transform of the same return fail instead of booking twice.
 *
 * Money: the returned lines at their net amount, the refunded shipping on the shipping item, and the tax
 * reversed as a SuiteTax tax details override (the refund's own tax, line by line), exact decimal strings
 * from integer minor units; the body adds up to the return's total to the cent before it is sent.
 */
export interface NsCreditMemoBody {
  readonly externalId: string;
  readonly tranDate: string;
  readonly memo: string;
  readonly item: { readonly items: readonly NsSaleLine[] };
  readonly taxDetailsOverride: true;
  readonly taxDetails: { readonly items: readonly NsTaxDetail[] };
}

/** The ERP external id of a return's return authorization and credit memo. */
export const returnExternalId = (returnId: string) => `return-${returnId}`;

export async function mapReturnToCreditMemo(
  request: ReturnRequested,
  lookup: MappingLookup,
  config: NetSuiteMappingConfig,
): Promise<NsCreditMemoBody> {
  const missing: MissingMapping[] = [];
  const items = new Map<string, string>();
  for (const line of request.lines) {
    if (line.sku === null) {
      missing.push({ kind: 'item', key: `return line ${line.lineId}`, reason: 'returned line has no SKU' });
      continue;
    }
    if (items.has(line.sku)) continue;
    const id = await lookup.erpItemId(line.sku);
    if (id === undefined) missing.push({ kind: 'item', key: line.sku });
    else items.set(line.sku, id);
  }
  if (missing.length > 0) throw new UnknownMappingError(missing);

  const money = (amount: number) => toDecimalString({ amount, currency: request.currency });
  const lines: NsSaleLine[] = request.lines.map((line) => {
    const exact = line.subtotal.amount % line.quantity === 0;
    return {
      item: { id: items.get(line.sku ?? '') ?? '' },
      quantity: line.quantity,
      ...(exact ? { rate: money(line.subtotal.amount / line.quantity) } : {}),
      amount: money(line.subtotal.amount),
      description: `Returned ${line.sku ?? line.lineId} (order line ${line.orderLineId}, ${line.disposition})`,
      taxDetailsReference: `return-line-${line.lineId}`,
    };
  });
  if (request.shipping.amount !== 0) {
    lines.push({
      item: { id: config.items.shipping },
      quantity: 1,
      rate: money(request.shipping.amount),
      amount: money(request.shipping.amount),
      description: 'Shipping refunded',
    });
  }
  // The same override a POS cash refund books (refund.ts): one tax detail per returned line with tax.
  const taxDetails = refundTaxDetails(request, config).map((detail) => ({
    ...detail,
    taxDetailsReference: detail.taxDetailsReference.replace(/^refund-line-/, 'return-line-'),
  }));
  const body: NsCreditMemoBody = {
    externalId: returnExternalId(request.returnId),
    tranDate: tranDateOf(request.requestedAt, config.timeZone),
    memo: `Return ${request.returnId} of ${request.order.account} order ${request.order.name ?? request.order.orderId ?? ''}`.trim(),
    item: { items: lines },
    taxDetailsOverride: true,
    taxDetails: { items: taxDetails },
  };
  const minor = (decimal: string) => toMinorUnits(decimal, request.currency);
  const total =
    body.item.items.reduce((sum, line) => sum + minor(line.amount), 0) +
    body.taxDetails.items.reduce((sum, detail) => sum + minor(detail.taxAmount), 0);
  if (total !== request.total.amount) {
    throw new TotalsMismatchError(
      `the credit memo of return ${request.returnId} does not reconcile: total ${money(total)} ≠ ${money(request.total.amount)}`,
      [{ field: 'total', expected: money(request.total.amount), actual: money(total) }],
    );
  }
  return body;
}
