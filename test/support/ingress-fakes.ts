import type { EventPublisher } from '#shared/bus/publisher.ts';
import { PublishError } from '#shared/errors.ts';
import type { CanonicalEvent } from '#shared/events/catalog.ts';
import type { PosWebhookDeps } from '#shared/ingress/pos-webhook.ts';
import type { ShopifyWebhookDeps } from '#shared/ingress/shopify-webhook.ts';
import {
  DeliveryConflictError,
  type DeliveryDeduplicator,
  type DeliveryOutcome,
  type WebhookSecrets,
} from '#shared/ingress/webhook.ts';
import type { ExceptionStore, ParkedInput } from '#shared/repositories/exceptions.ts';
import { FakeSquare, MemoryPosOrderRegistry } from './square.ts';

/**
 * Records published events; can be told to reject the next N calls as EventBridge would. Inventory
 * events (the stock movements and counts a sale, refund or count publishes with it) are recorded in
 * `stock`, apart from the order and refund events in `published`.
 */
export class RecordingPublisher implements EventPublisher {
  readonly published: CanonicalEvent[] = [];
  readonly stock: CanonicalEvent[] = [];
  failNext = 0;

  async publish(events: readonly CanonicalEvent[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext -= 1;
      throw new PublishError('1 of 1 events were not accepted', [{ errorCode: 'InternalFailure' }]);
    }
    for (const event of events)
      (event.detailType.startsWith('Inventory') ? this.stock : this.published).push(event);
  }
}

export class RecordingExceptions implements ExceptionStore {
  readonly parked: ParkedInput[] = [];
  async park(input: ParkedInput) {
    this.parked.push(input);
    return { exceptionId: `${input.kind}/${input.at}#${input.inputId}` };
  }
}

/** Same contract as the Powertools-backed deduplicator: store on success, forget on failure. */
export function memoryDeduplicator(): DeliveryDeduplicator {
  const done = new Map<string, { bodyHash: string; outcome: DeliveryOutcome }>();
  return async (delivery, work) => {
    const previous = done.get(delivery.key);
    if (previous) {
      if (previous.bodyHash !== delivery.bodyHash) throw new DeliveryConflictError('body differs');
      return { ...previous.outcome, duplicate: true };
    }
    const outcome = await work();
    done.set(delivery.key, { bodyHash: delivery.bodyHash, outcome });
    return outcome;
  };
}

export function staticSecrets(
  current: string[],
  afterRefresh?: string[],
): WebhookSecrets & { refreshes: number } {
  const state = { refreshes: 0 };
  return Object.assign(state, {
    candidates: async () => current,
    refresh: async () => {
      state.refreshes += 1;
      return afterRefresh;
    },
  });
}

export function ingressDeps(overrides: Partial<ShopifyWebhookDeps> = {}) {
  const publisher = new RecordingPublisher();
  const exceptions = new RecordingExceptions();
  const counts = new Map<string, number>();
  const deps: ShopifyWebhookDeps = {
    shops: new Map([['acme.myshopify.com', { currency: 'USD' }]]),
    secrets: staticSecrets(['s3cret']),
    publisher,
    exceptions,
    deduplicate: memoryDeduplicator(),
    telemetry: { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    maxBodyBytes: 1024 * 1024,
    now: () => new Date('2026-11-27T12:00:00.000Z'),
    ...overrides,
  };
  return { deps, publisher, exceptions, counts };
}

/** POS ingress dependencies with fakes: a Square holding no orders yet, the local signature key. */
export function posIngressDeps(overrides: Partial<PosWebhookDeps> = {}) {
  const publisher = new RecordingPublisher();
  const exceptions = new RecordingExceptions();
  const square = new FakeSquare();
  const registry = new MemoryPosOrderRegistry();
  const counts = new Map<string, number>();
  const deps: PosWebhookDeps = {
    signatureKeys: staticSecrets(['square-signature-key']),
    square,
    registry,
    publisher,
    exceptions,
    deduplicate: memoryDeduplicator(),
    telemetry: { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    maxBodyBytes: 1024 * 1024,
    now: () => new Date('2026-11-27T12:00:00.000Z'),
    ...overrides,
  };
  return { deps, publisher, exceptions, square, registry, counts };
}
