import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StartedServer, serveSandboxes } from '#sandbox/core/http.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import { readPriceChanges } from '#shared/catalog/erp-price-feed.ts';
import { applyPriceChange, effectivePrice, emptyBook } from '#shared/catalog/price-book.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import { type CanonicalEvent, detailSchema } from '#shared/events/catalog.ts';
import { ERP_PRICE_FEED_NAME, pollPriceFeed } from '#shared/flows/catalog-prices.ts';
import { FeedCursorRepository } from '#shared/repositories/inventory.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

/** The change feed's `price` entries → `PriceChanged` list prices, against the NetSuite sandbox. */
const netsuite = new NetSuiteSandbox({ seed: 42, items: 50, stores: 3 });
let server: StartedServer;
let erp: NetSuiteClient;
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

describe('ERP price feed', () => {
  it('reads price entries only, in id order, as versioned list prices in minor units; a re-read changes nothing', async () => {
    const res = await fetch(`${base}/_control/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 7, priceChanges: 5, itemChanges: 3, adjustments: 4 }),
    });
    expect(res.status).toBe(200);
    const options = { account: 'TSTDRV1', currency: 'USD', priceList: 'online-USD' };
    const page = await readPriceChanges(erp, 0, options);
    expect(page.events).toHaveLength(5);
    for (const e of page.events) detailSchema('PriceChanged').parse(e.detail);
    const versions = page.events.map((e) => e.detail.data.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    const first = page.events[0]?.detail.data;
    const item = netsuite.store.get('inventoryItem', first?.item.erpItemId ?? '');
    expect(Number.isInteger(first?.price.amount)).toBe(true);
    expect(first?.price.currency).toBe('USD');
    // The last entry of an item is its current base price.
    const last = page.events.filter((e) => e.detail.data.item.sku === first?.item.sku).at(-1)?.detail.data;
    expect(last?.price.amount).toBe(Math.round(Number(item?.body.basePrice) * 100));
    // Applying the page twice, in any order, gives the same book.
    const sku = first?.item.sku ?? '';
    let once = emptyBook(sku, 'online-USD');
    for (const e of page.events) once = applyPriceChange(once, e.detail.data, Date.now()).book;
    let twice = once;
    for (const e of [...page.events].reverse())
      twice = applyPriceChange(twice, e.detail.data, Date.now()).book;
    expect(effectivePrice(twice, Date.now())).toEqual(effectivePrice(once, Date.now()));
    const after = await readPriceChanges(erp, page.lastId, options);
    expect(after.events).toEqual([]);
    expect(after.lastId).toBe(page.lastId);
  });
});

describe('ERP price-feed poll (its own cursor on DynamoDB Local)', () => {
  const { client: dynamo, document } = localDynamo();
  const options = { account: 'TSTDRV1', currency: 'USD', priceList: 'online-USD' };

  it('moves the cursor only after the page is published; a failed publish re-reads it; a second writer stops it', async () => {
    await fetch(`${base}/_control/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 9, priceChanges: 4 }),
    });
    const table = await createPkSkTable(dynamo, 'catalog-feed');
    const cursor = new FeedCursorRepository(document, table, ERP_PRICE_FEED_NAME);
    const from = await cursor.read();
    const failing = () => Promise.reject(new Error('PutEvents unavailable'));
    await expect(pollPriceFeed({ client: erp, cursor, publish: failing, options, from })).rejects.toThrow(
      'PutEvents unavailable',
    );
    expect(await cursor.read()).toBe(from);
    const published: CanonicalEvent<'PriceChanged'>[] = [];
    const step = await pollPriceFeed({
      client: erp,
      cursor,
      publish: async (events) => {
        published.push(...events);
      },
      options,
      from,
    });
    expect(step.events).toBeGreaterThanOrEqual(4);
    expect(published).toHaveLength(step.events);
    expect(await cursor.read()).toBe(step.to);
    expect(published.at(-1)?.detail.data.version).toBe(step.to);
    // Another writer moved it: this poller publishes its (stale) page but reports the lost cursor.
    await fetch(`${base}/_control/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 10, priceChanges: 2 }),
    });
    const other = await pollPriceFeed({
      client: erp,
      cursor,
      publish: async () => {},
      options,
      from: step.to,
    });
    expect(other.lostCursor).toBe(false);
    const lost = await pollPriceFeed({
      client: erp,
      cursor,
      publish: async () => {},
      options,
      from: step.to,
    });
    expect(lost).toMatchObject({ lostCursor: true, to: step.to });
  });
});
