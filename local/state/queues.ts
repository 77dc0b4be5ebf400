/**
 * Queue contents across restarts. The SQS emulator (`local-aws-sqs`) keeps messages in a private list; this
 * module follows every message into and out of each queue through the queue's own entry points — a message
 * is added by `newRecord` (SendMessage, SendMessageBatch, a redrive to the dead-letter queue, a move task),
 * removed by `delete` (DeleteMessage, a move task), by a redrive (the same message id appears in the DLQ),
 * by a purge (`clearRecords`) or by its retention period — and snapshots what is still there.
 *
 * Restored messages keep their id, body, attributes, message attributes and receive count (so
 * `maxReceiveCount` still counts receives from before the restart); a message that was in flight comes back
 * visible, as it would once its visibility timeout ran out. Not kept: the remaining delay of a delayed
 * message (it is available at once) and how much of its retention period had passed (it starts again).
 */
import type { LocalLogger } from '../types.ts';

/** A message as the emulator stores it. */
interface EmulatorRecord {
  MessageId: string;
  ReceiptHandle: string;
  MessageBody: string;
  attributes: Record<string, string>;
  MessageAttributes?: unknown;
  MD5OfMessageBody?: string;
  MD5OfMessageAttributes?: string;
}

/** The emulator's wrapper around a message: visibility and delay flags plus its timers. */
interface EmulatorEntry {
  visible: boolean;
  delayed: boolean;
  record: EmulatorRecord;
}

/** The parts of an emulator queue this module uses (instance properties and methods of `local-aws-sqs`). */
export interface EmulatorQueue {
  readonly QueueName: string;
  readonly MessageRetentionPeriod: number;
  newRecord: (record: EmulatorRecord, delaySeconds: number) => EmulatorEntry;
  delete(receiptHandle: string): boolean;
  clearRecords(): void;
}

/** The emulator service (`createRequestHandler(...).service`). */
export interface EmulatorService {
  readonly Queues: EmulatorQueue[];
}

/** A persisted message. */
export interface QueuedMessage {
  readonly record: EmulatorRecord;
  /** In flight when the snapshot was taken; restored visible. */
  readonly inFlight: boolean;
}

/** `{ queueName: messages }`, oldest first. */
export type QueueSnapshot = Record<string, QueuedMessage[]>;

/** The message id inside a receipt handle the emulator issued (a UUID followed by JSON). */
function messageIdOf(receiptHandle: string): string | undefined {
  try {
    const text = Buffer.from(receiptHandle, 'base64').toString('utf8');
    const parsed = JSON.parse(text.slice(text.indexOf('{'))) as { MessageId?: unknown };
    return typeof parsed.MessageId === 'string' ? parsed.MessageId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows the messages of every queue of `service` from now on. Call before the emulator serves requests;
 * `restore` then puts back a snapshot, `snapshot` takes one.
 */
export function trackQueues(service: EmulatorService, log: LocalLogger) {
  const tracked = new Map<string, Map<string, EmulatorEntry>>();
  for (const queue of service.Queues) {
    const entries = new Map<string, EmulatorEntry>();
    tracked.set(queue.QueueName, entries);
    const newRecord = queue.newRecord;
    queue.newRecord = (record, delaySeconds) => {
      const entry = newRecord(record, delaySeconds);
      // A redrive moves the message under its id: it has left every other queue.
      for (const [name, others] of tracked) if (name !== queue.QueueName) others.delete(record.MessageId);
      entries.set(record.MessageId, entry);
      return entry;
    };
    const remove = queue.delete.bind(queue);
    queue.delete = (receiptHandle) => {
      const deleted = remove(receiptHandle);
      const id = messageIdOf(receiptHandle);
      if (deleted && id) entries.delete(id);
      return deleted;
    };
    const clear = queue.clearRecords.bind(queue);
    queue.clearRecords = () => {
      clear();
      entries.clear();
    };
  }

  return {
    /** What is in every queue now, in flight included; messages past their retention period are left out. */
    snapshot(): QueueSnapshot {
      const now = Date.now();
      const snapshot: QueueSnapshot = {};
      for (const queue of service.Queues) {
        const entries = tracked.get(queue.QueueName);
        if (!entries) continue;
        const kept: QueuedMessage[] = [];
        for (const [id, entry] of entries) {
          const sent = Number(entry.record.attributes.SentTimestamp ?? now);
          if (sent + queue.MessageRetentionPeriod * 1000 <= now) {
            entries.delete(id);
            continue;
          }
          kept.push({ record: { ...entry.record, ReceiptHandle: '' }, inFlight: !entry.visible });
        }
        snapshot[queue.QueueName] = kept;
      }
      return snapshot;
    },

    /** Puts a snapshot's messages back, visible; messages of queues the template no longer has are dropped (logged). */
    restore(snapshot: QueueSnapshot): { restored: number; inFlight: number } {
      let restored = 0;
      let inFlight = 0;
      for (const [queueName, messages] of Object.entries(snapshot)) {
        const queue = service.Queues.find((candidate) => candidate.QueueName === queueName);
        if (!queue) {
          log.warn('local state: messages of a queue the template no longer has are dropped', {
            queue: queueName,
            messages: messages.length,
          });
          continue;
        }
        for (const message of messages) {
          queue.newRecord({ ...message.record, attributes: { ...message.record.attributes } }, 0);
          restored += 1;
          if (message.inFlight) inFlight += 1;
        }
      }
      return { restored, inFlight };
    },
  };
}
