import { beforeAll, describe, expect, it } from 'vitest';
import { LedgerRepository, orderKey } from '#shared/repositories/ledger.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

const { client, document } = localDynamo();
let ledgerTable: string;
let mappingTable: string;

beforeAll(async () => {
  ledgerTable = await createPkSkTable(client, 'ledger');
  mappingTable = await createPkSkTable(client, 'mappings');
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

  it('lets exactly one of concurrent writers of the same version win', async () => {
    const ledger = new LedgerRepository(document, ledgerTable);
    const key = orderKey('shopify', 'acme.myshopify.com', '2002');
    const results = await Promise.all(Array.from({ length: 8 }, () => ledger.recordSync(entry(key, 500))));
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
