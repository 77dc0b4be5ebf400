import type * as z from 'zod';
import { PosAuthError, PosUnavailableError } from '../connectors/square/errors.ts';
import { parseSquareOrder } from '../connectors/square/mapper.ts';
import {
  type SquareOrder,
  type SquareOrderNotification,
  SquareOrderNotificationSchema,
  type SquarePayment,
  SquarePaymentSchema,
  type SquareRefund,
  SquareRefundSchema,
  type SquareWebhookEnvelope,
  SquareWebhookEnvelopeSchema,
} from '../connectors/square/payloads.ts';
import { SQUARE_SIGNATURE_HEADER, verifySquareSignature } from '../connectors/square/webhook-signature.ts';
import { HubError, MappingError } from '../errors.ts';
import type { CanonicalEvent } from '../events/catalog.ts';
import { deterministicUuid } from '../events/envelope.ts';
import { posCountEvents, SquareInventoryCountsSchema } from '../inventory/pos-ingress.ts';
import type { TraceRecorder } from '../ops/trace.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import {
  type CaptureContext,
  captureOrder,
  captureRefund,
  isPermanent,
  type PosCaptureDeps,
} from './pos-capture.ts';
import {
  answerDelivery,
  DeliveryConflictError,
  type DeliveryDeduplicator,
  type DeliveryOutcome,
  decodeWebhookBody,
  jsonResponse as json,
  parkDelivery,
  parseWebhookJson,
  refuseOutsideWindow,
  requireJsonContentType,
  triggeredAtOf,
  verifyWithRotation,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookSecrets,
} from './webhook.ts';

/** Square retries a failed delivery for up to 72 hours: remember deliveries a day longer than that. */
export const POS_DELIVERY_RECORD_TTL_SECONDS = 4 * 24 * 3600;

/**
 * Square retries for up to 72 hours (developer.squareup.com, "Webhooks: retries"): a notification whose
 * signed `created_at` is older is a replay, not a retry; clocks may disagree by a few minutes.
 */
export const POS_DELIVERY_WINDOW = { maxAgeSeconds: 72 * 3600, maxSkewSeconds: 300 } as const;

/**
 * The Square events that announce an order change (none carries the lines: the order is fetched). They
 * fire for orders made through the API only: `order.updated` is "triggered by the UpdateOrder endpoint
 * call, Order Manager, or the Square Dashboard", and "creating an order in the Point of Sale app will not
 * trigger an orders webhook" (Square staff, developer.squareup.com/forums/t/webhook-notification/4287).
 */
export const SQUARE_ORDER_EVENT_TYPES: readonly string[] = [
  'order.created',
  'order.updated',
  'order.fulfillment.updated',
];

/**
 * Payment events: sent "when a payment is taken by a seller through the Point of Sale application, Square
 * Terminal, …" (developer.squareup.com/docs/payments-api/webhooks); the payment carries `order_id` and
 * `location_id`. How register sales reach the hub.
 */
export const SQUARE_PAYMENT_EVENT_TYPES: readonly string[] = ['payment.created', 'payment.updated'];

/** Refund events: `data.object.refund` is a PaymentRefund (`payment_id`, `order_id` = the return order). */
export const SQUARE_REFUND_EVENT_TYPES: readonly string[] = ['refund.created', 'refund.updated'];

/**
 * Stock counts: `data.object.inventory_counts[]`, each an `InventoryCount` (variation, location, state,
 * quantity, `calculated_at`) — sent for every change of a count, the hub's own `batch-create` included
 * (developer.squareup.com/reference/square/inventory-api/webhooks/inventory.count.updated).
 */
export const SQUARE_INVENTORY_EVENT_TYPES: readonly string[] = ['inventory.count.updated'];

/** Every Square event type the hub handles (subscribe the webhook to these). */
export const SQUARE_HANDLED_EVENT_TYPES: readonly string[] = [
  ...SQUARE_ORDER_EVENT_TYPES,
  ...SQUARE_PAYMENT_EVENT_TYPES,
  ...SQUARE_REFUND_EVENT_TYPES,
  ...SQUARE_INVENTORY_EVENT_TYPES,
];

/** A webhook request and the URL it was posted to, exactly as registered with Square (it is signed). */
export interface PosWebhookRequest extends WebhookRequest {
  readonly notificationUrl: string;
}

export type { PosOrderSource } from './pos-capture.ts';

