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
import type { Refund } from '#shared/events/refund.ts';
import { type MappingLookup, refundExternalId } from '#shared/ports/erp.ts';
import { json, type Page, start } from '#test/sandbox/helpers.ts';
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
    currencies: { USD: '1' },
    onlineLocationId: warehouse,
  };
});

/** A POS sale of two units of one item at a store, booked as a cash sale; and a refund of one unit. */
async function bookedSale(adapter: NetSuiteErpAdapter) {
  const store = app.store.locations.find((l) => l.kind === 'store');
  const item = app.retailer.items[5];
  if (!store || !item) throw new Error('sandbox has no store or items');
  const unitTax = Math.round(item.priceMinor * 0.08);
  const sale = canonicalOrder({
    system: 'pos',
    account: 'MLR3F8Q2',
    orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY',
    storeLocationId: store.code,
    gateways: ['cash'],
    lines: [
      {
        sku: item.sku,
        unitPrice: item.priceMinor,
        quantity: 2,
        tax: [{ title: 'Sales tax', rate: '0.08', amount: 2 * unitTax }],
      },
    ],
  });
  const ref = await adapter.recordCashSale(sale, ctx);
  const refund: Refund = {
    source: {
      system: 'pos',
      account: 'MLR3F8Q2',
      refundId: 'PAYMENT1_refund0001',
      orderId: sale.source.orderId,
    },
    currency: 'USD',
    note: 'Returned Goods',
    restock: false,
    lines: [
      {
        lineId: 'rli-1',
        orderLineId: sale.lines[0]?.lineId ?? 'line-1',
        sku: item.sku,
        quantity: 1,
        restockType: 'return',
        locationId: store.code,
        subtotal: { amount: item.priceMinor, currency: 'USD' },
        tax: { amount: unitTax, currency: 'USD' },
      },
    ],
    shipping: { amount: 0, currency: 'USD' },
    adjustments: [],
    transactions: [],
    total: { amount: item.priceMinor + unitTax, currency: 'USD' },
    createdAt: '2026-11-27T11:00:00.000Z',
    processedAt: '2026-11-27T11:00:02.000Z',
  };
  return { sale, ref, refund, store, item };
}

describe('NetSuite cash refunds of POS sales (cash sale → cash refund transform) against the sandbox', () => {
  it('books one cash refund per refund against the cash sale, to the cent, however often it is sent', async () => {
    const adapter = adapterWith(makeClient({ maxConcurrency: 5 }));
    const { ref, refund, store, item } = await bookedSale(adapter);
    const refs = await Promise.all([1, 2, 3].map(() => adapter.recordCashRefund(refund, ref, ctx)));
    const externalId = refundExternalId(refund.source);
    expect(externalId).toBe('posrefund-MLR3F8Q2-PAYMENT1_refund0001');
    expect(new Set(refs.map((r) => r.internalId)).size).toBe(1);
    expect(refs[0]).toMatchObject({ recordType: 'cashRefund', externalId });
    const again = await adapter.recordCashRefund(refund, ref, ctx);
    expect(again).toEqual(refs[0]);

    const found = await records('cashRefund', externalId);
    expect(found.total).toBe(1);
    expect(cents(found.items[0]?.total)).toBe(refund.total.amount);
    // Customer, location and payment method come from the cash sale; the lines are the refunded ones.
    expect(found.items[0]?.body).toMatchObject({
      createdFrom: { id: ref.internalId },
      entity: { id: '2' },
      location: { id: store.id },
      paymentMethod: { id: '1' },
    });
    expect(linesOf(found.items[0]).map((line) => [line.item.id, line.quantity])).toEqual([
      [lookup.erpItemId(item.sku) as string, 1],
    ]);
    // The refunded tax as a SuiteTax override on the returned line, not a tax charge line.
    const refundLine = refund.lines[0];
    expect(found.items[0]?.body).toMatchObject({
      taxDetailsOverride: true,
      taxDetails: {
        items: [
          expect.objectContaining({
            taxDetailsReference: `refund-line-${refundLine?.lineId}`,
            taxCode: expect.objectContaining({ id: '5' }),
            taxAmount: Number(refundLine?.tax.amount) / 100,
          }),
        ],
      },
    });
  });

  it('refuses a transform of a cash sale that does not exist, and a second refund under the same external id', async () => {
    const adapter = adapterWith(makeClient());
    const { ref, refund } = await bookedSale(adapter);
    await expect(
      adapter.recordCashRefund(refund, { ...ref, internalId: '999999' }, ctx),
    ).rejects.toMatchObject({ code: 'ERP_VALIDATION', status: 404 });
    await adapter.recordCashRefund(refund, ref, ctx);
    const duplicate = await fetch(
      `${base}/services/rest/record/v1/cashSale/${ref.internalId}/!transform/cashRefund`,
      {
        method: 'POST',
        headers: {
          authorization: `Bearer ${await new NetSuiteAuth({ tokenUrl: `${base}${NETSUITE_TOKEN_PATH}`, credentials }).token()}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ externalId: refundExternalId(refund.source) }),
      },
    );
    expect(duplicate.status).toBe(400);
    expect(await duplicate.json()).toMatchObject({ 'o:errorDetails': [{ 'o:errorCode': 'DUP_RECORD' }] });
  });

  it('parks what cannot be booked: a returned line without an ERP item', async () => {
    const adapter = adapterWith(makeClient());
    const { ref, refund } = await bookedSale(adapter);
    const unknown = { ...refund, lines: refund.lines.map((line) => ({ ...line, sku: 'NO-SUCH-SKU' })) };
    await expect(adapter.recordCashRefund(unknown, ref, ctx)).rejects.toMatchObject({
      code: 'UNKNOWN_MAPPING',
    });
    expect((await state()).recordCounts.cashRefund ?? 0).toBe(0);
  });
});
