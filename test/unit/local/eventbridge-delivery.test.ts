import { describe, expect, it } from 'vitest';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import type { EventBridgeEvent } from '#local/eventbridge/event.ts';
import type { PutEventsEntry } from '#local/types.ts';
import {
  ACCOUNT,
  awsError,
  busArn,
  FakeRuntime,
  functionArn,
  lambdaFunction,
  queue,
  queueArn,
  REGION,
  rule,
  stateMachine,
  stateMachineArn,
  templateOf,
} from './eventbridge-fixtures.ts';

const RULE_ARN = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/${name}`;

function setup(resources: Record<string, unknown>, options: { now?: () => Date } = {}) {
  const template = templateOf({
    Orders: { Type: 'AWS::Events::EventBus', Properties: { Name: 'orders' } },
    Sink: queue('sink'),
    Dlq: queue('dlq'),
    Handler: lambdaFunction('handler'),
    Flow: stateMachine('flow'),
    ...resources,
  });
  const runtime = new FakeRuntime(template);
  const bus = new LocalEventBridge(template, runtime, { retryBaseDelayMs: 1, ...options });
  runtime.routePutEvents((entries) => bus.putEvents(entries));
  return { bus, runtime };
}

const order = (overrides: Partial<PutEventsEntry> = {}): PutEventsEntry => ({
  Source: 'omnihub.shopify',
  DetailType: 'OrderCreated',
  Detail: JSON.stringify({ orderId: 'o-1', total: 42, customer: { email: 'a@example.com', tier: 'gold' } }),
  ...overrides,
});

const ORDER_PATTERN = { source: ['omnihub.shopify'], 'detail-type': ['OrderCreated'] };

describe('rule matching → targets', () => {
  it('sends the whole event to an SQS target, and nothing for events that do not match', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'q', Arn: queueArn('sink') }],
      }),
    });
    const [accepted] = bus.putEvents([order(), order({ DetailType: 'OrderCancelled' })]).Entries;
    await bus.idle();
    const sent = runtime.sqs(queueArn('sink'));
    expect(sent).toHaveLength(1);
    const event = JSON.parse(sent[0]?.body ?? '') as EventBridgeEvent;
    expect(event.id).toBe((accepted as { EventId: string }).EventId);
    expect(event).toMatchObject({
      'detail-type': 'OrderCreated',
      detail: { orderId: 'o-1' },
      account: ACCOUNT,
      region: REGION,
    });
    expect(bus.counters).toMatchObject({
      eventsPut: 2,
      matchedRules: 1,
      deliveries: 1,
      delivered: 1,
      retries: 0,
    });
  });

  it('passes SqsParameters.MessageGroupId, and the event id as deduplication id, to a FIFO queue', async () => {
    const { bus, runtime } = setup({
      Fifo: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'sink.fifo', FifoQueue: true } },
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'f', Arn: queueArn('sink.fifo'), SqsParameters: { MessageGroupId: 'orders' } }],
      }),
    });
    const [accepted] = bus.putEvents([order()]).Entries;
    await bus.idle();
    expect(runtime.sqs(queueArn('sink.fifo'))[0]?.options).toEqual({
      messageGroupId: 'orders',
      messageDeduplicationId: (accepted as { EventId: string }).EventId,
      // EventBridge sends as its service principal, for the rule (what the queue policy names).
      caller: expect.objectContaining({ kind: 'service', service: 'events.amazonaws.com' }),
    });
  });

  it('invokes a Lambda target with the event as payload; a function error still counts as delivered (async invoke)', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'fn', Arn: functionArn('handler') }],
      }),
    });
    runtime.lambdaResult = {
      ok: false,
      errorType: 'Error',
      errorMessage: 'handler failed',
      timedOut: false,
      durationMs: 3,
      coldStart: true,
    };
    bus.putEvents([order()]);
    await bus.idle();
    const calls = runtime.calls.filter((call) => call.kind === 'lambda');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({
      target: functionArn('handler'),
      payload: { 'detail-type': 'OrderCreated', detail: { orderId: 'o-1' } },
    });
    expect(bus.counters).toMatchObject({ delivered: 1, retries: 0, dropped: 0 });
    expect(runtime.logs.some((log) => log.level === 'warn' && /function error/.test(log.message))).toBe(true);
  });

  it('a handler error named ResourceNotFoundException from an existing function is a function error, not a missing target', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'fn', Arn: `${functionArn('handler')}:live` }],
      }),
    });
    runtime.lambdaResult = {
      ok: false,
      errorType: 'ResourceNotFoundException',
      errorMessage: 'Requested resource not found',
      timedOut: false,
      durationMs: 12,
      coldStart: false,
    };
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.attempts).toEqual([`lambda ${functionArn('handler')}:live`]);
    expect(bus.counters).toMatchObject({ delivered: 1, dropped: 0, retries: 0 });
  });

  it('starts a Step Functions execution with the event as input', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'sm', Arn: stateMachineArn('flow') }],
      }),
    });
    bus.putEvents([order()]);
    await bus.idle();
    const calls = runtime.calls.filter((call) => call.kind === 'states');
    expect(calls).toHaveLength(1);
    expect(JSON.parse((calls[0] as { input: string }).input)).toMatchObject({
      source: 'omnihub.shopify',
      detail: { total: 42 },
    });
  });

  it('forwards the event to another bus, where that bus’s rules see it', async () => {
    const { bus, runtime } = setup({
      Forward: rule('forward', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'bus', Arn: busArn('orders') }],
      }),
      OnOrders: rule('on-orders', {
        EventBusName: busArn('orders'),
        EventPattern: { detail: { customer: { tier: ['gold'] } } },
        Targets: [{ Id: 'q', Arn: queueArn('sink') }],
      }),
    });
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(1);
    const [onDefault] = bus.events({ eventBusName: 'default' });
    const [onOrders] = bus.events({ eventBusName: 'orders' });
    expect(onOrders).toEqual(onDefault);
    expect(bus.events()).toHaveLength(2);
  });

  it('a target bus that does not exist is not retried and the event is dropped', async () => {
    const { bus } = setup({
      Forward: rule('forward', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'bus', Arn: busArn('ghost') }],
      }),
    });
    bus.putEvents([order()]);
    await bus.idle();
    expect(bus.counters).toMatchObject({ delivered: 0, retries: 0, dropped: 1 });
  });

  it('delivers to every target of every matching rule, and skips DISABLED rules', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [
          { Id: 'q', Arn: queueArn('sink') },
          { Id: 'fn', Arn: functionArn('handler') },
        ],
      }),
      Any: rule('any-shopify', {
        EventPattern: { source: ['omnihub.shopify'] },
        Targets: [{ Id: 'q', Arn: queueArn('sink') }],
      }),
      Off: rule('off', {
        EventPattern: ORDER_PATTERN,
        State: 'DISABLED',
        Targets: [{ Id: 'sm', Arn: stateMachineArn('flow') }],
      }),
    });
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(2);
    expect(runtime.calls.filter((call) => call.kind === 'lambda')).toHaveLength(1);
    expect(runtime.calls.filter((call) => call.kind === 'states')).toHaveLength(0);
    expect(bus.counters.matchedRules).toBe(2);
  });

  it('applies InputPath and constant Input', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [
          { Id: 'detail', Arn: queueArn('sink'), InputPath: '$.detail' },
          { Id: 'email', Arn: queueArn('sink'), InputPath: '$.detail.customer.email' },
          { Id: 'const', Arn: functionArn('handler'), Input: '{ "kind" : "constant" }' },
        ],
      }),
    });
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink')).map((call) => call.body)).toEqual([
      '{"orderId":"o-1","total":42,"customer":{"email":"a@example.com","tier":"gold"}}',
      '"a@example.com"',
    ]);
    expect(runtime.calls.find((call) => call.kind === 'lambda')).toMatchObject({
      payload: { kind: 'constant' },
    });
  });

  it('applies an InputTransformer with predefined variables', async () => {
    const { bus, runtime } = setup(
      {
        Created: rule('created', {
          EventPattern: ORDER_PATTERN,
          Targets: [
            {
              Id: 't',
              Arn: queueArn('sink'),
              InputTransformer: {
                InputPathsMap: { order: '$.detail.orderId', total: '$.detail.total' },
                InputTemplate:
                  '{"order": <order>, "total": <total>, "rule": <aws.events.rule-name>, "arn": "<aws.events.rule-arn>", "at": <aws.events.event.ingestion-time>}',
              },
            },
          ],
        }),
      },
      { now: () => new Date('2026-01-01T00:00:00.123Z') },
    );
    bus.putEvents([order()]);
    await bus.idle();
    expect(JSON.parse(runtime.sqs()[0]?.body ?? '')).toEqual({
      order: 'o-1',
      total: 42,
      rule: 'created',
      arn: RULE_ARN('created'),
      at: '2026-01-01T00:00:00.123Z',
    });
  });

  it('fails construction with the logical id for an invalid pattern, target or schedule', () => {
    expect(() => setup({ Bad: rule('bad', { EventPattern: { source: 'x' }, Targets: [] }) })).toThrow(
      /AWS::Events::Rule Bad: .*Event pattern is not valid/,
    );
    expect(() =>
      setup({
        Bad: rule('bad', {
          EventPattern: ORDER_PATTERN,
          Targets: [{ Id: 't', Arn: queueArn('sink'), Input: '{}', InputPath: '$' }],
        }),
      }),
    ).toThrow(/AWS::Events::Rule Bad: .*Only one of Input, InputPath, or InputTransformer/);
    expect(() =>
      setup({
        Bad: rule('bad', {
          EventPattern: ORDER_PATTERN,
          Targets: [{ Id: 't', Arn: queueArn('sink'), DeadLetterConfig: { Arn: queueArn('d.fifo') } }],
        }),
      }),
    ).toThrow(/AWS::Events::Rule Bad: .*FIFO/);
    expect(() => setup({ Bad: rule('bad', { ScheduleExpression: 'rate(2 minute)' }) })).toThrow(
      /AWS::Events::Rule Bad: .*ScheduleExpression is not valid/,
    );
    expect(() =>
      setup({ Bad: rule('bad', { EventBusName: 'orders', ScheduleExpression: 'rate(2 minutes)' }) }),
    ).toThrow(/AWS::Events::Rule Bad: ScheduleExpression is supported only on the default event bus/);
    expect(() => setup({ Bad: rule('bad', {}) })).toThrow(
      /AWS::Events::Rule Bad: Parameter\(s\) EventPattern or ScheduleExpression/,
    );
    const six = Array.from({ length: 6 }, (_, index) => ({ Id: `t${index}`, Arn: queueArn('sink') }));
    expect(() => setup({ Bad: rule('bad', { EventPattern: ORDER_PATTERN, Targets: six }) })).toThrow(
      /AWS::Events::Rule Bad: 6 targets/,
    );
  });

  it('PutEvents answers before the targets finish', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'q', Arn: queueArn('sink') }],
      }),
    });
    runtime.failTimes(queueArn('sink'), 2);
    const result = bus.putEvents([order()]);
    expect(result.FailedEntryCount).toBe(0);
    expect(runtime.sqs()).toHaveLength(0);
    await bus.idle();
    expect(runtime.sqs()).toHaveLength(1);
  });
});

describe('retry policy and dead-letter queue', () => {
  const target = (extra: Record<string, unknown> = {}) =>
    rule('created', { EventPattern: ORDER_PATTERN, Targets: [{ Id: 'q', Arn: queueArn('sink'), ...extra }] });

  it('retries a failed delivery with back-off until it succeeds', async () => {
    const { bus, runtime } = setup({ Created: target() });
    runtime.failTimes(queueArn('sink'), 3);
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.attempts.filter((attempt) => attempt === `sqs ${queueArn('sink')}`)).toHaveLength(4);
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(1);
    expect(bus.counters).toMatchObject({ delivered: 1, retries: 3, deadLettered: 0, dropped: 0 });
  });

  it('after MaximumRetryAttempts sends the event to the DLQ with the documented attributes', async () => {
    const { bus, runtime } = setup({
      Created: target({
        RetryPolicy: { MaximumRetryAttempts: 2 },
        DeadLetterConfig: { Arn: queueArn('dlq') },
      }),
    });
    runtime.failAlways(queueArn('sink'), () => new Error('queue is on fire'));
    const [accepted] = bus.putEvents([order()]).Entries;
    await bus.idle();
    expect(runtime.attempts.filter((attempt) => attempt === `sqs ${queueArn('sink')}`)).toHaveLength(3);
    const dead = runtime.sqs(queueArn('dlq'));
    expect(dead).toHaveLength(1);
    expect((JSON.parse(dead[0]?.body ?? '') as EventBridgeEvent).id).toBe(
      (accepted as { EventId: string }).EventId,
    );
    const attributes = Object.fromEntries(
      Object.entries(dead[0]?.options?.messageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue,
      ]),
    );
    expect(attributes).toEqual({
      RULE_ARN: RULE_ARN('created'),
      TARGET_ARN: queueArn('sink'),
      ERROR_CODE: 'ERROR_FROM_TARGET',
      ERROR_MESSAGE: 'queue is on fire',
      RETRY_ATTEMPTS: '2',
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
    });
    expect(
      Object.values(dead[0]?.options?.messageAttributes ?? {}).every((value) => value.DataType === 'String'),
    ).toBe(true);
    expect(bus.counters).toMatchObject({ delivered: 0, retries: 2, deadLettered: 1, dropped: 0 });
  });

  it('stops retrying once the next attempt would exceed MaximumEventAgeInSeconds', async () => {
    let clock = Date.parse('2026-05-01T00:00:00Z');
    const { bus, runtime } = setup(
      {
        Created: target({
          RetryPolicy: { MaximumEventAgeInSeconds: 60 },
          DeadLetterConfig: { Arn: queueArn('dlq') },
        }),
      },
      { now: () => new Date(clock) },
    );
    runtime.failAlways(queueArn('sink'));
    runtime.onCall = (arn) => {
      if (arn === queueArn('sink')) clock += 30_000;
    };
    bus.putEvents([order()]);
    await bus.idle();
    const attributes = runtime.sqs(queueArn('dlq'))[0]?.options?.messageAttributes;
    expect(attributes?.EXHAUSTED_RETRY_CONDITION?.StringValue).toBe('MaximumEventAgeInSeconds');
    expect(attributes?.RETRY_ATTEMPTS?.StringValue).toBe('1');
    expect(runtime.attempts.filter((attempt) => attempt === `sqs ${queueArn('sink')}`)).toHaveLength(2);
  });

  it('does not retry a target that does not exist: straight to the DLQ as NO_RESOURCE', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [
          { Id: 'fn', Arn: functionArn('gone'), DeadLetterConfig: { Arn: queueArn('dlq') } },
          { Id: 'q', Arn: queueArn('nowhere'), DeadLetterConfig: { Arn: queueArn('dlq') } },
        ],
      }),
    });
    expect(runtime.logs.filter((log) => /not a resource of the template/.test(log.message))).toHaveLength(2);
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.attempts.filter((attempt) => !attempt.endsWith(queueArn('dlq')))).toEqual([]);
    const dead = runtime.sqs(queueArn('dlq'));
    expect(dead).toHaveLength(2);
    for (const message of dead) {
      const attributes = message.options?.messageAttributes ?? {};
      expect(attributes.ERROR_CODE?.StringValue).toBe('NO_RESOURCE');
      expect(attributes.RETRY_ATTEMPTS?.StringValue).toBe('0');
      expect(attributes.EXHAUSTED_RETRY_CONDITION).toBeUndefined();
    }
    expect(dead.map((message) => message.options?.messageAttributes?.TARGET_ARN?.StringValue).sort()).toEqual(
      [functionArn('gone'), queueArn('nowhere')].sort(),
    );
    expect(bus.counters).toMatchObject({ retries: 0, deadLettered: 2 });
  });

  it('classifies errors a local service throws: not-found and permissions are not retried', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'sm', Arn: stateMachineArn('flow'), DeadLetterConfig: { Arn: queueArn('dlq') } }],
      }),
    });
    runtime.failAlways(
      stateMachineArn('flow'),
      awsError('StateMachineDoesNotExist', 'State Machine Does Not Exist'),
    );
    bus.putEvents([order()]);
    runtime.failAlways(stateMachineArn('flow'), awsError('AccessDeniedException', 'not allowed'));
    bus.putEvents([order()]);
    await bus.idle();
    expect(
      runtime.attempts.filter((attempt) => attempt === `states ${stateMachineArn('flow')}`),
    ).toHaveLength(2);
    expect(
      runtime
        .sqs(queueArn('dlq'))
        .map((message) => message.options?.messageAttributes?.ERROR_CODE?.StringValue),
    ).toEqual(['NO_RESOURCE', 'NO_PERMISSIONS']);
  });

  it('without a DLQ drops the event and counts it', async () => {
    const { bus, runtime } = setup({ Created: target({ RetryPolicy: { MaximumRetryAttempts: 1 } }) });
    runtime.failAlways(queueArn('sink'), awsError('ThrottlingException'));
    bus.putEvents([order(), order()]);
    await bus.idle();
    expect(bus.counters).toMatchObject({ delivered: 0, retries: 2, deadLettered: 0, dropped: 2 });
    expect(runtime.logs.filter((log) => /no dead-letter queue/.test(log.message))).toHaveLength(2);
  });

  it('counts a failed DLQ send separately (the event is lost)', async () => {
    const { bus, runtime } = setup({
      Created: target({
        RetryPolicy: { MaximumRetryAttempts: 0 },
        DeadLetterConfig: { Arn: queueArn('dlq') },
      }),
    });
    runtime.failAlways(queueArn('sink'));
    runtime.failAlways(queueArn('dlq'));
    bus.putEvents([order()]);
    await bus.idle();
    expect(bus.counters).toMatchObject({ retries: 0, deadLettered: 0, deadLetterFailed: 1 });
  });

  it('retries a Step Functions start that fails, then succeeds', async () => {
    const { bus, runtime } = setup({
      Created: rule('created', {
        EventPattern: ORDER_PATTERN,
        Targets: [{ Id: 'sm', Arn: stateMachineArn('flow') }],
      }),
    });
    runtime.failTimes(stateMachineArn('flow'), 1, awsError('ServiceUnavailable'));
    bus.putEvents([order()]);
    await bus.idle();
    expect(runtime.calls.filter((call) => call.kind === 'states')).toHaveLength(1);
    expect(bus.counters).toMatchObject({ delivered: 1, retries: 1 });
  });

  it('stop() abandons deliveries waiting to retry, so idle() resolves promptly', async () => {
    const template = templateOf({ Sink: queue('sink'), Created: target() });
    const runtime = new FakeRuntime(template);
    const bus = new LocalEventBridge(template, runtime, { retryBaseDelayMs: 60_000 });
    runtime.failAlways(queueArn('sink'));
    bus.putEvents([order()]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    bus.stop();
    const started = Date.now();
    await bus.idle();
    // Well under the 60 s retry delay it would otherwise wait out.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(bus.counters).toMatchObject({ delivered: 0, dropped: 0 });
    expect(runtime.logs.some((log) => /abandoned/.test(log.message))).toBe(true);
  });
});
