import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { type ControlPlane, handleControl, paginate } from '../core/control.ts';
import { FaultInjector } from '../core/faults.ts';
import {
  applyFault,
  headerOf,
  queryOf,
  Router,
  type SandboxApp,
  type SandboxOptions,
  sendJson,
} from '../core/http.ts';
import { canonicalJson } from '../core/json.ts';
import { createRetailer, type Retailer } from '../core/retailer.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { type RetryPolicy, WebhookDispatcher } from '../core/webhooks.ts';
import { PosActivity } from './activity.ts';
import { type InventoryCount, type Order, SQUARE_VERSION, type SquareEvent } from './model.ts';
import { type InventoryChangeRecord, SquareStore, squareId } from './store.ts';
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
  squareFaultRenderer,
} from './validation.ts';
import { type InitialSubscription, type SquareSubscription, SquareWebhookEmitter } from './webhooks.ts';

export { SQUARE_VERSION } from './model.ts';
export { isValidSquareSignature, SQUARE_SIGNATURE_HEADER, squareSignature } from './signature.ts';
export { sqError } from './validation.ts';
export { SQUARE_EVENT_TYPES, type SquareSubscription } from './webhooks.ts';

/** Construction options of the Square sandbox. */
export interface SquareSandboxOptions extends SandboxOptions {
  /** @default 2000 */
  items?: number;
  /** @default 120 */
  stores?: number;
  /** Bearer token the API accepts. @default 'EAAAEOmnihubSandboxAccessToken' */
  accessToken?: string;
  /** Subscriptions present at start (the local cloud points one at the hub). */
  webhooks?: InitialSubscription[];
  /** Injectable fetch for webhook deliveries. */
  fetch?: typeof fetch;
  /** Webhook retry schedule (compressed from Square's 72 h). */
  retry?: Partial<RetryPolicy>;
  /** Parallel webhook deliveries. @default 1 (reproducible order) */
  webhookConcurrency?: number;
}

/** `POST _control/scenario`: store activity under a seed. */
export const SquareScenarioSchema = z.object({
  seed: z.number().int().optional(),
  /** Time of the first activity; later ones follow at seeded intervals. @default now */
  at: z.iso.datetime().optional(),
  sales: z.number().int().min(0).max(100_000).default(0),
  /** Returns of earlier in-store sales (linked returns with a refund on the original payment). */
  returns: z.number().int().min(0).max(100_000).default(0),
  /** Returns of online orders at a store (unlinked returns carrying the online order reference). */
  onlineReturns: z
    .union([
      z.number().int().min(0).max(10_000),
      z.array(
        z.object({
          reference: z.string().min(1),
          location: z.string().optional(),
          lines: z
            .array(
              z.object({
                sku: z.string(),
                quantity: z.number().int().min(1),
                priceMinor: z.number().int().min(0).optional(),
              }),
            )
            .min(1),
        }),
      ),
    ])
    .default(0),
  /** Physical counts (cycle counts) at stores. */
  counts: z.number().int().min(0).max(100_000).default(0),
  /** Shrink adjustments (IN_STOCK → WASTE). */
  adjustments: z.number().int().min(0).max(100_000).default(0),
  /** Restrict activity to these stores (location ids or codes such as `ST-001`). */
  locations: z.array(z.string()).optional(),
  maxLinesPerSale: z.number().int().min(1).max(20).default(3),
  /** Square does not publish order.created for orders made in the POS app; set true to emit it anyway. */
  orderCreatedForPos: z.boolean().default(false),
});

interface SqCounters {
  calls: number;
  unauthorized: number;
  http429: number;
  idempotentReplays: number;
  idempotencyConflicts: number;
  inventoryChanges: number;
  byStatus: Record<string, number>;
}
const zeroCounters = (): SqCounters => ({
  calls: 0,
  unauthorized: 0,
  http429: 0,
  idempotentReplays: 0,
  idempotencyConflicts: 0,
  inventoryChanges: 0,
  byStatus: {},
});

/**
 * A Square-style POS: stores and registers, catalogue, inventory with
 * `BatchChangeInventory` (≤ 100 changes, idempotency keys honoured), orders
 * and refunds, and signed webhooks (`x-square-hmacsha256-signature`)
 * delivered at least once. Mount at `/_sandbox/square`.
 */
