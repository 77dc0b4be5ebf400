import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { dismissException, parseExceptionId } from '#shared/ops/dismiss-exception.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { LedgerRepository, orderKey } from '#shared/repositories/ledger.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

const { client, document } = localDynamo();
let ledgerTable: string;
let mappingTable: string;
let exceptionsTable: string;

beforeAll(async () => {
  ledgerTable = await createPkSkTable(client, 'ledger');
  mappingTable = await createPkSkTable(client, 'mappings');
  exceptionsTable = await createPkSkTable(client, 'exceptions');
});

const entry = (key: string, version: number) => ({
  orderKey: key,
  erpInternalId: `so-${version}`,
  externalId: 'shopify-acme.myshopify.com-1001',
  recordType: 'salesOrder',
  version,
  status: 'open' as const,
  transactionId: `tx-${version}`,
});

describe('LedgerRepository (DynamoDB Local)', () => {
  it('keeps the newest version: an older write is refused and counted as stale', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '1001');
    expect(await ledger.recordSync(entry(key, 200))).toBe(true);
    expect(await ledger.recordSync(entry(key, 100))).toBe(false);
    expect(await ledger.recordSync(entry(key, 200))).toBe(false);
    await ledger.recordStale(key, 100);
    expect(await ledger.get(key)).toMatchObject({ version: 200, erpInternalId: 'so-200', staleIgnored: 1 });
    expect(await ledger.recordSync(entry(key, 300))).toBe(true);
    expect((await ledger.get(key))?.version).toBe(300);
  });

  it('orders changes of the same second by status, then takes other content but refuses the same', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', 'same-second');
    const at = (status: 'open' | 'cancelled', contentDigest: string) => ({
      ...entry(key, 200),
      status,
      contentDigest,
    });
    expect(await ledger.recordSync(at('open', 'a'))).toBe(true);
    expect(await ledger.recordSync(at('cancelled', 'b'))).toBe(true);
    expect(await ledger.recordSync(at('open', 'c'))).toBe(false);
    expect(await ledger.recordSync(at('cancelled', 'b'))).toBe(false);
    expect(await ledger.recordSync(at('cancelled', 'd'))).toBe(true);
    expect(await ledger.get(key)).toMatchObject({ version: 200, status: 'cancelled', contentDigest: 'd' });
  });

  it('lets exactly one of concurrent writers of the same version win', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '2002');
    const results = await Promise.all(Array.from({ length: 8 }, () => ledger.recordSync(entry(key, 500))));
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('grants an order lease to one owner at a time, to the same owner again, and to others once expired or released', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '3003');
    expect(await ledger.acquire(key, 'a', 60_000)).toEqual({ entry: undefined, erpLines: {} });
    expect(await ledger.acquire(key, 'b', 60_000)).toBe(false);
    expect(await ledger.acquire(key, 'a', 60_000)).toBeTruthy();
    await ledger.release(key, 'b');
    expect(await ledger.acquire(key, 'b', 60_000)).toBe(false);
    await ledger.release(key, 'a');
    expect(await ledger.acquire(key, 'b', 1)).toBeTruthy();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await ledger.acquire(key, 'c', 60_000)).toBeTruthy();
    // A lease alone is no ledger entry.
    expect(await ledger.get(key)).toBeUndefined();
  });

  it('answers what was synced with the lease, and releases the lease with the sync of its holder only', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '3004');
    expect(await ledger.acquire(key, 'a', 60_000)).toBeTruthy();
    expect(await ledger.recordSync(entry(key, 100), 'b')).toBe(false);
    expect(await ledger.recordSync(entry(key, 100), 'a')).toBe(true);
    // Released by the sync: another owner gets it at once, with the entry.
    expect(await ledger.acquire(key, 'b', 60_000)).toMatchObject({
      entry: { version: 100, erpInternalId: 'so-100' },
    });
    expect(await ledger.acquire(key, 'a', 60_000)).toBe(false);
  });

  it('keeps the ERP line keys with the sync, and those of a parked write without a version', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '3005');
    const document_ = {
      erpInternalId: 'so-1',
      externalId: 'shopify-acme.myshopify.com-3005',
      recordType: 'salesOrder',
    };
    expect(await ledger.acquire(key, 'a', 60_000)).toBeTruthy();
    // A write whose total did not match: its lines are known, no version is synced.
    expect(await ledger.recordLines(key, document_, { 'line-1': '1' }, 'b')).toBe(false);
    expect(await ledger.recordLines(key, document_, { 'line-1': '1' }, 'a')).toBe(true);
    await ledger.release(key, 'a');
    expect(await ledger.acquire(key, 'b', 60_000)).toEqual({ entry: undefined, erpLines: { 'line-1': '1' } });
    const lines = { 'line-1': '1', 'line-2': '4', 'shipping-9': '2' };
    expect(await ledger.recordSync({ ...entry(key, 100), erpLines: lines }, 'b')).toBe(true);
    expect((await ledger.get(key))?.erpLines).toEqual(lines);
    expect(await ledger.acquire(key, 'c', 60_000)).toMatchObject({
      entry: { version: 100 },
      erpLines: lines,
    });
  });

  it('lets exactly one of concurrent lease requests win', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '4004');
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, index) => ledger.acquire(key, `owner-${index}`, 60_000)),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it('finds nothing for an order never synced', async () => {
    expect(
      await new LedgerRepository(document, ledgerTable).get(orderKey('pos', 'm1', 'none')),
    ).toBeUndefined();
  });
});

