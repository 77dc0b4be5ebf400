import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ControlPlane, handleControl } from '../core/control.ts';
import { FaultInjector } from '../core/faults.ts';
import { applyFault, headerOf, Router, type SandboxApp, type SandboxOptions } from '../core/http.ts';
import { createRetailer, type Retailer } from '../core/retailer.ts';
import { type RetryPolicy, WebhookDispatcher } from '../core/webhooks.ts';
import { installControlRoutes, squareState } from './control.ts';
import type { SquareEvent } from './model.ts';
import { installPaymentLists } from './payments-list.ts';
import { installPickupRoutes } from './pickups.ts';
import { installApiRoutes } from './routes.ts';
import { runScenario } from './scenario.ts';
import { openSession, type SquareSession } from './session.ts';
import type { SquareStore } from './store.ts';
import { notFound, sqError, squareFaultRenderer } from './validation.ts';
import type { InitialSubscription, SquareSubscription, SquareWebhookEmitter } from './webhooks.ts';

export { SQUARE_VERSION } from './model.ts';
export { SquareScenarioSchema } from './scenario.ts';
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

/**
 * A Square-style POS: stores and registers, catalogue, inventory with
 * `BatchChangeInventory` (≤ 100 changes, idempotency keys honoured), orders
 * and refunds, and signed webhooks (`x-square-hmacsha256-signature`)
 * delivered at least once. Mount at `/_sandbox/square`.
 *
 * This class is the HTTP entry (control plane, bearer auth, injected faults,
 * dispatch); the API is `routes.ts`, the store activity `scenario.ts` and
 * `activity.ts`, webhooks `webhooks.ts`, the state dump `control.ts`.
 */
export class SquareSandbox implements SandboxApp {
  readonly name = 'square';
  readonly stateFields = ['session', 'webhooks', 'faults'] as const;
  readonly faults: FaultInjector;
  readonly webhooks: WebhookDispatcher;
  readonly retailer: Retailer;
  readonly accessToken: string;
  private session: SquareSession;
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
    this.session = this.openSession();
    installApiRoutes(this.router, { session: () => this.session, clock: this.clock });
    installPickupRoutes(this.router, { session: () => this.session, clock: this.clock });
    installControlRoutes(this.controlRoutes, () => this.session);
    installPaymentLists(this.router, this.controlRoutes, () => this.session);
    this.plane = {
      faults: this.faults,
      webhooks: this.webhooks,
      state: (q) => this.state(q),
      scenario: (b) => this.scenario(b),
      reset: () => this.reset(),
      routes: this.controlRoutes,
    };
  }

  /** The merchant's data (a new one after each reset). */
  get store(): SquareStore {
    return this.session.store;
  }

  /** Webhook subscriptions, signature keys included. */
  get subscriptions(): SquareSubscription[] {
    return this.session.emitter.subscriptions;
  }

  async handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    if (await handleControl(req, res, path, this.plane)) return;
    this.session.counters.calls++;
    res.once('finish', () => {
      const counters = this.session.counters;
      const k = String(res.statusCode);
      counters.byStatus[k] = (counters.byStatus[k] ?? 0) + 1;
      if (res.statusCode === 429) counters.http429++;
    });
    const auth = headerOf(req, 'authorization') ?? '';
    if (auth !== `Bearer ${this.accessToken}`) {
      this.session.counters.unauthorized++;
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
    this.session = this.openSession();
  }

  async close(): Promise<void> {
    this.webhooks.close();
  }

  /** Records an event and queues one signed delivery per matching subscription (see {@link SquareWebhookEmitter.emit}). */
  emit(...event: Parameters<SquareWebhookEmitter['emit']>): SquareEvent {
    return this.session.emitter.emit(...event);
  }

  /** Runs POS activity (sales, returns, online returns, counts, shrink) under a seed; returns a summary. */
  async scenario(input: unknown): Promise<unknown> {
    return runScenario(this.session, input, { seed: this.seed, clock: this.clock, webhooks: this.webhooks });
  }

  /** `GET _control/state` (views and filters: see {@link squareState}). */
  state(q: URLSearchParams): unknown {
    return squareState(this.session, q, {
      accessToken: this.accessToken,
      clock: this.clock,
      webhooks: this.webhooks,
      faults: this.faults,
    });
  }

  private openSession(): SquareSession {
    return openSession({
      seed: this.seed,
      clock: this.clock,
      retailer: this.retailer,
      dispatcher: this.webhooks,
      subscriptions: this.options.webhooks ?? [],
    });
  }
}

/** Factory used by `sandbox/serve.ts` and the local cloud. */
export function createSandbox(options: SquareSandboxOptions = {}): SquareSandbox {
  return new SquareSandbox(options);
}
