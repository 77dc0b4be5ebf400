import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { Router, type StartedServer } from '#sandbox/core/http.ts';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { installApiRoutes } from '#sandbox/square/routes.ts';
import { SQUARE_API_VERSION } from '#shared/connectors/square/api-version.ts';
import { SquareClient } from '#shared/connectors/square/client.ts';
import * as payloads from '#shared/connectors/square/payloads.ts';
import { SquarePickupAdapter } from '#shared/flows/bopis/square.ts';
import { fetchSquareCatalog } from '#shared/onboarding/sources.ts';
import { start } from '#test/sandbox/helpers.ts';
import { fixtureText } from '#test/support/fixtures.ts';
import {
  formatIssues,
  loadSquareSpec,
  recordingFetch,
  type SpecIssue,
  type SquareExchange,
} from '#test/support/square-spec.ts';

/**
 * The Square sandbox and the hub's Square calls against Square's OpenAPI document for the pinned
 * version: every request the hub sends (order and catalog reads, onboarding), every answer and
 * webhook body the sandbox produces in a scenario of sales, returns, online returns, counts and
 * shrink plus a call of each of its routes, and Square's own webhook examples. Traffic is recorded,
 * not listed: a route or event type added to the sandbox is validated without touching this file
 * (an added GET route is called with ids seen in the traffic; any other route must be driven below).
 */

const spec = loadSquareSpec();
const fixtureSource = (path: string) =>
  readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');
const TOKEN = 'EAAAEOmnihubSandboxAccessToken';
const HOOK_URL = 'https://hub.invalid/webhooks/pos';

let sandbox: SquareSandbox;
let server: StartedServer;
let base: string;
/** What the hub's own code sent (SquareClient, onboarding) and got back. */
const hub = recordingFetch();
/** What this test sent as a Square client would, and got back. */
const driver = recordingFetch();
/** Requests this test sends invalid on purpose (their answers are validated, the requests are not). */
const refused = recordingFetch();
/** Webhook deliveries, as posted to the subscription. */
const deliveries: string[] = [];
/** Every event the sandbox recorded (`_control/events`), delivered or not. */
const emitted: unknown[] = [];
/** The sandbox's API routes (`METHOD /pattern`). */
const routes: { method: string; pattern: string }[] = [];

const square = (
  via: typeof fetch,
  method: string,
  path: string,
  body?: unknown,
  token = TOKEN,
): Promise<Response> =>
  via(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      'square-version': SQUARE_API_VERSION,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const call = async <T = Record<string, unknown>>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> => {
  const response = await square(driver.fetch, method, path, body);
  const json = (await response.json()) as T;
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(json)}`);
  return json;
};

const control = async (path: string, body?: unknown): Promise<unknown> => {
  const response = await fetch(`${base}/_control/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  return response.json();
};

/** A route pattern (`/v2/orders/:id`) as a path the spec can resolve. */
const samplePath = (pattern: string): string => pattern.replace(/:[^/]+/g, 'x');
const routeKey = (r: { method: string; pattern: string }) => `${r.method} ${r.pattern}`;
const matches = (r: { method: string; pattern: string }, e: SquareExchange): boolean => {
  const parts = r.pattern.split('/').filter(Boolean);
  const segments = new URL(e.url).pathname.slice(new URL(base).pathname.length).split('/').filter(Boolean);
  return (
    e.method === r.method &&
    parts.length === segments.length &&
    parts.every((p, i) => p.startsWith(':') || p === segments[i])
  );
};
const allExchanges = () => [...hub.exchanges, ...driver.exchanges, ...refused.exchanges];

/**
 * Ids seen in the traffic and the webhooks, by the name a path parameter would have: every
 * `<name>_id` field, and the `id` of an object under `<name>` or in an array `<name>s`.
 */
function harvestIds(): Map<string, Set<string>> {
  const ids = new Map<string, Set<string>>();
  const add = (name: string, value: unknown) => {
    if (typeof value !== 'string' || value === '') return;
    const set = ids.get(name) ?? new Set<string>();
    set.add(value);
    ids.set(name, set);
  };
  const walk = (value: unknown, key: string | undefined): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item, key?.replace(/s$/, ''));
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    for (const [name, child] of Object.entries(value)) {
      if (name === 'id' && key) add(`${key}_id`, child);
      if (name.endsWith('_id')) add(name, child);
      walk(child, name);
    }
  };
  for (const e of allExchanges()) walk(e.responseBody, undefined);
  for (const event of emitted) walk(event, undefined);
  return ids;
}

