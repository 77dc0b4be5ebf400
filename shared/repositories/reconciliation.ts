import { BatchWriteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Discrepancy } from '../reconcile/compare.ts';
import { queryAll } from './query.ts';

/**
 * The reconciliation table (ARCHITECTURE.md §5, `pk = RUN#<runId>`): one summary item per run
 * (`sk = RUN`) and one item per discrepancy (`sk = D#<00000n>`), plus a listing item per run under
 * `pk = RUNS` (`sk = <startedAt>#<runId>`) so the latest runs are one Query. Items expire
 * `retentionDays` after the run (DynamoDB TTL `expiresAt`): finance keeps its own books; the table is
 * for operators.
 */

export interface ReconciliationRun {
  readonly runId: string;
  readonly window: { readonly since: string; readonly until: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly heal: boolean;
  readonly counts: Readonly<Record<string, number>>;
  readonly healed: number;
  /** What each system answered (orders read, pages, calls), for the operator. */
  readonly read: Readonly<Record<string, number>>;
}

export interface StoredDiscrepancy extends Discrepancy {
  /** What heal did about it: `republished`, `parked` (a parked exception holds it), `enqueued`, or nothing. */
  readonly healing?: string;
}

const BATCH = 25;

export class DynamoReconciliationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays = 90,
  ) {}

  async save(run: ReconciliationRun, discrepancies: readonly StoredDiscrepancy[]): Promise<void> {
    const expiresAt = Math.floor(Date.parse(run.finishedAt) / 1000) + this.retentionDays * 86_400;
    const pk = `RUN#${run.runId}`;
    const items = discrepancies.map((d, index) => ({
      pk,
      sk: `D#${String(index).padStart(6, '0')}`,
      ...d,
      expiresAt,
    }));
    for (let start = 0; start < items.length; start += BATCH) {
      let pending = items.slice(start, start + BATCH).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 8) throw new Error(`reconciliation ${run.runId}: discrepancies not written`);
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending } }),
        );
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as typeof pending;
      }
    }
    // The summary last: a run whose summary exists has all its discrepancies stored.
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { pk, sk: 'RUN', ...run, expiresAt } }),
    );
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk: 'RUNS',
          sk: `${run.startedAt}#${run.runId}`,
          runId: run.runId,
          counts: run.counts,
          expiresAt,
        },
      }),
    );
  }

  /** The latest runs, newest first. */
  async latest(limit = 10): Promise<{ runId: string; startedAt: string; counts: Record<string, number> }[]> {
    const out: { runId: string; startedAt: string; counts: Record<string, number> }[] = [];
    for await (const item of queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': 'RUNS' },
      ScanIndexForward: false,
      Limit: limit,
    })) {
      out.push({
        runId: String(item.runId),
        startedAt: String(item.sk).split('#')[0] ?? '',
        counts: (item.counts ?? {}) as Record<string, number>,
      });
      if (out.length >= limit) break;
    }
    return out;
  }

  /** One run's discrepancies, in the order they were found. */
  async discrepancies(runId: string): Promise<StoredDiscrepancy[]> {
    const out: StoredDiscrepancy[] = [];
    for await (const item of queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :d)',
      ExpressionAttributeValues: { ':pk': `RUN#${runId}`, ':d': 'D#' },
    })) {
      const { pk: _pk, sk: _sk, expiresAt: _e, ...rest } = item;
      out.push(rest as unknown as StoredDiscrepancy);
    }
    return out;
  }
}
