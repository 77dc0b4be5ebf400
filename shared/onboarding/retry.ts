import { DelegateBackoff, handleWhen, type IRetryBackoffContext, retry } from 'cockatiel';

/**
 * Retries of onboarding's vendor reads (Shopify Admin GraphQL, Square REST). A read that the vendor
 * refused for now — HTTP 429, a 5xx, a network failure, Shopify's `THROTTLED` — is tried again after
 * the vendor's own hint when it gave one (`Retry-After`; for `THROTTLED` the time the leaky bucket
 * needs to refill the missing points), otherwise after an exponential backoff; at most `maxAttempts`
 * retries and never past `deadlineMs`. Anything else fails at once. (NetSuite reads go through
 * `NetSuiteClient`, which already retries 429/5xx with `Retry-After`.)
 */

/** A vendor answer worth trying again; `retryAfterMs` is the vendor's hint, if any. */
export class RetryableVendorError extends Error {
  readonly code = 'ONBOARDING_VENDOR_RETRYABLE';
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'RetryableVendorError';
  }
}

export interface VendorRetryOptions {
  /** Retries after the first attempt. @default 6 */
  readonly maxAttempts?: number;
  /** No retry starts later than this after the first attempt. @default 60_000 */
  readonly deadlineMs?: number;
  /** First backoff without a hint; doubles per retry. @default 500 */
  readonly initialDelayMs?: number;
  /** Cap of any wait, hinted or not. @default 20_000 */
  readonly maxDelayMs?: number;
  /** Called before each wait (logs, tests). */
  readonly onRetry?: (retry: { attempt: number; delayMs: number; reason: string }) => void;
}

/**
 * `Retry-After` in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3); undefined when
 * absent or unreadable.
 */
export function retryAfterMs(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** What an HTTP status means for a read: retryable (429, 5xx) or not. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Runs `call` with retries. A final {@link RetryableVendorError} is rethrown through `giveUp`, which
 * turns it into the caller's permanent error (with the attempt count).
 */
export async function withVendorRetry<T>(
  call: () => Promise<T>,
  giveUp: (last: RetryableVendorError, attempts: number) => Error,
  options: VendorRetryOptions = {},
): Promise<T> {
  const { maxAttempts = 6, deadlineMs = 60_000, initialDelayMs = 500, maxDelayMs = 20_000 } = options;
  const started = Date.now();
  const remaining = () => deadlineMs - (Date.now() - started);
  const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>>((context) => {
    const error = 'error' in context.result ? context.result.error : undefined;
    const hinted = error instanceof RetryableVendorError ? error.retryAfterMs : undefined;
    const delayMs = Math.max(
      0,
      Math.min(maxDelayMs, remaining(), hinted ?? initialDelayMs * 2 ** (context.attempt - 1)),
    );
    options.onRetry?.({
      attempt: context.attempt,
      delayMs,
      reason: error instanceof Error ? error.message : 'unknown',
    });
    return delayMs;
  });
  // A hint that reaches past the deadline is not waited for: the read fails now, with the hint.
  const retryable = handleWhen(
    (e) => e instanceof RetryableVendorError && remaining() > Math.min(maxDelayMs, e.retryAfterMs ?? 0),
  );
  let attempts = 0;
  try {
    return await retry(retryable, { maxAttempts, backoff }).execute(() => {
      attempts += 1;
      return call();
    });
  } catch (error) {
    if (error instanceof RetryableVendorError) throw giveUp(error, attempts);
    throw error;
  }
}
