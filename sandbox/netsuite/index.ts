import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { type ControlPlane, handleControl, paginate } from '../core/control.ts';
import { FaultInjector } from '../core/faults.ts';
import {
  applyFault,
  baseUrlOf,
  type FaultRenderer,
  HttpError,
  headerOf,
  queryOf,
  Router,
  readBody,
  readJson,
  responseClosed,
  type SandboxApp,
  type SandboxOptions,
  sendEmpty,
  sendJson,
  sleep,
} from '../core/http.ts';
import { createRetailer, type Retailer } from '../core/retailer.ts';
import { createRng, type Rng } from '../core/rng.ts';
import { defaultCredentials, type NsCredentials, TOKEN_PATH, TokenService } from './auth.ts';
import { concurrencyLimitError, invalidLoginError, nsError } from './errors.ts';
import {
  applyEffects,
  COMPUTED_FIELDS,
  checkInput,
  itemChanges,
  prepareBody,
  renderRecord,
  renderSublist,
  stamp,
} from './records.ts';
import {
  ITEM_TYPES,
  type ItemType,
  isReadOnlyType,
  isRecordType,
  type NsRecord,
  NsStore,
  READ_ONLY_TYPES,
  type ReadableType,
  type RecordType,
  TRANSACTION_TYPES,
} from './store.ts';
import { isSublist, LINE_SEQ, mergeUpdate, newRecordLines } from './sublists.ts';
import { parseSuiteQl, pinned, type Row, runSuiteQl, SuiteQlError, type SuiteQlTable } from './suiteql.ts';
import { transformBody, transformExternalId } from './transform.ts';

export { createClientAssertion, defaultCredentials, type NsCredentials, TOKEN_PATH } from './auth.ts';

/** Base concurrency limits by service tier (NetSuite concurrency governance). */
export const TIER_LIMITS = { standard: 5, premium: 15, enterprise: 20, ultimate: 20 } as const;

/** Account plan: service tier, SuiteCloud Plus licences (+10 each), per-call latency, token lifetime. */
export const PlanSchema = z.object({
  tier: z.enum(['standard', 'premium', 'enterprise', 'ultimate']).default('premium'),
  suiteCloudPlusLicenses: z.number().int().min(0).max(100).default(0),
  /** Overrides the computed limit (tests, experiments). */
  concurrencyLimit: z.number().int().min(1).optional(),
  /** Baseline latency of every governed call, uniform in [min, max] ms (on top of fault latency). */
  latencyMs: z
    .object({ min: z.number().int().min(0), max: z.number().int().min(0) })
    .refine((l) => l.max >= l.min)
    .default({ min: 0, max: 0 }),
  tokenTtlSeconds: z.number().int().min(1).max(86_400).default(3600),
});
export type PlanInput = z.input<typeof PlanSchema>;
export type Plan = z.output<typeof PlanSchema>;

/** Construction options of the NetSuite sandbox. */
export interface NetSuiteSandboxOptions extends SandboxOptions {
  /** @default 'TSTDRV1234567' */
  accountId?: string;
  /** Seeded catalogue size. @default 2000 */
  items?: number;
  /** @default 120 */
  stores?: number;
  /** @default 1 */
  warehouses?: number;
  plan?: PlanInput;
  /** Extra client credentials mappings (e.g. the hub's own certificate), besides the seeded one. */
  credentials?: NsCredentials[];
}

/** `POST _control/scenario` body: ERP-side activity that feeds the change feed. */
export const NetSuiteScenarioSchema = z.object({
  seed: z.number().int().optional(),
  priceChanges: z.number().int().min(0).max(100_000).default(0),
  itemChanges: z.number().int().min(0).max(100_000).default(0),
  newItems: z.number().int().min(0).max(10_000).default(0),
  /** Goods receipts at the warehouse (inventory adjustments +qty). */
  receipts: z.number().int().min(0).max(100_000).default(0),
  /** Store stock corrections (inventory adjustments ±qty). */
  adjustments: z.number().int().min(0).max(100_000).default(0),
  /** Restrict receipts and adjustments to these SKUs (a hot-item storm on a few SKUs). */
  skus: z.array(z.string().min(1)).min(1).optional(),
});

const RECORD_BASE = '/services/rest/record/v1';
const SUITEQL_PATH = '/services/rest/query/v1/suiteql';
const TRANSACTIONS = Object.keys(TRANSACTION_TYPES) as RecordType[];

/** Counters reported by the state endpoint. */
interface NsCounters {
  calls: number;
  governedCalls: number;
  unauthorized: number;
  /** Requests refused for concurrency (429 SSS_REQUEST_LIMIT_EXCEEDED from governance). */
  throttled: number;
  /** Every 429 answered, governance and throttle-storm faults alike. */
  http429: number;
  peakConcurrency: number;
  suiteqlQueries: number;
  byStatus: Record<string, number>;
}

const zeroCounters = (): NsCounters => ({
  calls: 0,
  governedCalls: 0,
  unauthorized: 0,
  throttled: 0,
  http429: 0,
  peakConcurrency: 0,
  suiteqlQueries: 0,
  byStatus: {},
});

