import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type StartedServer, serveSandboxes } from '#sandbox/core/http.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import type { CanonicalEvent } from '#shared/events/catalog.ts';
import { detailSchema } from '#shared/events/catalog.ts';
import { pollErpChanges } from '#shared/inventory/erp-change-feed.ts';
import { orderMovementId } from '#shared/inventory/projection.ts';
import { FeedCursorRepository } from '#shared/repositories/inventory.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

/**
 * The ERP change-feed poller against the NetSuite sandbox (SuiteQL over `customrecord_oh_change`) with
 * its cursor on DynamoDB Local.
 */

const netsuite = new NetSuiteSandbox({ seed: 42, items: 50, stores: 3 });
const { client: dynamo, document } = localDynamo();
let server: StartedServer;
let erp: NetSuiteClient;
let table: string;
let base: string;

beforeAll(async () => {
  server = await serveSandboxes([netsuite]);
  base = server.urlOf('netsuite');
  const credentials = NetSuiteCredentialsSchema.parse(netsuite.credentials);
  erp = new NetSuiteClient({
    baseUrl: base,
    accountId: credentials.accountId,
    auth: new NetSuiteAuth({ tokenUrl: `${base}${NETSUITE_TOKEN_PATH}`, credentials }),
  });
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
  table = await createPkSkTable(dynamo, 'inventory-feed');
});

const scenario = async (body: Record<string, unknown>) =>
  (await (
    await fetch(`${base}/_control/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  ).json()) as { changes: { firstId: number; lastId: number; count: number } };

const onHand = async (item: string, location: string): Promise<number> => {
  const res = await erp.request({
    method: 'POST',
    path: '/services/rest/query/v1/suiteql',
    headers: { prefer: 'transient' },
    body: {
      q: `SELECT quantityonhand FROM aggregateitemlocation WHERE item = ${item} AND location = ${location}`,
    },
  });
  return Number((res.body as { items: { quantityonhand: number }[] }).items[0]?.quantityonhand);
};

function poller(
  published: CanonicalEvent<'InventoryCounted'>[],
  extra: { pageSize?: number; maxPages?: number } = {},
) {
  const cursor = new FeedCursorRepository(document, table, 'erp-onhand');
  return {
    cursor,
    poll: () =>
      pollErpChanges({
        client: erp,
        account: netsuite.credentials.accountId,
        cursor,
        publish: async (events) => {
          published.push(...events);
        },
        ...extra,
      }),
  };
}

describe('ERP change-feed poller (NetSuite sandbox, cursor on DynamoDB Local)', () => {
  it('turns every on-hand entry into one valid InventoryCounted, in id order, and moves the cursor past them', async () => {
    const run = await scenario({ seed: 3, receipts: 4, adjustments: 6, priceChanges: 3 });
    const published: CanonicalEvent<'InventoryCounted'>[] = [];
    const { cursor, poll } = poller(published);
    const report = await poll();
    expect(report).toMatchObject({ from: 0, to: run.changes.lastId, more: false, lostCursor: false });
    // Price entries are not on-hand changes; receipts and adjustments are one entry each.
    expect(published).toHaveLength(10);
    const sequences = published.map((e) => e.detail.data.sequence);
    expect(sequences).toEqual([...sequences].sort((a, b) => a - b));
    for (const event of published) {
      expect(detailSchema('InventoryCounted').safeParse(event.detail).success).toBe(true);
      expect(event).toMatchObject({ source: 'omnihub.erp', detailType: 'InventoryCounted' });
      expect(event.detail.data).toMatchObject({ quantityName: 'on_hand', location: { system: 'erp' } });
    }
    // The last count of each item × location is the ERP's on hand now.
    const last = new Map(
      published.map((e) => [`${e.detail.data.item.erpItemId}|${e.detail.data.location.id}`, e]),
    );
    for (const [key, event] of last) {
      const [item, location] = key.split('|') as [string, string];
      expect(event.detail.data.quantity, key).toBe(await onHand(item, location));
    }
    expect(await cursor.read()).toBe(run.changes.lastId);
    // Drained: the next poll publishes nothing and leaves the cursor.
    const again = await poll();
    expect(again).toMatchObject({ events: 0, from: run.changes.lastId, to: run.changes.lastId });
    expect(published).toHaveLength(10);
  });

  it('reads page by page, stops after maxPages saying there is more, and goes on from its cursor', async () => {
    await scenario({ seed: 5, adjustments: 7 });
    const published: CanonicalEvent<'InventoryCounted'>[] = [];
    const { poll } = poller(published, { pageSize: 2, maxPages: 2 });
    const first = await poll();
    expect(first).toMatchObject({ pages: 2, events: 4, more: true });
    const second = await poll();
    expect(second).toMatchObject({ from: first.to, events: 3 });
    expect(new Set(published.map((e) => e.detail.data.sequence)).size).toBe(7);
  });

  it('names the POS sale a cash sale books, so the projection drops it from pending', async () => {
    const externalId = 'pos-MERCHANT1-ORDER77';
    const res = await erp.request({
      method: 'POST',
      path: '/services/rest/record/v1/cashSale',
      body: {
        externalId,
        entity: { id: '2' },
        location: { externalId: 'ST-001' },
        item: { items: [{ item: { externalId: 'SKU-000001' }, quantity: 2, rate: 19.5 }] },
      },
    });
    expect(res.status).toBe(204);
    const published: CanonicalEvent<'InventoryCounted'>[] = [];
    await poller(published).poll();
    expect(published).toHaveLength(1);
    expect(published[0]?.detail.data).toMatchObject({
      item: { sku: 'SKU-000001' },
      books: orderMovementId(externalId, 'SKU-000001'),
    });
  });

  it('does not move the cursor when publishing fails: the page is read again next time', async () => {
    await scenario({ seed: 9, adjustments: 2 });
    const cursor = new FeedCursorRepository(document, table, 'erp-onhand');
    const failing = pollErpChanges({
      client: erp,
      account: netsuite.credentials.accountId,
      cursor,
      publish: async () => {
        throw new Error('bus refused');
      },
    });
    await expect(failing).rejects.toThrow('bus refused');
    expect(await cursor.read()).toBe(0);
    const published: CanonicalEvent<'InventoryCounted'>[] = [];
    expect((await poller(published).poll()).events).toBe(2);
  });

  it('lets only one of two overlapping polls move the cursor', async () => {
    const cursor = new FeedCursorRepository(document, table, 'race');
    const results = await Promise.all([cursor.advance(0, 5), cursor.advance(0, 7)]);
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await cursor.advance(0, 9)).toBe(false);
    expect([5, 7]).toContain(await cursor.read());
  });
});
