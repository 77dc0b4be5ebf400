import { type DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';

/** Where the POS sweep resumes: the end of the last time range it completed, per merchant. */
export interface SweepCursorStore {
  get(merchantId: string): Promise<string | undefined>;
  put(merchantId: string, sweptUntil: string): Promise<void>;
}

/** The partition key prefix of sweep cursors: the sweep may write these partitions (and POSORDER#). */
export const POS_SWEEP_PREFIX = 'POSSWEEP#';

/** One item per merchant in the ledger table: `pk = POSSWEEP#<merchant>`, `sk = CURSOR`. */
export class DynamoSweepCursorStore implements SweepCursorStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(merchantId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `${POS_SWEEP_PREFIX}${merchantId}`, sk: 'CURSOR' },
        ConsistentRead: true,
      }),
    );
    const value = result.Item?.sweptUntil;
    return typeof value === 'string' ? value : undefined;
  }

  async put(merchantId: string, sweptUntil: string): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: { pk: `${POS_SWEEP_PREFIX}${merchantId}`, sk: 'CURSOR', sweptUntil },
      }),
    );
  }
}