/**
 * A NetSuite-style ERP (REST web services): records by type with upsert by
 * external id, SuiteQL, OAuth 2.0 client credentials, per-account
 * concurrency governance, latency and faults, an item master with on-hand
 * per location and a change feed. Mount at `/_sandbox/netsuite`.
 */
export class NetSuiteSandbox implements SandboxApp {
  readonly name = 'netsuite';
  readonly stateFields = ['store', 'plan', 'counters', 'scenarioRuns', 'latencyRng', 'faults'] as const;
  readonly faults: FaultInjector;
  readonly retailer: Retailer;
  readonly accountId: string;
  readonly credentials: NsCredentials;
  store: NsStore;
  tokens: TokenService;
  plan: Plan;
  private counters = zeroCounters();
  private inFlight = 0;
  private latencyRng: Rng;
  private scenarioRuns = 0;
  private readonly clock: () => number;
  private readonly router = new Router();
  private readonly controlRoutes = new Router();
  private readonly plane: ControlPlane;

  constructor(private readonly options: NetSuiteSandboxOptions = {}) {
    const seed = options.seed ?? 42;
    this.clock = options.clock ?? Date.now;
    this.accountId = options.accountId ?? 'TSTDRV1234567';
    this.retailer = createRetailer({
      seed,
      ...(options.items !== undefined ? { items: options.items } : {}),
      ...(options.stores !== undefined ? { stores: options.stores } : {}),
      ...(options.warehouses !== undefined ? { warehouses: options.warehouses } : {}),
    });
    this.credentials = defaultCredentials(seed, this.accountId);
    this.faults = new FaultInjector(seed, this.clock);
    this.plan = PlanSchema.parse(options.plan ?? {});
    this.store = new NsStore(this.retailer, this.clock);
    this.tokens = this.newTokenService();
    this.latencyRng = createRng(seed).fork();
    this.routes();
    this.plane = {
      faults: this.faults,
      state: (q) => this.state(q),
      scenario: (body) => this.scenario(body),
      reset: () => this.reset(),
      routes: this.controlRoutes,
    };
  }

  /** The concurrency limit in force: tier base + 10 per SuiteCloud Plus licence, unless overridden. */
  get concurrencyLimit(): number {
    return this.plan.concurrencyLimit ?? TIER_LIMITS[this.plan.tier] + 10 * this.plan.suiteCloudPlusLicenses;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (await handleControl(req, res, path, this.plane)) return;
    const method = (req.method ?? 'GET').toUpperCase();
    this.counters.calls++;
    res.once('finish', () => {
      const k = String(res.statusCode);
      this.counters.byStatus[k] = (this.counters.byStatus[k] ?? 0) + 1;
      if (res.statusCode === 429) this.counters.http429++;
    });
    if (path === TOKEN_PATH) {
      if (method !== 'POST') throw nsError(405, 'INVALID_METHOD', 'The token endpoint accepts POST only.');
      await applyFault(this.faults.decide(path), res, this.renderer);
      const form = new URLSearchParams((await readBody(req, 64 * 1024)).toString('utf8'));
      sendJson(res, 200, this.tokens.exchange(form), { 'cache-control': 'no-store' });
      return;
    }
    if (!this.tokens.validate(headerOf(req, 'authorization'))) {
      this.counters.unauthorized++;
      throw invalidLoginError();
    }
    const limit = this.concurrencyLimit;
    if (this.inFlight >= limit) {
      this.counters.throttled++;
      throw concurrencyLimitError(limit);
    }
    this.inFlight++;
    this.counters.governedCalls++;
    this.counters.peakConcurrency = Math.max(this.counters.peakConcurrency, this.inFlight);
    try {
      await applyFault(this.faults.decide(path), res, this.renderer);
      const { min, max } = this.plan.latencyMs;
      await sleep(max > min ? this.latencyRng.int(min, max) : min, responseClosed(res));
      const m = this.router.match(method, path);
      if (!m)
        throw nsError(404, 'NONEXISTENT_ID', `The requested resource ${path} does not exist.`, {
          'o:urlPath': path,
        });
      if ('methodNotAllowed' in m)
        throw nsError(405, 'INVALID_METHOD', `Method ${method} is not allowed on ${path}.`);
      await m.handler({ req, res, path, params: m.params });
    } finally {
      this.inFlight--;
    }
  }

  async reset(): Promise<void> {
    this.faults.reset();
    this.plan = PlanSchema.parse(this.options.plan ?? {});
    this.store = new NsStore(this.retailer, this.clock);
    this.tokens = this.newTokenService();
    this.counters = zeroCounters();
    this.latencyRng = createRng(this.options.seed ?? 42).fork();
    this.scenarioRuns = 0;
  }

  async close(): Promise<void> {}

  /** Number of requests currently holding a concurrency slot. */
  get inFlightCount(): number {
    return this.inFlight;
  }

  private newTokenService(): TokenService {
    return new TokenService(
      [this.credentials, ...(this.options.credentials ?? [])],
      this.clock,
      this.plan.tokenTtlSeconds,
    );
  }

