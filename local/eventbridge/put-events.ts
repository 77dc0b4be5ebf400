/**
 * PutEvents as EventBridge answers it: request limits, per-entry validation, and the event envelope an
 * accepted entry becomes.
 *
 * Reference: the Amazon EventBridge API Reference (`PutEvents`, `PutEventsResultEntry`) and the User Guide's
 * "Calculating PutEvents event entry size".
 */
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { Chaos } from '../chaos.ts';
import type { PutEventsEntry, PutEventsResult } from '../types.ts';
import type { MutableCounters } from './counters.ts';
import { busNameOf, type EventBridgeEvent, eventTime } from './event.ts';
import { DEFAULT_BUS } from './registry.ts';

/** PutEvents takes 1 to 10 entries (API Reference: `Entries`, array members 1..10). */
const MAX_ENTRIES = 10;
/**
 * Entry size limit: 1 MiB. The stored AWS guide still says "The total entry size must be less than 256KB";
 * the limit was raised to 1 MiB in January 2026 (VENDOR-FACTS.md; Shopify's changelog of 2026-11-17 cites
 * "EventBridge's 1 MiB entry cap"). Sized as the guide's "Calculating PutEvents event entry size" says.
 */
export const MAX_PUT_EVENTS_BYTES = 1024 * 1024;

/** What PutEvents needs from the bus: who it is, its clock, its buses, and where accepted events go. */
export interface PutEventsTarget {
  readonly accountId: string;
  readonly region: string;
  readonly counts: MutableCounters;
  now(): Date;
  hasBus(name: string): boolean;
  /** Fails some valid entries with InternalFailure or ThrottlingException, as EventBridge may. */
  readonly chaos?: Chaos | undefined;
  /** Archives the event on the bus and starts its deliveries. */
  ingest(busName: string, event: EventBridgeEvent): void;
}

/**
 * PutEvents with EventBridge's semantics: 1–10 entries and at most 1 MiB in total, else a
 * ValidationException for the whole request; otherwise one result per entry, in order — an `EventId` for
 * each accepted entry, `ErrorCode`/`ErrorMessage` for each rejected one.
 *
 * @throws AwsServiceError ValidationException for too many, too few or too large entries.
 */
export function putEvents(entries: readonly PutEventsEntry[], bus: PutEventsTarget): PutEventsResult {
  if (entries.length < 1 || entries.length > MAX_ENTRIES) {
    throw new AwsServiceError(
      'ValidationException',
      `1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length ${
        entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`
      }`,
    );
  }
  const totalBytes = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
  if (totalBytes > MAX_PUT_EVENTS_BYTES) {
    throw new AwsServiceError(
      'ValidationException',
      'Total size of the entries in the request is over the limit.',
    );
  }
  const results: PutEventsResult['Entries'] = [];
  for (const entry of entries) {
    const result = putEntry(entry, bus);
    if ('ErrorCode' in result) bus.counts.entriesFailed += 1;
    results.push(result);
  }
  return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
}

/**
 * An entry's size as the guide's "Calculating PutEvents event entry size" computes it: 14 bytes for a Time,
 * plus the UTF-8 bytes of Source, DetailType, Detail and each of Resources.
 */
export function entrySize(entry: PutEventsEntry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of Array.isArray(entry.Resources) ? entry.Resources : []) size += bytes(resource);
  return size;
}

function putEntry(entry: PutEventsEntry, bus: PutEventsTarget): PutEventsResult['Entries'][number] {
  // Codes from the API Reference (PutEventsResultEntry: InvalidArgument, MalformedDetail); order and wording
  // as EventBridge answers (not documented; observed responses, as moto reproduces them). The code for an
  // unknown bus is not documented either: ResourceNotFoundException, as the bus APIs use.
  for (const field of ['Source', 'DetailType', 'Detail'] as const) {
    const value = entry[field];
    if (typeof value !== 'string' || value.length === 0) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
      };
    }
  }
  let detail: unknown;
  try {
    detail = JSON.parse(entry.Detail as string);
  } catch {
    detail = undefined;
  }
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
  }
  const resources = entry.Resources ?? [];
  if (!Array.isArray(resources) || resources.some((resource) => typeof resource !== 'string')) {
    return {
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Resources is not valid. Reason: Resources must be a list of strings.',
    };
  }
  let time = bus.now();
  if (entry.Time !== undefined) {
    // The SDK sends Time as epoch seconds; ISO text is accepted too.
    const parsed = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(entry.Time);
    if (Number.isNaN(parsed.getTime())) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Time is not valid. Reason: Time is not a valid timestamp.',
      };
    }
    time = parsed;
  }
  const busName = busNameOf(
    typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : DEFAULT_BUS,
  );
  if (!bus.hasBus(busName)) {
    return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
  }
  const chaos = bus.chaos;
  if (chaos?.chance(chaos.putEventsFailureRate)) {
    // Retryable entry errors (PutEventsResultEntry): the entry is not accepted; the caller must retry it.
    chaos.counters.putEventsFailures += 1;
    return chaos.chance(0.5)
      ? { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded.' }
      : { ErrorCode: 'InternalFailure', ErrorMessage: 'Internal service error.' };
  }
  const event: EventBridgeEvent = {
    version: '0',
    id: crypto.randomUUID(),
    'detail-type': entry.DetailType as string,
    source: entry.Source as string,
    account: bus.accountId,
    time: eventTime(time),
    region: bus.region,
    resources: [...resources],
    detail: detail as Record<string, unknown>,
  };
  bus.ingest(busName, event);
  return { EventId: event.id };
}
