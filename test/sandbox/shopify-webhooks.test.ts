import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, type ShopifySandbox, signBody } from '#sandbox/shopify/index.ts';
import { fixtureText } from '#test/support/fixtures.ts';
import {
  field,
  gidOf,
  type Received,
  type ShopifyHarness,
  startReceiver,
  startShopify,
} from './shopify-helpers.ts';

/**
 * Webhooks and store activity of the Shopify sandbox: signatures checked by an independent
 * implementation of Shopify's algorithm, headers, payload shapes against Shopify's documented
 * samples, at-least-once delivery with retries, duplicate/drop faults, determinism under a seed,
 * and the pick-up, refund, return and product flows through the Admin API.
 */

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(fixtureText(`shopify/webhooks/${name}.json`)) as Record<string, unknown>;

/** Independent verification, as a receiver implements it: base64 HMAC-SHA256 of the raw bytes. */
function verify(raw: Buffer, header: string | undefined, secret: string): boolean {
  if (!header) return false;
  const expected = createHmac('sha256', secret).update(raw).digest();
  const got = Buffer.from(header, 'base64');
  return got.length === expected.length && timingSafeEqual(got, expected);
}

const json = (r: Received): Record<string, unknown> =>
  JSON.parse(r.raw.toString('utf8')) as Record<string, unknown>;
const topicOf = (r: Received): string => r.headers['x-shopify-topic'] ?? '';
const keys = (o: unknown): string[] => Object.keys(o as Record<string, unknown>).sort();

type Captured = { url: string; headers: Record<string, string>; body: string };

/** A fetch stand-in that records deliveries (deterministic, no sockets). */
function capture(): { fetch: typeof fetch; calls: Captured[] } {
  const calls: Captured[] = [];
  const fn = (async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({
      url: String(url),
      headers: { ...(init?.headers as Record<string, string>) },
      body: String(init?.body),
    });
    return new Response(null, { status: 200 });
  }) as typeof fetch;
  return { fetch: fn, calls };
}

describe('shopify sandbox: webhook signatures', () => {
  it('signs like Shopify: matches the published test vectors and an independent implementation', () => {
    // Vectors from test/fixtures/shopify/webhooks/SOURCES.md (Shopify's own libraries' tests).
    expect(signBody('{"foo": "bar"}', 'test_secret_key')).toBe(
      'B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=',
    );
    expect(signBody('{"foo":"bar"}', 'steffi')).toBe('/Redz4YXHLnSmmSN8grr5/Jl/Ua3d7yX3iWbjb8R8wo=');
    expect(signBody('{}', 'API_SECRET_KEY')).toBe('+ihUB5l+D7QrohDEi/6NcBcJRyKssyWqos13LmnsBbs=');
    expect(
      verify(Buffer.from('foo=anything'), 'yCGX/RrK4fcuNtr3ztk5tQGsOBjcAzHpGLdMUrbV8yI=', 'secret'),
    ).toBe(true);
    expect(
      verify(Buffer.from('{"foo": "bar"}'), signBody('{"foo": "bar"}', 'other'), 'test_secret_key'),
    ).toBe(false);
  });
});

describe('shopify sandbox: factory', () => {
  it('accepts the local cloud settings: shop domain, app secret and a webhook URL for every topic', async () => {
    const app = (await createSandbox({
      seed: 42,
      items: 50,
      stores: 2,
      shopDomain: 'omnihub-dev.myshopify.com',
      appSecret: 'omnihub-local-shopify-secret',
      webhookUrl: 'http://127.0.0.1:3000/webhooks/shopify',
    })) as ShopifySandbox;
    try {
      expect(app.credentials).toMatchObject({
        shopDomain: 'omnihub-dev.myshopify.com',
        appSecret: 'omnihub-local-shopify-secret',
      });
      const subs = app.store.subscriptions;
      expect(subs.length).toBeGreaterThanOrEqual(11);
      expect(new Set(subs.map((s) => s.uri))).toEqual(new Set(['http://127.0.0.1:3000/webhooks/shopify']));
      expect(subs.map((s) => s.topic)).toEqual(
        expect.arrayContaining(['ORDERS_CREATE', 'REFUNDS_CREATE', 'INVENTORY_LEVELS_UPDATE']),
      );
      await app.reset();
      expect(app.store.subscriptions).toHaveLength(subs.length);
    } finally {
      await app.close();
    }
  });
});

