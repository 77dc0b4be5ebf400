import * as z from 'zod';
import { canonicalJson } from '../core/json.ts';
import { nsError } from './errors.ts';
import {
  isTransactionType,
  type NsRecord,
  type NsStore,
  type ReadableType,
  type RecordType,
  TRANSACTION_TYPES,
} from './store.ts';
import { assignKeys, isSublist, LINE_SEQ } from './sublists.ts';
import { applySuiteTax } from './suitetax.ts';

const Id = z.union([z.string().min(1), z.number().int()]).transform(String);

/** A record reference: `{id}` or `{externalId}` (NetSuite accepts both). */
const Ref = z
  .looseObject({
    id: Id.optional(),
    externalId: z.string().min(1).optional(),
    refName: z.string().optional(),
  })
  .refine((r) => r.id !== undefined || r.externalId !== undefined, 'a reference needs id or externalId');

const sublist = <T extends z.ZodType>(line: T, min = 1) => z.looseObject({ items: z.array(line).min(min) });

const SaleLine = z.looseObject({
  /** The line key NetSuite assigns (see sublists.ts). */
  line: z.number().int().positive().optional(),
  item: Ref,
  quantity: z.number().min(0),
  rate: z.number().optional(),
  amount: z.number().optional(),
  location: Ref.optional(),
  isClosed: z.boolean().optional(),
  taxCode: Ref.optional(),
  taxDetailsReference: z.string().min(1).optional(),
});

/** One line of the SuiteTax `taxDetails` sublist, as sent under a tax details override. */
const TaxDetail = z.looseObject({
  taxDetailsReference: z.string().min(1),
  taxType: Ref,
  taxCode: Ref,
  taxBasis: z.number().optional(),
  taxRate: z.number().optional(),
  taxAmount: z.number(),
});

const Sale = z.looseObject({
  entity: Ref,
  item: sublist(SaleLine),
  location: Ref.optional(),
  currency: Ref.optional(),
  subsidiary: Ref.optional(),
  paymentMethod: Ref.optional(),
  tranDate: z.string().optional(),
  memo: z.string().optional(),
  taxDetailsOverride: z.boolean().optional(),
  taxDetails: sublist(TaxDetail, 0).optional(),
});

/** Sale transactions: SuiteTax computes their tax (suitetax.ts). */
export const SALE_TYPES: ReadonlySet<RecordType> = new Set([
  'salesOrder',
  'cashSale',
  'cashRefund',
  'creditMemo',
  'returnAuthorization',
]);

const Schemas: Record<RecordType, z.ZodType<Record<string, unknown>>> = {
  // An item fulfillment ships (or hands over) sales order lines from a location: each line names its
  // order line, item, quantity and location (NetSuite's Item Fulfillment `item` sublist).
  itemFulfillment: z.looseObject({
    item: sublist(
      z.looseObject({
        item: Ref,
        quantity: z.number().positive(),
        location: Ref,
        orderLine: z.number().int().optional(),
        itemReceive: z.boolean().optional(),
      }),
    ),
    memo: z.string().optional(),
  }),
  salesOrder: Sale,
  cashSale: Sale,
  cashRefund: Sale,
  creditMemo: Sale,
  returnAuthorization: Sale,
  inventoryAdjustment: z.looseObject({
    account: Ref,
    adjLocation: Ref.optional(),
    inventory: sublist(z.looseObject({ item: Ref, location: Ref.optional(), adjustQtyBy: z.number().int() })),
  }),
  journalEntry: z
    .looseObject({
      subsidiary: Ref.optional(),
      line: sublist(
        z
          .looseObject({
            account: Ref,
            debit: z.number().min(0).optional(),
            credit: z.number().min(0).optional(),
          })
          .refine((l) => l.debit === undefined || l.credit === undefined, {
            message: 'A journal line is either a debit or a credit, not both.',
          }),
        2,
      ),
    })
    .refine(
      (je) => {
        const lines = (je.line as { items: Array<{ debit?: number; credit?: number }> }).items;
        const d = lines.reduce((s, l) => s + Math.round((l.debit ?? 0) * 100), 0);
        const c = lines.reduce((s, l) => s + Math.round((l.credit ?? 0) * 100), 0);
        return d === c;
      },
      {
        message: 'The transaction is out of balance: total debits must equal total credits.',
        path: ['line'],
      },
    ),
  customerDeposit: z.looseObject({
    customer: Ref,
    payment: z.number().positive(),
    salesOrder: Ref.optional(),
  }),
  inventoryItem: z.looseObject({
    itemId: z.string().min(1),
    displayName: z.string().optional(),
    basePrice: z.number().min(0).optional(),
    cost: z.number().min(0).optional(),
    upcCode: z.string().optional(),
    isInactive: z.boolean().optional(),
  }),
};

