import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { effectiveOnHand, orderMovementId, type ProjectionInput } from '#shared/inventory/projection.ts';
import {
  InventoryContentionError,
  InventoryRepository,
  ShopifyItemSkuRepository,
} from '#shared/repositories/inventory.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

const { client, document } = localDynamo();
let table: string;

beforeAll(async () => {
  table = await createPkSkTable(client, 'inventory');
});

let keys = 0;
/** A position of its own per test, so tests never see each other's writes. */
const freshKey = () => ({ sku: `SKU-${++keys}-${Math.random().toString(36).slice(2, 6)}`, location: '7' });

const count = (sequence: number, quantity: number, books?: string): ProjectionInput => ({
  kind: 'erp-count',
  sequence,
  quantity,
  ...(books ? { books } : {}),
});
const sale = (movementId: string, delta = -1): ProjectionInput => ({
  kind: 'movement',
  source: 'pos',
  movementId,
  delta,
});

describe('InventoryRepository (DynamoDB Local)', () => {
  it('stores the position under SKU#<sku> / LOC#<location> and each movement marker with a TTL', async () => {
    const repo = new InventoryRepository(document, table, { now: () => 1_800_000_000_000 });
    const key = freshKey();
    await repo.apply(key, count(1, 10));
    await repo.apply(key, sale('m-1'));
    const item = await document.send(
      new GetCommand({ TableName: table, Key: { pk: `SKU#${key.sku}`, sk: 'LOC#7' } }),
    );
    expect(item.Item).toMatchObject({ sku: key.sku, location: '7', onHand: 10, erpSequence: 1, version: 2 });
    const marker = await document.send(
      new GetCommand({ TableName: table, Key: { pk: `SKU#${key.sku}`, sk: 'MOV#7#m-1' } }),
    );
    expect(marker.Item).toMatchObject({ state: 'pending', expiresAt: 1_800_000_000 + 14 * 24 * 3600 });
  });

  it('applies duplicates and out-of-order inputs as the rules say: older counts stale, movements once', async () => {
    const repo = new InventoryRepository(document, table);
    const key = freshKey();
    const id = orderMovementId('POS-1', key.sku);
    const outcomes = [];
    for (const input of [
      count(5, 10),
      count(3, 99),
      sale(id, -2),
      sale(id, -2),
      count(6, 8, id),
      sale(id, -2),
    ])
      outcomes.push((await repo.apply(key, input)).outcome);
    expect(outcomes).toEqual(['applied', 'stale', 'applied', 'duplicate', 'applied', 'duplicate']);
    const position = await repo.get(key);
    expect(position).toMatchObject({ onHand: 8, erpSequence: 6, pending: {} });
  });

  it('loses no movement when many writers hit one position at once', async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 100 });
    const key = freshKey();
    await repo.apply(key, count(1, 100));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => repo.apply(key, sale(`sale-${i}`, -1))),
    );
    expect(results.every((r) => r.outcome === 'applied')).toBe(true);
    const position = await repo.get(key);
    expect(Object.keys(position.pending)).toHaveLength(20);
    expect(effectiveOnHand(position)).toBe(80);
    expect(position.version).toBe(21);
  });

  it('counts a movement delivered many times at once exactly once', async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 50 });
    const key = freshKey();
    await repo.apply(key, count(1, 10));
    const results = await Promise.all(Array.from({ length: 8 }, () => repo.apply(key, sale('twice', -3))));
    expect(results.filter((r) => r.outcome === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(7);
    expect(effectiveOnHand(await repo.get(key))).toBe(7);
  });

  it('keeps the newest of concurrent out-of-order counts', async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 50 });
    const key = freshKey();
    const sequences = [7, 2, 9, 4, 10, 1, 8, 3, 6, 5];
    await Promise.all(sequences.map((s) => repo.apply(key, count(s, s * 10))));
    expect(await repo.get(key)).toMatchObject({ onHand: 100, erpSequence: 10 });
  });

  it('settles a sale racing the ERP booking of it to the booked count, in either order', async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 50 });
    for (let round = 0; round < 5; round += 1) {
      const key = freshKey();
      const id = orderMovementId(`POS-${round}`, key.sku);
      await repo.apply(key, count(1, 10));
      await Promise.all([repo.apply(key, sale(id, -2)), repo.apply(key, count(2, 8, id))]);
      const position = await repo.get(key);
      expect(position.pending).toEqual({});
      expect(effectiveOnHand(position)).toBe(8);
    }
  });

  it('gives up with a retryable contention error when it keeps losing races', async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 1 });
    const key = freshKey();
    await repo.apply(key, count(1, 10));
    const settled = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => repo.apply(key, sale(`race-${i}`))),
    );
    const failures = settled.filter((r) => r.status === 'rejected');
    expect(failures.length).toBeGreaterThan(0);
    for (const failure of failures) {
      expect(failure.reason).toBeInstanceOf(InventoryContentionError);
      expect((failure.reason as InventoryContentionError).retryable).toBe(true);
    }
    // Exactly the writes that succeeded are stored.
    const applied = settled.length - failures.length;
    expect(Object.keys((await repo.get(key)).pending)).toHaveLength(applied);
  });

  it("records a publisher's channel state alongside concurrent movements, never moving it backwards", async () => {
    const repo = new InventoryRepository(document, table, { maxAttempts: 50 });
    const key = freshKey();
    await repo.apply(key, count(1, 10));
    const [recorded] = await Promise.all([
      repo.recordChannelState(key, {
        channel: 'shopify',
        quantity: 10,
        committed: 1,
        at: 2_000,
        published: { quantity: 10, at: 2_000, key: 'k-1' },
      }),
      repo.apply(key, sale('concurrent', -1)),
    ]);
    expect(recorded).toBe(true);
    expect(await repo.recordChannelState(key, { channel: 'shopify', quantity: 3, at: 1_000 })).toBe(false);
    const position = await repo.get(key);
    expect(position).toMatchObject({
      committed: 1,
      confirmed: { shopify: { quantity: 10, at: 2_000 } },
      published: { shopify: { quantity: 10, key: 'k-1' } },
    });
    expect(Object.keys(position.pending)).toEqual(['concurrent']);
  });

  it('reads many positions in the order asked, empty ones for keys never written', async () => {
    const repo = new InventoryRepository(document, table);
    const written = Array.from({ length: 120 }, () => freshKey());
    await Promise.all(written.map((key, i) => repo.apply(key, count(1, i))));
    const missing = freshKey();
    const positions = await repo.getMany([...written, missing]);
    expect(positions.map((p) => p.onHand)).toEqual([...written.map((_, i) => i), 0]);
    expect(positions.at(-1)).toMatchObject({ sku: missing.sku, erpSequence: -1, version: 0 });
  });

  it("finds a SKU's positions where Shopify's committed was last seen above 0 (committed stock from orders)", async () => {
    const repo = new InventoryRepository(document, table);
    const sku = freshKey().sku;
    await Promise.all(['1', '2', '3'].map((location) => repo.apply({ sku, location }, count(1, 10))));
    await repo.recordChannelState(
      { sku, location: '2' },
      { channel: 'shopify', quantity: 7, committed: 3, at: 5 },
    );
    await repo.recordChannelState(
      { sku, location: '3' },
      { channel: 'shopify', quantity: 10, committed: 0, at: 5 },
    );
    const found = await repo.withCommitted(sku);
    expect(found.map((p) => [p.location, p.committed])).toEqual([['2', 3]]);
    expect(await repo.withCommitted(`${sku}-other`)).toEqual([]);
  });
});

describe('ShopifyItemSkuRepository (DynamoDB Local)', () => {
  it('records inventory item → SKU pairs by the GID the publisher resolves; reads them by the id webhooks carry', async () => {
    const id = String(Date.now());
    const writer = new ShopifyItemSkuRepository(document, table);
    await writer.record([{ inventoryItemId: `gid://shopify/InventoryItem/${id}`, sku: 'SKU-ITEM-1' }]);
    const stored = await document.send(
      new GetCommand({ TableName: table, Key: { pk: `SHOPIFYITEM#${id}`, sk: 'SKU' } }),
    );
    expect(stored.Item?.sku).toBe('SKU-ITEM-1');
    // Another instance (the projector) with a cold cache.
    const reader = new ShopifyItemSkuRepository(document, table);
    expect(await reader.skuOf(id)).toBe('SKU-ITEM-1');
    expect(await reader.skuOf(`${id}9`)).toBeUndefined();
  });
});
