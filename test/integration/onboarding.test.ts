import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ENVIRONMENTS } from '#infra/config/environments.ts';
import { type StartedServer, serveSandboxes } from '#sandbox/core/http.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import { createShopifySandbox } from '#sandbox/shopify/index.ts';
import { createSandbox as createSquareSandbox } from '#sandbox/square/index.ts';
import { NetSuiteErpAdapter } from '#shared/connectors/netsuite/adapter.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import type { Order } from '#shared/events/order.ts';
import { summarize } from '#shared/onboarding/mappings.ts';
import type { OnboardingSources } from '#shared/onboarding/sources.ts';
import { syncMappings } from '#shared/onboarding/sync.ts';
import { mappingLookupFrom, orderExternalId } from '#shared/ports/erp.ts';
import { UnknownMappingError } from '#shared/ports/erp-errors.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { json, type Page } from '#test/sandbox/helpers.ts';
import { startReceiver } from '#test/sandbox/shopify-helpers.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';
import { canonicalOrder } from '#test/support/orders.ts';

/**
 * Onboarding against the real sandboxes (one retailer, seed 5) and DynamoDB Local, then order capture
 * with the rows it wrote: sandbox Shopify orders mapped by the hub's own mappers and upserted into the
 * NetSuite sandbox with the dev environment's booking config — the path `npm start` runs.
 */

const seed = 5;
const size = { items: 120, stores: 4 };
const netsuite = new NetSuiteSandbox({ seed, ...size });
const square = createSquareSandbox({ seed, ...size });
const config = ENVIRONMENTS.dev.erp.mapping;
const { client: dynamo, document } = localDynamo();

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let shopify: ReturnType<typeof createShopifySandbox>;
let server: StartedServer;
let erp: NetSuiteClient;
let sources: OnboardingSources;
let table: string;

interface NsRecordState {
  type: string;
  externalId: string | null;
  total?: number;
  body?: {
    location?: { id: string };
    item?: { items: Array<{ item: { id: string } }> };
    taxDetailsOverride?: boolean;
    taxTotal?: number;
  };
}

const nsRecords = async (type: string) =>
  (
    await json<{ records: Page<NsRecordState> }>(
      fetch(`${server.urlOf('netsuite')}/_control/state?type=${type}&full=1&limit=1000`),
    )
  ).records;

function erpClient(): NetSuiteClient {
  const base = server.urlOf('netsuite');
  const credentials = NetSuiteCredentialsSchema.parse(netsuite.credentials);
  return new NetSuiteClient({
    baseUrl: base,
    accountId: credentials.accountId,
    auth: new NetSuiteAuth({ tokenUrl: `${base}${NETSUITE_TOKEN_PATH}`, credentials }),
  });
}

const adapterFor = (tableName: string) =>
  new NetSuiteErpAdapter({
    client: erp,
    mappings: mappingLookupFrom(new MappingRepository(document, tableName)),
    config,
  });

/** Places online orders in the Shopify sandbox and maps their `orders/create` webhooks as the hub does. */
async function shopifyOrders(count: number, scenarioSeed: number): Promise<Order[]> {
  const before = receiver.received.length;
  const res = await fetch(`${server.urlOf('shopify')}/_control/scenario`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seed: scenarioSeed, orders: count, wait: true }),
  });
  expect(res.status).toBe(200);
  const mapper = shopifyTopicMapper('orders/create');
  if (!mapper) throw new Error('no orders/create mapper');
  const shop = { shopDomain: shopify.credentials.shopDomain, currency: 'USD' };
  return receiver.received
    .slice(before)
    .filter((r) => r.headers['x-shopify-topic'] === 'orders/create')
    .flatMap((r) => mapper(parseShopifyJson(r.raw.toString('utf8')), shop))
    .map((event) => event.data as Order);
}

