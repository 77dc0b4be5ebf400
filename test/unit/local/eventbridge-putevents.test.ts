import { appendFileSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListRulesCommand,
  PutEventsCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsJsonRouter, AwsServiceError } from '#local/aws/json-protocol.ts';
import { entrySize, LocalEventBridge, MAX_PUT_EVENTS_BYTES } from '#local/eventbridge/bus.ts';
import type { PutEventsEntry } from '#local/types.ts';
import {
  ACCOUNT,
  busArn,
  FakeRuntime,
  queue,
  queueArn,
  REGION,
  rule,
  tempDir,
  templateOf,
  UUID,
} from './eventbridge-fixtures.ts';

const NOW = new Date('2026-03-10T12:34:56.789Z');

function busWith(
  resources: Record<string, unknown> = {},
  options: { archiveFile?: string; now?: () => Date } = {},
) {
  const template = templateOf({
    Orders: { Type: 'AWS::Events::EventBus', Properties: { Name: 'orders' } },
    Sink: queue('sink'),
    ...resources,
  });
  const runtime = new FakeRuntime(template);
  const bus = new LocalEventBridge(template, runtime, { now: () => NOW, retryBaseDelayMs: 1, ...options });
  return { bus, runtime, template };
}

const entry = (overrides: Partial<PutEventsEntry> = {}): PutEventsEntry => ({
  Source: 'omnihub.test',
  DetailType: 'OrderCreated',
  Detail: JSON.stringify({ orderId: 'o-1' }),
  ...overrides,
});

function expectServiceError(call: () => unknown, type: string, message?: RegExp): void {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(AwsServiceError);
    expect((error as AwsServiceError).type).toBe(type);
    if (message) expect((error as AwsServiceError).message).toMatch(message);
    return;
  }
  throw new Error(`expected ${type}`);
}

describe('PutEvents validation and response shape', () => {
  it('answers an EventId per accepted entry and builds the event as EventBridge does', () => {
    const { bus } = busWith();
    const result = bus.putEvents([entry({ Resources: ['arn:aws:s3:::bucket'] })]);
    expect(result.FailedEntryCount).toBe(0);
    expect(result.Entries).toHaveLength(1);
    const id = (result.Entries[0] as { EventId: string }).EventId;
    expect(id).toMatch(UUID);
    expect(bus.events()).toEqual([
      {
        version: '0',
        id,
        'detail-type': 'OrderCreated',
        source: 'omnihub.test',
        account: ACCOUNT,
        time: '2026-03-10T12:34:56Z',
        region: REGION,
        resources: ['arn:aws:s3:::bucket'],
        detail: { orderId: 'o-1' },
      },
    ]);
  });

  it('uses the entry Time (epoch seconds from the SDK, or ISO text) at second precision', () => {
    const { bus } = busWith();
    bus.putEvents([entry({ Time: 1_700_000_000.9 }), entry({ Time: '2024-02-29T23:59:59.999Z' })]);
    expect(bus.events().map((event) => event.time)).toEqual(['2023-11-14T22:13:20Z', '2024-02-29T23:59:59Z']);
  });

  it('rejects more than 10 entries, or none, for the whole request', () => {
    const { bus } = busWith();
    expectServiceError(
      () => bus.putEvents(Array.from({ length: 11 }, () => entry())),
      'ValidationException',
      /less than or equal to 10/,
    );
    expectServiceError(() => bus.putEvents([]), 'ValidationException', /greater than or equal to 1/);
    expect(bus.putEvents(Array.from({ length: 10 }, () => entry())).FailedEntryCount).toBe(0);
    expect(bus.events()).toHaveLength(10);
  });

  it('reports missing Source, DetailType and Detail per entry, keeping the request order', () => {
    const { bus } = busWith();
    const result = bus.putEvents([
      { DetailType: 'x', Detail: '{}' },
      entry(),
      { Source: 's', Detail: '{}' },
      { Source: 's', DetailType: 'x', Detail: '' },
    ]);
    expect(result.FailedEntryCount).toBe(3);
    expect(result.Entries[0]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Source is not valid. Reason: Source is a required argument.',
    });
    expect(result.Entries[1]).toEqual({ EventId: expect.stringMatching(UUID) });
    expect(result.Entries[2]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter DetailType is not valid. Reason: DetailType is a required argument.',
    });
    expect(result.Entries[3]).toEqual({
      ErrorCode: 'InvalidArgument',
      ErrorMessage: 'Parameter Detail is not valid. Reason: Detail is a required argument.',
    });
    expect(bus.events()).toHaveLength(1);
    expect(bus.counters.entriesFailed).toBe(3);
    expect(bus.counters.eventsPut).toBe(1);
  });

  it('rejects a Detail that is not a JSON object as MalformedDetail', () => {
    const { bus } = busWith();
    const result = bus.putEvents([
      entry({ Detail: 'not json' }),
      entry({ Detail: '[1,2]' }),
      entry({ Detail: '"text"' }),
      entry({ Detail: 'null' }),
    ]);
    expect(result.FailedEntryCount).toBe(4);
    for (const item of result.Entries)
      expect(item).toEqual({ ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' });
    expect(bus.events()).toEqual([]);
  });

  it('accepts a bus by name or ARN and rejects an unknown bus per entry', () => {
    const { bus } = busWith();
    const result = bus.putEvents([
      entry({ EventBusName: 'orders' }),
      entry({ EventBusName: busArn('orders') }),
      entry({ EventBusName: 'nope' }),
      entry({ EventBusName: 'default' }),
    ]);
    expect(result.FailedEntryCount).toBe(1);
    expect(result.Entries[2]).toEqual({
      ErrorCode: 'ResourceNotFoundException',
      ErrorMessage: 'Event bus nope does not exist.',
    });
    expect(bus.events({ eventBusName: 'orders' })).toHaveLength(2);
    expect(bus.events({ eventBusName: 'default' })).toHaveLength(1);
  });

  it('sizes entries as the guide does and rejects a request over 1 MiB', () => {
    expect(
      entrySize({ Source: 'ab', DetailType: 'cd', Detail: '{"é":1}', Resources: ['r1', 'r2'], Time: 1 }),
    ).toBe(14 + 2 + 2 + 8 + 4);
    const { bus } = busWith();
    const base = entrySize(entry({ Detail: '{"a":""}' }));
    const fits = entry({ Detail: `{"a":"${'x'.repeat(MAX_PUT_EVENTS_BYTES - base)}"}` });
    expect(entrySize(fits)).toBe(MAX_PUT_EVENTS_BYTES);
    expect(bus.putEvents([fits]).FailedEntryCount).toBe(0);
    const over = entry({ Detail: `{"a":"${'x'.repeat(MAX_PUT_EVENTS_BYTES - base + 1)}"}` });
    expectServiceError(
      () => bus.putEvents([over]),
      'ValidationException',
      /Total size of the entries in the request is over the limit/,
    );
    const half = entry({ Detail: `{"a":"${'x'.repeat(MAX_PUT_EVENTS_BYTES / 2)}"}` });
    expectServiceError(() => bus.putEvents([half, half]), 'ValidationException');
    expect(bus.events()).toHaveLength(1);
  });
});