/** Calls each route the scenario and the driver did not reach (see the file doc). */
async function exerciseUncovered(): Promise<void> {
  const ids = harvestIds();
  for (const route of routes) {
    if (driver.exchanges.some((e) => matches(route, e) && e.status < 300)) continue;
    const operation = spec.operation(route.method, samplePath(route.pattern));
    if (!operation) continue; // reported by the coverage test
    let path = operation.template;
    for (const name of Object.keys(operation.pathParams)) {
      const value = [...(ids.get(name) ?? [])][0];
      if (value) path = path.replace(`{${name}}`, encodeURIComponent(value));
    }
    if (route.method === 'GET' || route.method === 'DELETE') await square(driver.fetch, route.method, path);
  }
}

/** Names of the SquareClient methods this test called. */
const clientCalls = new Set<string>();
const callRecorder = <T extends object>(target: T): T =>
  new Proxy(target, {
    get(object, name, receiver) {
      const value = Reflect.get(object, name, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        clientCalls.add(String(name));
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });

/** The public methods of SquareClient, read from its source (TypeScript's `private` leaves no trace at run time). */
const publicClientMethods = (): string[] =>
  [...fixtureSource('shared/connectors/square/client.ts').matchAll(/^ {2}(?:async )?(\w+)\(/gm)]
    .map((match) => match[1] ?? '')
    .filter((name) => name !== 'constructor' && name !== '');

beforeAll(async () => {
  const listing = new (class extends Router {
    override on(...args: Parameters<Router['on']>): this {
      routes.push({ method: args[0].toUpperCase(), pattern: args[1] });
      return super.on(...args);
    }
  })();
  sandbox = new SquareSandbox({
    seed: 17,
    items: 240,
    stores: 4,
    webhooks: [{ url: HOOK_URL, signatureKey: 'spec-test-signature-key' }],
    fetch: async (_url, init) => {
      deliveries.push(String(init?.body));
      return new Response(null, { status: 200 });
    },
    retry: { initialBackoffMs: 5, maxBackoffMs: 20, maxAttempts: 2, timeoutMs: 2_000 },
  });
  installApiRoutes(listing, { session: () => ({}) as never, clock: Date.now });
  ({ server, url: base } = await start(sandbox));

  // POS activity of every kind the sandbox simulates (order.created for POS sales where it still
  // offers that; an unknown scenario option is ignored).
  const scenario = (await control('scenario', {
    seed: 5,
    sales: 8,
    returns: 3,
    onlineReturns: 2,
    counts: 2,
    adjustments: 2,
    orderCreatedForPos: true,
    apiSales: 2,
    pickups: 1,
  })) as { sales: string[]; returns: string[]; onlineReturns: string[]; refunds: string[] };

  // The hub: order reads and catalog lookups as the POS webhook ingress makes them, onboarding reads.
  const client = callRecorder(
    new SquareClient({
      baseUrl: base,
      token: { token: async () => TOKEN, refresh: async () => undefined },
      fetch: hub.fetch,
    }),
  );
  const orderIds = [...scenario.sales, ...scenario.returns, ...scenario.onlineReturns];
  for (const id of orderIds) {
    const order = (await client.retrieveOrder(id)) as {
      line_items?: { catalog_object_id: string; catalog_version?: number }[];
      returns?: { return_line_items: { catalog_object_id: string; catalog_version?: number }[] }[];
    };
    const lines = [...(order.line_items ?? []), ...(order.returns ?? []).flatMap((r) => r.return_line_items)];
    for (const line of lines) await client.retrieveVariation(line.catalog_object_id, line.catalog_version);
  }
  await client.retrieveVariation('NOSUCHVARIATION000000000'); // deleted from the catalog: 404
  // The refund capture and the scheduled sweep (shared/flows/pos-sweep.ts) as they call Square.
  for (const id of scenario.refunds) await client.retrieveRefund(id);
  const sweptLocations = await client.listLocations();
  await client.searchOrders({
    location_ids: sweptLocations.slice(0, 10).map((l) => l.id),
    limit: 500,
    query: {
      filter: {
        state_filter: { states: ['COMPLETED'] },
        date_time_filter: {
          updated_at: { start_at: '2026-01-01T00:00:00.000Z', end_at: new Date().toISOString() },
        },
      },
      sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
    },
  });
  // The finance collector (shared/finance/collector.ts): locations with their time zones and currencies, a
  // window of payments and refunds (by location, and across them), the payment a refund refunds.
  const zones = await client.listLocationZones();
  const window = {
    begin_time: '2026-01-01T00:00:00Z',
    end_time: new Date().toISOString(),
    sort_order: 'ASC',
  };
  await client.listPayments({ ...window, location_id: zones[0]?.id ?? '', limit: '100' });
  await client.listPaymentRefunds({ ...window, location_id: zones[0]?.id ?? '', limit: '100' });
  const anyPayments = await client.listPayments({ begin_time: window.begin_time, limit: '100' });
  const paymentId = (anyPayments.payments[0] as { id?: string } | undefined)?.id;
  if (!paymentId) throw new Error('the scenario made no payments');
  await client.retrievePayment(paymentId);
  await fetchSquareCatalog({ baseUrl: base, accessToken: TOKEN, fetch: hub.fetch });
  // BOPIS: a pick-up order (CreateOrder, twice: the idempotency key answers the same order), the store
  // preparing it (the staff scenario: UpdateOrder's effects, order.fulfillment.updated), then cancelled.
  const pickups = new SquarePickupAdapter(async () => client);
  const pickupRequest = {
    idempotencyKey: 'bopis-shopify:omnihub-dev.myshopify.com:6100000000017',
    locationId: sweptLocations[0]?.id ?? '',
    origin: 'shopify:omnihub-dev.myshopify.com:6100000000017',
    referenceId: '#1001',
    lines: [
      { sku: 'SKU-1', quantity: 2, title: 'Mug', unitPrice: { amount: 1200, currency: 'USD' } },
      // A custom item (no SKU): handed to the store, not held.
      { sku: null, quantity: 1, title: 'Engraving', unitPrice: { amount: 500, currency: 'USD' } },
    ],
    recipient: { displayName: 'Ada Lovelace', phone: '+15550100' },
    pickupWindowSeconds: 72 * 3600,
  };
  const { squareOrderId } = await pickups.create(pickupRequest);
  expect((await pickups.create(pickupRequest)).squareOrderId).toBe(squareOrderId);
  await control('scenario', { staff: { prepare: 1, collect: 0, orderIds: [squareOrderId] } });
  expect(await pickups.cancel(squareOrderId)).toBe('done');
  expect(await pickups.cancel(squareOrderId)).toBe('already');

  // A Square client's calls of each route.
  const { locations } = await call<{ locations: { id: string }[] }>('GET', '/v2/locations');
  const location = locations[0]?.id ?? '';
  const items = await call<{ objects: { id: string }[]; cursor?: string }>('GET', '/v2/catalog/list');
  const variations = await call<{ objects: { id: string }[]; cursor?: string }>(
    'GET',
    '/v2/catalog/list?types=ITEM_VARIATION',
  );
  if (variations.cursor) {
    await call(
      'GET',
      `/v2/catalog/list?${new URLSearchParams({ types: 'ITEM_VARIATION', cursor: variations.cursor })}`,
    );
  }
  const itemId = items.objects[0]?.id ?? '';
  const variationId = variations.objects[0]?.id ?? '';
  await call('GET', `/v2/catalog/object/${itemId}`);
  await call('GET', `/v2/catalog/object/${variationId}?catalog_version=1767225600000`);
  await call('GET', `/v2/inventory/${variationId}?location_ids=${location}`);
  const changes = {
    idempotency_key: 'spec-test-1',
    changes: [
      {
        type: 'PHYSICAL_COUNT',
        physical_count: {
          catalog_object_id: variationId,
          state: 'IN_STOCK',
          location_id: location,
          quantity: '57',
          occurred_at: '2026-01-02T10:00:00Z',
        },
      },
      {
        type: 'ADJUSTMENT',
        adjustment: {
          from_state: 'IN_STOCK',
          to_state: 'WASTE',
          catalog_object_id: variationId,
          location_id: location,
          quantity: '2',
          occurred_at: '2026-01-02T10:05:00Z',
        },
      },
    ],
    ignore_unchanged_counts: true,
  };
  await call('POST', '/v2/inventory/changes/batch-create', changes);
  await call('POST', '/v2/inventory/changes/batch-create', changes); // replayed answer
  const counts = await call<{ cursor?: string }>('POST', '/v2/inventory/counts/batch-retrieve', {
    catalog_object_ids: [variationId, variations.objects[1]?.id ?? variationId],
    location_ids: locations.map((l) => l.id),
    limit: 3,
  });
  await call('POST', '/v2/inventory/counts/batch-retrieve', {
    catalog_object_ids: [variationId],
    location_ids: locations.map((l) => l.id),
    cursor: counts.cursor,
  });
  for (const id of orderIds.slice(0, 2)) await call('GET', `/v2/orders/${id}`);
  await call('POST', '/v2/orders/batch-retrieve', { order_ids: orderIds });
  let cursor: string | undefined;
  do {
    ({ cursor } = await call<{ cursor?: string }>('POST', '/v2/orders/search', {
      location_ids: locations.map((l) => l.id),
      query: {
        filter: {
          state_filter: { states: ['COMPLETED'] },
          date_time_filter: { updated_at: { start_at: '2020-01-01T00:00:00Z' } },
        },
        sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
      },
      limit: 4,
      ...(cursor ? { cursor } : {}),
    }));
  } while (cursor);
  const payments = (await control('state?view=payments&limit=2')) as { records: { items: { id: string }[] } };
  for (const payment of payments.records.items) await call('GET', `/v2/payments/${payment.id}`);
  for (const refund of scenario.refunds.slice(0, 2)) await call('GET', `/v2/refunds/${refund}`);
  await call('GET', '/v2/webhooks/subscriptions');
  const { subscription } = await call<{ subscription: { id: string } }>(
    'POST',
    '/v2/webhooks/subscriptions',
    {
      idempotency_key: 'spec-test-subscription',
      subscription: {
        name: 'spec test',
        event_types: ['order.updated', 'inventory.count.updated'],
        notification_url: 'https://example.com/square',
        api_version: SQUARE_API_VERSION,
      },
    },
  );
  await call('PUT', `/v2/webhooks/subscriptions/${subscription.id}`, {
    subscription: { event_types: ['order.updated'], notification_url: 'https://example.com/square2' },
  });
  await call('DELETE', `/v2/webhooks/subscriptions/${subscription.id}`);

  // Error answers: not found, refused requests, a wrong token, injected 5xx and throttling.
  await square(refused.fetch, 'GET', '/v2/orders/NOSUCHORDER');
  await square(refused.fetch, 'POST', '/v2/inventory/changes/batch-create', { changes: [] });
  await square(refused.fetch, 'POST', '/v2/inventory/changes/batch-create', {
    ...changes,
    ignore_unchanged_counts: false,
  });
  await square(refused.fetch, 'POST', '/v2/orders/batch-retrieve', { order_ids: [] });
  await square(refused.fetch, 'GET', '/v2/locations', undefined, 'EAAAEWrongToken');
  await square(refused.fetch, 'PUT', '/v2/locations', {});
  await square(refused.fetch, 'POST', '/v2/inventory/changes/batch-create', {
    idempotency_key: 'spec-test-2',
    changes: Array.from({ length: 101 }, () => changes.changes[0]),
  });
  await square(refused.fetch, 'POST', '/v2/inventory/changes/batch-create', {
    ...changes,
    idempotency_key: 'k'.repeat(129),
  });
  await square(refused.fetch, 'POST', '/v2/inventory/changes/batch-create', {
    idempotency_key: 'spec-test-3',
    changes: [
      {
        type: 'PHYSICAL_COUNT',
        physical_count: { ...changes.changes[0]?.physical_count, location_id: 'NOSUCHLOCATION' },
      },
    ],
  });
  await refused.fetch(`${base}/v2/orders/batch-retrieve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: '{"order_ids": [',
  });
  await control('faults', { errorRate: 1, errorStatuses: [500, 502, 503] });
  for (let i = 0; i < 6; i++) await square(refused.fetch, 'GET', '/v2/locations');
  await control('faults', { throttleStorm: { rate: 1, durationMs: 60_000 } });
  await square(refused.fetch, 'GET', '/v2/locations');
  await control('faults', { outage: { durationMs: 60_000 } });
  await square(refused.fetch, 'GET', '/v2/locations');
  await control('faults', {});

  await exerciseUncovered();
  await control('flush', {});
  for (let offset = 0, more = true; more; offset += 500) {
    const page = (await control(`events?offset=${offset}&limit=500`)) as {
      items: unknown[];
      hasMore: boolean;
    };
    emitted.push(...page.items);
    more = page.hasMore;
  }
}, 60_000);

afterAll(async () => {
  await server?.close();
});

/**
 * Fails with each distinct issue once (array indices folded to `*`, ids to the operation), counted:
 * one invented field on 2,000 catalog objects is one line.
 */
const report = (issues: string[]) => {
  const counted = new Map<string, number>();
  for (const issue of issues) {
    const key = issue.replace(/\/\d+(?=\/|\s|,|$)/g, '/*');
    counted.set(key, (counted.get(key) ?? 0) + 1);
  }
  const lines = [...counted].map(([issue, n]) => (n > 1 ? `${issue} (×${n})` : issue));
  expect(lines, lines.join('\n')).toEqual([]);
};

/** `METHOD operationId` of a recorded call, or its URL when the spec has no such operation. */
const where = (e: SquareExchange, suffix = '') =>
  `${e.method} ${spec.operation(e.method, e.url)?.operationId ?? new URL(e.url).pathname}${suffix}`;

describe('Square spec: the hub’s requests', () => {
  it('come from every public method of the Square client', () => {
    const methods = SquareClient.prototype as unknown as Record<string, unknown>;
    const declared = publicClientMethods().filter((name) => typeof methods[name] === 'function');
    expect(declared).toEqual(expect.arrayContaining(['retrieveOrder', 'retrieveVariation']));
    report(
      declared
        .filter((name) => !clientCalls.has(name))
        .map((name) => `SquareClient.${name}: not called; call it in this test's beforeAll`),
    );
  });

  it('are operations of the spec, with its parameters and Square-Version, and no invented fields', () => {
    expect(hub.exchanges.length).toBeGreaterThan(0);
    const operations = new Set(hub.exchanges.map((e) => spec.operation(e.method, e.url)?.operationId));
    expect(operations).toEqual(
      new Set([
        'RetrieveOrder',
        'RetrieveCatalogObject',
        'ListLocations',
        'ListCatalog',
        'GetPaymentRefund',
        'SearchOrders',
        'ListPayments',
        'ListPaymentRefunds',
        'GetPayment',
        // BOPIS pick-up orders (shared/flows/bopis/square.ts).
        'CreateOrder',
        'UpdateOrder',
      ]),
    );
    report(
      hub.exchanges.flatMap((e) =>
        formatIssues(
          where(e),
          spec.validateRequest({ method: e.method, url: e.url, body: e.requestBody, headers: e.headers }),
        ),
      ),
    );
  });
});

describe('Square spec: the sandbox', () => {
  it('answers every call with the spec’s response body (errors: Square’s error body)', () => {
    const statuses = new Set(allExchanges().map((e) => e.status));
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 400, 401, 404, 429, 500, 502, 503]));
    report(
      allExchanges().flatMap((e) =>
        formatIssues(
          where(e, ` → ${e.status}`),
          spec.validateResponse({ method: e.method, url: e.url, status: e.status, body: e.responseBody }),
        ),
      ),
    );
  });

  it('is driven with valid Square requests (so its answers mean something)', () => {
    report(
      driver.exchanges.flatMap((e) =>
        formatIssues(
          where(e),
          spec.validateRequest({ method: e.method, url: e.url, body: e.requestBody, headers: e.headers }),
        ),
      ),
    );
  });

  it('serves only operations of the spec, each exercised with a 2xx answer', () => {
    expect(routes.length).toBeGreaterThan(10);
    const problems = routes.flatMap((route) => {
      const operation = spec.operation(route.method, samplePath(route.pattern));
      if (!operation) return [`${routeKey(route)}: no such operation in the spec`];
      if (!allExchanges().some((e) => matches(route, e) && e.status < 300)) {
        return [
          `${routeKey(route)} (${operation.operationId}): not exercised; drive it in this test's beforeAll`,
        ];
      }
      return [];
    });
    report(problems);
  });

  it('emits webhook bodies of the spec’s event schemas, and delivers them as emitted', () => {
    const types = new Set(emitted.map((e) => (e as { type: string }).type));
    expect([...types]).toEqual(
      expect.arrayContaining(['inventory.count.updated', 'refund.created', 'refund.updated']),
    );
    expect(deliveries.length).toBeGreaterThan(0);
    report([
      ...emitted.flatMap((event) =>
        formatIssues(`event ${(event as { type: string }).type}`, spec.validateWebhook(event)),
      ),
      ...deliveries.flatMap((body) => {
        const event = JSON.parse(body) as { type: string };
        return formatIssues(`delivered ${event.type}`, spec.validateWebhook(event));
      }),
    ]);
  });
});