describe('MappingRepository (DynamoDB Local)', () => {
  it('loads mappings and looks them up', async () => {
    const mappings = new MappingRepository(document, mappingTable);
    const items = Array.from({ length: 60 }, (_, index) => ({
      kind: 'item' as const,
      source: 'sku',
      sourceId: `SKU-${index}`,
      target: `${1000 + index}`,
    }));
    expect(await mappings.load(items)).toBe(60);
    expect(await mappings.lookup('item', 'sku', 'SKU-59')).toBe('1059');
    expect(await mappings.lookup('item', 'sku', 'SKU-60')).toBeUndefined();
  });

  it('caches a miss briefly, so a mapping fixed afterwards is found once the miss expires', async () => {
    let now = 0;
    const reader = new MappingRepository(document, mappingTable, {
      now: () => now,
      missTtlMs: 1000,
      ttlMs: 60_000,
    });
    expect(await reader.lookup('location', 'shopify', '655441491')).toBeUndefined();
    await new MappingRepository(document, mappingTable).load([
      { kind: 'location', source: 'shopify', sourceId: '655441491', target: '7' },
    ]);
    expect(await reader.lookup('location', 'shopify', '655441491')).toBeUndefined();
    now = 1500;
    expect(await reader.lookup('location', 'shopify', '655441491')).toBe('7');
  });
});

describe('MappingRepository.prefetch (DynamoDB Local)', () => {
  it('fetches a batch of keys in BatchGetItem round trips (over 100 keys) and serves lookups from the cache', async () => {
    const table = await createPkSkTable(client, 'mappings-prefetch');
    const skus = Array.from({ length: 130 }, (_, index) => `SKU-${index}`);
    const loader = new MappingRepository(document, table);
    await loader.load(
      skus.map((sku, index) => ({ kind: 'item', source: 'sku', sourceId: sku, target: String(index) })),
    );
    const calls: string[] = [];
    const counted = {
      send: (command: { constructor: { name: string } }) => {
        calls.push(command.constructor.name);
        return document.send(command as never);
      },
    } as unknown as typeof document;
    const repository = new MappingRepository(counted, table);
    await repository.prefetch([
      ...skus.map((sku) => ({ kind: 'item' as const, source: 'sku', sourceId: sku })),
      { kind: 'item', source: 'sku', sourceId: 'NOT-MAPPED' },
    ]);
    expect(calls).toEqual(['BatchGetCommand', 'BatchGetCommand']);
    expect(await repository.lookup('item', 'sku', 'SKU-129')).toBe('129');
    expect(await repository.lookup('item', 'sku', 'NOT-MAPPED')).toBeUndefined();
    expect(calls).toHaveLength(2);
    // Cached keys are not fetched again.
    await repository.prefetch([{ kind: 'item', source: 'sku', sourceId: 'SKU-1' }]);
    expect(calls).toHaveLength(2);
  });
});

