import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { SquareSandbox, squareSignature } from '#sandbox/square/index.ts';
import type { InventoryCount, Order, Payment, SquareEvent } from '#sandbox/square/model.ts';
import { json, type Page, postJson, start, until } from './helpers.ts';

interface SqState {
  records: Page<Record<string, unknown> & { id: string }>;
  counters: Record<string, number>;
  webhooks: Record<string, number>;
}
interface ScenarioResult {
  sales: string[];
  apiSales: string[];
  pickups: string[];
  events: number;
  returns: string[];
  onlineReturns: string[];
  refunds: string[];
  eventIds: string[];
}

/** Independent implementation of Square's documented webhook signature. */
const expectedSignature = (key: string, url: string, body: string) =>
  createHmac('sha256', key)
    .update(url + body)
    .digest('base64');

interface Delivery {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
const received: Delivery[] = [];
let failNext = 0;
let receiver: Server;
let hookUrl = '';
const KEY = 'sandbox-signature-key';

let app: SquareSandbox;
let server: StartedServer;
let base: string;
const TOKEN = 'EAAAEOmnihubSandboxAccessToken';
const sq = (path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'application/json',
      'square-version': '2025-08-20',
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
const state = async (qs = '') => json<SqState>(fetch(`${base}/_control/state${qs}`));
const flush = () => fetch(`${base}/_control/flush`, { method: 'POST' });
const events = () => received.map((d) => JSON.parse(d.body) as SquareEvent);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (failNext > 0) {
        failNext--;
        res.writeHead(500).end();
        return;
      }
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/square`;
  app = new SquareSandbox({
    seed: 11,
    items: 240,
    stores: 4,
    webhooks: [{ url: hookUrl, signatureKey: KEY }],
    retry: { initialBackoffMs: 10, maxBackoffMs: 40, maxAttempts: 4, timeoutMs: 2_000 },
  });
  ({ server, url: base } = await start(app));
});
afterAll(async () => {
  await server.close();
  await new Promise((r) => receiver.close(r));
});
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
  received.length = 0;
  failNext = 0;
});

async function someItem() {
  const s = await state('?view=catalog&limit=1');
  const loc = (await state('?view=locations&limit=1')).records.items[0];
  return { variationId: s.records.items[0]?.id ?? '', locationId: loc?.id ?? '' };
}

describe('square sandbox: signature algorithm', () => {
  it('matches the test vector of Square’s SDKs', () => {
    const body =
      '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
    const url = 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9';
    expect(squareSignature('Ibxx_5AKakO-3qeNVR61Dw', url, body)).toBe(
      'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=',
    );
  });
});

describe('square sandbox: auth', () => {
  it('answers 401 UNAUTHORIZED without the access token', async () => {
    const r = await fetch(`${base}/v2/locations`);
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({
      errors: [{ category: 'AUTHENTICATION_ERROR', code: 'UNAUTHORIZED', detail: expect.any(String) }],
    });
    expect((await sq('/v2/locations')).status).toBe(200);
  });
});

describe('square sandbox: BatchChangeInventory', () => {
  it('requires idempotency_key and at most 100 changes', async () => {
    const { variationId, locationId } = await someItem();
    const change = {
      type: 'ADJUSTMENT',
      adjustment: {
        from_state: 'NONE',
        to_state: 'IN_STOCK',
        location_id: locationId,
        catalog_object_id: variationId,
        quantity: '1',
        occurred_at: new Date().toISOString(),
      },
    };
    const noKey = await sq('/v2/inventory/changes/batch-create', { changes: [change] });
    expect(noKey.status).toBe(400);
    expect(await noKey.json()).toMatchObject({
      errors: [{ code: 'MISSING_REQUIRED_PARAMETER', field: 'idempotency_key' }],
    });
    const tooMany = await sq('/v2/inventory/changes/batch-create', {
      idempotency_key: 'k-101',
      changes: Array(101).fill(change),
    });
    expect(tooMany.status).toBe(400);
    expect(await tooMany.json()).toMatchObject({
      errors: [{ code: 'ARRAY_LENGTH_TOO_LONG', field: 'changes' }],
    });
    const hundred = await sq('/v2/inventory/changes/batch-create', {
      idempotency_key: 'k-100',
      changes: Array(100).fill(change),
    });
    expect(hundred.status).toBe(200);
  });

  it('honours idempotency keys: same body → same response, applied once; other body → IDEMPOTENCY_KEY_REUSED', async () => {
    const { variationId, locationId } = await someItem();
    const body = {
      idempotency_key: 'avail-2026-07-01-1',
      changes: [
        {
          type: 'PHYSICAL_COUNT',
          physical_count: {
            catalog_object_id: variationId,
            location_id: locationId,
            state: 'IN_STOCK',
            quantity: '37',
            occurred_at: new Date().toISOString(),
          },
        },
      ],
    };
    const first = await sq('/v2/inventory/changes/batch-create', body);
    const firstJson = await json<{ counts: InventoryCount[] }>(first);
    expect(firstJson.counts).toEqual([
      expect.objectContaining({
        catalog_object_id: variationId,
        location_id: locationId,
        state: 'IN_STOCK',
        quantity: '37',
      }),
    ]);
    const again = await sq('/v2/inventory/changes/batch-create', {
      changes: body.changes,
      idempotency_key: body.idempotency_key,
    });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual(firstJson);
    const other = await sq('/v2/inventory/changes/batch-create', {
      ...body,
      changes: [
        { ...body.changes[0], physical_count: { ...body.changes[0]?.physical_count, quantity: '5' } },
      ],
    });
    expect(other.status).toBe(400);
    expect(await other.json()).toMatchObject({
      errors: [{ category: 'INVALID_REQUEST_ERROR', code: 'IDEMPOTENCY_KEY_REUSED' }],
    });
    const s = await state(`?view=changes`);
    expect(s.records.total).toBe(1);
    expect(s.counters).toMatchObject({ idempotentReplays: 1, idempotencyConflicts: 1 });
  });

  it('applies changes by occurred_at, so a late physical count does not erase a newer sale', async () => {
    const { variationId, locationId } = await someItem();
    const t = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await sq('/v2/inventory/changes/batch-create', {
      idempotency_key: 'a',
      changes: [
        {
          type: 'ADJUSTMENT',
          adjustment: {
            from_state: 'IN_STOCK',
            to_state: 'SOLD',
            location_id: locationId,
            catalog_object_id: variationId,
            quantity: '2',
            occurred_at: iso(t),
          },
        },
      ],
    });
    const r = await sq('/v2/inventory/changes/batch-create', {
      idempotency_key: 'b',
      changes: [
        {
          type: 'PHYSICAL_COUNT',
          physical_count: {
            catalog_object_id: variationId,
            location_id: locationId,
            state: 'IN_STOCK',
            quantity: '10',
            occurred_at: iso(t - 60_000),
          },
        },
      ],
    });
    expect((await json<{ counts: InventoryCount[] }>(r)).counts[0]?.quantity).toBe('8');
    await flush();
    const counted = events().filter((e) => e.type === 'inventory.count.updated');
    expect(counted.at(-1)?.data.object).toMatchObject({
      inventory_counts: [
        {
          catalog_object_id: variationId,
          quantity: '8',
          state: 'IN_STOCK',
        },
      ],
    });
  });
});

describe('square sandbox: POS activity and webhooks', () => {
  it('publishes payment events for register sales and no order event; the order (no version) is fetched by id', async () => {
    const res = await postJson(`${base}/_control/scenario`, { seed: 3, sales: 4 });
    const { sales } = res.json as ScenarioResult;
    await flush();
    for (const d of received) {
      expect(d.headers['x-square-hmacsha256-signature']).toBe(expectedSignature(KEY, hookUrl, d.body));
      const e = JSON.parse(d.body);
      expect(Object.keys(e)).toEqual(['merchant_id', 'type', 'event_id', 'created_at', 'data']);
    }
    expect(events().filter((e) => e.type.startsWith('order.'))).toEqual([]);
    const completed = events().filter(
      (e) => e.type.startsWith('payment.') && (e.data.object.payment as Payment).status === 'COMPLETED',
    );
    expect(completed.map((e) => (e.data.object.payment as Payment).order_id).sort()).toEqual(
      [...sales].sort(),
    );
    expect(completed[0]?.data).toMatchObject({
      type: 'payment',
      object: { payment: { location_id: expect.any(String) } },
    });
    const { order } = await json<{ order: Order }>(sq(`/v2/orders/${sales[0]}`));
    expect(order.version).toBeUndefined();
    expect(order.line_items?.length).toBeGreaterThan(0);
    expect(order.line_items?.[0]?.base_price_money).toEqual({ amount: expect.any(Number), currency: 'USD' });
    const batch = await json<{ orders: Order[] }>(
      sq('/v2/orders/batch-retrieve', { order_ids: [...sales, 'missing'] }),
    );
    expect(batch.orders.map((o: { id: string }) => o.id)).toEqual(sales);
  });

  it('publishes order events too for orders made through the API, and marks the hub’s own pick-up orders', async () => {
    const res = (await postJson(`${base}/_control/scenario`, { seed: 4, apiSales: 1, pickups: 1 }))
      .json as ScenarioResult;
    await flush();
    const [apiSale] = res.apiSales;
    const [pickup] = res.pickups;
    const typesOf = (id: string | undefined) =>
      events()
        .filter((e) => e.data.id === id || (e.data.object.payment as Payment | undefined)?.order_id === id)
        .map((e) => e.type);
    expect(typesOf(apiSale)).toEqual(
      expect.arrayContaining(['order.created', 'payment.created', 'order.updated']),
    );
    expect(typesOf(pickup)).toEqual(['order.created', 'order.fulfillment.updated', 'order.updated']);
    const { order } = await json<{ order: Order }>(sq(`/v2/orders/${pickup}`));
    expect(order).toMatchObject({
      version: 4,
      metadata: { omnihub_origin: expect.stringMatching(/^shopify:/) },
    });
    expect(order.tenders).toBeUndefined();
    const updated = events().find((e) => e.type === 'order.updated' && e.data.id === apiSale);
    expect(updated?.data.object.order_updated).toMatchObject({
      order_id: apiSale,
      state: 'COMPLETED',
      version: 4,
    });
  });

  it('searches orders as Square does: inclusive time range, sort field must match the filter', async () => {
    const { sales } = (
      await postJson(`${base}/_control/scenario`, { seed: 6, sales: 3, at: '2026-05-01T10:00:00.000Z' })
    ).json as ScenarioResult;
    const orders = await Promise.all(
      sales.map(async (id) => (await json<{ order: Order }>(sq(`/v2/orders/${id}`))).order),
    );
    const locations = [...new Set(orders.map((o) => o.location_id))];
    const first = orders[0]?.updated_at ?? '';
    const filter = { date_time_filter: { updated_at: { start_at: first, end_at: first } } };
    const found = await json<{ orders: Order[] }>(
      sq('/v2/orders/search', {
        location_ids: locations,
        query: { filter, sort: { sort_field: 'UPDATED_AT' } },
      }),
    );
    expect(found.orders.map((o) => o.id)).toEqual([sales[0]]);
    const refused = await sq('/v2/orders/search', { location_ids: locations, query: { filter } });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      errors: [{ code: 'INVALID_VALUE', field: 'query.sort.sort_field' }],
    });
  });

  it('stamps activity forward from `at` at the requested spacing (default 1–90 s)', async () => {
    const at = '2026-05-02T10:00:00.000Z';
    const stamps = async (body: Record<string, unknown>) => {
      const { sales } = (await postJson(`${base}/_control/scenario`, { seed: 7, sales: 5, at, ...body }))
        .json as ScenarioResult;
      const orders = await Promise.all(
        sales.map(async (id) => (await json<{ order: Order }>(sq(`/v2/orders/${id}`))).order),
      );
      return orders.map((o) => Date.parse(o.updated_at ?? '') - Date.parse(at));
    };
    const tight = await stamps({ spacingSeconds: { min: 0, max: 1 } });
    expect(Math.max(...tight)).toBeLessThanOrEqual(5_000);
    const loose = await stamps({});
    expect(Math.max(...loose)).toBeGreaterThan(5_000);
    expect(Math.min(...loose)).toBeGreaterThanOrEqual(1_000);
    const refused = await postJson(`${base}/_control/scenario`, {
      sales: 1,
      spacingSeconds: { min: 2, max: 1 },
    });
    expect(refused.status).toBe(400);
  });

  it('emits refund.created for returns and tags returns of online orders', async () => {
    const res = (
      await postJson(`${base}/_control/scenario`, {
        seed: 8,
        sales: 3,
        returns: 0,
        onlineReturns: [
          {
            reference: '#1042',
            location: 'ST-002',
            lines: [{ sku: 'SKU-000003', quantity: 1, priceMinor: 2500 }],
          },
        ],
      })
    ).json as ScenarioResult;
    const ret = (await postJson(`${base}/_control/scenario`, { seed: 9, returns: 2 })).json as ScenarioResult;
    expect(ret.returns).toHaveLength(2);
    await flush();
    const refunds = events().filter((e) => e.type === 'refund.created');
    expect(refunds).toHaveLength(3);
    const refundOf = (e: SquareEvent) => e.data.object.refund as Record<string, unknown>;
    const linkedRefunds = refunds.filter((e) => refundOf(e).order_id !== res.onlineReturns[0]);
    expect(linkedRefunds[0] && refundOf(linkedRefunds[0])).toMatchObject({
      status: 'PENDING',
      order_id: ret.returns[0],
      amount_money: { currency: 'USD' },
    });
    const { order: online } = await json<{ order: Order }>(sq(`/v2/orders/${res.onlineReturns[0]}`));
    expect(online).toMatchObject({ reference_id: '#1042' });
    expect(online.returns?.[0]?.source_order_id).toBeUndefined();
    // The money went back at the register: an unlinked refund (no payment) naming the return order.
    const unlinked = events()
      .filter((e) => e.type.startsWith('refund.') && refundOf(e).order_id === res.onlineReturns[0])
      .map((e) => [e.type, refundOf(e).status, refundOf(e).unlinked, 'payment_id' in refundOf(e)]);
    expect(unlinked).toEqual([
      ['refund.created', 'PENDING', true, false],
      ['refund.updated', 'COMPLETED', true, false],
    ]);
    // 2500 and the sandbox's 8 % tax.
    expect(online.refunds?.[0]).toMatchObject({ id: res.refunds[0], amount_money: { amount: 2700 } });
    expect(online.returns?.[0]?.return_line_items[0]).toMatchObject({
      quantity: '1',
      base_price_money: { amount: 2500, currency: 'USD' },
    });
    const { order: linked } = await json<{ order: Order }>(sq(`/v2/orders/${ret.returns[0]}`));
    expect(res.sales).toContain(linked.returns?.[0]?.source_order_id);
  });

  it('is deterministic: same scenario and seed give identical events', async () => {
    const run = async () => {
      await fetch(`${base}/_control/reset`, { method: 'POST' });
      await postJson(`${base}/_control/scenario`, {
        seed: 21,
        at: '2026-07-01T10:00:00.000Z',
        sales: 6,
        returns: 2,
        onlineReturns: 1,
        counts: 3,
        adjustments: 2,
      });
      return (await json<Page<SquareEvent>>(fetch(`${base}/_control/events?limit=1000`))).items;
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    await flush();
  });
});

describe('square sandbox: webhook faults', () => {
  it('drops webhooks and counts them', async () => {
    await postJson(`${base}/_control/faults`, { webhooks: { dropRate: 1 } });
    const r = (await postJson(`${base}/_control/scenario`, { seed: 1, sales: 3 })).json as ScenarioResult;
    await flush();
    expect(received).toHaveLength(0);
    expect((await state()).webhooks).toMatchObject({ dropped: r.events, delivered: 0 });
  });

  it('drops every webhook of a scenario run that asks for it (dropWebhooks), and only those', async () => {
    const lost = (await postJson(`${base}/_control/scenario`, { seed: 1, sales: 1, dropWebhooks: true }))
      .json as ScenarioResult;
    const kept = (await postJson(`${base}/_control/scenario`, { seed: 2, sales: 1 })).json as ScenarioResult;
    await flush();
    expect(events().map((e) => e.event_id)).toEqual(kept.eventIds);
    expect((await state()).webhooks).toMatchObject({ dropped: lost.events, delivered: kept.events });
  });

  it('duplicates deliveries with the same event_id', async () => {
    await postJson(`${base}/_control/faults`, { webhooks: { duplicateRate: 1 } });
    const r = (await postJson(`${base}/_control/scenario`, { seed: 1, sales: 1 })).json as ScenarioResult;
    await flush();
    const ids = events().map((e) => e.event_id);
    expect(ids).toHaveLength(2 * r.events);
    expect(new Set(ids).size).toBe(r.events);
    expect((await state()).webhooks).toMatchObject({ duplicated: r.events, delivered: 2 * r.events });
  });

  it('retries non-2xx deliveries with backoff and gives up after maxAttempts', async () => {
    failNext = 2;
    const r = (await postJson(`${base}/_control/scenario`, { seed: 1, sales: 1 })).json as ScenarioResult;
    await flush();
    expect(events()).toHaveLength(r.events);
    let w = (await state()).webhooks;
    expect(w).toMatchObject({ delivered: r.events, retried: 2, failed: 0 });
    failNext = 100;
    await postJson(`${base}/_control/scenario`, { seed: 2, counts: 1, adjustments: 0 });
    await flush();
    w = (await state()).webhooks;
    expect(w.failed).toBe(1);
    failNext = 0;
  });

  it('reorders deliveries when asked', async () => {
    await postJson(`${base}/_control/faults`, { webhooks: { reorderRate: 0.5 }, seed: 4 });
    const r = (await postJson(`${base}/_control/scenario`, { seed: 5, sales: 6 })).json as ScenarioResult;
    await flush();
    const order = events().map((e) => e.event_id);
    expect(order.sort()).toEqual([...r.eventIds].sort());
    expect(order).not.toEqual(r.eventIds);
    expect((await state()).webhooks.reordered).toBeGreaterThan(0);
  });
});

describe('square sandbox: API faults', () => {
  it('injects 5xx and 429 in Square’s error shape', async () => {
    await postJson(`${base}/_control/faults`, { errorRate: 1, errorStatuses: [500] });
    const r = await sq('/v2/locations');
    expect(r.status).toBe(500);
    expect(await r.json()).toMatchObject({
      errors: [{ category: 'API_ERROR', code: 'INTERNAL_SERVER_ERROR' }],
    });
    await postJson(`${base}/_control/faults`, { throttleStorm: { rate: 1, durationMs: 5_000 } });
    const t = await sq('/v2/locations');
    expect(t.status).toBe(429);
    expect(await t.json()).toMatchObject({
      errors: [{ category: 'RATE_LIMIT_ERROR', code: 'RATE_LIMITED' }],
    });
    await until(async () => (await state()).counters.http429 === 1, 1_000);
  });
});
