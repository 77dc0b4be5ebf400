import type { EventPublisher } from '../bus/publisher.ts';
import { parseShopifyJson } from '../connectors/shopify/json.ts';
import { type ShopContext, shopifyTopicMapper } from '../connectors/shopify/mappers.ts';
import { verifyShopifyHmac } from '../connectors/shopify/webhook-signature.ts';
import { MappingError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import {
  answerDelivery,
  type DeliveryDeduplicator,
  type DeliveryOutcome,
  decodeWebhookBody,
  jsonResponse as json,
  parkDelivery,
  parseWebhookJson,
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
}

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
  const receivedAt = (deps.now?.() ?? new Date()).toISOString();
  const decoded = decodeWebhookBody(request, deps);
  if ('response' in decoded) return decoded.response;
  const raw = decoded.value;

  const shopDomain = header(request.headers, 'shop-domain')?.trim().toLowerCase();
  const shop = shopDomain ? deps.shops.get(shopDomain) : undefined;
  if (!shopDomain || !shop) {
    deps.telemetry.count('WebhookRejectedUnknownShop');
    deps.log.warn('webhook from an unconfigured shop', { shopDomain });
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

  const topic = header(request.headers, 'topic');
  const webhookId = header(request.headers, 'webhook-id');
  if (!topic || !webhookId) {
    return json(400, { message: 'X-Shopify-Topic and X-Shopify-Webhook-Id are required' });
  }

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

  const sourceEventId = header(request.headers, 'event-id');
  const triggeredAt = triggeredAtOf(header(request.headers, 'triggered-at'));
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
      },
      context,
    );

  const process = async (): Promise<DeliveryOutcome> => {
    let events: CanonicalEvent[];
    try {
      events = mapper(payload, { shopDomain, ...shop }).map((mapped) =>
        buildEvent(
          mapped.detailType,
          EVENT_SOURCES.shopify,
          {
            eventId: deterministicUuid(
              'shopify',
              shopDomain,
              webhookId,
              mapped.detailType,
              mapped.idempotencyKey,
            ),
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
    key: `${shopDomain}#${webhookId}`,
    deliveryId: webhookId,
    raw,
    context,
    process,
    parkConflict: (_error, inputId) =>
      park('DELIVERY_CONFLICT', 'webhook id already processed with a different body', [], inputId),
  });
}
