/**
 * The Lambda API on the local AWS endpoint (REST-JSON, Lambda API Reference), so `aws lambda invoke
 * --endpoint-url …` and the SDK's `LambdaClient` work against the local functions:
 *
 * - `Invoke` — `POST /2015-03-31/functions/{FunctionName}/invocations`, `X-Amz-Invocation-Type` RequestResponse
 *   (200 with the function's response; `X-Amz-Function-Error: Unhandled` and the error object for a function
 *   error), Event (202, queued) or DryRun (204, permission and existence checked); `X-Amz-Log-Type: Tail` returns
 *   the last 4 KB of the invocation's log, base64-encoded, in `X-Amz-Log-Result`;
 * - `GetFunction` — `GET /2015-03-31/functions/{FunctionName}`; `GetFunctionConfiguration` — `…/configuration`;
 * - `ListFunctions` — `GET /2015-03-31/functions/` with `MaxItems` and `Marker`.
 *
 * Errors carry `x-amzn-errortype` and `{"Type":"User","Message":…}` with their status (Invoke "Errors"):
 * ResourceNotFoundException 404, TooManyRequestsException 429, RequestEntityTooLargeException 413,
 * InvalidRequestContentException 400, AccessDeniedException 403.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LocalIam } from '../iam/local-iam.ts';
import type { LocalTemplate } from '../template.ts';
import type { Caller } from '../types.ts';
import { LambdaServiceError, MAX_SYNC_PAYLOAD_BYTES, payloadTooLarge } from './errors.ts';
import type { LocalFunction } from './runtime.ts';
import type { LocalLambda } from './service.ts';

const PREFIX = '/2015-03-31/functions';
/** "The last 4 KB of the execution log, which is base64-encoded." */
const LOG_TAIL_BYTES = 4096;

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-amzn-requestid': headers['x-amzn-requestid'] ?? randomUUID(),
    ...headers,
  });
  res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
}

function sendError(res: ServerResponse, status: number, code: string, message: string, extra: object = {}) {
  send(res, status, { Type: 'User', Message: message, message, ...extra }, { 'x-amzn-errortype': code });
}

/** The last `bytes` of a UTF-8 text, base64-encoded. */
function logTail(log: string): string {
  const buffer = Buffer.from(log, 'utf8');
  return buffer.subarray(Math.max(0, buffer.length - LOG_TAIL_BYTES)).toString('base64');
}

export class LambdaApi {
  constructor(
    private readonly lambda: LocalLambda,
    private readonly template: LocalTemplate,
    private readonly iam?: LocalIam,
  ) {}

