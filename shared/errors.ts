/**
 * Error taxonomy of the hub. Every error carries a machine-readable `code` and says once,
 * where it is defined, whether retrying can help — consumers never guess from messages.
 */
export abstract class HubError extends Error {
  abstract readonly code: string;
  /** True when the same input may succeed later (throttling, outage); false when it never will. */
  abstract readonly retryable: boolean;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Input that can never be processed as it is: park it with this reason, do not retry. */
export class MappingError extends HubError {
  readonly code = 'MAPPING_FAILED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly issues: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A money amount that cannot be represented exactly in the currency's minor units. */
export class MoneyPrecisionError extends HubError {
  readonly code = 'MONEY_PRECISION';
  readonly retryable = false;
}

/** EventBridge accepted only part of a PutEvents batch; the caller must retry the whole delivery. */
export class PublishError extends HubError {
  readonly code = 'PUBLISH_FAILED';
  readonly retryable = true;
  constructor(
    message: string,
    readonly failures: readonly { readonly errorCode?: string; readonly errorMessage?: string }[],
  ) {
    super(message);
  }
}
