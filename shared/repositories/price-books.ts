import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import type { PriceBook } from '../catalog/price-book.ts';
import type { BookKey, PriceBookStore, StoredBook } from '../catalog/price-flow.ts';

/**
 * Price books and due lists in a `pk`/`sk` table (the catalog table):
 * - a book: `pk = PRICEBOOK#<sku>`, `sk = <priceList>`, `{ book, version }`, written with a condition on
 *   `version` (compare-and-set: two consumers applying changes of one SKU never lose one);
 * - a due list: `pk = PRICEDUE#<instant ISO>`, `sk = <sku>#<priceList>` — one item per book, so adding
 *   and removing books of a 500-variant promotion never contend on one item, and the schedule's
 *   consumer reads the instant's books with one paged query.
 * Partition prefixes are the writer's (IAM `dynamodb:LeadingKeys` can scope the price function to them).
 */
export const PRICE_BOOK_PREFIX = 'PRICEBOOK#';
export const PRICE_DUE_PREFIX = 'PRICEDUE#';

const dueKey = (instant: number) => `${PRICE_DUE_PREFIX}${new Date(instant).toISOString()}`;
/** SKUs may contain `#`; the price list is the last segment and must not. */
const member = (k: BookKey) => `${k.sku}#${k.priceList}`;

export class DynamoPriceBookStore implements PriceBookStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(sku: string, priceList: string): Promise<StoredBook | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `${PRICE_BOOK_PREFIX}${sku}`, sk: priceList },
        ConsistentRead: true,
      }),
    );
    if (!result.Item) return undefined;
    return { book: result.Item.book as PriceBook, version: Number(result.Item.version) };
  }

  /**
   * The books of `keys` that exist (BatchGetItem, 100 keys a call, unprocessed keys retried with a short
   * backoff): the reconciler's read of the books a shop's variants should show.
   */
  async getMany(keys: readonly BookKey[]): Promise<PriceBook[]> {
    const out: PriceBook[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Record<string, unknown>[] = keys
        .slice(i, i + 100)
        .map((k) => ({ pk: `${PRICE_BOOK_PREFIX}${k.sku}`, sk: k.priceList }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 8) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed`);
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
        const result = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) out.push(item.book as PriceBook);
        pending = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return out;
  }

  async put(book: PriceBook, expectedVersion: number): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: `${PRICE_BOOK_PREFIX}${book.sku}`,
            sk: book.priceList,
            book,
            version: expectedVersion + 1,
          },
          ...(expectedVersion === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion } }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async addDue(instant: number, keys: readonly BookKey[]): Promise<void> {
    await this.batch(
      keys.map((k) => ({
        PutRequest: { Item: { pk: dueKey(instant), sk: member(k), sku: k.sku, priceList: k.priceList } },
      })),
    );
  }

  async removeDue(instant: number, keys: readonly BookKey[]): Promise<number> {
    await this.batch(keys.map((k) => ({ DeleteRequest: { Key: { pk: dueKey(instant), sk: member(k) } } })));
    const left = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': dueKey(instant) },
        Select: 'COUNT',
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    return left.Count ?? 0;
  }

  async due(instant: number): Promise<BookKey[]> {
    const out: BookKey[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': dueKey(instant) },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? [])
        out.push({ sku: String(item.sku), priceList: String(item.priceList) });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** BatchWriteItem in chunks of 25 (its limit), retrying unprocessed items with a short backoff. */
  private async batch(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt > 8) throw new Error(`BatchWriteItem left ${pending.length} items unprocessed`);
        if (attempt > 0)
          await new Promise((resolve) => setTimeout(resolve, Math.min(1000, 25 * 2 ** attempt)));
        const result = await this.client.send(
          new BatchWriteCommand({ RequestItems: { [this.tableName]: pending as never } }),
        );
        pending = (result.UnprocessedItems?.[this.tableName] ?? []) as Record<string, unknown>[];
      }
    }
  }
}
