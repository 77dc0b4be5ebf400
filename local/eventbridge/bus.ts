/**
 * The local EventBridge: the buses, rules and schedules of the synthesized template, run on one machine.
 *
 * `PutEvents` answers as EventBridge does (per-entry errors, request limits), every accepted event is kept in
 * the local archive, rules are matched with the same matcher `TestEventPattern` uses, and targets — SQS, Lambda,
 * Step Functions, another bus — are delivered in the background with the target's input settings, retry policy
 * and dead-letter queue. Scheduled rules and `AWS::Scheduler::Schedule`s fire from local timers.
 *
 * This file only composes the parts, each in its own module:
 * - `registry.ts`: buses, rules and their compiled targets, Scheduler schedules, loaded from the template;
 * - `rules-api.ts`: the `AWSEvents` JSON-protocol operations (PutRule, PutTargets, TestEventPattern, …);
 * - `put-events.ts`: PutEvents request and entry validation, the event envelope;
 * - `delivery.ts`: matching an event to rule targets, delivery, retries with back-off, dead-letter queues;
 * - `schedule-timers.ts`: the timers of scheduled rules and Scheduler schedules;
 * - `archive.ts`: the bus journal and the template's archives (views of it);
 * - `replay.ts`: StartReplay and the replays' lifecycle.
 *
 * Reference: the Amazon EventBridge API Reference (`PutEvents`, `PutEventsResultEntry`, `TestEventPattern`,
 * `PutRule`, `PutTargets`, `ListRules`, `DescribeRule`) and User Guide pages cited where each behaviour is
 * implemented (in the modules above, `targets.ts`, `input-transformer.ts` and `schedule.ts`).
 */
import type { Chaos } from '../chaos.ts';
import type { LocalTemplate } from '../template.ts';
import type { LocalRuntime, PutEventsEntry, PutEventsResult } from '../types.ts';
import { type ArchiveFilter, EventArchive } from './archive.ts';
import { type EventBridgeCounters, zeroCounters } from './counters.ts';
import { type Delivery, DeliveryEngine } from './delivery.ts';
import type { EventBridgeEvent } from './event.ts';
import { putEvents } from './put-events.ts';
import { RuleRegistry, type SchedulerSchedule } from './registry.ts';
import { type ReplayRecord, Replays } from './replay.ts';
import { RulesApi } from './rules-api.ts';
import { ScheduleTimers } from './schedule-timers.ts';

export type { ArchivedEvent, ArchiveFilter } from './archive.ts';
export type { EventBridgeCounters } from './counters.ts';
export type { EventBridgeEvent } from './event.ts';
export { entrySize, MAX_PUT_EVENTS_BYTES } from './put-events.ts';

/** A delivery that had not ended when the local state was saved: everything needed to go on with it. */
export type PersistedDelivery = Omit<Delivery, 'target'> & {
  readonly target: Pick<
    Delivery['target'],
    'arn' | 'kind' | 'messageGroupId' | 'maximumRetryAttempts' | 'maximumEventAgeSeconds' | 'deadLetterArn'
  >;
};

/** Options of the local bus; all have production defaults. */
export interface LocalEventBridgeOptions {
  /** JSON-lines file the archive is appended to and reloaded from (under `.local/`). */
  readonly archiveFile?: string;
  /** The clock for event times, event age and schedules (tests pin it). */
  readonly now?: () => Date;
  /** Scale of the retry back-off: the first retry waits about this long, doubling up to 64×. Default 1000. */
  readonly retryBaseDelayMs?: number;
  /** Duplicated and reordered target deliveries, failed PutEvents entries (see `local/chaos.ts`). */
  readonly chaos?: Chaos;
}

/**
 * The local EventBridge service. Construct it with the resolved template and the runtime, register
 * `handle` on the AwsJsonRouter under `AWSEvents`, wire `runtime.putEvents` to `putEvents`, and call
 * `start()` to arm the schedules.
 */
