import { BatchWriteCommand, type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';

/** What a mapping translates: a SKU to an ERP item, a location to an ERP location, a gateway to a payment method. */
export type MappingKind = 'item' | 'location' | 'payment-method';

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

  /** Loads mappings in batches of 25 (BatchWriteItem's limit), retrying unprocessed items. */
  async load(mappings: readonly Mapping[]): Promise<number> {
    for (let start = 0; start < mappings.length; start += 25) {
      let requests: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] =
        mappings.slice(start, start + 25).map((mapping) => ({
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
    this.cache.clear();
    return mappings.length;
  }
}
