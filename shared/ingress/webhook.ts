import { createHash } from 'node:crypto';
import { PublishError } from '../errors.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';

/**
 * What every webhook ingress shares (Shopify, POS): the request and response shapes of API Gateway's
 * HTTP API (payload 2.0), the outcome a delivery comes to, the de-duplication port and the signing
 * secrets port. Vendor specifics stay in each ingress module.
 */

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
}): Promise<WebhookResponse> {
  const { deps, context } = options;
  const { transactionId } = context;
  const bodyHash = createHash('sha256').update(options.raw).digest('base64');
  try {
    const outcome = await deps.deduplicate({ key: options.key, bodyHash }, options.process);
    if (outcome.duplicate) {
      deps.telemetry.count('WebhookDuplicate');
      deps.log.info('duplicate webhook delivery: nothing published', context);
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
