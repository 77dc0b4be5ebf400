import {
  BrokenCircuitError,
  type BulkheadPolicy,
  BulkheadRejectedError,
  bulkhead,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  DelegateBackoff,
  handleWhen,
  type IRetryBackoffContext,
  retry,
  TaskCancelledError,
} from 'cockatiel';
import type { ErpCallContext } from '../../ports/erp.ts';
import {
  ErpAuthError,
  type ErpErrorDetail,
  ErpReferenceError,
  ErpThrottledError,
  ErpUnavailableError,
  ErpValidationError,
} from '../../ports/erp-errors.ts';
import { type NetSuiteAuth, netSuiteBaseUrl } from './auth.ts';
import { parseNetSuiteJson, toNetSuiteJson } from './json.ts';

/**
 * Error codes NetSuite uses for concurrency governance: `SSS_REQUEST_LIMIT_EXCEEDED` (RESTlets answer it
 * with HTTP 400; REST with 429 per secondary sources and the sandbox) and the SOAP/TBA
 * `WS_REQUEST_BLOCKED`. Any of them is throttling, whatever the status.
 */
const GOVERNANCE_CODES = new Set(['SSS_REQUEST_LIMIT_EXCEEDED', 'WS_REQUEST_BLOCKED']);

/** Retries of throttled and failed attempts; keep the total under the caller's time budget (Lambda timeout). */
export interface NetSuiteRetryOptions {
  /** Retries after the first attempt. @default 8 */
  readonly maxAttempts?: number;
  /** Upper bound of the first backoff; doubles per retry (full jitter: uniform in [0, bound)). @default 200 */
  readonly initialDelayMs?: number;
  /** Cap of the backoff bound and of a server `Retry-After`. @default 10_000 */
  readonly maxDelayMs?: number;
}

/** When to stop calling NetSuite during an outage, and when to try again. */
export interface NetSuiteCircuitOptions {
  /** Consecutive outage failures (5xx, network, timeout) that open the circuit. @default 5 */
  readonly consecutiveFailures?: number;
  /** How long the circuit stays open before one trial call (half-open). @default 15_000 */
  readonly halfOpenAfterMs?: number;
}

/** One client per account and process: the bulkhead and the breaker only work when shared. */
export interface NetSuiteClientOptions {
  /** e.g. `https://1234567.suitetalk.api.netsuite.com`, or a sandbox mount. @default netSuiteBaseUrl(accountId) */
  readonly baseUrl?: string;
  readonly accountId: string;
  readonly auth: NetSuiteAuth;
  /**
   * Most requests this client has in flight at once. Set it to the share of the account's concurrency
   * limit this process may use (limit ÷ concurrent processes), so that 429s stay the exception.
   * @default 15
   */
  readonly maxConcurrency?: number;
  /** Requests waiting for a slot before further ones are refused (retryable). @default 10_000 */
  readonly maxQueue?: number;
  readonly retry?: NetSuiteRetryOptions;
  readonly circuitBreaker?: NetSuiteCircuitOptions;
  /** Per-attempt timeout; NetSuite itself gives up after 15 minutes. @default 60_000 */
  readonly requestTimeoutMs?: number;
  readonly fetch?: typeof fetch;
  /** Source of jitter (tests). @default Math.random */
  readonly random?: () => number;
  /** Telemetry hook: retries, throttling, circuit changes. Never receives credentials or bodies. */
  readonly onEvent?: (event: NetSuiteClientEvent) => void;
}

/** What the client reports to its `onEvent` hook. */
export type NetSuiteClientEvent =
  | {
      readonly type: 'retry';
      readonly attempt: number;
      readonly delayMs: number;
      readonly reason: string;
      readonly transactionId: string | undefined;
    }
  | { readonly type: 'throttled'; readonly status: number; readonly transactionId: string | undefined }
  | { readonly type: 'circuit'; readonly state: 'open' | 'half-open' | 'closed' };

