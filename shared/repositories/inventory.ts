import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { HubError } from '../errors.ts';
import {
  type Applied,
  apply,
  type ChannelState,
  emptyPosition,
  type MarkerState,
  markerIdsOf,
  type Position,
  type ProjectionInput,
  type ProjectionOptions,
  recordChannelState,
} from '../inventory/projection.ts';

/**
 * The inventory table (`pk = SKU#<sku>`): one item per location (`sk = LOC#<location>`) holding the
 * {@link Position}, and one marker per movement id (`sk = MOV#<location>#<movementId>`, TTL
 * `expiresAt`) that makes each movement count once.
 *
 * Every write is a read-modify-write under optimistic concurrency: the position and the markers an
 * input names are read in one `TransactGetItems`, the pure rules ({@link apply}) decide, and one
 * `TransactWriteItems` writes the position (condition: the version read) and the markers (condition:
 * the state read). A concurrent writer, a duplicate delivered twice at once, or an out-of-order event
 * racing another makes a condition fail; the write is then re-read and re-decided, so the stored
 * result is the one a serial application gives.
 */

/** The partition key prefix of the inventory table's positions and movement markers. */
export const INVENTORY_KEY_PREFIX = 'SKU#';
/** The partition key prefix of the change-feed cursors in the same table. */
export const FEED_KEY_PREFIX = 'FEED#';
/** The partition key prefix of the Shopify inventory item → SKU references in the same table. */
export const SHOPIFY_ITEM_KEY_PREFIX = 'SHOPIFYITEM#';

export interface PositionKey {
  readonly sku: string;
  readonly location: string;
}

const pk = (sku: string) => `${INVENTORY_KEY_PREFIX}${sku}`;
const positionSk = (location: string) => `LOC#${location}`;
const markerSk = (location: string, movementId: string) => `MOV#${location}#${movementId}`;

/** Too many concurrent writers on one position: retry the input later (the SQS redrive does). */
export class InventoryContentionError extends HubError {
  readonly code = 'INVENTORY_CONTENTION';
  readonly retryable = true;
}

export interface InventoryRepositoryOptions {
  /** Attempts of one read-modify-write before {@link InventoryContentionError}. @default 8 */
  readonly maxAttempts?: number;
  /**
   * How long a movement marker is kept: a duplicate delivered later than this would count again, so
   * it must outlast every redelivery (SQS keeps messages up to 14 days). @default 14 days
   */
  readonly markerTtlSeconds?: number;
  /** Clock (epoch ms). @default Date.now */
  readonly now?: () => number;
  /** Passed to {@link apply}. */
  readonly pendingTtlMs?: number;
}

function positionOf(item: Record<string, unknown> | undefined, key: PositionKey): Position {
  if (!item) return emptyPosition(key.sku, key.location);
  const empty = emptyPosition(key.sku, key.location);
  return {
    ...empty,
    onHand: Number(item.onHand ?? 0),
    erpSequence: Number(item.erpSequence ?? -1),
    erpDeltas: (item.erpDeltas as Position['erpDeltas'] | undefined) ?? [],
    pending: (item.pending as Position['pending'] | undefined) ?? {},
    committed: Number(item.committed ?? 0),
    reserved: Number(item.reserved ?? 0),
    observed: (item.observed as Position['observed'] | undefined) ?? {},
    published: (item.published as Position['published'] | undefined) ?? {},
    confirmed: (item.confirmed as Position['confirmed'] | undefined) ?? {},
    ...(item.changedAt !== undefined ? { changedAt: Number(item.changedAt) } : {}),
    version: Number(item.version ?? 0),
  };
}

function itemOf(position: Position, now: number): Record<string, unknown> {
  return {
    pk: pk(position.sku),
    sk: positionSk(position.location),
    sku: position.sku,
    location: position.location,
    onHand: position.onHand,
    erpSequence: position.erpSequence,
    erpDeltas: position.erpDeltas,
    pending: position.pending,
    committed: position.committed,
    reserved: position.reserved,
    observed: position.observed,
    published: position.published,
    confirmed: position.confirmed,
    ...(position.changedAt !== undefined ? { changedAt: position.changedAt } : {}),
    version: position.version + 1,
    updatedAt: new Date(now).toISOString(),
  };
}

/** The condition that the position is still the one read (absent, or at the version read). */
function unchangedSince(read: Position, exists: boolean) {
  return exists
    ? {
        ConditionExpression: 'version = :read',
        ExpressionAttributeValues: { ':read': read.version },
      }
    : { ConditionExpression: 'attribute_not_exists(pk)' };
}

