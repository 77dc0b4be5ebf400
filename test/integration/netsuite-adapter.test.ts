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
import { ErpReferenceError } from '#shared/ports/erp-errors.ts';
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
  line: number;
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

/** The sandbox account's booking items (discount, shipping, gift card), looked up by their item ids. */
function bookingItems(): NetSuiteMappingConfig['items'] {
  const id = (itemId: string) => BOOKING_ITEMS.find((item) => item.itemId === itemId)?.id ?? '';
  return {
    discount: id('OH-DISCOUNT'),
    shipping: id('OH-SHIPPING'),
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
    customers: { online: '1', pos: '2' },
    items,
    tax: { typeId: '1', codeId: '5' },
    subsidiaryId: '1',
    currencies: { USD: '1' },
    onlineLocationId: warehouse,
  };
});

describe('NetSuiteErpAdapter against the NetSuite sandbox', () => {
  it('upserting the same order twice keeps one sales order, its lines updated in place by key', async () => {
    const adapter = adapterWith(makeClient());
    const first = await adapter.upsertSalesOrder(onlineOrder(1, 1), ctx);
    const edited = onlineOrder(1, 3);
    const second = await adapter.upsertSalesOrder(edited, ctx, first.lines);
    const externalId = orderExternalId(edited.source);
    expect(second).toMatchObject({ internalId: first.internalId, externalId, recordType: 'salesOrder' });
    expect(externalId).toBe('shopify-acme.myshopify.com-7000001');
    expect(second.lines).toEqual(first.lines);
    expect(Object.keys(first.lines)).toEqual(['line-1000', 'shipping-2000']);

    const found = await records('salesOrder', externalId);
    expect(found.total).toBe(1);
    expect(cents(found.items[0]?.total)).toBe(edited.totals.total.amount);
    expect(second.total).toEqual(edited.totals.total);
    const lines = linesOf(found.items[0]);
    expect(lines.map((l) => [String(l.line), l.item.id])).toEqual([
      [first.lines['line-1000'], lookup.erpItemId(edited.lines[0]?.sku ?? '') as string],
      [first.lines['shipping-2000'], config.items.shipping],
    ]);
    expect(lines[0]?.quantity).toBe(3);
    expect(await adapter.findByExternalId('salesOrder', externalId, ctx)).toEqual({
      internalId: first.internalId,
      externalId,
      recordType: 'salesOrder',
    });
  });

  it('books the storefront tax as a tax details override: the ERP total read back is the order total', async () => {
    const adapter = adapterWith(makeClient());
    const order = onlineOrder(6, 2);
    const written = await adapter.upsertSalesOrder(order, ctx);
    const found = (await records('salesOrder', written.externalId)).items[0];
    // The sandbox's SuiteTax would charge 8.875 %; the order's 6.25 % is what was booked.
    expect(found?.body).toMatchObject({ taxDetailsOverride: true });
    expect(cents(found?.body?.taxTotal as number)).toBe(order.totals.tax.amount);
    expect(written.total).toEqual(order.totals.total);
  });

  it('edits update lines in place, add new ones, close removed ones, and a cancellation closes all: no line id changes', async () => {
    const adapter = adapterWith(makeClient());
    const [a, b, c] = app.retailer.items;
    if (!a || !b || !c) throw new Error('empty catalogue');
    const version = (lines: { lineId: string; sku: string; unitPrice: number; quantity: number }[]) =>
      canonicalOrder({ orderId: '7100001', lines, shipping: [{ title: 'Ground', price: 599 }] });
    const v1 = version([
      { lineId: '1', sku: a.sku, unitPrice: a.priceMinor, quantity: 1 },
      { lineId: '2', sku: b.sku, unitPrice: b.priceMinor, quantity: 1 },
    ]);
    const created = await adapter.upsertSalesOrder(v1, ctx);
    // Line 1 has shipped: NetSuite would refuse to delete it (a replace without its key would).
    await postJson(`${base}/_control/fulfil`, {
      type: 'salesOrder',
      externalId: created.externalId,
      line: Number(created.lines['line-1']),
      quantityFulfilled: 1,
    });
    const v2 = version([
      { lineId: '1', sku: a.sku, unitPrice: a.priceMinor, quantity: 3 },
      { lineId: '2', sku: b.sku, unitPrice: b.priceMinor, quantity: 1 },
      { lineId: '3', sku: c.sku, unitPrice: c.priceMinor, quantity: 1 },
    ]);
    const edited = await adapter.upsertSalesOrder(v2, ctx, created.lines);
    const v3 = version([
      { lineId: '1', sku: a.sku, unitPrice: a.priceMinor, quantity: 3 },
      { lineId: '3', sku: c.sku, unitPrice: c.priceMinor, quantity: 1 },
    ]);
    const removed = await adapter.upsertSalesOrder(v3, ctx, edited.lines);
    const cancelled = await adapter.upsertSalesOrder({ ...v3, status: 'cancelled' }, ctx, removed.lines);

    for (const [key, erpLine] of Object.entries(created.lines)) expect(cancelled.lines[key]).toBe(erpLine);
    expect(Object.keys(cancelled.lines).sort()).toEqual(['line-1', 'line-2', 'line-3', 'shipping-2000']);
    const lines = linesOf((await records('salesOrder', created.externalId)).items[0]);
    expect(lines.map((l) => String(l.line)).sort()).toEqual(Object.values(cancelled.lines).sort());
    expect(lines.every((l) => l.isClosed === true)).toBe(true);
    expect(removed.total).toEqual(v3.totals.total);
    expect(cancelled.total).toEqual(v3.totals.total);
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
    const { lines: _lines, total: _total, ...ref } = await adapter.recordCashSale(sale, ctx);
    expect(ref).toMatchObject({
      recordType: 'cashSale',
      externalId: 'pos-MLR3F8Q2-CAISENgvlJ6jLWAzERDzjyHVybY',
    });
    const found = await records('cashSale', ref.externalId);
    expect(found.total).toBe(1);
    expect(found.items[0]?.body).toMatchObject({
      location: { id: store.id },
      paymentMethod: { id: '1' },
      entity: { id: '2' },
    });
    expect(cents(found.items[0]?.total)).toBe(sale.totals.total.amount);
    expect(await adapter.findByExternalId('cashSale', ref.externalId, ctx)).toEqual(ref);
    expect(await adapter.findByExternalId('salesOrder', ref.externalId, ctx)).toBeNull();
  });

  it('cancels by closing every line, keeps the total, and is a no-op the second time', async () => {
    const client = makeClient();
    const adapter = adapterWith(client);
    const order = onlineOrder(4);
    const { lines: _lines, total: _total, ...ref } = await adapter.upsertSalesOrder(order, ctx);
    expect(await adapter.cancelSalesOrder(ref.externalId, ctx)).toEqual(ref);
    const found = await records('salesOrder', ref.externalId);
    const lines = linesOf(found.items[0]);
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.isClosed === true)).toBe(true);
    expect(cents(found.items[0]?.total)).toBe(order.totals.total.amount);

    const before = client.stats.requests;
    expect(await adapter.cancelSalesOrder(ref.externalId, ctx)).toEqual(ref);
    expect(client.stats.requests - before).toBe(1); // one GET, no PATCH
    expect(await adapter.cancelSalesOrder('shopify-acme.myshopify.com-404', ctx)).toBeNull();
  });

  it('surfaces an id the ERP does not have as a reference error with code and path, without retrying it', async () => {
    const client = makeClient();
    const adapter = new NetSuiteErpAdapter({
      client,
      mappings: { ...lookup, erpItemId: () => '999999' },
      config,
    });
    const before = (await state()).counters.governedCalls;
    const error = await adapter.upsertSalesOrder(onlineOrder(5), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErpReferenceError);
    expect(error).toMatchObject({
      code: 'ERP_INVALID_REFERENCE',
      retryable: false,
      status: 400,
      erpCode: 'INVALID_KEY_OR_REF',
      path: 'item.items[0].item',
    });
    expect((await state()).counters.governedCalls - before).toBe(1);
  });

  it("a booking config id the ERP lacks (customer) is refused with NetSuite's error naming the field", async () => {
    const adapter = new NetSuiteErpAdapter({
      client: makeClient(),
      mappings: lookup,
      config: { ...config, customers: { online: '999', pos: '2' } },
    });
    const error = await adapter.upsertSalesOrder(onlineOrder(7), ctx).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ErpReferenceError);
    expect((error as Error).message).toContain('Invalid Field Value 999 for the following field: entity');
    expect((await state()).recordCounts.salesOrder).toBe(0);
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
