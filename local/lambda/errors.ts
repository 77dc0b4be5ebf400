/**
 * Errors of the Lambda service itself (not of a function): what an `Invoke` call throws before or instead of
 * running the function. `name` is the AWS error code, as the SDK exposes it, so callers classify them as they would
 * the SDK's (Step Functions reports `Lambda.<name>`, EventBridge retries `TooManyRequestsException`).
 *
 * Reference: Lambda API Reference, `Invoke`, "Errors".
 */

/** A Lambda service error with its HTTP status and, for throttles, the reason. */
export class LambdaServiceError extends Error {
  constructor(
    name: string,
    message: string,
    readonly statusCode: number,
    readonly reason?: string,
  ) {
    super(message);
    this.name = name;
  }
}

/**
 * Synchronous invocation payload limit, request and response: "6 MB each for request and response (synchronous)"
 * (Lambda quotas). Requests are measured in bytes of 6 MiB.
 */
export const MAX_SYNC_PAYLOAD_BYTES = 6 * 1024 * 1024;
/**
 * The response limit as the runtime API enforces it: its error reads "Exceeded maximum allowed payload size
 * (6291556 bytes)" (observed answers of the runtime API, e.g. aws/aws-lambda-dotnet#1815).
 */
export const MAX_SYNC_RESPONSE_BYTES = 6_291_556;
/** "For asynchronous invocations, the maximum payload size is 1 MB" (API Reference, `Invoke`). */
export const MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024;

/** 429: the function's reserved concurrency is in use (API Reference, `Invoke`: TooManyRequestsException). */
export function throttled(functionName: string): LambdaServiceError {
  return new LambdaServiceError(
    'TooManyRequestsException',
    `Rate Exceeded. (function ${functionName}: reserved concurrency in use)`,
    429,
    'ReservedFunctionConcurrentInvocationLimitExceeded',
  );
}

/** 413: the request payload is over the limit of its invocation type. */
export function payloadTooLarge(
  bytes: number,
  invocationType: 'RequestResponse' | 'Event',
): LambdaServiceError {
  return invocationType === 'Event'
    ? new LambdaServiceError(
        'RequestEntityTooLargeException',
        `${bytes} byte payload is too large for the Event invocation type (limit ${MAX_ASYNC_PAYLOAD_BYTES} bytes)`,
        413,
      )
    : new LambdaServiceError(
        'RequestEntityTooLargeException',
        `Request must be smaller than ${MAX_SYNC_PAYLOAD_BYTES} bytes for the InvokeFunction operation`,
        413,
      );
}
