import { describe, expect, it } from 'vitest';
import { type AsyncInvokeConfig, AsyncInvoker, asyncInvokeConfigs } from '#local/lambda/async.ts';
import { throttled } from '#local/lambda/errors.ts';
import type { Caller, InvokeResult } from '#local/types.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';

/**
 * Asynchronous invocation as Lambda runs it ("How Lambda handles errors and retries with asynchronous invocation"),
 * with the waits scaled down: 1 minute becomes `SCALE` × 60 000 ms.
 */
const SCALE = 0.0005;
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const FN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:worker';

const failure: InvokeResult = {
  ok: false,
  errorType: 'ErpThrottledError',
  errorMessage: 'ERP busy',
  timedOut: false,
  durationMs: 1,
  coldStart: false,
};
const success = (payload: unknown): InvokeResult => ({ ok: true, payload, durationMs: 1, coldStart: false });

interface Sent {
  readonly kind: 'sqs' | 'lambda' | 'events';
  readonly arn: string;
  readonly body: unknown;
  readonly caller: Caller;
  readonly attributes?: unknown;
}

function invoker(
  outcomes: (() => InvokeResult | Promise<InvokeResult>)[],
  config: Partial<AsyncInvokeConfig> = {},
  delayScale = SCALE,
) {
  const attempts: number[] = [];
  const sent: Sent[] = [];
  let call = 0;
  const events = new AsyncInvoker({
    invoke: async () => {
      attempts.push(Date.now());
      const outcome = outcomes[Math.min(call, outcomes.length - 1)] as () =>
        | InvokeResult
        | Promise<InvokeResult>;
      call += 1;
      return outcome();
    },
    functionArn: () => FN_ARN,
    configs: new Map([['worker', { maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600, ...config }]]),
    destinations: {
      sendMessage: async (arn, body, options) => {
        sent.push({
          kind: 'sqs',
          arn,
          body: JSON.parse(body),
          caller: options.caller,
          attributes: options.messageAttributes,
        });
      },
      invokeAsync: async (arn, body, caller) => {
        sent.push({ kind: 'lambda', arn, body, caller });
      },
      putEvent: async (arn, entry, caller) => {
        sent.push({ kind: 'events', arn, body: entry, caller });
      },
    },
    log: silent,
    delayScale,
  });
  return { events, attempts, sent };
}

/** Polls `check` until it holds (5 s deadline). */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

