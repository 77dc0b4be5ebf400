import { createHash } from 'node:crypto';
import * as z from 'zod';
import { HubError, MappingError } from '../errors.ts';
import { EventMetadataSchema } from '../events/envelope.ts';
import { toDecimalString } from '../events/money.ts';
import { type Order, OrderSchema } from '../events/order.ts';
import {
  type ErpLineKeys,
  type ErpPort,
  type ErpRecordRef,
  type ErpSyncResult,
  erpRecordTypeFor,
  orderExternalId,
} from '../ports/erp.ts';
import { ErpAuthError, ErpTotalMismatchError } from '../ports/erp-errors.ts';
import { orderSubjects } from '../privacy/subjects.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import { compareToSynced, type LedgerEntry, orderKey } from '../repositories/ledger.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';

/** An order event as it arrives from the bus through SQS (the EventBridge event as the body). */
export const OrderBusEventSchema = z.object({
  id: z.string(),
  'detail-type': z.enum(['OrderCreated', 'OrderUpdated', 'OrderCancelled']),
  source: z.enum(['omnihub.shopify', 'omnihub.pos']),
  detail: z.object({ metadata: EventMetadataSchema, data: OrderSchema }),
});
export type OrderBusEvent = z.infer<typeof OrderBusEventSchema>;

export type OrderSyncOutcome =
  | { readonly status: 'synced'; readonly erp: ErpRecordRef; readonly version: number }
  | { readonly status: 'stale'; readonly version: number; readonly syncedVersion: number }
  | { readonly status: 'duplicate'; readonly version: number }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'parked'; readonly code: string; readonly exceptionId: string };

export interface OrderSyncDeps {
  readonly erp: ErpPort;
  readonly ledger: {
    get(key: string): Promise<LedgerEntry | undefined>;
    /** Records a sync; with `leaseOwner`, releases that owner's lease in the same write. */
    recordSync(entry: Omit<LedgerEntry, 'staleIgnored' | 'syncedAt'>, leaseOwner?: string): Promise<boolean>;
    recordStale(key: string, version: number): Promise<void>;
    /**
     * Takes the order's lease and answers what was synced and the ERP document's line keys; false while
     * another owner holds it.
     */
    acquire(
      key: string,
      owner: string,
      ttlMs: number,
    ): Promise<{ readonly entry: LedgerEntry | undefined; readonly erpLines?: ErpLineKeys } | false>;
    /** Records the document's ids and line keys without a synced version (a parked write), under the lease. */
    recordLines(
      key: string,
      document: Pick<LedgerEntry, 'erpInternalId' | 'externalId' | 'recordType'>,
      lines: ErpLineKeys,
      leaseOwner: string,
    ): Promise<boolean>;
    release(key: string, owner: string): Promise<void>;
  };
  /** How long one order's lease lasts (longer than an ERP call with its retries). @default 60 s */
  readonly leaseMs?: number;
  /** Attempts to take a busy order's lease before the record is failed and retried by SQS. @default 5 */
  readonly leaseAttempts?: number;
  readonly exceptions: ExceptionStore;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
}

/** Another consumer is syncing the same order right now: retry the record later. */
export class OrderBusyError extends HubError {
  readonly code = 'ORDER_BUSY';
  readonly retryable = true;
}

/**
 * A completed POS sale was cancelled afterwards: its cash sale is reversed by a refund (credit memo, the
 * returns flow), never by rewriting it. Parked for a person to look at.
 */
export class PosSaleReversalError extends HubError {
  readonly code = 'POS_SALE_REVERSAL';
  readonly retryable = false;
}

/** Digest of an order's content: the same change delivered twice has the same digest. */
export function orderDigest(order: Order): string {
  return createHash('sha256').update(JSON.stringify(order)).digest('hex').slice(0, 32);
}

/**
 * A failure that will fail again however often it is retried — park it with its reason for a fix and
 * a replay, instead of burning retries and landing in the DLQ. An authentication failure is the
 * exception: it is a configuration problem of the hub, every order would fail alike, and the orders
 * must flow again by themselves once the secret is fixed, so it is retried like an outage.
 */
function isPermanent(error: unknown): error is HubError {
  return error instanceof HubError && !error.retryable && !(error instanceof ErpAuthError);
}

/**
 * Order capture: brings the ERP in step with one order event, exactly once in effect.
 * - An event older than what the ledger says was synced (by the source's `updatedAt`) is ignored and
 *   counted as stale; an update for an order never created creates it (upsert by external id).
 * - Online orders become sales orders (a cancelled order is written with its lines closed); POS sales
 *   become cash sales. The external id carries the source order id, so either side finds the other.
 * - The ERP document's lines are updated by key (the ledger keeps the ERP line key of every line booked),
 *   so an edit changes lines in place and a removed line is closed, never deleted; the ERP's total is
 *   read back after each write and a difference to the cent is parked as `ERP_TOTAL_MISMATCH`.
 * - Permanent errors (unknown mapping, ERP validation or an id the ERP does not have, totals that do not
 *   reconcile) park the event with its reason; retryable ones (throttling, outage, open circuit) are
 *   thrown so SQS retries.
 */
export async function syncOrder(event: OrderBusEvent, deps: OrderSyncDeps): Promise<OrderSyncOutcome> {
  const order: Order = event.detail.data;
  const key = orderKey(order.source.system, order.source.account, order.source.orderId);
  const owner = event.detail.metadata.eventId;
  let synced: LedgerEntry | undefined;
  let erpLines: ErpLineKeys = {};
  for (let attempt = 1; ; attempt += 1) {
    const lease = await deps.ledger.acquire(key, owner, deps.leaseMs ?? 60_000);
    if (lease) {
      synced = lease.entry;
      erpLines = lease.erpLines ?? synced?.erpLines ?? {};
      break;
    }
    if (attempt >= (deps.leaseAttempts ?? 5))
      throw new OrderBusyError(`order ${key} is being synced by another consumer`);
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt * Math.random()));
  }
  const lease = { owner, released: false };
  try {
    return await syncLeasedOrder(event, key, { synced, erpLines }, lease, deps);
  } finally {
    if (!lease.released) await deps.ledger.release(key, owner);
  }
}