/**
 * The spec schemas each of the hub's Square read models (the zod schemas exported by
 * `shared/connectors/square/payloads.ts`) reads. A model not listed is matched by name
 * (`Square<Name>Schema` or `<Name>Schema` → `<Name>`); one that matches nothing fails until listed.
 */
const READ_MODELS: Record<string, readonly string[]> = {
  SquareOrderSchema: ['Order'],
  SquareLineItemSchema: ['OrderLineItem'],
  SquareMoneySchema: ['Money'],
  // The envelope of every order, payment, refund and inventory event (the topics the hub takes;
  // some other events, e.g. location.created, carry no data.object).
  SquareWebhookEnvelopeSchema: [...spec.webhookSchemas.values()].filter((name) =>
    /^(Order|Payment|Refund|Inventory)/.test(name),
  ),
  // One model for `data.object.order_created|order_updated|order_fulfillment_updated`; `OrderCreated`
  // has no `updated_at`, which the hub reads as optional and never uses (see the test below).
  SquareOrderNotificationSchema: ['OrderUpdated', 'OrderFulfillmentUpdated'],
  RetrieveOrderResponseSchema: ['RetrieveOrderResponse'],
  // The refund in refund.* events and GetPaymentRefund is a PaymentRefund (not the legacy Refund).
  SquareRefundSchema: ['PaymentRefund'],
  SquareReturnLineItemSchema: ['OrderReturnLineItem'],
  GetRefundResponseSchema: ['GetPaymentRefundResponse'],
  // The finance collector's reads (shared/finance/collector.ts).
  LocationZonesResponseSchema: ['ListLocationsResponse'],
  ListRefundsResponseSchema: ['ListPaymentRefundsResponse'],
  CatalogObjectResponseSchema: ['RetrieveCatalogObjectResponse'],
  // Every answer's `errors` is `[Error]`; RetrieveOrder's stands for all of them.
  SquareErrorBodySchema: ['RetrieveOrderResponse'],
};

