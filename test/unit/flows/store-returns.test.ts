import { describe, expect, it } from 'vitest';
import type { StoreReturnRecorded } from '#shared/events/return.ts';
import { refundInShopify } from '#shared/flows/returns/shopify-return.ts';
import { startFromTrigger } from '#shared/flows/returns/start.ts';
import { matchReturn } from '#shared/flows/returns/steps.ts';
import {
  ORDER_BY_NAME_QUERY,
  orderNameOf,
  requestFromStoreReturn,
  storeReturnIdOf,
} from '#shared/flows/returns/store-return.ts';
import type { ShopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { assertShopifyDocument } from '#test/sandbox/shopify-helpers.ts';
import { RecordingPublisher } from '#test/support/ingress-fakes.ts';

/**
 * An online order returned and refunded at a store (StoreReturnRecorded from the POS): its order looked up
 * by number, its lines by SKU, one execution per POS refund, and Shopify told of the return without a
 * second refund.
 */
const usd = (amount: number) => ({ amount, currency: 'USD' });
const SHOP = 'acme.myshopify.com';
const MERCHANT = 'MERCHANT00001';
const storeReturn = (overrides: Partial<StoreReturnRecorded> = {}): StoreReturnRecorded => ({
  source: { system: 'pos', account: MERCHANT, refundId: 'R1', returnOrderId: 'RO1' },
  onlineOrderReference: '#1001',
  location: { system: 'pos', id: 'LOC1' },
  currency: 'USD',
  lines: [
    { lineId: 'rli-1', sku: 'SKU-A', quantity: 1, subtotal: usd(1000), tax: usd(80) },
    { lineId: 'rli-2', sku: 'SKU-A', quantity: 1, subtotal: usd(1000), tax: usd(80) },
  ],
  refunded: usd(2160),
  refundedAt: '2026-12-03T10:00:00.000Z',
  ...overrides,
});

/** A shop whose orders answer `orders(query:)` by exact name, recording the queries it was sent. */
function shopWith(orders: { id: string; name: string; lines: [string, string | null, number][] }[]) {
  const queries: string[] = [];
  const graphql: ShopifyGraphql = async (document, variables) => {
    expect(document).toBe(ORDER_BY_NAME_QUERY);
    const query = String(variables.query);
    queries.push(query);
    const name = JSON.parse(query.slice('name:'.length)) as string;
    return {
      errors: [],
      data: {
        orders: {
          nodes: orders
            .filter((order) => order.name.includes(name.replace('#', '')))
            .map((order) => ({
              id: `gid://shopify/Order/${order.id}`,
              name: order.name,
              lineItems: {
                nodes: order.lines.map(([id, sku, refundableQuantity]) => ({
                  id: `gid://shopify/LineItem/${id}`,
                  sku,
                  refundableQuantity,
                })),
              },
            })),
        },
      },
    };
  };
  return { graphql, queries };
}

describe('a store return of an online order → the workflow request', () => {
  it('is valid against Shopify', () => {
    expect(() => assertShopifyDocument(ORDER_BY_NAME_QUERY)).not.toThrow();
  });

  it('finds the order by its exact number and each SKU on a line with units left to return', async () => {
    // #10010 matches the search term too: only the exact name counts.
    const shop = shopWith([
      {
        id: '500',
        name: '#1001',
        lines: [
          ['11', 'SKU-B', 2],
          ['12', 'SKU-A', 1],
          ['13', 'SKU-A', 3],
        ],
      },
      { id: '501', name: '#10010', lines: [['21', 'SKU-A', 5]] },
    ]);
    const request = await requestFromStoreReturn(storeReturn(), [SHOP], async () => shop.graphql);
    expect(shop.queries).toEqual(['name:"#1001"']);
    expect(request).toMatchObject({
      returnId: `pos-${MERCHANT}-R1`,
      trigger: { system: 'pos', account: MERCHANT, id: 'R1', shopifyReturnId: null },
      order: { system: 'shopify', account: SHOP, orderId: '500', name: '#1001' },
      location: { system: 'pos', id: 'LOC1' },
      shopifyRefunded: false,
      refundedBy: 'pos',
      total: usd(2160),
      requestedAt: '2026-12-03T10:00:00.000Z',
    });
    // Line 12 has one unit left to return: the second unit goes to line 13.
    expect(request.lines.map((line) => [line.lineId, line.orderLineId, line.disposition])).toEqual([
      ['rli-1', '12', 'restock'],
      ['rli-2', '13', 'restock'],
    ]);
  });

  it('leaves what it cannot resolve for the match step to park: no such order, a SKU the order lacks', async () => {
    const shop = shopWith([{ id: '500', name: '#1001', lines: [['11', 'SKU-B', 1]] }]);
    const unknown = await requestFromStoreReturn(
      storeReturn({ onlineOrderReference: '#4040' }),
      [SHOP],
      async () => shop.graphql,
    );
    expect(unknown.order).toEqual({ system: 'shopify', account: SHOP, orderId: null, name: '#4040' });
    expect(await matchReturn(unknown, { ledger: { get: async () => undefined } })).toMatchObject({
      matched: false,
      code: 'RETURN_ORDER_UNKNOWN',
      reason: expect.stringMatching(/#4040/),
    });
    const noSku = await requestFromStoreReturn(storeReturn(), [SHOP], async () => shop.graphql);
    expect(noSku.order.orderId).toBe('500');
    expect(noSku.lines.map((line) => line.orderLineId)).toEqual(['unmatched-SKU-A', 'unmatched-SKU-A']);
  });

  it('names the execution by the POS refund, within Step Functions’ 80 characters whatever its length', () => {
    expect(storeReturnIdOf(storeReturn())).toBe(`pos-${MERCHANT}-R1`);
    const long = storeReturn({
      source: { system: 'pos', account: MERCHANT, refundId: 'X'.repeat(90), returnOrderId: 'RO1' },
    });
    expect(storeReturnIdOf(long)).toMatch(new RegExp(`^pos-${MERCHANT}-h[0-9a-f]{32}$`));
    expect(storeReturnIdOf(long)).toBe(storeReturnIdOf(structuredClone(long)));
  });

  it('reads the order number the store typed: with or without #, nothing that is not a number', () => {
    expect(orderNameOf(' 1001 ')).toBe('#1001');
    expect(orderNameOf('#1001')).toBe('#1001');
    expect(orderNameOf('1001 OR name:*')).toBeNull();
  });

  it('starts one execution per POS refund, whichever delivery brings it', async () => {
    const shop = shopWith([{ id: '500', name: '#1001', lines: [['12', 'SKU-A', 2]] }]);
    const names: string[] = [];
    const started = new Set<string>();
    const deps = {
      publisher: new RecordingPublisher(),
      startExecution: async (name: string) => {
        names.push(name);
        return !started.has(name) && Boolean(started.add(name));
      },
      shopify: { shops: [SHOP], graphqlOf: async () => shop.graphql },
      telemetry: { count: () => {} },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    const body = (deliveryId: string) => ({
      id: deliveryId,
      'detail-type': 'StoreReturnRecorded',
      source: 'omnihub.pos',
      detail: {
        metadata: {
          eventId: '00000000-0000-4000-8000-000000000001',
          schemaVersion: '1.0',
          transactionId: 'tx',
          idempotencyKey: `pos:${MERCHANT}:store-return:R1`,
          occurredAt: '2026-12-03T10:00:00.000Z',
          receivedAt: '2026-12-03T10:00:01.000Z',
          origin: { system: 'pos', account: MERCHANT, deliveryId },
        },
        data: storeReturn(),
      },
    });
    expect(await startFromTrigger(body('webhook'), deps)).toEqual({
      status: 'started',
      returnId: `pos-${MERCHANT}-R1`,
    });
    expect(await startFromTrigger(body('sweep'), deps)).toMatchObject({ status: 'duplicate' });
    expect(names).toEqual([`pos-${MERCHANT}-R1`, `pos-${MERCHANT}-R1`]);
    expect(deps.publisher.published.map((event) => event.detailType)).toEqual([
      'ReturnRequested',
      'ReturnRequested',
    ]);
  });
});

describe('Shopify for a return the store paid back', () => {
  it('creates and processes the return with no financial transfer: no second refund', async () => {
    const sent: { document: string; variables: Record<string, unknown> }[] = [];
    const graphql: ShopifyGraphql = async (document, variables) => {
      sent.push({ document, variables });
      if (document.includes('query ReturnableOrder'))
        return {
          errors: [],
          data: {
            order: {
              id: 'gid://shopify/Order/500',
              transactions: [
                {
                  id: 'gid://shopify/OrderTransaction/1',
                  kind: 'SALE',
                  status: 'SUCCESS',
                  amountSet: { shopMoney: { amount: '21.60', currencyCode: 'USD' } },
                },
              ],
              fulfillments: [
                {
                  fulfillmentLineItems: {
                    nodes: [
                      {
                        id: 'gid://shopify/FulfillmentLineItem/9',
                        quantity: 2,
                        lineItem: { id: 'gid://shopify/LineItem/12' },
                      },
                    ],
                  },
                },
              ],
              returns: { nodes: [] },
            },
          },
        };
      if (document.includes('returnCreate'))
        return {
          errors: [],
          data: {
            returnCreate: {
              return: {
                id: 'gid://shopify/Return/7',
                status: 'OPEN',
                returnLineItems: { nodes: [{ id: 'gid://shopify/ReturnLineItem/70', quantity: 1 }] },
              },
              userErrors: [],
            },
          },
        };
      return {
        errors: [],
        data: {
          returnProcess: { return: { id: 'gid://shopify/Return/7', status: 'CLOSED' }, userErrors: [] },
        },
      };
    };
    const shop = shopWith([{ id: '500', name: '#1001', lines: [['12', 'SKU-A', 2]] }]);
    const request = await requestFromStoreReturn(
      storeReturn({
        lines: [storeReturn().lines[0] as StoreReturnRecorded['lines'][number]],
        refunded: usd(1080),
      }),
      [SHOP],
      async () => shop.graphql,
    );
    const outcome = await refundInShopify({ request }, graphql);
    expect(outcome).toEqual({ skipped: false, returnId: '7', refundId: null });
    const process = sent.find((call) => call.document.includes('returnProcess'));
    expect(process?.variables.input).not.toHaveProperty('financialTransfer');
    expect(process?.variables.input).toMatchObject({
      returnId: 'gid://shopify/Return/7',
      notifyCustomer: false,
    });
  });
});