export class SquareSandbox implements SandboxApp {
  readonly name = 'square';
  readonly faults: FaultInjector;
  readonly webhooks: WebhookDispatcher;
  readonly retailer: Retailer;
  readonly accessToken: string;
  store: SquareStore;
  private idRng: Rng;
  private emitter: SquareWebhookEmitter;
  private activity: PosActivity;
  private counters = zeroCounters();
  private idempotency = new Map<string, { canonical: string; body: unknown }>();
  private scenarioRuns = 0;
  private readonly clock: () => number;
  private readonly seed: number;
  private readonly router = new Router();
  private readonly controlRoutes = new Router();
  private readonly plane: ControlPlane;

  constructor(private readonly options: SquareSandboxOptions = {}) {
    this.seed = options.seed ?? 42;
    this.clock = options.clock ?? Date.now;
    this.accessToken = options.accessToken ?? 'EAAAEOmnihubSandboxAccessToken';
    this.retailer = createRetailer({
      seed: this.seed,
      ...(options.items !== undefined ? { items: options.items } : {}),
      ...(options.stores !== undefined ? { stores: options.stores } : {}),
    });
    this.faults = new FaultInjector(this.seed, this.clock);
    this.webhooks = new WebhookDispatcher({
      decide: () => this.faults.decideWebhook(),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      retry: { timeoutMs: 10_000, ...options.retry },
      concurrency: options.webhookConcurrency ?? 1,
    });
    this.store = new SquareStore(this.retailer, createRng(this.seed));
    this.idRng = createRng(this.seed).fork();
    this.emitter = this.newEmitter();
    this.activity = new PosActivity(this.store, this.emitter, this.retailer.currency);
    this.routes();
    this.plane = {
      faults: this.faults,
      webhooks: this.webhooks,
      state: (q) => this.state(q),
      scenario: (b) => this.scenario(b),
      reset: () => this.reset(),
      routes: this.controlRoutes,
    };
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (await handleControl(req, res, path, this.plane)) return;
    this.counters.calls++;
    res.once('finish', () => {
      const k = String(res.statusCode);
      this.counters.byStatus[k] = (this.counters.byStatus[k] ?? 0) + 1;
      if (res.statusCode === 429) this.counters.http429++;
    });
    const auth = headerOf(req, 'authorization') ?? '';
    if (auth !== `Bearer ${this.accessToken}`) {
      this.counters.unauthorized++;
      throw sqError(401, 'AUTHENTICATION_ERROR', 'UNAUTHORIZED', 'This request could not be authorized.');
    }
    await applyFault(this.faults.decide(path), res, squareFaultRenderer);
    const method = (req.method ?? 'GET').toUpperCase();
    const m = this.router.match(method, path);
    if (!m) throw notFound(`Resource not found: ${path}`);
    if ('methodNotAllowed' in m)
      throw sqError(
        405,
        'INVALID_REQUEST_ERROR',
        'METHOD_NOT_ALLOWED',
        `${method} is not allowed on ${path}`,
      );
    await m.handler({ req, res, path, params: m.params });
  }

  async reset(): Promise<void> {
    this.webhooks.reset();
    this.faults.reset();
    this.store = new SquareStore(this.retailer, createRng(this.seed));
    this.idRng = createRng(this.seed).fork();
    this.counters = zeroCounters();
    this.idempotency.clear();
    this.scenarioRuns = 0;
    this.emitter = this.newEmitter();
    this.activity = new PosActivity(this.store, this.emitter, this.retailer.currency);
  }

  async close(): Promise<void> {
    this.webhooks.close();
  }

  /** Webhook subscriptions, signature keys included. */
  get subscriptions(): SquareSubscription[] {
    return this.emitter.subscriptions;
  }

  /** Records an event and queues one signed delivery per matching subscription (see {@link SquareWebhookEmitter.emit}). */
  emit(...event: Parameters<SquareWebhookEmitter['emit']>): SquareEvent {
    return this.emitter.emit(...event);
  }

  /** Subscriptions at start draw their ids from the fresh id stream, so they come out the same after a reset. */
  private newEmitter(): SquareWebhookEmitter {
    return new SquareWebhookEmitter(this.store, this.webhooks, this.idRng, {
      seed: this.seed,
      clock: this.clock,
      initial: this.options.webhooks ?? [],
    });
  }

  // ---------------------------------------------------------------- routes