  /** Answers the request when it is a Lambda API call; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) return false;
    const rest = url.pathname.slice(PREFIX.length).replace(/^\//, '');
    const [encodedName = '', tail] = rest.split('/');
    const name = decodeURIComponent(encodedName);
    try {
      const caller = this.iam ? this.iam.identify(req.headers, req.url) : ({ kind: 'admin' } as const);
      if (req.method === 'GET' && name === '') return this.list(res, url, caller);
      if (req.method === 'GET' && (tail === undefined || tail === 'configuration')) {
        const fn = this.lambda.require(name, url.searchParams.get('Qualifier') ?? undefined);
        this.iam?.assertAllowed(caller, [
          { action: tail ? 'lambda:GetFunctionConfiguration' : 'lambda:GetFunction', resource: fn.arn },
        ]);
        const configuration = this.configuration(fn);
        send(
          res,
          200,
          tail
            ? configuration
            : {
                Configuration: configuration,
                Code: { RepositoryType: 'S3', Location: `file://${fn.modulePath}` },
              },
        );
        return true;
      }
      if (req.method === 'POST' && tail === 'invocations') {
        await this.invoke(req, res, body, name, url, caller);
        return true;
      }
      sendError(
        res,
        404,
        'UnknownOperationException',
        `${req.method} ${url.pathname} is not emulated locally`,
      );
    } catch (error) {
      this.fail(res, error);
    }
    return true;
  }

  private async invoke(
    req: IncomingMessage,
    res: ServerResponse,
    body: Buffer,
    name: string,
    url: URL,
    caller: Caller,
  ): Promise<void> {
    const type = String(req.headers['x-amz-invocation-type'] ?? 'RequestResponse');
    if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
      return sendError(res, 400, 'InvalidParameterValueException', `Invalid InvocationType: ${type}`);
    }
    const fn = this.lambda.require(name, url.searchParams.get('Qualifier') ?? undefined);
    this.lambda.authorizeInvoke(fn, caller);
    if (type === 'DryRun') return send(res, 204, undefined);
    if (type === 'RequestResponse' && body.length > MAX_SYNC_PAYLOAD_BYTES)
      throw payloadTooLarge(body.length, 'RequestResponse');
    let payload: unknown = {};
    if (body.length > 0) {
      try {
        payload = JSON.parse(body.toString('utf8'));
      } catch (error) {
        return sendError(
          res,
          400,
          'InvalidRequestContentException',
          `Could not parse request body into json: ${(error as Error).message}`,
        );
      }
    }
    if (type === 'Event') {
      const requestId = this.lambda.invokeAsync(fn.name, payload);
      return send(res, 202, undefined, { 'x-amzn-requestid': requestId });
    }
    const result = await this.lambda.runtime.invoke(fn.name, payload);
    const headers: Record<string, string> = { 'x-amz-executed-version': '$LATEST' };
    if (req.headers['x-amz-log-type'] === 'Tail' && result.log !== undefined)
      headers['x-amz-log-result'] = logTail(result.log);
    if (result.ok) return send(res, 200, JSON.stringify(result.payload ?? null), headers);
    if (result.errorType === 'ResourceNotFoundException')
      return sendError(res, 404, result.errorType, result.errorMessage);
    send(
      res,
      200,
      { errorType: result.errorType, errorMessage: result.errorMessage, trace: [] },
      { ...headers, 'x-amz-function-error': 'Unhandled' },
    );
  }

  private list(res: ServerResponse, url: URL, caller: Caller): true {
    this.iam?.assertAllowed(caller, [{ action: 'lambda:ListFunctions', resource: '*' }]);
    const all = [...this.lambda.runtime.functions.values()].sort((a, b) => a.name.localeCompare(b.name));
    const start = Number(url.searchParams.get('Marker') ?? 0) || 0;
    const max = Math.min(50, Number(url.searchParams.get('MaxItems') ?? 50) || 50);
    const page = all.slice(start, start + max);
    send(res, 200, {
      Functions: page.map((fn) => this.configuration(fn)),
      ...(start + max < all.length ? { NextMarker: String(start + max) } : {}),
    });
    return true;
  }

  /** `FunctionConfiguration` as Lambda describes a function. */
  private configuration(fn: LocalFunction): Record<string, unknown> {
    const properties = this.template.resources.get(fn.logicalId)?.properties ?? {};
    return {
      FunctionName: fn.name,
      FunctionArn: fn.arn,
      Runtime: properties.Runtime,
      Role: properties.Role,
      Handler: properties.Handler,
      Description: properties.Description ?? '',
      Timeout: fn.timeoutMs / 1000,
      MemorySize: fn.memoryMb,
      Version: '$LATEST',
      Environment: { Variables: fn.environment },
      TracingConfig: {
        Mode: (properties.TracingConfig as { Mode?: string } | undefined)?.Mode ?? 'PassThrough',
      },
      Architectures: properties.Architectures ?? ['x86_64'],
      PackageType: 'Zip',
      State: 'Active',
      LastUpdateStatus: 'Successful',
      ...(fn.reservedConcurrency === undefined
        ? {}
        : { ReservedConcurrentExecutions: fn.reservedConcurrency }),
    };
  }

  private fail(res: ServerResponse, error: unknown): void {
    const { name, message } = error as Error;
    if (error instanceof LambdaServiceError) {
      sendError(res, error.statusCode, name, message, error.reason ? { Reason: error.reason } : {});
    } else if (name === 'AccessDeniedException' || name === 'UnrecognizedClientException') {
      sendError(res, 403, name, message);
    } else {
      sendError(res, 500, 'ServiceException', message);
    }
  }
}