export interface PosWebhookDeps extends PosCaptureDeps {
  readonly signatureKeys: WebhookSecrets;
  readonly exceptions: ExceptionStore;
  readonly deduplicate: DeliveryDeduplicator;
  readonly maxBodyBytes: number;
  /**
   * The Square merchants this environment serves: a signed notification for any other is parked
   * (`MERCHANT_NOT_SERVED`), never published. Undefined = every merchant (dev and tests only; deployed
   * environments must configure it).
   */
  readonly merchants?: ReadonlySet<string>;
  readonly now?: () => Date;
  /** Trace checkpoints (received, published, parked). @default none */
  readonly trace?: TraceRecorder;
  /** Sets the logs' correlation id to the transaction id. @default none */
  readonly correlate?: (transactionId: string) => void;
}

/** The order a notification is about: `data.object.<data.type>` (e.g. `order_updated`). */
function orderNotification(envelope: SquareWebhookEnvelope): SquareOrderNotification {
  const object = envelope.data?.object ?? {};
  // An own property only: a `data.type` such as `constructor` must not reach Object.prototype.
  const named =
    envelope.data?.type && Object.hasOwn(object, envelope.data.type) ? object[envelope.data.type] : undefined;
  const candidate =
    named ??
    Object.values(object).find(
      (value) => value !== null && typeof value === 'object' && 'order_id' in value,
    ) ??
    (envelope.data?.id ? { order_id: envelope.data.id } : undefined);
  if (candidate === undefined) {
    throw new MappingError(
      `${envelope.type} names no order: data.object.${envelope.data?.type ?? '*'}.order_id is missing`,
    );
  }
  const parsed = SquareOrderNotificationSchema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new MappingError(`${envelope.type} does not name an order: ${issues.join('; ')}`, issues);
}

/** `data.object.<key>` of a payment or refund event, parsed; a shape the hub cannot read is a MappingError. */
function objectOf<S extends z.ZodType>(envelope: SquareWebhookEnvelope, key: string, schema: S): z.infer<S> {
  const object = envelope.data?.object ?? {};
  const candidate = Object.hasOwn(object, key) ? object[key] : undefined;
  const parsed = schema.safeParse(candidate);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map(
    (issue) => `data.object.${key}.${issue.path.join('.') || '(root)'}: ${issue.message}`,
  );
  throw new MappingError(`${envelope.type} does not carry a readable ${key}: ${issues.join('; ')}`, issues);
}

/**
 * A correctly signed notification for a merchant this environment does not serve (a multi-seller app,
 * or a configuration gap): parked, so nothing is lost if the allow-list was incomplete.
 */
export class MerchantNotServedError extends HubError {
  readonly code = 'MERCHANT_NOT_SERVED';
  readonly retryable = false;
}

/** Why an input is parked, from whatever mapping or validation threw. */
function parkReason(error: unknown): { code: string; reason: string; issues: readonly string[] } {
  if (error instanceof DeliveryConflictError) {
    return { code: error.code, reason: 'event id already processed with a different body', issues: [] };
  }
  if (error instanceof MappingError) return { code: error.code, reason: error.message, issues: error.issues };
  if (error instanceof HubError) return { code: error.code, reason: error.message, issues: [] };
  const message = (error as Error).message;
  return {
    code: 'MAPPING_FAILED',
    reason: `canonical event failed validation: ${message}`,
    issues: [message],
  };
}

/**
 * POS (Square) webhook ingress: verify, de-duplicate, fetch, map, publish (shared/ingress/pos-capture.ts).
 * - `payment.created` / `payment.updated` (how register sales arrive): a COMPLETED payment's order is
 *   read and captured;
 * - `order.created` / `order.updated` / `order.fulfillment.updated` (orders made through the API): the
 *   order is read at its current version and captured;
 * - `refund.created` / `refund.updated`: a COMPLETED refund of a POS sale becomes `RefundCreated`.
 * A COMPLETED order is a sale: `OrderCreated` for the first completed version the hub sees,
 * `OrderUpdated` for any other; CANCELED → `OrderCancelled`; OPEN and DRAFT orders, return orders and the
 * hub's own (pick-up) orders are acknowledged, not published. The business key carries the order's
 * version, so the same sale seen through a payment and an order event is booked once.
 *
 * Answers: 401 bad signature, 413 too large, 400 not a Square event, 200 for anything accepted
 * (published, parked, ignored, duplicate), 503 when a retry can succeed (Square API or bus
 * unavailable, access token refused) — never a 5xx for a payload that will fail again.
 */
