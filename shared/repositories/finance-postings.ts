import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/** The partition key prefix of finance postings in the ledger table: the poster writes these and no other. */
export const FINANCE_POSTING_PREFIX = 'FINANCE#';

/** What the hub posted to the ERP for one payout or store-day (`pk = FINANCE#<externalId>`, `sk = JOURNAL`). */
export interface FinancePosting {
  readonly externalId: string;
  readonly erpInternalId: string;
  /** When the posted figures were collected: an older collection never overwrites a newer one. */
  readonly collectedAt: string;
  readonly digest: string;
  readonly postedAt: string;
}

export class FinancePostingRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(externalId: string): Promise<FinancePosting | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `${FINANCE_POSTING_PREFIX}${externalId}`, sk: 'JOURNAL' },
        ConsistentRead: true,
      }),
    );
    if (!Item) return undefined;
    return {
      externalId,
      erpInternalId: String(Item.erpInternalId),
      collectedAt: String(Item.collectedAt),
      digest: String(Item.digest),
      postedAt: String(Item.postedAt),
    };
  }

  /** Records a posting unless a newer collection was recorded; false when it was (this one is stale). */
  async record(posting: FinancePosting): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `${FINANCE_POSTING_PREFIX}${posting.externalId}`, sk: 'JOURNAL' },
          UpdateExpression:
            'SET erpInternalId = :id, collectedAt = :at, digest = :digest, postedAt = :posted',
          ConditionExpression: 'attribute_not_exists(collectedAt) OR collectedAt <= :at',
          ExpressionAttributeValues: {
            ':id': posting.erpInternalId,
            ':at': posting.collectedAt,
            ':digest': posting.digest,
            ':posted': posting.postedAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}
