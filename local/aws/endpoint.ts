/**
 * The local AWS endpoint (`AWS_ENDPOINT_URL_EVENTBRIDGE`, `_SFN`, `_SECRETS_MANAGER`, `_SSM`, `_LAMBDA`, `_SCHEDULER`): the
 * REST-JSON Lambda API by path (`/2015-03-31/functions…`), then the AWS JSON-protocol services by `X-Amz-Target`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readRequestBody, sendJson } from '../http.ts';
import type { LambdaApi } from '../lambda/api.ts';
import type { AwsJsonRouter } from './json-protocol.ts';

/** The largest request the endpoint reads (Lambda's synchronous payload is 6 MB; PutEvents 1 MiB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;

/** Answers one request of the AWS endpoint; anything it does not emulate gets `UnknownOperationException`. */
export async function serveAwsEndpoint(
  req: IncomingMessage,
  res: ServerResponse,
  services: {
    readonly router: AwsJsonRouter;
    readonly lambda?: LambdaApi | undefined;
    /** Another protocol on the same endpoint (CloudWatch's CBOR/Query); true when it answered. */
    readonly other?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => Promise<boolean>;
  },
): Promise<void> {
  try {
    const body = await readRequestBody(req, MAX_REQUEST_BYTES);
    if (services.lambda && (await services.lambda.handle(req, res, body))) return;
    if (services.other && (await services.other(req, res, body))) return;
    if (!(await services.router.handle(req, res, body))) {
      sendJson(res, 400, {
        __type: 'UnknownOperationException',
        message: `not emulated: ${String(req.headers['x-amz-target'] ?? `${req.method} ${req.url}`)}`,
      });
    }
  } catch (error) {
    if (!res.headersSent)
      sendJson(res, 500, { __type: 'InternalFailure', message: (error as Error).message });
  }
}