const readModels = Object.entries(payloads).flatMap(([name, value]) => {
  if (typeof value !== 'object' || value === null || !('_zod' in value)) return [];
  const guess = name.replace(/^Square/, '').replace(/Schema$/, '');
  return [
    {
      name,
      model: value as Parameters<typeof spec.readModelIssues>[0],
      schemas: READ_MODELS[name] ?? [guess],
    },
  ];
});

describe('Square spec: what the hub reads', () => {
  it.each(readModels)('$name reads only fields the spec defines', ({ name, model, schemas }) => {
    report(
      schemas.flatMap((schema) => {
        try {
          return formatIssues(`${name} as ${schema}`, spec.readModelIssues(model, schema));
        } catch {
          return [`${name}: the spec has no schema ${schema}; name the one it reads in READ_MODELS`];
        }
      }),
    );
  });

  it('fails a model that reads an invented field, a retyped one or a state Square does not have', () => {
    const model = z.object({
      id: z.string(),
      register_id: z.string().optional(),
      version: z.string(),
      state: z.enum(['OPEN', 'COMPLETED', 'DONE']),
      line_items: z.array(z.object({ quantity: z.number() })),
    });
    expect(spec.readModelIssues(model, 'Order').map((i) => `${i.kind} ${i.at}`)).toEqual([
      'unknown-field /register_id',
      'invalid /version',
      'invalid /state',
      'invalid /line_items/*/quantity',
    ]);
  });

  it('reads order.created notifications without fields beyond updated_at, which it does not use', () => {
    expect(
      spec.readModelIssues(payloads.SquareOrderNotificationSchema, 'OrderCreated').map((i) => i.at),
    ).toEqual(['/updated_at']);
  });
});

