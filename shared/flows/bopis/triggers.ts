import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { detailSchema } from '../../events/catalog.ts';
import type { Order } from '../../events/order.ts';
import type { LogSink } from '../../runtime/observability.ts';
import { originOf, type PickupLine, type PickupOrder, pickupKeyOf } from './tasks.ts';

/**
 * The BOPIS workflow's edges, vendor-free:
 * - **start** (`bopis-start`, SQS fed by the rule on online `OrderCreated` with `fulfilmentMethod pickup`):
 *   one execution per online order, named after it, so a redelivered event starts nothing new
 *   (StartExecution is idempotent on the name for 90 days on Standard:
 *   https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html);
 * - **callbacks** (`bopis-callbacks`, SQS fed by `PickupUpdated` from the POS and `OrderCancelled` from
 *   Shopify): records what happened on the pick-up item, then answers the waiting task token if the
 *   workflow is waiting for exactly that (a callback arriving before the wait is found by the wait's
 *   condition instead, see state-machines/bopis).
 */

const EventSchema = z.object({ 'detail-type': z.string(), source: z.string(), detail: z.unknown() });

/** A Step Functions execution name: ≤ 80 characters of `[A-Za-z0-9_-]`, unique per online order. */
export function executionNameOf(order: PickupOrder): string {
  const readable = `${order.shop.replace(/\.myshopify\.com$/, '')}-${order.orderId}`.replace(
    /[^A-Za-z0-9_-]/g,
    '-',
  );
  if (readable.length <= 80) return readable;
  const digest = createHash('sha256').update(originOf(order)).digest('hex').slice(0, 16);
  return `${readable.slice(0, 63)}-${digest}`;
}

/** The execution input of an online pick-up order, or why it is not one (no personal data in it). */
export function pickupInputOf(order: Order): { order: PickupOrder; lines: PickupLine[] } | { skip: string } {
  if (order.source.system !== 'shopify' || order.channel !== 'online') return { skip: 'not an online order' };
  if (order.fulfilmentMethod !== 'pickup') return { skip: 'not a pick-up order' };
  if (order.status !== 'open') return { skip: `order is ${order.status}` };
  const lines = order.lines
    .filter((line) => !line.isGiftCard && line.currentQuantity > 0)
    .map((line) => ({
      // A line without a SKU (a custom item) is handed to the store but not held: no stock position names it.
      sku: line.sku,
      quantity: line.currentQuantity,
      title: line.title,
      unitPrice: line.unitPrice,
    }));
  if (lines.length === 0) return { skip: 'no line to pick up' };
  return {
    order: {
      system: 'shopify',
      shop: order.source.account,
      orderId: order.source.orderId,
      name: order.source.name,
    },
    lines,
  };
}

export interface StartDeps {
  /** StartExecution; resolves when started or when an execution of that name exists already. */
  readonly start: (name: string, input: string) => Promise<'started' | 'exists'>;
  readonly log: LogSink;
}

/** SQS batch of `OrderCreated` events → executions; failed records come back (partial batch response). */
export async function startPickups(event: SQSEvent, deps: StartDeps): Promise<SQSBatchResponse> {
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    let input: ReturnType<typeof pickupInputOf>;
    try {
      const parsed = EventSchema.parse(JSON.parse(record.body));
      input = pickupInputOf(detailSchema('OrderCreated').parse(parsed.detail).data);
    } catch (error) {
      // Only the hub publishes OrderCreated, validated: an unreadable one is a bug, logged and dropped.
      deps.log.error('unreadable OrderCreated dropped', {
        messageId: record.messageId,
        error: error as Error,
      });
      continue;
    }
    if ('skip' in input) {
      deps.log.info('not a pick-up', { messageId: record.messageId, reason: input.skip });
      continue;
    }
    try {
      const outcome = await deps.start(executionNameOf(input.order), JSON.stringify(input));
      deps.log.info('pick-up workflow', { order: originOf(input.order), outcome });
    } catch (error) {
      deps.log.warn('could not start the pick-up workflow; retried', { error: error as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
}

/** Square's fulfilment states in their order; CANCELED and FAILED end a pick-up. */
const RANK: Record<string, number> = { PROPOSED: 1, RESERVED: 2, PREPARED: 3, COMPLETED: 4 };

export interface PickupItem {
  readonly token?: string;
  readonly stage?: string;
  readonly posState?: string;
  readonly cancelled?: boolean;
}

export interface CallbackDeps {
  /**
   * Records a POS state (only forward: a late, older notification changes nothing) or a cancellation
   * on the pick-up item, creating it if the workflow has not written it yet; returns the item after.
   */
  readonly record: (
    key: string,
    change: { kind: 'pos'; state: string; rank: number } | { kind: 'cancelled'; by: string },
  ) => Promise<PickupItem>;
  readonly succeed: (token: string, output: string) => Promise<void>;
  readonly fail: (token: string, error: string, cause: string) => Promise<void>;
  readonly log: LogSink;
}

/** What one callback event means for the workflow. */
export async function handleCallback(body: unknown, deps: CallbackDeps): Promise<string> {
  const event = EventSchema.parse(body);
  if (event['detail-type'] === 'PickupUpdated') {
    const { data } = detailSchema('PickupUpdated').parse(event.detail);
    const key = pickupKeyOf(data.origin);
    if (data.state === 'CANCELED' || data.state === 'FAILED') {
      const item = await deps.record(key, { kind: 'cancelled', by: `pos ${data.state}` });
      if (item.token)
        await deps.fail(item.token, 'Bopis.PickupCancelled', `the store set the pick-up ${data.state}`);
      return item.token ? 'failed the wait' : 'recorded';
    }
    const rank = RANK[data.state] ?? 0;
    const item = await deps.record(key, { kind: 'pos', state: data.state, rank });
    // Answer only the wait for this stage or an earlier one (COMPLETED also ends a wait for PREPARED).
    const waitingFor = item.stage ? (RANK[item.stage] ?? 0) : Number.POSITIVE_INFINITY;
    if (item.token && !item.cancelled && rank >= waitingFor) {
      await deps.succeed(item.token, JSON.stringify({ state: data.state }));
      return `answered ${item.stage}`;
    }
    return 'recorded';
  }
  if (event['detail-type'] === 'OrderCancelled') {
    const { data } = detailSchema('OrderCancelled').parse(event.detail);
    if (data.source.system !== 'shopify') return 'ignored';
    const origin = `shopify:${data.source.account}:${data.source.orderId}`;
    const item = await deps.record(pickupKeyOf(origin), { kind: 'cancelled', by: 'shopify order cancelled' });
    if (item.token && !(item.posState === 'COMPLETED')) {
      await deps.fail(item.token, 'Bopis.OrderCancelled', 'the order was cancelled in Shopify');
      return 'failed the wait';
    }
    return 'recorded';
  }
  return 'ignored';
}
