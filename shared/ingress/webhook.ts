import { createHash } from 'node:crypto';
import { PublishError } from '../errors.ts';
import { NO_TRACE, type TraceRecorder } from '../ops/trace.ts';
import type { ExceptionStore, ParkedInput } from '../repositories/exceptions.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';

/**
 * What every webhook ingress shares (Shopify, POS): the request and response shapes of API Gateway's
 * HTTP API (payload 2.0), the outcome a delivery comes to, the de-duplication port and the signing
 * secrets port. Vendor specifics stay in each ingress module.
 */

/**
 * Shopify retries a failed delivery 8 times over about 4 hours; keep delivery records for two days so
 * that a late retry, or a redelivery an operator triggers the next day, is still recognised. Square
 * retries for up to 72 hours: its ingress passes a longer TTL.
 */
export const DELIVERY_RECORD_TTL_SECONDS = 2 * 24 * 3600;

/** An HTTP request as API Gateway (HTTP API, payload 2.0) hands it over: headers lower-cased. */
export interface WebhookRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body?: string | undefined;
  readonly isBase64Encoded?: boolean | undefined;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What one delivery came to; stored by the de-duplication so that a retry gets the same answer. */
export type DeliveryOutcome =
  | { readonly status: 'published'; readonly eventIds: string[]; readonly duplicate?: boolean }
  | { readonly status: 'parked'; readonly exceptionId: string; readonly duplicate?: boolean }
  | { readonly status: 'ignored'; readonly reason: string; readonly duplicate?: boolean };

/**
 * Runs `work` at most once per delivery key. A repeated key resolves to the stored outcome with
 * `duplicate: true`; a failed `work` leaves no record, so the sender's retry runs it again.
 */
export type DeliveryDeduplicator = (
  delivery: { readonly key: string; readonly bodyHash: string },
  work: () => Promise<DeliveryOutcome>,
) => Promise<DeliveryOutcome>;

/** Thrown by a deduplicator while another invocation is processing the same delivery. */
export class DeliveryInProgressError extends Error {
  readonly code = 'DELIVERY_IN_PROGRESS';
}

/** Thrown by a deduplicator when a delivery id comes back with a different body. */
export class DeliveryConflictError extends Error {
  readonly code = 'DELIVERY_CONFLICT';
}

/** Current and (during a rotation) previous signing secrets; `refresh` re-reads them, rate-limited. */
export interface WebhookSecrets {
  candidates(): Promise<readonly string[]>;
  /** Returns fresh candidates, or undefined when a refresh happened too recently to try again. */
  refresh(): Promise<readonly string[] | undefined>;
}

export const jsonResponse = (statusCode: number, body: object): WebhookResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(body),
});

/** The parts of an API Gateway HTTP API (payload 2.0) event that make up the URL it was sent to. */
export interface RequestUrlParts {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly rawPath: string;
  readonly rawQueryString?: string | undefined;
  readonly requestContext: { readonly domainName: string };
}

/**
 * The absolute URL a request was sent to, as API Gateway saw it: `x-forwarded-proto` (API Gateway sets
 * it; `https` on AWS), the domain name and the raw path and query. With a custom domain and an API
 * mapping, `rawPath` lacks the mapping key — configure the URL explicitly there.
 */
export function requestUrl(request: RequestUrlParts): string {
  const proto = request.headers['x-forwarded-proto']?.split(',')[0]?.trim() || 'https';
  const query = request.rawQueryString ? `?${request.rawQueryString}` : '';
  return `${proto}://${request.requestContext.domainName}${request.rawPath}${query}`;
}

/**
 * Runs one verified delivery exactly once and answers the sender — the part every ingress shares:
 * a duplicate gets the stored outcome (200), a delivery in progress 409, a delivery id that comes back
 * with another body is parked (never answered so that the sender gives up on a body nobody kept), a
 * bus that refused the events 503 (the sender retries), anything else 500. `onError` answers the
 * ingress's own failures (e.g. a vendor API it reads from) before the generic 500.
 */
