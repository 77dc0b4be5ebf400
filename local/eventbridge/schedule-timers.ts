/**
 * The timers of the local EventBridge: scheduled rules (`rate(...)`, `cron(...)` on the default bus) and
 * `AWS::Scheduler::Schedule`s fire from local timers, build the event EventBridge would send, and hand it to
 * the delivery engine. Expressions are parsed and evaluated in `schedule.ts`.
 */
import type { LocalTemplate } from '../template.ts';
import type { MutableCounters } from './counters.ts';
import type { DeliveryEngine } from './delivery.ts';
import { type EventBridgeEvent, eventTime } from './event.ts';
import type { InputContext } from './input-transformer.ts';
import { DEFAULT_BUS, type Rule, type RuleRegistry, type SchedulerSchedule } from './registry.ts';
import { nextFireTime } from './schedule.ts';

/** setTimeout's ceiling; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** What the timers are built from; the counters are shared with the rest of the bus. */
export interface ScheduleTimersOptions {
  readonly template: LocalTemplate;
  readonly registry: RuleRegistry;
  readonly delivery: DeliveryEngine;
  readonly counts: MutableCounters;
  readonly now: () => Date;
  /** Called once a schedule has invoked its target for the last time (a one-time `at()` schedule fired). */
  readonly scheduleCompleted?: (schedule: SchedulerSchedule) => void;
}

/** Arms, fires and disarms the timers of scheduled rules and Scheduler schedules. */
export class ScheduleTimers {
  private readonly template: LocalTemplate;
  private readonly registry: RuleRegistry;
  private readonly delivery: DeliveryEngine;
  private readonly counts: MutableCounters;
  private readonly now: () => Date;
  private readonly scheduleCompleted: ((schedule: SchedulerSchedule) => void) | undefined;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private running = false;
  private startedAt: Date | undefined;

  constructor(options: ScheduleTimersOptions) {
    this.template = options.template;
    this.registry = options.registry;
    this.delivery = options.delivery;
    this.counts = options.counts;
    this.now = options.now;
    this.scheduleCompleted = options.scheduleCompleted;
  }

  /** Arms the timers of every enabled scheduled rule and schedule. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now();
    for (const rule of this.registry.allRules()) this.armRule(rule);
    for (const schedule of this.registry.allSchedules()) this.armSchedule(schedule);
  }

  /** Clears every timer; nothing fires until `start()`. */
  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /**
   * (Re-)arms a rule's timer after it was created or changed: a scheduled, enabled rule fires on its
   * schedule from now on; any other rule has no timer.
   */
  armRule(rule: Rule): void {
    const key = ruleKey(rule);
    this.disarm(key);
    if (!this.running || !rule.schedule || rule.state === 'DISABLED') return;
    const expression = rule.schedule;
    const anchor = this.now();
    const arm = (after: Date) => {
      const next = nextFireTime(expression, after, anchor);
      if (next)
        this.armAt(key, next, () => {
          this.fireRule(rule, next);
          arm(next);
        });
    };
    arm(anchor);
  }

  /** Clears a deleted rule's timer. */
  disarmRule(rule: Rule): void {
    this.disarm(ruleKey(rule));
  }

  /**
   * Fires a scheduled rule (by rule name, on the default bus) or an `AWS::Scheduler::Schedule` (by name) now,
   * as its timer would. Returns the number of target deliveries started (0 for a disabled one).
   *
   * @throws Error when no scheduled rule or schedule has that name.
   */
  fireSchedule(name: string): number {
    const rule = this.registry.findRule(name, DEFAULT_BUS);
    if (rule?.schedule) return this.fireRule(rule, this.now());
    const schedule = this.registry.schedule(name);
    if (schedule) return this.fireSchedulerSchedule(schedule, this.now());
    throw new Error(`no scheduled rule or schedule named ${name}`);
  }

  /**
   * When each enabled scheduled rule and schedule fires next (after now), by name: for `/_local` status
   * pages and for tests. Rates count from `start()` (or now, before it).
   */
  nextFires(): Record<string, string | undefined> {
    const now = this.now();
    const anchor = this.startedAt ?? now;
    const result: Record<string, string | undefined> = {};
    for (const rule of this.registry.rulesOn(DEFAULT_BUS)) {
      if (rule.schedule && rule.state !== 'DISABLED')
        result[rule.name] = nextFireTime(rule.schedule, now, anchor)?.toISOString();
    }
    for (const schedule of this.registry.allSchedules()) {
      if (schedule.state === 'ENABLED')
        result[schedule.name] = this.nextScheduleFire(schedule, now)?.toISOString();
    }
    return result;
  }

