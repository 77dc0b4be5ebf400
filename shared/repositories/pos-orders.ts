import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Which version of a POS order the hub first saw completed: that version is published as
 * `OrderCreated`, every other as `OrderUpdated`. The answer for a version never changes, so a
 * redelivery (or a retry after a failed publish) republishes the same detail-type under the same key.
 */
export interface PosOrderRegistry {
  /** Records `version` as the order's first completed version unless one is recorded; true when it is. */
  isFirstCompletion(merchantId: string, orderId: string, version: number): Promise<boolean>;
  /**
   * Records that version `version` of an order (key = order id) or refund (`refund:<id>`) was published
   * or parked, keeping the highest: the sweep skips what a webhook already captured.
   */
  markCaptured?(merchantId: string, key: string, version: number): Promise<void>;
  /** The highest captured version of an order or refund; undefined when none was captured. */
  capturedVersion?(merchantId: string, key: string): Promise<number | undefined>;
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

  /** `capturedVersion` on the `CAPTURED` item of the order's partition, only ever raised. */
  async markCaptured(merchantId: string, key: string, version: number): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `${POS_MARKER_PREFIX}${merchantId}#${key}`, sk: 'CAPTURED' },
          UpdateExpression: 'SET capturedVersion = :version, capturedAt = :at',
          ConditionExpression: 'attribute_not_exists(capturedVersion) OR capturedVersion < :version',
          ExpressionAttributeValues: { ':version': version, ':at': this.now().toISOString() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async capturedVersion(merchantId: string, key: string): Promise<number | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `${POS_MARKER_PREFIX}${merchantId}#${key}`, sk: 'CAPTURED' },
        ConsistentRead: true,
      }),
    );
    const version = result.Item?.capturedVersion;
    return version === undefined ? undefined : Number(version);
  }
}