/** A JSON value with one change at `path`: removed, or replaced by `value`. */
function changed(
  body: unknown,
  path: readonly (string | number)[],
  value: unknown,
  remove: boolean,
): unknown {
  const copy = structuredClone(body) as Record<string | number, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (remove) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = value;
  return copy;
}

/**
 * Requests one change away from a valid one, which the spec refuses: each field removed, each value
 * of another JSON type, each string replaced by a value no enum has. (Unknown fields are left out:
 * Square's answer to those is not documented.)
 */
function* specInvalidNeighbours(e: SquareExchange): Generator<{ what: string; body: unknown }> {
  const leaves: { path: (string | number)[]; value: unknown }[] = [];
  const walk = (value: unknown, path: (string | number)[]): void => {
    if (path.length > 0) leaves.push({ path, value });
    if (typeof value !== 'object' || value === null) return;
    for (const [key, child] of Object.entries(value)) {
      walk(child, [...path, Array.isArray(value) ? Number(key) : key]);
    }
  };
  walk(e.requestBody, []);
  for (const { path, value } of leaves) {
    const at = path.join('.');
    const candidates: { what: string; body: unknown }[] = [
      { what: `without ${at}`, body: changed(e.requestBody, path, undefined, true) },
      typeof value === 'string'
        ? {
            what: `${at} = NOT_A_SQUARE_VALUE`,
            body: changed(e.requestBody, path, 'NOT_A_SQUARE_VALUE', false),
          }
        : { what: `${at} as a string`, body: changed(e.requestBody, path, JSON.stringify(value), false) },
    ];
    for (const candidate of candidates) {
      const issues = spec.validateRequest({ method: e.method, url: e.url, body: candidate.body });
      if (issues.length > 0 && issues.every((i) => i.kind === 'invalid')) yield candidate;
    }
  }
}