  /**
   * A scheduled rule fires its targets with EventBridge's scheduled-event envelope. The event goes to the
   * rule's targets only: it is not put on the bus, so other rules do not see it and the archive does not hold it.
   */
  private fireRule(rule: Rule, at: Date): number {
    if (rule.state === 'DISABLED') return 0;
    this.counts.scheduledFires += 1;
    const event: EventBridgeEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: this.template.accountId,
      time: eventTime(at),
      region: this.template.region,
      resources: [rule.arn],
      detail: {},
    };
    const ingestedAt = this.now();
    const context: InputContext = {
      event,
      ruleArn: rule.arn,
      ruleName: rule.name,
      ingestionTime: ingestedAt.toISOString(),
    };
    const before = this.counts.deliveries;
    for (const target of rule.targets)
      this.delivery.startRuleDelivery(rule, target, event, context, ingestedAt.getTime(), 0);
    return this.counts.deliveries - before;
  }

  private fireSchedulerSchedule(schedule: SchedulerSchedule, at: Date): number {
    if (schedule.state === 'DISABLED') return 0;
    const target = schedule.target;
    if (target.kind === 'unsupported') {
      this.counts.unsupportedTargets += 1;
      return 0;
    }
    this.counts.scheduledFires += 1;
    const scheduledTime = eventTime(at);
    // Without Input, Scheduler "delivers a default notification to the target"; its shape is not documented,
    // so the local one is an empty JSON object.
    const body = target.input ?? '{}';
    const event: EventBridgeEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': target.eventBridge?.detailType ?? 'Scheduled Event',
      source: target.eventBridge?.source ?? 'aws.scheduler',
      account: this.template.accountId,
      time: scheduledTime,
      region: this.template.region,
      resources: [schedule.arn],
      detail: {},
    };
    this.delivery.spawn({
      target,
      body,
      event,
      eventBridge:
        target.kind === 'events'
          ? (target.eventBridge ?? { detailType: 'Scheduled Event', source: 'aws.scheduler' })
          : undefined,
      ingestedAt: this.now().getTime(),
      origin: {
        kind: 'schedule',
        scheduleArn: schedule.arn,
        scheduledTime,
        executionId: crypto.randomUUID(),
      },
      hop: 0,
    });
    return 1;
  }

  /** (Re-)arms a schedule's timer after it was created or changed (Scheduler API); replaces its old timer. */
  armSchedule(schedule: SchedulerSchedule): void {
    const key = `schedule:${schedule.arn}`;
    this.disarm(key);
    if (!this.running || schedule.state === 'DISABLED') return;
    const arm = (after: Date) => {
      const next = this.nextScheduleFire(schedule, after);
      if (next)
        this.armAt(key, next, () => {
          this.fireSchedulerSchedule(schedule, next);
          arm(next);
          if (!this.timers.has(key)) this.scheduleCompleted?.(schedule);
        });
    };
    arm(this.now());
  }

  /** Clears a deleted schedule's timer. */
  disarmSchedule(schedule: SchedulerSchedule): void {
    this.disarm(`schedule:${schedule.arn}`);
  }

  /** Next fire of a Scheduler schedule within its StartDate/EndDate window. */
  private nextScheduleFire(schedule: SchedulerSchedule, after: Date): Date | undefined {
    const from =
      schedule.startDate && schedule.startDate > after ? new Date(schedule.startDate.getTime() - 1) : after;
    const anchor = schedule.startDate ?? this.startedAt ?? after;
    const next = nextFireTime(schedule.expression, from, anchor);
    if (!next || (schedule.endDate && next > schedule.endDate)) return undefined;
    return next;
  }

  /** Runs `fire` once the clock reaches `at`, re-arming across setTimeout's ~24.8-day ceiling. */
  private armAt(key: string, at: Date, fire: () => void): void {
    const wait = Math.max(0, at.getTime() - this.now().getTime());
    const timer = setTimeout(
      () => {
        this.timers.delete(key);
        if (!this.running) return;
        if (this.now().getTime() < at.getTime()) this.armAt(key, at, fire);
        else fire();
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    timer.unref();
    this.timers.set(key, timer);
  }

  private disarm(key: string): void {
    const timer = this.timers.get(key);
    if (timer) clearTimeout(timer);
    this.timers.delete(key);
  }
}

function ruleKey(rule: Rule): string {
  return `rule:${rule.arn}`;
}
