/**
 * The local DynamoDB endpoint: DynamoDB Local runs on a private port and this front end, on the public one,
 * evaluates every call against the caller's role before forwarding it unchanged (DynamoDB Local itself accepts any
 * credentials). The answer, success or DynamoDB error, comes back as DynamoDB Local gave it.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readRequestBody } from '../http.ts';
import { dynamodbGuard } from '../iam/guards.ts';
import type { LocalIam } from '../iam/local-iam.ts';

/** DynamoDB's request limit is 16 MB (BatchWriteItem: 25 items of up to 400 KB, transactions: 4 MB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/**
 * One call DynamoDB Local answered, as tests observe it (e.g. the history of a table's items): the
 * `X-Amz-Target` operation, the request body, the status, and when it was forwarded and answered (epoch
 * ms) — a write took effect somewhere between the two.
 */
export interface DynamoDbCall {
  readonly target: string;
  readonly body: Buffer;
  readonly status: number;
  readonly sentAt: number;
  readonly answeredAt: number;
}

export interface DynamoDbProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Listens on `port` (127.0.0.1) and forwards allowed calls to `upstream` (DynamoDB Local). */
export async function startDynamoDbProxy(options: {
  readonly port: number;
  readonly upstream: string;
  readonly iam: LocalIam;
  /** Told every call DynamoDB Local answered (read-only: the call and its answer pass unchanged). */
  readonly observe?: (call: DynamoDbCall) => void;
}): Promise<DynamoDbProxy> {
  const upstream = new URL(options.upstream);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readRequestBody(req, MAX_REQUEST_BYTES);
      const refusal = dynamodbGuard(options.iam, req, body);
      if (refusal) {
        res.writeHead(refusal.status, refusal.headers);
        res.end(refusal.body);
        return;
      }
      const sentAt = Date.now();
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: upstream.host, 'content-length': String(body.length) },
        },
        (answer) => {
          options.observe?.({
            target: String(req.headers['x-amz-target'] ?? ''),
            body,
            status: answer.statusCode ?? 500,
            sentAt,
            answeredAt: Date.now(),
          });
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          answer.pipe(res);
        },
      );
      forwarded.on('error', (error) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
            message: error.message,
          }),
        );
      });
      forwarded.end(body);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
