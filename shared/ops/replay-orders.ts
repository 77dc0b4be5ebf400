import {
  DEFAULT_RESOLVED_RETENTION_DAYS,
  type DynamoExceptionStore,
  type ParkedException,
  resolvedExpiry,
} from '../repositories/exceptions.ts';

/**
 * Replays order events parked by the ERP order sync (unknown mapping, ERP validation, totals that do
 * not reconcile) once their cause is fixed: each goes back onto the ERP order queue — only that
 * consumer, not every subscriber of the bus — and the exception is marked replayed.
 *
 * The event goes back unchanged: the consumer does not remember a parked outcome under the event's
 * idempotency key, so the same event posts once its cause is fixed, and stays exactly-once in effect
 * (the ERP write is an upsert by external id; the ledger ignores changes older than what was synced,
 * so a replay of an old version after a newer one was synced is ignored, not written). Marking is
 * conditional, so two operators replaying at once send each exception once; a failed send puts the
 * exception back to parked. A replay that parks again is parked again, with its new reason.
 *
 * A replayed exception is resolved: it expires `resolvedRetentionDays` later (DynamoDB TTL), so the
 * parked payload does not outlive its use by more than that.
 */
export interface ReplayDeps {
  readonly exceptions: Pick<DynamoExceptionStore, 'listParked' | 'markReplayed'>;
  /** Sends one message body to the ERP order queue. */
  readonly send: (body: string) => Promise<void>;
  /** Days a replayed exception is kept (the environment's `resolvedExceptionRetentionDays`). @default 30 */
  readonly resolvedRetentionDays?: number;
  /** @default the system clock */
  readonly now?: () => Date;
}

export interface ReplayResult {
  readonly replayed: string[];
  /** Parked exceptions that are not replayable order events (kept parked, with why). */
  readonly skipped: { exceptionId: string; why: string }[];
  /** Taken by a concurrent replay. */
  readonly alreadyReplayed: string[];
}

/** The parked bus event, checked to be one (a malformed input needs a code fix, not a replay). */
export function replayBody(exception: ParkedException): string {
  const text = exception.payload.toString('utf8');
  const event = JSON.parse(text) as { detail?: { metadata?: { idempotencyKey?: unknown } } };
  if (typeof event.detail?.metadata?.idempotencyKey !== 'string') {
    throw new Error('the parked payload is not a canonical bus event (no detail.metadata.idempotencyKey)');
  }
  return text;
}

export async function replayParkedOrders(
  deps: ReplayDeps,
  filter: (exception: ParkedException) => boolean = () => true,
): Promise<ReplayResult> {
  const result: ReplayResult = { replayed: [], skipped: [], alreadyReplayed: [] };
  for (const exception of await deps.exceptions.listParked('erp-order')) {
    if (!filter(exception)) continue;
    let body: string;
    try {
      body = replayBody(exception);
    } catch (error) {
      result.skipped.push({ exceptionId: exception.exceptionId, why: (error as Error).message });
      continue;
    }
    const expiresAt = resolvedExpiry(
      deps.resolvedRetentionDays ?? DEFAULT_RESOLVED_RETENTION_DAYS,
      deps.now?.() ?? new Date(),
    );
    if (!(await deps.exceptions.markReplayed(exception.kind, exception.sk, { expiresAt }))) {
      result.alreadyReplayed.push(exception.exceptionId);
      continue;
    }
    try {
      await deps.send(body);
    } catch (error) {
      await deps.exceptions.markReplayed(exception.kind, exception.sk, { revert: true });
      throw error;
    }
    result.replayed.push(exception.exceptionId);
  }
  return result;
}
