import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import type { EventBridgeEvent } from '#local/eventbridge/event.ts';
import {
  InvalidScheduleExpressionError,
  nextCronTime,
  nextFireTime,
  parseCron,
  parseScheduleExpression,
  type ScheduleExpression,
} from '#local/eventbridge/schedule.ts';
import {
  ACCOUNT,
  FakeRuntime,
  functionArn,
  lambdaFunction,
  queue,
  queueArn,
  REGION,
  rule,
  templateOf,
} from './eventbridge-fixtures.ts';

const at = (iso: string) => new Date(iso);
const next = (expression: string, after: string) => {
  const parsed = parseScheduleExpression(expression);
  if (parsed.kind !== 'cron') throw new Error('not cron');
  return nextCronTime(parsed.cron, at(after))?.toISOString();
};
/** The first `count` fire times after `after`. */
const series = (expression: string, after: string, count: number) => {
  const parsed = parseScheduleExpression(expression) as Extract<ScheduleExpression, { kind: 'cron' }>;
  const times: string[] = [];
  let cursor = at(after);
  for (let index = 0; index < count; index += 1) {
    const fire = nextCronTime(parsed.cron, cursor);
    if (!fire) break;
    times.push(fire.toISOString().slice(0, 16));
    cursor = fire;
  }
  return times;
};

describe('rate expressions (guide: "Rate Expressions")', () => {
  it('parses the guide’s examples', () => {
    expect(parseScheduleExpression('rate(1 minute)')).toMatchObject({
      kind: 'rate',
      value: 1,
      unit: 'minute',
      periodMs: 60_000,
    });
    expect(parseScheduleExpression('rate(5 minutes)')).toMatchObject({ periodMs: 300_000 });
    expect(parseScheduleExpression('rate(1 hour)')).toMatchObject({ unit: 'hour', periodMs: 3_600_000 });
    expect(parseScheduleExpression('rate(1 day)')).toMatchObject({ unit: 'day', periodMs: 86_400_000 });
  });

  it('rejects "rate(1 hours) and rate(5 hour)", zero, fractions and unknown units', () => {
    for (const text of [
      'rate(1 hours)',
      'rate(5 hour)',
      'rate(0 minutes)',
      'rate(1.5 hours)',
      'rate(-1 minutes)',
      'rate(1 week)',
      'rate(minutes)',
      'every(5 minutes)',
    ]) {
      expect(() => parseScheduleExpression(text), text).toThrow(InvalidScheduleExpressionError);
    }
  });

  it('fires one period after it starts, then every period', () => {
    const rate = parseScheduleExpression('rate(5 minutes)');
    const anchor = at('2026-03-10T10:00:00Z');
    expect(nextFireTime(rate, anchor, anchor)?.toISOString()).toBe('2026-03-10T10:05:00.000Z');
    expect(nextFireTime(rate, at('2026-03-10T10:07:30Z'), anchor)?.toISOString()).toBe(
      '2026-03-10T10:10:00.000Z',
    );
    expect(nextFireTime(rate, at('2026-03-10T10:10:00Z'), anchor)?.toISOString()).toBe(
      '2026-03-10T10:15:00.000Z',
    );
  });
});

