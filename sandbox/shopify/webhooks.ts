import { createHmac } from 'node:crypto';
import type { Rng } from '../core/rng.ts';
import type { DeliveryRecord, RetryPolicy, WebhookDispatcher } from '../core/webhooks.ts';
import { gqlTime } from './ids.ts';
import type { WebhookSubscriptionRecord } from './store.ts';

/**
 * Shopify webhook emission: one event per merchant action, one delivery per subscription to its
 * topic, each a POST of the REST JSON body with Shopify's headers
 * (shopify.dev/docs/apps/build/webhooks/delivery-structure):
 *
 * - `X-Shopify-Topic`, `X-Shopify-Shop-Domain`, `X-Shopify-API-Version`, `X-Shopify-Name`;
 * - `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body keyed with the app's client secret;
 * - `X-Shopify-Event-Id`: the merchant action (the same across the subscriptions it reaches);
 * - `X-Shopify-Webhook-Id`: one delivery — it stays the same on every retry and duplicate, which is
 *   what receivers de-duplicate on;
 * - `X-Shopify-Triggered-At`: when the action happened; retries keep it and the original body
 *   ("delivered with the original payload from the time they were triggered",
 *   shopify.dev/changelog/updates-to-webhook-retry-mechanism).
 *
 * Delivery (at least once, retries on any non-2xx, duplicates/reordering/drops/delays as faults) is
 * the shared {@link WebhookDispatcher}'s job. Shopify retries 8 times over 4 hours with exponential
 * backoff; {@link SHOPIFY_RETRY} is that schedule, and the sandbox default compresses it.
 */

/** Topics the sandbox emits, REST form. */
export const TOPICS = [
  'orders/create',
  'orders/updated',
  'orders/cancelled',
  'orders/paid',
  'orders/edited',
  'refunds/create',
  'returns/request',
  'returns/process',
  'inventory_levels/update',
  'inventory_items/update',
  'products/create',
  'products/update',
  'fulfillments/create',
  'fulfillment_orders/line_items_prepared_for_pickup',
] as const;

/** A REST topic (`orders/create`). */
export type Topic = (typeof TOPICS)[number];

/** `orders/create` → `ORDERS_CREATE` (the GraphQL `WebhookSubscriptionTopic`). */
export function topicEnum(topic: Topic): string {
  return topic.replace('/', '_').toUpperCase();
}

/** `ORDERS_CREATE` or `orders/create` → `orders/create`; undefined when unknown. */
export function parseTopic(value: string): Topic | undefined {
  const v = value.trim();
  return TOPICS.find((t) => t === v || topicEnum(t) === v.toUpperCase());
}

/**
 * Shopify's real schedule: 8 retries over 4 hours, exponential (56.5 s × 2^n, summing to 4 h).
 * Pass it as `webhookRetry` for a faithful (slow) run; the default compresses it to seconds.
 */
export const SHOPIFY_RETRY: RetryPolicy = {
  maxAttempts: 9,
  initialBackoffMs: 56_471,
  factor: 2,
  maxBackoffMs: 4 * 3_600_000,
  timeoutMs: 5_000,
};

/** The compressed default: same 9 attempts, 250 ms doubling, capped at 5 s. */
export const COMPRESSED_RETRY: RetryPolicy = {
  maxAttempts: 9,
  initialBackoffMs: 250,
  factor: 2,
  maxBackoffMs: 5_000,
  timeoutMs: 5_000,
};

/** Signs a raw body as Shopify does: base64(HMAC-SHA256(body, client secret)). */
export function signBody(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body, 'utf8').digest('base64');
}

/** One emitted event, kept for the state endpoint (what reconciliation tests compare against). */
export interface EmittedEvent {
  eventId: string;
  topic: Topic;
  triggeredAt: string;
  /** The resource's GID-less id (order id, `item@location` for inventory levels, …). */
  resourceId: string;
  webhookIds: string[];
  /** Delivery states at the time of emission (`dropped` is final). */
  deliveries: Array<Pick<DeliveryRecord, 'seq' | 'state' | 'copy'> & { webhookId: string }>;
}

