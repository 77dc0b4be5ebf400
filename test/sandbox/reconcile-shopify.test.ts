import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { mapOrder } from '#shared/connectors/shopify/mappers.ts';
import { OrderPayloadSchema } from '#shared/connectors/shopify/payloads.ts';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import {
  RECONCILE_ORDER_QUERY,
  RECONCILE_ORDERS_QUERY,
  readShopifyOrder,
  readShopifyOrders,
  toOrderPayload,
} from '#shared/reconcile/shopify-orders.ts';
import {
  assertShopifyDocument,
  type ShopifyHarness,
  startReceiver,
  startShopify,
} from './shopify-helpers.ts';

/**
 * The reconciler's Shopify read against the Shopify sandbox: the orders query is valid for Shopify's real
 * Admin schema, pages through the window, and an order read through GraphQL maps (through the ingress's
 * own mapper) to exactly the canonical order its `orders/create` webhook maps to — what heal republishes
 * is what the dropped webhook would have published.
 */
const SHOP = 'omnihub-dev.myshopify.com';
let h: ShopifyHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;

beforeAll(async () => {
  receiver = await startReceiver();
  h = await startShopify({ seed: 4 });
  expect(
    (await h.control('POST', 'subscriptions', { topic: 'orders/create', uri: receiver.url })).status,
  ).toBe(201);
  expect(
    (await h.control('POST', 'scenario', { seed: 2, orders: 7, cancellations: 1, wait: true })).status,
  ).toBe(200);
});
afterAll(async () => {
  await h.close();
  await receiver.close();
});

describe('reconciler: Shopify orders', () => {
  it('is a document Shopify accepts', () => {
    expect(() => assertShopifyDocument(RECONCILE_ORDERS_QUERY)).not.toThrow();
    expect(() => assertShopifyDocument(RECONCILE_ORDER_QUERY)).not.toThrow();
  });

  it('reads every order of the window, page by page, and maps each as its webhook maps', async () => {
    const sent: string[] = [];
    const graphql = shopifyGraphql({
      baseUrl: h.base,
      accessToken: h.app.credentials.accessToken,
      fetch: async (url, init) => {
        sent.push(String(init?.body));
        return fetch(url, init);
      },
    });
    const pacer = new CostPacer();
    const read = await readShopifyOrders({
      graphql,
      pacer,
      shopDomain: SHOP,
      since: '2000-01-01T00:00:00Z',
      until: '2100-01-01T00:00:00Z',
    });
    expect(read.orders).toHaveLength(7);
    expect(read.orders.filter((o) => o.status === 'cancelled')).toHaveLength(1);
    expect(sent.length).toBe(read.pages);
    expect(await readShopifyOrder({ graphql, pacer }, '1')).toBeNull();

    const delivered = receiver.received.map((r) =>
      OrderPayloadSchema.parse(parseShopifyJson(r.raw.toString('utf8'))),
    );
    expect(delivered).toHaveLength(7);
    for (const webhook of delivered) {
      const node = await readShopifyOrder({ graphql, pacer }, webhook.id);
      if (!node) throw new Error(`order ${webhook.id} not read`);
      const fromGraphql = mapOrder(OrderPayloadSchema.parse(toOrderPayload(node)), {
        shopDomain: SHOP,
        currency: 'USD',
      });
      const fromWebhook = mapOrder(webhook, { shopDomain: SHOP, currency: 'USD' });
      // The webhook was sent at creation; the cancelled order has changed since (status, times, current totals).
      if (node.cancelledAt) {
        expect(fromGraphql.lines.map((l) => l.sku)).toEqual(fromWebhook.lines.map((l) => l.sku));
        expect(fromGraphql.totals).toEqual(fromWebhook.totals);
        continue;
      }
      expect(fromGraphql).toEqual(fromWebhook);
      const order = read.orders.find((o) => o.orderId === webhook.id);
      expect(order?.total).toEqual(fromWebhook.totals.total);
    }
  });

  it('reads only the window (updated_at)', async () => {
    const read = await readShopifyOrders({
      graphql: shopifyGraphql({ baseUrl: h.base, accessToken: h.app.credentials.accessToken }),
      pacer: new CostPacer(),
      shopDomain: SHOP,
      since: '2100-01-01T00:00:00Z',
      until: '2100-01-02T00:00:00Z',
    });
    expect(read.orders).toEqual([]);
  });
});
