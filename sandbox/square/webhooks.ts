import type { Rng } from '../core/rng.ts';
import type { WebhookDispatcher } from '../core/webhooks.ts';
import { type InventoryCount, SQUARE_VERSION, type SquareEvent } from './model.ts';
import { SQUARE_SIGNATURE_HEADER, squareSignature } from './signature.ts';
import { type SquareStore, squareId } from './store.ts';

/**
 * Square webhook emission: every event is recorded in the store (the state endpoint and
 * `_control/events` serve it) and queued once per enabled subscription to its type, as a POST of
 * `{merchant_id, type, event_id, created_at, data}` with Square's headers and
 * `x-square-hmacsha256-signature` = base64(HMAC-SHA256(signature key, notification URL + body)).
 * Delivery (at least once, retries, injected faults) is the shared {@link WebhookDispatcher}'s job.
 */

/**
 * Event types the sandbox emits, by order origin as Square publishes them: a sale rung up at the register
 * publishes `payment.*` (and `refund.*`, `inventory.count.updated`) but no order event ("Creating an order
 * in the Point of Sale app will not publish this event": Square's `order.created` reference; Square staff,
 * developer.squareup.com/forums/t/webhook-notification/4287); an order made through the Orders API also
 * publishes `order.created`, `order.updated` and `order.fulfillment.updated`.
 */
export const SQUARE_EVENT_TYPES = [
  'order.created',
  'order.updated',
  'order.fulfillment.updated',
  'payment.created',
  'payment.updated',
  'refund.created',
  'refund.updated',
  'inventory.count.updated',
] as const;

/** A webhook subscription (Square Webhook Subscriptions API shape). */
export interface SquareSubscription {
  id: string;
  name: string;
  enabled: boolean;
  event_types: string[];
  notification_url: string;
  api_version: string;
  signature_key: string;
  created_at: string;
  updated_at: string;
}

/** A subscription present at start (the local cloud points one at the hub). */
export interface InitialSubscription {
  url: string;
  signatureKey?: string;
  eventTypes?: string[];
}

/** Settings of the emitter. */
export interface SquareEmitterOptions {
  /** Sandbox seed: the default signature keys derive from it, so a restart keeps them. */
  seed: number;
  clock: () => number;
  /** Subscriptions present at start, named `omnihub-1`, `omnihub-2`, … */
  initial: readonly InitialSubscription[];
}

/** The merchant's subscriptions, and signed deliveries of its events to them. */
export class SquareWebhookEmitter {
  subscriptions: SquareSubscription[];
  /** While true, events are recorded but their deliveries are lost (`dropWebhooks` of a scenario). */
  dropping = false;

  /** Draws the initial subscriptions' ids from `rng` (before anything else draws from it). */
  constructor(
    private readonly store: SquareStore,
    private readonly dispatcher: WebhookDispatcher,
    private readonly rng: Rng,
    private readonly options: SquareEmitterOptions,
  ) {
    this.subscriptions = options.initial.map((w, i) =>
      this.subscription(
        `omnihub-${i + 1}`,
        w.url,
        w.eventTypes ?? [...SQUARE_EVENT_TYPES],
        w.signatureKey ?? this.signatureKeyFor(i + 1),
      ),
    );
  }

  /** `POST /v2/webhooks/subscriptions`: a new subscription with a drawn signature key. */
  subscribe(input: {
    name?: string;
    url: string;
    eventTypes: string[];
    enabled?: boolean;
  }): SquareSubscription {
    const signatureKey = squareId(this.rng, 22, 'b62');
    const sub = this.subscription(input.name ?? 'subscription', input.url, input.eventTypes, signatureKey);
    sub.enabled = input.enabled ?? true;
    this.subscriptions.push(sub);
    return sub;
  }

  /**
   * `PUT /v2/webhooks/subscriptions/{id}` (UpdateWebhookSubscription): the given fields replace the
   * subscription's; its signature key stays (a new key is UpdateWebhookSubscriptionSignatureKey's).
   * Undefined when there is none with that id.
   */
  update(
    id: string,
    patch: { name?: string; url?: string; eventTypes?: string[]; enabled?: boolean },
    now: string,
  ): SquareSubscription | undefined {
    const sub = this.subscriptions.find((s) => s.id === id);
    if (!sub) return undefined;
    if (patch.name !== undefined) sub.name = patch.name;
    if (patch.url !== undefined) sub.notification_url = patch.url;
    if (patch.eventTypes !== undefined) sub.event_types = [...patch.eventTypes];
    if (patch.enabled !== undefined) sub.enabled = patch.enabled;
    sub.updated_at = now;
    return sub;
  }

  /** Removes a subscription; false when there is none with that id. */
  unsubscribe(id: string | undefined): boolean {
    const before = this.subscriptions.length;
    this.subscriptions = this.subscriptions.filter((s) => s.id !== id);
    return this.subscriptions.length !== before;
  }

  /** Records an event and queues one signed delivery per matching subscription. */
  emit(
    type: string,
    dataType: string,
    dataId: string,
    object: Record<string, unknown>,
    createdAt: string,
    rng: Rng = this.rng,
  ): SquareEvent {
    const event: SquareEvent = {
      merchant_id: this.store.merchantId,
      type,
      event_id: rng.uuid(),
      // A scenario compresses simulated time; Square signs when the event was created, never later
      // than its delivery (the hub refuses notifications from the future): a time ahead is sent as now.
      created_at: new Date(Math.min(Date.parse(createdAt), this.options.clock())).toISOString(),
      data: { type: dataType, id: dataId, object },
    };
    this.store.events.push(event);
    const body = JSON.stringify(event);
    for (const sub of this.subscriptions) {
      if (!sub.enabled || !sub.event_types.includes(type)) continue;
      this.dispatcher.enqueue({
        eventId: event.event_id,
        topic: type,
        url: sub.notification_url,
        body,
        ...(this.dropping ? { drop: true } : {}),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Square Connect v2',
          'square-version': SQUARE_VERSION,
          [SQUARE_SIGNATURE_HEADER]: squareSignature(sub.signature_key, sub.notification_url, body),
        },
      });
    }
    return event;
  }

  /** One `inventory.count.updated` carrying `counts`; nothing when no count changed. */
  emitCounts(counts: InventoryCount[], createdAt: string, rng: Rng): void {
    if (counts.length === 0) return;
    this.emit(
      'inventory.count.updated',
      'inventory_counts',
      rng.uuid(),
      { inventory_counts: counts },
      createdAt,
      rng,
    );
  }

  private signatureKeyFor(n: number): string {
    return Buffer.from(`omnihub-square-sandbox-${this.options.seed}-${n}`).toString('base64url').slice(0, 22);
  }

  private subscription(
    name: string,
    url: string,
    eventTypes: string[],
    signatureKey: string,
  ): SquareSubscription {
    const now = new Date(this.options.clock()).toISOString();
    return {
      id: `wbhk_${squareId(this.rng, 32, 'b62').toLowerCase()}`,
      name,
      enabled: true,
      event_types: eventTypes,
      notification_url: url,
      api_version: SQUARE_VERSION,
      signature_key: signatureKey,
      created_at: now,
      updated_at: now,
    };
  }
}