export class LocalEventBridge {
  private readonly template: LocalTemplate;
  private readonly now: () => Date;
  private readonly archive: EventArchive;
  private readonly registry: RuleRegistry;
  private readonly delivery: DeliveryEngine;
  private readonly timers: ScheduleTimers;
  private readonly api: RulesApi;
  private readonly replays: Replays;
  private readonly counts = zeroCounters();
  private readonly chaos: Chaos | undefined;
  private scheduleListener: { completed(schedule: SchedulerSchedule): void } | undefined;

  /**
   * Loads buses, rules and schedules from the template and reloads the archive file.
   *
   * @throws Error naming the resource's logical id when a rule or schedule could not deploy: an invalid
   *   event pattern or schedule expression, neither of the two, a schedule on a custom bus, an invalid target,
   *   more than five targets.
   */
  constructor(template: LocalTemplate, runtime: LocalRuntime, options: LocalEventBridgeOptions = {}) {
    this.template = template;
    const now = options.now ?? (() => new Date());
    this.now = now;
    this.archive = new EventArchive(options.archiveFile, runtime.log);
    this.registry = new RuleRegistry(template, runtime.log);
    const counts = this.counts;
    this.delivery = new DeliveryEngine({
      runtime,
      registry: this.registry,
      archive: this.archive,
      counts,
      now,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 1000,
      chaos: options.chaos,
    });
    this.chaos = options.chaos;
    this.timers = new ScheduleTimers({
      template,
      registry: this.registry,
      delivery: this.delivery,
      counts,
      now,
      scheduleCompleted: (schedule) => {
        if (schedule.actionAfterCompletion === 'DELETE') this.scheduleListener?.completed(schedule);
      },
    });
    this.replays = new Replays({
      region: template.region,
      accountId: template.accountId,
      registry: this.registry,
      journal: this.archive,
      delivery: this.delivery,
      log: runtime.log,
      now,
    });
    const [first] = this.archive.list();
    this.api = new RulesApi(this.registry, {
      accountId: template.accountId,
      putEvents: (entries) => this.putEvents(entries),
      ruleChanged: (rule) => this.timers.armRule(rule),
      ruleDeleted: (rule) => this.timers.disarmRule(rule),
      journal: this.archive,
      replays: this.replays,
      // The buses and archives exist locally since the journal's first event (or since now).
      createdAt: first ? new Date(first.ingestionTime) : now(),
      now,
    });
  }

