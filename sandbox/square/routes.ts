import type { IncomingMessage, ServerResponse } from 'node:http';
import type * as z from 'zod';
import { queryOf, type Router, sendJson } from '../core/http.ts';
import { canonicalJson } from '../core/json.ts';
import type { InventoryCount, Order } from './model.ts';
import type { SquareSession } from './session.ts';
import { type InventoryChangeRecord, squareId } from './store.ts';
import {
  type AdjustmentSchema,
  BatchChangeSchema,
  BatchRetrieveCountsSchema,
  BatchRetrieveOrdersSchema,
  CreateSubscriptionSchema,
  invalidRequest,
  notFound,
  type PhysicalCountSchema,
  parseSquareBody,
  readSquareJson,
  SearchOrdersSchema,
  sqError,
  UpdateSubscriptionSchema,
} from './validation.ts';

/** What the API routes read: the current session (it changes on reset) and the sandbox clock. */
export interface ApiContext {
  session: () => SquareSession;
  clock: () => number;
}

/**
 * Installs the Square API the sandbox serves: locations, catalog, inventory (`BatchChangeInventory`
 * with Square's idempotency semantics, counts), orders (retrieve, batch-retrieve, search),
 * payments, refunds and webhook subscriptions. Authentication and faults are the caller's.
 */
export function installApiRoutes(router: Router, ctx: ApiContext): void {
  const store = () => ctx.session().store;
  router.on('GET', '/v2/locations', ({ res }) => sendJson(res, 200, { locations: store().locations }));
  router.on('GET', '/v2/catalog/list', ({ req, res }) => catalogList(ctx, req, res));
  router.on('GET', '/v2/catalog/object/:id', ({ res, params }) => {
    const id = params.id ?? '';
    const obj = store().variations.get(id) ?? store().items.find((i) => i.id === id);
    if (!obj) throw notFound(`Object with ID \`${id}\` not found.`);
    sendJson(res, 200, { object: obj });
  });
  router.on('POST', '/v2/inventory/changes/batch-create', ({ req, res }) => batchChange(ctx, req, res));
  router.on('POST', '/v2/inventory/counts/batch-retrieve', ({ req, res }) =>
    batchRetrieveCounts(ctx, req, res),
  );
  router.on('GET', '/v2/inventory/:id', ({ req, res, params }) => {
    const id = params.id ?? '';
    if (!store().variations.has(id)) throw notFound(`Object with ID \`${id}\` not found.`);
    const only = queryOf(req).get('location_ids')?.split(',');
    const at = isoNow(ctx);
    const counts = store()
      .locations.filter((l) => !only || only.includes(l.id))
      .map((l) => store().count(id, l.id, at));
    sendJson(res, 200, { counts });
  });
  router.on('GET', '/v2/orders/:id', ({ res, params }) => {
    const order = store().orders.get(params.id ?? '');
    if (!order) throw notFound(`Order \`${params.id}\` not found.`, 'order_id');
    sendJson(res, 200, { order });
  });
  router.on('POST', '/v2/orders/batch-retrieve', ({ req, res }) => batchRetrieveOrders(ctx, req, res));
  router.on('POST', '/v2/orders/search', ({ req, res }) => searchOrders(ctx, req, res));
  router.on('GET', '/v2/payments/:id', ({ res, params }) => {
    const payment = store().payments.get(params.id ?? '');
    if (!payment) throw notFound(`Payment \`${params.id}\` not found.`);
    sendJson(res, 200, { payment });
  });
  router.on('GET', '/v2/refunds/:id', ({ res, params }) => {
    const refund = store().refunds.get(params.id ?? '');
    if (!refund) throw notFound(`Refund \`${params.id}\` not found.`);
    sendJson(res, 200, { refund });
  });
  router.on('GET', '/v2/webhooks/subscriptions', ({ res }) =>
    sendJson(res, 200, {
      subscriptions: ctx.session().emitter.subscriptions.map(({ signature_key: _k, ...s }) => s),
    }),
  );
  router.on('POST', '/v2/webhooks/subscriptions', async ({ req, res }) => {
    const { subscription: s } = await parseSquareBody(CreateSubscriptionSchema, req);
    const sub = ctx.session().emitter.subscribe({
      name: s.name,
      url: s.notification_url,
      eventTypes: s.event_types,
      enabled: s.enabled,
    });
    sendJson(res, 200, { subscription: sub });
  });
  router.on('PUT', '/v2/webhooks/subscriptions/:id', async ({ req, res, params }) => {
    const { subscription: s } = await parseSquareBody(UpdateSubscriptionSchema, req);
    const sub = ctx.session().emitter.update(
      params.id ?? '',
      {
        ...(s.name !== undefined ? { name: s.name } : {}),
        ...(s.notification_url !== undefined ? { url: s.notification_url } : {}),
        ...(s.event_types !== undefined ? { eventTypes: s.event_types } : {}),
        ...(s.enabled !== undefined ? { enabled: s.enabled } : {}),
      },
      isoNow(ctx),
    );
    if (!sub) throw notFound('Subscription not found.');
    const { signature_key: _k, ...shown } = sub;
    sendJson(res, 200, { subscription: shown });
  });
  router.on('DELETE', '/v2/webhooks/subscriptions/:id', ({ res, params }) => {
    if (!ctx.session().emitter.unsubscribe(params.id)) throw notFound('Subscription not found.');
    sendJson(res, 200, {});
  });
}

