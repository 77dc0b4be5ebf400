/**
 * Shopify's search syntax (the `query:` argument of list fields) and Relay pagination, the parts
 * the hub uses: `field:value`, comparisons (`updated_at:>'2026-11-01T00:00:00Z'`), quoted values,
 * prefix wildcards (`sku:SKU-00*`), negation (`-status:cancelled`, `NOT`), `AND` (implicit) and
 * `OR`, and free text. Cursors are opaque (base64url), as Shopify's are; `first`/`after` and
 * `last`/`before` page forward and backward.
 */

interface Term {
  field: string | null;
  op: ':' | '>' | '>=' | '<' | '<=';
  value: string;
  negate: boolean;
}

/** A parsed query: OR of AND-groups. */
export type ParsedQuery = Term[][];

/** Parses a search query; an empty or absent query matches everything. */
export function parseQuery(query: string | null | undefined): ParsedQuery {
  if (!query || query.trim() === '') return [];
  const tokens = tokenize(query);
  const groups: Term[][] = [[]];
  let negateNext = false;
  for (const tok of tokens) {
    if (tok === 'AND') continue;
    if (tok === 'OR') {
      groups.push([]);
      continue;
    }
    if (tok === 'NOT') {
      negateNext = true;
      continue;
    }
    let t = tok;
    let negate = negateNext;
    negateNext = false;
    if (t.startsWith('-') && t.length > 1) {
      negate = !negate;
      t = t.slice(1);
    }
    const m = /^([A-Za-z_][\w.]*):(>=|<=|>|<)?(.*)$/s.exec(t);
    const group = groups[groups.length - 1];
    if (!group) continue;
    if (m) {
      group.push({
        field: (m[1] as string).toLowerCase(),
        op: (m[2] as Term['op'] | undefined) ?? ':',
        value: unquote(m[3] ?? ''),
        negate,
      });
    } else {
      group.push({ field: null, op: ':', value: unquote(t), negate });
    }
  }
  return groups.filter((g) => g.length > 0);
}

function tokenize(q: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const ch of q) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
    } else if (/\s/.test(ch)) {
      if (cur) out.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  if (cur) out.push(cur);
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  if (t.length >= 2 && (t[0] === '"' || t[0] === "'") && t[t.length - 1] === t[0]) return t.slice(1, -1);
  return t;
}

/** How one record exposes a search field: a string, number, time (ms) or list of strings. */
export type FieldValue = string | number | null | undefined | readonly string[];

/** Field accessors of one record type; `default` is what free text matches. */
export type Fields<T> = Record<string, (rec: T) => FieldValue> & { default?: (rec: T) => FieldValue };

const TIME_FIELDS = /(_at|date)$/;

/** True when `rec` matches the parsed query. Unknown fields never match (as Shopify ignores nothing silently). */
export function matches<T>(q: ParsedQuery, rec: T, fields: Fields<T>): boolean {
  if (q.length === 0) return true;
  return q.some((group) => group.every((term) => termMatches(term, rec, fields) !== term.negate));
}

function termMatches<T>(term: Term, rec: T, fields: Fields<T>): boolean {
  const get = term.field === null ? fields.default : fields[term.field];
  if (!get) return false;
  const raw = get(rec);
  const values: Array<string | number> = Array.isArray(raw)
    ? [...(raw as readonly string[])]
    : raw === null || raw === undefined
      ? []
      : [raw as string | number];
  if (values.length === 0) return false;
  return values.some((v) => compare(term, v, term.field !== null && TIME_FIELDS.test(term.field)));
}

function compare(term: Term, v: string | number, isTime: boolean): boolean {
  if (isTime || typeof v === 'number') {
    const left = typeof v === 'number' ? v : Number(v);
    const right = isTime ? Date.parse(term.value) : Number(term.value);
    if (Number.isNaN(right)) return false;
    switch (term.op) {
      case '>':
        return left > right;
      case '>=':
        return left >= right;
      case '<':
        return left < right;
      case '<=':
        return left <= right;
      default:
        return isTime ? Math.floor(left / 1000) === Math.floor(right / 1000) : left === right;
    }
  }
  const s = String(v).toLowerCase();
  const want = term.value.toLowerCase();
  if (term.op !== ':') {
    return term.op === '>' ? s > want : term.op === '>=' ? s >= want : term.op === '<' ? s < want : s <= want;
  }
  if (want.endsWith('*')) return s.startsWith(want.slice(0, -1));
  return s === want;
}

// ------------------------------------------------------------------ pagination

/** Relay pagination arguments. */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
  reverse?: boolean | null;
}

/** A page of a connection (the GraphQL views turn it into edges/nodes/pageInfo). */
export interface Page<T> {
  items: T[];
  cursors: string[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
}

/** Opaque cursor for a record key. */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify({ last_id: key }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: string | null | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { last_id?: unknown };
    return typeof v.last_id === 'string' ? v.last_id : undefined;
  } catch {
    return undefined;
  }
}

/** Pages `all` (already filtered and sorted) by `args`; `keyOf` gives each record's cursor key. */
export function paginate<T>(all: readonly T[], args: PageArgs, keyOf: (t: T) => string): Page<T> {
  const list = args.reverse ? [...all].reverse() : all;
  let start = 0;
  let end = list.length;
  const after = decodeCursor(args.after);
  if (after !== undefined) {
    const i = list.findIndex((t) => keyOf(t) === after);
    start = i >= 0 ? i + 1 : list.length;
  }
  const before = decodeCursor(args.before);
  if (before !== undefined) {
    const i = list.findIndex((t) => keyOf(t) === before);
    end = i >= 0 ? i : end;
  }
  let from = start;
  let to = Math.max(start, end);
  if (typeof args.first === 'number') to = Math.min(to, from + Math.max(0, args.first));
  if (typeof args.last === 'number') from = Math.max(from, to - Math.max(0, args.last));
  const items = list.slice(from, to);
  return {
    items,
    cursors: items.map((t) => encodeCursor(keyOf(t))),
    hasNextPage: to < end || (before !== undefined && end < list.length),
    hasPreviousPage: from > start || (after !== undefined && start > 0),
  };
}