  private readonly renderer: FaultRenderer = {
    error: (status) =>
      nsError(status, 'UNEXPECTED_ERROR', 'An unexpected error occurred. Error ID: sandbox-injected-fault'),
    throttle: (retryAfter) => {
      const e = concurrencyLimitError(this.concurrencyLimit);
      return new HttpError(e.status, e.body, { 'retry-after': String(retryAfter) });
    },
    outage: (until) =>
      nsError(
        503,
        'SERVICE_UNAVAILABLE',
        `NetSuite is unavailable for scheduled maintenance until ${until}.`,
        {},
        {
          'retry-after': String(Math.max(1, Math.ceil((Date.parse(until) - this.clock()) / 1000))),
        },
      ),
  };

  // ---------------------------------------------------------------- routes

  private routes(): void {
    const r = this.router;
    r.on('POST', SUITEQL_PATH, (c) => this.suiteql(c.req, c.res, c.path));
    r.on('GET', `${RECORD_BASE}/:type`, (c) => this.list(c.req, c.res, c.path, c.params.type ?? ''));
    r.on('POST', `${RECORD_BASE}/:type`, (c) => this.create(c.req, c.res, c.path, c.params.type ?? ''));
    r.on('GET', `${RECORD_BASE}/:type/:id`, (c) => this.read(c.req, c.res, c.path, c.params));
    r.on('PATCH', `${RECORD_BASE}/:type/:id`, (c) => this.update(c.req, c.res, c.path, c.params));
    r.on('PUT', `${RECORD_BASE}/:type/:id`, (c) => this.upsert(c.req, c.res, c.path, c.params));
    r.on('DELETE', `${RECORD_BASE}/:type/:id`, (c) => this.remove(c.res, c.params));
    r.on('GET', `${RECORD_BASE}/:type/:id/:sublist`, (c) => this.readSublist(c.req, c.res, c.path, c.params));
    r.on('POST', `${RECORD_BASE}/:type/:id/!transform/:target`, (c) =>
      this.transform(c.req, c.res, c.path, c.params),
    );

    const cr = this.controlRoutes;
    cr.on('POST', '/_control/plan', async ({ req, res }) => {
      const { json } = await readJson(req);
      this.plan = PlanSchema.parse({ ...this.plan, concurrencyLimit: undefined, ...(json as object) });
      this.tokens.ttlSeconds = this.plan.tokenTtlSeconds;
      sendJson(res, 200, { plan: this.plan, concurrencyLimit: this.concurrencyLimit });
    });
    cr.on('POST', '/_control/credentials', async ({ req, res }) => {
      const { json } = await readJson(req);
      const c = z
        .object({
          clientId: z.string().min(1),
          certificateId: z.string().min(1),
          publicKeyPem: z.string().min(1),
        })
        .parse(json);
      this.tokens.register({ accountId: this.accountId, ...c });
      sendJson(res, 200, { registered: c.clientId });
    });
    // What a warehouse or billing run does to a transaction line: the fulfilled / billed quantities that
    // make NetSuite keep the line (it can be closed, not removed; see sublists.ts).
    cr.on('POST', '/_control/fulfil', async ({ req, res }) => {
      const { json } = await readJson(req);
      const f = z
        .object({
          type: z.enum(['salesOrder', 'cashSale']),
          externalId: z.string().min(1),
          line: z.number().int().positive(),
          quantityFulfilled: z.number().min(0).optional(),
          quantityBilled: z.number().min(0).optional(),
        })
        .parse(json);
      const rec = this.store.getByExternalId(f.type, f.externalId);
      const sublist = rec?.body.item;
      const line = isSublist(sublist) ? sublist.items.find((l) => Number(l.line) === f.line) : undefined;
      if (!rec || !line) throw this.notFound(`${f.type}/eid:${f.externalId} line ${f.line}`);
      if (f.quantityFulfilled !== undefined) line.quantityFulfilled = f.quantityFulfilled;
      if (f.quantityBilled !== undefined) line.quantityBilled = f.quantityBilled;
      sendJson(res, 200, { id: rec.id, line });
    });
    cr.on('GET', '/_control/changes', ({ req, res }) => {
      const q = queryOf(req);
      const after = Number(q.get('after') ?? 0);
      sendJson(
        res,
        200,
        paginate(
          this.store.feed.filter((e) => e.id > after),
          q,
        ),
      );
    });
  }

  private recordType(type: string): RecordType {
    if (!isRecordType(type)) {
      throw nsError(404, 'INVALID_RCRD_TYPE', `Record type '${type}' is not supported by the sandbox.`, {
        'o:urlPath': type,
      });
    }
    return type;
  }

  /** Finds a record by internal id or `eid:<externalId>`. */
  private find(type: ReadableType, idOrEid: string): NsRecord | undefined {
    return idOrEid.startsWith('eid:')
      ? this.store.getByExternalId(type, idOrEid.slice(4))
      : this.store.get(type, idOrEid);
  }

  private notFound(idOrEid: string): HttpError {
    return nsError(
      404,
      'NONEXISTENT_ID',
      'The record instance does not exist. Provide a valid record instance ID.',
      {
        'o:urlPath': idOrEid,
      },
    );
  }