const isoNow = (ctx: ApiContext): string => new Date(ctx.clock()).toISOString();

/** Offset encoded in a Square-style opaque cursor (base64url of the offset; none = 0). */
const cursorOffset = (cursor: string | undefined): number =>
  Number(Buffer.from(cursor ?? '', 'base64url').toString() || 0);

/** The cursor of the page starting at `end`, or undefined when `end` is past the last record. */
const nextCursor = (end: number, total: number): string | undefined =>
  end < total ? Buffer.from(String(end)).toString('base64url') : undefined;

function catalogList(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): void {
  const session = ctx.session();
  const q = queryOf(req);
  const types = (q.get('types') ?? 'ITEM').split(',').map((t) => t.trim().toUpperCase());
  const all = [
    ...(types.includes('ITEM') ? session.store.items : []),
    ...(types.includes('ITEM_VARIATION') ? [...session.store.variations.values()] : []),
  ];
  const offset = cursorOffset(q.get('cursor') ?? undefined);
  const page = all.slice(offset, offset + 100);
  const next = nextCursor(offset + 100, all.length);
  sendJson(res, 200, { objects: page, ...(next ? { cursor: next } : {}) });
}

/**
 * `POST /v2/inventory/changes/batch-create` with Square's idempotency semantics: the same key and
 * body replays the first answer, the same key with another body is `IDEMPOTENCY_KEY_REUSED`. The
 * batch is validated whole before any change applies; counts that changed are announced with one
 * `inventory.count.updated`.
 */
async function batchChange(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = (await readSquareJson(req)) ?? {};
  const session = ctx.session();
  const { store, counters } = session;
  const key = (raw as { idempotency_key?: unknown }).idempotency_key;
  if (typeof key !== 'string' || key === '') {
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'MISSING_REQUIRED_PARAMETER',
      'Field must be set',
      'idempotency_key',
    );
  }
  const canonical = canonicalJson(raw);
  const seen = session.idempotency.get(key);
  if (seen) {
    if (seen.canonical !== canonical) {
      counters.idempotencyConflicts++;
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'IDEMPOTENCY_KEY_REUSED',
        'The provided idempotency key has already been used.',
        'idempotency_key',
      );
    }
    counters.idempotentReplays++;
    sendJson(res, 200, seen.body);
    return;
  }
  const parsed = BatchChangeSchema.safeParse(raw);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const { changes = [], ignore_unchanged_counts: ignoreUnchanged = true } = parsed.data;
  const now = isoNow(ctx);
  // Validate everything first: the batch applies atomically.
  changes.forEach((c, i) => {
    const body = c.type === 'PHYSICAL_COUNT' ? c.physical_count : c.adjustment;
    const field = `changes[${i}].${c.type === 'PHYSICAL_COUNT' ? 'physical_count' : 'adjustment'}`;
    if (!body)
      throw sqError(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'Field must be set', field);
    if (!store.variations.has(body.catalog_object_id)) {
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_VALUE',
        `Object with ID \`${body.catalog_object_id}\` not found.`,
        `${field}.catalog_object_id`,
      );
    }
    if (!store.codeByLocationId.has(body.location_id)) {
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_VALUE',
        `Location \`${body.location_id}\` not found.`,
        `${field}.location_id`,
      );
    }
    if (c.physical_count && c.physical_count.state !== 'IN_STOCK') {
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_ENUM_VALUE',
        'The sandbox tracks physical counts in state IN_STOCK only.',
        `${field}.state`,
      );
    }
  });
  const created: InventoryChangeRecord[] = [];
  const touched = new Map<string, { v: string; l: string; before: number }>();
  for (const c of changes) {
    const b = (c.physical_count ?? c.adjustment) as z.infer<typeof PhysicalCountSchema> &
      Partial<z.infer<typeof AdjustmentSchema>>;
    const k = `${b.catalog_object_id}|${b.location_id}`;
    if (!touched.has(k))
      touched.set(k, {
        v: b.catalog_object_id,
        l: b.location_id,
        before: store.quantity(b.catalog_object_id, b.location_id),
      });
    const qty = Number(b.quantity);
    const at = Date.parse(b.occurred_at);
    const id = squareId(session.ids, 24);
    if (c.type === 'PHYSICAL_COUNT') {
      if (ignoreUnchanged && qty === store.quantity(b.catalog_object_id, b.location_id)) continue;
      store.record(b.catalog_object_id, b.location_id, 'count', qty, at, now);
      created.push({
        type: 'PHYSICAL_COUNT',
        physical_count: { id, ...b, catalog_object_type: 'ITEM_VARIATION', created_at: now },
      });
    } else {
      const delta = (b.to_state === 'IN_STOCK' ? qty : 0) - (b.from_state === 'IN_STOCK' ? qty : 0);
      if (delta !== 0) store.record(b.catalog_object_id, b.location_id, 'adjust', delta, at, now);
      created.push({
        type: 'ADJUSTMENT',
        adjustment: { id, ...b, catalog_object_type: 'ITEM_VARIATION', created_at: now },
      });
    }
  }
  store.changes.push(...created);
  counters.inventoryChanges += created.length;
  const counts = [...touched.values()].map((t) => store.count(t.v, t.l, now));
  const response = { counts, changes: created };
  session.idempotency.set(key, { canonical, body: response });
  const changed = [...touched.values()]
    .filter((t) => store.quantity(t.v, t.l) !== t.before)
    .map((t) => store.count(t.v, t.l, now));
  session.emitter.emitCounts(changed, now, session.ids);
  sendJson(res, 200, response);
}

