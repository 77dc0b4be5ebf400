import * as z from 'zod';
import { HubError, MappingError } from '../errors.ts';
import { EventMetadataSchema } from '../events/envelope.ts';
import { RefundSchema } from '../events/refund.ts';
import { type ErpRecordRef, type ErpRefundPort, orderExternalId, refundExternalId } from '../ports/erp.ts';
import { ErpAuthError } from '../ports/erp-errors.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import { type LedgerEntry, orderKey } from '../repositories/ledger.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import type { OrderSyncOutcome } from './order-sync.ts';

/**
 * A POS refund as it arrives from the bus through the ERP order queue (rule `PosRefundsToErp`: only
 * `RefundCreated` from `omnihub.pos` — refunds of online orders belong to the returns workflow).
 */
export const RefundBusEventSchema = z.object({
  id: z.string(),
  'detail-type': z.literal('RefundCreated'),
  source: z.literal('omnihub.pos'),
  detail: z.object({ metadata: EventMetadataSchema, data: RefundSchema }),
});
export type RefundBusEvent = z.infer<typeof RefundBusEventSchema>;

/**
 * The sale's cash sale is not in the ERP (yet): its own event may still be in the queue, or parked. Retried
 * (SQS backoff) while the refund is recent; past {@link SALE_WAIT_MS} it is parked instead, so it waits
 * for the sale to be fixed and replayed rather than for the DLQ.
 */
export class RefundSaleNotBookedError extends HubError {
  readonly code = 'POS_REFUND_SALE_NOT_BOOKED';
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** How long a refund waits for its sale's cash sale before it is parked. */
export const SALE_WAIT_MS = 30 * 60_000;

export interface RefundSyncDeps {
  readonly erp: ErpRefundPort;
  readonly ledger: { get(key: string): Promise<LedgerEntry | undefined> };
  readonly exceptions: ExceptionStore;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly now?: () => Date;
}

const isPermanent = (error: unknown): error is HubError =>
  error instanceof HubError && !error.retryable && !(error instanceof ErpAuthError);

/**
 * Books one POS refund as one cash refund against the cash sale the ledger says its sale became, to the
 * cent (netsuite/refund.ts). Idempotent on the refund: the consumer's business-key idempotency
 * (`pos:<merchant>:refund:<id>`) and the ERP's external id (`posrefund-…`, looked up before writing).
 * Permanent errors (unknown SKU mapping, totals that do not reconcile, ERP validation) park the event with
 * their reason; throttling and outages are thrown for SQS to retry.
 */
export async function syncPosRefund(event: RefundBusEvent, deps: RefundSyncDeps): Promise<OrderSyncOutcome> {
  const refund = event.detail.data;
  const { metadata } = event.detail;
  const saleKey = orderKey(refund.source.system, refund.source.account, refund.source.orderId);
  const context = {
    refundId: refund.source.refundId,
    orderKey: saleKey,
    transactionId: metadata.transactionId,
  };
  const park = async (error: HubError): Promise<OrderSyncOutcome> => {
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
        orderKey: saleKey,
        externalId: refundExternalId(refund.source),
        eventId: metadata.eventId,
      },
      payload: Buffer.from(JSON.stringify(event)),
      subjects: { system: 'pos', account: refund.source.account, orderIds: [refund.source.orderId] },
    });
    deps.telemetry.count('RefundSyncParked');
    deps.log.warn('POS refund parked: it cannot reach the ERP as it is', {
      ...context,
      code: error.code,
      reason: error.message,
      exceptionId,
    });
    return { status: 'parked', code: error.code, exceptionId };
  };

  try {
    const entry = await deps.ledger.get(saleKey);
    if (entry?.recordType !== 'cashSale') {
      // Measured from when the hub received the refund (a refund found late by the sweep still gets its wait).
      const age = (deps.now?.() ?? new Date()).getTime() - Date.parse(metadata.receivedAt);
      throw new RefundSaleNotBookedError(
        `the cash sale of POS order ${refund.source.orderId} (${orderExternalId({ system: 'pos', account: refund.source.account, orderId: refund.source.orderId })}) is not booked${age > SALE_WAIT_MS ? `, ${Math.round(age / 60_000)} minutes after the refund was received: replay this refund once the sale is booked` : ' yet'}`,
        age <= SALE_WAIT_MS,
      );
    }
    const sale: ErpRecordRef = {
      internalId: entry.erpInternalId,
      externalId: entry.externalId,
      recordType: 'cashSale',
    };
    const erp = await deps.erp.recordCashRefund(refund, sale, { transactionId: metadata.transactionId });
    deps.telemetry.count('RefundSynced');
    deps.log.info('POS refund booked', {
      ...context,
      internalId: erp.internalId,
      externalId: erp.externalId,
    });
    return { status: 'synced', erp, version: Date.parse(refund.processedAt ?? refund.createdAt) };
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return park(error);
  }
}
