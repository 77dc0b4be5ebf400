import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import type { PriceFlow } from '../catalog/price-flow.ts';
import { HubError } from '../errors.ts';
import { detailSchema } from '../events/catalog.ts';
import type { PriceChanged } from '../events/product.ts';

/**
 * The price queue's consumer (the future `functions/catalog-prices`): one SQS queue receives both
 * - `PriceChanged` events from the bus (an EventBridge rule → SQS target: the body is the whole event,
 *   `{"detail-type":"PriceChanged","detail":{metadata,data}}`), applied in one batch to the price flow;
 * - the price schedules' messages (`{"kind":"price-due","at":<epoch ms>}`, the schedule's `Input`).
 *
 * Bad input never blocks the queue: a body that is neither is reported as unprocessable (the caller
 * parks it with its reason, `parked`); retryable failures (a due delivered early, a book under
 * contention, Shopify or Scheduler unavailable) are returned as batch item failures, so SQS brings
 * exactly those records back (`ReportBatchItemFailures`).
 */

const DueSchema = z.strictObject({ kind: z.literal('price-due'), at: z.number().int().positive() });
const EventSchema = z.looseObject({ 'detail-type': z.literal('PriceChanged'), detail: z.unknown() });

export interface PriceConsumerResult extends SQSBatchResponse {
  /** Records that can never be processed as they are, with the reason (to park). */
  readonly parked: readonly { messageId: string; reason: string }[];
}

const retryable = (error: unknown) => !(error instanceof HubError) || error.retryable;

/** Processes one SQS batch of the price queue. */
export async function consumePriceBatch(
  flow: PriceFlow,
  records: readonly SQSRecord[],
): Promise<PriceConsumerResult> {
  const failures: { itemIdentifier: string }[] = [];
  const parked: { messageId: string; reason: string }[] = [];
  const changes: { messageId: string; change: PriceChanged }[] = [];
  const dues: { messageId: string; at: number }[] = [];
  for (const record of records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      parked.push({ messageId: record.messageId, reason: 'body is not JSON' });
      continue;
    }
    const due = DueSchema.safeParse(body);
    if (due.success) {
      dues.push({ messageId: record.messageId, at: due.data.at });
      continue;
    }
    const event = EventSchema.safeParse(body);
    const detail = event.success ? detailSchema('PriceChanged').safeParse(event.data.detail) : undefined;
    if (detail?.success) {
      changes.push({ messageId: record.messageId, change: detail.data.data });
      continue;
    }
    parked.push({
      messageId: record.messageId,
      reason: detail
        ? `PriceChanged: ${detail.error.issues[0]?.message}`
        : 'neither a PriceChanged event nor a price-due message',
    });
  }
  if (changes.length > 0) {
    try {
      await flow.onPriceChanged(changes.map((c) => c.change));
    } catch (error) {
      // Applying changes is idempotent (newer version wins): the whole set comes back on a retry.
      if (!retryable(error)) throw error;
      for (const c of changes) failures.push({ itemIdentifier: c.messageId });
    }
  }
  for (const due of dues) {
    try {
      await flow.onPriceDue({ kind: 'price-due', at: due.at });
    } catch (error) {
      if (!retryable(error)) throw error;
      failures.push({ itemIdentifier: due.messageId });
    }
  }
  return { batchItemFailures: failures, parked };
}
