import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveAwsEndpoint } from '#local/aws/endpoint.ts';
import { AwsJsonRouter } from '#local/aws/json-protocol.ts';
import { LocalIam } from '#local/iam/local-iam.ts';
import { LambdaApi } from '#local/lambda/api.ts';
import { AsyncInvoker } from '#local/lambda/async.ts';
import { assertEnvironmentSize, LambdaRuntime } from '#local/lambda/runtime.ts';
import { LocalLambda } from '#local/lambda/service.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { lambdaRole } from './iam-fixtures.ts';

/**
 * The Lambda API on the local AWS endpoint, spoken over raw HTTP as `aws lambda invoke --endpoint-url` and the SDK's
 * LambdaClient speak it (REST-JSON, Lambda API Reference "Invoke", "GetFunction", "ListFunctions").
 */
const silent = { info: () => {}, warn: () => {}, error: () => {} };

const CODE = {
  echo: `export const handler = async (event) => { console.log('echo says', JSON.stringify(event)); return { echoed: event }; };`,
  failing: `export const handler = async () => { const e = new Error('no such SKU'); e.name = 'UnknownSkuError'; throw e; };`,
  slow: `export const handler = async () => { await new Promise((r) => setTimeout(r, 400)); return 'done'; };`,
  huge: `export const handler = async () => 'x'.repeat(6_300_000);`,
  counter: `let n = 0; export const handler = async () => { n += 1; globalThis.calls = n; return n; };`,
};

let server: Server;
let endpoint: string;
let runtime: LambdaRuntime;
let lambda: LocalLambda;
let iam: LocalIam;

const withRole = (asset: string, properties: Record<string, unknown> = {}) =>
  lambdaResource(asset, { Role: { 'Fn::GetAtt': ['FnRole', 'Arn'] }, ...properties });