describe('Square spec: the sandbox refuses what the spec refuses', () => {
  it('answers 400 in Square’s error body to every request one change away from a valid one', async () => {
    const accepted: string[] = [];
    const seen = new Set<string>();
    let tried = 0;
    for (const e of driver.exchanges.filter((x) => x.requestBody !== undefined && x.status < 300)) {
      const operation = spec.operation(e.method, e.url)?.operationId ?? e.url;
      for (const { what, body } of specInvalidNeighbours(e)) {
        const key = `${operation} ${what.replace(/\.\d+/g, '.*')}`;
        if (seen.has(key)) continue;
        seen.add(key);
        tried++;
        // A fresh idempotency key, so the answer is about the body, not about a reused key.
        const sent =
          typeof body === 'object' &&
          body !== null &&
          'idempotency_key' in body &&
          !what.includes('idempotency_key')
            ? { ...body, idempotency_key: `neighbour-${tried}` }
            : body;
        const response = await square(
          refused.fetch,
          e.method,
          new URL(e.url).pathname.slice(new URL(base).pathname.length),
          sent,
        );
        const answer = (await response.json()) as unknown;
        if (response.status !== 400) accepted.push(`${key}: ${response.status}`);
        else {
          const issues = spec.validateResponse({ method: e.method, url: e.url, status: 400, body: answer });
          accepted.push(...formatIssues(`${key} → 400`, issues));
        }
      }
    }
    expect(tried).toBeGreaterThan(10);
    report(accepted);
  });
});

