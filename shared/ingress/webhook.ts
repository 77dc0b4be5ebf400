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