const READ_ONLY = [
  'id',
  'tranId',
  'total',
  'subtotal',
  'taxTotal',
  'createdDate',
  'lastModifiedDate',
  'links',
];
/** Body fields NetSuite derives on every save (dropped before an update is applied, then derived again). */
export const COMPUTED_FIELDS = ['total', 'subtotal', 'taxTotal'] as const;
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** Refuses a request body that is not an object or sets a read-only field. */
export function checkInput(input: unknown): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw nsError(
      400,
      'INVALID_CONTENT',
      'Error while accessing a resource. The request body must be a JSON object.',
    );
  }
  for (const f of [...READ_ONLY, LINE_SEQ]) {
    if (f in input) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        `Error while accessing a resource. The field ${f} is read-only.`,
        { 'o:errorPath': f },
      );
    }
  }
  return input as Record<string, unknown>;
}

/**
 * Validates a record body for its type (a new record's, or an existing record's with the update applied,
 * see sublists.ts), resolves its references (by id or external id; an unknown one is `400
 * INVALID_KEY_OR_REF`), assigns line keys and computes what NetSuite fills in: line `amount`s and, for
 * sales, SuiteTax's tax details and `subtotal`, `taxTotal` and `total`. Throws NetSuite-shaped 400s.
 */
export function prepareBody(type: RecordType, input: unknown, store: NsStore): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw nsError(
      400,
      'INVALID_CONTENT',
      'Error while accessing a resource. The request body must be a JSON object.',
    );
  }
  const parsed = Schemas[type].safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path =
      issue?.path
        .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
        .join('')
        .replace(/^\./, '') ?? '';
    const missing = issue?.code === 'invalid_type' && issue.input === undefined;
    throw nsError(
      400,
      missing ? 'USER_ERROR' : 'INVALID_CONTENT',
      missing
        ? `Error while accessing a resource. Please enter value(s) for: ${path}.`
        : `Error while accessing a resource. ${issue?.message ?? 'Invalid content'} (${path}).`,
      { 'o:errorPath': path },
    );
  }
  const body = structuredClone(parsed.data);
  resolveRefs(body, '', store);
  if (type in TRANSACTION_TYPES && isSublist(body.item)) {
    assignKeys(body);
    let total = 0;
    for (const line of body.item.items) {
      const qty = Number(line.quantity ?? 0);
      const amount = typeof line.amount === 'number' ? line.amount : round2(qty * Number(line.rate ?? 0));
      line.amount = amount;
      total += amount;
    }
    body.total = round2(total);
    if (SALE_TYPES.has(type)) applySuiteTax(body, store);
  }
  if (type === 'customerDeposit') body.total = body.payment;
  return body;
}

/** Reference fields the sandbox resolves, by field name, and the record type each names. */
const REFERENCE_TARGETS: Readonly<Record<string, ReadableType>> = {
  location: 'location',
  adjLocation: 'location',
  entity: 'customer',
  customer: 'customer',
  currency: 'currency',
  subsidiary: 'subsidiary',
  paymentMethod: 'paymentMethod',
  taxCode: 'salesTaxItem',
  taxType: 'taxType',
  account: 'account',
};

