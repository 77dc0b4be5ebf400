/**
 * A small, honest subset of SuiteQL — what the hub's reconciliation and
 * lookups need — parsed for real, so an unsupported query fails loudly
 * (400, as NetSuite answers a query it cannot run) instead of silently
 * returning something wrong.
 *
 * Grammar (keywords case-insensitive; identifiers lower-cased):
 *   SELECT * | col [, col]* FROM table
 *   [WHERE cond [AND cond]*]
 *   [ORDER BY col [ASC|DESC] [, col [ASC|DESC]]*]
 *   cond := col (= | <> | != | < | <= | > | >=) literal
 *         | col [NOT] IN (literal [, literal]*)
 *         | col IS [NOT] NULL
 *   literal := 'text' ('' escapes a quote) | number
 * Not supported: OR, joins, functions (BUILTIN.DF, COUNT …), aliases,
 * sub-queries, LIKE, parentheses around conditions.
 */

export type Literal = string | number;
export type Condition =
  | { column: string; op: '=' | '<>' | '<' | '<=' | '>' | '>='; value: Literal }
  | { column: string; op: 'IN' | 'NOT IN'; values: Literal[] }
  | { column: string; op: 'IS NULL' | 'IS NOT NULL' };

export interface SuiteQlQuery {
  columns: string[] | '*';
  table: string;
  where: Condition[];
  orderBy: Array<{ column: string; desc: boolean }>;
}

/** A parse or validation failure; rendered as NetSuite's 400 for invalid queries. */
export class SuiteQlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SuiteQlError';
  }
}

type Token = { kind: 'word' | 'string' | 'number' | 'punct'; text: string };

function tokenize(q: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= q.length) throw new SuiteQlError('Unterminated string literal');
        const ch = q[i] as string;
        if (ch === "'") {
          if (q[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += ch;
        i++;
      }
      out.push({ kind: 'string', text: s });
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(q[i + 1] ?? ''))) {
      const m = /^-?[0-9]+(\.[0-9]+)?/.exec(q.slice(i));
      const text = m?.[0] ?? c;
      out.push({ kind: 'number', text });
      i += text.length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
      const text = m?.[0] ?? c;
      out.push({ kind: 'word', text });
      i += text.length;
    } else {
      const two = q.slice(i, i + 2);
      if (['<>', '!=', '<=', '>='].includes(two)) {
        out.push({ kind: 'punct', text: two });
        i += 2;
      } else if ('(),*=<>;'.includes(c)) {
        out.push({ kind: 'punct', text: c });
        i++;
      } else {
        throw new SuiteQlError(`Unexpected character '${c}'`);
      }
    }
  }
  if (out.at(-1)?.text === ';') out.pop();
  return out;
}

const RESERVED = new Set([
  'SELECT',
  'FROM',
  'WHERE',
  'AND',
  'OR',
  'ORDER',
  'BY',
  'IN',
  'NOT',
  'IS',
  'NULL',
  'ASC',
  'DESC',
]);

