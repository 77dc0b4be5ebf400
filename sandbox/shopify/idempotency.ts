/**
 * The `@idempotent(key:)` contract of the GraphQL Admin API (shopify.dev/docs/api/usage/
 * implementing-idempotency):
 *
 * - a duplicate request (same key, same mutation and the same variables) is executed once; later
 *   ones get the original operation's result back, rendered from the current state of the objects
 *   it created (not a stored response body);
 * - the same key with different parameters → `IDEMPOTENCY_KEY_PARAMETER_MISMATCH`
 *   ("The same idempotency key cannot be used with different operation parameters.");
 * - the same key while the first request is still running → `IDEMPOTENCY_CONCURRENT_REQUEST`
 *   ("This request is currently inprogress, please try again.");
 * - keys are kept 24 hours; after that the same key is a new operation.
 *
 * Both errors are `userErrors` codes on the mutation's payload, not top-level errors.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

/** Shopify's messages for the two idempotency codes (from the enum documentation). */
export const IDEMPOTENCY_MESSAGES = {
  IDEMPOTENCY_CONCURRENT_REQUEST: 'This request is currently inprogress, please try again.',
  IDEMPOTENCY_KEY_PARAMETER_MISMATCH:
    'The same idempotency key cannot be used with different operation parameters.',
} as const;

/** What a finished operation left behind, enough to render its payload again. */
export interface StoredOutcome {
  /** Ids of the objects the payload points at (adjustment group, refund, …). */
  refs: Record<string, string | null>;
  userErrors: Array<{ field: string[] | null; message: string; code: string | null }>;
}

interface Entry {
  fingerprint: string;
  state: 'in_progress' | 'done';
  outcome?: StoredOutcome;
  createdAt: number;
}

/** The verdict for one request. */
export type Begin =
  | { kind: 'new' }
  | { kind: 'replay'; outcome: StoredOutcome }
  | { kind: 'error'; code: keyof typeof IDEMPOTENCY_MESSAGES; message: string };

/** Idempotency records of one shop, with an injectable clock. */
export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();
  private replays = 0;
  private conflicts = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * Starts (or recognises) an operation. `fingerprint` identifies the mutation and its parameters.
   * On `new` the caller must call {@link complete} or {@link abandon}.
   */
  begin(key: string, fingerprint: string): Begin {
    const now = this.clock();
    const existing = this.entries.get(key);
    if (existing && now - existing.createdAt >= IDEMPOTENCY_TTL_MS) this.entries.delete(key);
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { fingerprint, state: 'in_progress', createdAt: now });
      return { kind: 'new' };
    }
    if (entry.fingerprint !== fingerprint) {
      this.conflicts++;
      const code = 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH';
      return { kind: 'error', code, message: IDEMPOTENCY_MESSAGES[code] };
    }
    if (entry.state === 'in_progress' || !entry.outcome) {
      this.conflicts++;
      const code = 'IDEMPOTENCY_CONCURRENT_REQUEST';
      return { kind: 'error', code, message: IDEMPOTENCY_MESSAGES[code] };
    }
    this.replays++;
    return { kind: 'replay', outcome: entry.outcome };
  }

  /** Records the outcome of a `new` operation. */
  complete(key: string, outcome: StoredOutcome): void {
    const entry = this.entries.get(key);
    if (entry) {
      entry.state = 'done';
      entry.outcome = outcome;
    }
  }

  /** Forgets a `new` operation that failed before doing anything (e.g. a top-level error). */
  abandon(key: string): void {
    const entry = this.entries.get(key);
    if (entry?.state === 'in_progress') this.entries.delete(key);
  }

  /** Counters for the state endpoint. */
  stats(): { keys: number; replays: number; conflicts: number } {
    return { keys: this.entries.size, replays: this.replays, conflicts: this.conflicts };
  }

  reset(): void {
    this.entries.clear();
    this.replays = 0;
    this.conflicts = 0;
  }
}