async function batchRetrieveCounts(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const body = await parseSquareBody(BatchRetrieveCountsSchema, req);
  const { catalog_object_ids: ids, location_ids: locs, cursor, limit } = body;
  const { store } = ctx.session();
  const variations = ids ?? [...store.variations.keys()];
  const locations = locs ?? store.locations.map((l) => l.id);
  const total = variations.length * locations.length;
  const offset = cursorOffset(cursor);
  const now = isoNow(ctx);
  const counts: InventoryCount[] = [];
  for (let i = offset; i < Math.min(total, offset + limit); i++) {
    const v = variations[Math.floor(i / locations.length)] ?? '';
    const l = locations[i % locations.length] ?? '';
    if (store.variations.has(v) && store.codeByLocationId.has(l)) counts.push(store.count(v, l, now));
  }
  const next = nextCursor(offset + limit, total);
  sendJson(res, 200, { counts, ...(next ? { cursor: next } : {}) });
}

async function batchRetrieveOrders(
  ctx: ApiContext,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const { order_ids: ids, location_id: location } = await parseSquareBody(BatchRetrieveOrdersSchema, req);
  const { store } = ctx.session();
  const orders = ids
    .map((id) => store.orders.get(id))
    .filter((o): o is Order => o !== undefined && (!location || o.location_id === location));
  sendJson(res, 200, { orders });
}

/**
 * `POST /v2/orders/search` subset: location_ids, state_filter, date_time_filter, sort, limit, cursor. As
 * Square: the time range's start and end are inclusive; only one `date_time_filter` field at a time, and
 * `sort.sort_field` must be that field ("If this field does not match the timestamp field in
 * DateTimeFilter, SearchOrders returns an error", SearchOrdersSort); `sort_order` defaults to DESC.
 */
async function searchOrders(ctx: ApiContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { location_ids, cursor, limit, query } = await parseSquareBody(SearchOrdersSchema, req);
  const { store } = ctx.session();
  const f = query?.filter;
  const ranged = Object.keys(f?.date_time_filter ?? {});
  if (ranged.length > 1) {
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'INVALID_VALUE',
      'Only one of created_at, updated_at and closed_at may be set in a date_time_filter.',
      'query.filter.date_time_filter',
    );
  }
  if (ranged[0] && ranged[0].toUpperCase() !== (query?.sort?.sort_field ?? 'CREATED_AT')) {
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'INVALID_VALUE',
      `sort_field must be ${ranged[0].toUpperCase()} when filtering on ${ranged[0]}.`,
      'query.sort.sort_field',
    );
  }
  const ms = (v: string | undefined) => (v === undefined ? Number.NaN : Date.parse(v));
  const inRange = (v: string | undefined, r: { start_at?: string; end_at?: string } | undefined): boolean =>
    !r ||
    (v !== undefined && (!r.start_at || ms(v) >= ms(r.start_at)) && (!r.end_at || ms(v) <= ms(r.end_at)));
  const field = (query?.sort?.sort_field ?? 'CREATED_AT').toLowerCase() as
    | 'created_at'
    | 'updated_at'
    | 'closed_at';
  const orders = [...store.orders.values()]
    .filter((o) => location_ids.includes(o.location_id))
    .filter((o) => !f?.state_filter || f.state_filter.states.includes(o.state))
    .filter((o) => inRange(o.created_at, f?.date_time_filter?.created_at))
    .filter((o) => inRange(o.updated_at, f?.date_time_filter?.updated_at))
    .filter((o) => inRange(o.closed_at, f?.date_time_filter?.closed_at))
    .sort((a, b) => String(a[field] ?? '').localeCompare(String(b[field] ?? '')) || a.id.localeCompare(b.id));
  if ((query?.sort?.sort_order ?? 'DESC') === 'DESC') orders.reverse();
  const offset = cursorOffset(cursor);
  const page = orders.slice(offset, offset + limit);
  const next = nextCursor(offset + limit, orders.length);
  sendJson(res, 200, { orders: page, ...(next ? { cursor: next } : {}) });
}
