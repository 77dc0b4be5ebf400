import type { NetSuiteMappingConfig } from '../connectors/netsuite/mapper.ts';
import type { Mapping } from '../repositories/mappings.ts';

/**
 * Onboarding: the mapping rows order capture needs (`MAP#item sku#<sku>`, `MAP#location
 * <system>#<id>`, `MAP#payment-method gateway#<name>`), built from what the systems themselves hold
 * instead of a hand-written file. Everything here is pure: the fetchers in `./sources.ts` read the
 * systems, {@link buildMappings} matches them, `./sync.ts` writes the rows.
 *
 * Matching keys are the ones a retailer's systems share after onboarding: the SKU (ERP `itemid`,
 * Shopify and Square variant `sku`) and the location code (ERP location `externalid`, the first word
 * of a Shopify or Square location name). Nothing one-sided is dropped silently: every SKU or location
 * that cannot be mapped is counted in the report, with the first few named.
 */

/** Source systems as the canonical order names them (`Order.source.system`). */
export type SourceSystem = 'shopify' | 'pos';

/** An item of the ERP item master: internal id and SKU (`itemid`). */
export interface ErpItem {
  readonly id: string;
  readonly sku: string;
}

/** An ERP location and its cross-system code. */
export interface ErpLocation {
  readonly id: string;
  readonly code: string;
}

/** A location of a source system: the id its orders carry, and its cross-system code. */
export interface SourceLocation {
  readonly id: string;
  readonly code: string;
}

/** A NetSuite payment method. */
export interface ErpPaymentMethod {
  readonly id: string;
  readonly name: string;
}

/** What one source system sells and where: SKUs of its variants (`null` = a variant without SKU). */
export interface SourceCatalog {
  readonly system: SourceSystem;
  readonly skus: readonly (string | null)[];
  readonly locations: readonly SourceLocation[];
}

/** Everything read from the systems, the input of {@link buildMappings}. */
export interface OnboardingSnapshot {
  readonly erp: {
    readonly items: readonly ErpItem[];
    readonly locations: readonly ErpLocation[];
    readonly paymentMethods: readonly ErpPaymentMethod[];
  };
  readonly sources: readonly SourceCatalog[];
}

/**
 * Payment gateways as they appear on canonical orders (`Order.paymentGateways`) → the NetSuite payment
 * method (by name) they are booked as. Per account, like the booking items: an operator who named the
 * methods otherwise passes their own. Gateways: Shopify's `payment_gateway_names` (`shopify_payments`,
 * `gift_card`, `manual`, `cash` for Shopify POS) and Square's tender types as the Square mapper names
 * them (`card`, `cash`, `gift_card`).
 */
export const DEFAULT_GATEWAY_PAYMENT_METHODS: Readonly<Record<string, string>> = {
  shopify_payments: 'Shopify Payments',
  gift_card: 'Gift Card',
  manual: 'Manual Payment',
  cash: 'Cash',
  card: 'Card (POS)',
};

/** A count and the first few members, sorted, for a report an operator can act on. */
export interface Sample {
  readonly count: number;
  readonly first: readonly string[];
}

/** What could and could not be mapped. */
export interface OnboardingReport {
  readonly items: {
    readonly mapped: number;
    /** SKUs a source sells that no (single) ERP item has: orders with them cannot be booked. */
    readonly unmatched: Readonly<Record<SourceSystem, Sample>>;
    /** Source variants without a SKU: their order lines cannot be booked. */
    readonly withoutSku: Readonly<Record<SourceSystem, number>>;
    /** ERP SKUs that no source sells (informational). Booking items are not counted. */
    readonly erpOnly: Sample;
    /** SKUs held by more than one ERP item: not mapped, since either could be meant. */
    readonly ambiguous: Sample;
  };
  readonly locations: {
    readonly mapped: number;
    /** Source locations (`<system>#<id> <code>`) whose code no (single) ERP location has. */
    readonly unmatched: Sample;
    /** Codes held by more than one ERP location. */
    readonly ambiguous: Sample;
  };
  readonly paymentMethods: {
    readonly mapped: number;
    /** Gateways (`<gateway> → <method name>`) whose payment method the ERP does not have. */
    readonly unmatched: Sample;
  };
  /** Booking settings (`NetSuiteMappingConfig`) that point at nothing in the ERP. */
  readonly configProblems: readonly string[];
}

export interface OnboardingResult {
  readonly mappings: readonly Mapping[];
  readonly report: OnboardingReport;
}