  private routes(): void {
    const r = this.router;
    r.on('GET', '/v2/locations', ({ res }) => sendJson(res, 200, { locations: this.store.locations }));
    r.on('GET', '/v2/catalog/list', ({ req, res }) => this.catalogList(req, res));
    r.on('GET', '/v2/catalog/object/:id', ({ res, params }) => {
      const id = params.id ?? '';
      const obj = this.store.variations.get(id) ?? this.store.items.find((i) => i.id === id);
      if (!obj) throw notFound(`Object with ID \`${id}\` not found.`);
      sendJson(res, 200, { object: obj });
    });
    r.on('POST', '/v2/inventory/changes/batch-create', ({ req, res }) => this.batchChange(req, res));
    r.on('POST', '/v2/inventory/counts/batch-retrieve', ({ req, res }) => this.batchRetrieveCounts(req, res));
    r.on('GET', '/v2/inventory/:id', ({ req, res, params }) => {
      const id = params.id ?? '';
      if (!this.store.variations.has(id)) throw notFound(`Object with ID \`${id}\` not found.`);
      const only = queryOf(req).get('location_ids')?.split(',');
      const now = new Date(this.clock()).toISOString();
      const counts = this.store.locations
        .filter((l) => !only || only.includes(l.id))
        .map((l) => this.store.count(id, l.id, now));
      sendJson(res, 200, { counts });
    });
    r.on('GET', '/v2/orders/:id', ({ res, params }) => {
      const order = this.store.orders.get(params.id ?? '');
      if (!order) throw notFound(`Order \`${params.id}\` not found.`, 'order_id');
      sendJson(res, 200, { order });
    });
    r.on('POST', '/v2/orders/batch-retrieve', ({ req, res }) => this.batchRetrieveOrders(req, res));
    r.on('POST', '/v2/orders/search', ({ req, res }) => this.searchOrders(req, res));
    r.on('GET', '/v2/payments/:id', ({ res, params }) => {
      const payment = this.store.payments.get(params.id ?? '');
      if (!payment) throw notFound(`Payment \`${params.id}\` not found.`);
      sendJson(res, 200, { payment });
    });
    r.on('GET', '/v2/refunds/:id', ({ res, params }) => {
      const refund = this.store.refunds.get(params.id ?? '');
      if (!refund) throw notFound(`Refund \`${params.id}\` not found.`);
      sendJson(res, 200, { refund });
    });
    r.on('GET', '/v2/webhooks/subscriptions', ({ res }) =>
      sendJson(res, 200, { subscriptions: this.subscriptions.map(({ signature_key: _k, ...s }) => s) }),
    );
    r.on('POST', '/v2/webhooks/subscriptions', async ({ req, res }) => {
      const { subscription: s } = await parseSquareBody(CreateSubscriptionSchema, req);
      const sub = this.emitter.subscribe({
        name: s.name,
        url: s.notification_url,
        eventTypes: s.event_types,
        enabled: s.enabled,
      });
      sendJson(res, 200, { subscription: sub });
    });
    r.on('DELETE', '/v2/webhooks/subscriptions/:id', ({ res, params }) => {
      if (!this.emitter.unsubscribe(params.id)) throw notFound('Subscription not found.');
      sendJson(res, 200, {});
    });

    this.controlRoutes.on('GET', '/_control/events', ({ req, res }) => {
      const q = queryOf(req);
      const type = q.get('type');
      sendJson(
        res,
        200,
        paginate(
          this.store.events.filter((e) => !type || e.type === type),
          q,
        ),
      );
    });
  }

  private catalogList(req: IncomingMessage, res: ServerResponse): void {
    const q = queryOf(req);
    const types = (q.get('types') ?? 'ITEM').split(',').map((t) => t.trim().toUpperCase());
    const all = [
      ...(types.includes('ITEM') ? this.store.items : []),
      ...(types.includes('ITEM_VARIATION') ? [...this.store.variations.values()] : []),
    ];
    const offset = Number(Buffer.from(q.get('cursor') ?? '', 'base64url').toString() || 0);
    const page = all.slice(offset, offset + 100);
    const next =
      offset + 100 < all.length ? Buffer.from(String(offset + 100)).toString('base64url') : undefined;
    sendJson(res, 200, { objects: page, ...(next ? { cursor: next } : {}) });
  }

