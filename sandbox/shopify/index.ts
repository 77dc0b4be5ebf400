import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { type ControlPlane, handleControl, PageQuerySchema, paginate } from '../core/control.ts';
import { FaultInjector } from '../core/faults.ts';
import { HttpError, Router, readJson, type SandboxApp, type SandboxFactory, sendJson } from '../core/http.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { type RetryPolicy, WebhookDispatcher } from '../core/webhooks.ts';
import { BUCKET_MULTIPLIER, LeakyBucket, limitsOf, PLANS, type PlanName } from './bucket.ts';
import { Commerce } from './commerce.ts';
import { MAX_INPUT_ARRAY_SIZE, MAX_SINGLE_QUERY_COST } from './cost.ts';
import {
  type ApiCounters,
  handleAdminGraphql,
  OLDEST_API_VERSION,
  PINNED_API_VERSION,
  zeroApiCounters,
} from './graphql.ts';
import { IdempotencyStore } from './idempotency.ts';
import { decimal, gid, gqlTime, parseGid } from './ids.ts';
import {
  currentQuantity,
  financialStatus,
  fulfillableQuantity,
  fulfillmentStatus,
  totals,
} from './orders.ts';
import { issuePayout } from './payments.ts';
import type { ResolverContext } from './resolvers.ts';
import { runScenario, ScenarioSchema, type ScenarioSummary } from './scenario.ts';
import { type LocationRecord, QUANTITY_NAMES, ShopStore, type WebhookSubscriptionRecord } from './store.ts';
import {
  COMPRESSED_RETRY,
  parseTopic,
  SHOPIFY_RETRY,
  subscriptionJson,
  TOPICS,
  topicEnum,
  WebhookEmitter,
} from './webhooks.ts';

/**
 * The Shopify sandbox: a simulated store answering the GraphQL Admin API (2026-10) at
 * `/admin/api/<version>/graphql.json` and delivering signed webhooks, mounted by the local cloud at
 * `/_sandbox/shopify` (or served alone by `npm run sandbox -- shopify`). See the Shopify section of
 * `sandbox/README.md` for the control API and defaults.
 */

/** Construction options. All optional; the defaults make a realistic mid-size retailer. */
export interface ShopifySandboxOptions {
  /** Seed for the catalogue, locations, stock, webhook ids and faults. @default 42 */
  seed?: number;
  /** Clock (epoch ms), injectable for tests (bucket, idempotency TTL, timestamps). @default Date.now */
  clock?: () => number;
  /** Sellable variants. @default 2000 */
  items?: number;
  /** Store locations. @default 120 */
  stores?: number;
  /** Online warehouses. @default 1 */
  warehouses?: number;
  /** Shopify plan (restore rate; bucket = 20×). @default 'plus' */
  plan?: PlanName;
  /** Overrides the plan's restore rate (points/s). */
  restoreRate?: number;
  /** Overrides the bucket size (points). */
  maximumAvailable?: number;
  /** @default 'shpat_omnihub_sandbox_0000000000000000' */
  accessToken?: string;
  /** The app's client secret that signs webhooks. @default 'omnihub-sandbox-client-secret' */
  appSecret?: string;
  /** @default 'omnihub-demo.myshopify.com' */
  shopDomain?: string;
  /** @default 'Omnihub Outfitters' */
  shopName?: string;
  /** Shop time zone (REST payload times carry its offset). @default 'America/New_York' */
  timeZone?: string;
  /** Webhook retry schedule: `'compressed'` (default, seconds), `'shopify'` (8 retries over 4 h) or custom. */
  webhookRetry?: 'compressed' | 'shopify' | Partial<RetryPolicy>;
  /** Parallel webhook deliveries (1 keeps arrival order reproducible). @default 1 */
  webhookConcurrency?: number;
  /** How long a reordered webhook waits for its successor. @default 1000 */
  reorderHoldMs?: number;
  /** Injectable fetch for webhook delivery. */
  fetch?: typeof fetch;
  /** App-configured webhook subscriptions (survive resets). */
  subscriptions?: Array<{ topic: string | string[]; uri: string; name?: string; includeFields?: string[] }>;
  /**
   * Shorthand for one app-configured subscription of every topic to this URL (what the local cloud
   * passes: the hub's `/webhooks/shopify` route).
   */
  webhookUrl?: string;
  /** When the seed catalogue was created (ISO-8601). @default 2026-01-05T09:00:00Z */
  catalogCreatedAt?: string;
}

