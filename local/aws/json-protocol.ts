import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error as AWS JSON-protocol services return it: `{"__type": "...", "message": "..."}`. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = 'AwsServiceError';
  }
}

/** Handles one operation of a service: `operation` is the part of X-Amz-Target after the dot. */
export type AwsJsonHandler = (operation: string, input: Record<string, unknown>) => Promise<unknown>;

/** One AWS JSON-protocol call, as a middleware sees it. */
export interface AwsJsonCall {
  readonly req: IncomingMessage;
  /** The X-Amz-Target prefix (`AWSEvents`, `AWSStepFunctions`, …). */
  readonly prefix: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
}

/**
 * Runs around every handled call (IAM, for one): it may refuse the call by throwing an AwsServiceError, call
 * `next` with the input (or a narrowed one) and answer with what it returns, or answer by itself.
 */
export type AwsJsonMiddleware = (
  call: AwsJsonCall,
  next: (input: Record<string, unknown>) => Promise<unknown>,
) => Promise<unknown>;

/**
 * Routes AWS JSON-protocol requests (awsJson1_0 / awsJson1_1: POST / with `X-Amz-Target:
 * <Prefix>.<Operation>`) to local service implementations. Real SDK clients reach it through
 * `AWS_ENDPOINT_URL_<SERVICE>`. The signature itself is not verified: the middleware (IAM) tells callers
 * apart by the access key id they sign with.
 */
export class AwsJsonRouter {
  private readonly handlers = new Map<string, AwsJsonHandler>();
  private middleware: AwsJsonMiddleware | undefined;

  /** `prefix` as it appears in X-Amz-Target: `AWSEvents`, `AWSStepFunctions`, `secretsmanager`, `AmazonSSM`. */
  register(prefix: string, handler: AwsJsonHandler): void {
    this.handlers.set(prefix, handler);
  }

  /** Sets the middleware every call goes through (one; IAM). */
  use(middleware: AwsJsonMiddleware): void {
    this.middleware = middleware;
  }

  /** True when the request was an AWS JSON-protocol call this router answered. */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const target = req.headers['x-amz-target'];
    if (typeof target !== 'string' || req.method !== 'POST') return false;
    const dot = target.indexOf('.');
    const prefix = target.slice(0, dot);
    const operation = target.slice(dot + 1);
    const handler = this.handlers.get(prefix);
    if (!handler) return false;
    const contentType = String(req.headers['content-type'] ?? 'application/x-amz-json-1.1');
    const send = (status: number, payload: unknown, errorType?: string) => {
      res.writeHead(status, {
        'content-type': contentType,
        'x-amzn-requestid': crypto.randomUUID(),
        ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
      });
      res.end(JSON.stringify(payload ?? {}));
    };
    let input: Record<string, unknown>;
    try {
      input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
    } catch {
      send(
        400,
        { __type: 'SerializationException', message: 'request body is not JSON' },
        'SerializationException',
      );
      return true;
    }
    try {
      const next = (narrowed: Record<string, unknown>) => handler(operation, narrowed);
      send(
        200,
        await (this.middleware ? this.middleware({ req, prefix, operation, input }, next) : next(input)),
      );
    } catch (error) {
      if (error instanceof AwsServiceError) {
        send(error.statusCode, { __type: error.type, message: error.message }, error.type);
      } else {
        send(500, { __type: 'InternalFailure', message: (error as Error).message }, 'InternalFailure');
      }
    }
    return true;
  }
}
