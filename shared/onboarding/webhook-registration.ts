import { SHOPIFY_COMPLIANCE_TOPICS, SHOPIFY_TOPICS } from '../connectors/shopify/mappers.ts';
import { SQUARE_HANDLED_EVENT_TYPES } from '../ingress/pos-webhook.ts';

/**
 * Webhook registration as code: the subscriptions the hub needs at Shopify and Square, compared with
 * what each holds, as a plan (create what is missing, update what drifted, report extras) that
 * `npm run -s ops -- register-webhooks` applies — idempotent: a second run finds everything `ok`.
 *
 * The topics are the ingress's own: every Shopify topic the webhook mapper handles
 * (shared/connectors/shopify/mappers.ts), every Square event type the POS ingress handles
 * (shared/ingress/pos-webhook.ts) — one list, so a topic the ingress learns is subscribed by the next run.
 * Shopify's mandatory compliance topics (customers/data_request, customers/redact, shop/redact) cannot be
 * subscribed through the API; they are set in the app's configuration
 * (https://shopify.dev/docs/apps/build/privacy-law-compliance): listed as a manual step, never as missing.
 */

/** Topics the hub subscribes through the Admin API. */
export const SHOPIFY_SUBSCRIBED_TOPICS: readonly string[] = SHOPIFY_TOPICS.filter(
  (topic) => !SHOPIFY_COMPLIANCE_TOPICS.has(topic),
);
/** Topics only the app's configuration can subscribe (the manual step). */
export const SHOPIFY_MANUAL_TOPICS: readonly string[] = [...SHOPIFY_COMPLIANCE_TOPICS];
export const SQUARE_SUBSCRIBED_EVENT_TYPES: readonly string[] = SQUARE_HANDLED_EVENT_TYPES;