  private selfUrl(req: IncomingMessage, path: string, type: string, id: string): string {
    return `${baseUrlOf(req, path)}${RECORD_BASE}/${type}/${id}`;
  }

  private async body(req: IncomingMessage): Promise<unknown> {
    if (/respond-async/i.test(headerOf(req, 'prefer') ?? '')) {
      throw nsError(
        400,
        'INVALID_HEADER',
        'Asynchronous requests (Prefer: respond-async) are not supported by the sandbox.',
        {
          'o:errorHeader': 'Prefer',
        },
      );
    }
    const { json } = await readJson(
      req,
      (m) => nsError(400, 'INVALID_CONTENT', `Error while accessing a resource. Invalid JSON: ${m}`),
      104 * 1024 * 1024,
    );
    return json;
  }

  private async list(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    typeParam: string,
  ): Promise<void> {
    const type: ReadableType = isReadOnlyType(typeParam) ? typeParam : this.recordType(typeParam);
    const q = queryOf(req);
    if (q.has('q')) {
      throw nsError(
        400,
        'INVALID_PARAMETER',
        'The q filter of record collections is not supported by the sandbox; use SuiteQL.',
        {
          'o:errorQueryParam': 'q',
        },
      );
    }
    const limit = Math.min(1000, Math.max(1, Number(q.get('limit') ?? 1000)));
    const offset = Math.max(0, Number(q.get('offset') ?? 0));
    const all = this.store.list(type);
    const page = all.slice(offset, offset + limit);
    const base = `${baseUrlOf(req, path)}${RECORD_BASE}/${type}`;
    sendJson(res, 200, {
      links: [{ rel: 'self', href: `${base}?limit=${limit}&offset=${offset}` }],
      count: page.length,
      hasMore: offset + limit < all.length,
      items: page.map((r) => ({ links: [{ rel: 'self', href: `${base}/${r.id}` }], id: r.id })),
      offset,
      totalResults: all.length,
    });
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    typeParam: string,
  ): Promise<void> {
    const type = this.recordType(typeParam);
    const input = await this.body(req);
    const externalId = (input as { externalId?: unknown } | undefined)?.externalId;
    if (externalId !== undefined && typeof externalId !== 'string') {
      throw nsError(
        400,
        'INVALID_CONTENT',
        'Error while accessing a resource. externalId must be a string.',
        { 'o:errorPath': 'externalId' },
      );
    }
    const { externalId: _e, ...rest } = checkInput(input);
    const body = prepareBody(type, newRecordLines(rest), this.store);
    if (externalId !== undefined && this.store.getByExternalId(type, externalId)) {
      throw nsError(
        400,
        'DUP_RECORD',
        `Error while accessing a resource. A ${type} record with external ID ${externalId} already exists.`,
        {
          'o:errorPath': 'externalId',
        },
      );
    }
    const rec = this.write(type, this.store.allocateId(type), externalId, body, undefined);
    sendEmpty(res, 204, { location: this.selfUrl(req, path, type, rec.id) });
  }

  private async read(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    p: Record<string, string>,
  ): Promise<void> {
    const typeParam = p.type ?? '';
    const type: ReadableType = isReadOnlyType(typeParam) ? typeParam : this.recordType(typeParam);
    const rec = this.find(type, p.id ?? '');
    if (!rec) throw this.notFound(p.id ?? '');
    const expand = queryOf(req).get('expandSubResources') === 'true';
    sendJson(res, 200, renderRecord(rec, this.selfUrl(req, path, type, rec.id), expand, this.store));
  }

  private async readSublist(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    p: Record<string, string>,
  ): Promise<void> {
    const type = this.recordType(p.type ?? '');
    const rec = this.find(type, p.id ?? '');
    if (!rec) throw this.notFound(p.id ?? '');
    const self = this.selfUrl(req, path, type, rec.id);
    const rendered = renderRecord(rec, self, true, this.store)[p.sublist ?? ''];
    if (typeof rendered !== 'object' || rendered === null || !('items' in rendered)) {
      throw nsError(404, 'NONEXISTENT_ID', `Sublist ${p.sublist} does not exist on ${type}.`, {
        'o:urlPath': p.sublist ?? '',
      });
    }
    sendJson(
      res,
      200,
      renderSublist(rendered as { items: Array<Record<string, unknown>> }, `${self}/${p.sublist}`, true),
    );
  }