/** Settings of the emitter. */
export interface EmitterOptions {
  shopDomain: string;
  apiVersion: string;
  appSecret: () => string;
  /** Seeded stream for webhook and event ids (reset with the sandbox). */
  rng: () => Rng;
  /** Keep at most this many events in the log. @default 10000 */
  logLimit?: number;
  /** The wall clock deliveries are sent by. @default Date.now */
  wallClock?: () => number;
}

/** Builds, signs and queues webhook deliveries for the store's subscriptions. */
export class WebhookEmitter {
  private log: EmittedEvent[] = [];
  private byTopic = new Map<string, number>();

  constructor(
    private readonly subscriptions: () => readonly WebhookSubscriptionRecord[],
    private readonly dispatcher: WebhookDispatcher,
    private readonly options: EmitterOptions,
  ) {}

  /**
   * Emits one event for `topic`: renders the body once (retries and duplicates reuse it), signs it
   * per subscription and queues one delivery per matching subscription. An event with no subscriber
   * is still logged (with no deliveries), as Shopify still records the action.
   */
  emit(topic: Topic, body: Record<string, unknown>, triggeredAtMs: number, resourceId: string): EmittedEvent {
    const rng = this.options.rng();
    const eventId = rng.uuid();
    // A scenario compresses simulated time: its later actions carry times ahead of the wall clock.
    // Shopify's X-Shopify-Triggered-At is when the action happened, never later than its delivery (the
    // hub refuses deliveries from the future), so a simulated time ahead of now is sent as now.
    const triggeredAt = new Date(
      Math.min(triggeredAtMs, (this.options.wallClock ?? Date.now)()),
    ).toISOString();
    const subs = this.subscriptions().filter((s) => s.topic === topicEnum(topic));
    const event: EmittedEvent = { eventId, topic, triggeredAt, resourceId, webhookIds: [], deliveries: [] };
    for (const sub of subs) {
      const webhookId = rng.uuid();
      const text = JSON.stringify(filterFields(body, sub));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': 'Shopify-Captain-Hook',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signBody(text, this.options.appSecret()),
        'x-shopify-shop-domain': this.options.shopDomain,
        'x-shopify-api-version': this.options.apiVersion,
        'x-shopify-webhook-id': webhookId,
        'x-shopify-event-id': eventId,
        'x-shopify-triggered-at': triggeredAt,
      };
      if (sub.name) headers['x-shopify-name'] = sub.name;
      const records = this.dispatcher.enqueue({ eventId, topic, url: sub.uri, headers, body: text });
      event.webhookIds.push(webhookId);
      for (const r of records) event.deliveries.push({ seq: r.seq, state: r.state, copy: r.copy, webhookId });
    }
    this.byTopic.set(topic, (this.byTopic.get(topic) ?? 0) + 1);
    this.log.push(event);
    const limit = this.options.logLimit ?? 10_000;
    if (this.log.length > limit) this.log.splice(0, this.log.length - limit);
    return event;
  }

  /** Events emitted, oldest first. */
  events(): readonly EmittedEvent[] {
    return this.log;
  }

  /** Events emitted per topic. */
  counts(): Record<string, number> {
    return Object.fromEntries(this.byTopic);
  }

  /** Forgets the log and counts. */
  reset(): void {
    this.log = [];
    this.byTopic.clear();
  }
}

/** Applies a subscription's `includeFields` (top-level keys only, as Shopify documents). */
function filterFields(
  body: Record<string, unknown>,
  sub: WebhookSubscriptionRecord,
): Record<string, unknown> {
  if (sub.includeFields.length === 0) return body;
  const out: Record<string, unknown> = {};
  for (const k of sub.includeFields) if (k in body) out[k] = body[k];
  return out;
}

/** A subscription as the control API and GraphQL render it. */
export function subscriptionJson(
  sub: WebhookSubscriptionRecord,
  apiVersion: string,
): Record<string, unknown> {
  return {
    id: `gid://shopify/WebhookSubscription/${sub.id}`,
    topic: sub.topic,
    uri: sub.uri,
    name: sub.name,
    format: sub.format,
    includeFields: sub.includeFields,
    filter: sub.filter,
    apiVersion,
    createdAt: gqlTime(sub.createdAt),
    updatedAt: gqlTime(sub.updatedAt),
  };
}
