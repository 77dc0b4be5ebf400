/**
 * The two wire protocols of SQS, as far as the local front end needs them: the AWS JSON protocol (`X-Amz-Target:
 * AmazonSQS.<Operation>`, `application/x-amz-json-1.0`, what SDK v3 sends) and the query protocol (form-encoded
 * `Action=<Operation>`, what older SDKs and the AWS CLI v1 send); and running the `local-aws-sqs` request handler on
 * a request whose body was already read.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { SqsCall } from '../iam/guards.ts';

/** Decodes the operation and parameters of an SQS request (query parameters as a flat map). */
export function decodeSqsCall(req: IncomingMessage, body: Buffer): SqsCall {
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string' && target.startsWith('AmazonSQS.')) {
    let input: Record<string, unknown> = {};
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      // The emulator answers the malformed body.
    }
    return { json: true, operation: target.slice('AmazonSQS.'.length), input };
  }
  const form = new URLSearchParams(body.toString('utf8'));
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const input: Record<string, unknown> = Object.fromEntries([...query, ...form]);
  return { json: false, operation: String(input.Action ?? ''), input };
}

/** An answer captured from the emulator's handler. */
export interface SqsAnswer {
  status: number;
  readonly headers: Record<string, string>;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Runs the emulator's handler on `body` (already read from `req`) and captures its answer. */
export function runHandler(handler: Handler, req: IncomingMessage, body: Buffer): Promise<SqsAnswer> {
  const request = Object.assign(Readable.from(body.length ? [body] : []), {
    headers: { ...req.headers, 'content-length': String(body.length) },
    method: req.method,
    url: req.url,
  });
  return new Promise((resolve, reject) => {
    const answer: SqsAnswer = { status: 200, headers: {}, body: '' };
    const response = {
      get statusCode() {
        return answer.status;
      },
      set statusCode(status: number) {
        answer.status = status;
      },
      setHeader(name: string, value: string | number) {
        answer.headers[name.toLowerCase()] = String(value);
      },
      end(chunk?: string | Buffer) {
        answer.body = chunk === undefined ? '' : chunk.toString();
        resolve(answer);
      },
    };
    handler(request as unknown as IncomingMessage, response as unknown as ServerResponse).catch(reject);
  });
}
