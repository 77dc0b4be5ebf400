import { createHash, createHmac } from 'node:crypto';
import { HubError } from '../errors.ts';
import type { SchedulePort } from './price-flow.ts';

/**
 * EventBridge Scheduler's REST-JSON API (CreateSchedule, DeleteSchedule) for the price flow's one-time
 * schedules, over fetch with a small Signature Version 4 signer. The AWS SDK's `@aws-sdk/client-scheduler`
 * is not a dependency of the project yet (see the README, "Catalog, prices and promotions"); the signer
 * follows the SigV4 specification
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html) and is
 * checked against AWS's published test vector. The endpoint is `AWS_ENDPOINT_URL_SCHEDULER` when set
 * (the local cloud), else `https://scheduler.<region>.amazonaws.com`, as the SDK resolves it.
 *
 * Requests (API Reference): `POST /schedules/{Name}` with `ScheduleExpression` `at(...)`,
 * `FlexibleTimeWindow {Mode: OFF}` (on time, not "within a window"), `ActionAfterCompletion: DELETE`
 * (a fired one-time schedule deletes itself), the target (queue) with the execution role, a `ClientToken`
 * derived from the name (a retried create is the same request); `DELETE /schedules/{Name}?groupName=`.
 */

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
}

/** Scheduler answered with an error the caller should see (validation, access denied, …). */
export class SchedulerRequestError extends HubError {
  readonly code = 'SCHEDULER_REQUEST_FAILED';
  constructor(
    message: string,
    readonly type: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const sha256 = (data: string) => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it (every byte but unreserved characters). */
const encode = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Signs a request (SigV4, header-based): returns the headers to send (host, x-amz-date, the security
 * token, x-amz-content-sha256 and authorization added to `headers`).
 */
export function signRequest(request: {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body: string;
  readonly region: string;
  readonly service: string;
  readonly credentials: Credentials;
  readonly now: Date;
  /** Adds `x-amz-content-sha256` (S3 style); off for the test vector. @default true */
  readonly contentSha?: boolean;
}): Record<string, string> {
  const amzDate = request.now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payloadHash = sha256(request.body);
  const headers: Record<string, string> = {
    ...request.headers,
    host: request.url.host,
    'x-amz-date': amzDate,
    ...(request.credentials.sessionToken ? { 'x-amz-security-token': request.credentials.sessionToken } : {}),
    ...(request.contentSha === false ? {} : { 'x-amz-content-sha256': payloadHash }),
  };
  const names = Object.keys(headers)
    .map((h) => h.toLowerCase())
    .sort();
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  const canonicalHeaders = names
    .map((n) => `${n}:${String(lower[n]).trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const signedHeaders = names.join(';');
  const path = request.url.pathname
    .split('/')
    .map((segment) => encode(decodeURIComponent(segment)))
    .join('/');
  const query = [...request.url.searchParams.entries()]
    .map(([k, v]) => [encode(k), encode(v)] as const)
    .sort(([a, av], [b, bv]) => (a === b ? (av < bv ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonical = [request.method, path || '/', query, canonicalHeaders, signedHeaders, payloadHash].join(
    '\n',
  );
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(
    hmac(hmac(hmac(`AWS4${request.credentials.secretAccessKey}`, day), request.region), request.service),
    'aws4_request',
  );
  const signature = createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${request.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}

export interface SchedulerClientOptions {
  readonly region: string;
  /** @default AWS_ENDPOINT_URL_SCHEDULER, else https://scheduler.<region>.amazonaws.com */
  readonly endpoint?: string;
  readonly credentials: () => Credentials;
  /** The schedule group (its own, so IAM can be scoped to it). */
  readonly groupName: string;
  /** Where a fired schedule delivers `{kind:'price-due', at}`: the price queue. */
  readonly targetArn: string;
  /** The execution role Scheduler assumes to send to the queue. */
  readonly roleArn: string;
  readonly fetch?: typeof fetch;
  readonly now?: () => Date;
}

/** The price flow's {@link SchedulePort} on EventBridge Scheduler. */
export class SchedulerClient implements SchedulePort {
  private readonly endpoint: string;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: SchedulerClientOptions) {
    this.endpoint = (
      options.endpoint ??
      process.env.AWS_ENDPOINT_URL_SCHEDULER ??
      `https://scheduler.${options.region}.amazonaws.com`
    ).replace(/\/+$/, '');
    this.fetchFn = options.fetch ?? fetch;
  }

  async ensure(name: string, expression: string, input: string): Promise<void> {
    const body = {
      ActionAfterCompletion: 'DELETE',
      // Idempotent per schedule: the same name and content is the same request.
      ClientToken: createHash('sha256').update(`${name}|${expression}|${input}`).digest('hex').slice(0, 64),
      FlexibleTimeWindow: { Mode: 'OFF' },
      GroupName: this.options.groupName,
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'UTC',
      Target: { Arn: this.options.targetArn, RoleArn: this.options.roleArn, Input: input },
    };
    const res = await this.call('POST', name, body);
    if (res.ok || res.type === 'ConflictException') return;
    throw res.error;
  }

  async remove(name: string): Promise<void> {
    const res = await this.call('DELETE', name);
    if (res.ok || res.type === 'ResourceNotFoundException') return;
    throw res.error;
  }

  private async call(
    method: 'POST' | 'DELETE',
    name: string,
    body?: unknown,
  ): Promise<{ ok: boolean; type?: string; error?: SchedulerRequestError }> {
    const url = new URL(`${this.endpoint}/schedules/${encodeURIComponent(name)}`);
    if (method === 'DELETE') url.searchParams.set('groupName', this.options.groupName);
    const text = body === undefined ? '' : JSON.stringify(body);
    const headers = signRequest({
      method,
      url,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: text,
      region: this.options.region,
      service: 'scheduler',
      credentials: this.options.credentials(),
      now: this.options.now?.() ?? new Date(),
    });
    const { host: _host, ...sent } = headers;
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers: sent, ...(body === undefined ? {} : { body: text }) });
    } catch (error) {
      throw new SchedulerRequestError(
        `Scheduler unreachable: ${(error as Error).message}`,
        'NetworkError',
        true,
      );
    }
    if (res.ok) return { ok: true };
    const type = res.headers.get('x-amzn-errortype')?.split(':')[0] ?? `HTTP${res.status}`;
    const message = await res.text();
    return {
      ok: false,
      type,
      error: new SchedulerRequestError(
        `Scheduler ${method} ${name}: ${res.status} ${type} ${message}`,
        type,
        res.status === 429 || res.status >= 500,
      ),
    };
  }
}

/** Credentials from the Lambda environment (the execution role's session). */
export function environmentCredentials(env: NodeJS.ProcessEnv = process.env): Credentials {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey)
    throw new SchedulerRequestError('no AWS credentials in the environment', 'MissingCredentials', false);
  return { accessKeyId, secretAccessKey, sessionToken: env.AWS_SESSION_TOKEN };
}