describe('asynchronous invocation', () => {
  it('retries a function error twice, one then two minutes apart, then sends the record to the on-failure destination', async () => {
    const { events, attempts, sent } = invoker([() => failure], {
      onFailure: 'arn:aws:sqs:us-east-1:000000000000:failed',
    });
    const requestId = events.enqueue('worker', { order: 1 });
    await events.idle();
    expect(attempts).toHaveLength(3);
    const [first = 0, second = 0, third = 0] = attempts;
    expect(second - first).toBeGreaterThanOrEqual(60_000 * SCALE - 5);
    expect(third - second).toBeGreaterThanOrEqual(120_000 * SCALE - 5);
    expect(sent).toEqual([
      {
        kind: 'sqs',
        arn: 'arn:aws:sqs:us-east-1:000000000000:failed',
        caller: { kind: 'function', functionName: 'worker' },
        attributes: undefined,
        body: {
          version: '1.0',
          timestamp: expect.any(String),
          requestContext: {
            requestId,
            functionArn: `${FN_ARN}:$LATEST`,
            condition: 'RetriesExhausted',
            approximateInvokeCount: 3,
          },
          requestPayload: { order: 1 },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          responsePayload: { errorType: 'ErpThrottledError', errorMessage: 'ERP busy' },
        },
      },
    ]);
    expect(events.statistics().worker).toMatchObject({ attempts: 3, retries: 2, failed: 1 });
  });

  it('honours MaximumRetryAttempts 0 and puts the failed event in the dead-letter queue with its attributes', async () => {
    const { events, attempts, sent } = invoker([() => failure], {
      maximumRetryAttempts: 0,
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    });
    events.enqueue('worker', { order: 2 });
    await events.idle();
    expect(attempts).toHaveLength(1);
    expect(sent).toEqual([
      expect.objectContaining({
        arn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
        body: { order: 2 },
        attributes: {
          RequestID: { DataType: 'String', StringValue: expect.any(String) },
          ErrorCode: { DataType: 'Number', StringValue: '200' },
          ErrorMessage: { DataType: 'String', StringValue: 'ERP busy' },
        },
      }),
    ]);
  });

  it('sends a success record to the on-success destination (an event bus here)', async () => {
    const { events, sent } = invoker([() => success({ booked: true })], {
      onSuccess: 'arn:aws:events:us-east-1:000000000000:event-bus/hub',
    });
    events.enqueue('worker', {});
    await events.idle();
    expect(sent).toHaveLength(1);
    const [entry] = sent;
    expect(entry).toMatchObject({
      kind: 'events',
      body: { Source: 'lambda', DetailType: 'Lambda Function Invocation Result - Success' },
    });
    expect(
      JSON.parse((entry as Sent).body ? ((entry as Sent).body as { Detail: string }).Detail : '{}'),
    ).toMatchObject({
      requestContext: { condition: 'Success', approximateInvokeCount: 1 },
      responsePayload: { booked: true },
    });
  });

  it('returns a throttled event to the queue and retries it with back-off, without counting an attempt', async () => {
    const { events, attempts } = invoker([
      () => {
        throw throttled('worker');
      },
      () => {
        throw throttled('worker');
      },
      () => success('ok'),
    ]);
    events.enqueue('worker', {});
    await events.idle();
    expect(attempts).toHaveLength(3);
    expect(events.statistics().worker).toMatchObject({ throttled: 2, attempts: 1, succeeded: 1 });
  });

  it('still gives a throttled event all its attempts once the function runs', async () => {
    const throttle = () => {
      throw throttled('worker');
    };
    const { events, attempts, sent } = invoker([throttle, throttle, () => failure], {
      onFailure: 'arn:aws:sqs:us-east-1:000000000000:failed',
    });
    events.enqueue('worker', {});
    await events.idle();
    expect(attempts).toHaveLength(5);
    expect(sent[0]?.body).toMatchObject({ requestContext: { approximateInvokeCount: 3 } });
  });

  it('discards an event older than MaximumEventAgeInSeconds (EventAgeExceeded) instead of retrying it', async () => {
    const { events, attempts, sent } = invoker([() => failure], {
      maximumEventAgeSeconds: 60,
      onFailure: 'arn:aws:lambda:us-east-1:000000000000:function:on-failure',
    });
    events.enqueue('worker', {});
    await events.idle();
    // 60 s of age allow the first retry after 60 s (scaled) at most just before expiry: never the third attempt.
    expect(attempts.length).toBeLessThan(3);
    expect(sent).toEqual([
      expect.objectContaining({
        kind: 'lambda',
        body: expect.objectContaining({
          requestContext: expect.objectContaining({ condition: 'EventAgeExceeded' }),
        }),
      }),
    ]);
  });
});