  private async update(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    p: Record<string, string>,
  ): Promise<void> {
    const type = this.recordType(p.type ?? '');
    const patch = await this.body(req);
    const rec = this.find(type, p.id ?? '');
    if (!rec) throw this.notFound(p.id ?? '');
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        'Error while accessing a resource. The request body must be a JSON object.',
      );
    }
    const { externalId, ...rest } = checkInput(patch);
    const body = prepareBody(type, mergeUpdate(rec.body, rest, replaceOf(req), COMPUTED_FIELDS), this.store);
    const eid = typeof externalId === 'string' ? externalId : rec.externalId;
    if (eid !== rec.externalId && eid !== undefined && this.store.getByExternalId(type, eid)) {
      throw nsError(
        400,
        'DUP_RECORD',
        `Error while accessing a resource. A ${type} record with external ID ${eid} already exists.`,
      );
    }
    this.write(type, rec.id, eid, body, rec);
    sendEmpty(res, 204, { location: this.selfUrl(req, path, type, rec.id) });
  }

  /** `PUT …/eid:<externalId>`: creates or replaces; the external id maps to exactly one record. */
  private async upsert(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    p: Record<string, string>,
  ): Promise<void> {
    const type = this.recordType(p.type ?? '');
    const idParam = p.id ?? '';
    if (!idParam.startsWith('eid:') || idParam.length <= 4) {
      throw nsError(
        400,
        'INVALID_PARAMETER',
        'The upsert operation (PUT) requires an external ID in the URL: …/eid:<externalId>.',
        {
          'o:urlPath': idParam,
        },
      );
    }
    const externalId = idParam.slice(4);
    const { externalId: bodyEid, ...rest } = checkInput(await this.body(req));
    if (bodyEid !== undefined && bodyEid !== externalId) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        'Error while accessing a resource. The externalId in the body differs from the one in the URL.',
        {
          'o:errorPath': 'externalId',
        },
      );
    }
    // Synchronous from lookup to write: concurrent upserts of one external id cannot both create. An
    // existing record is updated (fields not sent are kept, sublists per `replace`); see sublists.ts.
    const existing = this.store.getByExternalId(type, externalId);
    const body = prepareBody(
      type,
      existing ? mergeUpdate(existing.body, rest, replaceOf(req), COMPUTED_FIELDS) : newRecordLines(rest),
      this.store,
    );
    const rec = this.write(type, existing?.id ?? this.store.allocateId(type), externalId, body, existing);
    sendEmpty(res, 204, { location: this.selfUrl(req, path, type, rec.id) });
  }

  /** `POST …/<type>/<id>/!transform/<target>`: a new record from an existing one (see transform.ts). */
  private async transform(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    p: Record<string, string>,
  ): Promise<void> {
    const type = this.recordType(p.type ?? '');
    const target = this.recordType(p.target ?? '');
    const input = await this.body(req);
    const source = this.find(type, p.id ?? '');
    if (!source) throw this.notFound(p.id ?? '');
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      throw nsError(
        400,
        'INVALID_CONTENT',
        'Error while accessing a resource. The request body must be a JSON object.',
      );
    }
    const { externalId: _e, ...rest } = input as Record<string, unknown>;
    const replace = new Set((queryOf(req).get('replace') ?? '').split(',').filter(Boolean));
    const body = prepareBody(target, transformBody(source, target, rest, replace), this.store);
    // Synchronous from the uniqueness check to the write: two transforms of one external id cannot both create.
    const externalId = transformExternalId(this.store, target, input);
    const rec = this.write(target, this.store.allocateId(target), externalId, body, undefined);
    sendEmpty(res, 204, { location: this.selfUrl(req, path, target, rec.id) });
  }

  private async remove(res: ServerResponse, p: Record<string, string>): Promise<void> {
    const type = this.recordType(p.type ?? '');
    const rec = this.find(type, p.id ?? '');
    if (!rec) throw this.notFound(p.id ?? '');
    applyEffects(this.store, type, rec.body, undefined, `${type}:${rec.id}`);
    this.store.delete(type, rec.id);
    sendEmpty(res, 204);
  }

  private write(
    type: RecordType,
    id: string,
    externalId: string | undefined,
    body: Record<string, unknown>,
    prev: NsRecord | undefined,
  ): NsRecord {
    const now = this.store.now();
    const rec = this.store.put({
      type,
      id,
      ...(externalId !== undefined ? { externalId } : {}),
      body: stamp(type, id, body, prev),
      createdDate: prev?.createdDate ?? now,
      lastModifiedDate: now,
    });
    applyEffects(this.store, type, prev?.body, rec.body, `${type}:${id}`);
    if (type === 'inventoryItem') itemChanges(this.store, rec, prev?.body);
    return rec;
  }

  // ---------------------------------------------------------------- SuiteQL

  private async suiteql(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    this.counters.suiteqlQueries++;
    if (!/\btransient\b/i.test(headerOf(req, 'prefer') ?? '')) {
      throw nsError(400, 'INVALID_HEADER', 'SuiteQL queries require the header Prefer: transient.', {
        'o:errorHeader': 'Prefer',
      });
    }
    const input = await this.body(req);
    const qText = (input as { q?: unknown } | undefined)?.q;
    if (typeof qText !== 'string' || qText.trim() === '') {
      throw nsError(400, 'INVALID_CONTENT', 'The request body must be {"q": "<SuiteQL query>"}.', {
        'o:errorPath': 'q',
      });
    }
    const query = queryOf(req);
    const limit = Number(query.get('limit') ?? 1000);
    const offset = Number(query.get('offset') ?? 0);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw nsError(400, 'INVALID_PARAMETER', 'The limit must be an integer between 1 and 1000.', {
        'o:errorQueryParam': 'limit',
      });
    }
    if (!Number.isInteger(offset) || offset < 0) {
      throw nsError(400, 'INVALID_PARAMETER', 'The offset must be a non-negative integer.', {
        'o:errorQueryParam': 'offset',
      });
    }
    let rows: Array<Record<string, string>>;
    try {
      rows = runSuiteQl(parseSuiteQl(qText), this.tables());
    } catch (err) {
      if (err instanceof SuiteQlError) {
        throw nsError(
          400,
          'INVALID_PARAMETER',
          `Invalid search query. Detailed unprocessed description follows. ${err.message}`,
          {
            'o:errorPath': 'q',
          },
        );
      }
      throw err;
    }
    const page = rows.slice(offset, offset + limit);
    const base = `${baseUrlOf(req, path)}${SUITEQL_PATH}`;
    const link = (rel: string, off: number) => ({ rel, href: `${base}?limit=${limit}&offset=${off}` });
    const links = [link('self', offset)];
    if (offset > 0) links.push(link('previous', Math.max(0, offset - limit)), link('first', 0));
    if (offset + limit < rows.length)
      links.push(link('next', offset + limit), link('last', Math.floor((rows.length - 1) / limit) * limit));
    sendJson(res, 200, {
      links,
      count: page.length,
      hasMore: offset + limit < rows.length,
      items: page.map((r) => ({ links: [], ...r })),
      offset,
      totalResults: rows.length,
    });
  }

  /** Tables of the SuiteQL subset (documented in sandbox/README.md). */
  private tables(): Record<string, SuiteQlTable> {
    const s = this.store;
    const ref = (v: unknown): string | undefined => (v as { id?: string } | undefined)?.id;
    return {
      transaction: {
        columns: [
          'id',
          'tranid',
          'externalid',
          'recordtype',
          'type',
          'trandate',
          'entity',
          'location',
          'total',
          'foreigntotal',
          'memo',
          'status',
          'createddate',
          'lastmodifieddate',
        ],
        rows: function* () {
          for (const t of TRANSACTIONS) {
            const meta = TRANSACTION_TYPES[t as keyof typeof TRANSACTION_TYPES];
            for (const r of s.list(t)) {
              const b = r.body;
              const row: Row = {
                id: r.id,
                tranid: b.tranId as string,
                externalid: r.externalId,
                recordtype: meta.recordtype,
                type: meta.code,
                trandate: b.tranDate as string,
                entity: ref(b.entity) ?? ref(b.customer),
                location: ref(b.location) ?? ref(b.adjLocation),
                total: b.total as number | undefined,
                foreigntotal: b.total as number | undefined,
                memo: b.memo as string | undefined,
                status: transactionStatus(t, b),
                createddate: r.createdDate,
                lastmodifieddate: r.lastModifiedDate,
              };
              yield row;
            }
          }
        },
      },
      item: {
        columns: [
          'id',
          'itemid',
          'externalid',
          'displayname',
          'itemtype',
          'baseprice',
          'cost',
          'upccode',
          'isinactive',
          'lastmodifieddate',
        ],
        rows: function* (where) {
          const ids = pinned(where, 'id');
          const skus = pinned(where, 'itemid') ?? pinned(where, 'externalid');
          const recs = ids
            ? [...ids].map((id) => s.findItem({ id }))
            : skus
              ? [...skus].map(
                  (k) => s.findItem({ externalId: k }) ?? s.get('inventoryItem', s.itemIdBySku.get(k) ?? ''),
                )
              : (Object.keys(ITEM_TYPES) as ItemType[]).flatMap((t) => s.list(t));
          for (const r of recs) {
            if (!r) continue;
            yield {
              id: r.id,
              itemid: r.body.itemId as string,
              externalid: r.externalId,
              displayname: r.body.displayName as string | undefined,
              itemtype: ITEM_TYPES[r.type as ItemType],
              baseprice: r.body.basePrice as number | undefined,
              cost: r.body.cost as number | undefined,
              upccode: r.body.upcCode as string | undefined,
              isinactive: r.body.isInactive === true,
              lastmodifieddate: r.lastModifiedDate,
            };
          }
        },
      },
      location: {
        columns: [
          'id',
          'name',
          'externalid',
          'isinactive',
          'city',
          'state',
          'country',
          'timezone',
          'locationtype',
        ],
        rows: () =>
          s.locations.map((l) => ({
            id: l.id,
            name: l.name,
            externalid: l.code,
            isinactive: false,
            city: l.city,
            state: l.state,
            country: l.country,
            timezone: l.timezone,
            locationtype: l.kind === 'warehouse' ? 'Warehouse' : 'Store',
          })),
      },
      customer: {
        columns: ['id', 'entityid', 'companyname', 'isinactive'],
        rows: () =>
          s.list('customer').map((r) => ({
            id: r.id,
            entityid: r.body.entityId as string,
            companyname: r.body.companyName as string,
            isinactive: r.body.isInactive === true,
          })),
      },
      currency: {
        columns: ['id', 'symbol', 'name', 'isinactive'],
        rows: () =>
          s.list('currency').map((r) => ({
            id: r.id,
            symbol: r.body.symbol as string,
            name: r.body.name as string,
            isinactive: r.body.isInactive === true,
          })),
      },
      subsidiary: {
        columns: ['id', 'name', 'currency', 'isinactive'],
        rows: () =>
          s.list('subsidiary').map((r) => ({
            id: r.id,
            name: r.body.name as string,
            currency: ref(r.body.currency),
            isinactive: r.body.isInactive === true,
          })),
      },
      taxtype: {
        columns: ['id', 'name', 'isinactive'],
        rows: () =>
          s.list('taxType').map((r) => ({
            id: r.id,
            name: r.body.name as string,
            isinactive: r.body.isInactive === true,
          })),
      },
      salestaxitem: {
        columns: ['id', 'itemid', 'rate', 'taxtype', 'isinactive'],
        rows: () =>
          s.list('salesTaxItem').map((r) => ({
            id: r.id,
            itemid: r.body.itemId as string,
            rate: r.body.rate as number,
            taxtype: ref(r.body.taxType),
            isinactive: r.body.isInactive === true,
          })),
      },
      paymentmethod: {
        columns: ['id', 'name', 'externalid', 'isinactive'],
        rows: () =>
          s.list('paymentMethod').map((r) => ({
            id: r.id,
            name: r.body.name as string,
            externalid: r.externalId,
            isinactive: r.body.isInactive === true,
          })),
      },
      aggregateitemlocation: {
        columns: ['item', 'location', 'quantityonhand', 'quantityavailable', 'quantitycommitted'],
        rows: function* (where) {
          const items = pinned(where, 'item') ?? new Set(s.list('inventoryItem').map((r) => r.id));
          const locs = pinned(where, 'location') ?? new Set(s.locations.map((l) => l.id));
          for (const item of items) {
            if (!s.get('inventoryItem', item)) continue;
            for (const location of locs) {
              if (!s.locationById.has(location)) continue;
              const q = s.onHand(item, location);
              yield { item, location, quantityonhand: q, quantityavailable: q, quantitycommitted: 0 };
            }
          }
        },
      },
      customrecord_oh_change: {
        columns: [
          'id',
          'custrecord_oh_kind',
          'custrecord_oh_item',
          'custrecord_oh_sku',
          'custrecord_oh_location',
          'custrecord_oh_location_code',
          'custrecord_oh_quantity',
          'custrecord_oh_price',
          'custrecord_oh_source',
          'created',
        ],
        rows: function* (where) {
          // The feed is ordered by id: narrow `id > n` scans with a binary-free slice.
          let start = 0;
          for (const c of where) {
            if (c.column === 'id' && (c.op === '>' || c.op === '>=') && typeof c.value === 'number') {
              start = Math.max(start, Math.max(0, Math.floor(c.value) - 1));
            }
          }
          for (let i = start; i < s.feed.length; i++) {
            const e = s.feed[i];
            if (!e) continue;
            yield {
              id: e.id,
              custrecord_oh_kind: e.kind,
              custrecord_oh_item: e.itemId,
              custrecord_oh_sku: e.sku,
              custrecord_oh_location: e.locationId,
              custrecord_oh_location_code: e.locationCode,
              custrecord_oh_quantity: e.quantity,
              custrecord_oh_price: e.price,
              custrecord_oh_source: e.source,
              created: e.created,
            };
          }
        },
      },
    };
  }

  // ---------------------------------------------------------------- control

  /** `GET _control/state`; `type`, `externalId`, `offset`, `limit`, `full=1` filter and page the records. */
  state(q: URLSearchParams): unknown {
    const type = q.get('type');
    const eid = q.get('externalId');
    const types: ReadableType[] = type ? [type as ReadableType] : TRANSACTIONS;
    const full = q.get('full') === '1' || q.get('full') === 'true';
    const records = types
      .flatMap((t) => this.store.list(t))
      .filter((r) => eid === null || r.externalId === eid)
      .map((r) => ({
        type: r.type,
        id: r.id,
        externalId: r.externalId ?? null,
        ...(r.body.tranId ? { tranId: r.body.tranId } : {}),
        ...(typeof r.body.total === 'number' ? { total: r.body.total } : {}),
        createdDate: r.createdDate,
        lastModifiedDate: r.lastModifiedDate,
        ...(full ? { body: Object.fromEntries(Object.entries(r.body).filter(([k]) => k !== LINE_SEQ)) } : {}),
      }));
    const recordCounts: Record<string, number> = {};
    for (const t of [...TRANSACTIONS, 'inventoryItem', ...READ_ONLY_TYPES] as ReadableType[])
      recordCounts[t] = this.store.list(t).length;
    return {
      system: 'netsuite',
      accountId: this.accountId,
      credentials: {
        accountId: this.accountId,
        tokenPath: TOKEN_PATH,
        grantType: 'client_credentials',
        clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        algorithms: ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
        scope: 'rest_webservices',
        clientId: this.credentials.clientId,
        certificateId: this.credentials.certificateId,
        publicKeyPem: this.credentials.publicKeyPem,
        privateKeyPem: this.credentials.privateKeyPem,
        activeTokens: this.tokens.activeTokens(),
      },
      plan: { ...this.plan, concurrencyLimit: this.concurrencyLimit },
      counters: {
        ...this.counters,
        byStatus: { ...this.counters.byStatus },
        inFlight: this.inFlight,
        tokens: { ...this.tokens.counters },
      },
      faults: this.faults.snapshot(),
      catalog: { items: this.store.list('inventoryItem').length, locations: this.store.locations.length },
      changeFeed: {
        table: 'customrecord_oh_change',
        count: this.store.feed.length,
        lastId: this.store.feed.at(-1)?.id ?? 0,
      },
      recordCounts,
      records: paginate(records, q),
    };
  }

  /** Runs ERP-side activity (price/item changes, receipts, adjustments) under a seed. */
  async scenario(input: unknown): Promise<unknown> {
    const sc = NetSuiteScenarioSchema.parse(input ?? {});
    this.scenarioRuns++;
    const rng = createRng(sc.seed ?? (this.options.seed ?? 42) + this.scenarioRuns);
    const firstChange = this.store.feed.length + 1;
    const items = this.store.list('inventoryItem');
    const warehouses = this.store.locations.filter((l) => l.kind === 'warehouse');
    const stores = this.store.locations.filter((l) => l.kind === 'store');
    const created: Array<{ type: string; id: string; externalId?: string }> = [];
    for (let i = 0; i < sc.priceChanges; i++) {
      const it = rng.pick(items);
      const cur = this.store.get('inventoryItem', it.id) ?? it;
      const price = Number(cur.body.basePrice ?? 10);
      const next = Math.max(1, Math.round(price * (1 + (rng.int(-20, 20) || 5) / 100))) - 0.01;
      this.write(
        'inventoryItem',
        cur.id,
        cur.externalId,
        { ...cur.body, basePrice: Number(next.toFixed(2)) },
        cur,
      );
    }
    for (let i = 0; i < sc.itemChanges; i++) {
      const it = rng.pick(items);
      const cur = this.store.get('inventoryItem', it.id) ?? it;
      this.write(
        'inventoryItem',
        cur.id,
        cur.externalId,
        { ...cur.body, custitem_oh_revision: Number(cur.body.custitem_oh_revision ?? 0) + 1 },
        cur,
      );
    }
    for (let i = 0; i < sc.newItems; i++) {
      const sku = `SKU-N${String(this.store.list('inventoryItem').length + 1).padStart(6, '0')}`;
      const id = this.store.allocateId('inventoryItem');
      this.write(
        'inventoryItem',
        id,
        sku,
        {
          itemId: sku,
          displayName: `New Arrival ${sku}`,
          basePrice: rng.int(15, 120) - 0.01,
          isInactive: false,
        },
        undefined,
      );
      created.push({ type: 'inventoryItem', id, externalId: sku });
    }
    const stocked = sc.skus ? items.filter((it) => sc.skus?.includes(this.store.skuOf(it.id) ?? '')) : items;
    const adjust = (loc: { id: string }, qty: number, memo: string) => {
      const it = rng.pick(stocked);
      const id = this.store.allocateId('inventoryAdjustment');
      const body = prepareBody(
        'inventoryAdjustment',
        {
          account: { id: '1' },
          adjLocation: { id: loc.id },
          memo,
          inventory: { items: [{ item: { id: it.id }, adjustQtyBy: qty }] },
        },
        this.store,
      );
      this.write('inventoryAdjustment', id, undefined, body, undefined);
      created.push({ type: 'inventoryAdjustment', id });
    };
    for (let i = 0; i < sc.receipts && warehouses.length > 0; i++)
      adjust(rng.pick(warehouses), rng.int(6, 120), 'Goods receipt');
    for (let i = 0; i < sc.adjustments && stores.length > 0; i++) {
      adjust(rng.pick(stores), rng.pick([-3, -2, -1, 1, 2, 3]), 'Stock correction');
    }
    return {
      changes: {
        firstId: firstChange,
        lastId: this.store.feed.length,
        count: this.store.feed.length - firstChange + 1,
      },
      created,
    };
  }
}