/** Parses a query of the supported subset; throws {@link SuiteQlError} otherwise. */
export function parseSuiteQl(q: string): SuiteQlQuery {
  const toks = tokenize(q);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const kw = (word: string): boolean => {
    const t = peek();
    if (t?.kind === 'word' && t.text.toUpperCase() === word) {
      p++;
      return true;
    }
    return false;
  };
  const expectKw = (word: string): void => {
    if (!kw(word)) throw new SuiteQlError(`Expected ${word} near '${peek()?.text ?? 'end of query'}'`);
  };
  const punct = (s: string): boolean => {
    if (peek()?.kind === 'punct' && peek()?.text === s) {
      p++;
      return true;
    }
    return false;
  };
  const ident = (): string => {
    const t = peek();
    if (t?.kind !== 'word' || RESERVED.has(t.text.toUpperCase())) {
      throw new SuiteQlError(`Expected a column or table name near '${t?.text ?? 'end of query'}'`);
    }
    p++;
    if (peek()?.kind === 'punct' && peek()?.text === '(') {
      throw new SuiteQlError(`Functions are not supported by the sandbox SuiteQL subset (${t.text})`);
    }
    return t.text.toLowerCase();
  };
  const literal = (): Literal => {
    const t = peek();
    if (t?.kind === 'string') {
      p++;
      return t.text;
    }
    if (t?.kind === 'number') {
      p++;
      return Number(t.text);
    }
    throw new SuiteQlError(`Expected a literal near '${t?.text ?? 'end of query'}'`);
  };

  expectKw('SELECT');
  let columns: string[] | '*';
  if (punct('*')) {
    columns = '*';
  } else {
    columns = [ident()];
    while (punct(',')) columns.push(ident());
    if (peek()?.kind === 'word' && !RESERVED.has((peek()?.text ?? '').toUpperCase())) {
      throw new SuiteQlError('Column aliases are not supported by the sandbox SuiteQL subset');
    }
  }
  expectKw('FROM');
  const table = ident();
  if (peek()?.kind === 'word' && !RESERVED.has((peek()?.text ?? '').toUpperCase())) {
    throw new SuiteQlError('Table aliases and joins are not supported by the sandbox SuiteQL subset');
  }
  const where: Condition[] = [];
  if (kw('WHERE')) {
    do {
      const column = ident();
      if (kw('IS')) {
        const not = kw('NOT');
        expectKw('NULL');
        where.push({ column, op: not ? 'IS NOT NULL' : 'IS NULL' });
      } else if (kw('NOT')) {
        expectKw('IN');
        where.push({ column, op: 'NOT IN', values: list() });
      } else if (kw('IN')) {
        where.push({ column, op: 'IN', values: list() });
      } else {
        const t = peek();
        const ops = ['=', '<>', '!=', '<', '<=', '>', '>='];
        if (t?.kind !== 'punct' || !ops.includes(t.text)) {
          throw new SuiteQlError(`Unsupported condition near '${t?.text ?? 'end of query'}'`);
        }
        p++;
        const op = (t.text === '!=' ? '<>' : t.text) as '=' | '<>' | '<' | '<=' | '>' | '>=';
        where.push({ column, op, value: literal() });
      }
    } while (kw('AND'));
    if (peek()?.kind === 'word' && peek()?.text.toUpperCase() === 'OR') {
      throw new SuiteQlError('OR is not supported by the sandbox SuiteQL subset');
    }
  }
  const orderBy: SuiteQlQuery['orderBy'] = [];
  if (kw('ORDER')) {
    expectKw('BY');
    do {
      const column = ident();
      const desc = kw('DESC');
      if (!desc) kw('ASC');
      orderBy.push({ column, desc });
    } while (punct(','));
  }
  if (p < toks.length) throw new SuiteQlError(`Unsupported syntax near '${peek()?.text}'`);
  return { columns, table, where, orderBy };

  function list(): Literal[] {
    if (!punct('(')) throw new SuiteQlError('Expected ( after IN');
    if (peek()?.kind === 'word' && peek()?.text.toUpperCase() === 'SELECT') {
      throw new SuiteQlError('Sub-queries are not supported by the sandbox SuiteQL subset');
    }
    const vals = [literal()];
    while (punct(',')) vals.push(literal());
    if (!punct(')')) throw new SuiteQlError('Expected ) to close the IN list');
    return vals;
  }
}

/** A row as a table provider yields it; `undefined`/`null` = SQL NULL. */
export type Row = Record<string, string | number | boolean | null | undefined>;

/** A queryable table: its columns and a row source that may use the conditions to narrow its scan. */
export interface SuiteQlTable {
  columns: readonly string[];
  rows(where: readonly Condition[]): Iterable<Row>;
}