describe('archive', () => {
  it('keeps every event oldest first and filters by detail-type and source', () => {
    const { bus } = busWith();
    bus.putEvents([entry({ DetailType: 'A', Source: 's1' }), entry({ DetailType: 'B', Source: 's1' })]);
    bus.putEvents([entry({ DetailType: 'A', Source: 's2' })]);
    expect(bus.events().map((event) => `${event['detail-type']}/${event.source}`)).toEqual([
      'A/s1',
      'B/s1',
      'A/s2',
    ]);
    expect(bus.events({ detailType: 'A' }).map((event) => event.source)).toEqual(['s1', 's2']);
    expect(bus.events({ source: 's1' }).map((event) => event['detail-type'])).toEqual(['A', 'B']);
    expect(bus.events({ detailType: 'A', source: 's2' })).toHaveLength(1);
    expect(bus.events({ detailType: 'C' })).toEqual([]);
  });

  it('appends JSON lines to the archive file and reloads them on start, skipping a torn line', () => {
    const file = join(tempDir(), 'nested', 'events.jsonl');
    const first = busWith({}, { archiveFile: file }).bus;
    first.putEvents([entry({ DetailType: 'One' }), entry({ DetailType: 'Two' })]);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      eventBusName: 'default',
      event: { 'detail-type': 'One' },
    });
    appendFileSync(file, '{"eventBusName":"default","event":{"id":');

    const { bus: second, runtime } = busWith({}, { archiveFile: file });
    expect(second.events().map((event) => event['detail-type'])).toEqual(['One', 'Two']);
    expect(second.events().map((event) => event.id)).toEqual(first.events().map((event) => event.id));
    expect(runtime.logs.some((log) => log.level === 'warn' && /skipped unreadable/.test(log.message))).toBe(
      true,
    );
    second.putEvents([entry({ DetailType: 'Three' })]);
    expect(second.events().map((event) => event['detail-type'])).toEqual(['One', 'Two', 'Three']);
  });
});