export async function answerDelivery(options: {
  readonly deps: {
    readonly deduplicate: DeliveryDeduplicator;
    readonly telemetry: Telemetry;
    readonly log: LogSink;
    /** Trace checkpoints (received, then published or parked). @default none */
    readonly trace?: TraceRecorder;
    /** Makes the transaction id the logs' correlation id (Powertools `setCorrelationId`). @default none */
    readonly correlate?: (transactionId: string) => void;
  };
  /** `<account>#<delivery id>`: the de-duplication key. */
  readonly key: string;
  readonly deliveryId: string;
  readonly raw: Buffer;
  readonly context: Readonly<Record<string, unknown>> & { readonly transactionId: string };
  readonly process: () => Promise<DeliveryOutcome>;
  /** Parks the body of a conflicting delivery under `inputId`; answers the outcome to send back. */
  readonly parkConflict: (error: DeliveryConflictError, inputId: string) => Promise<DeliveryOutcome>;
  readonly onError?: (error: unknown) => WebhookResponse | undefined;
  /** Vendor ids the transaction can be traced by (webhook id, order id). @default the delivery id */
  readonly refs?: readonly (string | undefined)[];
}): Promise<WebhookResponse> {
  const { deps, context } = options;
  const { transactionId } = context;
  const trace = deps.trace ?? NO_TRACE;
  deps.correlate?.(transactionId);
  // Checkpoints are written once the outcome is known (a duplicate says so), at the times of their steps.
  const receivedAt = new Date().toISOString();
  let processedAt = receivedAt;
  const process = async () => {
    const outcome = await options.process();
    processedAt = new Date().toISOString();
    return outcome;
  };
  const bodyHash = createHash('sha256').update(options.raw).digest('base64');
  try {
    const outcome = await deps.deduplicate({ key: options.key, bodyHash }, process);
    const received = {
      transactionId,
      step: 'received' as const,
      at: receivedAt,
      refs: options.refs ?? [options.deliveryId],
      detail: { deliveryId: options.deliveryId, ...(outcome.duplicate ? { duplicate: true } : {}) },
    };
    if (outcome.duplicate) {
      deps.telemetry.count('WebhookDuplicate');
      deps.log.info('duplicate webhook delivery: nothing published', context);
      await trace.checkpoint(received);
    } else if (outcome.status === 'published') {
      await trace.checkpoints([
        received,
        { transactionId, step: 'published', at: processedAt, detail: { events: outcome.eventIds.length } },
      ]);
    } else if (outcome.status === 'parked') {
      await trace.checkpoints([
        received,
        { transactionId, step: 'parked', at: processedAt, detail: { exceptionId: outcome.exceptionId } },
      ]);
    } else {
      await trace.checkpoint(received);
    }
    return jsonResponse(200, outcome);
  } catch (error) {
    if (error instanceof DeliveryInProgressError) {
      return jsonResponse(409, { message: 'this delivery is being processed; retry later' });
    }
    if (error instanceof DeliveryConflictError) {
      deps.telemetry.count('WebhookConflict');
      try {
        const inputId = `${options.deliveryId}#${bodyHash.slice(0, 16).replace(/[+/]/g, '_')}`;
        return jsonResponse(200, await options.parkConflict(error, inputId));
      } catch (parkError) {
        deps.log.error('conflicting webhook could not be parked', { ...context, error: parkError as Error });
        return jsonResponse(500, { message: 'internal error', transactionId });
      }
    }
    if (error instanceof PublishError) {
      deps.telemetry.count('WebhookPublishFailed');
      deps.log.error('events not accepted by the bus; the sender will retry', {
        ...context,
        failures: error.failures,
      });
      return jsonResponse(503, { message: 'temporarily unavailable', transactionId });
    }
    const answered = options.onError?.(error);
    if (answered) return answered;
    deps.telemetry.count('WebhookFailed');
    deps.log.error('webhook processing failed', { ...context, error: error as Error });
    return jsonResponse(500, { message: 'internal error', transactionId });
  }
}

/** What the steps before a vendor's own need: its secrets, metrics, logs and the size limit. */
export interface WebhookEdgeDeps {
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly maxBodyBytes: number;
}

/** A step's answer: go on with `value`, or stop with `response`. */
export type EdgeStep<T> = { readonly value: T } | { readonly response: WebhookResponse };

/** The raw body as the sender signed it (API Gateway base64-encodes binary bodies); 413 above the limit. */
export function decodeWebhookBody(request: WebhookRequest, deps: WebhookEdgeDeps): EdgeStep<Buffer> {
  const raw = Buffer.from(request.body ?? '', request.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > deps.maxBodyBytes) {
    deps.telemetry.count('WebhookRejectedTooLarge');
    return { response: jsonResponse(413, { message: `body exceeds ${deps.maxBodyBytes} bytes` }) };
  }
  return { value: raw };
}

/**
 * Checks a signature against the current and previous secrets; when none verifies, re-reads the secret
 * once (it may have been rotated since it was cached) before refusing with 401. `verify` answers the
 * index of the secret that verified, or -1. Counts a delivery signed with the previous secret.
 */
export async function verifyWithRotation(
  secrets: WebhookSecrets,
  signed: boolean,
  verify: (candidates: readonly string[]) => number,
  deps: WebhookEdgeDeps,
  logContext: Readonly<Record<string, unknown>>,
): Promise<WebhookResponse | undefined> {
  let matched = verify(await secrets.candidates());
  if (matched < 0 && signed) {
    const fresh = await secrets.refresh();
    if (fresh) matched = verify(fresh);
  }
  if (matched < 0) {
    deps.telemetry.count('WebhookRejectedSignature');
    deps.log.warn('webhook signature did not verify', logContext);
    return jsonResponse(401, { message: 'unauthorized' });
  }
  if (matched > 0) deps.telemetry.count('WebhookSignedWithPreviousSecret');
  return undefined;
}

/**
 * Nesting deeper than any vendor payload (Shopify's and Square's stay under 10 levels): refused before
 * parsing, so a hostile body cannot make mapping, validation or logging recurse without bound.
 */
export const MAX_JSON_DEPTH = 64;

