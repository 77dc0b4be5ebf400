import { nsError } from './errors.ts';
import { DEFAULT_TAX_CODE_ID, type NsStore } from './store.ts';
import { isSublist } from './sublists.ts';

/**
 * SuiteTax as the sandbox models it. REST web services work with taxes only under SuiteTax ("REST web
 * services do not support legacy tax features", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0814121722.html);
 * when a transaction is saved the tax engine computes the tax details of its taxable lines, unless the
 * transaction's **Tax Details Override** is set, in which case the tax details sent (tax type, tax code,
 * basis, rate, amount per line, linked to an item line by `taxDetailsReference`) are booked as they are
 * ("Tax Details on Transactions in SuiteTax", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4283867856.html;
 * the `taxdetails` fields: https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1548673608.html).
 *
 * The sandbox's engine: a line is taxable when its item is (products and discounts; shipping and gift
 * cards are not), at its `taxCode`'s rate or else the nexus default code's
 * (`US-STANDARD`, 8.875 %), rounded half up per line. `taxTotal` is the sum of the tax details; `total`
 * = the line amounts + `taxTotal`. Closed lines keep their amounts and their tax, as NetSuite keeps a
 * closed line's record of the order.
 */

type Line = Record<string, unknown>;

const cents = (n: unknown): number => Math.round(Number(n ?? 0) * 100);
const ref = (v: unknown): string | undefined => (v as { id?: string } | undefined)?.id;

/** Whether the engine taxes a line of this item. */
function taxable(store: NsStore, itemId: string | undefined): boolean {
  if (itemId === undefined) return false;
  const product = store.get('inventoryItem', itemId);
  if (product) return product.body.isTaxable !== false;
  const other = store.findItem({ id: itemId });
  return other?.body.isTaxable === true;
}

/**
 * Computes `subtotal`, `taxDetails` (unless overridden), `taxTotal` and `total` of a sale transaction's
 * body in place; line amounts must be computed already. Items and tax references must be resolved.
 */
export function applySuiteTax(body: Record<string, unknown>, store: NsStore): void {
  const lines: Line[] = isSublist(body.item) ? body.item.items : [];
  for (const line of lines) {
    if (line.taxDetailsReference === undefined) line.taxDetailsReference = `TDR-${String(line.line)}`;
  }
  const subtotal = lines.reduce((sum, line) => sum + cents(line.amount), 0);
  let tax = 0;
  if (body.taxDetailsOverride === true) {
    const details: Line[] = isSublist(body.taxDetails) ? body.taxDetails.items : [];
    const references = new Set(lines.map((line) => String(line.taxDetailsReference)));
    details.forEach((detail, index) => {
      if (!references.has(String(detail.taxDetailsReference))) {
        throw nsError(
          400,
          'INVALID_KEY_OR_REF',
          `Error while accessing a resource. Invalid Field Value ${String(detail.taxDetailsReference)} for the following field: taxDetailsReference`,
          { 'o:errorPath': `taxDetails.items[${index}].taxDetailsReference` },
        );
      }
      tax += cents(detail.taxAmount);
    });
  } else {
    const details: Line[] = [];
    for (const line of lines) {
      if (!taxable(store, ref(line.item))) continue;
      const codeId = ref(line.taxCode) ?? DEFAULT_TAX_CODE_ID;
      const code = store.get('salesTaxItem', codeId);
      const rate = Number(code?.body.rate ?? 0);
      const basis = cents(line.amount);
      const amount = Math.round((basis * rate) / 100);
      tax += amount;
      details.push({
        taxDetailsReference: line.taxDetailsReference,
        taxType: { id: ref(code?.body.taxType) ?? '1' },
        taxCode: { id: codeId, refName: String(code?.body.itemId ?? codeId) },
        taxBasis: basis / 100,
        taxRate: rate,
        taxAmount: amount / 100,
      });
    }
    body.taxDetails = { items: details };
  }
  body.subtotal = subtotal / 100;
  body.taxTotal = tax / 100;
  body.total = (subtotal + tax) / 100;
}