  /** `POST /v2/inventory/changes/batch-create` with Square's idempotency semantics. */
  private async batchChange(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = (await readSquareJson(req)) ?? {};
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
    const seen = this.idempotency.get(key);
    if (seen) {
      if (seen.canonical !== canonical) {
        this.counters.idempotencyConflicts++;
        throw sqError(
          400,
          'INVALID_REQUEST_ERROR',
          'IDEMPOTENCY_KEY_REUSED',
          'The provided idempotency key has already been used.',
          'idempotency_key',
        );
      }
      this.counters.idempotentReplays++;
      sendJson(res, 200, seen.body);
      return;
    }
    const parsed = BatchChangeSchema.safeParse(raw);
    if (!parsed.success) throw invalidRequest(parsed.error);
    const { changes = [], ignore_unchanged_counts: ignoreUnchanged = true } = parsed.data;
    const now = new Date(this.clock()).toISOString();
    // Validate everything first: the batch applies atomically.
    changes.forEach((c, i) => {
      const body = c.type === 'PHYSICAL_COUNT' ? c.physical_count : c.adjustment;
      const field = `changes[${i}].${c.type === 'PHYSICAL_COUNT' ? 'physical_count' : 'adjustment'}`;
      if (!body)
        throw sqError(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', 'Field must be set', field);
      if (!this.store.variations.has(body.catalog_object_id)) {
        throw sqError(
          400,
          'INVALID_REQUEST_ERROR',
          'INVALID_VALUE',
          `Object with ID \`${body.catalog_object_id}\` not found.`,
          `${field}.catalog_object_id`,
        );
      }
      if (!this.store.codeByLocationId.has(body.location_id)) {
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
          before: this.store.quantity(b.catalog_object_id, b.location_id),
        });
      const qty = Number(b.quantity);
      const at = Date.parse(b.occurred_at);
      const id = squareId(this.idRng, 24);
      if (c.type === 'PHYSICAL_COUNT') {
        if (ignoreUnchanged && qty === this.store.quantity(b.catalog_object_id, b.location_id)) continue;
        this.store.record(b.catalog_object_id, b.location_id, 'count', qty, at, now);
        created.push({
          type: 'PHYSICAL_COUNT',
          physical_count: { id, ...b, catalog_object_type: 'ITEM_VARIATION', created_at: now },
        });
      } else {
        const delta = (b.to_state === 'IN_STOCK' ? qty : 0) - (b.from_state === 'IN_STOCK' ? qty : 0);
        if (delta !== 0) this.store.record(b.catalog_object_id, b.location_id, 'adjust', delta, at, now);
        created.push({
          type: 'ADJUSTMENT',
          adjustment: { id, ...b, catalog_object_type: 'ITEM_VARIATION', created_at: now },
        });
      }
    }
    this.store.changes.push(...created);
    this.counters.inventoryChanges += created.length;
    const counts = [...touched.values()].map((t) => this.store.count(t.v, t.l, now));
    const response = { counts, changes: created };
    this.idempotency.set(key, { canonical, body: response });
    const changed = [...touched.values()]
      .filter((t) => this.store.quantity(t.v, t.l) !== t.before)
      .map((t) => this.store.count(t.v, t.l, now));
    this.emitter.emitCounts(changed, now, this.idRng);
    sendJson(res, 200, response);
  }

  private async batchRetrieveCounts(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await parseSquareBody(BatchRetrieveCountsSchema, req);
    const { catalog_object_ids: ids, location_ids: locs, cursor, limit } = body;
    const variations = ids ?? [...this.store.variations.keys()];
    const locations = locs ?? this.store.locations.map((l) => l.id);
    const total = variations.length * locations.length;
    const offset = Number(Buffer.from(cursor ?? '', 'base64url').toString() || 0);
    const now = new Date(this.clock()).toISOString();
    const counts: InventoryCount[] = [];
    for (let i = offset; i < Math.min(total, offset + limit); i++) {
      const v = variations[Math.floor(i / locations.length)] ?? '';
      const l = locations[i % locations.length] ?? '';
      if (this.store.variations.has(v) && this.store.codeByLocationId.has(l))
        counts.push(this.store.count(v, l, now));
    }
    const next =
      offset + limit < total ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
    sendJson(res, 200, { counts, ...(next ? { cursor: next } : {}) });
  }

  private async batchRetrieveOrders(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { order_ids: ids, location_id: location } = await parseSquareBody(BatchRetrieveOrdersSchema, req);
    const orders = ids
      .map((id) => this.store.orders.get(id))
      .filter((o): o is Order => o !== undefined && (!location || o.location_id === location));
    sendJson(res, 200, { orders });
  }

  /** `POST /v2/orders/search` subset: location_ids, state_filter, date_time_filter, sort, limit, cursor. */
  private async searchOrders(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { location_ids, cursor, limit, query } = await parseSquareBody(SearchOrdersSchema, req);
    const f = query?.filter;
    const inRange = (v: string | undefined, r: { start_at?: string; end_at?: string } | undefined): boolean =>
      !r || (v !== undefined && (!r.start_at || v >= r.start_at) && (!r.end_at || v < r.end_at));
    const field = (query?.sort?.sort_field ?? 'CREATED_AT').toLowerCase() as
      | 'created_at'
      | 'updated_at'
      | 'closed_at';
    const orders = [...this.store.orders.values()]
      .filter((o) => location_ids.includes(o.location_id))
      .filter((o) => !f?.state_filter || f.state_filter.states.includes(o.state))
      .filter((o) => inRange(o.created_at, f?.date_time_filter?.created_at))
      .filter((o) => inRange(o.updated_at, f?.date_time_filter?.updated_at))
      .filter((o) => inRange(o.closed_at, f?.date_time_filter?.closed_at))
      .sort(
        (a, b) => String(a[field] ?? '').localeCompare(String(b[field] ?? '')) || a.id.localeCompare(b.id),
      );
    if (query?.sort?.sort_order === 'DESC') orders.reverse();
    const offset = Number(Buffer.from(cursor ?? '', 'base64url').toString() || 0);
    const page = orders.slice(offset, offset + limit);
    const next =
      offset + limit < orders.length ? Buffer.from(String(offset + limit)).toString('base64url') : undefined;
    sendJson(res, 200, { orders: page, ...(next ? { cursor: next } : {}) });
  }

  // ---------------------------------------------------------------- scenario

  /** Runs POS activity (sales, returns, online returns, counts, shrink) under a seed; returns a summary. */
  async scenario(input: unknown): Promise<unknown> {
    const sc = SquareScenarioSchema.parse(input ?? {});
    this.scenarioRuns++;
    const rng = createRng(sc.seed ?? this.seed * 1000 + this.scenarioRuns);
    const locations = sc.locations
      ? this.store.locations.filter(
          (l) => sc.locations?.includes(l.id) || sc.locations?.includes(l.description),
        )
      : this.store.locations;
    if (locations.length === 0)
      throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'No matching locations', 'locations');
    const variations = [...this.store.variations.values()];
    const online = Array.isArray(sc.onlineReturns) ? sc.onlineReturns : [];
    const kinds = rng.shuffle([
      ...Array<string>(sc.sales).fill('sale'),
      ...Array<string>(sc.returns).fill('return'),
      ...Array<string>(Array.isArray(sc.onlineReturns) ? sc.onlineReturns.length : sc.onlineReturns).fill(
        'online',
      ),
      ...Array<string>(sc.counts).fill('count'),
      ...Array<string>(sc.adjustments).fill('adjust'),
    ]);
    let t = sc.at ? Date.parse(sc.at) : this.clock();
    const firstEvent = this.store.events.length;
    const summary = {
      sales: [] as string[],
      returns: [] as string[],
      onlineReturns: [] as string[],
      refunds: [] as string[],
      counts: 0,
      adjustments: 0,
      skipped: 0,
    };
    let onlineIdx = 0;
    for (const kind of kinds) {
      t += rng.int(1, 90) * 1000;
      const at = new Date(t).toISOString();
      const loc = rng.pick(locations);
      if (kind === 'sale') {
        const lines = Array.from({ length: rng.int(1, sc.maxLinesPerSale) }, () => ({
          v: rng.pick(variations),
          q: rng.int(1, 2),
        }));
        summary.sales.push(this.activity.sale(rng, loc.id, lines, at, sc.orderCreatedForPos));
      } else if (kind === 'return') {
        const r = this.activity.linkedReturn(rng, at);
        if (r) {
          summary.returns.push(r.orderId);
          summary.refunds.push(r.refundId);
        } else summary.skipped++;
      } else if (kind === 'online') {
        const spec = online[onlineIdx++];
        const store = spec?.location
          ? (this.store.locationByCode.get(spec.location) ??
            this.store.locations.find((l) => l.id === spec.location))
          : loc;
        const lines = spec
          ? spec.lines.map((l) => {
              const v = this.store.variationBySku.get(l.sku);
              if (!v)
                throw sqError(
                  400,
                  'INVALID_REQUEST_ERROR',
                  'INVALID_VALUE',
                  `Unknown SKU ${l.sku}`,
                  'onlineReturns',
                );
              return { v, q: l.quantity, price: l.priceMinor };
            })
          : Array.from({ length: rng.int(1, 2) }, () => ({
              v: rng.pick(variations),
              q: 1,
              price: undefined,
            }));
        summary.onlineReturns.push(
          this.activity.onlineReturn(
            rng,
            (store ?? loc).id,
            spec?.reference ?? `#${rng.int(1001, 99999)}`,
            lines,
            at,
          ),
        );
      } else if (kind === 'count') {
        const v = rng.pick(variations);
        const cur = this.store.quantity(v.id, loc.id);
        const counted = Math.max(0, cur + rng.int(-2, 2));
        this.activity.inventoryChange(rng, v.id, loc.id, 'count', counted, at, 'PHYSICAL_COUNT');
        summary.counts++;
      } else {
        const v = rng.pick(variations);
        this.activity.inventoryChange(rng, v.id, loc.id, 'adjust', -rng.int(1, 2), at, 'WASTE');
        summary.adjustments++;
      }
    }
    const events = this.store.events.slice(firstEvent);
    return {
      ...summary,
      events: events.length,
      eventIds: events.map((e) => e.event_id),
      webhooks: this.webhooks.counters,
    };
  }

