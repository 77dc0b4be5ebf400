import type { EventPublisher } from '../bus/publisher.ts';
import { SQUARE_API_VERSION } from '../connectors/square/api-version.ts';
import type { VariationInfo } from '../connectors/square/client.ts';
import { PosAuthError } from '../connectors/square/errors.ts';
import {
  catalogRefs,
  HUB_ORIGIN_METADATA_KEY,
  isHubMadeOrder,
  mapSquareOrder,
  orderVersionOf,
  parseSquareOrder,
} from '../connectors/square/mapper.ts';
import type { SquareOrder, SquareRefund } from '../connectors/square/payloads.ts';
import { mapSquareRefund, mapStoreReturn, returnCatalogRefs } from '../connectors/square/refund-mapper.ts';
import { HubError, MappingError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { toUtc } from '../events/common.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { Order } from '../events/order.ts';
import type { Refund } from '../events/refund.ts';
import { posReturnMovements, posSaleMovements } from '../inventory/pos-ingress.ts';
import type { PosOrderRegistry } from '../repositories/pos-orders.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import type { DeliveryOutcome } from './webhook.ts';

/**
 * The POS capture path: one Square order or refund → at most one canonical event, whoever found it (an
 * order, payment or refund webhook, or the scheduled sweep). Everything that decides the event — its
 * detail-type, business key and data — comes from the Square objects alone, so the same sale seen
 * through `payment.updated`, `order.updated` and the sweep is the same change under the same key, and
 * the ERP consumer books it once.
 */

/** What the capture path reads from the POS API. */
export interface PosOrderSource {
  /** The order's current version, unparsed; throws the POS error taxonomy. */
  retrieveOrder(orderId: string): Promise<unknown>;
  /** Catalog variations of sold lines (see `variationKey`); null for one the POS does not know. */
  variations(
    refs: readonly { id: string; version: number | null }[],
  ): Promise<ReadonlyMap<string, VariationInfo | null>>;
}

export interface PosCaptureDeps {
  readonly square: PosOrderSource;
  readonly registry: PosOrderRegistry;
  readonly publisher: EventPublisher;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
}

/** Who found the change (the event's `origin`) and how the finder parks what cannot be published. */
export interface CaptureContext {
  readonly merchantId: string;
  readonly receivedAt: string;
  /** The Square event type (`payment.updated`, …) or `pos.sweep`. */
  readonly topic: string;
  /** The delivery's id (Square `event_id`, or the sweep run's id): part of the event id. */
  readonly deliveryId: string;
  readonly triggeredAt?: string;
  readonly log: Readonly<Record<string, unknown>>;
  /** Parks `error` with the finder's input; `extra` are attributes naming the order. */
  readonly park: (
    error: unknown,
    transactionId: string,
    extra: Readonly<Record<string, string>>,
  ) => Promise<DeliveryOutcome>;
}

/** A failure that a redelivery cannot fix: park it (POS authentication excepted: see PosAuthError). */
export const isPermanent = (error: unknown): error is HubError =>
  error instanceof HubError && !error.retryable && !(error instanceof PosAuthError);

type OrderDetailType = 'OrderCreated' | 'OrderUpdated' | 'OrderCancelled';

const ignored = (reason: string): DeliveryOutcome => ({ status: 'ignored', reason });

/** True for a return order: it holds returns and sells nothing (a refund's order, captured as the refund). */
export const isReturnOrder = (order: SquareOrder): boolean =>
  order.returns.length > 0 && order.line_items.length === 0;

/** The `origin` of an event the POS ingress publishes: who found the change (a webhook or the sweep) and what. */
function posOrigin(ctx: CaptureContext, resourceId: string) {
  return {
    system: 'pos' as const,
    account: ctx.merchantId,
    topic: ctx.topic,
    apiVersion: SQUARE_API_VERSION,
    deliveryId: ctx.deliveryId,
    resourceId,
    ...(ctx.triggeredAt ? { triggeredAt: ctx.triggeredAt } : {}),
  };
}

/** Marks what was published or parked, so the sweep leaves it alone; never fails the capture. */
async function remember(
  deps: PosCaptureDeps,
  ctx: CaptureContext,
  key: string,
  version: number,
): Promise<void> {
  try {
    await deps.registry.markCaptured?.(ctx.merchantId, key, version);
  } catch (error) {
    deps.log.warn('could not mark the POS change as captured; the sweep may publish it again', {
      ...ctx.log,
      key,
      error: error as Error,
    });
  }
}

/**
 * A Square order → `OrderCreated` (the first completed version the hub sees), `OrderUpdated` (any other
 * completed version) or `OrderCancelled` (CANCELED), published from `omnihub.pos`. Not published: OPEN
 * and DRAFT orders (a later notification or the sweep brings them back completed), return orders (their
 * refund is captured as `RefundCreated`), and orders the hub created in Square itself (BOPIS pick-ups,
 * booked from their online order: see `isHubMadeOrder`).
 */
export async function captureOrder(
  order: SquareOrder,
  ctx: CaptureContext,
  deps: PosCaptureDeps,
): Promise<DeliveryOutcome> {
  const { merchantId } = ctx;
  const version = orderVersionOf(order);
  const orderContext = { orderId: order.id, version: String(version), state: order.state };
  const logContext = { ...ctx.log, ...orderContext };
  if (isHubMadeOrder(order)) return capturePickup(order, version, ctx, deps);
  if (order.state !== 'COMPLETED' && order.state !== 'CANCELED') {
    deps.telemetry.count('PosOrderIgnoredState');
    deps.log.info('POS order not completed: nothing published', logContext);
    return ignored(`order ${order.id} version ${version} is ${order.state}`);
  }
  if (isReturnOrder(order)) {
    deps.telemetry.count('PosReturnOrderIgnored');
    deps.log.info('POS return order: captured through its refund', logContext);
    return ignored(`order ${order.id} is a return: its refund is captured as RefundCreated`);
  }

  const transactionId = deterministicUuid('pos', merchantId, order.id, String(version));
  const park = async (error: unknown) => {
    const outcome = await ctx.park(error, transactionId, orderContext);
    await remember(deps, ctx, order.id, version);
    return outcome;
  };
  let variations: ReadonlyMap<string, VariationInfo | null>;
  try {
    variations = await deps.square.variations(catalogRefs(order));
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return park(error);
  }
  let data: Order;
  try {
    data = mapSquareOrder(order, { merchantId, variations });
  } catch (error) {
    return park(error);
  }

  let detailType: OrderDetailType = 'OrderCancelled';
  if (order.state === 'COMPLETED') {
    const first = await deps.registry.isFirstCompletion(merchantId, order.id, version);
    detailType = first ? 'OrderCreated' : 'OrderUpdated';
  }
  const idempotencyKey = `pos:${merchantId}:order:${order.id}:${detailType}:${version}`;
  const occurredAt =
    detailType === 'OrderCreated' && order.closed_at
      ? toUtc(order.closed_at)
      : detailType === 'OrderCancelled'
        ? (data.cancelledAt ?? data.updatedAt)
        : data.updatedAt;
  let event: CanonicalEvent;
  let movements: CanonicalEvent[];
  try {
    event = buildEvent(
      detailType,
      EVENT_SOURCES.pos,
      {
        eventId: deterministicUuid('pos', merchantId, ctx.deliveryId, detailType, idempotencyKey),
        transactionId,
        idempotencyKey,
        occurredAt,
        receivedAt: ctx.receivedAt,
        origin: posOrigin(ctx, order.id),
      },
      data,
    );
    // The sale's stock movements (inventory projection): the same ids whichever version or finder.
    movements = order.state === 'COMPLETED' ? posSaleMovements(data, occurredAt, ctx, transactionId) : [];
  } catch (error) {
    return park(error);
  }
  await deps.publisher.publish([event, ...movements]);
  await remember(deps, ctx, order.id, version);
  deps.telemetry.count('EventsPublished');
  deps.log.info('POS order published', { ...logContext, detailType, transactionId });
  return { status: 'published', eventIds: [event.detail.metadata.eventId] };
}

/**
 * An order the hub created in Square (a BOPIS pick-up, `metadata.omnihub_origin`) is never a POS sale:
 * its PICKUP fulfilment's state is published as `PickupUpdated` for the BOPIS workflow (the store
 * preparing, the customer collecting, the store cancelling), once per order version.
 */
async function capturePickup(
  order: SquareOrder,
  version: number,
  ctx: CaptureContext,
  deps: PosCaptureDeps,
): Promise<DeliveryOutcome> {
  const { merchantId } = ctx;
  const origin = order.metadata?.[HUB_ORIGIN_METADATA_KEY] ?? '';
  const pickup = order.fulfillments.find((f) => f.type === 'PICKUP');
  const state = pickup?.state;
  const states = ['PROPOSED', 'RESERVED', 'PREPARED', 'COMPLETED', 'CANCELED', 'FAILED'] as const;
  if (!state || !(states as readonly string[]).includes(state)) {
    deps.telemetry.count('PosHubOrderIgnored');
    return ignored(`order ${order.id} was created by the hub and has no PICKUP fulfilment state`);
  }
  const transactionId = deterministicUuid('pos', merchantId, order.id, String(version));
  const idempotencyKey = `pos:${merchantId}:pickup:${order.id}:${version}`;
  let event: CanonicalEvent;
  try {
    event = buildEvent(
      'PickupUpdated',
      EVENT_SOURCES.pos,
      {
        eventId: deterministicUuid('pos', merchantId, ctx.deliveryId, 'PickupUpdated', idempotencyKey),
        transactionId,
        idempotencyKey,
        occurredAt: toUtc(order.updated_at),
        receivedAt: ctx.receivedAt,
        origin: posOrigin(ctx, order.id),
      },
      {
        origin,
        posOrderId: order.id,
        posLocationId: order.location_id,
        state: state as (typeof states)[number],
        version,
        updatedAt: toUtc(order.updated_at),
      },
    );
  } catch (error) {
    return ctx.park(error, transactionId, { orderId: order.id, version: String(version) });
  }
  await deps.publisher.publish([event]);
  deps.telemetry.count('PosPickupUpdatePublished');
  deps.log.info('POS pick-up state published', { ...ctx.log, orderId: order.id, state, version });
  return { status: 'published', eventIds: [event.detail.metadata.eventId] };
}

/** Reads and parses an order; a permanent failure (not found, unreadable) is thrown for the caller to park. */
async function readOrder(deps: PosCaptureDeps, orderId: string): Promise<SquareOrder> {
  return parseSquareOrder(await deps.square.retrieveOrder(orderId));
}

/** The marker key of a refund in the capture registry (order ids never contain `:`). */
export const refundMarkerKey = (refundId: string): string => `refund:${refundId}`;

/**
 * A completed Square refund of a POS sale → `RefundCreated` from `omnihub.pos` (business key
 * `pos:<merchant>:refund:<refundId>`), which order capture books as one cash refund against the sale's
 * cash sale. The refund's return order (`refund.order_id`) holds the returned lines and the sale it
 * returns (`returns[].source_order_id`). Not published here, with the reason in the answer and the log —
 * the omnichannel returns workflow owns these: a refund without a Square payment (`unlinked`), a return
 * with no source sale (an unlinked return, e.g. an online order returned at the store), and a return of
 * an order the hub created in Square (a BOPIS pick-up, whose money was taken online). An unlinked refund of
 * a return order is a store return of an online order: published as `StoreReturnRecorded` (see
 * {@link captureStoreReturn}). PENDING, REJECTED and FAILED refunds move no money: acknowledged, not
 * published.
 */
export async function captureRefund(
  refund: SquareRefund,
  ctx: CaptureContext,
  deps: PosCaptureDeps,
): Promise<DeliveryOutcome> {
  const { merchantId } = ctx;
  const refundContext = { refundId: refund.id, status: refund.status, orderId: refund.order_id ?? '' };
  const logContext = { ...ctx.log, ...refundContext };
  if (refund.status !== 'COMPLETED') {
    deps.telemetry.count('PosRefundIgnoredState');
    deps.log.info('POS refund not completed: nothing published', logContext);
    return ignored(`refund ${refund.id} is ${refund.status}`);
  }
  const notOurs = (reason: string): DeliveryOutcome => {
    deps.telemetry.count('PosRefundNotPosSale');
    deps.log.info('POS refund left to the returns workflow', { ...logContext, reason });
    return ignored(`refund ${refund.id}: ${reason}; the returns workflow owns it`);
  };
  if (refund.unlinked === true || !refund.payment_id) {
    // An unlinked refund with a return order: goods bought elsewhere (online) returned at the store.
    if (refund.order_id) return captureStoreReturn(refund, refund.order_id, ctx, deps);
    return notOurs('not linked to a Square payment and naming no return order (an unlinked refund)');
  }

  const transactionId = deterministicUuid('pos', merchantId, 'refund', refund.id);
  const version = Date.parse(refund.updated_at ?? refund.created_at) || 0;
  const park = async (error: unknown, extra: Readonly<Record<string, string>> = {}) => {
    const outcome = await ctx.park(error, transactionId, { ...refundContext, ...extra });
    await remember(deps, ctx, refundMarkerKey(refund.id), version);
    return outcome;
  };
  let returnOrder: SquareOrder;
  let sale: SquareOrder;
  let variations: ReadonlyMap<string, VariationInfo | null>;
  try {
    if (!refund.order_id) throw new MappingError(`refund ${refund.id} names no order (order_id is missing)`);
    returnOrder = await readOrder(deps, refund.order_id);
    const saleId = returnOrder.returns.find((entry) => entry.source_order_id)?.source_order_id;
    if (!saleId) return notOurs(`return order ${returnOrder.id} returns no Square sale (an unlinked return)`);
    sale = await readOrder(deps, saleId);
    if (isHubMadeOrder(sale)) return notOurs(`sale ${sale.id} is an order the hub created (an online order)`);
    variations = await deps.square.variations(returnCatalogRefs(returnOrder));
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return park(error);
  }
  let data: Refund;
  let event: CanonicalEvent;
  let movements: CanonicalEvent[];
  const idempotencyKey = `pos:${merchantId}:refund:${refund.id}`;
  try {
    data = mapSquareRefund({ merchantId, refund, returnOrder, sale, variations });
    event = buildEvent(
      'RefundCreated',
      EVENT_SOURCES.pos,
      {
        eventId: deterministicUuid('pos', merchantId, ctx.deliveryId, 'RefundCreated', idempotencyKey),
        transactionId,
        idempotencyKey,
        occurredAt: data.processedAt ?? data.createdAt,
        receivedAt: ctx.receivedAt,
        origin: posOrigin(ctx, refund.id),
      },
      data,
    );
    movements = posReturnMovements(data, sale.location_id ?? null, ctx, transactionId);
  } catch (error) {
    return park(error, { saleId: sale.id });
  }
  await deps.publisher.publish([event, ...movements]);
  await remember(deps, ctx, refundMarkerKey(refund.id), version);
  deps.telemetry.count('EventsPublished');
  deps.log.info('POS refund published', { ...logContext, saleId: sale.id, transactionId });
  return { status: 'published', eventIds: [event.detail.metadata.eventId] };
}

/**
 * A completed unlinked Square refund of a return order — an online order's goods returned and refunded at
 * the store — → `StoreReturnRecorded` from `omnihub.pos` (business key `pos:<merchant>:store-return:<refundId>`,
 * the same whichever finder: `refund.created`/`refund.updated` or the sweep), for the omnichannel-return
 * workflow. No stock movement here: the workflow books the restock once it has matched the online order
 * (movement `return:<returnId>:<line>`), so the units are counted once. A return naming no online order,
 * or refunded in parts, is parked with the reason.
 */
async function captureStoreReturn(
  refund: SquareRefund,
  returnOrderId: string,
  ctx: CaptureContext,
  deps: PosCaptureDeps,
): Promise<DeliveryOutcome> {
  const { merchantId } = ctx;
  const refundContext = { refundId: refund.id, status: refund.status, orderId: returnOrderId };
  const transactionId = deterministicUuid('pos', merchantId, 'refund', refund.id);
  const version = Date.parse(refund.updated_at ?? refund.created_at) || 0;
  const park = async (error: unknown) => {
    const outcome = await ctx.park(error, transactionId, refundContext);
    await remember(deps, ctx, refundMarkerKey(refund.id), version);
    return outcome;
  };
  const idempotencyKey = `pos:${merchantId}:store-return:${refund.id}`;
  let returnOrder: SquareOrder;
  let variations: ReadonlyMap<string, VariationInfo | null>;
  try {
    returnOrder = await readOrder(deps, returnOrderId);
    if (!isReturnOrder(returnOrder) || returnOrder.returns.some((entry) => entry.source_order_id)) {
      deps.telemetry.count('PosRefundNotPosSale');
      return ignored(
        `unlinked refund ${refund.id}: order ${returnOrder.id} is not an unlinked return order (nothing to return)`,
      );
    }
    variations = await deps.square.variations(returnCatalogRefs(returnOrder));
  } catch (error) {
    if (!isPermanent(error)) throw error;
    return park(error);
  }
  let event: CanonicalEvent;
  try {
    const data = mapStoreReturn({ merchantId, refund, returnOrder, variations });
    event = buildEvent(
      'StoreReturnRecorded',
      EVENT_SOURCES.pos,
      {
        eventId: deterministicUuid('pos', merchantId, ctx.deliveryId, 'StoreReturnRecorded', idempotencyKey),
        transactionId,
        idempotencyKey,
        occurredAt: data.refundedAt,
        receivedAt: ctx.receivedAt,
        origin: posOrigin(ctx, refund.id),
      },
      data,
    );
  } catch (error) {
    // What the store recorded cannot be mapped (no online order number, refunded in parts, malformed).
    return park(error);
  }
  await deps.publisher.publish([event]);
  await remember(deps, ctx, refundMarkerKey(refund.id), version);
  deps.telemetry.count('EventsPublished');
  deps.log.info('POS store return of an online order published', {
    ...ctx.log,
    ...refundContext,
    transactionId,
  });
  return { status: 'published', eventIds: [event.detail.metadata.eventId] };
}