beforeAll(async () => {
  receiver = await startReceiver();
  shopify = createShopifySandbox({ seed, ...size, webhookUrl: receiver.url });
  server = await serveSandboxes([netsuite, shopify, square]);
  erp = erpClient();
  sources = {
    erp,
    shopify: { baseUrl: server.urlOf('shopify'), accessToken: shopify.credentials.accessToken },
    square: { baseUrl: server.urlOf('square'), accessToken: square.accessToken },
  };
});
afterAll(async () => {
  await server.close();
  await receiver.close();
  dynamo.destroy();
});
beforeEach(async () => {
  await fetch(`${server.urlOf('netsuite')}/_control/reset`, { method: 'POST' });
  table = await createPkSkTable(dynamo, 'onboarding');
});

describe('onboarding against the sandboxes', () => {
  it('maps every SKU, location and gateway the systems share, and the dev booking config checks out', async () => {
    const { mappings, report } = await syncMappings(sources, {
      repository: new MappingRepository(document, table),
      config,
    });

    expect(report.items).toMatchObject({
      mapped: size.items,
      unmatched: { shopify: { count: 0 }, pos: { count: 0 } },
      withoutSku: { shopify: 0, pos: 0 },
      erpOnly: { count: 0 },
      ambiguous: { count: 0 },
    });
    // Shopify: the warehouse and the stores; Square: the stores.
    expect(report.locations).toMatchObject({ mapped: 1 + 2 * size.stores, unmatched: { count: 0 } });
    expect(report.paymentMethods).toMatchObject({ mapped: 5, unmatched: { count: 0 } });
    expect(report.configProblems).toEqual([]);
    expect(mappings).toHaveLength(size.items + 1 + 2 * size.stores + 5);

    const repo = new MappingRepository(document, table);
    const sku = netsuite.retailer.items[7]?.sku ?? '';
    expect(await repo.lookup('item', 'sku', sku)).toBe(
      netsuite.store.getByExternalId('inventoryItem', sku)?.id,
    );
    const warehouse = shopify.store.locationByCode.get('WH-01')?.id.split('/').at(-1) ?? '';
    expect(await repo.lookup('location', 'shopify', warehouse)).toBe(config.onlineLocationId);
    const squareStore = square.store.locations.find((l) => l.description === 'ST-002');
    expect(await repo.lookup('location', 'pos', squareStore?.id ?? '')).toBe(
      netsuite.store.locationByCode.get('ST-002')?.id,
    );
    expect(await repo.lookup('payment-method', 'gateway', 'shopify_payments')).toBe('7');
  });

  it('a second run writes only the rows whose target changed', async () => {
    const repository = new MappingRepository(document, table);
    const first = await syncMappings(sources, { repository, config });
    const sku = netsuite.retailer.items[9]?.sku ?? '';
    await repository.load([{ kind: 'item', source: 'sku', sourceId: sku, target: '999999' }]);

    const second = await syncMappings(sources, { repository, config });

    expect(first).toMatchObject({ written: first.mappings.length, unchanged: 0 });
    expect(second).toMatchObject({ written: 1, unchanged: first.mappings.length - 1 });
    expect((await repository.targets('item')).get(`sku#${sku}`)).toBe(
      netsuite.store.getByExternalId('inventoryItem', sku)?.id,
    );
  });

  it('reports an SKU the ERP no longer has, for each source that sells it, and writes no row for it', async () => {
    const gone = netsuite.retailer.items[3]?.sku ?? '';
    netsuite.store.delete('inventoryItem', netsuite.store.getByExternalId('inventoryItem', gone)?.id ?? '');

    const { mappings, report } = await syncMappings(sources, {
      repository: new MappingRepository(document, table),
      config,
    });

    expect(report.items.mapped).toBe(size.items - 1);
    expect(report.items.unmatched).toEqual({
      shopify: { count: 1, first: [gone] },
      pos: { count: 1, first: [gone] },
    });
    expect(mappings.some((m) => m.sourceId === gone)).toBe(false);
    expect(await new MappingRepository(document, table).lookup('item', 'sku', gone)).toBeUndefined();
  });
});