beforeAll(async () => {
  const template = writeAssembly(
    {
      FnRole: lambdaRole(),
      Echo: withRole('echo', { FunctionName: 'echo' }),
      Failing: withRole('failing', { FunctionName: 'failing' }),
      Slow: withRole('slow', { FunctionName: 'slow', ReservedConcurrentExecutions: 1 }),
      Huge: withRole('huge', { FunctionName: 'huge', Timeout: 10 }),
      Counter: withRole('counter', { FunctionName: 'counter' }),
    },
    CODE,
  ).load();
  iam = new LocalIam(template, { log: silent });
  runtime = new LambdaRuntime(template, { baseEnvironment: {}, log: silent });
  const events = new AsyncInvoker({
    invoke: (name, payload) => runtime.invoke(name, payload),
    functionArn: (name) => runtime.resolve(name)?.arn ?? name,
    configs: new Map(),
    destinations: {
      sendMessage: async () => ({}),
      invokeAsync: async () => ({}),
      putEvent: async () => ({}),
    },
    log: silent,
    delayScale: 0.001,
  });
  lambda = new LocalLambda(runtime, events, iam);
  const api = new LambdaApi(lambda, template, iam);
  server = createServer(
    (req, res) => void serveAwsEndpoint(req, res, { router: new AwsJsonRouter(), lambda: api }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await runtime?.close();
  await new Promise((resolve) => server?.close(resolve));
});

function invoke(name: string, body: string | undefined, headers: Record<string, string> = {}) {
  return fetch(`${endpoint}/2015-03-31/functions/${encodeURIComponent(name)}/invocations`, {
    method: 'POST',
    headers,
    ...(body === undefined ? {} : { body }),
  });
}

describe('Lambda API: Invoke', () => {
  it('answers RequestResponse with 200 and the function response; takes a function ARN too', async () => {
    const response = await invoke('arn:aws:lambda:us-east-1:000000000000:function:echo', '{"n":1}');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-executed-version')).toBe('$LATEST');
    expect(await response.json()).toEqual({ echoed: { n: 1 } });
  });

  it('reports a function error with 200, X-Amz-Function-Error: Unhandled and the error object', async () => {
    const response = await invoke('failing', '{}');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await response.json()).toMatchObject({
      errorType: 'UnknownSkuError',
      errorMessage: 'no such SKU',
    });
  });

  it('returns the last 4 KB of the invocation log, base64, for LogType Tail', async () => {
    const response = await invoke('echo', JSON.stringify({ padding: 'p'.repeat(5000) }), {
      'x-amz-log-type': 'Tail',
    });
    const log = Buffer.from(response.headers.get('x-amz-log-result') ?? '', 'base64');
    expect(log.length).toBeLessThanOrEqual(4096);
    expect(log.toString()).toMatch(/ppp[\s\S]*END RequestId: [\s\S]*REPORT RequestId: .*Duration: /);
    const short = await invoke('echo', '{"short":true}', { 'x-amz-log-type': 'Tail' });
    expect(Buffer.from(short.headers.get('x-amz-log-result') ?? '', 'base64').toString()).toMatch(
      /^START RequestId: \S+ Version: \$LATEST\n.*echo says \{"short":true\}/s,
    );
  });

  it('queues an Event invocation (202) and runs it; a DryRun (204) runs nothing', async () => {
    const dry = await invoke('counter', '{}', { 'x-amz-invocation-type': 'DryRun' });
    expect(dry.status).toBe(204);
    expect(runtime.statistics().counter?.invocations).toBe(0);
    const queued = await invoke('counter', '{}', { 'x-amz-invocation-type': 'Event' });
    expect(queued.status).toBe(202);
    expect(queued.headers.get('x-amzn-requestid')).toBeTruthy();
    await lambda.events.idle();
    expect(runtime.statistics().counter?.invocations).toBe(1);
  });

  it('answers ResourceNotFoundException (404) for an unknown function or a version that does not exist locally', async () => {
    for (const response of [await invoke('nope', '{}'), await invoke('echo:7', '{}')]) {
      expect(response.status).toBe(404);
      expect(response.headers.get('x-amzn-errortype')).toBe('ResourceNotFoundException');
    }
  });

  it('refuses a body that is not JSON with InvalidRequestContentException (400)', async () => {
    const response = await invoke('echo', '{oops');
    expect(response.status).toBe(400);
    expect(response.headers.get('x-amzn-errortype')).toBe('InvalidRequestContentException');
  });

  it('enforces the payload limits: 6 MB synchronous request and response, 1 MB asynchronous request', async () => {
    const tooBig = await invoke('echo', JSON.stringify({ blob: 'b'.repeat(6 * 1024 * 1024) }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.headers.get('x-amzn-errortype')).toBe('RequestEntityTooLargeException');
    const asyncTooBig = await invoke('echo', JSON.stringify({ blob: 'b'.repeat(1024 * 1024) }), {
      'x-amz-invocation-type': 'Event',
    });
    expect(asyncTooBig.status).toBe(413);
    const hugeResponse = await invoke('huge', '{}');
    expect(hugeResponse.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(await hugeResponse.json()).toMatchObject({ errorType: 'Function.ResponseSizeTooLarge' });
  });

  it('throttles a synchronous caller beyond the reserved concurrency with TooManyRequestsException (429)', async () => {
    const [first, second] = await Promise.all([invoke('slow', '{}'), invoke('slow', '{}')]);
    const statuses = [first?.status, second?.status].sort();
    expect(statuses).toEqual([200, 429]);
    const throttled = first?.status === 429 ? first : second;
    expect(throttled?.headers.get('x-amzn-errortype')).toBe('TooManyRequestsException');
    expect(await throttled?.json()).toMatchObject({
      Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
  });

  it('refuses a function that has no lambda:InvokeFunction grant (AccessDeniedException, 403)', async () => {
    const { accessKeyId, sessionToken } = iam.credentialsFor('echo');
    const response = await invoke('counter', '{}', {
      authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/lambda/aws4_request, Signature=0`,
      'x-amz-security-token': sessionToken,
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-amzn-errortype')).toBe('AccessDeniedException');
    expect(((await response.json()) as { Message: string }).Message).toContain('lambda:InvokeFunction');
  });
});

describe('Lambda API: ListFunctions and GetFunction', () => {
  it('lists the functions with their configuration, a page at a time', async () => {
    const page = (await (await fetch(`${endpoint}/2015-03-31/functions/?MaxItems=2`)).json()) as {
      Functions: { FunctionName: string }[];
      NextMarker?: string;
    };
    expect(page.Functions.map((fn) => fn.FunctionName)).toEqual(['counter', 'echo']);
    const next = (await (
      await fetch(`${endpoint}/2015-03-31/functions/?Marker=${page.NextMarker}`)
    ).json()) as {
      Functions: { FunctionName: string }[];
    };
    expect(next.Functions.map((fn) => fn.FunctionName)).toEqual(['failing', 'huge', 'slow']);
  });

  it('describes one function (Configuration, Code) and its configuration alone', async () => {
    const described = (await (await fetch(`${endpoint}/2015-03-31/functions/slow`)).json()) as Record<
      string,
      never
    >;
    expect(described).toMatchObject({
      Configuration: {
        FunctionName: 'slow',
        FunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:slow',
        Runtime: 'nodejs24.x',
        Timeout: 3,
        ReservedConcurrentExecutions: 1,
        State: 'Active',
      },
      Code: { RepositoryType: 'S3' },
    });
    const configuration = await fetch(`${endpoint}/2015-03-31/functions/slow/configuration`);
    expect(await configuration.json()).toMatchObject({ FunctionName: 'slow', Version: '$LATEST' });
  });
});

describe('Lambda function configuration at boot', () => {
  it('refuses environment variables over 4 KB, measured as the JSON of the variables', () => {
    expect(() => assertEnvironmentSize('Fn', { A: 'a'.repeat(4080) })).not.toThrow();
    expect(() => assertEnvironmentSize('Fn', { A: 'a'.repeat(4090) })).toThrow(
      /Fn: InvalidParameterValueException: Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit/,
    );
    const template = writeAssembly(
      { Big: lambdaResource('echo', { Environment: { Variables: { CONFIG: 'x'.repeat(5000) } } }) },
      CODE,
    ).load();
    expect(() => new LambdaRuntime(template, { baseEnvironment: {}, log: silent })).toThrow(
      /Big: .*4KB limit/,
    );
  });
});
