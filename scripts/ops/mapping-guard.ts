import type { MappingKind } from '#shared/repositories/mappings.ts';

export interface MappingRow {
  readonly kind: MappingKind;
  readonly source: string;
  readonly sourceId: string;
  readonly target: string;
}

/**
 * Rows that would corrupt the local demo if loaded into the local cloud's mappings table: a SKU pointed at
 * one of the ERP's booking items (the discount, shipping and gift-card lines that are not products —
 * an order line would book as shipping), or a row `npm start` built from the sandboxes changed to another
 * target (the sample file's `shopify_payments` → 1, say). One message per row; empty when the file is safe.
 *
 * `bookingItems`: the ERP ids the dev stack books those lines with, by name; `existing`: the table's rows,
 * per kind, by `<source>#<sourceId>`.
 */
export function mappingProblems(
  rows: readonly MappingRow[],
  bookingItems: Readonly<Record<string, string>>,
  existing: ReadonlyMap<MappingKind, ReadonlyMap<string, string>>,
): string[] {
  const booking = new Map(Object.entries(bookingItems).map(([name, id]) => [String(id), name]));
  const problems: string[] = [];
  for (const row of rows) {
    const item = row.kind === 'item' ? booking.get(row.target) : undefined;
    if (item)
      problems.push(
        `${row.source} ${row.sourceId} → item ${row.target}: that is the ERP's ${item} booking item`,
      );
    const current = existing.get(row.kind)?.get(`${row.source}#${row.sourceId}`);
    if (current !== undefined && current !== row.target)
      problems.push(`${row.kind} ${row.source} ${row.sourceId}: ${current} now, the file says ${row.target}`);
  }
  return problems;
}
