import type { Retailer } from '../core/retailer.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { WebhookDispatcher } from '../core/webhooks.ts';
import { PosActivity } from './activity.ts';
import { SquareStore } from './store.ts';
import { type InitialSubscription, SquareWebhookEmitter } from './webhooks.ts';

/** API counters reported under `counters` in the state endpoint. */
export interface SquareCounters {
  calls: number;
  unauthorized: number;
  http429: number;
  idempotentReplays: number;
  idempotencyConflicts: number;
  inventoryChanges: number;
  byStatus: Record<string, number>;
}

/**
 * Everything `_control/reset` starts anew: the seeded merchant (store), the stream API calls draw
 * ids from, the subscriptions, the POS activity, the answers kept per idempotency key, counters.
 * The HTTP entry, routes, scenario and state dump all read the current session.
 */
export interface SquareSession {
  readonly store: SquareStore;
  /** Ids of API-made objects (subscriptions, inventory changes, their events). */
  readonly ids: Rng;
  readonly emitter: SquareWebhookEmitter;
  readonly activity: PosActivity;
  /** `BatchChangeInventory` answers by idempotency key, with the canonical request they answered. */
  readonly idempotency: Map<string, { canonical: string; body: unknown }>;
  readonly counters: SquareCounters;
  /** Scenarios run without a seed of their own (each draws a new one from the sandbox seed). */
  scenarioRuns: number;
}

/** Settings a session is opened with (fixed for the sandbox's life). */
export interface SessionOptions {
  seed: number;
  clock: () => number;
  retailer: Retailer;
  dispatcher: WebhookDispatcher;
  subscriptions: readonly InitialSubscription[];
}

/** A fresh seeded session: the same seed gives the same merchant, ids and signature keys. */
export function openSession(options: SessionOptions): SquareSession {
  const store = new SquareStore(options.retailer, createRng(options.seed));
  const ids = createRng(options.seed).fork();
  const emitter = new SquareWebhookEmitter(store, options.dispatcher, ids, {
    seed: options.seed,
    clock: options.clock,
    initial: options.subscriptions,
  });
  return {
    store,
    ids,
    emitter,
    activity: new PosActivity(store, emitter, options.retailer.currency),
    idempotency: new Map(),
    counters: {
      calls: 0,
      unauthorized: 0,
      http429: 0,
      idempotentReplays: 0,
      idempotencyConflicts: 0,
      inventoryChanges: 0,
      byStatus: {},
    },
    scenarioRuns: 0,
  };
}
