import { randomUUID } from 'node:crypto';
import { type EventBridgeClient, StartReplayCommand } from '@aws-sdk/client-eventbridge';
import {
  type ExecutionListItem,
  ListExecutionsCommand,
  RedriveExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { DynamoExceptionStore } from '../repositories/exceptions.ts';
import type { DlqFilter, OpsCommand } from './replay-command.ts';
import { replayParkedOrders } from './replay-orders.ts';
import type { TraceRecorder } from './trace.ts';

/** One buffered consumer: its queue and the DLQ that catches what it (or EventBridge) could not deliver. */
export const ReplayQueueSchema = z.strictObject({
  /** The consumer's construct id (`ErpOrders`), how operators name it. */
  name: z.string().min(1),
  queueUrl: z.string().min(1),
  dlqUrl: z.string().min(1),
});
export type ReplayQueue = z.infer<typeof ReplayQueueSchema>;

export interface ReplayTargets {
  readonly queues: readonly ReplayQueue[];
  /** Where a parked exception of a kind goes back to (its consumer's queue). */
  readonly exceptionQueues: Readonly<Record<string, string>>;
  readonly archiveArn: string;
  readonly busArn: string;
  readonly stateMachineArns: readonly string[];
  readonly resolvedRetentionDays: number;
}

export interface ReplayDeps {
  readonly sqs: SQSClient;
  readonly events: EventBridgeClient;
  readonly sfn: SFNClient;
  readonly exceptions: Pick<DynamoExceptionStore, 'listParked' | 'markReplayed'>;
  readonly trace: TraceRecorder;
  readonly targets: ReplayTargets;
  /** Milliseconds left of the invocation: long runs stop in time and say how far they got. */
  readonly remainingMs: () => number;
  readonly now?: () => Date;
}

/** A command the hub cannot run as asked (unknown queue, bad window): answered, not retried. */
export class OpsCommandError extends Error {
  readonly code = 'OPS_COMMAND_INVALID';
}

/** Stop a long run with this much of the invocation left, to answer and audit. */
const SAFETY_MS = 15_000;

export async function runOpsCommand(command: OpsCommand, deps: ReplayDeps): Promise<Record<string, unknown>> {
  switch (command.command) {
    case 'dlq-list':
      return { queues: await listDlqs(deps) };
    case 'dlq-show':
      return showDlq(queueOf(command.queue, deps), command.max, deps);
    case 'dlq-redrive':
      return redriveDlq(queueOf(command.queue, deps), command.filter, command.max, command.dryRun, deps);
    case 'archive-replay':
      return replayArchive(command.from, command.to, deps);
    case 'exceptions-retry':
      return retryExceptions(command, deps);
    case 'execution-redrive':
      return redriveExecutions(command, deps);
  }
}

function queueOf(name: string, deps: ReplayDeps): ReplayQueue {
  const queue = deps.targets.queues.find(
    (candidate) =>
      candidate.name === name ||
      candidate.queueUrl.endsWith(`/${name}`) ||
      candidate.dlqUrl.endsWith(`/${name}`),
  );
  if (!queue) {
    throw new OpsCommandError(
      `no queue ${name}; the hub's are ${deps.targets.queues.map((candidate) => candidate.name).join(', ')}`,
    );
  }
  return queue;
}

async function depth(
  sqs: SQSClient,
  url: string,
): Promise<{ visible: number; inFlight: number; oldestSentAt?: string }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

async function listDlqs(deps: ReplayDeps) {
  const rows = [];
  for (const queue of deps.targets.queues) {
    const [main, dlq] = await Promise.all([depth(deps.sqs, queue.queueUrl), depth(deps.sqs, queue.dlqUrl)]);
    rows.push({
      name: queue.name,
      queued: main.visible,
      inFlight: main.inFlight,
      dlq: dlq.visible + dlq.inFlight,
    });
  }
  return rows;
}

/** What an operator needs to know of a DLQ message without its payload's personal data. */
export interface DlqMessageSummary {
  readonly messageId: string;
  readonly sentAt: string;
  readonly receiveCount: number;
  readonly transactionId?: string;
  readonly detailType?: string;
  readonly source?: string;
  readonly idempotencyKey?: string;
}

export function summarize(message: Message): DlqMessageSummary {
  const sent = Number(message.Attributes?.SentTimestamp);
  const base = {
    messageId: message.MessageId ?? '',
    sentAt: Number.isFinite(sent) ? new Date(sent).toISOString() : '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
  };
  try {
    const event = JSON.parse(message.Body ?? '') as {
      'detail-type'?: unknown;
      source?: unknown;
      detail?: { metadata?: { transactionId?: unknown; idempotencyKey?: unknown } };
    };
    const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
    const fields = {
      transactionId: text(event.detail?.metadata?.transactionId),
      detailType: text(event['detail-type']),
      source: text(event.source),
      idempotencyKey: text(event.detail?.metadata?.idempotencyKey),
    };
    return {
      ...base,
      ...Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)),
    };
  } catch {
    return base;
  }
}

