import { randomUUID } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { LogSink, Telemetry } from '../runtime/observability.ts';

/**
 * The path of one transaction through the hub, as checkpoints in the trace table (pk `TX#<transactionId>`),
 * so an operator sees in one command where an order is and where it stopped (`npm run -s ops -- trace`).
 * A checkpoint also indexes the vendor ids it knows (a Shopify order id, a webhook id: pk `REF#<id>`), so
 * the trace can start from whatever id the operator has. Everything expires (TTL) after `retentionDays`.
 *
 * Tracing is an aid, never a step: a checkpoint that cannot be written is logged and counted
 * (`TraceCheckpointFailed`) and the business step goes on.
 */
export const TRACE_STEPS = [
  'received',
  'published',
  'queued',
  'erp-posted',
  'channel-updated',
  'parked',
  'failed',
  'replayed',
] as const;
export type TraceStep = (typeof TRACE_STEPS)[number];

/** Days a checkpoint is kept. @see TraceWriterOptions.retentionDays */
export const DEFAULT_TRACE_RETENTION_DAYS = 14;

export interface Checkpoint {
  readonly transactionId: string;
  readonly step: TraceStep;
  /** UTC ISO-8601. */
  readonly at: string;
  /** Which function (Powertools service) wrote it. */
  readonly service: string;
  /** Vendor ids this checkpoint knows the transaction by (Shopify order id, webhook id, …). */
  readonly refs?: readonly string[];
  /** A few short facts (ids, codes, a reason): never a payload. */
  readonly detail?: Readonly<Record<string, string | number | boolean>>;
}

export interface CheckpointInput {
  readonly transactionId: string;
  readonly step: TraceStep;
  readonly refs?: readonly (string | undefined)[];
  readonly detail?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** @default now */
  readonly at?: string;
}

/** What the handlers call: neither method ever throws. */
export interface TraceRecorder {
  checkpoint(input: CheckpointInput): Promise<void>;
  /** Several checkpoints in one write (one DynamoDB call for up to 25 items with their refs). */
  checkpoints(inputs: readonly CheckpointInput[]): Promise<void>;
}

/** A recorder that records nothing (a function without a trace table, unit tests). */
export const NO_TRACE: TraceRecorder = { checkpoint: async () => {}, checkpoints: async () => {} };

export interface TraceWriterOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  readonly service: string;
  readonly log: LogSink;
  readonly telemetry: Telemetry;
  /** @default DEFAULT_TRACE_RETENTION_DAYS */
  readonly retentionDays?: number;
  /** @default the system clock */
  readonly now?: () => Date;
}

const MAX_DETAIL_CHARS = 300;
/** BatchWriteItem takes at most 25 put requests. */
const BATCH_LIMIT = 25;

/**
 * Writes checkpoints to the trace table with BatchWriteItem: a step's checkpoints and their refs cost one
 * call, so tracing adds one round trip to a webhook's answer, not one per item. Unprocessed items are
 * retried once; what still fails is logged and counted, never thrown.
 */
export class TraceWriter implements TraceRecorder {
  constructor(private readonly options: TraceWriterOptions) {}

  checkpoint(input: CheckpointInput): Promise<void> {
    return this.checkpoints([input]);
  }

  async checkpoints(inputs: readonly CheckpointInput[]): Promise<void> {
    const { documents, tableName } = this.options;
    try {
      const items = inputs.flatMap((input) => this.items(input));
      for (let start = 0; start < items.length; start += BATCH_LIMIT) {
        let requests = items.slice(start, start + BATCH_LIMIT).map((Item) => ({ PutRequest: { Item } }));
        for (let attempt = 0; requests.length > 0; attempt += 1) {
          if (attempt === 2) throw new Error(`${requests.length} trace item(s) left unprocessed`);
          const answer = await documents.send(
            new BatchWriteCommand({ RequestItems: { [tableName]: requests } }),
          );
          requests = (answer.UnprocessedItems?.[tableName] ?? []) as typeof requests;
        }
      }
    } catch (error) {
      this.options.telemetry.count('TraceCheckpointFailed');
      this.options.log.warn('trace checkpoint not written; the step goes on', {
        transactionId: inputs[0]?.transactionId,
        steps: inputs.map((input) => input.step),
        error: error as Error,
      });
    }
  }

  private items(input: CheckpointInput): Record<string, unknown>[] {
    const { service } = this.options;
    const now = this.options.now?.() ?? new Date();
    const at = input.at ?? now.toISOString();
    const expiresAt =
      Math.floor(now.getTime() / 1000) +
      (this.options.retentionDays ?? DEFAULT_TRACE_RETENTION_DAYS) * 24 * 3600;
    const refs = [...new Set(input.refs?.filter((ref): ref is string => !!ref) ?? [])];
    const detail = Object.fromEntries(
      Object.entries(input.detail ?? {})
        .filter(([, value]) => value !== undefined)
        .map(([key, value]) => [
          key,
          typeof value === 'string' && value.length > MAX_DETAIL_CHARS
            ? `${value.slice(0, MAX_DETAIL_CHARS)}…`
            : value,
        ]),
    );
    return [
      {
        pk: `TX#${input.transactionId}`,
        // Time first: a query returns the path in order; the suffix keeps two checkpoints of one ms apart.
        sk: `${at}#${input.step}#${randomUUID().slice(0, 8)}`,
        transactionId: input.transactionId,
        step: input.step,
        at,
        service,
        ...(refs.length ? { refs } : {}),
        ...(Object.keys(detail).length ? { detail } : {}),
        expiresAt,
      },
      ...refs.map((ref) => ({
        pk: `REF#${ref}`,
        sk: `TX#${input.transactionId}`,
        transactionId: input.transactionId,
        expiresAt,
      })),
    ];
  }
}

/** The trace recorder of a function: the table's writer, or nothing when the function has no trace table. */
export function traceRecorder(
  options: Omit<TraceWriterOptions, 'tableName'> & { readonly tableName: string | undefined },
): TraceRecorder {
  const { tableName } = options;
  return tableName ? new TraceWriter({ ...options, tableName }) : NO_TRACE;
}

/** Reads traces: by transaction id, or by any vendor id a checkpoint indexed. */
export class TraceReader {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** The checkpoints of every transaction `id` is or names, oldest first, grouped by transaction. */
  async trace(id: string): Promise<{ transactionId: string; checkpoints: Checkpoint[] }[]> {
    const direct = await this.query(`TX#${id}`);
    if (direct.length > 0) return [{ transactionId: id, checkpoints: direct.map(toCheckpoint) }];
    const refs = await this.query(`REF#${id}`);
    const result: { transactionId: string; checkpoints: Checkpoint[] }[] = [];
    for (const ref of refs) {
      const transactionId = String(ref.transactionId);
      result.push({
        transactionId,
        checkpoints: (await this.query(`TX#${transactionId}`)).map(toCheckpoint),
      });
    }
    return result.sort((a, b) => (a.checkpoints[0]?.at ?? '').localeCompare(b.checkpoints[0]?.at ?? ''));
  }

  private async query(pk: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.documents.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey,
        }),
      );
      items.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return items;
  }
}

function toCheckpoint(item: Record<string, unknown>): Checkpoint {
  return {
    transactionId: String(item.transactionId),
    step: item.step as TraceStep,
    at: String(item.at),
    service: String(item.service),
    ...(Array.isArray(item.refs) ? { refs: item.refs.map(String) } : {}),
    ...(item.detail ? { detail: item.detail as Record<string, string | number | boolean> } : {}),
  };
}
