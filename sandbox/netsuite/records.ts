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
  item: Ref,
  quantity: z.number(),
  rate: z.number().optional(),
  amount: z.number().optional(),
  location: Ref.optional(),
});

const Sale = z.looseObject({
  entity: Ref,
  item: sublist(SaleLine),
  location: Ref.optional(),
  tranDate: z.string().optional(),
  memo: z.string().optional(),
});

const Schemas: Record<RecordType, z.ZodType<Record<string, unknown>>> = {
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
        z.looseObject({
          account: Ref,
          debit: z.number().min(0).optional(),
          credit: z.number().min(0).optional(),
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

const READ_ONLY = ['id', 'tranId', 'total', 'createdDate', 'lastModifiedDate', 'links'];
const round2 = (n: number): number => Math.round(n * 100) / 100;

/** True for a sublist value (`{items: [...]}`). */
const isSublist = (v: unknown): v is { items: Array<Record<string, unknown>> } =>
  typeof v === 'object' && v !== null && Array.isArray((v as { items?: unknown }).items);

/**
 * Validates a record body for its type, resolves item and location
 * references (by id or external id) and computes the read-only fields NetSuite
 * fills in (`total`, line `amount`). Throws NetSuite-shaped 400s.
 */
export function prepareBody(type: RecordType, input: unknown, store: NsStore): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw nsError(
      400,
      'INVALID_CONTENT',
      'Error while accessing a resource. The request body must be a JSON object.',
    );
  }
  for (const f of READ_ONLY) {
    if (f in input) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        `Error while accessing a resource. The field ${f} is read-only.`,
        { 'o:errorPath': f },
      );
    }
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
    let total = 0;
    for (const line of body.item.items) {
      const qty = Number(line.quantity ?? 0);
      const amount = typeof line.amount === 'number' ? line.amount : round2(qty * Number(line.rate ?? 0));
      line.amount = amount;
      total += amount;
    }
    body.total = round2(total);
  }
  if (type === 'customerDeposit') body.total = body.payment;
  return body;
}

/**
 * Resolves `item` (any item type) and `location` references in place; unknown ones are 400
 * INVALID_CONTENT with the path.
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
    const target: 'item' | 'location' | undefined =
      k === 'item' && !isSublist(v)
        ? 'item'
        : k === 'location' || k === 'adjLocation'
          ? 'location'
          : undefined;
    if (target && typeof v === 'object' && v !== null) {
      const ref = v as { id?: string; externalId?: string };
      const rec =
        target === 'item'
          ? store.findItem(ref)
          : ref.id !== undefined
            ? store.get('location', ref.id)
            : store.getByExternalId('location', String(ref.externalId));
      if (!rec) {
        throw nsError(
          400,
          'INVALID_CONTENT',
          `Error while accessing a resource. You have entered an Invalid Field Value ${ref.id ?? ref.externalId} for the following field: ${k}`,
          { 'o:errorPath': p },
        );
      }
      obj[k] = { id: rec.id, refName: String(rec.body.itemId ?? rec.body.name ?? rec.id) };
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
  if (type === 'cashSale' && isSublist(body.item)) {
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

/** Merges a PATCH body: fields replace; sublists are replaced when named in `replace`, else lines are added. */
export function mergePatch(
  prev: Record<string, unknown>,
  patch: Record<string, unknown>,
  replace: Set<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...prev };
  for (const [k, v] of Object.entries(patch)) {
    const old = out[k];
    out[k] =
      isSublist(v) && isSublist(old) && !replace.has(k) ? { ...old, items: [...old.items, ...v.items] } : v;
  }
  for (const f of ['tranId', 'total']) delete out[f];
  return out;
}