/** A short jittered wait after a lost race, so racing writers spread out instead of colliding again. */
const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(attempt, 5)));

const isConflict = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  (error.CancellationReasons ?? []).some(
    (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
  );

export class InventoryRepository {
  private readonly maxAttempts: number;
  private readonly markerTtlSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: InventoryRepositoryOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.markerTtlSeconds = options.markerTtlSeconds ?? 14 * 24 * 60 * 60;
    this.now = options.now ?? Date.now;
  }

  /** One position (strongly consistent); an empty one when nothing was applied yet. */
  async get(key: PositionKey): Promise<Position> {
    const [position] = await this.read(key, []);
    return position.value;
  }

  /**
   * The positions of one SKU where Shopify's `committed` was last seen above 0 (one Query of the SKU's
   * partition, strongly consistent): where an online order's fulfilment or cancellation can lower it.
   */
  async withCommitted(sku: string): Promise<Position[]> {
    const out: Position[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :loc)',
          FilterExpression: 'committed > :zero',
          ExpressionAttributeValues: { ':pk': pk(sku), ':loc': 'LOC#', ':zero': 0 },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? [])
        out.push(positionOf(item, { sku, location: String(item.location) }));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * Many positions (BatchGetItem, 100 keys a call, strongly consistent), in the order of `keys`;
   * positions never written come back empty.
   */
  async getMany(keys: readonly PositionKey[]): Promise<Position[]> {
    const found = new Map<string, Record<string, unknown>>();
    for (let start = 0; start < keys.length; start += 100) {
      let requested: Record<string, unknown>[] = keys
        .slice(start, start + 100)
        .map((k) => ({ pk: pk(k.sku), sk: positionSk(k.location) }));
      for (let attempt = 0; requested.length > 0; attempt += 1) {
        if (attempt > 8) throw new InventoryContentionError('BatchGetItem kept returning unprocessed keys');
        if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 25 * 2 ** attempt));
        const result = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: requested, ConsistentRead: true } },
          }),
        );
        for (const item of result.Responses?.[this.tableName] ?? []) found.set(`${item.pk}|${item.sk}`, item);
        requested = (result.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return keys.map((k) => positionOf(found.get(`${pk(k.sku)}|${positionSk(k.location)}`), k));
  }

  /**
   * Applies one input to one position, exactly as a serial application would (see the module doc).
   * Returns what it did; throws {@link InventoryContentionError} after `maxAttempts` lost races.
   */
  async apply(key: PositionKey, input: ProjectionInput, sourceAt?: number): Promise<Applied> {
    const ids = markerIdsOf(input);
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const [position, markers] = await this.read(key, ids);
      const now = this.now();
      const options: ProjectionOptions = {
        now,
        ...(this.options.pendingTtlMs !== undefined ? { pendingTtlMs: this.options.pendingTtlMs } : {}),
        ...(sourceAt !== undefined ? { sourceAt } : {}),
      };
      const applied = apply(position.value, input, markers, options);
      if (!applied.changed) return applied;
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: itemOf(applied.next, now),
                  ...unchangedSince(position.value, position.exists),
                },
              },
              ...Object.entries(applied.markers).map(([movementId, state]) => {
                const read = markers[movementId];
                return {
                  Put: {
                    TableName: this.tableName,
                    Item: {
                      pk: pk(key.sku),
                      sk: markerSk(key.location, movementId),
                      state,
                      at: new Date(now).toISOString(),
                      expiresAt: Math.floor(now / 1000) + this.markerTtlSeconds,
                    },
                    ...(read === undefined
                      ? { ConditionExpression: 'attribute_not_exists(pk)' }
                      : {
                          ConditionExpression: '#state = :read',
                          ExpressionAttributeNames: { '#state': 'state' },
                          ExpressionAttributeValues: { ':read': read },
                        }),
                  },
                };
              }),
            ],
          }),
        );
        return { ...applied, next: { ...applied.next, version: applied.next.version + 1 } };
      } catch (error) {
        if (!isConflict(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new InventoryContentionError(
      `SKU ${key.sku} at ${key.location}: lost ${this.maxAttempts} concurrent writes in a row`,
    );
  }

  /**
   * Records what a publisher wrote to or read from a channel (see {@link recordChannelState}); false
   * when the position already holds a newer channel state.
   */
  async recordChannelState(key: PositionKey, state: ChannelState): Promise<boolean> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const [position] = await this.read(key, []);
      const next = recordChannelState(position.value, state);
      if (next === undefined) return false;
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: itemOf(next, this.now()),
                  ...unchangedSince(position.value, position.exists),
                },
              },
            ],
          }),
        );
        return true;
      } catch (error) {
        if (!isConflict(error)) throw error;
        await backoff(attempt);
      }
    }
    throw new InventoryContentionError(
      `SKU ${key.sku} at ${key.location}: lost ${this.maxAttempts} concurrent writes in a row`,
    );
  }

  /** The position and the markers of `movementIds`, read together (TransactGetItems: one snapshot). */
  private async read(
    key: PositionKey,
    movementIds: readonly string[],
  ): Promise<[{ value: Position; exists: boolean }, Record<string, MarkerState | undefined>]> {
    const result = await this.client.send(
      new TransactGetCommand({
        TransactItems: [
          { Get: { TableName: this.tableName, Key: { pk: pk(key.sku), sk: positionSk(key.location) } } },
          ...movementIds.map((id) => ({
            Get: { TableName: this.tableName, Key: { pk: pk(key.sku), sk: markerSk(key.location, id) } },
          })),
        ],
      }),
    );
    const responses = result.Responses ?? [];
    const item = responses[0]?.Item;
    const markers: Record<string, MarkerState | undefined> = {};
    movementIds.forEach((id, i) => {
      const marker = responses[i + 1]?.Item;
      markers[id] = marker ? (marker.state as MarkerState) : undefined;
    });
    return [{ value: positionOf(item, key), exists: item !== undefined }, markers];
  }
}