describe('cron expressions: the guide’s examples table', () => {
  // 2026-03-10 is a Tuesday.
  it('0 10 * * ? * — 10:00 every day', () => {
    expect(next('cron(0 10 * * ? *)', '2026-03-10T09:00:00Z')).toBe('2026-03-10T10:00:00.000Z');
    expect(next('cron(0 10 * * ? *)', '2026-03-10T10:00:00Z')).toBe('2026-03-11T10:00:00.000Z');
  });

  it('15 12 * * ? * — 12:15 every day', () => {
    expect(next('cron(15 12 * * ? *)', '2026-03-10T12:15:30Z')).toBe('2026-03-11T12:15:00.000Z');
  });

  it('0 18 ? * MON-FRI * — 18:00 Monday to Friday', () => {
    expect(next('cron(0 18 ? * MON-FRI *)', '2026-03-13T19:00:00Z')).toBe('2026-03-16T18:00:00.000Z');
    expect(next('cron(0 18 ? * MON-FRI *)', '2026-03-12T17:59:59Z')).toBe('2026-03-12T18:00:00.000Z');
  });

  it('0 8 1 * ? * — 08:00 on the 1st of every month', () => {
    expect(next('cron(0 8 1 * ? *)', '2026-03-10T00:00:00Z')).toBe('2026-04-01T08:00:00.000Z');
    expect(next('cron(0 8 1 * ? *)', '2026-12-01T08:00:00Z')).toBe('2027-01-01T08:00:00.000Z');
  });

  it('0/15 * * * ? * — every 15 minutes', () => {
    expect(series('cron(0/15 * * * ? *)', '2026-03-10T09:07:00Z', 4)).toEqual([
      '2026-03-10T09:15',
      '2026-03-10T09:30',
      '2026-03-10T09:45',
      '2026-03-10T10:00',
    ]);
  });

  it('0/10 * ? * MON-FRI * — every 10 minutes Monday to Friday', () => {
    expect(series('cron(0/10 * ? * MON-FRI *)', '2026-03-13T23:45:00Z', 2)).toEqual([
      '2026-03-13T23:50',
      '2026-03-16T00:00',
    ]);
  });

  it('0/5 8-17 ? * MON-FRI * — every 5 minutes between 8:00 am and 5:55 pm on weekdays', () => {
    expect(next('cron(0/5 8-17 ? * MON-FRI *)', '2026-03-10T17:50:00Z')).toBe('2026-03-10T17:55:00.000Z');
    expect(next('cron(0/5 8-17 ? * MON-FRI *)', '2026-03-10T17:55:00Z')).toBe('2026-03-11T08:00:00.000Z');
    expect(next('cron(0/5 8-17 ? * MON-FRI *)', '2026-03-13T17:55:00Z')).toBe('2026-03-16T08:00:00.000Z');
  });

  it('0/30 20-2 ? * MON-FRI * — an hour range that wraps past midnight', () => {
    expect(parseCron('0/30 20-2 ? * MON-FRI *').hours).toEqual([0, 1, 2, 20, 21, 22, 23]);
    expect(series('cron(0/30 20-2 ? * MON-FRI *)', '2026-03-10T01:45:00Z', 3)).toEqual([
      '2026-03-10T02:00',
      '2026-03-10T02:30',
      '2026-03-10T20:00',
    ]);
    // Hours and days are independent sets: Friday 23:30 is followed by Monday 00:00, not Saturday.
    expect(next('cron(0/30 20-2 ? * MON-FRI *)', '2026-03-13T23:30:00Z')).toBe('2026-03-16T00:00:00.000Z');
  });

  it('the CLI examples: 0 12 * * ? *, 5,35 14 * * ? *, and 15 10 ? * 6L 2019-2022', () => {
    expect(next('cron(0 12 * * ? *)', '2026-03-10T12:00:00Z')).toBe('2026-03-11T12:00:00.000Z');
    expect(series('cron(5,35 14 * * ? *)', '2026-03-10T14:00:00Z', 3)).toEqual([
      '2026-03-10T14:05',
      '2026-03-10T14:35',
      '2026-03-11T14:05',
    ]);
    // Last Friday of each month during 2019 to 2022.
    expect(series('cron(15 10 ? * 6L 2019-2022)', '2019-01-01T00:00:00Z', 3)).toEqual([
      '2019-01-25T10:15',
      '2019-02-22T10:15',
      '2019-03-29T10:15',
    ]);
    expect(next('cron(15 10 ? * 6L 2019-2022)', '2022-12-01T00:00:00Z')).toBe('2022-12-30T10:15:00.000Z');
    expect(next('cron(15 10 ? * 6L 2019-2022)', '2022-12-30T10:15:00Z')).toBeUndefined();
  });
});