/** Lambda's event queue is durable: stopping the local cloud keeps what it holds for the restart (local/state). */
describe('asynchronous invocation across a restart', () => {
  it('keeps the event whose invocation the shutdown cut — no attempt, no failure record — and runs it after the restart', async () => {
    let cut: (result: InvokeResult) => void = () => {};
    const { events, attempts, sent } = invoker(
      [
        () =>
          new Promise<InvokeResult>((resolve) => {
            cut = resolve;
          }),
      ],
      { maximumRetryAttempts: 0, onFailure: 'arn:aws:sqs:us-east-1:000000000000:failed' },
    );
    const requestId = events.enqueue('worker', { order: 7 });
    await until(() => attempts.length === 1);
    events.stop();
    // What LambdaRuntime.close() answers for an invocation still running.
    cut({
      ok: false,
      errorType: 'Runtime.Shutdown',
      errorMessage: 'local cloud stopped',
      timedOut: false,
      durationMs: 1,
      coldStart: false,
    });
    await events.idle();
    expect(sent).toEqual([]);
    const saved = JSON.parse(JSON.stringify(events.snapshot()));
    expect(saved).toEqual([
      expect.objectContaining({ requestId, functionName: 'worker', payload: { order: 7 }, attempts: 0 }),
    ]);

    const after = invoker([() => success('booked')], {
      maximumRetryAttempts: 0,
      onSuccess: 'arn:aws:sqs:us-east-1:000000000000:done',
    });
    after.events.resume(saved);
    await after.events.idle();
    expect(after.attempts).toHaveLength(1);
    expect(after.sent).toEqual([
      expect.objectContaining({
        kind: 'sqs',
        body: expect.objectContaining({
          requestContext: expect.objectContaining({
            requestId,
            condition: 'Success',
            approximateInvokeCount: 1,
          }),
          requestPayload: { order: 7 },
        }),
      }),
    ]);
    expect(after.events.snapshot()).toEqual([]);
  });

  it('keeps an event waiting for its retry (with its attempt) and one queued after the stop (never invoked)', async () => {
    // Real waits: the retry would come a minute later.
    const { events, attempts } = invoker([() => failure], {}, 1);
    events.enqueue('worker', { order: 8 });
    await until(() => events.statistics().worker?.retries === 1);
    events.stop();
    events.enqueue('worker', { order: 9 });
    await events.idle();
    expect(attempts).toHaveLength(1);
    expect(events.snapshot().map((event) => [event.payload, event.attempts])).toEqual([
      [{ order: 8 }, 1],
      [{ order: 9 }, 0],
    ]);
  });
});

describe('asynchronous invocation settings from the template', () => {
  const code = { worker: 'export const handler = async () => 1;' };

  it('reads AWS::Lambda::EventInvokeConfig and DeadLetterConfig per function', () => {
    const template = writeAssembly(
      {
        Worker: lambdaResource('worker', {
          FunctionName: 'worker',
          DeadLetterConfig: { TargetArn: 'arn:aws:sqs:us-east-1:000000000000:dlq' },
        }),
        Other: lambdaResource('worker', { FunctionName: 'other' }),
        Config: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: {
            FunctionName: { Ref: 'Worker' },
            Qualifier: '$LATEST',
            MaximumRetryAttempts: 1,
            MaximumEventAgeInSeconds: 3600,
            DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:failed' } },
          },
        },
      },
      code,
    ).load();
    const configs = asyncInvokeConfigs(template);
    expect(configs.get('worker')).toEqual({
      maximumRetryAttempts: 1,
      maximumEventAgeSeconds: 3600,
      onFailure: 'arn:aws:sqs:us-east-1:000000000000:failed',
      onSuccess: undefined,
      deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
    });
    expect(configs.get('other')).toMatchObject({ maximumRetryAttempts: 2, maximumEventAgeSeconds: 21_600 });
  });

  it.each([
    [{ MaximumRetryAttempts: 3 }, /MaximumRetryAttempts must be between 0 and 2/],
    [{ MaximumEventAgeInSeconds: 30 }, /MaximumEventAgeInSeconds must be between 60 and 21600/],
    [
      { DestinationConfig: { OnFailure: { Destination: 'arn:aws:sqs:us-east-1:000000000000:failed.fifo' } } },
      /a FIFO queue cannot be an asynchronous invocation destination/,
    ],
  ])('refuses %j', (properties, message) => {
    const template = writeAssembly(
      {
        Worker: lambdaResource('worker', { FunctionName: 'worker' }),
        Config: {
          Type: 'AWS::Lambda::EventInvokeConfig',
          Properties: { FunctionName: 'worker', ...properties },
        },
      },
      code,
    ).load();
    expect(() => asyncInvokeConfigs(template)).toThrow(message);
  });
});