  /**
   * The AWS JSON-protocol handler for the `AWSEvents` target prefix: PutEvents, TestEventPattern, ListRules,
   * DescribeRule, ListTargetsByRule, PutRule, PutTargets, RemoveTargets, DeleteRule, EnableRule, DisableRule,
   * ListEventBuses, DescribeEventBus, ListArchives, DescribeArchive, StartReplay, DescribeReplay, ListReplays,
   * CancelReplay.
   *
   * @throws AwsServiceError with EventBridge's error type for invalid requests and unknown operations.
   */
  handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    return this.api.handle(operation, input);
  }

  /**
   * PutEvents with EventBridge's semantics: 1–10 entries and at most 1 MiB in total, else a
   * ValidationException for the whole request; otherwise one result per entry, in order — an `EventId` for
   * each accepted entry, `ErrorCode`/`ErrorMessage` for each rejected one. Answers once the events are
   * archived and matched; target deliveries continue in the background (see `idle()`).
   *
   * @throws AwsServiceError ValidationException for too many, too few or too large entries.
   */
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult {
    return putEvents(entries, {
      accountId: this.template.accountId,
      region: this.template.region,
      counts: this.counts,
      now: this.now,
      hasBus: (name) => this.registry.hasBus(name),
      chaos: this.chaos,
      ingest: (busName, event) => this.delivery.ingest(busName, event, 0),
    });
  }

  /** The archive, oldest first, optionally narrowed by detail-type, source and/or bus. */
  events(filter: ArchiveFilter = {}): EventBridgeEvent[] {
    return this.archive.list(filter).map((record) => record.event);
  }

  /** Resolves once no replay is running and no delivery is pending or waiting to retry. */
  async idle(): Promise<void> {
    await this.replays.idle();
    await this.delivery.idle();
  }

  /** Every replay, for the local state. */
  replaySnapshot(): ReplayRecord[] {
    return this.replays.snapshot();
  }

  /** Replays of an earlier run (those still active then are FAILED). */
  restoreReplays(saved: readonly ReplayRecord[]): void {
    this.replays.restore(saved);
  }

  /**
   * Target deliveries that have not ended — held back by chaos, being attempted, waiting for a retry, or
   * abandoned by `stop()` — with their retries so far: the local state's snapshot of the bus's retry queue. An
   * event PutEvents accepted is in the archive and, until each of its deliveries ended, here.
   */
  unfinishedDeliveries(): PersistedDelivery[] {
    return this.delivery.unfinishedDeliveries().map(({ delivery, retries }) => ({
      ...delivery,
      target: {
        arn: delivery.target.arn,
        kind: delivery.target.kind,
        messageGroupId: delivery.target.messageGroupId,
        maximumRetryAttempts: delivery.target.maximumRetryAttempts,
        maximumEventAgeSeconds: delivery.target.maximumEventAgeSeconds,
        deadLetterArn: delivery.target.deadLetterArn,
      },
      retries,
    }));
  }

  /**
   * Goes on with deliveries saved by a previous run: each is attempted again now, keeping its retry count and
   * its ingestion time, so `MaximumRetryAttempts` and `MaximumEventAgeInSeconds` still bound it.
   */
  resumeDeliveries(deliveries: readonly PersistedDelivery[]): void {
    for (const delivery of deliveries) this.delivery.spawn(delivery);
  }

  /** Arms the timers of every enabled scheduled rule and schedule. Idempotent. */
  start(): void {
    this.timers.start();
  }

  /**
   * Clears the schedule timers and abandons deliveries waiting for a retry or held back by chaos (logged; they
   * stay in {@link unfinishedDeliveries} for the final snapshot), so shutdown is prompt. Deliveries already calling
   * a target finish.
   */
  stop(): void {
    this.timers.stop();
    this.delivery.abandonRetries();
  }

  /**
   * Fires a scheduled rule (by rule name, on the default bus) or an `AWS::Scheduler::Schedule` (by name) now,
   * as its timer would. Returns the number of target deliveries started (0 for a disabled one).
   *
   * @throws Error when no scheduled rule or schedule has that name.
   */
  fireSchedule(name: string): number {
    return this.timers.fireSchedule(name);
  }

  /**
   * Adds, replaces or removes a schedule made through the Scheduler API (local/scheduler): its timer is
   * (re-)armed or cleared at once.
   */
  putSchedule(key: string, schedule: SchedulerSchedule): void {
    const previous = this.registry.schedule(key);
    if (previous) this.timers.disarmSchedule(previous);
    this.registry.putSchedule(key, schedule);
    this.timers.armSchedule(schedule);
  }

  removeSchedule(key: string): void {
    const previous = this.registry.schedule(key);
    if (previous) this.timers.disarmSchedule(previous);
    this.registry.removeSchedule(key);
  }

  /** Told when a Scheduler API schedule with `ActionAfterCompletion: DELETE` completed (the API deletes it). */
  onScheduleCompleted(listener: { completed(schedule: SchedulerSchedule): void }): void {
    this.scheduleListener = listener;
  }

  /**
   * When each enabled scheduled rule and schedule fires next (after now), by name: for `/_local` status
   * pages and for tests. Rates count from `start()` (or now, before it).
   */
  nextFires(): Record<string, string | undefined> {
    return this.timers.nextFires();
  }

  /** A snapshot of the counters. */
  get counters(): EventBridgeCounters {
    return { ...this.counts };
  }

  /** Rule names per bus, for diagnostics (`{ default: ['a', 'b'], orders: ['c'] }`). */
  ruleNames(): Record<string, string[]> {
    return this.registry.ruleNames();
  }
}