/** Methods NetSuite REST record and query endpoints use. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** One logical call. Throttled or failed attempts are resent, so writes must be idempotent (PUT eid:, PATCH). */
export interface NetSuiteRequest {
  readonly method: HttpMethod;
  /** Path under the base URL, e.g. `/services/rest/record/v1/salesOrder/eid:x`. */
  readonly path: string;
  readonly query?: Readonly<Record<string, string>>;
  /** Serialised with {@link toNetSuiteJson}: decimal-string money fields go out as exact numbers. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  readonly ctx?: ErpCallContext;
}

/** A 2xx answer: non-2xx answers are thrown as typed errors instead. */
export interface NetSuiteResponse {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed with {@link parseNetSuiteJson}; undefined for an empty body (204). */
  readonly body: unknown;
}

/** Counters for observability and tests. */
export interface NetSuiteClientStats {
  /** HTTP attempts sent to record/query endpoints (token calls excluded). */
  requests: number;
  /** Attempts answered with concurrency governance (429 / SSS_REQUEST_LIMIT_EXCEEDED). */
  throttled: number;
  retries: number;
  inFlight: number;
  peakInFlight: number;
  circuitOpened: number;
}

const parseRetryAfter = (value: string | null, now: number): number | undefined => {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

interface NsErrorJson {
  'o:errorDetails'?: Array<Record<string, unknown>>;
  title?: unknown;
}

function errorDetails(body: unknown): ErpErrorDetail[] {
  const details = (body as NsErrorJson | undefined)?.['o:errorDetails'];
  if (!Array.isArray(details)) return [];
  return details.map((d) => {
    const path = [d['o:errorPath'], d['o:urlPath'], d['o:errorHeader'], d['o:errorQueryParam']].find(
      (p): p is string => typeof p === 'string' && p !== '',
    );
    return {
      code: typeof d['o:errorCode'] === 'string' ? d['o:errorCode'] : 'UNKNOWN',
      detail: typeof d.detail === 'string' ? d.detail : '',
      ...(path !== undefined ? { path } : {}),
    };
  });
}

/**
 * Maps a non-2xx NetSuite answer to the hub's error taxonomy — the single place where "retryable or
 * not" is decided for ERP responses.
 */
export function errorFromResponse(status: number, headers: Headers, body: unknown, what: string): Error {
  const details = errorDetails(body);
  const first = details[0];
  const erpCode = first?.code;
  const summary = `${what}: ${status}${erpCode ? ` ${erpCode}` : ''}${first?.detail ? ` — ${first.detail}` : ''}`;
  const retryAfterMs = parseRetryAfter(headers.get('retry-after'), Date.now());
  if (status === 429 || details.some((d) => GOVERNANCE_CODES.has(d.code))) {
    return new ErpThrottledError(summary, status, erpCode, retryAfterMs);
  }
  if (status === 401 || status === 403) return new ErpAuthError(summary, status, erpCode);
  if (status >= 500 || status === 408) {
    return new ErpUnavailableError(summary, status, erpCode, false, retryAfterMs);
  }
  // An id the account does not have: a data error of the booking config or a mapping (permanent).
  if (details.some((d) => d.code === 'INVALID_KEY_OR_REF')) {
    const reference = details.find((d) => d.code === 'INVALID_KEY_OR_REF');
    return new ErpReferenceError(summary, status, erpCode, reference?.path, details);
  }
  return new ErpValidationError(summary, status, erpCode, first?.path, details);
}

const isOutage = (error: unknown): boolean => error instanceof ErpUnavailableError && !error.circuitOpen;
const isTransient = (error: unknown): boolean => error instanceof ErpThrottledError || isOutage(error);

/**
 * NetSuite REST client on `fetch`, paced for NetSuite's per-account concurrency governance.
 *
 * Each attempt holds one slot of a cockatiel bulkhead (`maxConcurrency`, queued beyond), so this client
 * never has more requests in flight than its share of the account limit. Throttling (429 /
 * `SSS_REQUEST_LIMIT_EXCEEDED`) and outages (5xx, network errors, timeouts) are retried with
 * exponential backoff and full jitter (or the server's `Retry-After`), outside the bulkhead so a waiting
 * retry holds no slot. A consecutive-failure circuit breaker stops calls during an outage: while it is
 * open calls fail fast with a retryable {@link ErpUnavailableError} (`circuitOpen`) and are not retried
 * here — the queue holds the backlog — and one trial call after `halfOpenAfterMs` closes it again.
 * Permanent errors (validation, auth) are never retried. A 401 drops the token and is retried once with
 * a fresh one before it becomes an {@link ErpAuthError}.
 */
export class NetSuiteClient {
  readonly baseUrl: string;
  readonly stats: NetSuiteClientStats = {
    requests: 0,
    throttled: 0,
    retries: 0,
    inFlight: 0,
    peakInFlight: 0,
    circuitOpened: 0,
  };
  private readonly fetchFn: typeof fetch;
  private readonly random: () => number;
  private readonly bulkhead: BulkheadPolicy;
  private readonly breaker: CircuitBreakerPolicy;

  constructor(private readonly options: NetSuiteClientOptions) {
    this.baseUrl = (options.baseUrl ?? netSuiteBaseUrl(options.accountId)).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
    this.random = options.random ?? Math.random;
    this.bulkhead = bulkhead(options.maxConcurrency ?? 15, options.maxQueue ?? 10_000);
    this.breaker = circuitBreaker(handleWhen(isOutage), {
      halfOpenAfter: options.circuitBreaker?.halfOpenAfterMs ?? 15_000,
      breaker: new ConsecutiveBreaker(options.circuitBreaker?.consecutiveFailures ?? 5),
    });
    this.breaker.onBreak(() => {
      this.stats.circuitOpened++;
      this.options.onEvent?.({ type: 'circuit', state: 'open' });
    });
    this.breaker.onHalfOpen(() => this.options.onEvent?.({ type: 'circuit', state: 'half-open' }));
    this.breaker.onReset(() => this.options.onEvent?.({ type: 'circuit', state: 'closed' }));
  }

  /** Current circuit state, for health checks and metrics. */
  get circuitState(): 'closed' | 'open' | 'half-open' {
    const state = this.breaker.state;
    if (state === CircuitState.Closed) return 'closed';
    return state === CircuitState.HalfOpen ? 'half-open' : 'open';
  }

  /**
   * Sends one logical request with pacing, retries and the circuit breaker. Resolves with any 2xx;
   * rejects with an {@link ErpThrottledError}, {@link ErpUnavailableError}, {@link ErpAuthError} or
   * {@link ErpValidationError}.
   */
  async request(req: NetSuiteRequest): Promise<NetSuiteResponse> {
    const { maxAttempts = 8, initialDelayMs = 200, maxDelayMs = 10_000 } = this.options.retry ?? {};
    const transactionId = req.ctx?.transactionId;
    const backoff = new DelegateBackoff<IRetryBackoffContext<unknown>>((context) => {
      const error = 'error' in context.result ? context.result.error : undefined;
      const bound = Math.min(maxDelayMs, initialDelayMs * 2 ** (context.attempt - 1));
      const hinted =
        error instanceof ErpThrottledError || error instanceof ErpUnavailableError
          ? error.retryAfterMs
          : undefined;
      const delayMs =
        hinted !== undefined
          ? Math.min(maxDelayMs, hinted) + this.random() * initialDelayMs
          : this.random() * bound;
      this.stats.retries++;
      this.options.onEvent?.({
        type: 'retry',
        attempt: context.attempt,
        delayMs,
        reason: error instanceof Error ? error.message : 'unknown',
        transactionId,
      });
      return delayMs;
    });
    const policy = retry(handleWhen(isTransient), { maxAttempts, backoff });
    return policy.execute(async ({ signal }) => {
      try {
        return await this.breaker.execute(
          () => this.bulkhead.execute(({ signal: slotSignal }) => this.attempt(req, slotSignal), signal),
          signal,
        );
      } catch (error) {
        throw this.translatePolicyError(error, req);
      }
    }, req.ctx?.signal);
  }

  private translatePolicyError(error: unknown, req: NetSuiteRequest): unknown {
    if (error instanceof BrokenCircuitError) {
      return new ErpUnavailableError(
        `${req.method} ${req.path}: not sent, the NetSuite circuit is open after repeated failures`,
        undefined,
        undefined,
        true,
        undefined,
        { cause: error },
      );
    }
    if (error instanceof BulkheadRejectedError) {
      return new ErpThrottledError(
        `${req.method} ${req.path}: the local request queue is full`,
        0,
        undefined,
        undefined,
        {
          cause: error,
        },
      );
    }
    if (error instanceof TaskCancelledError) {
      return new ErpUnavailableError(
        `${req.method} ${req.path}: cancelled`,
        undefined,
        undefined,
        false,
        undefined,
        {
          cause: error,
        },
      );
    }
    return error;
  }

  /** One HTTP attempt inside a concurrency slot, with one token refresh on 401. */
  private async attempt(req: NetSuiteRequest, signal: AbortSignal): Promise<NetSuiteResponse> {
    this.stats.inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.stats.inFlight);
    try {
      const auth = this.options.auth;
      let token = await auth.token(signal);
      let res = await this.send(req, token, signal);
      if (res.status === 401) {
        auth.invalidate(token);
        token = await auth.token(signal);
        res = await this.send(req, token, signal);
      }
      if (res.status >= 200 && res.status < 300) return res;
      const error = errorFromResponse(res.status, res.headers, res.body, `${req.method} ${req.path}`);
      if (error instanceof ErpThrottledError) {
        this.stats.throttled++;
        this.options.onEvent?.({
          type: 'throttled',
          status: res.status,
          transactionId: req.ctx?.transactionId,
        });
      }
      throw error;
    } finally {
      this.stats.inFlight--;
    }
  }

  private async send(req: NetSuiteRequest, token: string, signal: AbortSignal): Promise<NetSuiteResponse> {
    const url = new URL(`${this.baseUrl}${req.path}`);
    for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
    const timeout = AbortSignal.timeout(this.options.requestTimeoutMs ?? 60_000);
    this.stats.requests++;
    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, {
        method: req.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(req.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...req.headers,
        },
        ...(req.body !== undefined ? { body: toNetSuiteJson(req.body) } : {}),
        signal: AbortSignal.any([signal, timeout]),
      });
      text = await res.text();
    } catch (error) {
      const timedOut = timeout.aborted;
      throw new ErpUnavailableError(
        `${req.method} ${req.path}: ${timedOut ? 'timed out' : 'no answer from NetSuite'}`,
        undefined,
        undefined,
        false,
        undefined,
        { cause: error },
      );
    }
    let body: unknown;
    if (text !== '') {
      try {
        body = parseNetSuiteJson(text);
      } catch {
        body = undefined; // a non-JSON error page (proxy, maintenance): the status decides
      }
    }
    return { status: res.status, headers: res.headers, body };
  }
}
