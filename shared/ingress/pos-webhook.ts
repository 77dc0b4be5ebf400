import type { EventPublisher } from '../bus/publisher.ts';
import { SQUARE_API_VERSION } from '../connectors/square/api-version.ts';
import type { VariationInfo } from '../connectors/square/client.ts';
import { PosAuthError, PosUnavailableError } from '../connectors/square/errors.ts';
import { catalogRefs, mapSquareOrder, parseSquareOrder } from '../connectors/square/mapper.ts';
import {
  type SquareOrder,
  type SquareOrderNotification,
  SquareOrderNotificationSchema,
  type SquareWebhookEnvelope,
  SquareWebhookEnvelopeSchema,
} from '../connectors/square/payloads.ts';
import { SQUARE_SIGNATURE_HEADER, verifySquareSignature } from '../connectors/square/webhook-signature.ts';
import { HubError, MappingError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { toUtc } from '../events/common.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { Order } from '../events/order.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { PosOrderRegistry } from '../repositories/pos-orders.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
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

/** The Square events that announce an order change (none carries the lines: the order is fetched). */
export const SQUARE_ORDER_EVENT_TYPES: readonly string[] = [
  'order.created',
  'order.updated',
  'order.fulfillment.updated',
];

/** A webhook request and the URL it was posted to, exactly as registered with Square (it is signed). */
export interface PosWebhookRequest extends WebhookRequest {
  readonly notificationUrl: string;
}

/** What the ingress needs from the POS API. */
export interface PosOrderSource {
  /** The order's current version, unparsed; throws the POS error taxonomy. */
  retrieveOrder(orderId: string): Promise<unknown>;
  /** Catalog variations of sold lines (see `variationKey`); null for one the POS does not know. */
  variations(
    refs: readonly { id: string; version: number | null }[],
  ): Promise<ReadonlyMap<string, VariationInfo | null>>;
}

export interface PosWebhookDeps {
  readonly signatureKeys: WebhookSecrets;
  readonly square: PosOrderSource;
  readonly registry: PosOrderRegistry;
  readonly publisher: EventPublisher;
  readonly exceptions: ExceptionStore;
  readonly deduplicate: DeliveryDeduplicator;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly maxBodyBytes: number;
  /**
   * The Square merchants this environment serves: a signed notification for any other is parked
   * (`MERCHANT_NOT_SERVED`), never published. Undefined = every merchant (dev and tests only; deployed
   * environments must configure it).
   */
  readonly merchants?: ReadonlySet<string>;
  readonly now?: () => Date;
}

type OrderDetailType = 'OrderCreated' | 'OrderUpdated' | 'OrderCancelled';

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

/**
 * A correctly signed notification for a merchant this environment does not serve (a multi-seller app,
 * or a configuration gap): parked, so nothing is lost if the allow-list was incomplete.
 */
export class MerchantNotServedError extends HubError {
  readonly code = 'MERCHANT_NOT_SERVED';
  readonly retryable = false;
}

/** A failure that a redelivery cannot fix: park it (POS authentication excepted: see PosAuthError). */
const isPermanent = (error: unknown): error is HubError =>
  error instanceof HubError && !error.retryable && !(error instanceof PosAuthError);

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
 * POS (Square) webhook ingress: verify, de-duplicate, fetch the order, map, publish. Square's order
 * events carry no lines, so the order is read from the API — at its current version, which is what
 * gets published whichever notification arrived. A COMPLETED order is a sale: `OrderCreated` for the
 * first completed version the hub sees, `OrderUpdated` for any other; CANCELED → `OrderCancelled`;
 * OPEN and DRAFT orders are acknowledged and counted, not published. The business key carries the
 * Square version, so a redelivery changes nothing and a new version is a new event.
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
  if (!SQUARE_ORDER_EVENT_TYPES.includes(type)) {
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

  /** Reads the order (and its variations) from Square; permanent failures park, others propagate. */
  const fetchOrder = async (notification: SquareOrderNotification): Promise<SquareOrder> => {
    const order = parseSquareOrder(await deps.square.retrieveOrder(notification.order_id));
    if (notification.version !== undefined && order.version < notification.version) {
      throw new PosUnavailableError(
        `Square returned version ${order.version} of order ${order.id}, older than the notified ${notification.version}`,
      );
    }
    return order;
  };

  const process = async (): Promise<DeliveryOutcome> => {
    if (deps.merchants && !deps.merchants.has(merchantId)) {
      return park(
        new MerchantNotServedError(`merchant ${merchantId} is not served by this environment`),
        context.transactionId,
      );
    }
    let order: SquareOrder;
    let notification: SquareOrderNotification | undefined;
    try {
      notification = orderNotification(envelope);
      order = await fetchOrder(notification);
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return park(error, context.transactionId, notification ? { orderId: notification.order_id } : {});
    }
    const orderContext = { orderId: order.id, version: String(order.version), state: order.state };
    if (order.state !== 'COMPLETED' && order.state !== 'CANCELED') {
      deps.telemetry.count('PosOrderIgnoredState');
      deps.log.info('POS order not completed: nothing published', { ...context, ...orderContext });
      return { status: 'ignored', reason: `order ${order.id} version ${order.version} is ${order.state}` };
    }

    const transactionId = deterministicUuid('pos', merchantId, order.id, String(order.version));
    let variations: ReadonlyMap<string, VariationInfo | null>;
    try {
      variations = await deps.square.variations(catalogRefs(order));
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return park(error, transactionId, orderContext);
    }
    let data: Order;
    try {
      data = mapSquareOrder(order, { merchantId, variations });
    } catch (error) {
      return park(error, transactionId, orderContext);
    }

    let detailType: OrderDetailType = 'OrderCancelled';
    if (order.state === 'COMPLETED') {
      const first = await deps.registry.isFirstCompletion(merchantId, order.id, order.version);
      detailType = first ? 'OrderCreated' : 'OrderUpdated';
    }
    const idempotencyKey = `pos:${merchantId}:order:${order.id}:${detailType}:${order.version}`;
    const occurredAt =
      detailType === 'OrderCreated' && order.closed_at
        ? toUtc(order.closed_at)
        : detailType === 'OrderCancelled'
          ? (data.cancelledAt ?? data.updatedAt)
          : data.updatedAt;
    let event: CanonicalEvent;
    try {
      event = buildEvent(
        detailType,
        EVENT_SOURCES.pos,
        {
          eventId: deterministicUuid('pos', merchantId, eventId, detailType, idempotencyKey),
          transactionId,
          idempotencyKey,
          occurredAt,
          receivedAt,
          origin: {
            system: 'pos',
            account: merchantId,
            topic: type,
            apiVersion: SQUARE_API_VERSION,
            deliveryId: eventId,
            resourceId: order.id,
            ...(triggeredAt ? { triggeredAt } : {}),
          },
        },
        data,
      );
    } catch (error) {
      return park(error, transactionId, orderContext);
    }
    await deps.publisher.publish([event]);
    deps.telemetry.count('EventsPublished');
    deps.log.info('POS order published', { ...context, ...orderContext, detailType, transactionId });
    return { status: 'published', eventIds: [event.detail.metadata.eventId] };
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