const nameOf = (rec: NsRecord): string =>
  String(
    rec.body.itemId ??
      rec.body.entityId ??
      rec.body.symbol ??
      rec.body.name ??
      (rec.body.acctName !== undefined
        ? `${String(rec.body.acctNumber)} ${String(rec.body.acctName)}`
        : rec.id),
  );

/**
 * Resolves references in place — `item` (any item type), locations, customers, currencies, the
 * subsidiary, payment methods, tax codes and tax types — to `{id, refName}`. An id the account does not
 * have (or an inactive record) is refused: `400` with `o:errorCode` `INVALID_KEY_OR_REF`, the detail
 * "Invalid Field Value <id> for the following field: <field>" and `o:errorPath`. The body shape is
 * Oracle's ("Error Handling in REST Web Services",
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156570709583.html); the code and
 * message as integrations log them from NetSuite's REST record API (secondary sources: captured error
 * bodies in public integration code, e.g. `INVALID_KEY_OR_REF` "Invalid Field Value 99 for the following
 * field: entitystatus" with `o:errorPath`).
 */
function resolveRefs(node: unknown, path: string, store: NsStore): void {
  if (Array.isArray(node)) {
    node.forEach((v, i) => {
      resolveRefs(v, `${path}[${i}]`, store);
    });
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    const p = path ? `${path}.${k}` : k;
    const target: ReadableType | 'item' | undefined =
      k === 'item' && !isSublist(v) ? 'item' : REFERENCE_TARGETS[k];
    if (target && typeof v === 'object' && v !== null && !isSublist(v)) {
      const ref = v as { id?: string; externalId?: string };
      const rec =
        target === 'item'
          ? store.findItem(ref)
          : ref.id !== undefined
            ? store.get(target, String(ref.id))
            : store.getByExternalId(target, String(ref.externalId));
      if (!rec || rec.body.isInactive === true) {
        throw nsError(
          400,
          'INVALID_KEY_OR_REF',
          `Error while accessing a resource. Invalid Field Value ${ref.id ?? ref.externalId} for the following field: ${k}`,
          { 'o:errorPath': p },
        );
      }
      obj[k] = { id: rec.id, refName: nameOf(rec) };
    } else {
      resolveRefs(v, p, store);
    }
  }
}

/** On-hand effects of a record: cash sales ship from their location, inventory adjustments adjust. */
export function onHandEffects(
  type: ReadableType,
  body: Record<string, unknown> | undefined,
): Array<{ item: string; location: string; delta: number }> {
  if (!body) return [];
  const ref = (v: unknown): string | undefined => (v as { id?: string } | undefined)?.id;
  if ((type === 'cashSale' || type === 'itemFulfillment') && isSublist(body.item)) {
    return body.item.items
      .map((l) => ({
        item: ref(l.item) ?? '',
        location: ref(l.location) ?? ref(body.location) ?? '',
        delta: -Number(l.quantity ?? 0),
      }))
      .filter((e) => e.item && e.location && e.delta !== 0);
  }
  if (type === 'inventoryAdjustment' && isSublist(body.inventory)) {
    return body.inventory.items
      .map((l) => ({
        item: ref(l.item) ?? '',
        location: ref(l.location) ?? ref(body.adjLocation) ?? '',
        delta: Number(l.adjustQtyBy ?? 0),
      }))
      .filter((e) => e.item && e.location && e.delta !== 0);
  }
  return [];
}

