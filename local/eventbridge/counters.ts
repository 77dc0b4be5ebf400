/** What the bus has done since it started: the local stand-in for EventBridge's CloudWatch metrics. */
export interface EventBridgeCounters {
  /** Entries accepted by PutEvents (and events forwarded from another bus). */
  readonly eventsPut: number;
  /** Entries PutEvents rejected with an ErrorCode. */
  readonly entriesFailed: number;
  /** Rule matches (`MatchedEvents`). */
  readonly matchedRules: number;
  /** Target deliveries started, from rules and schedules (`Invocations`). */
  readonly deliveries: number;
  /** Deliveries the target accepted. */
  readonly delivered: number;
  /** Retries after a failed attempt. */
  readonly retries: number;
  /** Deliveries that ended in the target's dead-letter queue (`InvocationsSentToDLQ`). */
  readonly deadLettered: number;
  /** Dead-letter sends that failed themselves (`InvocationsFailedToBeSentToDLQ`); those events are lost. */
  readonly deadLetterFailed: number;
  /** Deliveries that failed for good with no dead-letter queue (`FailedInvocations` without a DLQ). */
  readonly dropped: number;
  /** Deliveries skipped because the local cloud cannot reach that kind of target (SNS, Kinesis, …). */
  readonly unsupportedTargets: number;
  /** Scheduled rules and schedules fired (`TriggeredRules` for schedules). */
  readonly scheduledFires: number;
}

/** The one set of counters the bus, its delivery engine and its timers all add to. */
export type MutableCounters = { -readonly [K in keyof EventBridgeCounters]: number };

/** All counters at zero. */
export function zeroCounters(): MutableCounters {
  return {
    eventsPut: 0,
    entriesFailed: 0,
    matchedRules: 0,
    deliveries: 0,
    delivered: 0,
    retries: 0,
    deadLettered: 0,
    deadLetterFailed: 0,
    dropped: 0,
    unsupportedTargets: 0,
    scheduledFires: 0,
  };
}
