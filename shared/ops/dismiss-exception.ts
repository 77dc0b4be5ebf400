import {
  DEFAULT_RESOLVED_RETENTION_DAYS,
  type DynamoExceptionStore,
  resolvedExpiry,
} from '../repositories/exceptions.ts';

/**
 * Resolves a parked input without replaying it — it needs none (a test delivery, an order booked by hand in
 * the ERP), or it never will (a payload a person has looked at and decided about). Nothing is lost silently:
 * the operator says why, the reason stays on the item, and like a replayed one it expires
 * `resolvedRetentionDays` later (DynamoDB TTL), taking its payload with it.
 */
export interface DismissDeps {
  readonly exceptions: Pick<DynamoExceptionStore, 'get' | 'markDismissed'>;
  /** Days a dismissed exception is kept (the environment's `resolvedExceptionRetentionDays`). @default 30 */
  readonly resolvedRetentionDays?: number;
  /** @default the system clock */
  readonly now?: () => Date;
}

export type DismissResult =
  | { readonly status: 'dismissed'; readonly exceptionId: string; readonly expiresAt: number }
  /** Already replayed or dismissed (by someone else, or before): left as it is. */
  | { readonly status: 'not-parked'; readonly exceptionId: string; readonly current: string }
  | { readonly status: 'not-found'; readonly exceptionId: string };

/** `<kind>/<sk>` (the id `park` returns and every report prints) → its key. */
export function parseExceptionId(exceptionId: string): { kind: string; sk: string } {
  const slash = exceptionId.indexOf('/');
  if (slash <= 0 || slash === exceptionId.length - 1)
    throw new Error(`not an exception id (expected <kind>/<sort key>): ${exceptionId}`);
  return { kind: exceptionId.slice(0, slash), sk: exceptionId.slice(slash + 1) };
}

export async function dismissException(
  deps: DismissDeps,
  exceptionId: string,
  reason: string,
): Promise<DismissResult> {
  if (reason.trim().length === 0) throw new Error('a dismissal needs a reason');
  const { kind, sk } = parseExceptionId(exceptionId);
  const current = await deps.exceptions.get(kind, sk);
  if (!current) return { status: 'not-found', exceptionId };
  const expiresAt = resolvedExpiry(
    deps.resolvedRetentionDays ?? DEFAULT_RESOLVED_RETENTION_DAYS,
    deps.now?.() ?? new Date(),
  );
  // Conditional on PARKED: a replay or a dismissal that got there first wins, and is reported.
  if (await deps.exceptions.markDismissed(kind, sk, { reason: reason.trim(), expiresAt }))
    return { status: 'dismissed', exceptionId, expiresAt };
  const after = await deps.exceptions.get(kind, sk);
  return { status: 'not-parked', exceptionId, current: after?.status ?? 'deleted' };
}