/**
 * A change-feed cursor in the inventory table (`pk = FEED#<name>`, `sk = CURSOR`): the last entry id
 * whose events are on the bus. It only moves forward, and only from the value the poller read, so two
 * overlapping polls cannot move it backwards or skip a page.
 */
export class FeedCursorRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly name: string,
  ) {}

  private get key() {
    return { pk: `${FEED_KEY_PREFIX}${this.name}`, sk: 'CURSOR' };
  }

  /** The cursor (0 before the first poll). */
  async read(): Promise<number> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }),
    );
    return Number(result.Item?.position ?? 0);
  }

  /** Moves the cursor from `from` to `to` (> from); false when it is no longer at `from`. */
  async advance(from: number, to: number): Promise<boolean> {
    if (!(to > from)) throw new RangeError(`a cursor only moves forward (${from} → ${to})`);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #position = :to, updatedAt = :at',
          ConditionExpression:
            from === 0 ? 'attribute_not_exists(#position) OR #position = :from' : '#position = :from',
          ExpressionAttributeNames: { '#position': 'position' },
          ExpressionAttributeValues: { ':to': to, ':from': from, ':at': new Date().toISOString() },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

/**
 * Shopify inventory item → SKU, in the inventory table (`pk = SHOPIFYITEM#<inventory item id>`,
 * `sk = SKU`). Shopify's `inventory_levels/update` names the inventory item, not the SKU; the Shopify
 * publisher learns the pair when it resolves a SKU to publish it (the only items whose level the hub
 * manages) and records it here, so the projector can read the webhook as a position. Ids are the
 * numeric tail of the GID (what the webhook carries); Shopify ids are unique across shops.
 */
export class ShopifyItemSkuRepository {
  private readonly cache = new Map<string, string>();

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** Records the pairs not recorded yet by this instance (a put per pair: idempotent). */
  async record(pairs: readonly { readonly inventoryItemId: string; readonly sku: string }[]): Promise<void> {
    const fresh = pairs.filter((p) => this.cache.get(numericId(p.inventoryItemId)) !== p.sku);
    for (let start = 0; start < fresh.length; start += 25) {
      await Promise.all(
        fresh.slice(start, start + 25).map(async (p) => {
          const id = numericId(p.inventoryItemId);
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: { pk: `${SHOPIFY_ITEM_KEY_PREFIX}${id}`, sk: 'SKU', sku: p.sku },
            }),
          );
          this.cache.set(id, p.sku);
        }),
      );
    }
  }

  /** The SKU of an inventory item (id or GID); undefined when the publisher never resolved it. */
  async skuOf(inventoryItemId: string): Promise<string | undefined> {
    const id = numericId(inventoryItemId);
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: `${SHOPIFY_ITEM_KEY_PREFIX}${id}`, sk: 'SKU' },
        ConsistentRead: true,
      }),
    );
    const sku = typeof result.Item?.sku === 'string' ? result.Item.sku : undefined;
    if (sku !== undefined) this.cache.set(id, sku);
    return sku;
  }
}

/** `gid://shopify/InventoryItem/123` → `123` (an id without a GID stays as it is). */
const numericId = (id: string) => id.slice(id.lastIndexOf('/') + 1);
