import type { EnvironmentConfig } from './environments.ts';

/**
 * How order capture shares the ERP's concurrency limit. NetSuite counts concurrent requests per account
 * (SOAP, REST and RESTlets together) and answers the one above the limit with 429; the hub stays under
 * it by construction: `instances` consumers (the event source mapping's `maxConcurrency` and the
 * function's reserved concurrency) × `callsPerInstance` ERP calls in flight each (the client's bulkhead)
 * = the limit exactly, so the whole limit is used and never exceeded.
 *
 * A batch is `callsPerInstance × 10` records (10 "rounds" of the bulkhead): each record also spends time
 * on the ledger, the idempotency table and the mappings before and after its ERP call, and within one
 * invocation that work overlaps other records' calls except at the batch's start and end; ten rounds
 * per batch keep that fixed cost, and the last round's idle slots, to about a tenth of the ERP time.
 * When the queue is not backlogged a batch is whatever arrived within the 1-second batching window.
 */
export interface ErpPacing {
  readonly instances: number;
  readonly callsPerInstance: number;
  readonly batchSize: number;
}

/**
 * The largest calls-per-instance (at most 5) that divides the limit and leaves at least 5 instances, so
 * one slow or failed batch holds at most a fifth of the limit; small limits keep the 2 instances the
 * event source mapping needs at least.
 */
export function erpPacing(concurrencyLimit: number): ErpPacing {
  if (!Number.isInteger(concurrencyLimit) || concurrencyLimit < 2 || concurrencyLimit > 1000) {
    throw new Error(`ERP concurrency limit must be an integer from 2 to 1000, got ${concurrencyLimit}`);
  }
  const divisors = [5, 4, 3, 2, 1].filter((calls) => concurrencyLimit % calls === 0);
  const callsPerInstance =
    divisors.find((calls) => concurrencyLimit / calls >= 5) ??
    divisors.find((calls) => concurrencyLimit / calls >= 2) ??
    1;
  return {
    instances: concurrencyLimit / callsPerInstance,
    callsPerInstance,
    batchSize: callsPerInstance * 10,
  };
}

/**
 * ERP calls kept for the inventory change feed: its poller (reserved concurrency 1, one call at a time)
 * reads NetSuite's outbox while order capture runs, and both count against the one account limit.
 */
export const ERP_SLOTS_FOR_CHANGE_FEED = 1;

/**
 * ERP calls kept for the omnichannel-return workflow's credit memos: its ERP task (reserved concurrency 1,
 * one call at a time) books returns while order capture runs; a return that finds the slot busy is
 * throttled and retried by the state machine (it waits for the ERP path, it does not fail).
 */
export const ERP_SLOTS_FOR_RETURNS = 1;

/**
 * The share of the account's limit order capture paces itself to: the limit less the change feed's and
 * the returns' slots.
 */
export function orderCaptureLimit(concurrencyLimit: number): number {
  return concurrencyLimit - ERP_SLOTS_FOR_CHANGE_FEED - ERP_SLOTS_FOR_RETURNS;
}

/** `-c erpConcurrencyLimit=<n>`: the account's limit when it differs from the environment's default. */
export function withErpConcurrencyLimit(config: EnvironmentConfig, override: unknown): EnvironmentConfig {
  if (override === undefined || override === '') return config;
  const limit = Number(override);
  erpPacing(orderCaptureLimit(limit));
  return { ...config, erp: { ...config.erp, concurrencyLimit: limit } };
}
