import * as z from 'zod';
import type { EventPublisher } from '../../bus/publisher.ts';
import { buildEvent } from '../../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES, EventMetadataSchema } from '../../events/envelope.ts';
import { RefundSchema } from '../../events/refund.ts';
import { type ReturnRequested, StoreReturnRecordedSchema } from '../../events/return.ts';
import type { ShopifyGraphql } from '../../inventory/shopify-publisher.ts';
import type { LogSink, Telemetry } from '../../runtime/observability.ts';
import { requestFromStoreReturn } from './store-return.ts';
import { returnFromShopifyRefund } from './trigger.ts';

/** A Shopify `RefundCreated` as the returns queue receives it (rule `ShopifyRefundsToReturns`). */
export const ShopifyRefundBusEventSchema = z.object({
  id: z.string(),
  'detail-type': z.literal('RefundCreated'),
  source: z.literal(EVENT_SOURCES.shopify),
  detail: z.object({ metadata: EventMetadataSchema, data: RefundSchema }),
});

/** A store return of an online order as the returns queue receives it (rule `StoreReturnsToReturns`). */
export const StoreReturnBusEventSchema = z.object({
  id: z.string(),
  'detail-type': z.literal('StoreReturnRecorded'),
  source: z.literal(EVENT_SOURCES.pos),
  detail: z.object({ metadata: EventMetadataSchema, data: StoreReturnRecordedSchema }),
});

/** Starts an execution; answers false when one of that name exists already (a repeated trigger). */
export type StartExecution = (name: string, input: string) => Promise<boolean>;

export interface ReturnStartDeps {
  readonly publisher: EventPublisher;
  readonly startExecution: StartExecution;
  /** The configured shops and their Admin API: a store return's online order is looked up by its number. */
  readonly shopify?: {
    readonly shops: readonly string[];
    readonly graphqlOf: (shop: string) => Promise<ShopifyGraphql>;
  };
  readonly telemetry: Telemetry;
  readonly log: LogSink;
}

export type StartOutcome =
  | { readonly status: 'started' | 'duplicate'; readonly returnId: string }
  | { readonly status: 'ignored'; readonly reason: string };

/**
 * A return request → `ReturnRequested` on the bus (deterministic event id) and one execution of the
 * omnichannel-return workflow named by the return id. Step Functions keeps a Standard execution's name
 * unique for 90 days after it closes (`ExecutionAlreadyExists`; the same name and input while it runs
 * answers the running execution — StartExecution API reference), so a redelivered or repeated trigger
 * starts nothing twice: the name is the workflow's idempotency key.
 */
export async function startReturn(
  request: ReturnRequested,
  source: { readonly transactionId: string; readonly receivedAt: string },
  deps: ReturnStartDeps,
): Promise<StartOutcome> {
  const key = `return:${request.returnId}`;
  const event = buildEvent(
    'ReturnRequested',
    EVENT_SOURCES.hub,
    {
      eventId: deterministicUuid('hub', 'ReturnRequested', key),
      transactionId: source.transactionId,
      idempotencyKey: key,
      occurredAt: request.requestedAt,
      receivedAt: source.receivedAt,
      origin: { system: 'hub', account: request.order.account, resourceId: request.returnId },
    },
    request,
  );
  await deps.publisher.publish([event]);
  // The execution state: the request, under which each step adds its result (`$.match`, `$.erp`, …).
  const started = await deps.startExecution(request.returnId, JSON.stringify({ request }));
  deps.telemetry.count(started ? 'ReturnStarted' : 'ReturnDuplicateTrigger');
  deps.log.info(started ? 'return workflow started' : 'return workflow already exists: trigger repeated', {
    returnId: request.returnId,
    transactionId: source.transactionId,
  });
  return { status: started ? 'started' : 'duplicate', returnId: request.returnId };
}

/** One queued Shopify refund → a started return, or why it is not one (acknowledged, logged). */
export async function startFromShopifyRefund(body: unknown, deps: ReturnStartDeps): Promise<StartOutcome> {
  const event = ShopifyRefundBusEventSchema.parse(body);
  const decision = returnFromShopifyRefund(event.detail.data);
  if (decision.kind === 'ignored') {
    deps.telemetry.count('RefundNotAReturn');
    deps.log.info('Shopify refund is not a return: nothing to start', { reason: decision.reason });
    return { status: 'ignored', reason: decision.reason };
  }
  return startReturn(
    decision.request,
    { transactionId: event.detail.metadata.transactionId, receivedAt: event.detail.metadata.receivedAt },
    deps,
  );
}

/** One queued store return of an online order → its online order looked up in Shopify → a started return. */
export async function startFromStoreReturn(body: unknown, deps: ReturnStartDeps): Promise<StartOutcome> {
  const event = StoreReturnBusEventSchema.parse(body);
  if (!deps.shopify) throw new Error('the return trigger has no Shopify shops to look store returns up in');
  const request = await requestFromStoreReturn(event.detail.data, deps.shopify.shops, deps.shopify.graphqlOf);
  if (request.order.orderId === null) {
    // Started all the same: the workflow parks it with the reason (one place to replay returns from).
    deps.log.warn('store return names an online order no shop has', {
      returnId: request.returnId,
      reference: event.detail.data.onlineOrderReference,
    });
  }
  return startReturn(
    request,
    { transactionId: event.detail.metadata.transactionId, receivedAt: event.detail.metadata.receivedAt },
    deps,
  );
}

/** A queued trigger, by its detail-type: a Shopify refund or a store return of an online order. */
export async function startFromTrigger(body: unknown, deps: ReturnStartDeps): Promise<StartOutcome> {
  const detailType = (body as { 'detail-type'?: unknown } | null)?.['detail-type'];
  return detailType === 'StoreReturnRecorded'
    ? startFromStoreReturn(body, deps)
    : startFromShopifyRefund(body, deps);
}
