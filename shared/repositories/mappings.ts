import {
  BatchGetCommand,
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';

/** What a mapping translates: a SKU to an ERP item, a location to an ERP location, a gateway to a payment method. */
export type MappingKind = 'item' | 'location' | 'payment-method';

/** The key of one mapping: what a lookup asks for. */
export interface MappingKey {
  readonly kind: MappingKind;
  readonly source: string;
  readonly sourceId: string;
}

export interface Mapping {
  readonly kind: MappingKind;
  /** Namespace of the source id: `sku`, `shopify`, `pos`, `gateway`. */
  readonly source: string;
  readonly sourceId: string;
  readonly target: string;
}

/**
 * Mapping tables (`pk = MAP#<kind>`, `sk = <source>#<sourceId>`, `target`): Shopify variant/SKU ↔ ERP
 * item, Shopify location / POS store ↔ ERP location, payment gateway ↔ ERP payment method. Lookups are
 * cached per warm function for `ttlMs` (misses too, briefly), since every order line needs one and the
 * tables change rarely; a fixed mapping is picked up within the TTL, so a replay after a fix posts.
 */
export class MappingRepository {
  private readonly cache = new Map<string, { value: string | undefined; expires: number }>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { ttlMs?: number; missTtlMs?: number; now?: () => number } = {},
  ) {}

  async lookup(kind: MappingKind, source: string, sourceId: string): Promise<string | undefined> {
    const now = this.options.now?.() ?? Date.now();
    const cacheKey = `${kind}|${source}|${sourceId}`;
    const cached = this.cache.get(cacheKey);
    if (cached && cached.expires > now) return cached.value;
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: `MAP#${kind}`, sk: `${source}#${sourceId}` } }),
    );
    const value = typeof result.Item?.target === 'string' ? result.Item.target : undefined;
    const ttl = value === undefined ? (this.options.missTtlMs ?? 10_000) : (this.options.ttlMs ?? 300_000);
    this.cache.set(cacheKey, { value, expires: now + ttl });
    return value;
  }

  /**
   * Warms the cache for many keys in one round trip per 100 (BatchGetItem's limit) — what a batch of
   * orders is about to look up — instead of a GetItem per order line. Keys already cached are skipped;
   * keys the table does not have are cached as misses, like `lookup` does.
   */
  async prefetch(keys: readonly MappingKey[]): Promise<void> {
    const now = this.options.now?.() ?? Date.now();
    const wanted = new Map<string, MappingKey>();
    for (const key of keys) {
      const cacheKey = `${key.kind}|${key.source}|${key.sourceId}`;
      const cached = this.cache.get(cacheKey);
      if (!(cached && cached.expires > now)) wanted.set(cacheKey, key);
    }
    const all = [...wanted.values()];
    for (let start = 0; start < all.length; start += 100) {
      const chunk = all.slice(start, start + 100);
      const found = new Map<string, string>();
      let requested: Record<string, unknown>[] = chunk.map((key) => ({
        pk: `MAP#${key.kind}`,
        sk: `${key.source}#${key.sourceId}`,
      }));
      for (let attempt = 0; requested.length > 0; attempt += 1) {
        if (attempt > 8) throw new Error('BatchGetItem kept returning unprocessed keys');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
        const result = await this.client.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: requested } } }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) {
          if (typeof item.target === 'string') found.set(`${item.pk}|${item.sk}`, item.target);
        }
        requested = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
      for (const key of chunk) {
        const value = found.get(`MAP#${key.kind}|${key.source}#${key.sourceId}`);
        const ttl =
          value === undefined ? (this.options.missTtlMs ?? 10_000) : (this.options.ttlMs ?? 300_000);
        this.cache.set(`${key.kind}|${key.source}|${key.sourceId}`, { value, expires: now + ttl });
      }
    }
  }

  /** Every mapping of a kind, as `<source>#<sourceId>` → target (a Query of the kind's partition). */
  async targets(kind: MappingKind): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `MAP#${kind}` },
          ProjectionExpression: 'sk, target',
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (typeof item.sk === 'string' && typeof item.target === 'string') out.set(item.sk, item.target);
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /**
   * Loads mappings in batches of 25 (BatchWriteItem's limit), `concurrency` batches at a time, retrying
   * unprocessed items.
   */
  async load(mappings: readonly Mapping[], concurrency = 4): Promise<number> {
    const batches: Mapping[][] = [];
    for (let start = 0; start < mappings.length; start += 25) batches.push(mappings.slice(start, start + 25));
    let next = 0;
    const worker = async () => {
      for (let batch = batches[next++]; batch !== undefined; batch = batches[next++])
        await this.writeBatch(batch);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, batches.length)) }, worker));
    this.cache.clear();
    return mappings.length;
  }

  private async writeBatch(batch: readonly Mapping[]): Promise<void> {
    let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] =
      batch.map((mapping) => ({
        PutRequest: {
          Item: {
            pk: `MAP#${mapping.kind}`,
            sk: `${mapping.source}#${mapping.sourceId}`,
            kind: mapping.kind,
            source: mapping.source,
            sourceId: mapping.sourceId,
            target: mapping.target,
            updatedAt: new Date().toISOString(),
          },
        },
      }));
    for (let attempt = 0; requests.length > 0; attempt += 1) {
      if (attempt > 8) throw new Error('BatchWriteItem kept returning unprocessed items');
      const result = await this.client.send(
        new BatchWriteCommand({ RequestItems: { [this.tableName]: requests } }),
      );
      requests = result.UnprocessedItems?.[this.tableName] ?? [];
      if (requests.length > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}
