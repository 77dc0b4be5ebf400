import type { EventPublisher } from '../bus/publisher.ts';
import { shopifyPayloadSubjects } from '../connectors/shopify/contact-data.ts';
import { parseShopifyJson } from '../connectors/shopify/json.ts';
import {
  SHOPIFY_COMPLIANCE_TOPICS,
  type ShopContext,
  shopifyTopicMapper,
} from '../connectors/shopify/mappers.ts';
import { topicMismatch } from '../connectors/shopify/topic-rules.ts';
import { verifyShopifyHmac } from '../connectors/shopify/webhook-signature.ts';
import { MappingError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { TraceRecorder } from '../ops/trace.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import {
  answerDelivery,
  DELIVERY_RECORD_TTL_SECONDS,
  type DeliveryDeduplicator,
  type DeliveryOutcome,
  decodeWebhookBody,
  forLog,
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

export interface ShopifyWebhookDeps {
  readonly shops: ReadonlyMap<string, Omit<ShopContext, 'shopDomain'>>;
  readonly secrets: WebhookSecrets;
  readonly publisher: EventPublisher;
  readonly exceptions: ExceptionStore;
  readonly deduplicate: DeliveryDeduplicator;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly maxBodyBytes: number;
  readonly now?: () => Date;
  /** Trace checkpoints (received, published, parked). @default none */
  readonly trace?: TraceRecorder;
  /** Sets the logs' correlation id to the transaction id. @default none */
  readonly correlate?: (transactionId: string) => void;
}

/** Shopify's webhook and event ids are UUIDs; a bound keeps hostile ids out of keys and logs. */
const DELIVERY_ID = /^[A-Za-z0-9-]{1,64}$/;
const TOPIC = /^[a-z_]{1,40}\/[a-z_]{1,40}$/;

/**
 * How old a delivery may be: Shopify retries for about 4 hours and delivers late by up to a day; the
 * de-duplication record lasts {@link DELIVERY_RECORD_TTL_SECONDS}, so anything older could not be
 * recognised as a replay. Clocks may disagree by a few minutes.
 */
export const DELIVERY_WINDOW = { maxAgeSeconds: DELIVERY_RECORD_TTL_SECONDS, maxSkewSeconds: 300 } as const;

/** Shopify sends `X-Shopify-*`; newer deliveries may also use the unprefixed `Shopify-*` names. */
const header = (headers: WebhookRequest['headers'], name: string): string | undefined =>
  headers[`x-shopify-${name}`] ?? headers[`shopify-${name}`];

/**
 * Shopify webhook ingress: verify, de-duplicate, map, publish. Answers fast and only with what the
 * sender can act on: 401 for an unknown shop or a bad signature, 400/413 for input that can never
 * succeed, 200 for anything accepted (published, parked, ignored or a duplicate), and 5xx only when a
 * retry can succeed (bus unavailable) — never a 5xx for a payload that will fail again.
 */
export async function handleShopifyWebhook(
  request: WebhookRequest,
  deps: ShopifyWebhookDeps,
): Promise<WebhookResponse> {
  const now = deps.now?.() ?? new Date();
  const receivedAt = now.toISOString();
  const decoded = decodeWebhookBody(request, deps);
  if ('response' in decoded) return decoded.response;
  const raw = decoded.value;

  const shopDomain = header(request.headers, 'shop-domain')?.trim().toLowerCase();
  const shop = shopDomain ? deps.shops.get(shopDomain) : undefined;
  if (!shopDomain || !shop) {
    deps.telemetry.count('WebhookRejectedUnknownShop');
    deps.log.warn('webhook from an unconfigured shop', { shopDomain: forLog(shopDomain) });
    return json(401, { message: 'unauthorized' });
  }

  const signature = header(request.headers, 'hmac-sha256');
  const refused = await verifyWithRotation(
    deps.secrets,
    Boolean(signature),
    (candidates) => verifyShopifyHmac(raw, signature, candidates),
    deps,
    { shopDomain },
  );
  if (refused) return refused;
  const notJson = requireJsonContentType(request, deps);
  if (notJson) return notJson;

  const topic = header(request.headers, 'topic');
  const webhookId = header(request.headers, 'webhook-id');
  const sourceEventId = header(request.headers, 'event-id');
  if (!topic || !TOPIC.test(topic) || !webhookId || !DELIVERY_ID.test(webhookId)) {
    deps.telemetry.count('WebhookRejectedMalformed');
    return json(400, { message: 'X-Shopify-Topic and X-Shopify-Webhook-Id are required and well-formed' });
  }
  if (sourceEventId !== undefined && !DELIVERY_ID.test(sourceEventId)) {
    deps.telemetry.count('WebhookRejectedMalformed');
    return json(400, { message: 'X-Shopify-Event-Id is malformed' });
  }

  // A replay of a captured delivery: older than the de-duplication window (it would no longer be
  // recognised) or from the future. 200, so Shopify never retries it; a forged fresh header is stopped
  // by the body-based rules (event ids and business keys come from the body), not by this check.
  // Compliance requests are exempt: Shopify sends customers/redact days to months after the request
  // and shop/redact 48 h after uninstall, and the docs do not say which time the header then carries —
  // a mandatory request must never be dropped as stale (their handling is idempotent by request id).
  const triggeredAt = triggeredAtOf(header(request.headers, 'triggered-at'));
  const outside = SHOPIFY_COMPLIANCE_TOPICS.has(topic)
    ? undefined
    : refuseOutsideWindow(triggeredAt, now, DELIVERY_WINDOW, deps, {
        shopDomain,
        topic,
        webhookId,
      });
  if (outside) return outside;

  const parsed = parseWebhookJson(raw, deps, parseShopifyJson);
  if ('response' in parsed) return parsed.response;
  const payload = parsed.value;
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    deps.telemetry.count('WebhookRejectedMalformed');
    return json(400, { message: 'body must be a JSON object' });
  }

  const mapper = shopifyTopicMapper(topic);
  if (!mapper) {
    deps.telemetry.count('WebhookIgnoredTopic');
    deps.log.info('webhook topic not handled by the hub', { topic, shopDomain, webhookId });
    return json(200, { status: 'ignored', topic });
  }

  const apiVersion = header(request.headers, 'api-version');
  const transactionId = deterministicUuid('shopify', shopDomain, sourceEventId ?? webhookId);
  const context = { shopDomain, topic, webhookId, transactionId };

  const park = (code: string, reason: string, issues: readonly string[], inputId: string) =>
    parkDelivery(
      deps,
      {
        kind: 'shopify-webhook',
        inputId,
        at: triggeredAt ?? receivedAt,
        code,
        reason,
        issues,
        transactionId,
        attributes: {
          topic,
          shopDomain,
          webhookId,
          ...(apiVersion ? { apiVersion } : {}),
          ...(sourceEventId ? { eventId: sourceEventId } : {}),
          ...(triggeredAt ? { triggeredAt } : {}),
        },
        payload: raw,
        subjects: { system: 'shopify', account: shopDomain, ...shopifyPayloadSubjects(topic, payload) },
      },
      context,
    );

  const process = async (): Promise<DeliveryOutcome> => {
    const mismatch = topicMismatch(topic, payload as Record<string, unknown>, shopDomain);
    if (mismatch) return park(mismatch.code, mismatch.reason, [], webhookId);
    let events: CanonicalEvent[];
    try {
      events = mapper(payload, { shopDomain, ...shop }).map((mapped) =>
        buildEvent(
          mapped.detailType,
          EVENT_SOURCES.shopify,
          {
            // From the signed body alone: the same change re-sent under other headers is the same event.
            eventId: deterministicUuid('shopify', shopDomain, mapped.detailType, mapped.idempotencyKey),
            transactionId,
            idempotencyKey: mapped.idempotencyKey,
            occurredAt: mapped.occurredAt ?? triggeredAt ?? receivedAt,
            receivedAt,
            origin: {
              system: 'shopify',
              account: shopDomain,
              topic,
              deliveryId: webhookId,
              resourceId: mapped.resourceId,
              ...(apiVersion ? { apiVersion } : {}),
              ...(sourceEventId ? { sourceEventId } : {}),
              ...(triggeredAt ? { triggeredAt } : {}),
            },
          },
          mapped.data,
        ),
      );
    } catch (error) {
      const mappingError =
        error instanceof MappingError
          ? error
          : new MappingError(`canonical event failed validation: ${(error as Error).message}`, [], {
              cause: error,
            });
      return park(mappingError.code, mappingError.message, mappingError.issues, webhookId);
    }
    await deps.publisher.publish(events);
    deps.telemetry.count('EventsPublished', events.length);
    return { status: 'published', eventIds: events.map((event) => event.detail.metadata.eventId) };
  };

  return answerDelivery({
    deps,
    // One merchant action has one event id across deliveries and retries (per topic): a delivery
    // re-sent under a fresh webhook id is still a duplicate.
    key: `${shopDomain}#${topic}#${sourceEventId ?? webhookId}`,
    deliveryId: webhookId,
    // The order (or other resource) id too, so `ops trace <shopifyOrderId>` finds the transaction.
    refs: [webhookId, sourceEventId, resourceIdOf(payload)],
    raw,
    context,
    process,
    parkConflict: (_error, inputId) =>
      park('DELIVERY_CONFLICT', 'event already processed with a different body', [], inputId),
  });
}

/** The payload's own id (an order's, a refund's, …) as a string, when it has one. */
function resourceIdOf(payload: unknown): string | undefined {
  const id = (payload as { id?: unknown } | null)?.id;
  return typeof id === 'number' || typeof id === 'string' ? String(id) : undefined;
}
