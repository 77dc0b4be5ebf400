import { afterEach, describe, expect, it } from 'vitest';
import { LambdaRuntime } from '#local/lambda/runtime.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

const CODE = {
  echo: `
    let invocations = 0;
    export const handler = async (event, context) => {
      invocations += 1;
      return { event, invocations, env: process.env.GREETING, fn: process.env.AWS_LAMBDA_FUNCTION_NAME,
               endpoint: process.env.AWS_ENDPOINT_URL_SQS, remaining: context.getRemainingTimeInMillis() > 0,
               requestId: context.awsRequestId };
    };`,
  other: `export const handler = async () => ({ env: process.env.GREETING ?? null });`,
  failing: `export const handler = async () => { const e = new Error('boom'); e.name = 'UnknownSkuError'; throw e; };`,
  slow: `export const handler = async (event) => { await new Promise((r) => setTimeout(r, event.ms)); return 'done'; };`,
  busy: `export const handler = async () => { await new Promise((r) => setTimeout(r, 300)); return 'ok'; };`,
  slowInit: `
    await new Promise((r) => setTimeout(r, 400));
    export const handler = async () => 'initialised';`,
  brokenInit: `throw new Error('cannot read config');
    export const handler = async () => 'never';`,
};

let runtime: LambdaRuntime | undefined;
afterEach(async () => {
  await runtime?.close();
  runtime = undefined;
});

function start(resources: Parameters<typeof writeAssembly>[0]) {
  const template = writeAssembly(resources, CODE).load();
  runtime = new LambdaRuntime(template, {
    baseEnvironment: { AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL_SQS: 'http://127.0.0.1:9324' },
    log: silent,
  });
  return runtime;
}

