import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import { BOOKING_ITEMS } from '#sandbox/netsuite/store.ts';
import { NetSuiteErpAdapter } from '#shared/connectors/netsuite/adapter.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  type NetSuiteCredentials,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient, type NetSuiteClientOptions } from '#shared/connectors/netsuite/client.ts';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import type { Order } from '#shared/events/order.ts';
import { type ErpRecordRef, type MappingLookup, orderExternalId } from '#shared/ports/erp.ts';
import { ErpValidationError } from '#shared/ports/erp-errors.ts';
import { json, type Page, postJson, start } from '#test/sandbox/helpers.ts';
import { canonicalOrder } from '#test/support/orders.ts';

interface NsState {
  credentials: { accountId: string; clientId: string; certificateId: string; privateKeyPem: string };
  counters: {
    governedCalls: number;
    throttled: number;
    http429: number;
    peakConcurrency: number;
    inFlight: number;
  };
  recordCounts: Record<string, number>;
  records: Page<{
    type: string;
    id: string;
    externalId: string | null;
    total?: number;
    body?: Record<string, unknown>;
  }>;
}
interface NsLine {
  item: { id: string };
  quantity: number;
  amount: number;
  isClosed?: boolean;
}

const app = new NetSuiteSandbox({ seed: 21, items: 80, stores: 4 });
let server: StartedServer;
let base: string;
let credentials: NetSuiteCredentials;

const state = (query = '') => json<NsState>(fetch(`${base}/_control/state${query}`));
const records = async (type: string, externalId: string) =>
  (await state(`?type=${type}&externalId=${encodeURIComponent(externalId)}&full=1`)).records;

const PAYMENT_METHODS: Record<string, string> = { cash: '1', visa: '5' };

/** Mappings resolved against the sandbox's own item master and stores, as the mapping table would. */
const lookup: MappingLookup = {
  erpItemId: (sku) => app.store.getByExternalId('inventoryItem', sku)?.id,
  erpLocationId: (system, id) =>
    system === 'pos' ? app.store.locations.find((l) => l.code === id && l.kind === 'store')?.id : undefined,
  erpPaymentMethod: (gateway) => PAYMENT_METHODS[gateway],
};

function makeClient(
  options: Partial<Omit<NetSuiteClientOptions, 'auth' | 'accountId'>> = {},
): NetSuiteClient {
  const auth = new NetSuiteAuth({ tokenUrl: `${base}${NETSUITE_TOKEN_PATH}`, credentials });
  return new NetSuiteClient({
    baseUrl: base,
    accountId: credentials.accountId,
    auth,
    retry: { maxAttempts: 30, initialDelayMs: 20, maxDelayMs: 400 },
    ...options,
  });
}

/** The sandbox account's booking items (discount, shipping, tax, gift card), looked up by their item ids. */
function bookingItems(): NetSuiteMappingConfig['items'] {
  const id = (itemId: string) => BOOKING_ITEMS.find((item) => item.itemId === itemId)?.id ?? '';
  return {
    discount: id('OH-DISCOUNT'),
    shipping: id('OH-SHIPPING'),
    tax: id('OH-TAX'),
    giftCard: id('OH-GIFTCARD'),
  };
}

let config: NetSuiteMappingConfig;
const adapterWith = (client: NetSuiteClient) => new NetSuiteErpAdapter({ client, mappings: lookup, config });

/** An online order for the sandbox's own SKUs, with a line discount, tax and shipping. */
function onlineOrder(n: number, quantity = 1 + (n % 3)): Order {
  const item = app.retailer.items[n % app.retailer.items.length];
  if (!item) throw new Error('empty catalogue');
  const discount = n % 2 === 0 ? 100 : 0;
  return canonicalOrder({
    orderId: String(7_000_000 + n),
    name: `#${7000 + n}`,
    lines: [
      {
        sku: item.sku,
        unitPrice: item.priceMinor,
        quantity,
        discount,
        tax: [
          {
            title: 'State tax',
            rate: '0.0625',
            amount: Math.round((item.priceMinor * quantity - discount) * 0.0625),
          },
        ],
      },
    ],
    shipping: [{ title: 'Ground', price: 599 }],
  });
}