const webhookFixtures = readdirSync(
  fileURLToPath(new URL('../fixtures/square/webhooks/', import.meta.url)),
).filter((name) => name.endsWith('.json'));

describe('Square spec: the validator', () => {
  it.each(webhookFixtures)('accepts Square’s own %s', (name) => {
    const body = JSON.parse(fixtureText(`square/webhooks/${name}`)) as { type: string };
    expect(body.type).toBe(name.replace(/\.json$/, ''));
    expect(spec.validateWebhook(body)).toEqual([]);
  });

  const payment = () =>
    structuredClone(JSON.parse(fixtureText('square/webhooks/payment.created.json'))) as {
      data: { type: string; object: { payment: Record<string, unknown> } };
      type: string;
    };
  const kinds = (issues: SpecIssue[]) => issues.map((i) => `${i.kind} ${i.at}`);

  it('refuses an invented field, a mistyped one and an unknown enum value', () => {
    const body = payment();
    body.data.object.payment.register_id = 'R1';
    body.data.object.payment.amount_money = { amount: '100', currency: 'USD' };
    body.data.object.payment.risk_evaluation = { risk_level: 'MEDIUM' };
    expect(kinds(spec.validateWebhook(body))).toEqual([
      'unknown-field /data/object/payment/register_id',
      'invalid /data/object/payment/amount_money/amount',
      'invalid /data/object/payment/risk_evaluation/risk_level',
    ]);
  });

  it('refuses a fulfillment state Square does not have (pick-up: PROPOSED → RESERVED → PREPARED → COMPLETED)', () => {
    const body = JSON.parse(fixtureText('square/webhooks/order.fulfillment.updated.json')) as {
      data: { object: { order_fulfillment_updated: { fulfillment_update: { new_state: string }[] } } };
    };
    expect(spec.validateWebhook(body)).toEqual([]);
    const [update] = body.data.object.order_fulfillment_updated.fulfillment_update;
    if (update) update.new_state = 'READY';
    expect(kinds(spec.validateWebhook(body))).toEqual([
      'invalid /data/object/order_fulfillment_updated/fulfillment_update/0/new_state',
    ]);
  });

  it('refuses an event type the spec lacks and a data.type other than the documented one', () => {
    expect(kinds(spec.validateWebhook({ ...payment(), type: 'payment.settled' }))).toEqual([
      'unknown-event-type /type',
    ]);
    const body = payment();
    body.data.type = 'payment_created';
    expect(kinds(spec.validateWebhook(body))).toEqual(['invalid /data/type']);
  });

  it('refuses read-only and unknown request fields, unknown query parameters and another Square-Version', () => {
    const url = 'https://connect.squareup.com/v2/orders/search';
    expect(
      kinds(
        spec.validateRequest({
          method: 'POST',
          url,
          body: {
            location_ids: ['L1'],
            query: { filter: { state_filter: { states: ['COMPLETED'] } } },
            limit: 5,
          },
          headers: { 'square-version': SQUARE_API_VERSION },
        }),
      ),
    ).toEqual([]);
    expect(
      kinds(
        spec.validateRequest({
          method: 'POST',
          url: 'https://connect.squareup.com/v2/orders',
          body: {
            order: { location_id: 'L1', id: 'O1', total_money: { amount: 1, currency: 'USD' } },
            idempotent: 1,
          },
          headers: { 'square-version': '2024-01-18' },
        }),
      ),
    ).toEqual([
      'header Square-Version',
      'unknown-field /idempotent',
      'read-only-field /order/id',
      'read-only-field /order/total_money',
    ]);
    expect(
      kinds(spec.validateRequest({ method: 'GET', url: '/v2/catalog/object/X?catalog_version=abc&depth=2' })),
    ).toEqual(['invalid ?catalog_version', 'unknown-field ?depth']);
  });

  it('refuses operations the spec lacks or deprecates, and error bodies with invented codes', () => {
    expect(kinds(spec.validateRequest({ method: 'GET', url: '/v2/orders' }))).toEqual(['unknown-operation ']);
    expect(
      kinds(
        spec.validateRequest({
          method: 'POST',
          url: '/v2/inventory/batch-change',
          body: { idempotency_key: 'k' },
        }),
      ),
    ).toEqual(['deprecated ']);
    const error = (code: string) => ({ errors: [{ category: 'INVALID_REQUEST_ERROR', code, detail: 'x' }] });
    expect(
      spec.validateResponse({ method: 'GET', url: '/v2/locations', status: 400, body: error('NOT_FOUND') }),
    ).toEqual([]);
    expect(
      kinds(
        spec.validateResponse({
          method: 'GET',
          url: '/v2/locations',
          status: 400,
          body: error('NO_SUCH_THING'),
        }),
      ),
    ).toEqual(['invalid /errors/0/code']);
  });
});