describe('LambdaRuntime', () => {
  it('runs the bundled handler with its template environment, the base environment and a Lambda context', async () => {
    const lambda = start({
      Echo: lambdaResource('echo', {
        FunctionName: 'echo',
        Environment: { Variables: { GREETING: 'hello' } },
      }),
    });
    const result = await lambda.invoke('echo', { n: 1 });
    expect(result).toMatchObject({
      ok: true,
      coldStart: true,
      payload: {
        event: { n: 1 },
        invocations: 1,
        env: 'hello',
        fn: 'echo',
        endpoint: 'http://127.0.0.1:9324',
        remaining: true,
      },
    });
  });

  it('keeps an environment warm between invocations and counts one cold start', async () => {
    const lambda = start({ Echo: lambdaResource('echo', { FunctionName: 'echo' }) });
    await lambda.invoke('echo', {});
    const second = await lambda.invoke('arn:aws:lambda:us-east-1:000000000000:function:echo', {});
    expect(second).toMatchObject({ ok: true, coldStart: false, payload: { invocations: 2 } });
    expect(lambda.statistics().echo).toMatchObject({ invocations: 2, coldStarts: 1, environments: 1 });
  });

  it('isolates environments: one function never sees another function’s variables', async () => {
    const lambda = start({
      Echo: lambdaResource('echo', {
        FunctionName: 'echo',
        Environment: { Variables: { GREETING: 'hello' } },
      }),
      Other: lambdaResource('other', { FunctionName: 'other' }),
    });
    await lambda.invoke('echo', {});
    expect(await lambda.invoke('other', {})).toMatchObject({ ok: true, payload: { env: null } });
  });

  it('reports a thrown error with its type, as Lambda reports errorType', async () => {
    const lambda = start({ Failing: lambdaResource('failing', { FunctionName: 'failing' }) });
    expect(await lambda.invoke('failing', {})).toMatchObject({
      ok: false,
      errorType: 'UnknownSkuError',
      errorMessage: 'boom',
      timedOut: false,
    });
  });

  it('stops a run at the timeout, discards the environment and cold-starts the next one', async () => {
    const lambda = start({ Slow: lambdaResource('slow', { FunctionName: 'slow', Timeout: 1 }) });
    // The handler would run 20 s; the 1 s timeout must end it long before.
    const timedOut = await lambda.invoke('slow', { ms: 20_000 });
    expect(timedOut).toMatchObject({ ok: false, timedOut: true, errorType: 'Sandbox.Timedout' });
    expect(timedOut.durationMs).toBeGreaterThanOrEqual(1000);
    expect(timedOut.durationMs).toBeLessThan(10_000);
    const next = await lambda.invoke('slow', { ms: 10 });
    expect(next).toMatchObject({ ok: true, coldStart: true, payload: 'done' });
    expect(lambda.statistics().slow).toMatchObject({ timeouts: 1, coldStarts: 1 });
  });

  it('throttles invocations beyond the reserved concurrency with TooManyRequestsException (429)', async () => {
    const lambda = start({
      Busy: lambdaResource('busy', { FunctionName: 'busy', ReservedConcurrentExecutions: 2 }),
    });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => lambda.invoke('busy', {})));
    const throttled = results.filter((result) => result.status === 'rejected');
    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(2);
    expect(throttled).toHaveLength(3);
    expect((throttled[0] as PromiseRejectedResult).reason).toMatchObject({
      name: 'TooManyRequestsException',
      statusCode: 429,
      reason: 'ReservedFunctionConcurrentInvocationLimitExceeded',
    });
    expect(lambda.statistics().busy).toMatchObject({ environments: 2, throttles: 3, invocations: 2 });
  });

  it('refuses an event over 6 MB with RequestEntityTooLargeException (413), whoever invokes', async () => {
    const lambda = start({ Echo: lambdaResource('echo', { FunctionName: 'echo' }) });
    await expect(lambda.invoke('echo', { blob: 'b'.repeat(6 * 1024 * 1024) })).rejects.toMatchObject({
      name: 'RequestEntityTooLargeException',
      statusCode: 413,
    });
    expect(lambda.statistics().echo?.invocations).toBe(0);
  });

  it('makes invocations of a function without reserved concurrency wait for one of the local environments', async () => {
    const template = writeAssembly({ Busy: lambdaResource('busy', { FunctionName: 'busy' }) }, CODE).load();
    runtime = new LambdaRuntime(template, { baseEnvironment: {}, defaultConcurrency: 2, log: silent });
    const lambda = runtime;
    await Promise.all([lambda.invoke('busy', {}), lambda.invoke('busy', {})]);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 6 }, () => lambda.invoke('busy', {})));
    const elapsed = Date.now() - started;
    expect(results.every((result) => result.ok)).toBe(true);
    expect(lambda.statistics().busy?.environments).toBe(2);
    // Six 300 ms invocations through two warm environments take three rounds: at least 900 ms.
    expect(elapsed).toBeGreaterThanOrEqual(880);
  });

  it('runs the init phase outside the invocation timeout, as Lambda does', async () => {
    // An init four times the invocation timeout (a fraction of a second keeps the test short; the
    // runtime takes Timeout as given).
    const lambda = start({ Slow: lambdaResource('slowInit', { FunctionName: 'slow-init', Timeout: 0.1 }) });
    expect(await lambda.invoke('slow-init', {})).toMatchObject({
      ok: true,
      coldStart: true,
      payload: 'initialised',
    });
  });

  it('fails an invocation whose environment cannot initialise, and tries a new one next time', async () => {
    const lambda = start({ Broken: lambdaResource('brokenInit', { FunctionName: 'broken' }) });
    expect(await lambda.invoke('broken', {})).toMatchObject({
      ok: false,
      errorMessage: 'cannot read config',
    });
    expect(lambda.statistics().broken).toMatchObject({ environments: 0, errors: 1 });
    expect(await lambda.invoke('broken', {})).toMatchObject({
      ok: false,
      errorMessage: 'cannot read config',
    });
  });

  it('answers ResourceNotFoundException for an unknown function', async () => {
    const lambda = start({ Echo: lambdaResource('echo', { FunctionName: 'echo' }) });
    expect(await lambda.invoke('nope', {})).toMatchObject({
      ok: false,
      errorType: 'ResourceNotFoundException',
    });
  });
});