describe('cron wildcards (guide: "Wildcards")', () => {
  it('L in day-of-month is the last day of the month, leap years included', () => {
    expect(next('cron(0 9 L * ? *)', '2026-02-01T00:00:00Z')).toBe('2026-02-28T09:00:00.000Z');
    expect(next('cron(0 9 L * ? *)', '2028-02-01T00:00:00Z')).toBe('2028-02-29T09:00:00.000Z');
    expect(next('cron(0 9 L-2 * ? *)', '2026-04-01T00:00:00Z')).toBe('2026-04-28T09:00:00.000Z');
  });

  it('3W is the weekday closest to the 3rd, never crossing the month', () => {
    // 2026-01-03 is a Saturday → Friday the 2nd; 2026-05-03 a Sunday → Monday the 4th.
    expect(next('cron(0 9 3W * ? *)', '2026-01-01T00:00:00Z')).toBe('2026-01-02T09:00:00.000Z');
    expect(next('cron(0 9 3W * ? *)', '2026-05-01T00:00:00Z')).toBe('2026-05-04T09:00:00.000Z');
    expect(next('cron(0 9 3W * ? *)', '2026-03-01T00:00:00Z')).toBe('2026-03-03T09:00:00.000Z');
    // 2026-08-01 is a Saturday: 1W moves forward to Monday the 3rd, not back into July.
    expect(next('cron(0 9 1W * ? *)', '2026-07-31T00:00:00Z')).toBe('2026-08-03T09:00:00.000Z');
    // LW: the last weekday; 2026-05-31 is a Sunday → Friday the 29th.
    expect(next('cron(0 9 LW * ? *)', '2026-05-01T00:00:00Z')).toBe('2026-05-29T09:00:00.000Z');
  });

  it('3#2 is the second Tuesday of the month', () => {
    expect(next('cron(0 9 ? * 3#2 *)', '2026-03-01T00:00:00Z')).toBe('2026-03-10T09:00:00.000Z');
    expect(next('cron(0 9 ? * 3#2 *)', '2026-03-10T09:00:00Z')).toBe('2026-04-14T09:00:00.000Z');
    expect(next('cron(0 9 ? * TUE#2 *)', '2026-03-01T00:00:00Z')).toBe('2026-03-10T09:00:00.000Z');
    // A fifth Friday exists only in some months: May 2026 has one (29th), April does not.
    expect(next('cron(0 9 ? * FRI#5 *)', '2026-04-01T00:00:00Z')).toBe('2026-05-29T09:00:00.000Z');
  });

  it('lists, names, steps and wrapping ranges in month and day-of-week', () => {
    expect(parseCron('0 0 ? JAN,FEB,MAR * *').months).toEqual(new Set([1, 2, 3]));
    expect(parseCron('0 0 ? NOV-FEB * *').months).toEqual(new Set([11, 12, 1, 2]));
    expect(parseCron('0 0 ? * FRI-MON *').dayOfWeek).toEqual({ kind: 'days', days: new Set([6, 7, 1, 2]) });
    expect(parseCron('1/10 0 * * ? *').minutes).toEqual([1, 11, 21, 31, 41, 51]);
    expect(parseCron('*/20 0 * * ? 2030/5').years.has(2035)).toBe(true);
    expect(parseCron('10-30/10 0 * * ? *').minutes).toEqual([10, 20, 30]);
    expect(next('cron(0 9 ? * L *)', '2026-03-10T00:00:00Z')).toBe('2026-03-14T09:00:00.000Z');
  });

  it('rejects what the guide rules out', () => {
    for (const text of [
      'cron(0 10 * * * *)', // * in both day fields
      'cron(0 10 ? * ? *)', // ? in both
      'cron(0 10 1 * MON *)', // values in both
      'cron(0 10 * * ?)', // five fields
      'cron(60 10 * * ? *)',
      'cron(0 24 * * ? *)',
      'cron(0 10 32 * ? *)',
      'cron(0 10 * 13 ? *)',
      'cron(0 10 * FOO ? *)',
      'cron(0 10 ? * 8 *)',
      'cron(0 10 * * ? 2200)',
      'cron(0 8 ? * 3#1,6#3 *)', // "3#1,6#3 is not valid because it is interpreted as two expressions"
      'cron(0 8 ? * 3#6 *)',
      'cron(0/0 8 * * ? *)',
    ]) {
      expect(() => parseScheduleExpression(text), text).toThrow(InvalidScheduleExpressionError);
    }
  });
});

