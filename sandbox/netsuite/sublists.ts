import { nsError } from './errors.ts';

/**
 * How NetSuite REST web services apply a write to a record that exists (PATCH, and PUT `eid:` on an
 * existing record, which is an update):
 *
 * - Body fields that are not sent keep their values ("Updating a Record Instance"; the upsert is an
 *   update when the external id exists — "Using the Upsert Operation",
 *   https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html).
 * - Keyed sublists (the transaction `item` sublist, keyed by its `line` field): without `replace`, lines
 *   whose key matches an existing line update it and the other sent lines are added ("Updating a
 *   Sublist", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545295601.html);
 *   with `?replace=<sublist>`, matching lines are updated, existing lines that were not sent are removed
 *   and the remaining sent lines added ("Replacing a Sublist",
 *   https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html).
 * - Non-keyed sublists: sent lines are appended, or replace all lines under `replace` (same pages).
 * - Line keys are assigned by NetSuite and never re-indexed when lines are added or removed ("Sublist
 *   Line Numbers", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_N3443715.html):
 *   a sent key that matches no line is a new line and gets a key of its own.
 *
 * The sandbox's assumption (not documented by Oracle): removing a line that was fulfilled or billed is
 * refused — close it (`isClosed`) instead. See sandbox/README.md.
 */

/** Sublists with a key field, by sublist name. */
export const KEYED_SUBLISTS: Readonly<Record<string, string>> = { item: 'line' };

/** Line fields only NetSuite sets (fulfilment and billing progress): never taken from a request. */
export const SYSTEM_LINE_FIELDS = ['quantityFulfilled', 'quantityBilled'] as const;

/** Hidden body field holding the next line key of each keyed sublist (never rendered). */
export const LINE_SEQ = '_lineSeq';

type Line = Record<string, unknown>;
type Sublist = { items: Line[] } & Record<string, unknown>;

export const isSublist = (v: unknown): v is Sublist =>
  typeof v === 'object' && v !== null && Array.isArray((v as { items?: unknown }).items);

const keyOf = (line: Line, field: string): string | undefined =>
  line[field] === undefined || line[field] === null ? undefined : String(line[field]);

const withoutSystemFields = (line: Line): Line => {
  const out = { ...line };
  for (const f of SYSTEM_LINE_FIELDS) delete out[f];
  return out;
};

/** A sent line on top of the line it updates: a changed quantity or rate re-derives the amount. */
function mergeLine(old: Line, sent: Line): Line {
  const merged = { ...old, ...withoutSystemFields(sent) };
  if (sent.amount === undefined && (sent.quantity !== undefined || sent.rate !== undefined)) {
    delete merged.amount;
  }
  const fulfilled = Number(old.quantityFulfilled ?? 0);
  if (Number(merged.quantity ?? 0) < fulfilled) {
    throw nsError(
      400,
      'USER_ERROR',
      `Error while accessing a resource. The quantity of line ${String(old.line)} cannot be less than the quantity fulfilled (${fulfilled}).`,
      { 'o:errorPath': 'item' },
    );
  }
  return merged;
}

function refuseRemoval(name: string, line: Line): void {
  const fulfilled = Number(line.quantityFulfilled ?? 0);
  const billed = Number(line.quantityBilled ?? 0);
  if (fulfilled > 0 || billed > 0) {
    throw nsError(
      400,
      'USER_ERROR',
      `Error while accessing a resource. You cannot remove line ${String(line.line)} of the ${name} sublist: it has been fulfilled (${fulfilled}) or billed (${billed}). Close the line instead.`,
      { 'o:errorPath': name },
    );
  }
}

/** Gives every line of a keyed sublist without a key the next one of the record. */
export function assignKeys(body: Record<string, unknown>): void {
  const seq = { ...((body[LINE_SEQ] as Record<string, number> | undefined) ?? {}) };
  for (const [name, field] of Object.entries(KEYED_SUBLISTS)) {
    const sublist = body[name];
    if (!isSublist(sublist)) continue;
    let next = seq[name] ?? 1;
    for (const line of sublist.items) {
      const key = Number(line[field]);
      if (Number.isInteger(key) && key >= next) next = key + 1;
    }
    for (const line of sublist.items) {
      if (keyOf(line, field) === undefined) {
        line[field] = next;
        next += 1;
      }
    }
    seq[name] = next;
  }
  body[LINE_SEQ] = seq;
}

/** The lines of a new record: sent keys are NetSuite's to assign, so any sent one is dropped. */
export function newRecordLines(input: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...input };
  for (const [name, field] of Object.entries(KEYED_SUBLISTS)) {
    const sublist = out[name];
    if (!isSublist(sublist)) continue;
    out[name] = {
      ...sublist,
      items: sublist.items.map((line) => {
        const { [field]: _key, ...rest } = withoutSystemFields(line);
        return rest;
      }),
    };
  }
  return out;
}

/**
 * Applies a write to an existing record's stored body: body fields merge, sublists follow the keyed /
 * non-keyed rules above under `replace`. `computed` fields (totals NetSuite derives) are dropped so that
 * they are derived again. Throws a NetSuite-shaped 400 when the write would remove a fulfilled or billed
 * line or bring a line below its fulfilled quantity.
 */
export function mergeUpdate(
  prev: Record<string, unknown>,
  input: Record<string, unknown>,
  replace: ReadonlySet<string>,
  computed: readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...prev };
  for (const f of computed) delete out[f];
  const seq = { ...((prev[LINE_SEQ] as Record<string, number> | undefined) ?? {}) };
  for (const [name, sent] of Object.entries(input)) {
    const old = prev[name];
    if (!isSublist(sent)) {
      out[name] = sent;
      continue;
    }
    const field = KEYED_SUBLISTS[name];
    const oldLines = isSublist(old) ? old.items : [];
    if (field === undefined) {
      out[name] = { items: replace.has(name) ? sent.items : [...oldLines, ...sent.items] };
      continue;
    }
    const byKey = new Map(oldLines.map((line) => [keyOf(line, field), line] as const));
    let next = Math.max(seq[name] ?? 1, ...oldLines.map((line) => Number(line[field] ?? 0) + 1));
    const matched = new Set<string>();
    const updated = new Map<string, Line>();
    const added: Line[] = [];
    const ordered: Line[] = [];
    for (const line of sent.items) {
      const key = keyOf(line, field);
      const existing = key === undefined ? undefined : byKey.get(key);
      if (key !== undefined && existing && !matched.has(key)) {
        matched.add(key);
        const merged = mergeLine(existing, line);
        updated.set(key, merged);
        ordered.push(merged);
      } else {
        const { [field]: _ignored, ...fresh } = withoutSystemFields(line);
        const created = { ...fresh, [field]: next };
        next += 1;
        added.push(created);
        ordered.push(created);
      }
    }
    if (replace.has(name)) {
      for (const line of oldLines) {
        if (!matched.has(keyOf(line, field) ?? '')) refuseRemoval(name, line);
      }
      out[name] = { items: ordered };
    } else {
      out[name] = {
        items: [...oldLines.map((line) => updated.get(keyOf(line, field) ?? '') ?? line), ...added],
      };
    }
    seq[name] = next;
  }
  if (Object.keys(seq).length > 0) out[LINE_SEQ] = seq;
  return out;
}