  // ---------------------------------------------------------------- state

  /**
   * `GET _control/state`. `view` = orders (default) | payments | refunds |
   * inventory | catalog | locations | registers | events | changes; filters
   * `location_id`, `sku`, `type`; paging `offset`/`limit`.
   */
  state(q: URLSearchParams): unknown {
    const view = q.get('view') ?? 'orders';
    const loc = q.get('location_id');
    const sku = q.get('sku');
    const now = new Date(this.clock()).toISOString();
    let list: unknown[];
    switch (view) {
      case 'payments':
        list = [...this.store.payments.values()].filter((p) => !loc || p.location_id === loc);
        break;
      case 'refunds':
        list = [...this.store.refunds.values()].filter((p) => !loc || p.location_id === loc);
        break;
      case 'inventory': {
        const v = sku ? this.store.variationBySku.get(sku) : undefined;
        const keys = v ? this.store.locations.map((l) => `${v.id}|${l.id}`) : this.store.touchedKeys();
        list = keys
          .map((k) => k.split('|') as [string, string])
          .filter(([, l]) => !loc || l === loc)
          .map(([vid, l]) => ({
            sku: this.store.variations.get(vid)?.item_variation_data.sku,
            location_code: this.store.codeByLocationId.get(l),
            ...this.store.count(vid, l, now),
          }));
        break;
      }
      case 'catalog':
        list = [...this.store.variations.values()]
          .filter((v) => !sku || v.item_variation_data.sku === sku)
          .map((v) => ({
            id: v.id,
            item_id: v.item_variation_data.item_id,
            sku: v.item_variation_data.sku,
            name: v.item_variation_data.name,
            price_money: v.item_variation_data.price_money,
          }));
        break;
      case 'locations':
        list = this.store.locations.map((l) => ({
          id: l.id,
          code: l.description,
          name: l.name,
          timezone: l.timezone,
        }));
        break;
      case 'registers':
        list = this.store.registers.filter((r) => !loc || r.location_id === loc);
        break;
      case 'events':
        list = this.store.events.filter((e) => !q.get('type') || e.type === q.get('type'));
        break;
      case 'changes':
        list = this.store.changes;
        break;
      default:
        list = [...this.store.orders.values()].filter((o) => !loc || o.location_id === loc);
    }
    return {
      system: 'square',
      merchantId: this.store.merchantId,
      squareVersion: SQUARE_VERSION,
      credentials: { accessToken: this.accessToken, authorization: `Bearer ${this.accessToken}` },
      limits: {
        batchChangeInventoryMaxChanges: 100,
        batchRetrieveOrdersMaxIds: 100,
        idempotencyKeyMaxLength: 128,
      },
      subscriptions: this.subscriptions,
      counters: { ...this.counters, byStatus: { ...this.counters.byStatus } },
      webhooks: this.webhooks.counters,
      faults: this.faults.snapshot(),
      summary: {
        locations: this.store.locations.length,
        registers: this.store.registers.length,
        items: this.store.items.length,
        variations: this.store.variations.size,
        orders: this.store.orders.size,
        payments: this.store.payments.size,
        refunds: this.store.refunds.size,
        inventoryChanges: this.store.changes.length,
        events: this.store.events.length,
      },
      view,
      records: paginate(list, q),
    };
  }
}

/** Factory used by `sandbox/serve.ts` and the local cloud. */
export function createSandbox(options: SquareSandboxOptions = {}): SquareSandbox {
  return new SquareSandbox(options);
}