const cmp = (a: string | number | boolean, b: Literal): number => {
  const an = typeof a === 'number' ? a : typeof a === 'boolean' ? Number.NaN : Number(a);
  const bn = typeof b === 'number' ? b : Number(b);
  if (typeof a !== 'boolean' && a !== '' && b !== '' && Number.isFinite(an) && Number.isFinite(bn))
    return an - bn;
  const as = typeof a === 'boolean' ? (a ? 'T' : 'F') : String(a);
  const bs = String(b);
  return as < bs ? -1 : as > bs ? 1 : 0;
};

function matches(row: Row, c: Condition): boolean {
  const v = row[c.column];
  const isNull = v === undefined || v === null || v === '';
  switch (c.op) {
    case 'IS NULL':
      return isNull;
    case 'IS NOT NULL':
      return !isNull;
    case 'IN':
      return !isNull && c.values.some((x) => cmp(v, x) === 0);
    case 'NOT IN':
      return !isNull && !c.values.some((x) => cmp(v, x) === 0);
    default: {
      if (isNull) return false;
      const d = cmp(v, c.value);
      return c.op === '='
        ? d === 0
        : c.op === '<>'
          ? d !== 0
          : c.op === '<'
            ? d < 0
            : c.op === '<='
              ? d <= 0
              : c.op === '>'
                ? d > 0
                : d >= 0;
    }
  }
}

/**
 * Runs a parsed query. Values come back as SuiteQL REST returns them: column
 * names lower-case, every value a string (booleans as `T`/`F`), NULL columns
 * omitted from the item.
 */
export function runSuiteQl(
  q: SuiteQlQuery,
  tables: Record<string, SuiteQlTable>,
): Array<Record<string, string>> {
  const table = tables[q.table];
  if (!table) throw new SuiteQlError(`Record '${q.table}' was not found.`);
  const known = new Set(table.columns);
  const referenced = [
    ...(q.columns === '*' ? [] : q.columns),
    ...q.where.map((c) => c.column),
    ...q.orderBy.map((o) => o.column),
  ];
  for (const col of referenced) {
    if (!known.has(col))
      throw new SuiteQlError(`Field '${col}' for record '${q.table}' was not found. Reason: UNKNOWN_FIELD`);
  }
  const rows: Row[] = [];
  for (const r of table.rows(q.where)) if (q.where.every((c) => matches(r, c))) rows.push(r);
  const order =
    q.orderBy.length > 0 ? q.orderBy : table.columns.includes('id') ? [{ column: 'id', desc: false }] : [];
  rows.sort((a, b) => {
    for (const o of order) {
      const av = a[o.column];
      const bv = b[o.column];
      if (av === bv) continue;
      if (av === undefined || av === null) return o.desc ? -1 : 1;
      if (bv === undefined || bv === null) return o.desc ? 1 : -1;
      const d = cmp(av, typeof bv === 'boolean' ? (bv ? 'T' : 'F') : bv);
      if (d !== 0) return o.desc ? -d : d;
    }
    return 0;
  });
  const cols = q.columns === '*' ? [...table.columns] : q.columns;
  return rows.map((r) => {
    const out: Record<string, string> = {};
    for (const c of cols) {
      const v = r[c];
      if (v === undefined || v === null) continue;
      out[c] = typeof v === 'boolean' ? (v ? 'T' : 'F') : String(v);
    }
    return out;
  });
}

/** Values an equality / IN condition pins `column` to, or undefined when unconstrained (for narrowing scans). */
export function pinned(where: readonly Condition[], column: string): Set<string> | undefined {
  let set: Set<string> | undefined;
  for (const c of where) {
    if (c.column !== column) continue;
    const vals = c.op === '=' ? [c.value] : c.op === 'IN' ? c.values : undefined;
    if (!vals) continue;
    const s = new Set(vals.map(String));
    set = set ? new Set([...set].filter((v) => s.has(v))) : s;
  }
  return set;
}