describe('shopify sandbox: webhook delivery over HTTP', () => {
  let h: ShopifyHarness;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const failFirst = new Map<string, number>();

  beforeAll(async () => {
    // The first two attempts of every delivery fail with 503; the third succeeds.
    receiver = await startReceiver((r) => {
      const id = r.headers['x-shopify-webhook-id'] ?? '';
      const n = (failFirst.get(id) ?? 0) + 1;
      failFirst.set(id, n);
      return n <= 2 ? 503 : 200;
    });
    h = await startShopify({ seed: 5, webhookRetry: { initialBackoffMs: 10, maxBackoffMs: 40 } });
    const sub = await h.control('POST', 'subscriptions', {
      topic: '*',
      uri: receiver.url,
      name: 'omnihub-local',
    });
    expect(sub.status).toBe(201);
    const run = await h.control('POST', 'scenario', {
      seed: 3,
      orders: 4,
      pickupShare: 0.5,
      refunds: 1,
      fulfillments: 1,
      edits: 1,
      wait: true,
    });
    expect(run.status).toBe(200);
  });
  afterAll(async () => {
    await h.close();
    await receiver.close();
  });

  it('delivers every event with a signature an independent verifier accepts', () => {
    expect(receiver.received.length).toBeGreaterThan(0);
    for (const r of receiver.received) {
      expect(verify(r.raw, r.headers['x-shopify-hmac-sha256'], h.app.credentials.appSecret)).toBe(true);
      expect(verify(r.raw, r.headers['x-shopify-hmac-sha256'], 'wrong-secret')).toBe(false);
    }
  });

  it('sends all X-Shopify-* headers', () => {
    for (const r of receiver.received) {
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-shopify-shop-domain']).toBe('omnihub-demo.myshopify.com');
      expect(r.headers['x-shopify-api-version']).toBe('2026-10');
      expect(r.headers['x-shopify-name']).toBe('omnihub-local');
      expect(r.headers['x-shopify-webhook-id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
      );
      expect(r.headers['x-shopify-event-id']).toMatch(/^[0-9a-f-]{36}$/);
      expect(Number.isNaN(Date.parse(r.headers['x-shopify-triggered-at'] ?? ''))).toBe(false);
      expect(h.app.emitter.events().some((e) => e.topic === topicOf(r))).toBe(true);
    }
  });

  it('retries non-2xx answers with the same webhook id, body and trigger time, and counts them', async () => {
    const byId = new Map<string, Received[]>();
    for (const r of receiver.received) {
      const id = r.headers['x-shopify-webhook-id'] ?? '';
      byId.set(id, [...(byId.get(id) ?? []), r]);
    }
    for (const attempts of byId.values()) {
      expect(attempts).toHaveLength(3);
      expect(new Set(attempts.map((a) => a.raw.toString('base64'))).size).toBe(1);
      expect(new Set(attempts.map((a) => a.headers['x-shopify-triggered-at'])).size).toBe(1);
    }
    const state = await h.control('GET', 'state?records=none');
    const counters = (
      state.body.counters as { webhooks: { delivered: number; retried: number; failed: number } }
    ).webhooks;
    expect(counters.delivered).toBe(byId.size);
    expect(counters.retried).toBe(2 * byId.size);
    expect(counters.failed).toBe(0);
  });

  it('renders bodies in the REST shape of Shopify’s documented samples', () => {
    const first = (topic: string) => {
      const r = receiver.received.find((x) => topicOf(x) === topic);
      if (!r) throw new Error(`no ${topic} delivery`);
      return json(r);
    };
    const order = first('orders/create');
    const sample = fixture('orders__create');
    expect(keys(order)).toEqual(keys(sample));
    expect(keys((order.line_items as unknown[])[0])).toEqual(keys((sample.line_items as unknown[])[0]));
    expect(order.admin_graphql_api_id).toBe(`gid://shopify/Order/${order.id as number}`);
    expect(Number.isSafeInteger(order.id)).toBe(true);
    expect(order.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$/);

    const refund = first('refunds/create');
    const refundSample = fixture('refunds__create');
    expect(keys(refund)).toEqual(keys(refundSample));
    const rl = (refund.refund_line_items as Array<Record<string, unknown>>)[0];
    expect(keys(rl)).toEqual(keys((refundSample.refund_line_items as unknown[])[0]));
    expect(keys(rl?.line_item)).toEqual(
      keys((refundSample.refund_line_items as Array<Record<string, unknown>>)[0]?.line_item),
    );
    expect(keys((refund.transactions as unknown[])[0])).toEqual(
      keys((refundSample.transactions as unknown[])[0]),
    );

    const level = first('inventory_levels/update');
    expect(keys(level)).toEqual(keys(fixture('inventory_levels__update')));
    expect(typeof level.available).toBe('number');
    expect(level.admin_graphql_api_id).toBe(
      `gid://shopify/InventoryLevel/${level.location_id as number}?inventory_item_id=${level.inventory_item_id as number}`,
    );
  });

  it('marks pick-up orders: no shipping address, a pick-up shipping line', () => {
    const orders = receiver.received.filter((r) => topicOf(r) === 'orders/create').map(json);
    const lineOf = (o: Record<string, unknown>) =>
      (o.shipping_lines as Array<{ code: string; delivery_category: string | null }>)[0];
    const pickup = orders.find((o) => lineOf(o)?.code === 'Pickup');
    if (!pickup) throw new Error('no pick-up order in the scenario');
    expect(pickup.shipping_address).toBeNull();
    expect(lineOf(pickup)?.delivery_category).toBe('pick-up');
  });
});

describe('shopify sandbox: webhook faults', () => {
  it('duplicates deliveries with identical webhook ids and bodies, and counts them', async () => {
    const cap = capture();
    const h = await startShopify({ seed: 8, fetch: cap.fetch });
    try {
      await h.control('POST', 'subscriptions', {
        topic: ['orders/create', 'refunds/create'],
        uri: 'http://127.0.0.1:3000/webhooks/shopify',
      });
      await h.control('POST', 'faults', { webhooks: { duplicateRate: 1 } });
      await h.control('POST', 'scenario', { orders: 3, refunds: 1, wait: true });
      const ids = cap.calls.map((c) => c.headers['x-shopify-webhook-id']);
      expect(cap.calls.length).toBe(2 * new Set(ids).size);
      for (const id of new Set(ids)) {
        const copies = cap.calls.filter((c) => c.headers['x-shopify-webhook-id'] === id);
        expect(copies).toHaveLength(2);
        expect(copies[0]?.body).toBe(copies[1]?.body);
      }
      const counters = (
        (await h.control('GET', 'state?records=none')).body.counters as {
          webhooks: { duplicated: number; delivered: number };
        }
      ).webhooks;
      expect(counters.duplicated).toBe(new Set(ids).size);
      expect(counters.delivered).toBe(cap.calls.length);
    } finally {
      await h.close();
    }
  });

  it('drops deliveries (counted, recorded in the event log) — what reconciliation must catch', async () => {
    const cap = capture();
    const h = await startShopify({ seed: 8, fetch: cap.fetch });
    try {
      await h.control('POST', 'subscriptions', {
        topic: 'orders/create',
        uri: 'http://127.0.0.1:3000/webhooks/shopify',
      });
      await h.control('POST', 'faults', { seed: 99, webhooks: { dropRate: 0.5 } });
      const run = await h.control('POST', 'scenario', { orders: 20, wait: true });
      const state = await h.control('GET', 'state?records=events,orders&limit=1000&topic=orders/create');
      const counters = (state.body.counters as { webhooks: { dropped: number; delivered: number } }).webhooks;
      expect(counters.dropped).toBeGreaterThan(0);
      expect(counters.dropped + counters.delivered).toBe(20);
      expect(cap.calls).toHaveLength(counters.delivered);
      // Reconciliation view: the orders the hub never heard of are exactly the dropped events.
      const events = (
        state.body.records as {
          events: { items: Array<{ resourceId: string; deliveries: Array<{ state: string }> }> };
        }
      ).events.items;
      const dropped = events
        .filter((e) => e.deliveries.every((d) => d.state === 'dropped'))
        .map((e) => e.resourceId)
        .sort();
      const heard = new Set(cap.calls.map((c) => String((JSON.parse(c.body) as { id: number }).id)));
      const missing = (run.body.orders as { ids: string[] }).ids.filter((id) => !heard.has(id)).sort();
      expect(missing).toEqual(dropped);
    } finally {
      await h.close();
    }
  });

  it('reorders deliveries (held back until the next event) without losing any', async () => {
    const cap = capture();
    const h = await startShopify({ seed: 8, fetch: cap.fetch, reorderHoldMs: 50 });
    try {
      await h.control('POST', 'subscriptions', {
        topic: 'orders/create',
        uri: 'http://127.0.0.1:3000/webhooks/shopify',
      });
      await h.control('POST', 'faults', { seed: 3, webhooks: { reorderRate: 0.5 } });
      const run = await h.control('POST', 'scenario', { orders: 12, wait: true });
      const counters = (
        (await h.control('GET', 'state?records=none')).body.counters as { webhooks: { reordered: number } }
      ).webhooks;
      const arrived = cap.calls.map((c) => String((JSON.parse(c.body) as { id: number }).id));
      const placed = (run.body.orders as { ids: string[] }).ids;
      expect(counters.reordered).toBeGreaterThan(0);
      expect([...arrived].sort()).toEqual([...placed].sort());
      expect(arrived).not.toEqual(placed);
    } finally {
      await h.close();
    }
  });

  it('lets reconciliation find the orders whose webhooks were dropped through the orders query', async () => {
    const cap = capture();
    const h = await startShopify({ seed: 9, fetch: cap.fetch });
    try {
      await h.control('POST', 'subscriptions', {
        topic: 'orders/create',
        uri: 'http://127.0.0.1:3000/webhooks/shopify',
      });
      await h.control('POST', 'faults', { seed: 4, webhooks: { dropRate: 0.3 } });
      const run = await h.control('POST', 'scenario', {
        orders: 15,
        startAt: '2026-11-02T09:00:00Z',
        wait: true,
      });
      const heard = new Set(cap.calls.map((c) => String((JSON.parse(c.body) as { id: number }).id)));
      const r = await h.gql(
        `{ orders(first: 50, sortKey: UPDATED_AT, query: "updated_at:>='2026-11-02T09:00:00Z' AND status:open") { nodes { id name } } }`,
      );
      const listed = field<{ nodes: Array<{ id: string }> }>(r, 'orders').nodes.map(
        (n) => n.id.split('/').pop() ?? '',
      );
      expect(listed.sort()).toEqual([...(run.body.orders as { ids: string[] }).ids].sort());
      const missing = listed.filter((id) => !heard.has(id));
      expect(missing.length).toBeGreaterThan(0);
      expect(missing.length).toBe(
        ((await h.control('GET', 'state?records=none')).body.counters as { webhooks: { dropped: number } })
          .webhooks.dropped,
      );
    } finally {
      await h.close();
    }
  });

  it('renders API faults in Shopify’s shapes: 5xx, outage 503, throttle storm THROTTLED, timeouts', async () => {
    const h = await startShopify({ seed: 8 });
    try {
      await h.control('POST', 'faults', { errorRate: 1, errorStatuses: [502] });
      expect((await h.gql('{ shop { name } }')).status).toBe(502);
      await h.control('POST', 'faults', { outage: { durationMs: 60_000 } });
      const outage = await h.gql('{ shop { name } }');
      expect(outage.status).toBe(503);
      expect(outage.headers.get('retry-after')).not.toBeNull();
      await h.control('POST', 'faults', { throttleStorm: { rate: 1, durationMs: 60_000 } });
      const storm = await h.gql('{ shop { name } }');
      expect(storm.status).toBe(200);
      expect(storm.body.errors?.[0]?.extensions?.code).toBe('THROTTLED');
      await h.control('POST', 'faults', { timeoutRate: 1, timeoutMs: 50 });
      await expect(h.gql('{ shop { name } }')).rejects.toThrow();
      await h.control('POST', 'faults', {});
      expect((await h.gql('{ shop { name } }')).status).toBe(200);
      const counters = (await h.control('GET', 'state?records=none')).body.counters as Record<string, number>;
      expect(counters).toMatchObject({
        faultErrors: 1,
        outageRejections: 1,
        throttledByStorm: 1,
        timeouts: 1,
      });
    } finally {
      await h.close();
    }
  });
});

describe('shopify sandbox: determinism', () => {
  async function run(seed: number): Promise<Captured[]> {
    const cap = capture();
    const h = await startShopify({
      seed: 21,
      fetch: cap.fetch,
      clock: () => Date.parse('2026-11-02T12:00:00Z'),
    });
    try {
      await h.control('POST', 'subscriptions', { topic: '*', uri: 'http://127.0.0.1:3000/webhooks/shopify' });
      await h.control('POST', 'scenario', {
        seed,
        orders: 8,
        pickupShare: 0.4,
        edits: 2,
        cancellations: 1,
        refunds: 2,
        fulfillments: 2,
        stockAdjustments: 2,
        productUpdates: 1,
        startAt: '2026-11-02T09:00:00Z',
        wait: true,
      });
      return cap.calls;
    } finally {
      await h.close();
    }
  }

  it('gives identical webhook bodies and ids for the same seed and scenario', async () => {
    const [a, b, c] = await Promise.all([run(4), run(4), run(5)]);
    expect(a.length).toBeGreaterThan(20);
    expect(b).toEqual(a);
    expect(c.map((x) => x.body)).not.toEqual(a.map((x) => x.body));
    const times = a.map((x) => x.headers['x-shopify-triggered-at'] ?? '');
    expect(times.every((t) => t >= '2026-11-02T09:00:00.000Z')).toBe(true);
  });
});

describe('shopify sandbox: store flows through the Admin API', () => {
  let h: ShopifyHarness;
  const cap = capture();
  const topics = () => cap.calls.map((c) => c.headers['x-shopify-topic']);
  const level = (sku: string, locationId: string) => {
    const item = h.app.store.itemBySku.get(sku);
    const loc = h.app.store.locationById.get(locationId);
    if (!item || !loc) throw new Error('unknown level');
    return h.app.store.quantities(item, loc);
  };

  beforeAll(async () => {
    h = await startShopify({ seed: 13, fetch: cap.fetch });
    await h.control('POST', 'subscriptions', { topic: '*', uri: 'http://127.0.0.1:3000/webhooks/shopify' });
  });
  afterAll(async () => {
    await h.close();
  });

  it('BOPIS: pick-up order → ready for pickup → picked up', async () => {
    const run = await h.control('POST', 'scenario', { seed: 2, orders: 2, pickupShare: 1, wait: true });
    const orderId = (run.body.orders as { ids: string[] }).ids[0] ?? '';
    const q =
      await h.gql(`{ order(id: "${gidOf('Order', orderId)}") { name fulfillmentOrders(first: 5) { nodes {
      id status deliveryMethod { methodType } assignedLocation { location { id name } }
      supportedActions { action } lineItems(first: 10) { nodes { id sku remainingQuantity } } } } } }`);
    const fo = field<{ fulfillmentOrders: { nodes: Array<Record<string, unknown>> } }>(q, 'order')
      .fulfillmentOrders.nodes[0] as {
      id: string;
      deliveryMethod: { methodType: string };
      assignedLocation: { location: { id: string } };
      supportedActions: Array<{ action: string }>;
      lineItems: { nodes: Array<{ id: string; sku: string; remainingQuantity: number }> };
    };
    expect(fo.deliveryMethod.methodType).toBe('PICK_UP');
    // Shopify has no pick-up action in FulfillmentOrderAction: readiness is the
    // fulfillmentOrderLineItemsPreparedForPickup mutation below.
    expect(fo.supportedActions.map((a) => a.action)).toEqual(['CREATE_FULFILLMENT', 'HOLD', 'MOVE']);
    const storeId = fo.assignedLocation.location.id.split('/').pop() ?? '';
    expect(h.app.store.locationById.get(storeId)?.kind).toBe('store');
    const line = fo.lineItems.nodes[0];
    if (!line) throw new Error('no line');
    const committedBefore = level(line.sku, storeId).committed;
    expect(committedBefore).toBeGreaterThanOrEqual(line.remainingQuantity);

    const ready = await h.gql(
      'mutation($id: ID!) { fulfillmentOrderLineItemsPreparedForPickup(input: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: $id }] }) { userErrors { field message code } } }',
      { id: fo.id },
    );
    expect(ready.body.data).toEqual({ fulfillmentOrderLineItemsPreparedForPickup: { userErrors: [] } });
    await h.app.flushWebhooks();
    const prepared = cap.calls.find(
      (c) => c.headers['x-shopify-topic'] === 'fulfillment_orders/line_items_prepared_for_pickup',
    );
    expect(JSON.parse(prepared?.body ?? '{}')).toMatchObject({
      fulfillment_order: { id: fo.id, delivery_method: { method_type: 'pickup' } },
    });

    const again = await h.gql(
      'mutation($id: ID!) { fulfillmentOrderLineItemsPreparedForPickup(input: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: $id }] }) { userErrors { code } } }',
      { id: fo.id },
    );
    expect(
      field<{ userErrors: Array<{ code: string }> }>(again, 'fulfillmentOrderLineItemsPreparedForPickup')
        .userErrors[0]?.code,
    ).toBe('NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER');

    const onHandBefore = level(line.sku, storeId).on_hand;
    const picked = await h.gql(
      'mutation($id: ID!) { fulfillmentCreate(fulfillment: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: $id }] }) { fulfillment { id status } userErrors { message } } }',
      { id: fo.id },
    );
    expect(picked.body.data?.fulfillmentCreate).toMatchObject({
      fulfillment: { status: 'SUCCESS' },
      userErrors: [],
    });
    expect(level(line.sku, storeId).committed).toBe(committedBefore - line.remainingQuantity);
    expect(level(line.sku, storeId).on_hand).toBe(onHandBefore - line.remainingQuantity);
  });

  it('refundCreate restocks cancelled units, emits refunds/create, and replays by idempotency key', async () => {
    const run = await h.control('POST', 'scenario', { seed: 3, orders: 1, pickupShare: 0, wait: true });
    const order = h.app.store.orderById.get((run.body.orders as { ids: string[] }).ids[0] ?? '');
    const line = order?.lineItems[0];
    if (!order || !line?.sku) throw new Error('no order');
    const before = level(line.sku, order.locationId);
    const REFUND = `mutation($input: RefundInput!, $key: String!) { refundCreate(input: $input) @idempotent(key: $key) {
      refund { id totalRefundedSet { shopMoney { amount } } refundLineItems(first: 5) { nodes { quantity restockType location { id } } } }
      userErrors { field message } } }`;
    const input = {
      orderId: gidOf('Order', order.id),
      note: 'Customer changed their mind',
      refundLineItems: [
        {
          lineItemId: gidOf('LineItem', line.id),
          quantity: 1,
          restockType: 'CANCEL',
          locationId: gidOf('Location', order.locationId),
        },
      ],
      transactions: [
        {
          orderId: gidOf('Order', order.id),
          kind: 'REFUND',
          gateway: 'shopify_payments',
          amount: (line.priceMinor / 100).toFixed(2),
        },
      ],
    };
    const first = await h.gql(REFUND, { input, key: `refund-${order.id}` });
    const second = await h.gql(REFUND, { input, key: `refund-${order.id}` });
    const p1 = first.body.data?.refundCreate as {
      refund: { id: string; totalRefundedSet: { shopMoney: { amount: string } } };
      userErrors: unknown[];
    };
    expect(p1.userErrors).toEqual([]);
    expect(p1.refund.totalRefundedSet.shopMoney.amount).toBe((line.priceMinor / 100).toFixed(2));
    expect(second.body.data?.refundCreate).toEqual(first.body.data?.refundCreate);
    expect(order.refundIds).toHaveLength(1);
    const after = level(line.sku, order.locationId);
    expect(after.available).toBe(before.available + 1);
    expect(after.committed).toBe(before.committed - 1);
    await h.app.flushWebhooks();
    expect(topics()).toContain('refunds/create');
    const missingKey = await h.gql(
      'mutation($input: RefundInput!) { refundCreate(input: $input) { userErrors { message } } }',
      { input },
    );
    expect(missingKey.body.errors?.[0]?.extensions?.code).toBe('BAD_REQUEST');
  });

  it('returnCreate → returnProcess restocks the returned units and refunds them', async () => {
    const run = await h.control('POST', 'scenario', {
      seed: 4,
      orders: 1,
      pickupShare: 0,
      fulfillments: 1,
      wait: true,
    });
    const order = h.app.store.orderById.get((run.body.orders as { ids: string[] }).ids[0] ?? '');
    const fulfillment = order ? h.app.store.fulfillmentById.get(order.fulfillmentIds[0] ?? '') : undefined;
    const fl = fulfillment?.lineItems[0];
    const line = order?.lineItems.find((l) => l.id === fl?.lineItemId);
    if (!order || !fl || !line?.sku) throw new Error('no fulfilled order');
    const store = h.app.store.locations[2];
    if (!store) throw new Error('no store');
    const before = level(line.sku, store.id);
    const created = await h.gql(
      `mutation($input: ReturnInput!) { returnCreate(returnInput: $input) { return { id status
        returnLineItems(first: 5) { nodes { id quantity ... on ReturnLineItem { fulfillmentLineItem { id } } } }
        reverseFulfillmentOrders(first: 1) { nodes { lineItems(first: 5) { nodes { id } } } } } userErrors { field message code } } }`,
      {
        input: {
          orderId: gidOf('Order', order.id),
          returnLineItems: [
            {
              fulfillmentLineItemId: gidOf('FulfillmentLineItem', fl.id),
              quantity: 1,
              returnReasonNote: 'Too small',
            },
          ],
        },
      },
    );
    const ret = field<{
      return: {
        id: string;
        status: string;
        returnLineItems: { nodes: Array<{ id: string }> };
        reverseFulfillmentOrders: { nodes: Array<{ lineItems: { nodes: Array<{ id: string }> } }> };
      };
    }>(created, 'returnCreate').return;
    expect(ret.status).toBe('OPEN');
    const rli = ret.returnLineItems.nodes[0]?.id;
    const sale = order.transactions.find((t) => t.kind === 'SALE');
    if (!sale) throw new Error('no sale transaction');
    const rfoli = ret.reverseFulfillmentOrders.nodes[0]?.lineItems.nodes[0]?.id;
    const processed = await h.gql(
      `mutation($input: ReturnProcessInput!) { returnProcess(input: $input) { return { status refunds(first: 2) { nodes { id } } } userErrors { field message code } } }`,
      {
        input: {
          returnId: ret.id,
          returnLineItems: [
            {
              id: rli,
              quantity: 1,
              dispositions: [
                {
                  reverseFulfillmentOrderLineItemId: rfoli,
                  quantity: 1,
                  locationId: gidOf('Location', store.id),
                  dispositionType: 'RESTOCKED',
                },
              ],
            },
          ],
          financialTransfer: {
            issueRefund: {
              orderTransactions: [
                {
                  parentId: gidOf('OrderTransaction', sale.id),
                  transactionAmount: { amount: (line.priceMinor / 100).toFixed(2), currencyCode: 'USD' },
                },
              ],
            },
          },
        },
      },
    );
    expect(processed.body.data?.returnProcess).toMatchObject({
      return: { status: 'CLOSED' },
      userErrors: [],
    });
    expect(level(line.sku, store.id).available).toBe(before.available + 1);
    expect(order.refundIds).toHaveLength(1);
    await h.app.flushWebhooks();
    const refundBody = cap.calls
      .filter((c) => c.headers['x-shopify-topic'] === 'refunds/create')
      .map((c) => JSON.parse(c.body) as { order_id: number; return: { id: number } | null });
    expect(refundBody.some((r) => String(r.order_id) === order.id && r.return !== null)).toBe(true);
  });

  it('returnProcess refusing the refund (more than was paid) changes nothing: the return stays open and cancellable', async () => {
    const run = await h.control('POST', 'scenario', {
      seed: 6,
      orders: 1,
      pickupShare: 0,
      fulfillments: 1,
      wait: true,
    });
    const order = h.app.store.orderById.get((run.body.orders as { ids: string[] }).ids[0] ?? '');
    const fulfillment = order ? h.app.store.fulfillmentById.get(order.fulfillmentIds[0] ?? '') : undefined;
    const fl = fulfillment?.lineItems[0];
    const line = order?.lineItems.find((l) => l.id === fl?.lineItemId);
    const sale = order?.transactions.find((t) => t.kind === 'SALE');
    const store = h.app.store.locations[2];
    if (!order || !fl || !line?.sku || !sale || !store) throw new Error('no fulfilled order');
    const before = level(line.sku, store.id);
    const created = await h.gql(
      `mutation($input: ReturnInput!) { returnCreate(returnInput: $input) { return { id
        returnLineItems(first: 5) { nodes { id } }
        reverseFulfillmentOrders(first: 1) { nodes { lineItems(first: 5) { nodes { id } } } } } userErrors { code } } }`,
      {
        input: {
          orderId: gidOf('Order', order.id),
          returnLineItems: [{ fulfillmentLineItemId: gidOf('FulfillmentLineItem', fl.id), quantity: 1 }],
        },
      },
    );
    const ret = field<{
      return: {
        id: string;
        returnLineItems: { nodes: Array<{ id: string }> };
        reverseFulfillmentOrders: { nodes: Array<{ lineItems: { nodes: Array<{ id: string }> } }> };
      };
    }>(created, 'returnCreate').return;
    const paid = order.transactions.reduce((sum, t) => sum + (t.kind === 'SALE' ? t.amountMinor : 0), 0);
    const processed = await h.gql(
      `mutation($input: ReturnProcessInput!) { returnProcess(input: $input) { return { status } userErrors { field message code } } }`,
      {
        input: {
          returnId: ret.id,
          returnLineItems: [
            {
              id: ret.returnLineItems.nodes[0]?.id,
              quantity: 1,
              dispositions: [
                {
                  reverseFulfillmentOrderLineItemId:
                    ret.reverseFulfillmentOrders.nodes[0]?.lineItems.nodes[0]?.id,
                  quantity: 1,
                  locationId: gidOf('Location', store.id),
                  dispositionType: 'RESTOCKED',
                },
              ],
            },
          ],
          financialTransfer: {
            issueRefund: {
              orderTransactions: [
                {
                  parentId: gidOf('OrderTransaction', sale.id),
                  transactionAmount: { amount: ((paid + 1000) / 100).toFixed(2), currencyCode: 'USD' },
                },
              ],
            },
          },
        },
      },
    );
    // A userError with a ReturnErrorCode (not a failed response), and nothing applied.
    expect(processed.body.errors).toBeUndefined();
    expect(processed.body.data?.returnProcess).toMatchObject({
      return: null,
      userErrors: [{ code: 'INVALID', message: expect.stringMatching(/exceeds the refundable amount/) }],
    });
    expect(level(line.sku, store.id).available).toBe(before.available);
    expect(order.refundIds).toEqual([]);
    const cancelled = await h.gql(
      `mutation($id: ID!) { returnCancel(id: $id) { return { status } userErrors { code } } }`,
      { id: ret.id },
    );
    expect(cancelled.body.data?.returnCancel).toEqual({ return: { status: 'CANCELED' }, userErrors: [] });
  });

  it('productSet creates and updates products, emitting products/create and products/update', async () => {
    const SET = `mutation($input: ProductSetInput!, $identifier: ProductSetIdentifiers) { productSet(input: $input, identifier: $identifier) {
      product { id handle variants(first: 5) { nodes { sku price inventoryItem { id } } } } userErrors { field message code } } }`;
    const wh = h.app.store.onlineWarehouse;
    const input = {
      title: 'Sandbox Test Tee',
      handle: 'sandbox-test-tee',
      productOptions: [{ name: 'Size', values: [{ name: 'S' }, { name: 'M' }] }],
      variants: [
        {
          optionValues: [{ optionName: 'Size', name: 'S' }],
          price: '19.99',
          inventoryItem: { sku: 'TEST-TEE-S' },
          inventoryQuantities: [{ locationId: gidOf('Location', wh.id), name: 'available', quantity: 12 }],
        },
        {
          optionValues: [{ optionName: 'Size', name: 'M' }],
          price: '19.99',
          inventoryItem: { sku: 'TEST-TEE-M' },
        },
      ],
    };
    const created = await h.gql(SET, { input });
    const product = created.body.data?.productSet as {
      product: { id: string; variants: { nodes: Array<{ sku: string }> } };
      userErrors: unknown[];
    };
    expect(product.userErrors).toEqual([]);
    expect(product.product.variants.nodes.map((v) => v.sku)).toEqual(['TEST-TEE-S', 'TEST-TEE-M']);
    expect(created.body.extensions?.cost.requestedQueryCost).toBe(Math.ceil(10 + 0.2 * 2 + 2 + 5 * (1 + 1)));
    expect(level('TEST-TEE-S', wh.id).available).toBe(12);
    const updated = await h.gql(SET, {
      identifier: { id: product.product.id },
      input: { ...input, variants: input.variants.map((v) => ({ ...v, price: '24.99' })) },
    });
    expect(
      field<{ product: { variants: { nodes: Array<{ price: string }> } } }>(
        updated,
        'productSet',
      ).product.variants.nodes.map((v) => v.price),
    ).toEqual(['24.99', '24.99']);
    await h.app.flushWebhooks();
    expect(topics()).toEqual(expect.arrayContaining(['products/create', 'products/update']));
    const body = JSON.parse(
      cap.calls.filter((c) => c.headers['x-shopify-topic'] === 'products/update').at(-1)?.body ?? '{}',
    ) as Record<string, unknown>;
    expect(keys(body)).toEqual(keys(fixture('products__update')));
  });

  it('webhookSubscriptionCreate subscribes through the API; reset keeps config subscriptions only', async () => {
    const r = await h.gql(
      'mutation { webhookSubscriptionCreate(topic: ORDERS_CANCELLED, webhookSubscription: { uri: "http://127.0.0.1:3000/webhooks/other", format: JSON }) { webhookSubscription { id topic uri } userErrors { message } } }',
    );
    expect(r.body.data?.webhookSubscriptionCreate).toMatchObject({
      webhookSubscription: { topic: 'ORDERS_CANCELLED' },
      userErrors: [],
    });
    const before = (await h.control('GET', 'subscriptions')).body.subscriptions as Array<{ source: string }>;
    expect(before.some((s) => s.source === 'api')).toBe(true);
    await h.control('POST', 'reset');
    const after = (await h.control('GET', 'subscriptions')).body.subscriptions as Array<{ source: string }>;
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.source === 'config')).toBe(true);
    const state = await h.control('GET', 'state?records=orders');
    expect((state.body.records as { counts: { orders: number } }).counts.orders).toBe(0);
  });
});