const ctx = { transactionId: 'tx-integration' };
const cents = (total: number | undefined) => Math.round((total ?? Number.NaN) * 100);
const linesOf = (record: { body?: Record<string, unknown> } | undefined): NsLine[] =>
  (record?.body?.item as { items?: NsLine[] } | undefined)?.items ?? [];

beforeAll(async () => {
  ({ server, url: base } = await start(app));
  // As the hub reads its Secrets Manager secret: parsed, extra fields dropped.
  credentials = NetSuiteCredentialsSchema.parse((await state()).credentials);
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
  const items = bookingItems();
  const warehouse = app.store.locations.find((l) => l.kind === 'warehouse')?.id ?? '1';
  config = {
    customers: { online: '42', pos: '43' },
    items,
    currencies: { USD: '1' },
    onlineLocationId: warehouse,
  };
});

describe('NetSuiteErpAdapter against the NetSuite sandbox', () => {
  it('upserting the same order twice keeps one sales order, with the lines of the last write', async () => {
    const adapter = adapterWith(makeClient());
    const first = await adapter.upsertSalesOrder(onlineOrder(1, 1), ctx);
    const edited = onlineOrder(1, 3);
    const second = await adapter.upsertSalesOrder(edited, ctx);
    const externalId = orderExternalId(edited.source);
    expect(first).toEqual({ internalId: second.internalId, externalId, recordType: 'salesOrder' });
    expect(externalId).toBe('shopify-acme.myshopify.com-7000001');

    const found = await records('salesOrder', externalId);
    expect(found.total).toBe(1);
    expect(cents(found.items[0]?.total)).toBe(edited.totals.total.amount);
    const lines = linesOf(found.items[0]);
    expect(lines.map((l) => l.item.id)).toEqual([
      lookup.erpItemId(edited.lines[0]?.sku ?? '') as string,
      config.items.shipping,
      config.items.tax,
    ]);
    expect(lines[0]?.quantity).toBe(3);
    expect(await adapter.findByExternalId('salesOrder', externalId, ctx)).toEqual(second);
  });

  it('concurrent upserts of the same order create exactly one record', async () => {
    const adapter = adapterWith(makeClient({ maxConcurrency: 10 }));
    const order = onlineOrder(2);
    const refs = await Promise.all(Array.from({ length: 12 }, () => adapter.upsertSalesOrder(order, ctx)));
    expect(new Set(refs.map((r: ErpRecordRef) => r.internalId)).size).toBe(1);
    expect((await records('salesOrder', orderExternalId(order.source))).total).toBe(1);
    expect((await state()).recordCounts.salesOrder).toBe(1);
  });

  it('records a POS sale as a cash sale at the store, findable by external id', async () => {
    const adapter = adapterWith(makeClient());
    const store = app.store.locations.find((l) => l.kind === 'store');
    const item = app.retailer.items[3];
    if (!store || !item) throw new Error('sandbox has no store or items');
    const sale = canonicalOrder({
      system: 'pos',
      account: 'MLR3F8Q2',
      orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY',
      storeLocationId: store.code,
      gateways: ['cash'],
      lines: [{ sku: item.sku, unitPrice: item.priceMinor, quantity: 2 }],
    });
    const ref = await adapter.recordCashSale(sale, ctx);
    expect(ref).toMatchObject({
      recordType: 'cashSale',
      externalId: 'pos-MLR3F8Q2-CAISENgvlJ6jLWAzERDzjyHVybY',
    });
    const found = await records('cashSale', ref.externalId);
    expect(found.total).toBe(1);
    expect(found.items[0]?.body).toMatchObject({
      location: { id: store.id },
      paymentMethod: { id: '1' },
      entity: { id: '43' },
    });
    expect(cents(found.items[0]?.total)).toBe(sale.totals.total.amount);
    expect(await adapter.findByExternalId('cashSale', ref.externalId, ctx)).toEqual(ref);
    expect(await adapter.findByExternalId('salesOrder', ref.externalId, ctx)).toBeNull();
  });

  it('cancels by closing every line, keeps the total, and is a no-op the second time', async () => {
    const client = makeClient();
    const adapter = adapterWith(client);
    const order = onlineOrder(4);
    const ref = await adapter.upsertSalesOrder(order, ctx);
    expect(await adapter.cancelSalesOrder(ref.externalId, ctx)).toEqual(ref);
    const found = await records('salesOrder', ref.externalId);
    const lines = linesOf(found.items[0]);
    expect(lines).toHaveLength(4);
    expect(lines.every((l) => l.isClosed === true)).toBe(true);
    expect(cents(found.items[0]?.total)).toBe(order.totals.total.amount);

    const before = client.stats.requests;
    expect(await adapter.cancelSalesOrder(ref.externalId, ctx)).toEqual(ref);
    expect(client.stats.requests - before).toBe(1); // one GET, no PATCH
    expect(await adapter.cancelSalesOrder('shopify-acme.myshopify.com-404', ctx)).toBeNull();
  });

  it('surfaces the sandbox validation error with code and path, without retrying it', async () => {
    const client = makeClient();
    const adapter = new NetSuiteErpAdapter({
      client,
      mappings: { ...lookup, erpItemId: () => '999999' },
      config,
    });
    const before = (await state()).counters.governedCalls;
    const error = await adapter.upsertSalesOrder(onlineOrder(5), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErpValidationError);
    expect(error).toMatchObject({
      retryable: false,
      status: 400,
      erpCode: 'INVALID_CONTENT',
      path: 'item.items[0].item',
    });
    expect((await state()).counters.governedCalls - before).toBe(1);
  });

  describe('concurrency governance (sandbox limit 5)', () => {
    const burst = 40;

    beforeEach(async () => {
      await postJson(`${base}/_control/plan`, { concurrencyLimit: 5, latencyMs: { min: 15, max: 30 } });
    });

    it('with the adapter limited to 5, a burst gets no 429 and uses the whole limit', async () => {
      const client = makeClient({ maxConcurrency: 5 });
      const adapter = adapterWith(client);
      const orders = Array.from({ length: burst }, (_, i) => onlineOrder(100 + i));
      const refs = await Promise.all(orders.map((order) => adapter.upsertSalesOrder(order, ctx)));
      expect(new Set(refs.map((r) => r.internalId)).size).toBe(burst);
      const s = await state();
      expect(s.counters.http429).toBe(0);
      expect(s.counters.peakConcurrency).toBe(5);
      expect(s.recordCounts.salesOrder).toBe(burst);
      expect(client.stats.throttled).toBe(0);
    });

    it('with the adapter at 20, 429s happen and are retried until every order is in, once', async () => {
      const client = makeClient({ maxConcurrency: 20 });
      const adapter = adapterWith(client);
      const orders = Array.from({ length: burst }, (_, i) => onlineOrder(200 + i));
      const refs = await Promise.all(orders.map((order) => adapter.upsertSalesOrder(order, ctx)));
      expect(new Set(refs.map((r) => r.internalId)).size).toBe(burst);
      const s = await state();
      expect(s.counters.http429).toBeGreaterThan(0);
      expect(client.stats.throttled).toBe(s.counters.http429);
      expect(client.stats.retries).toBeGreaterThanOrEqual(s.counters.http429);
      expect(s.counters.peakConcurrency).toBeLessThanOrEqual(5);
      expect(s.recordCounts.salesOrder).toBe(burst);
      for (const order of orders.slice(0, 5)) {
        const found = await records('salesOrder', orderExternalId(order.source));
        expect(found.total).toBe(1);
        expect(cents(found.items[0]?.total)).toBe(order.totals.total.amount);
      }
    });
  });
});