/** Applies `next` minus `prev` effects to on-hand of inventory items, writing change-feed entries. */
export function applyEffects(
  store: NsStore,
  type: ReadableType,
  prev: Record<string, unknown> | undefined,
  next: Record<string, unknown> | undefined,
  source: string,
): void {
  const net = new Map<string, number>();
  for (const e of onHandEffects(type, prev))
    net.set(`${e.item}|${e.location}`, (net.get(`${e.item}|${e.location}`) ?? 0) - e.delta);
  for (const e of onHandEffects(type, next))
    net.set(`${e.item}|${e.location}`, (net.get(`${e.item}|${e.location}`) ?? 0) + e.delta);
  for (const [k, delta] of net) {
    if (delta === 0) continue;
    const [item, location] = k.split('|') as [string, string];
    // Only inventory items have stock: discount, shipping, tax and gift card lines move nothing.
    if (!store.get('inventoryItem', item)) continue;
    store.adjustOnHand(item, location, delta, source);
  }
}

/** Item-master change-feed entries for an inventory item write. */
export function itemChanges(store: NsStore, rec: NsRecord, prev: Record<string, unknown> | undefined): void {
  const sku = String(rec.body.itemId ?? rec.externalId ?? rec.id);
  const source = `inventoryItem:${rec.id}`;
  const price = typeof rec.body.basePrice === 'number' ? rec.body.basePrice : undefined;
  const { basePrice: _p, ...rest } = rec.body;
  const { basePrice: prevPrice, ...prevRest } = prev ?? {};
  if (!prev || canonicalJson(rest) !== canonicalJson(prevRest))
    store.appendChange({ kind: 'item', itemId: rec.id, sku, source });
  if (price !== undefined && price !== prevPrice)
    store.appendChange({ kind: 'price', itemId: rec.id, sku, price, source });
}

/** Read-only fields set on every write. */
export function stamp(
  type: RecordType,
  id: string,
  body: Record<string, unknown>,
  prev?: NsRecord,
): Record<string, unknown> {
  if (isTransactionType(type)) {
    body.tranId = prev?.body.tranId ?? `${TRANSACTION_TYPES[type].prefix}${id}`;
    body.tranDate ??= prev?.body.tranDate ?? new Date().toISOString().slice(0, 10);
  }
  return body;
}

/**
 * Renders a record as REST web services return it: `links`, string `id`,
 * references as `{links, id, refName}`, and sublists as links unless
 * `expandSubResources=true`.
 */
export function renderRecord(
  rec: NsRecord,
  selfUrl: string,
  expand: boolean,
  store: NsStore,
): Record<string, unknown> {
  const out: Record<string, unknown> = { links: [{ rel: 'self', href: selfUrl }], id: rec.id };
  if (rec.externalId !== undefined) out.externalId = rec.externalId;
  for (const [k, v] of Object.entries(rec.body)) {
    if (k.startsWith('_')) continue;
    out[k] = isSublist(v) ? renderSublist(v, `${selfUrl}/${k}`, expand) : renderValue(v);
  }
  if (rec.type === 'inventoryItem') {
    const locations = {
      items: store.locations.map((l) => ({
        location: { id: l.id, refName: l.name },
        locationId: l.id,
        quantityOnHand: store.onHand(rec.id, l.id),
        quantityAvailable: store.onHand(rec.id, l.id),
      })),
    };
    out.locations = renderSublist(locations, `${selfUrl}/locations`, expand);
  }
  out.createdDate = rec.createdDate;
  out.lastModifiedDate = rec.lastModifiedDate;
  return out;
}

/** A sublist, expanded or as a link. */
export function renderSublist(
  v: { items: Array<Record<string, unknown>> },
  url: string,
  expand: boolean,
): Record<string, unknown> {
  if (!expand) return { links: [{ rel: 'self', href: url }] };
  return {
    links: [{ rel: 'self', href: url }],
    items: v.items.map((l) => ({ links: [], ...(renderValue(l) as Record<string, unknown>) })),
    totalResults: v.items.length,
  };
}

function renderValue(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(renderValue);
  if (typeof v === 'object' && v !== null) {
    const o = v as Record<string, unknown>;
    const mapped: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(o)) mapped[k] = renderValue(x);
    return 'id' in o && 'refName' in o ? { links: [], ...mapped } : mapped;
  }
  return v;
}
