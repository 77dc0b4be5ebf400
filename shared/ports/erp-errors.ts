import { HubError } from '../errors.ts';

/**
 * ERP error taxonomy. Retryable vs permanent is decided here, once per class: the client retries
 * only {@link ErpThrottledError} and {@link ErpUnavailableError}; a consumer parks anything whose
 * `retryable` is false. The names are vendor-neutral so a second ERP adapter can throw the same ones.
 */

/** One `o:errorDetails[]` entry of a NetSuite REST error body, with the pointer that was set. */
export interface ErpErrorDetail {
  readonly code: string;
  readonly detail: string;
  /** `o:errorPath` (body), `o:urlPath`, `o:errorHeader` or `o:errorQueryParam`, whichever NetSuite set. */
  readonly path?: string;
}

/**
 * The ERP refused the call for concurrency governance (HTTP 429, or `SSS_REQUEST_LIMIT_EXCEEDED`).
 * Retryable: the same call succeeds once a slot is free.
 */
export class ErpThrottledError extends HubError {
  readonly code = 'ERP_THROTTLED';
  readonly retryable = true;
  constructor(
    message: string,
    readonly status: number,
    readonly erpCode: string | undefined,
    /** Server hint (`Retry-After`), when it sent one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The ERP could not be reached or answered 5xx, a request timed out, or the circuit breaker is open
 * after repeated failures. Retryable: nothing about the input is wrong.
 */
export class ErpUnavailableError extends HubError {
  readonly code = 'ERP_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly erpCode: string | undefined,
    /** True when the call was not sent because the circuit is open (fail fast; let the queue hold it). */
    readonly circuitOpen = false,
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Credentials were refused (token endpoint `invalid_grant`, 401 after a fresh token, 403). Permanent:
 * retrying the same message cannot fix a certificate mapping or a role; park, alarm, fix, replay.
 */
export class ErpAuthError extends HubError {
  readonly code = 'ERP_AUTH';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly erpCode: string | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The ERP rejected the request itself (4xx other than throttling and auth): a missing field, an
 * unknown reference, a duplicate. Permanent. Carries NetSuite's error code and the path it points at,
 * which is what an operator needs to fix the mapping or the data.
 */
export class ErpValidationError extends HubError {
  readonly code = 'ERP_VALIDATION';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    readonly erpCode: string | undefined,
    readonly path: string | undefined,
    readonly details: readonly ErpErrorDetail[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The ERP refused a reference the hub sent — a customer, currency, location, item, payment method,
 * subsidiary or tax code id it does not have (NetSuite: 400 `INVALID_KEY_OR_REF` "Invalid Field Value …
 * for the following field: …"). A data error, permanent: the booking config or a mapping names an id the
 * account lacks; the order is parked with NetSuite's message and `path` (the field), never retried. `npm
 * run ops -- sync-mappings` names the config ids the ERP does not have.
 */
export class ErpReferenceError extends HubError {
  readonly code = 'ERP_INVALID_REFERENCE';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    readonly erpCode: string | undefined,
    readonly path: string | undefined,
    readonly details: readonly ErpErrorDetail[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The ERP accepted the document but its own total — read back after the write, with the tax its tax
 * engine booked — differs from the source order's to the cent (a tax computed twice or differently, a
 * line the ERP changed). Permanent: parked with both totals for a person to look at; replay after a fix.
 */
export class ErpTotalMismatchError extends HubError {
  readonly code = 'ERP_TOTAL_MISMATCH';
  readonly retryable = false;
  constructor(
    message: string,
    readonly expected: string,
    readonly actual: string,
  ) {
    super(message);
  }
}

/** What kind of mapping was missing; `key` is the source value that had no ERP counterpart. */
export interface MissingMapping {
  readonly kind: 'item' | 'location' | 'payment-method' | 'currency';
  readonly key: string;
  readonly reason?: string;
}

/**
 * A SKU, location, payment gateway or currency has no ERP mapping. Permanent for this message: park
 * it with `missing` as the reason; after the mapping is loaded a replay posts it. Lists every missing
 * mapping of the order at once so that one fix is enough.
 */
export class UnknownMappingError extends HubError {
  readonly code = 'UNKNOWN_MAPPING';
  readonly retryable = false;
  constructor(
    readonly missing: readonly MissingMapping[],
    options?: ErrorOptions,
  ) {
    super(
      `no ERP mapping for ${missing.map((m) => `${m.kind} ${JSON.stringify(m.key)}${m.reason ? ` (${m.reason})` : ''}`).join(', ')}`,
      options,
    );
  }
}

/**
 * The ERP document would not add up to the source order to the cent. Permanent: posting it would book
 * the wrong amount; the order is parked with both figures.
 */
export class TotalsMismatchError extends HubError {
  readonly code = 'ERP_TOTALS_MISMATCH';
  readonly retryable = false;
  constructor(
    message: string,
    readonly mismatches: readonly {
      readonly field: string;
      readonly expected: string;
      readonly actual: string;
    }[],
  ) {
    super(message);
  }
}
