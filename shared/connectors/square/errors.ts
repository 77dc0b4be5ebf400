import { HubError } from '../../errors.ts';

/**
 * POS (Square) error taxonomy. Retryable vs permanent is decided here, once per class: the webhook
 * ingress answers 503 for what a later delivery can fix (so Square redelivers) and parks the rest.
 * The names are vendor-neutral so a second POS adapter can throw the same ones.
 */

/** The POS could not be reached, timed out, throttled (429) or answered 5xx. Nothing about the input is wrong. */
export class PosUnavailableError extends HubError {
  readonly code = 'POS_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * The access token was refused (401 after a fresh read of the secret, or 403). Permanent for the call,
 * but a configuration problem of the hub: every order fails alike and must flow again by itself once
 * the token is fixed, so the ingress answers 503 and lets Square redeliver (as order sync does for ERP
 * authentication).
 */
export class PosAuthError extends HubError {
  readonly code = 'POS_AUTH';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The POS has no such object (404). Permanent: park the input with the id that was not found. */
export class PosNotFoundError extends HubError {
  readonly code = 'POS_NOT_FOUND';
  readonly retryable = false;
}

/** The POS rejected the request itself (4xx other than auth, not found and throttling). Permanent. */
export class PosRequestError extends HubError {
  readonly code = 'POS_REQUEST_REJECTED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * An order the canonical model cannot carry yet (returns and exchanges, tips, service charges, cash
 * rounding). Permanent until the model grows: parked with this reason, replayed after the change.
 */
export class PosUnsupportedOrderError extends HubError {
  readonly code = 'POS_ORDER_UNSUPPORTED';
  readonly retryable = false;
}
