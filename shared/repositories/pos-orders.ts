import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Which version of a POS order the hub first saw completed: that version is published as
 * `OrderCreated`, every other as `OrderUpdated`. The answer for a version never changes, so a
 * redelivery (or a retry after a failed publish) republishes the same detail-type under the same key.
 */
export interface PosOrderRegistry {
  /** Records `version` as the order's first completed version unless one is recorded; true when it is. */
  isFirstCompletion(merchantId: string, orderId: string, version: number): Promise<boolean>;
}

/** The partition key prefix of the POS markers: the POS ingress may write these partitions and no other. */
export const POS_MARKER_PREFIX = 'POSORDER#';

/**
 * The marker lives in the ledger table in its own partition (`pk = POSORDER#<merchant>#<order>`,
 * `sk = FIRST_COMPLETION`), apart from the ERP sync state (`ORDER#…`), so that IAM's
 * `dynamodb:LeadingKeys` can keep the POS ingress away from ERP leases. One conditional-free
 * UpdateItem (`if_not_exists`) decides atomically, whichever of two concurrent deliveries comes first.
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
        Key: { pk: `${POS_MARKER_PREFIX}${merchantId}#${orderId}`, sk: 'FIRST_COMPLETION' },
        UpdateExpression:
          'SET firstCompletedVersion = if_not_exists(firstCompletedVersion, :version), firstCompletedAt = if_not_exists(firstCompletedAt, :at)',
        ExpressionAttributeValues: { ':version': version, ':at': this.now().toISOString() },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return Number(result.Attributes?.firstCompletedVersion) === version;
  }
}
