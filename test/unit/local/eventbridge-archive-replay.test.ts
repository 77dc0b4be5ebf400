import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '#local/aws/json-protocol.ts';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { ACCOUNT, busArn, FakeRuntime, queueArn, REGION, templateOf } from './eventbridge-fixtures.ts';

const ARCHIVE_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:archive/orders-archive`;

/** A bus with an archive of its `shop` events and two rules, each to its own queue. */
function bus(options: { archivePattern?: unknown; retentionDays?: number } = {}) {
  const template = templateOf({
    Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'orders', Description: 'the hub bus' } },
    Archive: {
      Type: 'AWS::Events::Archive',
      Properties: {
        ArchiveName: 'orders-archive',
        SourceArn: { 'Fn::GetAtt': ['Bus', 'Arn'] },
        EventPattern: options.archivePattern ?? { source: ['shop'] },
        RetentionDays: options.retentionDays ?? 7,
        Description: 'every shop event',
      },
    },
    QueueA: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'a' } },
    QueueB: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'b' } },
    RuleA: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'rule-a',
        EventBusName: 'orders',
        EventPattern: { source: ['shop'] },
        Targets: [{ Id: 'a', Arn: queueArn('a') }],
      },
    },
    RuleB: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: 'rule-b',
        EventBusName: 'orders',
        EventPattern: { source: ['shop'] },
        Targets: [{ Id: 'b', Arn: queueArn('b') }],
      },
    },
  });
  const runtime = new FakeRuntime(template);
  return { eventBridge: new LocalEventBridge(template, runtime), runtime };
}

async function put(eventBridge: LocalEventBridge, source: string, detail: Record<string, unknown>) {
  await eventBridge.handle('PutEvents', {
    Entries: [
      { Source: source, DetailType: 'OrderCreated', Detail: JSON.stringify(detail), EventBusName: 'orders' },
    ],
  });
}

async function replayDone(eventBridge: LocalEventBridge, name: string) {
  await eventBridge.idle();
  return (await eventBridge.handle('DescribeReplay', { ReplayName: name })) as Record<string, unknown>;
}

const window = () => ({ EventStartTime: Date.now() / 1000 - 3600, EventEndTime: Date.now() / 1000 + 60 });

/** StartReplay of the whole archive over the last hour, to every rule of the bus unless `destination` says. */
function startReplay(eventBridge: LocalEventBridge, name: string, destination: Record<string, unknown> = {}) {
  return eventBridge.handle('StartReplay', {
    ReplayName: name,
    EventSourceArn: ARCHIVE_ARN,
    ...window(),
    Destination: { Arn: busArn('orders'), ...destination },
  });
}

describe('EventBridge archives', () => {
  it('holds the events of its bus that match its own pattern, as DescribeArchive and ListArchives report', async () => {
    const { eventBridge } = bus();
    await put(eventBridge, 'shop', { n: 1 });
    await put(eventBridge, 'other', { n: 2 });
    await put(eventBridge, 'shop', { n: 3 });
    const described = (await eventBridge.handle('DescribeArchive', {
      ArchiveName: 'orders-archive',
    })) as Record<string, unknown>;
    expect(described).toMatchObject({
      ArchiveArn: ARCHIVE_ARN,
      ArchiveName: 'orders-archive',
      EventSourceArn: busArn('orders'),
      EventPattern: JSON.stringify({ source: ['shop'] }),
      Description: 'every shop event',
      State: 'ENABLED',
      RetentionDays: 7,
      EventCount: 2,
    });
    expect(described.SizeBytes).toBeGreaterThan(0);
    expect(await eventBridge.handle('ListArchives', { EventSourceArn: busArn('orders') })).toMatchObject({
      Archives: [{ ArchiveName: 'orders-archive', EventCount: 2 }],
    });
    await expect(eventBridge.handle('DescribeArchive', { ArchiveName: 'nope' })).rejects.toMatchObject({
      type: 'ResourceNotFoundException',
    });
  });

  it('refuses to load an archive whose source is not a bus of the template', () => {
    const template = templateOf({
      Archive: {
        Type: 'AWS::Events::Archive',
        Properties: { SourceArn: busArn('missing'), RetentionDays: 1 },
      },
    });
    expect(() => new LocalEventBridge(template, new FakeRuntime(template))).toThrow(
      /AWS::Events::Archive Archive: SourceArn .* is not an event bus of the template/,
    );
  });

  it('lists and describes the buses', async () => {
    const { eventBridge } = bus();
    const listed = (await eventBridge.handle('ListEventBuses', {})) as { EventBuses: { Name: string }[] };
    expect(listed.EventBuses.map((entry) => entry.Name)).toEqual(['default', 'orders']);
    expect(await eventBridge.handle('DescribeEventBus', { Name: busArn('orders') })).toMatchObject({
      Name: 'orders',
      Arn: busArn('orders'),
      Description: 'the hub bus',
    });
    await expect(eventBridge.handle('DescribeEventBus', { Name: 'nope' })).rejects.toBeInstanceOf(
      AwsServiceError,
    );
  });
});

describe('EventBridge replays', () => {
  it('sends archived events with replay-name only to the rules the replay names, and completes', async () => {
    const { eventBridge, runtime } = bus();
    await put(eventBridge, 'shop', { n: 1 });
    await eventBridge.idle();
    runtime.calls.length = 0;
    const started = (await eventBridge.handle('StartReplay', {
      ReplayName: 'fix-1',
      EventSourceArn: ARCHIVE_ARN,
      ...window(),
      Destination: {
        Arn: busArn('orders'),
        FilterArns: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/orders/rule-b`],
      },
    })) as Record<string, unknown>;
    expect(started).toMatchObject({
      ReplayArn: `arn:aws:events:${REGION}:${ACCOUNT}:replay/fix-1`,
      State: 'STARTING',
    });
    expect(await replayDone(eventBridge, 'fix-1')).toMatchObject({
      State: 'COMPLETED',
      EventSourceArn: ARCHIVE_ARN,
    });
    expect(runtime.calls.map((call) => call.target)).toEqual([queueArn('b')]);
    const delivered = JSON.parse((runtime.calls[0] as { body: string }).body) as Record<string, unknown>;
    expect(delivered['replay-name']).toBe('fix-1');
    expect(delivered.detail).toEqual({ n: 1 });
  });

  it('sends to every matching rule of the bus when the replay names none', async () => {
    const { eventBridge, runtime } = bus();
    await put(eventBridge, 'shop', { n: 1 });
    await eventBridge.idle();
    runtime.calls.length = 0;
    await startReplay(eventBridge, 'all');
    await replayDone(eventBridge, 'all');
    expect(runtime.calls.map((call) => call.target).sort()).toEqual([queueArn('a'), queueArn('b')]);
  });

  it('replays only events whose time lies in the window', async () => {
    const { eventBridge, runtime } = bus();
    await put(eventBridge, 'shop', { n: 1 });
    await eventBridge.idle();
    runtime.calls.length = 0;
    await eventBridge.handle('StartReplay', {
      ReplayName: 'empty-window',
      EventSourceArn: ARCHIVE_ARN,
      EventStartTime: Date.now() / 1000 - 7200,
      EventEndTime: Date.now() / 1000 - 3600,
      Destination: { Arn: busArn('orders') },
    });
    expect(await replayDone(eventBridge, 'empty-window')).toMatchObject({ State: 'COMPLETED' });
    expect(runtime.calls).toEqual([]);
  });

  it('refuses what StartReplay refuses: another bus, a taken name, start after end, an unknown rule', async () => {
    const { eventBridge } = bus();
    const base = { EventSourceArn: ARCHIVE_ARN, ...window(), Destination: { Arn: busArn('orders') } };
    await expect(
      eventBridge.handle('StartReplay', {
        ...base,
        ReplayName: 'x',
        Destination: { Arn: busArn('default') },
      }),
    ).rejects.toMatchObject({ type: 'ValidationException' });
    await expect(
      eventBridge.handle('StartReplay', { ...base, ReplayName: 'x', EventStartTime: base.EventEndTime + 1 }),
    ).rejects.toMatchObject({ type: 'ValidationException' });
    await expect(
      eventBridge.handle('StartReplay', {
        ...base,
        ReplayName: 'x',
        Destination: {
          Arn: busArn('orders'),
          FilterArns: [`arn:aws:events:${REGION}:${ACCOUNT}:rule/orders/nope`],
        },
      }),
    ).rejects.toMatchObject({ type: 'ResourceNotFoundException' });
    await eventBridge.handle('StartReplay', { ...base, ReplayName: 'once' });
    await expect(eventBridge.handle('StartReplay', { ...base, ReplayName: 'once' })).rejects.toMatchObject({
      type: 'ResourceAlreadyExistsException',
    });
    await expect(
      eventBridge.handle('StartReplay', { ...base, ReplayName: 'bad name' }),
    ).rejects.toMatchObject({
      type: 'ValidationException',
    });
  });

  it('cancels a running replay (CANCELLING, then CANCELLED) and refuses to cancel an ended one', async () => {
    const { eventBridge } = bus();
    for (let n = 0; n < 20; n += 1) await put(eventBridge, 'shop', { n });
    await startReplay(eventBridge, 'long');
    expect(await eventBridge.handle('CancelReplay', { ReplayName: 'long' })).toMatchObject({
      State: 'CANCELLING',
    });
    expect(await replayDone(eventBridge, 'long')).toMatchObject({ State: 'CANCELLED' });
    await expect(eventBridge.handle('CancelReplay', { ReplayName: 'long' })).rejects.toMatchObject({
      type: 'IllegalStatusException',
    });
    expect(await eventBridge.handle('ListReplays', { State: 'CANCELLED' })).toMatchObject({
      Replays: [{ ReplayName: 'long', State: 'CANCELLED', EventSourceArn: ARCHIVE_ARN }],
    });
  });

  it('puts replayed events into an archive whose pattern matches them, and not into one that excludes replays', async () => {
    const { eventBridge } = bus({ archivePattern: { source: ['shop'], 'replay-name': [{ exists: false }] } });
    await put(eventBridge, 'shop', { n: 1 });
    await startReplay(eventBridge, 'r');
    await replayDone(eventBridge, 'r');
    expect(await eventBridge.handle('DescribeArchive', { ArchiveName: 'orders-archive' })).toMatchObject({
      EventCount: 1,
    });
    expect(eventBridge.events({ eventBusName: 'orders' } as never).length).toBe(2);
  });

  it('marks a replay that was running when the local cloud stopped as FAILED after a restart', async () => {
    const { eventBridge } = bus();
    await startReplay(eventBridge, 'interrupted');
    const saved = JSON.parse(JSON.stringify(eventBridge.replaySnapshot()));
    const { eventBridge: restarted } = bus();
    restarted.restoreReplays(saved);
    expect(await restarted.handle('DescribeReplay', { ReplayName: 'interrupted' })).toMatchObject({
      State: 'FAILED',
    });
  });
});