/** The deepest `[`/`{` nesting of a JSON text (strings skipped), stopping once past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let index = 0; index < text.length && deepest <= limit; index += 1) {
    const char = text.charCodeAt(index);
    if (inString) {
      if (char === 0x5c)
        index += 1; // backslash: skip the escaped character
      else if (char === 0x22) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x5b || char === 0x7b) deepest = Math.max(deepest, ++depth);
    else if (char === 0x5d || char === 0x7d) depth -= 1;
  }
  return deepest;
}

/**
 * The body parsed as JSON (with the vendor's parser, e.g. one that keeps large ids exact); 400 for a
 * byte-order mark (RFC 8259 §8.1: senders must not add one; Shopify and Square do not), nesting
 * deeper than {@link MAX_JSON_DEPTH}, or anything that is not JSON.
 */
export function parseWebhookJson(
  raw: Buffer,
  deps: WebhookEdgeDeps,
  parse: (text: string) => unknown = JSON.parse,
): EdgeStep<unknown> {
  const refuse = (message: string): EdgeStep<unknown> => {
    deps.telemetry.count('WebhookRejectedMalformed');
    return { response: jsonResponse(400, { message }) };
  };
  if (raw[0] === 0xef && raw[1] === 0xbb && raw[2] === 0xbf)
    return refuse('body starts with a byte-order mark');
  const text = raw.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) return refuse(`body nests deeper than ${MAX_JSON_DEPTH} levels`);
  try {
    return { value: parse(text) };
  } catch {
    return refuse('body is not valid JSON');
  }
}

/** Webhooks are JSON: anything else is refused with 415 before the body is read as JSON. */
export function requireJsonContentType(
  request: WebhookRequest,
  deps: WebhookEdgeDeps,
): WebhookResponse | undefined {
  const contentType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (contentType === 'application/json') return undefined;
  deps.telemetry.count('WebhookRejectedContentType');
  return jsonResponse(415, { message: 'content-type must be application/json' });
}

/** An attacker-supplied value as it may appear in a log line: bounded, never the whole of it. */
export const forLog = (value: string | undefined, max = 128): string | undefined =>
  value === undefined || value.length <= max ? value : `${value.slice(0, max)}…(${value.length} chars)`;

/** Whether a delivery's signed or claimed trigger time is within what a sender's retries explain. */
export type Freshness = 'fresh' | 'stale' | 'future' | 'unknown';

/**
 * A delivery older than `maxAgeSeconds` (the de-duplication window: past it a replay would no longer
 * be recognised) is stale; one from further in the future than the clock skew allows is refused too.
 */
export function freshnessOf(
  triggeredAt: string | undefined,
  now: Date,
  window: { readonly maxAgeSeconds: number; readonly maxSkewSeconds: number },
): Freshness {
  if (!triggeredAt) return 'unknown';
  const ageMs = now.getTime() - Date.parse(triggeredAt);
  if (ageMs > window.maxAgeSeconds * 1000) return 'stale';
  if (-ageMs > window.maxSkewSeconds * 1000) return 'future';
  return 'fresh';
}

/** A sender's trigger time as UTC ISO-8601, or undefined when absent or unreadable. */
export function triggeredAtOf(value: string | undefined): string | undefined {
  return value && !Number.isNaN(Date.parse(value)) ? new Date(value).toISOString() : undefined;
}

/**
 * Parks a verified delivery that cannot become an event (unmappable, conflicting id, permanent vendor
 * error) in the exceptions table with its body and reason, for a fix and a replay; counts and logs it.
 */
export async function parkDelivery(
  deps: { readonly exceptions: ExceptionStore; readonly telemetry: Telemetry; readonly log: LogSink },
  input: ParkedInput,
  logContext: Readonly<Record<string, unknown>>,
): Promise<DeliveryOutcome> {
  const { exceptionId } = await deps.exceptions.park(input);
  deps.telemetry.count('WebhookParked');
  deps.log.warn('webhook parked', { ...logContext, exceptionId, code: input.code, reason: input.reason });
  return { status: 'parked', exceptionId };
}

/**
 * Refuses a delivery outside its sender's delivery window (a replay of a captured delivery, or one from
 * the future) with 200 — so the sender never retries it — counted and logged; undefined to go on.
 */
export function refuseOutsideWindow(
  triggeredAt: string | undefined,
  now: Date,
  window: { readonly maxAgeSeconds: number; readonly maxSkewSeconds: number },
  deps: WebhookEdgeDeps,
  logContext: Readonly<Record<string, unknown>>,
): WebhookResponse | undefined {
  const freshness = freshnessOf(triggeredAt, now, window);
  if (freshness === 'unknown') deps.telemetry.count('WebhookWithoutTriggeredAt');
  if (freshness !== 'stale' && freshness !== 'future') return undefined;
  deps.telemetry.count('WebhookRejectedStale');
  deps.log.warn('delivery outside the delivery window: not processed', { ...logContext, triggeredAt });
  return jsonResponse(200, {
    status: 'ignored',
    reason: `delivery triggered at ${triggeredAt} is ${freshness}`,
  });
}