const DEFAULTS = {
  accessToken: 'shpat_omnihub_sandbox_0000000000000000',
  appSecret: 'omnihub-sandbox-client-secret',
  shopDomain: 'omnihub-demo.myshopify.com',
  shopName: 'Omnihub Outfitters',
  timeZone: 'America/New_York',
  catalogCreatedAt: '2026-01-05T09:00:00Z',
};

const SubscriptionInputSchema = z.object({
  /** One topic (`orders/create` or `ORDERS_CREATE`), several, or `*` for every topic the sandbox emits. */
  topic: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
  uri: z.url({ protocol: /^https?$/ }),
  name: z.string().max(100).default('omnihub'),
  includeFields: z.array(z.string()).default([]),
});

/** `POST _control/payouts`: issues a Shopify Payments payout of what is not paid out yet (payments.ts). */
const PayoutInputSchema = z.strictObject({
  feeBp: z.number().int().min(0).max(10_000).optional(),
  feeFixedMinor: z.number().int().min(0).optional(),
  chargeDeltaMinor: z.number().int().optional(),
  adjustmentsMinor: z.array(z.number().int()).optional(),
  /** Read chaos of the payout and balance-transaction lists from now on. */
  chaos: z
    .strictObject({
      duplicateRate: z.number().min(0).max(1).default(0),
      reorder: z.boolean().default(false),
      seed: z.number().int().default(1),
    })
    .optional(),
  /** Only set the chaos, issue nothing. */
  issue: z.boolean().default(true),
});

const PlanInputSchema = z.object({
  plan: z.enum(Object.keys(PLANS) as [PlanName, ...PlanName[]]).optional(),
  restoreRate: z.number().positive().optional(),
  maximumAvailable: z.number().positive().optional(),
  /** Sets the bucket level now (e.g. 0 to start a test throttled). */
  currentlyAvailable: z.number().min(0).optional(),
});

const InventoryInputSchema = z
  .object({
    sku: z.string().min(1),
    /** Location code (`ST-001`), numeric id or GID. */
    location: z.string().min(1),
    name: z
      .enum(['available', 'on_hand', 'damaged', 'safety_stock', 'quality_control', 'reserved', 'incoming'])
      .default('available'),
    set: z.number().int().optional(),
    delta: z.number().int().optional(),
    reason: z.string().default('correction'),
  })
  .refine((v) => (v.set === undefined) !== (v.delta === undefined), 'give exactly one of set or delta');

const StateQuerySchema = z.object({
  records: z.string().optional(),
  sku: z.string().optional(),
  location: z.string().optional(),
  order: z.string().optional(),
  topic: z.string().optional(),
});

const RECORD_LISTS = [
  'orders',
  'refunds',
  'returns',
  'fulfillmentOrders',
  'products',
  'inventory',
  'locations',
  'events',
] as const;

/** The running Shopify sandbox. */
export class ShopifySandbox implements SandboxApp {
  readonly name = 'shopify';
  readonly stateFields = [
    'store',
    'commerce',
    'dispatcher',
    'emitter',
    'bucket',
    'idempotency',
    'counters',
    'plan',
    'webhookRng',
    'requestRng',
    'lastNow',
    'faults',
    'configSubscriptions',
  ] as const;
  store: ShopStore;
  commerce: Commerce;
  readonly faults: FaultInjector;
  readonly dispatcher: WebhookDispatcher;
  readonly emitter: WebhookEmitter;
  readonly bucket: LeakyBucket;
  readonly idempotency: IdempotencyStore;
  counters: ApiCounters = zeroApiCounters();
  private plan: PlanName;
  private webhookRng: Rng;
  private requestRng: Rng;
  private lastNow = 0;
  private readonly configSubscriptions: WebhookSubscriptionRecord[] = [];
  private readonly clock: () => number;
  private readonly seed: number;
  private readonly options: ShopifySandboxOptions;
  private readonly routes = new Router();

