import { randomUUID } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { PricePublishBusyError, type PublishLock } from '../catalog/price-flow.ts';

/**
 * The price function's publish lock: one item in the catalog table (`pk = PRICELEASE#publish`), taken with
 * a conditional put and given back with a conditional delete.
 *
 * - **Expiry = the holder's invocation deadline.** Lambda ends an invocation at its timeout, so a holder
 *   can never still be writing when its lease has expired; a holder that crashed or timed out frees the
 *   lock at that instant at the latest. No renewal is needed.
 * - **Waiting**: another instance polls (100 ms doubling to 1 s, jittered) while it has more than
 *   `reserveMs` of its own invocation left, then gives up with {@link PricePublishBusyError} (retryable:
 *   the batch item comes back; applying and publishing are idempotent).
 * - Clocks: instances' clocks are NTP-synchronised; the expiry is compared in DynamoDB against the
 *   caller's clock, so a skew of milliseconds shortens or lengthens a dead holder's lease by as much.
 */
export const PRICE_LEASE_PREFIX = 'PRICELEASE#';
const KEY = { pk: `${PRICE_LEASE_PREFIX}publish`, sk: 'lease' } as const;

export interface PricePublishLeaseOptions {
  /** This invocation's deadline (epoch ms): the lease's expiry. */
  readonly deadline: () => number;
  /** Time kept for publishing once the lock is held: waiting stops when less is left. @default 30 s */
  readonly reserveMs?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly onWait?: (waitedMs: number) => void;
  readonly onGiveBackError?: (error: Error) => void;
}

export class DynamoPricePublishLease implements PublishLock {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: PricePublishLeaseOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    const owner = randomUUID();
    const deadline = this.options.deadline();
    const giveUpAt = deadline - (this.options.reserveMs ?? 30_000);
    const started = this.now();
    for (let attempt = 0; !(await this.take(owner, deadline)); attempt += 1) {
      if (this.now() >= giveUpAt)
        throw new PricePublishBusyError(
          `another instance kept publishing prices for ${this.now() - started} ms; the batch item comes back`,
        );
      const backoff = Math.min(1000, 100 * 2 ** attempt);
      await this.sleep(
        Math.min(backoff / 2 + Math.random() * (backoff / 2), Math.max(1, giveUpAt - this.now())),
      );
    }
    if (this.now() > started) this.options.onWait?.(this.now() - started);
    try {
      return await fn();
    } finally {
      await this.give(owner);
    }
  }

  private async take(owner: string, expiresAt: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...KEY, owner, expiresAt, takenAt: new Date(this.now()).toISOString() },
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt < :now',
          ExpressionAttributeValues: { ':now': this.now() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Gives the lease back if it is still this holder's. A failure here is not the publish's: it only delays
   * the next holder to the expiry, so it is reported, not thrown (the prices are written).
   */
  private async give(owner: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: KEY,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner' },
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return;
      this.options.onGiveBackError?.(error as Error);
    }
  }
}
