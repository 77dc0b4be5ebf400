/**
 * Chaos for the local cloud: what AWS's delivery guarantees allow and a happy-path emulator never does.
 *
 * - SQS standard queues deliver "at least once" and "occasionally more than one copy of a message is delivered";
 *   ordering is "best-effort" (Amazon SQS Developer Guide, "Amazon SQS standard queues").
 * - EventBridge delivers to targets at least once: "in some cases, an event might be delivered to a target more
 *   than once", and does not guarantee order (EventBridge User Guide, "Event retry policy" and "Targets").
 * - PutEvents may answer an entry with the retryable `InternalFailure` or `ThrottlingException` (API Reference,
 *   `PutEventsResultEntry`), counted in `FailedEntryCount`.
 *
 * Off unless asked for: `npm start -- --chaos` uses `DEFAULT_CHAOS`; tests pass `chaos` to `startLocalCloud`.
 */

export interface ChaosOptions {
  /** Share of SQS receives and EventBridge target deliveries that are delivered twice (0..1). */
  readonly duplicateRate?: number;
  /** Share of SQS messages and EventBridge deliveries that are held back so later ones overtake them (0..1). */
  readonly reorderRate?: number;
  /** Share of PutEvents entries answered with InternalFailure or ThrottlingException (0..1). */
  readonly putEventsFailureRate?: number;
  /** Seed of the random source, to replay a run. @default random */
  readonly seed?: number;
}

/** `npm start -- --chaos`: 2 % duplicates, 5 % reordering, 1 % PutEvents entry failures. */
export const DEFAULT_CHAOS: Required<Omit<ChaosOptions, 'seed'>> = {
  duplicateRate: 0.02,
  reorderRate: 0.05,
  putEventsFailureRate: 0.01,
};

/** What chaos has done since the start (`GET /_local/chaos`). */
export interface ChaosCounters {
  sqsDuplicates: number;
  sqsReorders: number;
  eventDuplicates: number;
  eventReorders: number;
  putEventsFailures: number;
}

/** A seeded source of the chaos decisions, shared by the services of one local cloud. */
export class Chaos {
  readonly duplicateRate: number;
  readonly reorderRate: number;
  readonly putEventsFailureRate: number;
  readonly seed: number;
  readonly counters: ChaosCounters = {
    sqsDuplicates: 0,
    sqsReorders: 0,
    eventDuplicates: 0,
    eventReorders: 0,
    putEventsFailures: 0,
  };
  private state: number;

  constructor(options: ChaosOptions = DEFAULT_CHAOS) {
    for (const [name, value] of Object.entries(options)) {
      if (name !== 'seed' && (typeof value !== 'number' || value < 0 || value > 1))
        throw new Error(`chaos ${name} must be a rate between 0 and 1, got ${String(value)}`);
    }
    this.duplicateRate = options.duplicateRate ?? 0;
    this.reorderRate = options.reorderRate ?? 0;
    this.putEventsFailureRate = options.putEventsFailureRate ?? 0;
    this.seed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
    this.state = this.seed >>> 0;
  }

  /** A number in [0, 1) (mulberry32). */
  random(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** True with probability `rate`. */
  chance(rate: number): boolean {
    return rate > 0 && this.random() < rate;
  }

  /** An integer in [min, max]. */
  between(min: number, max: number): number {
    return min + Math.floor(this.random() * (max - min + 1));
  }
}
