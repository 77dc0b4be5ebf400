/**
 * SQS's delivery guarantees for standard queues, made visible (Amazon SQS Developer Guide, "Amazon SQS standard
 * queues": "At-least-once delivery … on rare occasions, one of the servers that stores a copy of a message might be
 * unavailable when you receive or delete a message. If that occurs, the copy isn't deleted on that unavailable
 * server, and you might get that message copy again when you receive messages"; "Best-effort ordering …
 * occasionally, messages are delivered in an order different from which they were sent"):
 *
 * - a duplicate is the same message (same MessageId, body, attributes) received again later, with its own receipt
 *   handle, even after the first copy was deleted; it comes back after the visibility timeout until it is deleted
 *   too (at most `MAX_DUPLICATE_RECEIVES` times);
 * - reordering shuffles the messages of a receive and holds some sent messages back one to three seconds, so later
 *   ones overtake them.
 *
 * FIFO queues keep their guarantees (exactly-once processing, order per message group): chaos leaves them alone.
 * Only the JSON protocol (SDK v3, which the functions use) is subject to duplicates and shuffling.
 */
import { randomUUID } from 'node:crypto';
import type { Chaos } from '../chaos.ts';
import type { SqsCall } from '../iam/guards.ts';
import type { SqsAnswer } from './protocol.ts';

const DUPLICATE_PREFIX = 'chaos-duplicate-';
/** A duplicate nobody deletes stops coming back after this many receives. */
const MAX_DUPLICATE_RECEIVES = 5;

interface Duplicate {
  readonly message: Record<string, unknown>;
  visibleAt: number;
  receives: number;
  handle?: string;
}

/** What the chaos layer needs to know about the queues. */
export interface QueueFacts {
  /** Queue name from a URL. */
  nameOf(url: string): string;
  isFifo(name: string): boolean;
  delaySeconds(name: string): number;
  visibilityTimeout(name: string): number;
}

/** The front end's decision for one call: forward it (maybe rewritten), answer it, and/or adjust the answer. */
export interface ChaosStep {
  /** Answer without asking the emulator. */
  readonly answer?: SqsAnswer;
  /** Forward this input instead (JSON). */
  readonly input?: Record<string, unknown>;
  /** Adjust the emulator's answer. */
  readonly after?: (answer: SqsAnswer) => SqsAnswer;
}

function jsonAnswer(body: unknown): SqsAnswer {
  return {
    status: 200,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': randomUUID() },
    body: JSON.stringify(body),
  };
}

