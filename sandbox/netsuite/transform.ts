import { nsError } from './errors.ts';
import { COMPUTED_FIELDS } from './records.ts';
import type { NsRecord, NsStore, RecordType } from './store.ts';
import { mergeUpdate, newRecordLines } from './sublists.ts';

/**
 * Record transforms (`POST /record/v1/<type>/<id>/!transform/<targetType>`), as REST web services run
 * them ("Transforming Records": the new record is created from the source's data in one request, fields in
 * the body are set on it, 204 with the new record's Location; docs.oracle.com/en/cloud/saas/netsuite/
 * ns-online-help/section_157901123882.html). The sandbox supports the pairs the hub uses: cash sale → cash
 * refund (CASH_SALE_CASH_REFUND among NetSuite's transform types) for POS refunds, and sales order → return
 * authorization → credit memo (SALES_ORDER → RETURN_AUTHORIZATION, RETURN_AUTHORIZATION → CREDIT_MEMO) for
 * returns of online orders (a credit memo is made from an invoice or a return authorization, never from a
 * sales order: that pair is refused with INVALID_TRANSFORM, as record.transform refuses it). Sandbox assumptions, where Oracle's
 * pages say no more: the cash refund takes over the sale's customer, currency, location, payment method
 * and lines, and links back through `createdFrom`; sent sublist lines follow the documented sublist rules
 * (`replace=item`: the lines sent are the lines kept; without it they are added to the sale's); an
 * `externalId` in the body must be unique among cash refunds (a second one is refused, so a transform
 * cannot book one refund twice); the customer, currency and source cannot be changed.
 */

/** Transform pairs the sandbox supports: source type → target types. */
export const TRANSFORMS: Readonly<Partial<Record<RecordType, readonly RecordType[]>>> = {
  cashSale: ['cashRefund'],
  // SALES_ORDER → ITEM_FULFILLMENT (the BOPIS collection): the fulfillment takes the order's lines; a
  // request sends them with `replace=item` to name the location each is handed over from.
  // SALES_ORDER → RETURN_AUTHORIZATION → CREDIT_MEMO (the omnichannel return's financial reversal).
  salesOrder: ['itemFulfillment', 'returnAuthorization'],
  returnAuthorization: ['creditMemo'],
};

/** Body fields the new record takes over from its source (a cash refund from its cash sale, …). */
const INHERITED = ['entity', 'currency', 'location', 'paymentMethod', 'subsidiary', 'otherRefNum'] as const;
/** Fields a transform request may not change: they come from the source. */
const FIXED = ['entity', 'currency', 'createdFrom'] as const;

/**
 * The body of the record `source` becomes as `target`, before validation: the source's inherited fields
 * and lines, the request's fields and lines merged under `replace`. Throws NetSuite-shaped 400s.
 */
export function transformBody(
  source: NsRecord,
  target: RecordType,
  input: Record<string, unknown>,
  replace: ReadonlySet<string>,
): Record<string, unknown> {
  if (!TRANSFORMS[source.type as RecordType]?.includes(target)) {
    throw nsError(
      400,
      'INVALID_TRANSFORM',
      `Error while accessing a resource. Transforming ${source.type} into ${target} is not supported.`,
    );
  }
  for (const field of FIXED) {
    if (field in input) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        `Error while accessing a resource. The field ${field} is set by the transform from ${source.type} ${source.id}.`,
        { 'o:errorPath': field },
      );
    }
  }
  const base: Record<string, unknown> = {};
  for (const field of INHERITED) {
    if (source.body[field] !== undefined) base[field] = structuredClone(source.body[field]);
  }
  // The sale's lines as lines of a new record: no keys of the sale's, nothing fulfilled or billed yet.
  if (source.body.item !== undefined)
    Object.assign(base, newRecordLines({ item: structuredClone(source.body.item) }));
  const merged = mergeUpdate(base, input, replace, COMPUTED_FIELDS);
  merged.createdFrom = { id: source.id };
  return merged;
}

/** The external id of a transform request, checked: a string, unique among `target` records. */
export function transformExternalId(store: NsStore, target: RecordType, input: unknown): string | undefined {
  const externalId = (input as { externalId?: unknown } | undefined)?.externalId;
  if (externalId === undefined) return undefined;
  if (typeof externalId !== 'string' || externalId === '') {
    throw nsError(400, 'INVALID_CONTENT', 'Error while accessing a resource. externalId must be a string.', {
      'o:errorPath': 'externalId',
    });
  }
  if (store.getByExternalId(target, externalId)) {
    // NetSuite keeps external ids unique per record type.
    throw nsError(
      400,
      'DUP_RECORD',
      `Error while accessing a resource. A ${target} record with external ID ${externalId} already exists.`,
      { 'o:errorPath': 'externalId' },
    );
  }
  return externalId;
}