export function matches(summary: DlqMessageSummary, filter: DlqFilter): boolean {
  if (filter.transactionId && summary.transactionId !== filter.transactionId) return false;
  if (filter.detailType && summary.detailType !== filter.detailType) return false;
  const sent = Date.parse(summary.sentAt);
  if (filter.from && !(sent >= Date.parse(filter.from))) return false;
  if (filter.to && !(sent < Date.parse(filter.to))) return false;
  return true;
}

const receive = (sqs: SQSClient, url: string, visibility: number) =>
  sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: 10,
      VisibilityTimeout: visibility,
      WaitTimeSeconds: 0,
      MessageSystemAttributeNames: ['SentTimestamp', 'ApproximateReceiveCount'],
      MessageAttributeNames: ['All'],
    }),
  );

async function release(sqs: SQSClient, url: string, handles: readonly string[]): Promise<void> {
  for (const ReceiptHandle of handles) {
    await sqs
      .send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle, VisibilityTimeout: 0 }))
      .catch(() => {
        // It becomes visible again when its visibility timeout ends anyway.
      });
  }
}

async function showDlq(queue: ReplayQueue, max: number, deps: ReplayDeps) {
  const shown: DlqMessageSummary[] = [];
  const handles: string[] = [];
  try {
    while (shown.length < max) {
      const { Messages = [] } = await receive(deps.sqs, queue.dlqUrl, 30);
      const fresh = Messages.filter((message) => !shown.some((seen) => seen.messageId === message.MessageId));
      if (fresh.length === 0) break;
      for (const message of fresh) {
        handles.push(message.ReceiptHandle ?? '');
        if (shown.length < max) shown.push(summarize(message));
      }
    }
  } finally {
    await release(deps.sqs, queue.dlqUrl, handles);
  }
  return { queue: queue.name, messages: shown };
}

/**
 * SQS's own redrive (StartMessageMoveTask) moves everything and cannot filter, so the redrive receives,
 * filters, sends to the source queue, then deletes from the DLQ: a message is deleted only after its copy
 * was accepted (a failure in between sends it twice at worst, which the consumers' business-key
 * idempotency makes harmless). Messages that do not match are kept invisible for the run, then released.
 */
async function redriveDlq(
  queue: ReplayQueue,
  filter: DlqFilter,
  max: number,
  dryRun: boolean,
  deps: ReplayDeps,
) {
  const redriven: DlqMessageSummary[] = [];
  const skipped: string[] = [];
  const held: string[] = [];
  const visibility = Math.max(30, Math.ceil(deps.remainingMs() / 1000));
  let complete = true;
  try {
    while (redriven.length < max) {
      if (deps.remainingMs() < SAFETY_MS) {
        complete = false;
        break;
      }
      const { Messages = [] } = await receive(deps.sqs, queue.dlqUrl, visibility);
      if (Messages.length === 0) break;
      for (const message of Messages) {
        const summary = summarize(message);
        if (!matches(summary, filter) || dryRun || redriven.length >= max) {
          if (dryRun && matches(summary, filter) && redriven.length < max) redriven.push(summary);
          else skipped.push(summary.messageId);
          held.push(message.ReceiptHandle ?? '');
          continue;
        }
        const at = new Date().toISOString();
        await deps.sqs.send(
          new SendMessageCommand({
            QueueUrl: queue.queueUrl,
            MessageBody: message.Body ?? '',
            ...(message.MessageAttributes && Object.keys(message.MessageAttributes).length
              ? { MessageAttributes: message.MessageAttributes }
              : {}),
          }),
        );
        await deps.sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.dlqUrl, ReceiptHandle: message.ReceiptHandle ?? '' }),
        );
        redriven.push(summary);
        if (summary.transactionId) {
          await deps.trace.checkpoint({
            transactionId: summary.transactionId,
            step: 'replayed',
            at,
            detail: { via: 'dlq-redrive', queue: queue.name, messageId: summary.messageId },
          });
        }
      }
    }
    if (redriven.length >= max) complete = false;
  } finally {
    await release(deps.sqs, queue.dlqUrl, held);
  }
  return {
    queue: queue.name,
    dryRun,
    [dryRun ? 'wouldRedrive' : 'redriven']: redriven.length,
    messages: redriven,
    notMatching: skipped.length,
    complete,
  };
}