/** The sublists named by `?replace=a,b`. */
function replaceOf(req: IncomingMessage): Set<string> {
  return new Set((queryOf(req).get('replace') ?? '').split(',').filter(Boolean));
}

/** Factory used by `sandbox/serve.ts` and the local cloud. */
export function createSandbox(options: NetSuiteSandboxOptions = {}): NetSuiteSandbox {
  return new NetSuiteSandbox(options);
}

/**
 * `transaction.status` as SuiteQL answers it: the status letter of the record type (the label is
 * `BUILTIN.DF(status)`; https://timdietrich.me/blog/netsuite-suiteql-transaction-statuses). The sandbox
 * models the states the hub causes: a sales order is Closed (`H`) once every line is closed (how the hub
 * cancels one), else Pending Fulfillment (`B`); a cash sale is Not Deposited (`B`); other types have no
 * modelled status (NULL).
 */
function transactionStatus(type: string, body: Record<string, unknown>): string | undefined {
  if (type === 'cashSale') return 'B';
  if (type !== 'salesOrder') return undefined;
  const lines = ((body.item as { items?: { isClosed?: unknown }[] } | undefined)?.items ?? []) as {
    isClosed?: unknown;
  }[];
  return lines.length > 0 && lines.every((line) => line.isClosed === true) ? 'H' : 'B';
}