describe('booking config check', () => {
  it('names every booking id the ERP does not have, by its path in the config', async () => {
    const { report } = await syncMappings(sources, {
      repository: new MappingRepository(document, table),
      config: {
        ...config,
        customers: { online: '1', pos: '999' },
        currencies: { USD: '1', EUR: '77' },
        items: { ...config.items, giftCard: '998' },
        tax: { typeId: '1', codeId: '100' },
        subsidiaryId: '9',
        onlineLocationId: '9999',
      },
    });
    expect(report.configProblems).toEqual([
      'booking item giftCard = "998" is not an ERP item id',
      'onlineLocationId = "9999" is not an ERP location id',
      'customers.pos = "999" is not an ERP customer id',
      'currencies.EUR = "77" is not an ERP currency id',
      'subsidiaryId = "9" is not an ERP subsidiary id',
      'tax.codeId = "100" is not an ERP tax code id',
    ]);
    expect(summarize(report).filter((line) => line.includes('config:'))).toHaveLength(6);
  });
});

describe('order capture with the onboarded mappings', () => {
  it('upserts sandbox Shopify orders into the NetSuite sandbox as sales orders that add up', async () => {
    await syncMappings(sources, { repository: new MappingRepository(document, table), config });
    const orders = await shopifyOrders(6, 11);
    expect(orders.length).toBe(6);
    expect(orders.filter((o) => o.totals.shipping.amount > 0).length).toBeGreaterThan(0);
    const adapter = adapterFor(table);

    const refs = await Promise.all(
      orders.map((order) => adapter.upsertSalesOrder(order, { transactionId: `tx-${order.source.orderId}` })),
    );

    expect(refs.map((r) => r.externalId)).toEqual(orders.map((o) => orderExternalId(o.source)));
    const stored = await nsRecords('salesOrder');
    expect(stored.total).toBe(orders.length);
    for (const order of orders) {
      const record = stored.items.find((r) => r.externalId === orderExternalId(order.source));
      expect(Math.round((record?.total ?? Number.NaN) * 100), order.source.orderId).toBe(
        order.totals.total.amount,
      );
      expect(record?.body?.location?.id).toBe(config.onlineLocationId);
      const lineItems = record?.body?.item?.items.map((l) => l.item.id) ?? [];
      if (order.totals.shipping.amount > 0) expect(lineItems).toContain(config.items.shipping);
      // Tax is booked as SuiteTax tax details (an override), not as an item line.
      expect(record?.body?.taxDetailsOverride).toBe(true);
      expect(Math.round((record?.body?.taxTotal ?? Number.NaN) * 100)).toBe(order.totals.tax.amount);
    }
  });

  it('records a POS sale at a Square store as a cash sale at the mapped ERP store', async () => {
    await syncMappings(sources, { repository: new MappingRepository(document, table), config });
    const store = square.store.locations.find((l) => l.description === 'ST-003');
    const item = square.store.variationBySku.get(netsuite.retailer.items[12]?.sku ?? '');
    if (!store || !item) throw new Error('the Square sandbox has no ST-003 or item 12');
    const sale = canonicalOrder({
      system: 'pos',
      account: square.store.merchantId,
      orderId: 'CAISENonboarding0001',
      storeLocationId: store.id,
      gateways: ['card'],
      lines: [
        {
          sku: item.item_variation_data.sku,
          unitPrice: item.item_variation_data.price_money.amount,
          quantity: 2,
        },
      ],
    });

    const ref = await adapterFor(table).recordCashSale(sale, { transactionId: 'tx-pos' });

    const stored = (await nsRecords('cashSale')).items.find((r) => r.externalId === ref.externalId);
    expect(stored?.body?.location?.id).toBe(netsuite.store.locationByCode.get('ST-003')?.id);
    expect(stored?.body).toMatchObject({ paymentMethod: { id: '10' } });
  });

  it('without onboarding, the same order is refused as unmapped before anything reaches NetSuite', async () => {
    const [order] = await shopifyOrders(1, 12);
    if (!order) throw new Error('no order placed');

    await expect(
      adapterFor(table).upsertSalesOrder(order, { transactionId: 'tx-none' }),
    ).rejects.toBeInstanceOf(UnknownMappingError);
    expect((await nsRecords('salesOrder')).total).toBe(0);
  });
});