const SAMPLE_SIZE = 5;

/** Counts and names the first few of a set, sorted so a report is stable from run to run. */
export function sample(values: Iterable<string>, size = SAMPLE_SIZE): Sample {
  const sorted = [...new Set(values)].sort();
  return { count: sorted.length, first: sorted.slice(0, size) };
}

/** The cross-system code of a location whose name leads with it (`ST-001 New York 1` → `ST-001`). */
export function codeOfName(name: string): string {
  return name.trim().split(/\s+/)[0] ?? '';
}

/** Groups ids by a key, so that a key held by several ids is seen (and not mapped). */
function index<T>(
  rows: readonly T[],
  key: (row: T) => string,
  id: (row: T) => string,
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const row of rows) {
    const k = key(row);
    if (k === '') continue;
    const ids = out.get(k) ?? [];
    if (!ids.includes(id(row))) ids.push(id(row));
    out.set(k, ids);
  }
  return out;
}

const single = (ids: readonly string[] | undefined): string | undefined =>
  ids?.length === 1 ? ids[0] : undefined;

/** Items: one row per SKU that a source sells and exactly one ERP item has. */
export function matchItems(
  erpItems: readonly ErpItem[],
  sources: readonly SourceCatalog[],
  ignoreErpIds: ReadonlySet<string> = new Set(),
): { mappings: Mapping[]; report: OnboardingReport['items'] } {
  const bySku = index(
    erpItems.filter((item) => !ignoreErpIds.has(item.id)),
    (item) => item.sku.trim(),
    (item) => item.id,
  );
  const sold = new Set<string>();
  const unmatched: Record<SourceSystem, Set<string>> = { shopify: new Set(), pos: new Set() };
  const withoutSku: Record<SourceSystem, number> = { shopify: 0, pos: 0 };
  for (const source of sources) {
    for (const raw of source.skus) {
      const sku = raw?.trim() ?? '';
      if (sku === '') {
        withoutSku[source.system] += 1;
        continue;
      }
      sold.add(sku);
      if (single(bySku.get(sku)) === undefined) unmatched[source.system].add(sku);
    }
  }
  const mappings: Mapping[] = [];
  for (const sku of [...sold].sort()) {
    const target = single(bySku.get(sku));
    if (target !== undefined) mappings.push({ kind: 'item', source: 'sku', sourceId: sku, target });
  }
  const ambiguous = [...bySku].filter(([, ids]) => ids.length > 1);
  return {
    mappings,
    report: {
      mapped: mappings.length,
      unmatched: { shopify: sample(unmatched.shopify), pos: sample(unmatched.pos) },
      withoutSku,
      erpOnly: sample([...bySku.keys()].filter((sku) => !sold.has(sku))),
      ambiguous: sample(ambiguous.map(([sku, ids]) => `${sku} (items ${ids.join(', ')})`)),
    },
  };
}