/**
 * The ERP's own total, read back after the write, must be the order's to the cent: the ERP's tax engine
 * (NetSuite SuiteTax) may have added or changed tax, or a line. A difference is parked with both totals;
 * the lines the write left are recorded so the replay after a fix updates them in place.
 */
async function checkErpTotal(
  order: Order,
  key: string,
  written: ErpSyncResult,
  owner: string,
  deps: OrderSyncDeps,
): Promise<void> {
  if (written.total.amount === order.totals.total.amount) return;
  await deps.ledger.recordLines(
    key,
    { erpInternalId: written.internalId, externalId: written.externalId, recordType: written.recordType },
    written.lines,
    owner,
  );
  const expected = toDecimalString(order.totals.total);
  const actual = toDecimalString(written.total);
  throw new ErpTotalMismatchError(
    `the ERP ${written.recordType} ${written.externalId} (internal id ${written.internalId}) totals ${order.currency} ${actual}, the ${order.source.system} order ${order.source.orderId} ${order.currency} ${expected}`,
    expected,
    actual,
  );
}

async function syncLeasedOrder(
  event: OrderBusEvent,
  key: string,
  state: { readonly synced: LedgerEntry | undefined; readonly erpLines: ErpLineKeys },
  lease: { readonly owner: string; released: boolean },
  deps: OrderSyncDeps,
): Promise<OrderSyncOutcome> {
  const { synced, erpLines } = state;
  const order: Order = event.detail.data;
  const { metadata } = event.detail;
  const version = Date.parse(order.updatedAt);
  const context = {
    orderKey: key,
    version,
    detailType: event['detail-type'],
    transactionId: metadata.transactionId,
  };

  const contentDigest = orderDigest(order);
  const verdict = synced
    ? compareToSynced({ version, status: order.status, contentDigest }, synced)
    : 'newer';
  if (synced && verdict === 'same') {
    // This very change is in the ERP already (a producer sent it twice): nothing to write.
    deps.telemetry.count('OrderSyncDuplicate');
    deps.log.info('order change already synced', context);
    return { status: 'duplicate', version };
  }
  if (synced && verdict === 'older') {
    await deps.ledger.recordStale(key, version);
    deps.telemetry.count('OrderSyncStaleIgnored');
    deps.log.info('older order event ignored: the ERP already has a newer version', {
      ...context,
      syncedVersion: synced.version,
    });
    return { status: 'stale', version, syncedVersion: synced.version };
  }

  let erp: ErpSyncResult;
  try {
    if (erpRecordTypeFor(order) === 'cashSale') {
      if (order.status === 'cancelled') {
        if (!synced) {
          // Voided before it was ever completed (Square: CANCELED is terminal and unpaid): no cash sale.
          deps.telemetry.count('PosSaleVoidIgnored');
          deps.log.info('POS sale cancelled before completion: nothing in the ERP to reverse', context);
          return { status: 'skipped', reason: 'POS sale cancelled before it completed' };
        }
        throw new PosSaleReversalError(
          'a completed POS sale was cancelled: reverse it by a refund (credit memo), not by rewriting its cash sale',
        );
      }
      erp = await deps.erp.recordCashSale(order, { transactionId: metadata.transactionId }, erpLines);
    } else {
      erp = await deps.erp.upsertSalesOrder(order, { transactionId: metadata.transactionId }, erpLines);
    }
    await checkErpTotal(order, key, erp, lease.owner, deps);
  } catch (error) {
    if (!isPermanent(error)) throw error;
    const { exceptionId } = await deps.exceptions.park({
      kind: 'erp-order',
      inputId: metadata.idempotencyKey,
      at: metadata.occurredAt,
      code: error.code,
      reason: error.message,
      issues: error instanceof MappingError ? error.issues : [],
      transactionId: metadata.transactionId,
      attributes: {
        detailType: event['detail-type'],
        orderKey: key,
        externalId: orderExternalId(order.source),
        eventId: metadata.eventId,
      },
      payload: Buffer.from(JSON.stringify(event)),
      subjects: orderSubjects(order),
    });
    deps.telemetry.count('OrderSyncParked');
    deps.log.warn('order parked: it cannot reach the ERP as it is', {
      ...context,
      code: error.code,
      reason: error.message,
      exceptionId,
    });
    return { status: 'parked', code: error.code, exceptionId };
  }

  const recorded = await deps.ledger.recordSync(
    {
      orderKey: key,
      erpInternalId: erp.internalId,
      externalId: erp.externalId,
      recordType: erp.recordType,
      version,
      status: order.status,
      contentDigest,
      transactionId: metadata.transactionId,
      erpLines: erp.lines,
      total: erp.total,
    },
    lease.owner,
  );
  lease.released = recorded;
  if (!recorded) {
    // Under the order's lease this means the lease expired mid-sync and another consumer synced a newer
    // or the same change meanwhile; the ledger keeps the newest.
    deps.telemetry.count('OrderSyncStaleIgnored');
    return { status: 'stale', version, syncedVersion: (await deps.ledger.get(key))?.version ?? version };
  }
  deps.telemetry.count('OrderSynced');
  return {
    status: 'synced',
    erp: { internalId: erp.internalId, externalId: erp.externalId, recordType: erp.recordType },
    version,
  };
}
