import type { NetSuiteMappingConfig } from '../connectors/netsuite/mapper.ts';
import type { Mapping, MappingKind, MappingRepository } from '../repositories/mappings.ts';
import { type BookingConfig, checkBookingConfig, fetchErpBookingRefs } from './booking.ts';
import { buildMappings, type OnboardingResult } from './mappings.ts';
import { type OnboardingSources, readSnapshot } from './sources.ts';

/** What a sync did: the matched rows and report, and how many rows it had to write. */
export interface SyncResult extends OnboardingResult {
  /** Rows written (new or with another target). */
  readonly written: number;
  /** Rows already in the table with the same target, not written again. */
  readonly unchanged: number;
}

/** The rows whose target the table does not hold yet. */
async function changedRows(
  repository: Pick<MappingRepository, 'targets'>,
  mappings: readonly Mapping[],
): Promise<Mapping[]> {
  const kinds = [...new Set(mappings.map((m) => m.kind))];
  const current = new Map<MappingKind, Map<string, string>>(
    await Promise.all(kinds.map(async (kind) => [kind, await repository.targets(kind)] as const)),
  );
  return mappings.filter((m) => current.get(m.kind)?.get(`${m.source}#${m.sourceId}`) !== m.target);
}

/**
 * Reads the systems, matches them and writes the rows through the mapping repository's batch load —
 * the same write path as `ops load-mappings`. Rows the table already holds with the same target are
 * not written again, so a re-run (every `npm start`) costs one read of the table. Rows for things that
 * disappeared from the systems are kept. Every id of the booking config is checked against the ERP
 * (items and online location with the item master and locations, customers, currencies, subsidiary and
 * tax type and code by SuiteQL); the ones it lacks are in `report.configProblems`, by path.
 */
export async function syncMappings(
  sources: OnboardingSources,
  options: {
    readonly repository: Pick<MappingRepository, 'load' | 'targets'>;
    readonly config: Pick<NetSuiteMappingConfig, 'items' | 'onlineLocationId'> & BookingConfig;
    readonly gateways?: Readonly<Record<string, string>>;
  },
): Promise<SyncResult> {
  const [snapshot, refs] = await Promise.all([
    readSnapshot(sources),
    fetchErpBookingRefs(sources.erp, options.config),
  ]);
  const built = buildMappings(snapshot, {
    config: options.config,
    ...(options.gateways ? { gateways: options.gateways } : {}),
  });
  const result: OnboardingResult = {
    ...built,
    report: {
      ...built.report,
      configProblems: [...built.report.configProblems, ...checkBookingConfig(options.config, refs)],
    },
  };
  const changed = await changedRows(options.repository, result.mappings);
  await options.repository.load(changed);
  return { ...result, written: changed.length, unchanged: result.mappings.length - changed.length };
}
