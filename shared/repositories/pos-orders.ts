import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { orderKey } from './ledger.ts';

/**
 * Which version of a POS order the hub first saw completed: that version is published as
 * `OrderCreated`, every other as `OrderUpdated`. The answer for a version never changes, so a
 * redelivery (or a retry after a failed publish) republishes the same detail-type under the same key.
 */
export interface PosOrderRegistry {
  /** Records `version` as the order's first completed version unless one is recorded; true when it is. */
  isFirstCompletion(merchantId: string, orderId: string, version: number): Promise<boolean>;
}

/**
 * The marker lives in the ledger table beside the ERP sync state of the same order
 * (`pk = ORDER#pos#<merchant>#<order>`, `sk = POS`). One conditional-free UpdateItem
 * (`if_not_exists`) decides atomically, whichever of two concurrent deliveries comes first.
 */
export class DynamoPosOrderRegistry implements PosOrderRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async isFirstCompletion(merchantId: string, orderId: string, version: number): Promise<boolean> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: orderKey('pos', merchantId, orderId), sk: 'POS' },
        UpdateExpression:
          'SET firstCompletedVersion = if_not_exists(firstCompletedVersion, :version), firstCompletedAt = if_not_exists(firstCompletedAt, :at)',
        ExpressionAttributeValues: { ':version': version, ':at': this.now().toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Number(result.Attributes?.firstCompletedVersion) === version;
  }
}