/** `orders/create` → `ORDERS_CREATE` (Admin GraphQL `WebhookSubscriptionTopic`). */
export const shopifyTopicEnum = (topic: string): string => topic.toUpperCase().replace(/\//g, '_');

/** The name the hub gives its Square subscription (Square names are free text, ≤ 64 characters). */
export const SQUARE_SUBSCRIPTION_NAME = 'omnihub';

export interface ShopifySubscription {
  readonly id: string;
  /** The GraphQL enum, e.g. `ORDERS_CREATE`. */
  readonly topic: string;
  readonly uri: string;
}

export interface SquareSubscription {
  readonly id: string;
  readonly name: string | null;
  readonly notificationUrl: string;
  readonly eventTypes: readonly string[];
  readonly enabled: boolean;
}

export type PlanStep =
  | {
      readonly system: 'shopify';
      readonly action: 'ok' | 'create';
      readonly topic: string;
      readonly uri: string;
    }
  | {
      readonly system: 'shopify';
      readonly action: 'update';
      readonly topic: string;
      readonly uri: string;
      readonly id: string;
      readonly from: string;
    }
  | {
      readonly system: 'shopify';
      readonly action: 'extra';
      readonly topic: string;
      readonly uri: string;
      readonly id: string;
    }
  | { readonly system: 'shopify'; readonly action: 'manual'; readonly topic: string; readonly uri: string }
  | {
      readonly system: 'square';
      readonly action: 'ok' | 'create';
      readonly uri: string;
      readonly eventTypes: readonly string[];
    }
  | {
      readonly system: 'square';
      readonly action: 'update';
      readonly uri: string;
      readonly eventTypes: readonly string[];
      readonly id: string;
      readonly from: string;
    }
  | {
      readonly system: 'square';
      readonly action: 'extra';
      readonly uri: string;
      readonly id: string;
      readonly eventTypes: readonly string[];
    };

/** Is this URI the hub's Shopify route (another environment or an old API URL of the same route)? */
const isHubRoute = (uri: string, route: string) => {
  try {
    return new URL(uri).pathname.replace(/\/+$/, '') === route;
  } catch {
    return false;
  }
};

export function planShopify(existing: readonly ShopifySubscription[], url: string): PlanStep[] {
  const steps: PlanStep[] = [];
  const used = new Set<string>();
  for (const topic of SHOPIFY_SUBSCRIBED_TOPICS) {
    const topicEnum = shopifyTopicEnum(topic);
    const exact = existing.find((s) => s.topic === topicEnum && s.uri === url);
    if (exact) {
      used.add(exact.id);
      steps.push({ system: 'shopify', action: 'ok', topic, uri: url });
      continue;
    }
    // One of ours pointing elsewhere (the API moved): moved in place, not duplicated.
    const moved = existing.find(
      (s) => s.topic === topicEnum && !used.has(s.id) && isHubRoute(s.uri, new URL(url).pathname),
    );
    if (moved) {
      used.add(moved.id);
      steps.push({ system: 'shopify', action: 'update', topic, uri: url, id: moved.id, from: moved.uri });
      continue;
    }
    steps.push({ system: 'shopify', action: 'create', topic, uri: url });
  }
  for (const s of existing)
    if (!used.has(s.id))
      steps.push({ system: 'shopify', action: 'extra', topic: s.topic, uri: s.uri, id: s.id });
  for (const topic of SHOPIFY_MANUAL_TOPICS)
    steps.push({ system: 'shopify', action: 'manual', topic, uri: url });
  return steps;
}

const sameSet = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && [...a].sort().every((value, index) => value === [...b].sort()[index]);

export function planSquare(existing: readonly SquareSubscription[], url: string): PlanStep[] {
  const eventTypes = SQUARE_SUBSCRIBED_EVENT_TYPES;
  const ours =
    existing.find((s) => s.notificationUrl === url) ??
    existing.find((s) => s.name === SQUARE_SUBSCRIPTION_NAME) ??
    existing.find((s) => isHubRoute(s.notificationUrl, new URL(url).pathname));
  const steps: PlanStep[] = [];
  if (!ours) steps.push({ system: 'square', action: 'create', uri: url, eventTypes });
  else if (ours.notificationUrl === url && ours.enabled && sameSet(ours.eventTypes, eventTypes))
    steps.push({ system: 'square', action: 'ok', uri: url, eventTypes });
  else
    steps.push({
      system: 'square',
      action: 'update',
      uri: url,
      eventTypes,
      id: ours.id,
      from: `${ours.notificationUrl} [${ours.eventTypes.join(', ')}]${ours.enabled ? '' : ' (disabled)'}`,
    });
  for (const s of existing)
    if (s !== ours)
      steps.push({
        system: 'square',
        action: 'extra',
        uri: s.notificationUrl,
        id: s.id,
        eventTypes: s.eventTypes,
      });
  return steps;
}

/** What the plan is applied with: the vendors' subscription APIs and the signature-key secret. */
export interface RegistrationPorts {
  readonly shopify: {
    list(): Promise<ShopifySubscription[]>;
    create(topicEnum: string, uri: string): Promise<void>;
    update(id: string, uri: string): Promise<void>;
  };
  readonly square: {
    list(): Promise<SquareSubscription[]>;
    /** Creates it; answers the new subscription's signature key. */
    create(name: string, uri: string, eventTypes: readonly string[]): Promise<{ signatureKey: string }>;
    update(id: string, patch: { uri: string; eventTypes: readonly string[] }): Promise<void>;
  };
  /**
   * Stores a new Square signature key as `current`, keeping the one it replaces as `previous` until
   * `previousUntil` (the POS ingress verifies with both meanwhile: shared/runtime/secrets.ts).
   */
  readonly storeSquareSignatureKey: (key: string) => Promise<void>;
}

export interface RegistrationResult {
  readonly steps: PlanStep[];
  /** Subscriptions created or updated (0 on a dry run or when nothing drifted). */
  readonly changed: number;
}

export async function registerWebhooks(
  ports: RegistrationPorts,
  urls: { readonly shopify: string; readonly square: string },
  options: { readonly dryRun: boolean },
): Promise<RegistrationResult> {
  const steps = [
    ...planShopify(await ports.shopify.list(), urls.shopify),
    ...planSquare(await ports.square.list(), urls.square),
  ];
  let changed = 0;
  if (options.dryRun) return { steps, changed };
  for (const step of steps) {
    if (step.system === 'shopify') {
      if (step.action === 'create') await ports.shopify.create(shopifyTopicEnum(step.topic), step.uri);
      else if (step.action === 'update') await ports.shopify.update(step.id, step.uri);
      else continue;
    } else {
      if (step.action === 'create') {
        const { signatureKey } = await ports.square.create(
          SQUARE_SUBSCRIPTION_NAME,
          step.uri,
          step.eventTypes,
        );
        // Stored at once: a delivery signed with it that arrives first is refused (401) and retried by
        // Square, and the ingress re-reads the secret after a failed check, so the retry verifies.
        await ports.storeSquareSignatureKey(signatureKey);
      } else if (step.action === 'update') {
        await ports.square.update(step.id, { uri: step.uri, eventTypes: step.eventTypes });
      } else continue;
    }
    changed += 1;
  }
  return { steps, changed };
}
