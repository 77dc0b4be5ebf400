import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
} from '@aws-sdk/client-eventbridge';
import { PublishError } from '../errors.ts';
import type { CanonicalEvent } from '../events/catalog.ts';

/** Publishes canonical events; resolves only when every event was accepted. */
export interface EventPublisher {
  publish(events: readonly CanonicalEvent[]): Promise<void>;
}

/** PutEvents accepts at most 10 entries per call. */
const MAX_ENTRIES = 10;

/**
 * EventBridge publisher. A partial failure (FailedEntryCount > 0) throws {@link PublishError}, so the
 * caller answers 5xx and the source retries; event ids are deterministic, so a retry republishes the
 * same ids and idempotent consumers ignore the copies.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async publish(events: readonly CanonicalEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += MAX_ENTRIES) {
      const entries: PutEventsRequestEntry[] = events.slice(start, start + MAX_ENTRIES).map((event) => ({
        EventBusName: this.eventBusName,
        Source: event.source,
        DetailType: event.detailType,
        Detail: JSON.stringify(event.detail),
      }));
      const result = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if ((result.FailedEntryCount ?? 0) > 0) {
        const failures = (result.Entries ?? [])
          .filter((entry) => entry.ErrorCode)
          .map((entry) => ({ errorCode: entry.ErrorCode, errorMessage: entry.ErrorMessage }));
        throw new PublishError(
          `${result.FailedEntryCount} of ${entries.length} events were not accepted`,
          failures,
        );
      }
    }
  }
}