function parse(answer: SqsAnswer): Record<string, unknown> | undefined {
  if (answer.status !== 200) return undefined;
  try {
    return JSON.parse(answer.body || '{}') as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Duplicates and reordering for the SQS front end, per queue. */
export class SqsChaos {
  private readonly duplicates = new Map<string, Duplicate[]>();

  constructor(
    private readonly chaos: Chaos,
    private readonly queues: QueueFacts,
  ) {}

  /** Decides what to do with one call before the emulator sees it. */
  step(call: SqsCall): ChaosStep {
    if (!call.json) return {};
    const name = this.queues.nameOf(String(call.input.QueueUrl ?? ''));
    if (!name || this.queues.isFifo(name)) return {};
    switch (call.operation) {
      case 'SendMessage':
        return { input: this.delayed(name, call.input) };
      case 'SendMessageBatch':
        return {
          input: {
            ...call.input,
            Entries: ((call.input.Entries as Record<string, unknown>[] | undefined) ?? []).map((entry) =>
              this.delayed(name, entry),
            ),
          },
        };
      case 'ReceiveMessage':
        return { after: (answer) => this.received(name, call.input, answer) };
      case 'DeleteMessage':
      case 'ChangeMessageVisibility':
        return this.single(name, call);
      case 'DeleteMessageBatch':
      case 'ChangeMessageVisibilityBatch':
        return this.batch(name, call);
      default:
        return {};
    }
  }

  /** Holds a message back 1–3 s more than it would wait anyway, so messages sent after it overtake it. */
  private delayed(queue: string, message: Record<string, unknown>): Record<string, unknown> {
    if (!this.chaos.chance(this.chaos.reorderRate)) return message;
    this.chaos.counters.sqsReorders += 1;
    const delay = Number(message.DelaySeconds ?? this.queues.delaySeconds(queue));
    return { ...message, DelaySeconds: Math.min(900, delay + this.chaos.between(1, 3)) };
  }

  private received(queue: string, input: Record<string, unknown>, answer: SqsAnswer): SqsAnswer {
    const body = parse(answer);
    if (!body) return answer;
    const messages = [...((body.Messages as Record<string, unknown>[] | undefined) ?? [])];
    const now = Date.now();
    const list = this.duplicates.get(queue) ?? [];
    for (const message of messages) {
      if (!this.chaos.chance(this.chaos.duplicateRate)) continue;
      this.chaos.counters.sqsDuplicates += 1;
      list.push({ message, visibleAt: now + this.chaos.between(500, 2000), receives: 0 });
    }
    const max = Number(input.MaxNumberOfMessages ?? 1);
    const visibility = Number(input.VisibilityTimeout ?? this.queues.visibilityTimeout(queue));
    for (const duplicate of list) {
      if (messages.length >= max) break;
      if (duplicate.visibleAt > now) continue;
      duplicate.receives += 1;
      duplicate.handle = `${DUPLICATE_PREFIX}${randomUUID()}`;
      duplicate.visibleAt = now + visibility * 1000;
      const attributes = (duplicate.message.Attributes as Record<string, string> | undefined) ?? {};
      messages.push({
        ...duplicate.message,
        ReceiptHandle: duplicate.handle,
        Attributes: {
          ...attributes,
          ApproximateReceiveCount: String(
            Number(attributes.ApproximateReceiveCount ?? 1) + duplicate.receives,
          ),
        },
      });
    }
    this.duplicates.set(
      queue,
      list.filter((duplicate) => duplicate.receives < MAX_DUPLICATE_RECEIVES),
    );
    if (messages.length > 1 && this.chaos.chance(this.chaos.reorderRate)) {
      this.chaos.counters.sqsReorders += 1;
      for (let index = messages.length - 1; index > 0; index -= 1) {
        const other = Math.floor(this.chaos.random() * (index + 1));
        [messages[index], messages[other]] = [messages[other] as never, messages[index] as never];
      }
    }
    if (messages.length === 0) return answer;
    return { ...answer, body: JSON.stringify({ ...body, Messages: messages }) };
  }

  /** Applies a delete or visibility change to a duplicate's receipt handle; false when it is not one. */
  private applyToDuplicate(queue: string, operation: string, entry: Record<string, unknown>): boolean {
    const handle = String(entry.ReceiptHandle ?? '');
    if (!handle.startsWith(DUPLICATE_PREFIX)) return false;
    const list = this.duplicates.get(queue) ?? [];
    const duplicate = list.find((candidate) => candidate.handle === handle);
    if (duplicate && operation.startsWith('Delete')) list.splice(list.indexOf(duplicate), 1);
    else if (duplicate) duplicate.visibleAt = Date.now() + Number(entry.VisibilityTimeout ?? 0) * 1000;
    return true;
  }

  private single(queue: string, call: SqsCall): ChaosStep {
    return this.applyToDuplicate(queue, call.operation, call.input) ? { answer: jsonAnswer({}) } : {};
  }

  private batch(queue: string, call: SqsCall): ChaosStep {
    const entries = (call.input.Entries as Record<string, unknown>[] | undefined) ?? [];
    const handled = entries.filter((entry) => this.applyToDuplicate(queue, call.operation, entry));
    if (handled.length === 0) return {};
    const successful = handled.map((entry) => ({ Id: entry.Id }));
    const rest = entries.filter((entry) => !handled.includes(entry));
    if (rest.length === 0) return { answer: jsonAnswer({ Successful: successful, Failed: [] }) };
    return {
      input: { ...call.input, Entries: rest },
      after: (answer) => {
        const body = parse(answer);
        if (!body) return answer;
        return {
          ...answer,
          body: JSON.stringify({
            ...body,
            Successful: [...((body.Successful as unknown[] | undefined) ?? []), ...successful],
          }),
        };
      },
    };
  }
}
