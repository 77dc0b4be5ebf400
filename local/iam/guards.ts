/**
 * IAM in front of each local service endpoint, answering a refused call in that service's protocol:
 *
 * - AWS JSON protocol (EventBridge, Step Functions, Secrets Manager, SSM): HTTP 400,
 *   `{"__type":"AccessDeniedException","message":…}` and `x-amzn-errortype` (EventBridge, Step Functions, Secrets
 *   Manager and SSM API references, "Common Errors": AccessDeniedException, HTTP 400).
 * - DynamoDB: HTTP 400, `{"__type":"com.amazon.coral.service#AccessDeniedException","Message":…}` (DynamoDB
 *   Developer Guide, "Error handling with DynamoDB": AccessDeniedException, HTTP 400).
 * - SQS: HTTP 403 with error code `AccessDenied` — an XML `ErrorResponse` in the query protocol, and
 *   `x-amzn-query-error: AccessDenied;Sender` in the JSON protocol, which the SDK reads as the error code (SQS
 *   Developer Guide, "Troubleshoot access denied errors in Amazon SQS").
 *
 * PutEvents is decided per entry (API Reference, `PutEventsResultEntry`: a refused entry answers
 * `AccessDeniedException`, `NotAuthorizedForSourceException` or `NotAuthorizedForDetailTypeException`), unless no
 * statement allows PutEvents on the bus at all, which refuses the request.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type AwsJsonMiddleware, AwsServiceError } from '../aws/json-protocol.ts';
import type { Caller, PutEventsResult } from '../types.ts';
import { dynamodbRequests, jsonProtocolRequests, sqsRequests } from './actions.ts';
import { type Denial, type LocalIam, UnrecognizedClientError } from './local-iam.ts';

/** An HTTP answer a front end writes instead of forwarding the call. */
export interface Refusal {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The caller of a request, or the refusal for credentials IAM does not recognise. */
function identify(iam: LocalIam, req: IncomingMessage): Caller | UnrecognizedClientError {
  try {
    return iam.identify(req.headers, req.url);
  } catch (error) {
    if (error instanceof UnrecognizedClientError) return error;
    throw error;
  }
}

/** The per-entry error code of a PutEvents entry IAM refused. */
function putEventsErrorCode(denial: Denial): string {
  if (denial.explicit) return 'AccessDeniedException';
  if (denial.failedConditionKeys.includes('events:source')) return 'NotAuthorizedForSourceException';
  if (denial.failedConditionKeys.includes('events:detail-type')) return 'NotAuthorizedForDetailTypeException';
  return 'AccessDeniedException';
}

/** IAM for the AWS JSON-protocol services of the local AWS endpoint. */
export function jsonProtocolGuard(iam: LocalIam): AwsJsonMiddleware {
  return async ({ req, prefix, operation, input }, next) => {
    const caller = identify(iam, req);
    if (caller instanceof UnrecognizedClientError)
      throw new AwsServiceError('UnrecognizedClientException', caller.message, 400);
    if (caller.kind === 'admin') return next(input);
    const requests = jsonProtocolRequests(prefix, operation, input, iam.directory);
    if (
      prefix !== 'AWSEvents' ||
      operation !== 'PutEvents' ||
      requests.length === 0 ||
      requests.length > 10
    ) {
      const denial = iam.authorize(caller, requests);
      if (denial) throw new AwsServiceError('AccessDeniedException', denial.message, 400);
      return next(input);
    }
    const checks = requests.map((request) => iam.check(caller, request));
    const denials = checks.map((check) => check.denial);
    if (denials.every((denial) => denial !== undefined && denial.failedConditionKeys.length === 0)) {
      // Nothing allows PutEvents on these buses: the request itself is refused.
      const first = denials[0] as Denial;
      iam.record(first);
      throw new AwsServiceError('AccessDeniedException', first.message, 400);
    }
    if (denials.every((denial) => denial === undefined)) return next(input);
    for (const denial of denials) if (denial) iam.record(denial);
    const entries = (input.Entries as unknown[]).filter((_, index) => denials[index] === undefined);
    const accepted: PutEventsResult =
      entries.length === 0
        ? { FailedEntryCount: 0, Entries: [] }
        : ((await next({ ...input, Entries: entries })) as PutEventsResult);
    const results = [...accepted.Entries];
    const merged = denials.map((denial) =>
      denial
        ? { ErrorCode: putEventsErrorCode(denial), ErrorMessage: denial.message }
        : (results.shift() as PutEventsResult['Entries'][number]),
    );
    return {
      FailedEntryCount: merged.filter((entry) => 'ErrorCode' in entry).length,
      Entries: merged,
    } satisfies PutEventsResult;
  };
}

function jsonRefusal(
  status: number,
  type: string,
  message: string,
  extra: Record<string, string> = {},
): Refusal {
  return {
    status,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': type,
      ...extra,
    },
    body: JSON.stringify({ __type: type, message, Message: message }),
  };
}

/**
 * IAM for a DynamoDB request (`X-Amz-Target: DynamoDB_20120810.<Operation>`, JSON body): undefined when allowed,
 * else the answer to send.
 */
export function dynamodbGuard(iam: LocalIam, req: IncomingMessage, body: Buffer): Refusal | undefined {
  const caller = identify(iam, req);
  if (caller instanceof UnrecognizedClientError)
    return jsonRefusal(400, 'com.amazon.coral.service#UnrecognizedClientException', caller.message);
  if (caller.kind === 'admin') return undefined;
  const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
  let input: Record<string, unknown>;
  try {
    input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
  } catch {
    return undefined; // DynamoDB Local answers the SerializationException itself.
  }
  const denial = iam.authorize(caller, dynamodbRequests(operation, input, iam.directory));
  return denial
    ? jsonRefusal(400, 'com.amazon.coral.service#AccessDeniedException', denial.message)
    : undefined;
}

/** An SQS request decoded from either protocol: the operation and its parameters. */
export interface SqsCall {
  readonly json: boolean;
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/** IAM for an SQS call: undefined when allowed, else the `AccessDenied` answer in the call's protocol. */
export function sqsGuard(iam: LocalIam, req: IncomingMessage, call: SqsCall): Refusal | undefined {
  const caller = identify(iam, req);
  const refuse = (code: string, status: number, message: string): Refusal =>
    call.json
      ? jsonRefusal(status, `com.amazon.coral.service#${code}Exception`, message, {
          'x-amzn-query-error': `${code};Sender`,
        })
      : {
          status,
          headers: { 'content-type': 'text/xml' },
          body: `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message><Detail/></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
        };
  if (caller instanceof UnrecognizedClientError) return refuse('InvalidClientTokenId', 403, caller.message);
  if (caller.kind === 'admin') return undefined;
  const denial = iam.authorize(caller, sqsRequests(call.operation, call.input, iam.directory));
  return denial ? refuse('AccessDenied', 403, denial.message) : undefined;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => `&#${char.charCodeAt(0)};`);
}