describe('rule API', () => {
  const resources = {
    Created: rule('created', {
      EventPattern: { 'detail-type': ['OrderCreated'] },
      Targets: [{ Id: 'q', Arn: queueArn('sink') }],
    }),
    OnOrders: rule('on-orders', {
      EventBusName: 'orders',
      EventPattern: JSON.stringify({ source: ['x'] }),
      Description: 'custom bus',
      Targets: [],
    }),
    Nightly: rule('nightly', { ScheduleExpression: 'cron(0 2 * * ? *)', State: 'DISABLED' }),
  };

  it('TestEventPattern answers Result and rejects invalid patterns and events', async () => {
    const { bus } = busWith();
    const event = JSON.stringify({
      id: '1',
      account: ACCOUNT,
      source: 'aws.ec2',
      time: '2017-12-22T18:43:48Z',
      region: REGION,
      resources: [],
      'detail-type': 'EC2 Instance State-change Notification',
      detail: { state: 'terminated' },
    });
    await expect(
      bus.handle('TestEventPattern', { EventPattern: '{"detail":{"state":["terminated"]}}', Event: event }),
    ).resolves.toEqual({
      Result: true,
    });
    await expect(
      bus.handle('TestEventPattern', { EventPattern: '{"detail":{"state":["running"]}}', Event: event }),
    ).resolves.toEqual({
      Result: false,
    });
    await expect(
      bus.handle('TestEventPattern', { EventPattern: '{"detail":{"state":"running"}}', Event: event }),
    ).rejects.toMatchObject({
      type: 'InvalidEventPatternException',
    });
    await expect(
      bus.handle('TestEventPattern', { EventPattern: '{}', Event: '{"source":"x"}' }),
    ).rejects.toMatchObject({
      type: 'ValidationException',
    });
  });

  it('ListRules and DescribeRule show template rules with the ARNs EventBridge gives them', async () => {
    const { bus } = busWith(resources);
    const listed = (await bus.handle('ListRules', {})) as { Rules: Record<string, unknown>[] };
    expect(listed.Rules.map((item) => item.Name)).toEqual(['created', 'nightly']);
    expect(listed.Rules[0]).toEqual({
      Name: 'created',
      Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/created`,
      EventPattern: '{"detail-type":["OrderCreated"]}',
      State: 'ENABLED',
      EventBusName: 'default',
    });
    expect(listed.Rules[1]).toMatchObject({ ScheduleExpression: 'cron(0 2 * * ? *)', State: 'DISABLED' });
    const described = await bus.handle('DescribeRule', { Name: 'on-orders', EventBusName: busArn('orders') });
    expect(described).toMatchObject({
      Name: 'on-orders',
      Arn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/orders/on-orders`,
      EventBusName: 'orders',
      Description: 'custom bus',
      CreatedBy: ACCOUNT,
    });
    await expect(
      bus.handle('DescribeRule', { Name: 'created', EventBusName: 'orders' }),
    ).rejects.toMatchObject({
      type: 'ResourceNotFoundException',
      message: 'Rule created does not exist on EventBus orders.',
    });
    const page = (await bus.handle('ListRules', { Limit: 1 })) as { Rules: unknown[]; NextToken?: string };
    expect(page.Rules).toHaveLength(1);
    const rest = (await bus.handle('ListRules', { Limit: 1, NextToken: page.NextToken })) as {
      Rules: { Name: string }[];
      NextToken?: string;
    };
    expect(rest.Rules.map((item) => item.Name)).toEqual(['nightly']);
    expect(rest.NextToken).toBeUndefined();
    expect(await bus.handle('ListTargetsByRule', { Rule: 'created' })).toEqual({
      Targets: [{ Id: 'q', Arn: queueArn('sink') }],
    });
  });

  it('PutRule and PutTargets add a working rule; invalid ones are refused as EventBridge would', async () => {
    const { bus, runtime } = busWith();
    await expect(
      bus.handle('PutRule', { Name: 'late', EventPattern: '{"source":["late"]}' }),
    ).resolves.toEqual({
      RuleArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/late`,
    });
    const put = await bus.handle('PutTargets', {
      Rule: 'late',
      Targets: [
        { Id: 'q', Arn: queueArn('sink') },
        { Id: 'bad', Arn: queueArn('sink'), Input: '{}', InputPath: '$.detail' },
      ],
    });
    expect(put).toMatchObject({
      FailedEntryCount: 1,
      FailedEntries: [{ TargetId: 'bad', ErrorCode: 'ValidationException' }],
    });
    bus.putEvents([entry({ Source: 'late' })]);
    await bus.idle();
    expect(runtime.sqs(queueArn('sink'))).toHaveLength(1);

    await expect(
      bus.handle('PutRule', { Name: 'x', EventPattern: '{"source":"late"}' }),
    ).rejects.toMatchObject({
      type: 'InvalidEventPatternException',
    });
    await expect(bus.handle('PutRule', { Name: 'x' })).rejects.toMatchObject({ type: 'ValidationException' });
    await expect(
      bus.handle('PutRule', { Name: 'x', ScheduleExpression: 'rate(1 hours)' }),
    ).rejects.toMatchObject({
      type: 'ValidationException',
      message: 'Parameter ScheduleExpression is not valid.',
    });
    await expect(
      bus.handle('PutRule', { Name: 'x', EventBusName: 'orders', ScheduleExpression: 'rate(1 hour)' }),
    ).rejects.toMatchObject({
      type: 'ValidationException',
    });
    await expect(bus.handle('DeleteRule', { Name: 'late' })).rejects.toMatchObject({
      type: 'ValidationException',
    });
    await bus.handle('RemoveTargets', { Rule: 'late', Ids: ['q'] });
    await bus.handle('DeleteRule', { Name: 'late' });
    await expect(bus.handle('DescribeRule', { Name: 'late' })).rejects.toMatchObject({
      type: 'ResourceNotFoundException',
    });
    await expect(bus.handle('CreateEventBus', { Name: 'x' })).rejects.toMatchObject({
      type: 'UnknownOperationException',
    });
  });
});

describe('through the AWS SDK v3 EventBridge client', () => {
  let server: Server;
  let client: EventBridgeClient;
  const { bus } = busWith({
    Created: rule('created', {
      EventPattern: { 'detail-type': ['OrderCreated'] },
      Targets: [{ Id: 'q', Arn: queueArn('sink') }],
    }),
  });

  beforeAll(async () => {
    const router = new AwsJsonRouter();
    router.register('AWSEvents', (operation, input) => bus.handle(operation, input));
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        void router.handle(req, res, Buffer.concat(chunks)).then((handled) => {
          if (!handled) {
            res.writeHead(404);
            res.end();
          }
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    client = new EventBridgeClient({
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      region: REGION,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  });

  afterAll(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('PutEvents: the SDK parses EventIds and per-entry errors', async () => {
    const time = new Date('2025-01-02T03:04:05.678Z');
    const output = await client.send(
      new PutEventsCommand({
        Entries: [
          { Source: 'omnihub.test', DetailType: 'OrderCreated', Detail: '{"orderId":"o-9"}', Time: time },
          { Source: 'omnihub.test', DetailType: 'OrderCreated', Detail: 'nope' },
          { Source: 'omnihub.test', DetailType: 'OrderCreated', Detail: '{}', EventBusName: 'missing' },
        ],
      }),
    );
    expect(output.FailedEntryCount).toBe(2);
    expect(output.Entries?.[0]?.EventId).toMatch(UUID);
    expect(output.Entries?.[1]).toEqual({
      ErrorCode: 'MalformedDetail',
      ErrorMessage: 'Detail is malformed.',
    });
    expect(output.Entries?.[2]?.ErrorCode).toBe('ResourceNotFoundException');
    const stored = bus
      .events({ detailType: 'OrderCreated' })
      .find((event) => event.id === output.Entries?.[0]?.EventId);
    expect(stored?.time).toBe('2025-01-02T03:04:05Z');
    expect(stored?.detail).toEqual({ orderId: 'o-9' });
  });

  it('PutEvents: the SDK surfaces a ValidationException for 11 entries', async () => {
    const entries = Array.from({ length: 11 }, () => ({ Source: 's', DetailType: 'd', Detail: '{}' }));
    await expect(client.send(new PutEventsCommand({ Entries: entries }))).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('TestEventPattern, ListRules and DescribeRule parse in the SDK', async () => {
    const event = {
      id: '1',
      account: ACCOUNT,
      source: 'omnihub.test',
      time: '2025-01-01T00:00:00Z',
      region: REGION,
      resources: [],
      'detail-type': 'OrderCreated',
      detail: {},
    };
    const tested = await client.send(
      new TestEventPatternCommand({
        EventPattern: '{"detail-type":["OrderCreated"]}',
        Event: JSON.stringify(event),
      }),
    );
    expect(tested.Result).toBe(true);
    await expect(
      client.send(
        new TestEventPatternCommand({
          EventPattern: '{"detail-type":"OrderCreated"}',
          Event: JSON.stringify(event),
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidEventPatternException' });
    const rules = await client.send(new ListRulesCommand({}));
    expect(rules.Rules?.map((item) => item.Name)).toEqual(['created']);
    const described = await client.send(new DescribeRuleCommand({ Name: 'created' }));
    expect(described.Arn).toBe(`arn:aws:events:${REGION}:${ACCOUNT}:rule/created`);
    expect(described.EventPattern).toBe('{"detail-type":["OrderCreated"]}');
  });
});