/** Locations: one row per source location whose code exactly one ERP location has. */
export function matchLocations(
  erpLocations: readonly ErpLocation[],
  sources: readonly SourceCatalog[],
): { mappings: Mapping[]; report: OnboardingReport['locations'] } {
  const byCode = index(
    erpLocations,
    (location) => location.code.trim(),
    (location) => location.id,
  );
  const mappings: Mapping[] = [];
  const seen = new Set<string>();
  const unmatched: string[] = [];
  for (const source of sources) {
    for (const location of source.locations) {
      const key = `${source.system}#${location.id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const target = single(byCode.get(location.code.trim()));
      if (target === undefined) unmatched.push(`${key} ${location.code || '(no code)'}`);
      else mappings.push({ kind: 'location', source: source.system, sourceId: location.id, target });
    }
  }
  const ambiguous = [...byCode].filter(([, ids]) => ids.length > 1);
  return {
    mappings,
    report: {
      mapped: mappings.length,
      unmatched: sample(unmatched),
      ambiguous: sample(ambiguous.map(([code, ids]) => `${code} (locations ${ids.join(', ')})`)),
    },
  };
}

/** Payment methods: one row per gateway whose method name (case-insensitive) exactly one ERP method has. */
export function matchPaymentMethods(
  erpMethods: readonly ErpPaymentMethod[],
  gateways: Readonly<Record<string, string>>,
): { mappings: Mapping[]; report: OnboardingReport['paymentMethods'] } {
  const byName = index(
    erpMethods,
    (method) => method.name.trim().toLowerCase(),
    (method) => method.id,
  );
  const mappings: Mapping[] = [];
  const unmatched: string[] = [];
  for (const [gateway, name] of Object.entries(gateways).sort(([a], [b]) => a.localeCompare(b))) {
    const target = single(byName.get(name.trim().toLowerCase()));
    if (target === undefined) unmatched.push(`${gateway} → ${name}`);
    else mappings.push({ kind: 'payment-method', source: 'gateway', sourceId: gateway, target });
  }
  return { mappings, report: { mapped: mappings.length, unmatched: sample(unmatched) } };
}

/** Booking settings that do not exist in the ERP: the order mapper would send ids NetSuite rejects. */
export function checkConfig(
  config: Pick<NetSuiteMappingConfig, 'items' | 'onlineLocationId'>,
  erp: OnboardingSnapshot['erp'],
): string[] {
  const items = new Set(erp.items.map((item) => item.id));
  const problems = Object.entries(config.items)
    .filter(([, id]) => !items.has(id))
    .map(([name, id]) => `booking item ${name} = ${JSON.stringify(id)} is not an ERP item id`);
  if (
    config.onlineLocationId !== undefined &&
    !erp.locations.some((location) => location.id === config.onlineLocationId)
  ) {
    problems.push(`onlineLocationId = ${JSON.stringify(config.onlineLocationId)} is not an ERP location id`);
  }
  return problems;
}

/** Matches a snapshot of the systems into mapping rows and a report of what could not be matched. */
export function buildMappings(
  snapshot: OnboardingSnapshot,
  options: {
    readonly config: Pick<NetSuiteMappingConfig, 'items' | 'onlineLocationId'>;
    readonly gateways?: Readonly<Record<string, string>>;
  },
): OnboardingResult {
  const items = matchItems(
    snapshot.erp.items,
    snapshot.sources,
    new Set(Object.values(options.config.items)),
  );
  const locations = matchLocations(snapshot.erp.locations, snapshot.sources);
  const paymentMethods = matchPaymentMethods(
    snapshot.erp.paymentMethods,
    options.gateways ?? DEFAULT_GATEWAY_PAYMENT_METHODS,
  );
  return {
    mappings: [...items.mappings, ...locations.mappings, ...paymentMethods.mappings],
    report: {
      items: items.report,
      locations: locations.report,
      paymentMethods: paymentMethods.report,
      configProblems: checkConfig(options.config, snapshot.erp),
    },
  };
}

const named = (s: Sample) => (s.count > s.first.length ? `${s.first.join(', ')}, …` : s.first.join(', '));

/**
 * The report as lines: a one-line summary first (`mappings: 2000 items, 241 locations, 5 payment
 * methods (0 SKUs unmatched)`), then one line per problem, so a clean run prints one line.
 */
export function summarize(report: OnboardingReport): string[] {
  const { items, locations, paymentMethods } = report;
  const unmatchedSkus = items.unmatched.shopify.count + items.unmatched.pos.count;
  const lines = [
    `mappings: ${items.mapped} items, ${locations.mapped} locations, ${paymentMethods.mapped} payment methods (${unmatchedSkus} SKUs unmatched)`,
  ];
  for (const system of ['shopify', 'pos'] as const) {
    const s = items.unmatched[system];
    if (s.count > 0) lines.push(`  ${s.count} ${system} SKUs have no ERP item: ${named(s)}`);
    if (items.withoutSku[system] > 0)
      lines.push(`  ${items.withoutSku[system]} ${system} variants have no SKU`);
  }
  if (items.ambiguous.count > 0)
    lines.push(`  ${items.ambiguous.count} SKUs are on several ERP items: ${named(items.ambiguous)}`);
  if (items.erpOnly.count > 0)
    lines.push(`  ${items.erpOnly.count} ERP SKUs are not sold by any source: ${named(items.erpOnly)}`);
  if (locations.unmatched.count > 0)
    lines.push(
      `  ${locations.unmatched.count} locations have no ERP location: ${named(locations.unmatched)}`,
    );
  if (locations.ambiguous.count > 0)
    lines.push(
      `  ${locations.ambiguous.count} codes are on several ERP locations: ${named(locations.ambiguous)}`,
    );
  if (paymentMethods.unmatched.count > 0)
    lines.push(
      `  ${paymentMethods.unmatched.count} gateways have no ERP payment method: ${named(paymentMethods.unmatched)}`,
    );
  for (const problem of report.configProblems) lines.push(`  config: ${problem}`);
  return lines;
}