async function replayArchive(from: string, to: string, deps: ReplayDeps) {
  const start = new Date(from);
  const end = new Date(to);
  const now = deps.now?.() ?? new Date();
  if (!(start < end)) throw new OpsCommandError(`the window is empty: from ${from} is not before to ${to}`);
  // EventBridge refuses an end time in the future (ValidationException), so the window ends now at the latest.
  const effectiveEnd = end > now ? now : end;
  const replayName = `ops-${start
    .toISOString()
    .replace(/[^0-9]/g, '')
    .slice(0, 12)}-${randomUUID().slice(0, 8)}`;
  const answer = await deps.events.send(
    new StartReplayCommand({
      ReplayName: replayName,
      Description: `ops archive-replay ${start.toISOString()} → ${effectiveEnd.toISOString()}`,
      EventSourceArn: deps.targets.archiveArn,
      EventStartTime: start,
      EventEndTime: effectiveEnd,
      Destination: { Arn: deps.targets.busArn },
    }),
  );
  return {
    replayName,
    replayArn: answer.ReplayArn,
    state: answer.State,
    from: start.toISOString(),
    to: effectiveEnd.toISOString(),
  };
}

async function retryExceptions(
  command: Extract<OpsCommand, { command: 'exceptions-retry' }>,
  deps: ReplayDeps,
) {
  const queueUrl = deps.targets.exceptionQueues[command.kind];
  if (!queueUrl) throw new OpsCommandError(`exceptions of kind ${command.kind} have no replay target`);
  const ids = command.exceptionIds ? new Set(command.exceptionIds) : undefined;
  // Each replay's checkpoint is timed before its send: the consumer's checkpoints come after it.
  const traced: { transactionId: string; at: string }[] = [];
  const result = await replayParkedOrders(
    {
      exceptions: deps.exceptions,
      send: async (body) => {
        const at = new Date().toISOString();
        await deps.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
        const transactionId = (JSON.parse(body) as { detail?: { metadata?: { transactionId?: unknown } } })
          .detail?.metadata?.transactionId;
        if (typeof transactionId === 'string') traced.push({ transactionId, at });
      },
      resolvedRetentionDays: deps.targets.resolvedRetentionDays,
      ...(deps.now ? { now: deps.now } : {}),
    },
    (exception) =>
      (command.code === undefined || exception.code === command.code) &&
      (ids === undefined || ids.has(exception.exceptionId)),
  );
  for (const [index, entry] of traced.entries()) {
    await deps.trace.checkpoint({
      transactionId: entry.transactionId,
      step: 'replayed',
      at: entry.at,
      detail: { via: 'exceptions-retry', exceptionId: result.replayed[index] ?? '' },
    });
  }
  return { ...result };
}

const REDRIVABLE = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;

async function redriveExecutions(
  command: Extract<OpsCommand, { command: 'execution-redrive' }>,
  deps: ReplayDeps,
) {
  const known = deps.targets.stateMachineArns;
  const machines = command.stateMachines
    ? command.stateMachines.map((name) => {
        const arn = known.find((candidate) => candidate === name || candidate.endsWith(`:${name}`));
        if (!arn) throw new OpsCommandError(`no state machine ${name}; the hub's are ${known.join(', ')}`);
        return arn;
      })
    : known;
  const since = command.since ? Date.parse(command.since) : undefined;
  let candidates: string[];
  if (command.executionArns) {
    candidates = command.executionArns;
  } else {
    candidates = [];
    for (const stateMachineArn of machines) {
      for (const statusFilter of REDRIVABLE) {
        let nextToken: string | undefined;
        do {
          const page = await deps.sfn.send(
            new ListExecutionsCommand({ stateMachineArn, statusFilter, nextToken, maxResults: 100 }),
          );
          candidates.push(
            ...(page.executions ?? [])
              .filter(
                (execution: ExecutionListItem) =>
                  since === undefined || (execution.stopDate?.getTime() ?? 0) >= since,
              )
              .map((execution) => execution.executionArn ?? ''),
          );
          nextToken = page.nextToken;
        } while (nextToken);
      }
    }
  }
  const redriven: { executionArn: string; redriveDate: string }[] = [];
  const refused: { executionArn: string; why: string }[] = [];
  for (const executionArn of candidates) {
    if (deps.remainingMs() < SAFETY_MS) {
      refused.push({ executionArn, why: 'not tried: the invocation ran out of time; run it again' });
      continue;
    }
    try {
      const answer = await deps.sfn.send(new RedriveExecutionCommand({ executionArn }));
      redriven.push({ executionArn, redriveDate: answer.redriveDate?.toISOString() ?? '' });
    } catch (error) {
      // ExecutionNotRedrivable (an Express execution, one past 14 days, a redrive limit reached, …): say why.
      refused.push({ executionArn, why: `${(error as Error).name}: ${(error as Error).message}` });
    }
  }
  return { redriven, refused };
}
