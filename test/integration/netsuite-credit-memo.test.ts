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
import { returnExternalId } from '#shared/connectors/netsuite/credit-memo.ts';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import type { ReturnRequested } from '#shared/events/return.ts';
import type { MappingLookup } from '#shared/ports/erp.ts';
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

/** An online order of two units of one item, booked as a sales order; and a return of one unit. */
async function bookedOrder(adapter: NetSuiteErpAdapter, disposition: 'restock' | 'damaged' = 'restock') {
  const item = app.retailer.items[7];
  if (!item) throw new Error('sandbox has no items');
  const unitTax = Math.round(item.priceMinor * 0.08);
  const order = canonicalOrder({
    system: 'shopify',
    account: 'omnihub-dev.myshopify.com',
    orderId: '6100000000017',
    lines: [
      {
        sku: item.sku,
        unitPrice: item.priceMinor,
        quantity: 2,
        tax: [{ title: 'Tax', rate: '0.08', amount: 2 * unitTax }],
      },
    ],
  });
  const ref = await adapter.upsertSalesOrder(order, ctx);
  const request: ReturnRequested = {
    returnId: 'shopify-omnihub-dev.myshopify.com-990000000001',
    trigger: {
      system: 'shopify',
      account: 'omnihub-dev.myshopify.com',
      id: '990000000001',
      shopifyReturnId: '77',
    },
    order: {
      system: 'shopify',
      account: 'omnihub-dev.myshopify.com',
      orderId: order.source.orderId,
      name: '#1001',
    },
    location: { system: 'shopify', id: '1' },
    currency: 'USD',
    lines: [
      {
        lineId: 'rli-1',
        orderLineId: order.lines[0]?.lineId ?? 'l1',
        sku: item.sku,
        quantity: 1,
        subtotal: { amount: item.priceMinor, currency: 'USD' },
        tax: { amount: unitTax, currency: 'USD' },
        disposition,
      },
    ],
    shipping: { amount: 0, currency: 'USD' },
    total: { amount: item.priceMinor + unitTax, currency: 'USD' },
    shopifyRefunded: true,
    requestedAt: '2026-11-28T10:00:00.000Z',
  };
  return { order, ref, request, item };
}

describe('NetSuite credit memos of online returns (sales order → return authorization → credit memo) against the sandbox', () => {
  it('books one return authorization and one credit memo per return, tax reversed, to the cent, however often it is sent', async () => {
    const adapter = adapterWith(makeClient({ maxConcurrency: 5 }));
    const { ref, request, item } = await bookedOrder(adapter);
    const refs = await Promise.all([1, 2, 3].map(() => adapter.recordReturnCreditMemo(request, ref, ctx)));
    const externalId = returnExternalId(request.returnId);
    expect(new Set(refs.map((r) => r.internalId)).size).toBe(1);
    expect(refs[0]).toMatchObject({ recordType: 'creditMemo', externalId });
    expect(await adapter.recordReturnCreditMemo(request, ref, ctx)).toEqual(refs[0]);

    const authorizations = await records('returnAuthorization', externalId);
    expect(authorizations.total).toBe(1);
    expect(authorizations.items[0]?.body).toMatchObject({ createdFrom: { id: ref.internalId } });
    const memos = await records('creditMemo', externalId);
    expect(memos.total).toBe(1);
    expect(cents(memos.items[0]?.total)).toBe(request.total.amount);
    expect(memos.items[0]?.body).toMatchObject({
      createdFrom: { id: authorizations.items[0]?.id },
      entity: { id: '1' },
      taxDetailsOverride: true,
      taxDetails: {
        items: [
          expect.objectContaining({
            taxDetailsReference: 'return-line-rli-1',
            taxCode: expect.objectContaining({ id: '5' }),
          }),
        ],
      },
    });
    expect(linesOf(memos.items[0]).map((line) => [line.item.id, line.quantity])).toEqual([
      [lookup.erpItemId(item.sku) as string, 1],
    ]);
  });

  it('refuses a credit memo straight from a sales order, as NetSuite does (no such transform)', async () => {
    const adapter = adapterWith(makeClient());
    const { ref } = await bookedOrder(adapter);
    await expect(
      makeClient().request({
        method: 'POST',
        path: `/services/rest/record/v1/salesOrder/${ref.internalId}/!transform/creditMemo`,
        body: {},
        ctx,
      }),
    ).rejects.toThrow(/INVALID_TRANSFORM|not supported/);
  });

  it('refuses a return whose lines do not add up to its total (nothing written)', async () => {
    const adapter = adapterWith(makeClient());
    const { ref, request } = await bookedOrder(adapter);
    const wrong = { ...request, total: { amount: request.total.amount + 1, currency: 'USD' } };
    await expect(adapter.recordReturnCreditMemo(wrong, ref, ctx)).rejects.toMatchObject({
      code: 'ERP_TOTALS_MISMATCH',
    });
    expect((await records('returnAuthorization', returnExternalId(request.returnId))).total).toBe(0);
  });
});
