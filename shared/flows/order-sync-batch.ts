import type { SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { NO_TRACE, type TraceRecorder } from '../ops/trace.ts';
import { mappingKeysOf, type OrderMappingKey, refundMappingKeysOf } from '../ports/erp.ts';
import { orderEventSubjects } from '../privacy/subjects.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { LogSink } from '../runtime/observability.ts';
import {
  type OrderBusEvent,
  OrderBusEventSchema,
  OrderBusyError,
  type OrderSyncOutcome,
} from './order-sync.ts';
import { type RefundBusEvent, RefundBusEventSchema } from './refund-sync.ts';

/** What the ERP order queue carries: order events (Shopify and POS) and POS refunds. */
export const ErpBusEventSchema = z.discriminatedUnion('detail-type', [
  OrderBusEventSchema,
  RefundBusEventSchema,
]);
export type ErpBusEvent = OrderBusEvent | RefundBusEvent;

/**
 * A parked outcome must not be remembered by the idempotency record: once the cause is fixed, the same
 * event (a replay from the exceptions table or the bus archive) has to post. `throwParked` turns it
 * into this error inside the idempotent function — Powertools then deletes its record — and
 * {@link OrderSyncBatch} turns it back into the outcome.
 */
export class ParkedOutcomeError extends Error {
  readonly code = 'PARKED';
  constructor(readonly outcome: OrderSyncOutcome) {
    super('order parked');
  }
}

/** Wraps a sync so that a parked outcome is thrown (and so never cached by an idempotency wrapper). */
export const throwParked =
  <E extends ErpBusEvent>(sync: (event: E) => Promise<OrderSyncOutcome>) =>
  async (event: E): Promise<OrderSyncOutcome> => {
    const outcome = await sync(event);
    if (outcome.status === 'parked') throw new ParkedOutcomeError(outcome);
    return outcome;
  };

/** Seconds before a busy order is retried: free again within a lease, not so soon that a crashed holder burns receives. */
export const BUSY_RETRY_SECONDS = 5;

export interface OrderSyncBatchDeps {
  /** Syncs one event exactly once (idempotent on its business key); a parked outcome is thrown as {@link ParkedOutcomeError}. */
  readonly syncOnce: (event: ErpBusEvent) => Promise<OrderSyncOutcome>;
  /** True for errors that mean "someone else is on it right now" (another consumer, an in-progress idempotency record). */
  readonly isBusy?: (error: unknown) => boolean;
  readonly exceptions: ExceptionStore;
  /** Sets a failed record's visibility: the policy's delay, or `seconds`; answers the delay applied. */
  readonly backoff: { delay(record: SQSRecord, seconds?: number): Promise<number | undefined> };
  /** Reads the mappings a batch needs at once. */
  readonly prefetchMappings: (keys: readonly OrderMappingKey[]) => Promise<void>;
  readonly log: LogSink;
  /** Trace checkpoints: queued (first receive), erp-posted, parked, failed (each retry). @default none */
  readonly trace?: TraceRecorder;
}

type Parsed = ReturnType<typeof ErpBusEventSchema.safeParse>;

/**
 * One batch of the ERP order queue, record by record: a record that is not a canonical order event is
 * parked (`MALFORMED_EVENT`, never retried forever); a parked outcome is answered, not retried; any
 * other failure is thrown, so only that record comes back, after a backoff on its receive count
 * ({@link BUSY_RETRY_SECONDS} for a busy order).
 */
export class OrderSyncBatch {
  /** Each record is parsed once per invocation (the mapping prefetch reads the same events). */
  private readonly parsed = new WeakMap<SQSRecord, Parsed>();

  constructor(private readonly deps: OrderSyncBatchDeps) {}

  private parse(sqsRecord: SQSRecord): Parsed {
    let parsed = this.parsed.get(sqsRecord);
    if (!parsed) {
      let body: unknown;
      try {
        body = JSON.parse(sqsRecord.body);
      } catch {
        body = undefined;
      }
      parsed = ErpBusEventSchema.safeParse(body);
      this.parsed.set(sqsRecord, parsed);
    }
    return parsed;
  }

  /**
   * Fetches the mappings the whole batch needs in one read instead of one per order line. Best
   * effort: on failure each lookup reads its own key.
   */
  async prefetch(event: SQSEvent): Promise<void> {
    try {
      const keys = event.Records.flatMap((sqsRecord) => {
        const parsed = this.parse(sqsRecord);
        if (!parsed.success) return [];
        return parsed.data['detail-type'] === 'RefundCreated'
          ? refundMappingKeysOf(parsed.data.detail.data)
          : mappingKeysOf(parsed.data.detail.data);
      });
      await this.deps.prefetchMappings(keys);
    } catch (error) {
      this.deps.log.warn('could not prefetch the batch mappings; looking them up one by one', {
        error: error as Error,
      });
    }
  }

  /** The record handler for `processPartialResponse`: resolves with the outcome or throws to retry. */
  readonly record = async (sqsRecord: SQSRecord): Promise<OrderSyncOutcome> => {
    const parsed = this.parse(sqsRecord);
    if (!parsed.success) return this.parkMalformed(sqsRecord, parsed.error.issues);
    const trace = this.deps.trace ?? NO_TRACE;
    const { transactionId } = parsed.data.detail.metadata;
    const receiveCount = Number(sqsRecord.attributes.ApproximateReceiveCount);
    if (receiveCount <= 1) {
      // Taken from the queue (now), the first time only: retries are the `failed` checkpoints.
      await trace.checkpoint({
        transactionId,
        step: 'queued',
        refs: [sourceOrderIdOf(parsed.data)],
        detail: { detailType: parsed.data['detail-type'], messageId: sqsRecord.messageId },
      });
    }
    try {
      const outcome = await this.deps.syncOnce(parsed.data);
      if (outcome.status === 'synced') {
        await trace.checkpoint({
          transactionId,
          step: 'erp-posted',
          detail: {
            recordType: outcome.erp.recordType,
            erpInternalId: outcome.erp.internalId,
            externalId: outcome.erp.externalId,
          },
        });
      }
      return outcome;
    } catch (error) {
      if (error instanceof ParkedOutcomeError) {
        const { outcome } = error;
        if (outcome.status === 'parked') {
          await trace.checkpoint({
            transactionId,
            step: 'parked',
            detail: { code: outcome.code, exceptionId: outcome.exceptionId },
          });
        }
        return outcome;
      }
      await trace.checkpoint({
        transactionId,
        step: 'failed',
        detail: { receiveCount, error: (error as Error).message, code: (error as { code?: string }).code },
      });
      const busy = error instanceof OrderBusyError || (this.deps.isBusy?.(error) ?? false);
      const retryInSeconds = await this.deps.backoff.delay(sqsRecord, busy ? BUSY_RETRY_SECONDS : undefined);
      // The record goes back to the queue after a backoff; say why, so retries and their cause are visible.
      const { metadata } = parsed.data.detail;
      this.deps.log.warn('order sync failed; the record will be retried', {
        transactionId: metadata.transactionId,
        idempotencyKey: metadata.idempotencyKey,
        receiveCount: sqsRecord.attributes.ApproximateReceiveCount,
        retryInSeconds,
        error: error as Error,
        code: (error as { code?: string }).code,
        retryable: (error as { retryable?: boolean }).retryable,
      });
      throw error;
    }
  };

  /** Not an order event this consumer can read: kept for a fix and a replay, never retried forever. */
  private async parkMalformed(
    sqsRecord: SQSRecord,
    issues: readonly { path: readonly PropertyKey[]; message: string }[],
  ): Promise<OrderSyncOutcome> {
    const subjects = orderEventSubjects(sqsRecord.body);
    const { exceptionId } = await this.deps.exceptions.park({
      kind: 'erp-order',
      inputId: sqsRecord.messageId,
      at: new Date(Number(sqsRecord.attributes.SentTimestamp)).toISOString(),
      code: 'MALFORMED_EVENT',
      reason: 'order event does not match the canonical schema',
      issues: issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`),
      transactionId: sqsRecord.messageId,
      attributes: { queue: sqsRecord.eventSourceARN },
      payload: Buffer.from(sqsRecord.body),
      ...(subjects ? { subjects } : {}),
    });
    this.deps.log.warn('order event parked: not a canonical order event', {
      messageId: sqsRecord.messageId,
      exceptionId,
    });
    return { status: 'parked', code: 'MALFORMED_EVENT', exceptionId };
  }
}

/** The source system's order id of an order or refund event (what an operator searches by). */
function sourceOrderIdOf(event: ErpBusEvent): string | undefined {
  const source = (event.detail.data as { source?: { orderId?: unknown } }).source;
  return typeof source?.orderId === 'string' ? source.orderId : undefined;
}
