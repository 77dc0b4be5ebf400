import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { matches, OpsCommandError, type ReplayDeps, runOpsCommand, summarize } from '#shared/ops/replay.ts';
import { OpsCommandSchema } from '#shared/ops/replay-command.ts';
import { NO_TRACE } from '#shared/ops/trace.ts';

/** An SDK client double: records each command's name and input, answers from `reply`. */
function fakeClient(reply: (name: string, input: Record<string, unknown>) => unknown) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  return {
    calls,
    client: {
      send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
        const name = command.constructor.name.replace(/Command$/, '');
        calls.push({ name, input: command.input });
        const answer = reply(name, command.input);
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  };
}

const MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:Bopis';
const NOW = new Date('2026-12-03T12:00:00.000Z');

function deps(parts: { events?: unknown; sfn?: unknown; remainingMs?: number }): ReplayDeps {
  return {
    sqs: {} as SQSClient,
    events: (parts.events ?? {}) as EventBridgeClient,
    sfn: (parts.sfn ?? {}) as SFNClient,
    exceptions: { listParked: async () => [], markReplayed: async () => true },
    trace: NO_TRACE,
    targets: {
      queues: [],
      exceptionQueues: {},
      archiveArn: 'arn:aws:events:us-east-1:123456789012:archive/omnihub-dev-all',
      busArn: 'arn:aws:events:us-east-1:123456789012:event-bus/omnihub-dev',
      stateMachineArns: [MACHINE],
      resolvedRetentionDays: 30,
    },
    remainingMs: () => parts.remainingMs ?? 300_000,
    now: () => NOW,
  };
}

const command = (input: unknown) => OpsCommandSchema.parse(input);

describe('archive-replay', () => {
  it('starts a replay of the archive onto its bus, the window ending now at the latest', async () => {
    const events = fakeClient(() => ({ ReplayArn: 'arn:replay', State: 'STARTING' }));
    const result = await runOpsCommand(
      command({
        command: 'archive-replay',
        actor: 'a',
        from: '2026-12-03T10:00:00Z',
        to: '2026-12-03T13:00:00Z',
      }),
      deps({ events: events.client }),
    );
    expect(events.calls).toHaveLength(1);
    const { name, input } = events.calls[0] as { name: string; input: Record<string, unknown> };
    expect(name).toBe('StartReplay');
    expect(input).toMatchObject({
      EventSourceArn: 'arn:aws:events:us-east-1:123456789012:archive/omnihub-dev-all',
      Destination: { Arn: 'arn:aws:events:us-east-1:123456789012:event-bus/omnihub-dev' },
      EventStartTime: new Date('2026-12-03T10:00:00Z'),
      // EventBridge refuses an end time in the future.
      EventEndTime: NOW,
    });
    // Replay names: 1–64 of [.\-_A-Za-z0-9] (EventBridge API Reference, StartReplay).
    expect(String(input.ReplayName)).toMatch(/^[.\-_A-Za-z0-9]{1,64}$/);
    expect(result).toMatchObject({ state: 'STARTING', to: NOW.toISOString() });
  });

  it('refuses an empty window without calling EventBridge', async () => {
    const events = fakeClient(() => ({}));
    await expect(
      runOpsCommand(
        command({
          command: 'archive-replay',
          actor: 'a',
          from: '2026-12-03T10:00:00Z',
          to: '2026-12-03T09:00:00Z',
        }),
        deps({ events: events.client }),
      ),
    ).rejects.toBeInstanceOf(OpsCommandError);
    expect(events.calls).toEqual([]);
  });
});

describe('execution-redrive', () => {
  it('redrives the failed, timed-out and aborted executions stopped since, and says why one cannot be', async () => {
    const execution = (name: string, stop: string) => ({
      executionArn: `arn:aws:states:us-east-1:123456789012:execution:Bopis:${name}`,
      stopDate: new Date(stop),
    });
    const sfn = fakeClient((name, input) => {
      if (name === 'ListExecutions') {
        return {
          executions:
            input.statusFilter === 'FAILED'
              ? [execution('new', '2026-12-03T11:00:00Z'), execution('old', '2026-12-01T00:00:00Z')]
              : input.statusFilter === 'TIMED_OUT'
                ? [execution('late', '2026-12-03T11:30:00Z')]
                : [],
        };
      }
      if (String(input.executionArn).endsWith(':late')) {
        return Object.assign(new Error('Execution cannot be redriven'), { name: 'ExecutionNotRedrivable' });
      }
      return { redriveDate: NOW };
    });
    const result = (await runOpsCommand(
      command({ command: 'execution-redrive', actor: 'a', since: '2026-12-03T00:00:00Z' }),
      deps({ sfn: sfn.client }),
    )) as { redriven: { executionArn: string }[]; refused: { executionArn: string; why: string }[] };
    expect(
      sfn.calls.filter((call) => call.name === 'ListExecutions').map((call) => call.input.statusFilter),
    ).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    expect(result.redriven.map((entry) => entry.executionArn.split(':').pop())).toEqual(['new']);
    expect(result.refused).toEqual([
      {
        executionArn: expect.stringContaining(':late'),
        why: 'ExecutionNotRedrivable: Execution cannot be redriven',
      },
    ]);
  });

  it('refuses a state machine the hub does not have', async () => {
    await expect(
      runOpsCommand(
        command({ command: 'execution-redrive', actor: 'a', stateMachines: ['Unknown'] }),
        deps({ sfn: fakeClient(() => ({})).client }),
      ),
    ).rejects.toThrow(/no state machine Unknown/);
  });
});

describe('DLQ message filters', () => {
  const message = {
    MessageId: 'm1',
    Body: JSON.stringify({
      'detail-type': 'OrderCreated',
      source: 'omnihub.shopify',
      detail: { metadata: { transactionId: 'tx-1', idempotencyKey: 'k' } },
    }),
    Attributes: { SentTimestamp: String(Date.parse('2026-12-03T10:00:00Z')), ApproximateReceiveCount: '126' },
  };

  it('read the transaction, detail-type and sent time of a canonical event, and nothing of a foreign body', () => {
    expect(summarize(message)).toEqual({
      messageId: 'm1',
      sentAt: '2026-12-03T10:00:00.000Z',
      receiveCount: 126,
      transactionId: 'tx-1',
      detailType: 'OrderCreated',
      source: 'omnihub.shopify',
      idempotencyKey: 'k',
    });
    expect(summarize({ ...message, Body: 'not json' })).toEqual({
      messageId: 'm1',
      sentAt: '2026-12-03T10:00:00.000Z',
      receiveCount: 126,
    });
  });

  it('hold all of their conditions, the window being [from, to)', () => {
    const summary = summarize(message);
    expect(matches(summary, {})).toBe(true);
    expect(matches(summary, { transactionId: 'tx-1', detailType: 'OrderCreated' })).toBe(true);
    expect(matches(summary, { transactionId: 'tx-2' })).toBe(false);
    expect(matches(summary, { detailType: 'OrderUpdated' })).toBe(false);
    expect(matches(summary, { from: '2026-12-03T10:00:00Z', to: '2026-12-03T10:00:01Z' })).toBe(true);
    expect(matches(summary, { to: '2026-12-03T10:00:00Z' })).toBe(false);
    expect(matches(summary, { from: '2026-12-03T10:00:01Z' })).toBe(false);
  });
});