  constructor(options: ShopifySandboxOptions = {}) {
    this.options = options;
    this.seed = options.seed ?? 42;
    this.clock = options.clock ?? Date.now;
    this.plan = options.plan ?? 'plus';
    this.faults = new FaultInjector(this.seed, this.clock);
    const retry =
      options.webhookRetry === 'shopify'
        ? SHOPIFY_RETRY
        : options.webhookRetry === 'compressed' || options.webhookRetry === undefined
          ? COMPRESSED_RETRY
          : { ...COMPRESSED_RETRY, ...options.webhookRetry };
    this.dispatcher = new WebhookDispatcher({
      decide: () => this.faults.decideWebhook(),
      retry,
      concurrency: options.webhookConcurrency ?? 1,
      ...(options.reorderHoldMs !== undefined ? { reorderHoldMs: options.reorderHoldMs } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.bucket = new LeakyBucket(this.limits(), this.clock);
    this.idempotency = new IdempotencyStore(this.clock);
    this.webhookRng = createRng(this.seed).fork();
    this.requestRng = createRng(this.seed ^ 0x5f3759df);
    this.store = this.newStore();
    this.emitter = new WebhookEmitter(() => this.store.subscriptions, this.dispatcher, {
      shopDomain: this.credentials.shopDomain,
      apiVersion: PINNED_API_VERSION,
      appSecret: () => this.credentials.appSecret,
      rng: () => this.webhookRng,
    });
    this.commerce = this.newCommerce();
    for (const s of options.subscriptions ?? []) this.subscribe(s.topic, s.uri, s.name, s.includeFields);
    if (options.webhookUrl) this.subscribe('*', options.webhookUrl);
    this.installRoutes();
  }

  /** What the hub needs to talk to this shop. */
  get credentials(): {
    shopDomain: string;
    accessToken: string;
    appSecret: string;
    apiVersion: string;
    graphqlPath: string;
  } {
    return {
      shopDomain: this.options.shopDomain ?? DEFAULTS.shopDomain,
      accessToken: this.options.accessToken ?? DEFAULTS.accessToken,
      appSecret: this.options.appSecret ?? DEFAULTS.appSecret,
      apiVersion: PINNED_API_VERSION,
      graphqlPath: `/admin/api/${PINNED_API_VERSION}/graphql.json`,
    };
  }

  /** The store clock: never goes backwards, and stays after the latest simulated activity. */
  now(): number {
    this.lastNow = Math.max(this.lastNow, this.clock());
    return this.lastNow;
  }

  /**
   * Subscribes `uri` to one topic, several, or `*` (every topic the sandbox emits) as app
   * configuration (kept across resets). Returns the subscriptions created or already present.
   */
  subscribe(
    topic: string | string[],
    uri: string,
    name = 'omnihub',
    includeFields: string[] = [],
  ): WebhookSubscriptionRecord[] {
    const wanted = (Array.isArray(topic) ? topic : [topic]).flatMap((t) => (t === '*' ? [...TOPICS] : [t]));
    const out: WebhookSubscriptionRecord[] = [];
    for (const t of wanted) {
      const parsed = parseTopic(t);
      if (!parsed) throw new HttpError(400, { error: 'unknown_topic', topic: t, topics: TOPICS });
      const existing = this.store.subscriptions.find((s) => s.topic === topicEnum(parsed) && s.uri === uri);
      if (existing) {
        out.push(existing);
        continue;
      }
      const at = this.now();
      const sub: WebhookSubscriptionRecord = {
        id: this.store.ids.id('WebhookSubscription'),
        topic: topicEnum(parsed),
        uri,
        format: 'JSON',
        includeFields,
        filter: null,
        name,
        source: 'config',
        createdAt: at,
        updatedAt: at,
      };
      this.store.subscriptions.push(sub);
      this.configSubscriptions.push(sub);
      out.push(sub);
    }
    return out;
  }

  /** Removes one subscription (by numeric id or GID), or all of them. */
  unsubscribe(id?: string): number {
    const numeric = id === undefined ? undefined : (parseGid(id, 'WebhookSubscription')?.id ?? id);
    const keep = (s: WebhookSubscriptionRecord) => numeric !== undefined && s.id !== numeric;
    const before = this.store.subscriptions.length;
    const remaining = this.store.subscriptions.filter(keep);
    this.store.subscriptions.splice(0, this.store.subscriptions.length, ...remaining);
    const cfg = this.configSubscriptions.filter(keep);
    this.configSubscriptions.splice(0, this.configSubscriptions.length, ...cfg);
    return before - remaining.length;
  }

  /** Waits until queued webhooks are delivered or given up. */
  async flushWebhooks(timeoutMs = 30_000): Promise<void> {
    await this.dispatcher.flush(timeoutMs);
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (await handleControl(req, res, path, this.plane())) return;
    const m = /^\/admin\/api\/([^/]+)\/graphql\.json$/.exec(path);
    if (m) {
      await handleAdminGraphql(req, res, path, m[1] as string, {
        accessToken: () => this.credentials.accessToken,
        bucket: this.bucket,
        faults: this.faults,
        counters: this.counters,
        rng: () => this.requestRng,
        context: (delay, apiVersion) => this.context(delay, apiVersion),
      });
      return;
    }
    throw new HttpError(404, { errors: 'Not Found' });
  }

  async reset(): Promise<void> {
    this.dispatcher.reset();
    this.faults.reset(this.seed);
    this.plan = this.options.plan ?? 'plus';
    this.bucket.setLimits(this.limits());
    this.bucket.reset();
    this.idempotency.reset();
    this.emitter.reset();
    this.counters = zeroApiCounters();
    this.webhookRng = createRng(this.seed).fork();
    this.requestRng = createRng(this.seed ^ 0x5f3759df);
    this.lastNow = 0;
    const config = [...this.configSubscriptions];
    this.store = this.newStore();
    this.commerce = this.newCommerce();
    this.configSubscriptions.splice(0);
    for (const s of config) this.subscribe(topicOf(s.topic), s.uri, s.name, s.includeFields);
  }

  async close(): Promise<void> {
    this.dispatcher.close();
  }

  /** Runs store activity (see {@link ScenarioSchema}); resolves after delivery when `wait` is set. */
  async scenario(body: unknown): Promise<ScenarioSummary & { webhooks?: unknown }> {
    const input = ScenarioSchema.parse(body ?? {});
    const summary = runScenario(
      this.store,
      this.commerce,
      input,
      { now: () => this.now(), advanceTo: (t) => (this.lastNow = Math.max(this.lastNow, t)) },
      () => this.emitter.counts(),
    );
    if (!input.wait) return summary;
    await this.flushWebhooks();
    return { ...summary, webhooks: this.dispatcher.counters };
  }

  /** `GET _control/state`. */
  state(query: URLSearchParams): Record<string, unknown> {
    const q = StateQuerySchema.parse(Object.fromEntries(query));
    const wanted = q.records
      ? new Set(q.records.split(',').map((s) => s.trim()))
      : new Set<string>(RECORD_LISTS);
    const s = this.store;
    const limits = this.bucket.currentLimits;
    const loc = q.location ? this.findLocation(q.location) : undefined;
    const records: Record<string, unknown> = {
      counts: {
        products: s.products.length,
        variants: s.variants.length,
        inventoryItems: s.inventoryItems.length,
        locations: s.locations.length,
        inventoryLevels: s.inventoryItems.length * s.locations.length,
        orders: s.orders.length,
        fulfillmentOrders: s.fulfillmentOrders.length,
        fulfillments: s.fulfillments.length,
        refunds: s.refunds.length,
        returns: s.returns.length,
      },
    };
    const orderFilter = (o: (typeof s.orders)[number]) =>
      (!q.order ||
        o.id === q.order ||
        o.name === q.order ||
        o.name === `#${q.order}` ||
        gid('Order', o.id) === q.order) &&
      (!q.sku || o.lineItems.some((l) => l.sku === q.sku)) &&
      (!loc || o.locationId === loc.id);
    if (wanted.has('orders'))
      records.orders = paginate(
        s.orders.filter(orderFilter).map((o) => this.orderRecord(o)),
        query,
      );
    if (wanted.has('refunds')) {
      const orderIds = new Set(s.orders.filter(orderFilter).map((o) => o.id));
      records.refunds = paginate(
        s.refunds.filter((r) => orderIds.has(r.orderId)).map((r) => this.refundRecord(r)),
        query,
      );
    }
    if (wanted.has('returns')) {
      records.returns = paginate(
        s.returns.map((r) => ({
          id: r.id,
          orderId: r.orderId,
          name: r.name,
          status: r.status,
          createdAt: gqlTime(r.createdAt),
          lines: r.lineItems.map((l) => ({
            id: l.id,
            lineItemId: l.lineItemId,
            quantity: l.quantity,
            processedQuantity: l.processedQuantity,
          })),
          refundIds: r.refundIds,
        })),
        query,
      );
    }
    if (wanted.has('fulfillmentOrders')) {
      records.fulfillmentOrders = paginate(
        s.fulfillmentOrders
          .filter((fo) => !loc || fo.locationId === loc.id)
          .map((fo) => ({
            id: fo.id,
            orderId: fo.orderId,
            locationId: fo.locationId,
            locationCode: s.locationById.get(fo.locationId)?.code ?? null,
            deliveryMethod: fo.deliveryMethod,
            status: fo.status,
            preparedForPickupAt: fo.preparedForPickupAt === null ? null : gqlTime(fo.preparedForPickupAt),
            lines: fo.lineItems.map((l) => ({
              id: l.id,
              lineItemId: l.lineItemId,
              totalQuantity: l.totalQuantity,
              remainingQuantity: l.remainingQuantity,
            })),
          })),
        query,
      );
    }
    if (wanted.has('products')) {
      const products = q.sku
        ? s.products.filter((p) => p.variantIds.some((id) => s.variantById.get(id)?.sku === q.sku))
        : s.products;
      records.products = paginate(
        products.map((p) => ({
          id: p.id,
          handle: p.handle,
          title: p.title,
          status: p.status,
          updatedAt: gqlTime(p.updatedAt),
          variants: p.variantIds.flatMap((id) => {
            const v = s.variantById.get(id);
            return v
              ? [
                  {
                    id: v.id,
                    sku: v.sku,
                    title: v.title,
                    price: decimal(v.priceMinor),
                    inventoryItemId: v.inventoryItemId,
                  },
                ]
              : [];
          }),
        })),
        query,
      );
    }
    if (wanted.has('inventory')) records.inventory = this.inventoryPage(query, q.sku, loc);
    if (wanted.has('locations')) {
      records.locations = paginate(
        s.locations.map((l) => ({
          id: l.id,
          gid: gid('Location', l.id),
          code: l.code,
          name: l.name,
          kind: l.kind,
          city: l.city,
        })),
        query,
      );
    }
    if (wanted.has('events')) {
      records.events = paginate(
        this.emitter.events().filter((e) => !q.topic || e.topic === q.topic),
        query,
      );
    }
    return {
      system: 'shopify',
      apiVersion: PINNED_API_VERSION,
      supportedApiVersions: `${OLDEST_API_VERSION} and later (older stable versions fall forward to ${OLDEST_API_VERSION})`,
      graphqlPath: this.credentials.graphqlPath,
      credentials: this.credentials,
      shop: {
        name: this.options.shopName ?? DEFAULTS.shopName,
        domain: this.credentials.shopDomain,
        currency: s.currency,
        timeZone: this.timeZone,
      },
      limits: {
        plan: this.plan,
        planDisplayName: PLANS[this.plan].displayName,
        restoreRate: limits.restoreRate,
        maximumAvailable: limits.maximumAvailable,
        bucketMultiplier: BUCKET_MULTIPLIER,
        throttleStatus: this.bucket.status(),
        maxSingleQueryCost: MAX_SINGLE_QUERY_COST,
        maxInputArraySize: MAX_INPUT_ARRAY_SIZE,
        mutationCost: 10,
      },
      counters: {
        ...this.counters,
        idempotency: this.idempotency.stats(),
        webhooks: this.dispatcher.counters,
        webhookEvents: this.emitter.counts(),
      },
      faults: this.faults.snapshot(),
      subscriptions: s.subscriptions.map((sub) => ({
        ...subscriptionJson(sub, PINNED_API_VERSION),
        source: sub.source,
      })),
      records,
    };
  }

  // ------------------------------------------------------------------ internals

  private get timeZone(): string {
    return this.options.timeZone ?? DEFAULTS.timeZone;
  }

  private limits() {
    const base = limitsOf(this.plan);
    return {
      restoreRate: this.options.restoreRate ?? base.restoreRate,
      maximumAvailable:
        this.options.maximumAvailable ??
        (this.options.restoreRate ? this.options.restoreRate * BUCKET_MULTIPLIER : base.maximumAvailable),
    };
  }

  private newStore(): ShopStore {
    return new ShopStore({
      seed: this.seed,
      items: this.options.items ?? 2000,
      stores: this.options.stores ?? 120,
      warehouses: this.options.warehouses ?? 1,
      createdAt: Date.parse(this.options.catalogCreatedAt ?? DEFAULTS.catalogCreatedAt),
    });
  }

  private newCommerce(): Commerce {
    return new Commerce(
      this.store,
      (topic, body, at, resourceId) => this.emitter.emit(topic, body, at, resourceId),
      {
        shopDomain: this.credentials.shopDomain,
        timeZone: this.timeZone,
        shopId: '71000000017',
      },
    );
  }

  private context(delay: () => Promise<void>, apiVersion: string): ResolverContext {
    return {
      store: this.store,
      commerce: this.commerce,
      idempotency: this.idempotency,
      now: () => this.now(),
      delay,
      apiVersion,
      shop: {
        id: '71000000017',
        name: this.options.shopName ?? DEFAULTS.shopName,
        domain: this.credentials.shopDomain,
        timeZone: this.timeZone,
        planName: PLANS[this.plan].displayName,
        plus: this.plan === 'plus' || this.plan === 'enterprise',
      },
    };
  }

  private plane(): ControlPlane {
    return {
      faults: this.faults,
      webhooks: this.dispatcher,
      state: (q) => this.state(q),
      scenario: (b) => this.scenario(b),
      reset: () => this.reset(),
      routes: this.routes,
    };
  }

  private findLocation(ref: string): LocationRecord | undefined {
    const s = this.store;
    return s.locationByCode.get(ref) ?? s.locationById.get(parseGid(ref, 'Location')?.id ?? ref);
  }

  private orderRecord(o: (typeof this.store.orders)[number]): Record<string, unknown> {
    const t = totals(o);
    const loc = this.store.locationById.get(o.locationId);
    return {
      id: o.id,
      gid: gid('Order', o.id),
      name: o.name,
      createdAt: gqlTime(o.createdAt),
      updatedAt: gqlTime(o.updatedAt),
      cancelledAt: o.cancelledAt === null ? null : gqlTime(o.cancelledAt),
      financialStatus: financialStatus(o),
      fulfillmentStatus: fulfillmentStatus(o),
      delivery: o.delivery,
      locationId: o.locationId,
      locationCode: loc?.code ?? null,
      currency: this.store.currency,
      totalPrice: decimal(t.total),
      currentTotalPrice: decimal(t.currentTotal),
      totalRefunded: decimal(t.refunded),
      lines: o.lineItems.map((l) => ({
        id: l.id,
        sku: l.sku,
        quantity: l.quantity - l.removedQuantity,
        currentQuantity: currentQuantity(l),
        fulfillableQuantity: fulfillableQuantity(l, o),
        fulfilledQuantity: l.fulfilledQuantity,
        price: decimal(l.priceMinor),
      })),
      fulfillmentOrderIds: o.fulfillmentOrderIds,
      fulfillmentIds: o.fulfillmentIds,
      refundIds: o.refundIds,
      returnIds: o.returnIds,
    };
  }

  private refundRecord(r: (typeof this.store.refunds)[number]): Record<string, unknown> {
    const order = this.store.orderById.get(r.orderId);
    const amount = (order?.transactions ?? [])
      .filter((t) => r.transactionIds.includes(t.id))
      .reduce((s, t) => s + t.amountMinor, 0);
    return {
      id: r.id,
      gid: gid('Refund', r.id),
      orderId: r.orderId,
      orderName: order?.name ?? null,
      returnId: r.returnId,
      createdAt: gqlTime(r.createdAt),
      amount: decimal(amount),
      lines: r.lineItems.map((l) => ({
        lineItemId: l.lineItemId,
        sku: order?.lineItems.find((x) => x.id === l.lineItemId)?.sku ?? null,
        quantity: l.quantity,
        restockType: l.restockType,
        locationId: l.locationId,
      })),
    };
  }

  /** Inventory levels by SKU and/or location, paged without materialising every level. */
  private inventoryPage(query: URLSearchParams, sku: string | undefined, loc: LocationRecord | undefined) {
    const s = this.store;
    const { offset, limit } = PageQuerySchema.parse({
      offset: query.get('offset') ?? undefined,
      limit: query.get('limit') ?? undefined,
    });
    const items = sku ? [s.itemBySku.get(sku)].filter((i) => i !== undefined) : s.inventoryItems;
    const locs = loc ? [loc] : s.locations;
    const total = items.length * locs.length;
    const rows: Array<Record<string, unknown>> = [];
    for (let k = offset; k < Math.min(total, offset + limit); k++) {
      const item = items[Math.floor(k / locs.length)];
      const l = locs[k % locs.length];
      if (!item || !l) continue;
      const q = s.quantities(item, l);
      rows.push({
        sku: item.sku,
        inventoryItemId: item.id,
        locationId: l.id,
        locationCode: l.code,
        quantities: Object.fromEntries(QUANTITY_NAMES.map((n) => [n, q[n]])),
        updatedAt: gqlTime(s.levelUpdated(item, l)),
      });
    }
    return { total, offset, limit, hasMore: offset + limit < total, items: rows };
  }

  private installRoutes(): void {
    // The price-write log (`?sku=a,b&since=<epoch ms>`): when each variant price was applied, so a
    // test can prove a promotion was never published early nor left after its end.
    this.routes.on('GET', '/_control/price-writes', ({ req, res }) => {
      const q = new URL(req.url ?? '/', 'http://localhost').searchParams;
      const skus = q.get('sku') ? new Set((q.get('sku') ?? '').split(',')) : undefined;
      const since = Number(q.get('since') ?? 0);
      const writes = this.store.priceWrites.filter((w) => w.at >= since && (!skus || skus.has(w.sku)));
      sendJson(res, 200, {
        count: writes.length,
        writes: writes.map((w) => ({
          at: new Date(w.at).toISOString(),
          sku: w.sku,
          variantId: `gid://shopify/ProductVariant/${w.variantId}`,
          price: decimal(w.priceMinor),
          compareAtPrice: w.compareAtMinor === null ? null : decimal(w.compareAtMinor),
          via: w.via,
        })),
      });
    });
    this.routes.on('GET', '/_control/subscriptions', ({ res }) => {
      sendJson(res, 200, {
        subscriptions: this.store.subscriptions.map((s) => ({
          ...subscriptionJson(s, PINNED_API_VERSION),
          source: s.source,
        })),
      });
    });
    this.routes.on('POST', '/_control/subscriptions', async ({ req, res }) => {
      const { json } = await readJson(req);
      const input = SubscriptionInputSchema.parse(json ?? {});
      const subs = this.subscribe(input.topic, input.uri, input.name, input.includeFields);
      sendJson(res, 201, { subscriptions: subs.map((s) => subscriptionJson(s, PINNED_API_VERSION)) });
    });
    this.routes.on('DELETE', '/_control/subscriptions', ({ res }) => {
      sendJson(res, 200, { deleted: this.unsubscribe() });
    });
    this.routes.on('DELETE', '/_control/subscriptions/:id', ({ res, params }) => {
      sendJson(res, 200, { deleted: this.unsubscribe(params.id) });
    });
    this.routes.on('POST', '/_control/payouts', async ({ req, res }) => {
      const { json } = await readJson(req);
      const input = PayoutInputSchema.parse(json ?? {});
      if (input.chaos) this.store.payments.chaos = { ...input.chaos, reads: 0 };
      const payout = input.issue
        ? issuePayout(this.store, this.now(), {
            ...(input.feeBp !== undefined ? { feeBp: input.feeBp } : {}),
            ...(input.feeFixedMinor !== undefined ? { feeFixedMinor: input.feeFixedMinor } : {}),
            ...(input.chargeDeltaMinor !== undefined ? { chargeDeltaMinor: input.chargeDeltaMinor } : {}),
            ...(input.adjustmentsMinor ? { adjustmentsMinor: input.adjustmentsMinor } : {}),
          })
        : null;
      const txs = payout
        ? this.store.payments.balanceTransactions.filter((t) => t.payoutId === payout.id)
        : [];
      sendJson(res, 200, {
        payout: payout && {
          id: payout.id,
          issuedAt: gqlTime(payout.issuedAt),
          status: payout.status,
          netMinor: txs.reduce((sum, t) => sum + t.amountMinor - t.feeMinor, 0),
          transactions: txs.map((t) => ({
            id: t.id,
            type: t.type,
            amountMinor: t.amountMinor,
            feeMinor: t.feeMinor,
            orderId: t.orderId,
          })),
        },
      });
    });
    this.routes.on('POST', '/_control/plan', async ({ req, res }) => {
      const { json } = await readJson(req);
      const input = PlanInputSchema.parse(json ?? {});
      if (input.plan) this.plan = input.plan;
      const base = limitsOf(this.plan);
      const restoreRate =
        input.restoreRate ?? (input.plan ? base.restoreRate : this.bucket.currentLimits.restoreRate);
      const maximumAvailable =
        input.maximumAvailable ??
        (input.plan || input.restoreRate
          ? restoreRate * BUCKET_MULTIPLIER
          : this.bucket.currentLimits.maximumAvailable);
      this.bucket.setLimits({ restoreRate, maximumAvailable });
      if (input.currentlyAvailable !== undefined) {
        this.bucket.drain();
        this.bucket.refund(input.currentlyAvailable);
      }
      sendJson(res, 200, { plan: this.plan, throttleStatus: this.bucket.status() });
    });
    this.routes.on('POST', '/_control/inventory', async ({ req, res }) => {
      const { json } = await readJson(req);
      const input = InventoryInputSchema.parse(json ?? {});
      const item = this.store.itemBySku.get(input.sku);
      const loc = this.findLocation(input.location);
      if (!item || !loc)
        throw new HttpError(404, {
          error: 'unknown_sku_or_location',
          sku: input.sku,
          location: input.location,
        });
      const current = this.store.quantity(item, loc, input.name);
      const delta = input.set !== undefined ? input.set - current : (input.delta ?? 0);
      const stored = input.name === 'on_hand' ? 'available' : input.name;
      const at = this.now();
      if (delta !== 0) this.commerce.changeLevel(item, loc, { [stored]: delta }, at);
      const q = this.store.quantities(item, loc);
      this.commerce.recordAdjustment(
        input.reason,
        null,
        [
          {
            name: input.name,
            delta,
            quantityAfterChange: q[input.name],
            inventoryItemId: item.id,
            locationId: loc.id,
            ledgerDocumentUri: null,
          },
        ],
        at,
      );
      sendJson(res, 200, { sku: item.sku, locationCode: loc.code, delta, quantities: q });
    });
  }
}

function topicOf(enumTopic: string): string {
  return parseTopic(enumTopic) ?? enumTopic;
}

/** Builds the Shopify sandbox with typed options (what the local cloud and tests call). */
export function createShopifySandbox(options: ShopifySandboxOptions = {}): ShopifySandbox {
  return new ShopifySandbox(options);
}

const FactoryOptionsSchema = z
  .object({
    seed: z.number().int().optional(),
    items: z.number().int().min(1).max(100_000).optional(),
    stores: z.number().int().min(0).max(1_000).optional(),
    warehouses: z.number().int().min(1).max(20).optional(),
    plan: z.enum(Object.keys(PLANS) as [PlanName, ...PlanName[]]).optional(),
    restoreRate: z.number().positive().optional(),
    maximumAvailable: z.number().positive().optional(),
    accessToken: z.string().min(1).optional(),
    appSecret: z.string().min(1).optional(),
    shopDomain: z.string().min(1).optional(),
    shopName: z.string().min(1).optional(),
    timeZone: z.string().min(1).optional(),
    webhookRetry: z.union([z.enum(['compressed', 'shopify']), z.object({}).passthrough()]).optional(),
    webhookConcurrency: z.number().int().min(1).max(64).optional(),
    reorderHoldMs: z.number().int().min(0).optional(),
    subscriptions: SubscriptionInputSchema.partial({ name: true, includeFields: true }).array().optional(),
    webhookUrl: z.url({ protocol: /^https?$/ }).optional(),
    catalogCreatedAt: z.iso.datetime().optional(),
  })
  .passthrough();

/**
 * The generic factory `sandbox/serve.ts` and the local cloud use (`SandboxFactory`): validates the
 * serialisable options with zod and passes `clock`/`fetch` through when they are functions.
 */
export const createSandbox: SandboxFactory = (options = {}) => {
  const parsed = FactoryOptionsSchema.parse(options);
  const {
    clock,
    fetch: fetchFn,
    webhookRetry,
    ...rest
  } = parsed as typeof parsed & { clock?: unknown; fetch?: unknown };
  return createShopifySandbox({
    ...(rest as Omit<ShopifySandboxOptions, 'clock' | 'fetch' | 'webhookRetry'>),
    ...(typeof clock === 'function' ? { clock: clock as () => number } : {}),
    ...(typeof fetchFn === 'function' ? { fetch: fetchFn as typeof fetch } : {}),
    ...(webhookRetry !== undefined
      ? { webhookRetry: webhookRetry as ShopifySandboxOptions['webhookRetry'] }
      : {}),
  });
};

export type { PlanName } from './bucket.ts';
export { PINNED_API_VERSION } from './graphql.ts';
export { signBody, TOPICS, type Topic } from './webhooks.ts';