export async function handlePosWebhook(
  request: PosWebhookRequest,
  deps: PosWebhookDeps,
): Promise<WebhookResponse> {
  const now = deps.now?.() ?? new Date();
  const receivedAt = now.toISOString();
  const decoded = decodeWebhookBody(request, deps);
  if ('response' in decoded) return decoded.response;
  const raw = decoded.value;

  const signature = request.headers[SQUARE_SIGNATURE_HEADER];
  const { notificationUrl } = request;
  const refused = await verifyWithRotation(
    deps.signatureKeys,
    Boolean(signature),
    (candidates) => verifySquareSignature(raw, notificationUrl, signature, candidates),
    deps,
    { notificationUrl, signed: Boolean(signature) },
  );
  if (refused) return refused;
  const notJson = requireJsonContentType(request, deps);
  if (notJson) return notJson;

  const parsed = parseWebhookJson(raw, deps);
  if ('response' in parsed) return parsed.response;
  const body = parsed.value;
  const parsedEnvelope = SquareWebhookEnvelopeSchema.safeParse(body);
  if (!parsedEnvelope.success) {
    deps.telemetry.count('WebhookRejectedMalformed');
    const fields = parsedEnvelope.error.issues.map((issue) => issue.path.join('.') || '(root)');
    return json(400, {
      message: `not a Square event: ${[...new Set(fields)].join(', ')} missing or invalid`,
    });
  }
  const envelope = parsedEnvelope.data;
  const { merchant_id: merchantId, type, event_id: eventId } = envelope;
  if (!SQUARE_HANDLED_EVENT_TYPES.includes(type)) {
    deps.telemetry.count('WebhookIgnoredType');
    deps.log.info('POS event type not handled by the hub', { type, merchantId, eventId });
    return json(200, { status: 'ignored', type });
  }

  const triggeredAt = triggeredAtOf(envelope.created_at);
  // A replay of a captured notification (its signed created_at is past Square's retry horizon) or one
  // from the future: 200, so Square does not retry it, counted and logged.
  const outside = refuseOutsideWindow(triggeredAt, now, POS_DELIVERY_WINDOW, deps, {
    merchantId,
    type,
    eventId,
  });
  if (outside) return outside;
  const context = { merchantId, type, eventId, transactionId: deterministicUuid('pos', merchantId, eventId) };

  const park = (
    error: unknown,
    transactionId: string,
    extra: Readonly<Record<string, string>> = {},
    inputId = eventId,
  ): Promise<DeliveryOutcome> =>
    parkDelivery(
      deps,
      {
        kind: 'pos-webhook',
        inputId,
        at: triggeredAt ?? receivedAt,
        ...parkReason(error),
        transactionId,
        attributes: {
          type,
          merchantId,
          eventId,
          notificationUrl,
          ...(triggeredAt ? { triggeredAt } : {}),
          ...extra,
        },
        payload: raw,
        subjects: { system: 'pos', account: merchantId, orderIds: extra.orderId ? [extra.orderId] : [] },
      },
      { ...context, ...extra },
    );

  /** Reads the order from Square; never older than the version the notification announced. */
  const fetchOrder = async (notification: SquareOrderNotification): Promise<SquareOrder> => {
    const order = parseSquareOrder(await deps.square.retrieveOrder(notification.order_id));
    if (
      notification.version !== undefined &&
      order.version !== undefined &&
      order.version < notification.version
    ) {
      throw new PosUnavailableError(
        `Square returned version ${order.version} of order ${order.id}, older than the notified ${notification.version}`,
      );
    }
    return order;
  };

  const captureContext: CaptureContext = {
    merchantId,
    receivedAt,
    topic: type,
    deliveryId: eventId,
    ...(triggeredAt ? { triggeredAt } : {}),
    log: context,
    park: (error, transactionId, extra) => park(error, transactionId, extra),
  };

  /** `order.*`: the order the notification names, read at its current version. */
  const processOrderEvent = async (): Promise<DeliveryOutcome> => {
    let order: SquareOrder;
    let notification: SquareOrderNotification | undefined;
    try {
      notification = orderNotification(envelope);
      order = await fetchOrder(notification);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return park(error, context.transactionId, notification ? { orderId: notification.order_id } : {});
    }
    return captureOrder(order, captureContext, deps);
  };

  /**
   * `payment.*`: a sale rung up at the register announces itself only through its payment (Square
   * publishes no order webhook for it). A COMPLETED payment's order is read and captured like any other;
   * other statuses move no money yet and are acknowledged.
   */
  const processPaymentEvent = async (): Promise<DeliveryOutcome> => {
    let payment: SquarePayment;
    try {
      payment = objectOf(envelope, 'payment', SquarePaymentSchema);
    } catch (error) {
      return park(error, context.transactionId);
    }
    if (payment.status !== 'COMPLETED') {
      deps.telemetry.count('PosPaymentIgnoredState');
      return { status: 'ignored', reason: `payment ${payment.id} is ${payment.status}` };
    }
    if (!payment.order_id) {
      deps.telemetry.count('PosPaymentWithoutOrder');
      return { status: 'ignored', reason: `payment ${payment.id} belongs to no order` };
    }
    let order: SquareOrder;
    try {
      order = parseSquareOrder(await deps.square.retrieveOrder(payment.order_id));
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return park(error, context.transactionId, { orderId: payment.order_id, paymentId: payment.id });
    }
    return captureOrder(order, captureContext, deps);
  };

  /** `refund.*`: a COMPLETED refund of a POS sale becomes RefundCreated (see captureRefund). */
  const processRefundEvent = async (): Promise<DeliveryOutcome> => {
    let refund: SquareRefund;
    try {
      refund = objectOf(envelope, 'refund', SquareRefundSchema);
    } catch (error) {
      return park(error, context.transactionId);
    }
    return captureRefund(refund, captureContext, deps);
  };

  /**
   * `inventory.count.updated`: each IN_STOCK count → `InventoryCounted` from the POS (an observation of
   * what the store's register shows; the projection recognises the echo of the hub's own writes).
   */
  const processInventoryEvent = async (): Promise<DeliveryOutcome> => {
    let events: CanonicalEvent[];
    try {
      const counts = objectOf(envelope, 'inventory_counts', SquareInventoryCountsSchema);
      const variations = await deps.square.variations(
        [...new Set(counts.map((c) => c.catalog_object_id))].map((id) => ({ id, version: null })),
      );
      events = posCountEvents(counts, variations, {
        merchantId,
        receivedAt,
        topic: type,
        deliveryId: eventId,
        ...(triggeredAt ? { triggeredAt } : {}),
      });
    } catch (error) {
      // Square unavailable or the token refused: a redelivery can succeed. Anything else (an unreadable
      // count, a fractional quantity) will fail again: parked with its reason.
      if (error instanceof HubError && !isPermanent(error)) throw error;
      return park(error, context.transactionId);
    }
    if (events.length === 0) return { status: 'ignored', reason: 'no IN_STOCK count in the event' };
    await deps.publisher.publish(events);
    deps.telemetry.count('PosInventoryCounts', events.length);
    return { status: 'published', eventIds: events.map((e) => e.detail.metadata.eventId) };
  };

  const process = async (): Promise<DeliveryOutcome> => {
    if (deps.merchants && !deps.merchants.has(merchantId)) {
      return park(
        new MerchantNotServedError(`merchant ${merchantId} is not served by this environment`),
        context.transactionId,
      );
    }
    if (SQUARE_PAYMENT_EVENT_TYPES.includes(type)) return processPaymentEvent();
    if (SQUARE_REFUND_EVENT_TYPES.includes(type)) return processRefundEvent();
    if (SQUARE_INVENTORY_EVENT_TYPES.includes(type)) return processInventoryEvent();
    return processOrderEvent();
  };

  return answerDelivery({
    deps,
    key: `${merchantId}#${eventId}`,
    deliveryId: eventId,
    raw,
    context,
    process,
    parkConflict: (error, inputId) => park(error, context.transactionId, {}, inputId),
    onError: (error) => {
      if (!(error instanceof PosUnavailableError || error instanceof PosAuthError)) return undefined;
      deps.telemetry.count(error instanceof PosAuthError ? 'PosApiAuthFailed' : 'PosApiUnavailable');
      const log = error instanceof PosAuthError ? deps.log.error : deps.log.warn;
      log.call(deps.log, 'Square API call failed; Square will redeliver the webhook', {
        ...context,
        code: error.code,
        reason: error.message,
      });
      return json(503, { message: 'temporarily unavailable', transactionId: context.transactionId });
    },
  });
}