describe('at() expressions (EventBridge Scheduler)', () => {
  it('parses one-time schedules only where allowed, and fires once', () => {
    expect(() => parseScheduleExpression('at(2026-06-01T12:00:00)')).toThrow(InvalidScheduleExpressionError);
    const once = parseScheduleExpression('at(2026-06-01T12:00:00)', { allowAt: true });
    expect(nextFireTime(once, at('2026-05-31T00:00:00Z'))?.toISOString()).toBe('2026-06-01T12:00:00.000Z');
    expect(nextFireTime(once, at('2026-06-01T12:00:00Z'))).toBeUndefined();
    expect(() => parseScheduleExpression('at(2026-02-30T00:00:00)', { allowAt: true })).toThrow(
      InvalidScheduleExpressionError,
    );
  });
});

describe('scheduled rules and schedules on the bus', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const NOW = new Date('2026-03-10T09:30:15.500Z');
  const RULE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:rule/tick`;

  function setup(resources: Record<string, unknown>, now: () => Date = () => NOW) {
    const template = templateOf({
      Sink: queue('sink'),
      Dlq: queue('dlq'),
      Sync: lambdaFunction('sync'),
      ...resources,
    });
    const runtime = new FakeRuntime(template);
    const bus = new LocalEventBridge(template, runtime, { now, retryBaseDelayMs: 1 });
    return { bus, runtime };
  }

  it('fireSchedule sends the scheduled-event envelope to the rule’s targets, not onto the bus', async () => {
    const { bus, runtime } = setup({
      Tick: rule('tick', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [
          { Id: 'q', Arn: queueArn('sink') },
          {
            Id: 'named',
            Arn: queueArn('sink'),
            InputTransformer: { InputTemplate: '"<aws.events.rule-name> fired"' },
          },
        ],
      }),
      Catch: rule('catch-all', {
        EventPattern: { source: ['aws.events'] },
        Targets: [{ Id: 'q', Arn: queueArn('dlq') }],
      }),
    });
    expect(bus.fireSchedule('tick')).toBe(2);
    await bus.idle();
    const [whole, named] = runtime.sqs(queueArn('sink'));
    const event = JSON.parse(whole?.body ?? '') as EventBridgeEvent;
    expect(event).toEqual({
      version: '0',
      id: expect.any(String),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: ACCOUNT,
      time: '2026-03-10T09:30:15Z',
      region: REGION,
      resources: [RULE_ARN],
      detail: {},
    });
    expect(named?.body).toBe('"tick fired"');
    expect(runtime.sqs(queueArn('dlq'))).toHaveLength(0);
    expect(bus.events()).toEqual([]);
    expect(bus.counters.scheduledFires).toBe(1);
  });

  it('a DISABLED scheduled rule does not fire; an unknown name throws', async () => {
    const { bus, runtime } = setup({
      Tick: rule('tick', {
        ScheduleExpression: 'rate(1 minute)',
        State: 'DISABLED',
        Targets: [{ Id: 'q', Arn: queueArn('sink') }],
      }),
    });
    expect(bus.fireSchedule('tick')).toBe(0);
    await bus.idle();
    expect(runtime.calls).toHaveLength(0);
    expect(() => bus.fireSchedule('nope')).toThrow(/no scheduled rule or schedule named nope/);
  });

  it('start() fires rates from its own start and cron on the minute; stop() clears the timers', async () => {
    vi.useFakeTimers({ now: new Date('2026-03-10T09:30:15Z') });
    const { bus, runtime } = setup(
      {
        Tick: rule('tick', {
          ScheduleExpression: 'rate(1 minute)',
          Targets: [{ Id: 'q', Arn: queueArn('sink') }],
        }),
        Quarter: rule('quarter', {
          ScheduleExpression: 'cron(0/15 * * * ? *)',
          Targets: [{ Id: 'q', Arn: queueArn('dlq') }],
        }),
      },
      () => new Date(),
    );
    bus.start();
    expect(bus.nextFires()).toEqual({
      tick: '2026-03-10T09:31:15.000Z',
      quarter: '2026-03-10T09:45:00.000Z',
    });
    await vi.advanceTimersByTimeAsync(60_000);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(14 * 60_000);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(15);
    expect(runtime.sqs(queueArn('dlq'))).toHaveLength(1);
    expect((JSON.parse(runtime.sqs(queueArn('dlq'))[0]?.body ?? '') as EventBridgeEvent).time).toBe(
      '2026-03-10T09:45:00Z',
    );
    bus.stop();
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(15);
    expect(runtime.sqs(queueArn('dlq'))).toHaveLength(1);
  });

  it('AWS::Scheduler::Schedule delivers its Input; a failing target goes to its DLQ with Scheduler’s attributes', async () => {
    const { bus, runtime } = setup({
      Nightly: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: 'nightly',
          ScheduleExpression: 'cron(0 2 * * ? *)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: functionArn('sync'),
            RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
            Input: '{"job":"sync"}',
          },
        },
      },
      Hourly: {
        Type: 'AWS::Scheduler::Schedule',
        Properties: {
          Name: 'hourly',
          ScheduleExpression: 'rate(1 hour)',
          FlexibleTimeWindow: { Mode: 'OFF' },
          Target: {
            Arn: queueArn('sink'),
            RoleArn: 'arn:aws:iam::000000000000:role/scheduler',
            Input: 'ping',
            RetryPolicy: { MaximumRetryAttempts: 1 },
            DeadLetterConfig: { Arn: queueArn('dlq') },
          },
        },
      },
    });
    expect(bus.fireSchedule('nightly')).toBe(1);
    runtime.failAlways(queueArn('sink'));
    expect(bus.fireSchedule('hourly')).toBe(1);
    await bus.idle();
    expect(runtime.calls.find((call) => call.kind === 'lambda')).toMatchObject({
      target: functionArn('sync'),
      payload: { job: 'sync' },
    });
    const [dead] = runtime.sqs(queueArn('dlq'));
    expect(dead?.body).toBe('ping');
    const attributes = Object.fromEntries(
      Object.entries(dead?.options?.messageAttributes ?? {}).map(([name, value]) => [
        name,
        value.StringValue,
      ]),
    );
    expect(attributes).toEqual({
      ERROR_CODE: 'ERROR_FROM_TARGET',
      ERROR_MESSAGE: 'boom',
      EXECUTION_ID: expect.any(String),
      EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
      IS_PAYLOAD_TRUNCATED: 'false',
      RETRY_ATTEMPTS: '1',
      SCHEDULED_TIME: '2026-03-10T09:30:15Z',
      SCHEDULE_ARN: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/default/hourly`,
      TARGET_ARN: queueArn('sink'),
    });
    expect(bus.nextFires()).toEqual({
      nightly: '2026-03-11T02:00:00.000Z',
      hourly: '2026-03-10T10:30:15.500Z',
    });
  });

  it('an invalid schedule fails construction with the logical id', () => {
    expect(() =>
      setup({
        Bad: {
          Type: 'AWS::Scheduler::Schedule',
          Properties: {
            ScheduleExpression: 'cron(0 2 * * * *)',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: queueArn('sink'), RoleArn: 'r' },
          },
        },
      }),
    ).toThrow(/AWS::Scheduler::Schedule Bad: .*day-of-month and day-of-week/);
  });
});