describe('DynamoExceptionStore (DynamoDB Local)', () => {
  const parked = (payload: Buffer, inputId: string) => ({
    kind: 'shopify-webhook',
    inputId,
    at: '2026-11-27T12:00:00.000Z',
    code: 'MAPPING_FAILED',
    reason: 'r',
    issues: [],
    transactionId: 't',
    attributes: { topic: 'orders/create' },
    payload,
  });

  it('keeps a payload too big for one item in parts that reassemble to the original', async () => {
    const store = new DynamoExceptionStore(document, exceptionsTable);
    const payload = Buffer.from(randomBytes(600 * 1024).toString('base64'));
    await store.park(parked(payload, 'big'));
    const items = await document.send(
      new QueryCommand({
        TableName: exceptionsTable,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
        ExpressionAttributeValues: { ':pk': 'EXC#shopify-webhook', ':sk': '2026-11-27T12:00:00.000Z#big' },
      }),
    );
    const main = items.Items?.find((item) => item.sk === '2026-11-27T12:00:00.000Z#big');
    const parts = (items.Items ?? [])
      .filter((item) => String(item.sk).includes('#part#'))
      .sort((a, b) => String(a.sk).localeCompare(String(b.sk)));
    expect(main?.payloadParts).toBe(parts.length);
    expect(parts.length).toBeGreaterThan(1);
    const joined = Buffer.concat(parts.map((part) => Buffer.from(part.payload as Uint8Array)));
    expect(gunzipSync(joined).equals(payload)).toBe(true);
  });

  it('stores a small payload inline', async () => {
    const store = new DynamoExceptionStore(document, exceptionsTable);
    await store.park(parked(Buffer.from('{"a":1}'), 'small'));
    const items = await document.send(
      new QueryCommand({
        TableName: exceptionsTable,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': 'EXC#shopify-webhook', ':sk': '2026-11-27T12:00:00.000Z#small' },
      }),
    );
    expect(gunzipSync(items.Items?.[0]?.payload as Uint8Array).toString()).toBe('{"a":1}');
  });

  it('dismisses a parked input once, with its reason and an expiry; a second dismissal or a replay after it does nothing', async () => {
    const store = new DynamoExceptionStore(document, exceptionsTable);
    const { exceptionId } = await store.park(parked(Buffer.from('{"b":2}'), 'to-dismiss/with slash'));
    expect(parseExceptionId(exceptionId)).toEqual({
      kind: 'shopify-webhook',
      sk: '2026-11-27T12:00:00.000Z#to-dismiss/with slash',
    });
    const now = new Date('2026-12-01T00:00:00.000Z');
    await expect(dismissException({ exceptions: store }, exceptionId, '  ')).rejects.toThrow(/reason/);
    const first = await dismissException(
      { exceptions: store, resolvedRetentionDays: 30, now: () => now },
      exceptionId,
      'booked by hand in the ERP (ticket OPS-17)',
    );
    expect(first).toEqual({
      status: 'dismissed',
      exceptionId,
      expiresAt: Math.floor(now.getTime() / 1000) + 30 * 86_400,
    });
    const { kind, sk } = parseExceptionId(exceptionId);
    const item = await store.get(kind, sk);
    expect(item?.status).toBe('DISMISSED');
    expect((await store.listParked('shopify-webhook')).map((e) => e.exceptionId)).not.toContain(exceptionId);
    const raw = await document.send(
      new QueryCommand({
        TableName: exceptionsTable,
        KeyConditionExpression: 'pk = :pk AND sk = :sk',
        ExpressionAttributeValues: { ':pk': `EXC#${kind}`, ':sk': sk },
      }),
    );
    expect(raw.Items?.[0]).toMatchObject({
      dismissedReason: 'booked by hand in the ERP (ticket OPS-17)',
      expiresAt: first.status === 'dismissed' ? first.expiresAt : -1,
    });
    expect(await dismissException({ exceptions: store }, exceptionId, 'again')).toEqual({
      status: 'not-parked',
      exceptionId,
      current: 'DISMISSED',
    });
    expect(await store.markReplayed(kind, sk)).toBe(false);
    expect(await dismissException({ exceptions: store }, 'shopify-webhook/nope', 'x')).toEqual({
      status: 'not-found',
      exceptionId: 'shopify-webhook/nope',
    });
  });

  it('expires the part items of a large payload with the exception, and keeps them when it is parked again', async () => {
    const store = new DynamoExceptionStore(document, exceptionsTable);
    const payload = Buffer.from(randomBytes(600 * 1024).toString('base64'));
    const { exceptionId } = await store.park(parked(payload, 'big-resolved'));
    const { kind, sk } = parseExceptionId(exceptionId);
    const items = async () =>
      (
        await document.send(
          new QueryCommand({
            TableName: exceptionsTable,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
            ExpressionAttributeValues: { ':pk': `EXC#${kind}`, ':sk': sk },
          }),
        )
      ).Items ?? [];
    const parts = (await items()).filter((item) => String(item.sk).includes('#part#'));
    expect(parts.length).toBeGreaterThan(1);
    expect(await store.markReplayed(kind, sk, { expiresAt: 1_900_000_000 })).toBe(true);
    expect((await items()).map((item) => item.expiresAt)).toEqual(
      Array.from({ length: parts.length + 1 }, () => 1_900_000_000),
    );
    expect(await store.markReplayed(kind, sk, { revert: true })).toBe(true);
    expect((await items()).filter((item) => item.expiresAt !== undefined)).toEqual([]);
  });
});
