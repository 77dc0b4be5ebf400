/**
 * The local EventBridge: the buses, rules and schedules of the synthesized template, run on one machine.
 *
 * `PutEvents` answers as EventBridge does (per-entry errors, request limits), every accepted event is kept in
 * the local archive, rules are matched with the same matcher `TestEventPattern` uses, and targets — SQS, Lambda,
 * Step Functions, another bus — are delivered in the background with the target's input settings, retry policy
 * and dead-letter queue. Scheduled rules and `AWS::Scheduler::Schedule`s fire from local timers.
 *
 * Reference: the Amazon EventBridge API Reference (`PutEvents`, `PutEventsResultEntry`, `TestEventPattern`,
 * `PutRule`, `PutTargets`, `ListRules`, `DescribeRule`) and User Guide pages cited where each behaviour is
 * implemented (here, in `targets.ts`, `input-transformer.ts` and `schedule.ts`).
 */
import { z } from 'zod';
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { LocalTemplate } from '../template.ts';
import type { LocalLogger, LocalRuntime, PutEventsEntry, PutEventsResult } from '../types.ts';
import { type ArchiveFilter, EventArchive } from './archive.ts';
import { busNameOf, type EventBridgeEvent, eventBusArn, eventTime, ruleArn } from './event.ts';
import { type InputContext, InvalidTargetInputError } from './input-transformer.ts';
import { compilePattern, type EventMatcher, InvalidEventPatternError } from './pattern.ts';
import {
  InvalidScheduleExpressionError,
  nextFireTime,
  parseScheduleExpression,
  type ScheduleExpression,
} from './schedule.ts';
import {
  type CompiledTarget,
  classifyDeliveryError,
  compileRuleTarget,
  DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
  DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
  DeadLetterConfigSchema,
  type DeliveryFailure,
  InvalidTargetError,
  lambdaPayload,
  MAX_TARGETS_PER_RULE,
  RetryPolicySchema,
  retryDelayMs,
  targetKindOf,
  validateDeadLetterArn,
} from './targets.ts';

export type { ArchivedEvent, ArchiveFilter } from './archive.ts';
export type { EventBridgeEvent } from './event.ts';

/** Options of the local bus; all have production defaults. */
export interface LocalEventBridgeOptions {
  /** JSON-lines file the archive is appended to and reloaded from (under `.local/`). */
  readonly archiveFile?: string;
  /** The clock for event times, event age and schedules (tests pin it). */
  readonly now?: () => Date;
  /** Scale of the retry back-off: the first retry waits about this long, doubling up to 64×. Default 1000. */
  readonly retryBaseDelayMs?: number;
}

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

type MutableCounters = { -readonly [K in keyof EventBridgeCounters]: number };

type RuleState = 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';

interface Rule {
  readonly name: string;
  readonly arn: string;
  readonly busName: string;
  readonly logicalId?: string | undefined;
  state: RuleState;
  description?: string | undefined;
  roleArn?: string | undefined;
  patternText?: string | undefined;
  matcher?: EventMatcher | undefined;
  schedule?: ScheduleExpression | undefined;
  targets: CompiledTarget[];
}

/** An `AWS::Scheduler::Schedule`: one target, its own retry policy and DLQ, optional start and end dates. */
interface SchedulerSchedule {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly expression: ScheduleExpression;
  readonly startDate?: Date | undefined;
  readonly endDate?: Date | undefined;
  readonly target: {
    readonly arn: string;
    readonly kind: ReturnType<typeof targetKindOf>;
    readonly input?: string | undefined;
    readonly messageGroupId?: string | undefined;
    readonly eventBridge?: { readonly detailType: string; readonly source: string } | undefined;
    readonly maximumRetryAttempts: number;
    readonly maximumEventAgeSeconds: number;
    readonly deadLetterArn?: string | undefined;
  };
}

/** Where a delivery came from: a rule (DLQ attributes RULE_ARN…) or a schedule (SCHEDULE_ARN…). */
type DeliveryOrigin =
  | { readonly kind: 'rule'; readonly ruleArn: string }
  | {
      readonly kind: 'schedule';
      readonly scheduleArn: string;
      readonly scheduledTime: string;
      readonly executionId: string;
    };

/** What a delivery takes from its target, the same for rule and schedule targets. */
function targetDelivery(target: {
  readonly arn: string;
  readonly kind: Delivery['kind'];
  readonly messageGroupId?: Delivery['messageGroupId'];
  readonly maximumRetryAttempts: Delivery['maximumRetryAttempts'];
  readonly maximumEventAgeSeconds: Delivery['maximumEventAgeSeconds'];
  readonly deadLetterArn?: Delivery['deadLetterArn'];
}): Pick<
  Delivery,
  | 'targetArn'
  | 'kind'
  | 'messageGroupId'
  | 'maximumRetryAttempts'
  | 'maximumEventAgeSeconds'
  | 'deadLetterArn'
> {
  return {
    targetArn: target.arn,
    kind: target.kind,
    messageGroupId: target.messageGroupId,
    maximumRetryAttempts: target.maximumRetryAttempts,
    maximumEventAgeSeconds: target.maximumEventAgeSeconds,
    deadLetterArn: target.deadLetterArn,
  };
}

interface Delivery {
  readonly targetArn: string;
  readonly kind: ReturnType<typeof targetKindOf>;
  readonly body: string;
  readonly messageGroupId?: string | undefined;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly deadLetterArn?: string | undefined;
  /** The original event: forwarded as is to a bus target, and the DLQ message body for rule deliveries. */
  readonly event: EventBridgeEvent;
  /** Scheduler bus targets put a new event with these. */
  readonly eventBridge?: { readonly detailType: string; readonly source: string } | undefined;
  readonly ingestedAt: number;
  readonly origin: DeliveryOrigin;
  readonly hop: number;
}

const DEFAULT_BUS = 'default';
/** PutEvents takes 1 to 10 entries (API Reference: `Entries`, array members 1..10). */
const MAX_ENTRIES = 10;
/**
 * Entry size limit: 1 MiB. The stored AWS guide still says "The total entry size must be less than 256KB";
 * the limit was raised to 1 MiB in January 2026 (VENDOR-FACTS.md; Shopify's changelog of 2026-11-17 cites
 * "EventBridge's 1 MiB entry cap"). Sized as the guide's "Calculating PutEvents event entry size" says.
 */
export const MAX_PUT_EVENTS_BYTES = 1024 * 1024;
/** A bus forwarding to a bus forwarding to …: cut a local loop instead of spinning forever. */
const MAX_BUS_HOPS = 5;
/** setTimeout's ceiling; longer waits re-arm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The local EventBridge service. Construct it with the resolved template and the runtime, register
 * `handle` on the AwsJsonRouter under `AWSEvents`, wire `runtime.putEvents` to `putEvents`, and call
 * `start()` to arm the schedules.
 */
export class LocalEventBridge {
  private readonly template: LocalTemplate;
  private readonly runtime: LocalRuntime;
  private readonly log: LocalLogger;
  private readonly now: () => Date;
  private readonly retryBaseDelayMs: number;
  private readonly archive: EventArchive;
  private readonly buses = new Map<string, { name: string; arn: string }>();
  /** Rules by bus, in template order: a bus delivers to its rules in this order. */
  private readonly rules = new Map<string, Map<string, Rule>>();
  private readonly schedules = new Map<string, SchedulerSchedule>();
  private readonly pending = new Set<Promise<void>>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly counts: MutableCounters = {
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
  private retryAbort = new AbortController();
  private running = false;
  private startedAt: Date | undefined;

  /**
   * Loads buses, rules and schedules from the template and reloads the archive file.
   *
   * @throws Error naming the resource's logical id when a rule or schedule could not deploy: an invalid
   *   event pattern or schedule expression, neither of the two, a schedule on a custom bus, an invalid target,
   *   more than five targets.
   */
  constructor(template: LocalTemplate, runtime: LocalRuntime, options: LocalEventBridgeOptions = {}) {
    this.template = template;
    this.runtime = runtime;
    this.log = runtime.log;
    this.now = options.now ?? (() => new Date());
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 1000;
    this.archive = new EventArchive(options.archiveFile, this.log);

    this.addBus(DEFAULT_BUS);
    for (const bus of template.ofType('AWS::Events::EventBus')) this.addBus(bus.name);
    for (const resource of template.ofType('AWS::Events::Rule'))
      this.loadRule(resource.logicalId, resource.name, resource.properties);
    for (const resource of template.ofType('AWS::Scheduler::Schedule')) {
      this.loadSchedule(resource.logicalId, resource.name, resource.properties);
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Public API
  // -------------------------------------------------------------------------------------------------------

  /**
   * The AWS JSON-protocol handler for the `AWSEvents` target prefix: PutEvents, TestEventPattern, ListRules,
   * DescribeRule, ListTargetsByRule, PutRule, PutTargets, RemoveTargets, DeleteRule, EnableRule, DisableRule.
   *
   * @throws AwsServiceError with EventBridge's error type for invalid requests and unknown operations.
   */
  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'PutEvents':
        return this.putEvents(parseInput(PutEventsInput, input).Entries as PutEventsEntry[]);
      case 'TestEventPattern':
        return this.testEventPattern(parseInput(TestEventPatternInput, input));
      case 'ListRules':
        return this.listRules(parseInput(ListRulesInput, input));
      case 'DescribeRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.requireRule(Name, EventBusName);
        return { ...describe(rule), CreatedBy: this.template.accountId };
      }
      case 'ListTargetsByRule': {
        const { Rule: name, EventBusName } = parseInput(TargetsRefInput, input);
        return { Targets: this.requireRule(name, EventBusName).targets.map((target) => target.definition) };
      }
      case 'PutRule':
        return this.putRule(parseInput(PutRuleInput, input));
      case 'PutTargets':
        return this.putTargets(parseInput(PutTargetsInput, input));
      case 'RemoveTargets': {
        const { Rule: name, EventBusName, Ids } = parseInput(RemoveTargetsInput, input);
        const rule = this.requireRule(name, EventBusName);
        rule.targets = rule.targets.filter((target) => !Ids.includes(target.id));
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'DeleteRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.findRule(Name, EventBusName);
        if (!rule) return {};
        if (rule.targets.length > 0)
          throw new AwsServiceError('ValidationException', "Rule can't be deleted since it has targets.");
        this.rules.get(rule.busName)?.delete(rule.name);
        this.disarm(`rule:${rule.arn}`);
        return {};
      }
      case 'EnableRule':
      case 'DisableRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.requireRule(Name, EventBusName);
        rule.state = operation === 'EnableRule' ? 'ENABLED' : 'DISABLED';
        this.armRule(rule);
        return {};
      }
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local EventBridge`,
        );
    }
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
    if (entries.length < 1 || entries.length > MAX_ENTRIES) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: Value '[PutEventsRequestEntry]' at 'entries' failed to satisfy constraint: Member must have length ${
          entries.length < 1 ? 'greater than or equal to 1' : `less than or equal to ${MAX_ENTRIES}`
        }`,
      );
    }
    const totalBytes = entries.reduce((sum, entry) => sum + entrySize(entry), 0);
    if (totalBytes > MAX_PUT_EVENTS_BYTES) {
      throw new AwsServiceError(
        'ValidationException',
        'Total size of the entries in the request is over the limit.',
      );
    }
    const results: PutEventsResult['Entries'] = [];
    for (const entry of entries) {
      const result = this.putEntry(entry);
      if ('ErrorCode' in result) this.counts.entriesFailed += 1;
      results.push(result);
    }
    return { FailedEntryCount: results.filter((result) => 'ErrorCode' in result).length, Entries: results };
  }

  /** The archive, oldest first, optionally narrowed by detail-type, source and/or bus. */
  events(filter: ArchiveFilter = {}): EventBridgeEvent[] {
    return this.archive.list(filter).map((record) => record.event);
  }

  /** Resolves once no delivery is pending or waiting to retry (deliveries started meanwhile included). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Arms the timers of every enabled scheduled rule and schedule. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.startedAt = this.now();
    for (const rules of this.rules.values()) for (const rule of rules.values()) this.armRule(rule);
    for (const schedule of this.schedules.values()) this.armSchedule(schedule);
  }

  /**
   * Clears the schedule timers and abandons deliveries waiting for a retry (logged), so shutdown is prompt.
   * Deliveries already calling a target finish.
   */
  stop(): void {
    this.running = false;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.retryAbort.abort();
    this.retryAbort = new AbortController();
  }

  /**
   * Fires a scheduled rule (by rule name, on the default bus) or an `AWS::Scheduler::Schedule` (by name) now,
   * as its timer would. Returns the number of target deliveries started (0 for a disabled one).
   *
   * @throws Error when no scheduled rule or schedule has that name.
   */
  fireSchedule(name: string): number {
    const rule = this.rules.get(DEFAULT_BUS)?.get(name);
    if (rule?.schedule) return this.fireRule(rule, this.now());
    const schedule = this.schedules.get(name);
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
    for (const rule of this.rules.get(DEFAULT_BUS)?.values() ?? []) {
      if (rule.schedule && rule.state !== 'DISABLED')
        result[rule.name] = nextFireTime(rule.schedule, now, anchor)?.toISOString();
    }
    for (const schedule of this.schedules.values()) {
      if (schedule.state === 'ENABLED')
        result[schedule.name] = this.nextScheduleFire(schedule, now)?.toISOString();
    }
    return result;
  }

  /** A snapshot of the counters. */
  get counters(): EventBridgeCounters {
    return { ...this.counts };
  }

  /** Rule names per bus, for diagnostics (`{ default: ['a', 'b'], orders: ['c'] }`). */
  ruleNames(): Record<string, string[]> {
    return Object.fromEntries([...this.rules].map(([bus, rules]) => [bus, [...rules.keys()]]));
  }

  // -------------------------------------------------------------------------------------------------------
  // Template loading
  // -------------------------------------------------------------------------------------------------------

  private addBus(name: string): void {
    if (this.buses.has(name)) return;
    this.buses.set(name, { name, arn: eventBusArn(this.template.region, this.template.accountId, name) });
    this.rules.set(name, new Map());
  }

  private loadRule(logicalId: string, name: string, properties: Record<string, unknown>): void {
    const fail = (message: string, cause?: unknown): never => {
      throw new Error(
        `AWS::Events::Rule ${logicalId}: ${message}`,
        cause === undefined ? undefined : { cause },
      );
    };
    const parsed = TemplateRuleProperties.safeParse(properties);
    if (!parsed.success) throw fail(z.prettifyError(parsed.error));
    const props = parsed.data;
    const busName = busNameOf(props.EventBusName ?? DEFAULT_BUS);
    if (!this.buses.has(busName)) {
      this.log.warn('EventBridge: rule refers to a bus the template does not define; creating it locally', {
        logicalId,
        busName,
      });
      this.addBus(busName);
    }
    try {
      const rule = this.buildRule({
        name,
        busName,
        logicalId,
        state: props.State ?? 'ENABLED',
        description: props.Description,
        roleArn: props.RoleArn,
        eventPattern: props.EventPattern,
        scheduleExpression: props.ScheduleExpression,
      });
      const targets = props.Targets ?? [];
      if (targets.length > MAX_TARGETS_PER_RULE) {
        throw fail(`${targets.length} targets; a rule takes at most ${MAX_TARGETS_PER_RULE}`);
      }
      rule.targets = targets.map((target) => compileRuleTarget(target));
      this.warnAboutTargets(logicalId, rule.targets);
      this.rules.get(busName)?.set(name, rule);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('AWS::Events::Rule')) throw error;
      throw fail((error as Error).message, error);
    }
  }

  /** Validates and builds a rule as PutRule would; shared by the template and the PutRule API. */
  private buildRule(spec: {
    name: string;
    busName: string;
    logicalId?: string | undefined;
    state: RuleState;
    description?: string | undefined;
    roleArn?: string | undefined;
    eventPattern?: unknown;
    scheduleExpression?: string | undefined;
  }): Rule {
    if (spec.eventPattern === undefined && spec.scheduleExpression === undefined) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter(s) EventPattern or ScheduleExpression must be specified.',
      );
    }
    let matcher: EventMatcher | undefined;
    let patternText: string | undefined;
    if (spec.eventPattern !== undefined) {
      patternText =
        typeof spec.eventPattern === 'string' ? spec.eventPattern : JSON.stringify(spec.eventPattern);
      matcher = compilePattern(spec.eventPattern as Record<string, unknown> | string);
    }
    let schedule: ScheduleExpression | undefined;
    if (spec.scheduleExpression !== undefined) {
      // "You can only create scheduled rules using the default event bus."
      if (spec.busName !== DEFAULT_BUS) {
        throw new AwsServiceError(
          'ValidationException',
          'ScheduleExpression is supported only on the default event bus.',
        );
      }
      schedule = parseScheduleExpression(spec.scheduleExpression);
    }
    return {
      name: spec.name,
      arn: ruleArn(this.template.region, this.template.accountId, spec.busName, spec.name),
      busName: spec.busName,
      logicalId: spec.logicalId,
      state: spec.state,
      description: spec.description,
      roleArn: spec.roleArn,
      patternText,
      matcher,
      schedule,
      targets: [],
    };
  }

  private warnAboutTargets(owner: string, targets: readonly CompiledTarget[]): void {
    for (const target of targets) {
      if (target.kind === 'unsupported') {
        this.log.warn(
          'EventBridge: the local cloud does not deliver to this kind of target; it will be skipped',
          {
            owner,
            targetId: target.id,
            arn: target.arn,
          },
        );
      } else if (target.kind !== 'events' && !this.targetExists(target.kind, target.arn)) {
        this.log.warn(
          'EventBridge: target is not a resource of the template; deliveries will fail as NO_RESOURCE',
          {
            owner,
            targetId: target.id,
            arn: target.arn,
          },
        );
      } else if (target.kind === 'events') {
        const definition = target.definition;
        if (
          definition.Input !== undefined ||
          definition.InputPath !== undefined ||
          definition.InputTransformer !== undefined
        ) {
          this.log.warn(
            'EventBridge: input settings of an event-bus target are ignored; the event is forwarded as is',
            {
              owner,
              targetId: target.id,
            },
          );
        }
      }
    }
  }

  private loadSchedule(logicalId: string, name: string, properties: Record<string, unknown>): void {
    const fail = (message: string): Error => new Error(`AWS::Scheduler::Schedule ${logicalId}: ${message}`);
    const parsed = TemplateScheduleProperties.safeParse(properties);
    if (!parsed.success) throw fail(z.prettifyError(parsed.error));
    const props = parsed.data;
    let expression: ScheduleExpression;
    try {
      expression = parseScheduleExpression(props.ScheduleExpression, { allowAt: true });
    } catch (error) {
      throw fail((error as Error).message);
    }
    const timezone = props.ScheduleExpressionTimezone;
    if (timezone !== undefined && !/^(UTC|Etc\/UTC|GMT|Etc\/GMT)$/i.test(timezone)) {
      this.log.warn('EventBridge Scheduler: time zones are not evaluated locally; the schedule runs in UTC', {
        logicalId,
        timezone,
      });
    }
    const target = props.Target;
    try {
      validateDeadLetterArn('Target', target.DeadLetterConfig?.Arn);
    } catch (error) {
      throw fail((error as Error).message);
    }
    const kind = targetKindOf(target.Arn);
    if (kind === 'unsupported')
      this.log.warn('EventBridge Scheduler: target kind not delivered locally', {
        logicalId,
        arn: target.Arn,
      });
    const group = props.GroupName ?? 'default';
    this.schedules.set(name, {
      name,
      logicalId,
      arn: `arn:aws:scheduler:${this.template.region}:${this.template.accountId}:schedule/${group}/${name}`,
      state: props.State ?? 'ENABLED',
      expression,
      startDate: props.StartDate === undefined ? undefined : new Date(props.StartDate),
      endDate: props.EndDate === undefined ? undefined : new Date(props.EndDate),
      target: {
        arn: target.Arn,
        kind,
        input: target.Input,
        messageGroupId: target.SqsParameters?.MessageGroupId,
        eventBridge:
          target.EventBridgeParameters === undefined
            ? undefined
            : {
                detailType: target.EventBridgeParameters.DetailType,
                source: target.EventBridgeParameters.Source,
              },
        maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
        maximumEventAgeSeconds:
          target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
        deadLetterArn: target.DeadLetterConfig?.Arn,
      },
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Events
  // -------------------------------------------------------------------------------------------------------

  private putEntry(entry: PutEventsEntry): PutEventsResult['Entries'][number] {
    // Codes from the API Reference (PutEventsResultEntry: InvalidArgument, MalformedDetail); order and wording
    // as EventBridge answers (not documented; observed responses, as moto reproduces them). The code for an
    // unknown bus is not documented either: ResourceNotFoundException, as the bus APIs use.
    for (const field of ['Source', 'DetailType', 'Detail'] as const) {
      const value = entry[field];
      if (typeof value !== 'string' || value.length === 0) {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: `Parameter ${field} is not valid. Reason: ${field} is a required argument.`,
        };
      }
    }
    let detail: unknown;
    try {
      detail = JSON.parse(entry.Detail as string);
    } catch {
      detail = undefined;
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
      return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
    }
    const resources = entry.Resources ?? [];
    if (!Array.isArray(resources) || resources.some((resource) => typeof resource !== 'string')) {
      return {
        ErrorCode: 'InvalidArgument',
        ErrorMessage: 'Parameter Resources is not valid. Reason: Resources must be a list of strings.',
      };
    }
    let time = this.now();
    if (entry.Time !== undefined) {
      // The SDK sends Time as epoch seconds; ISO text is accepted too.
      const parsed = typeof entry.Time === 'number' ? new Date(entry.Time * 1000) : new Date(entry.Time);
      if (Number.isNaN(parsed.getTime())) {
        return {
          ErrorCode: 'InvalidArgument',
          ErrorMessage: 'Parameter Time is not valid. Reason: Time is not a valid timestamp.',
        };
      }
      time = parsed;
    }
    const busName = busNameOf(
      typeof entry.EventBusName === 'string' && entry.EventBusName ? entry.EventBusName : DEFAULT_BUS,
    );
    if (!this.buses.has(busName)) {
      return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `Event bus ${busName} does not exist.` };
    }
    const event: EventBridgeEvent = {
      version: '0',
      id: crypto.randomUUID(),
      'detail-type': entry.DetailType as string,
      source: entry.Source as string,
      account: this.template.accountId,
      time: eventTime(time),
      region: this.template.region,
      resources: [...resources],
      detail: detail as Record<string, unknown>,
    };
    this.ingest(busName, event, 0);
    return { EventId: event.id };
  }

  /** Archives an event on a bus and starts a delivery per target of every enabled rule it matches. */
  private ingest(busName: string, event: EventBridgeEvent, hop: number): void {
    const ingestedAt = this.now();
    const ingestionTime = ingestedAt.toISOString();
    this.archive.add({ eventBusName: busName, ingestionTime, event });
    this.counts.eventsPut += 1;
    for (const rule of this.rules.get(busName)?.values() ?? []) {
      if (rule.state === 'DISABLED' || !rule.matcher || !rule.matcher(event)) continue;
      this.counts.matchedRules += 1;
      const context: InputContext = { event, ruleArn: rule.arn, ruleName: rule.name, ingestionTime };
      for (const target of rule.targets)
        this.startRuleDelivery(rule, target, event, context, ingestedAt.getTime(), hop);
    }
  }

  private startRuleDelivery(
    rule: Rule,
    target: CompiledTarget,
    event: EventBridgeEvent,
    context: InputContext,
    ingestedAt: number,
    hop: number,
  ): void {
    if (target.kind === 'unsupported') {
      this.counts.unsupportedTargets += 1;
      return;
    }
    let body: string;
    try {
      body = target.kind === 'events' ? JSON.stringify(event) : target.render(context);
    } catch (error) {
      this.log.error('EventBridge: rendering a target input failed', {
        rule: rule.name,
        targetId: target.id,
        error: String(error),
      });
      this.counts.dropped += 1;
      return;
    }
    this.spawn({
      ...targetDelivery(target),
      body,
      event,
      ingestedAt,
      origin: { kind: 'rule', ruleArn: rule.arn },
      hop,
    });
  }

  // -------------------------------------------------------------------------------------------------------
  // Delivery, retries, dead-letter queues
  // -------------------------------------------------------------------------------------------------------

  private spawn(delivery: Delivery): void {
    this.counts.deliveries += 1;
    const promise: Promise<void> = this.deliver(delivery)
      .catch((error: unknown) => {
        this.log.error('EventBridge: delivery crashed', { target: delivery.targetArn, error: String(error) });
      })
      .finally(() => {
        this.pending.delete(promise);
      });
    this.pending.add(promise);
  }

  /**
   * Delivers with the target's retry policy: a retryable failure is retried with back-off until
   * MaximumRetryAttempts retries were made or the next attempt would come after MaximumEventAgeInSeconds;
   * a non-retryable one (the resource does not exist, no permission) goes straight to the end. Then the event
   * goes to the dead-letter queue, or is dropped and counted.
   */
  private async deliver(delivery: Delivery): Promise<void> {
    const signal = this.retryAbort.signal;
    let retries = 0;
    for (;;) {
      let failure: DeliveryFailure;
      try {
        await this.invokeTarget(delivery);
        this.counts.delivered += 1;
        return;
      } catch (error) {
        failure = classifyDeliveryError(error);
      }
      if (!failure.retryable) return this.deadLetter(delivery, failure, retries, undefined);
      if (retries >= delivery.maximumRetryAttempts)
        return this.deadLetter(delivery, failure, retries, 'MaximumRetryAttempts');
      const delay = retryDelayMs(retries, this.retryBaseDelayMs);
      if (this.now().getTime() + delay - delivery.ingestedAt > delivery.maximumEventAgeSeconds * 1000) {
        return this.deadLetter(delivery, failure, retries, 'MaximumEventAgeInSeconds');
      }
      if (!(await sleep(delay, signal))) {
        this.log.warn('EventBridge: delivery abandoned on stop()', { target: delivery.targetArn, retries });
        return;
      }
      retries += 1;
      this.counts.retries += 1;
    }
  }

  /** One attempt. Throws what the local service threw; resolves once the target accepted the event. */
  private async invokeTarget(delivery: Delivery): Promise<void> {
    if (
      delivery.kind !== 'events' &&
      delivery.kind !== 'unsupported' &&
      !this.targetExists(delivery.kind, delivery.targetArn)
    ) {
      // Only the template's resources exist locally. "For errors that result from … a target resource that no
      // longer exists, … EventBridge sends these events directly to the DLQ": NO_RESOURCE, not retried.
      throw notFound(`${delivery.targetArn} does not exist in the local cloud`);
    }
    switch (delivery.kind) {
      case 'sqs': {
        const fifo = delivery.targetArn.endsWith('.fifo');
        await this.runtime.sendMessage(delivery.targetArn, delivery.body, {
          ...(delivery.messageGroupId === undefined ? {} : { messageGroupId: delivery.messageGroupId }),
          ...(fifo ? { messageDeduplicationId: delivery.event.id } : {}),
        });
        return;
      }
      case 'lambda': {
        // EventBridge invokes Lambda asynchronously: the delivery succeeds once Lambda accepts the event.
        // A function error is Lambda's to retry (its async retry settings, its own DLQ or destination), not
        // EventBridge's; only a failed Invoke call (no such function, throttled) counts as a failed delivery.
        const result = await this.runtime.invokeFunction(delivery.targetArn, lambdaPayload(delivery.body));
        if (!result.ok) {
          this.log.warn(
            'EventBridge: Lambda target returned a function error (asynchronous invocation: not retried by EventBridge)',
            {
              target: delivery.targetArn,
              errorType: result.errorType,
              errorMessage: result.errorMessage,
            },
          );
        }
        return;
      }
      case 'states':
        await this.runtime.startExecution(delivery.targetArn, delivery.body);
        return;
      case 'events': {
        const busName = busNameOf(delivery.targetArn);
        if (!this.buses.has(busName)) {
          throw Object.assign(new Error(`Event bus ${busName} does not exist.`), {
            name: 'ResourceNotFoundException',
          });
        }
        if (delivery.hop + 1 >= MAX_BUS_HOPS) {
          throw Object.assign(new Error(`event forwarded across ${MAX_BUS_HOPS} buses; loop cut`), {
            name: 'InvalidParameter',
          });
        }
        const event: EventBridgeEvent = delivery.eventBridge
          ? {
              ...delivery.event,
              id: crypto.randomUUID(),
              source: delivery.eventBridge.source,
              'detail-type': delivery.eventBridge.detailType,
              detail: parseDetail(delivery.body),
            }
          : delivery.event;
        this.ingest(busName, event, delivery.hop + 1);
        return;
      }
      case 'unsupported':
        throw new Error(`unsupported target ${delivery.targetArn}`);
    }
  }

  /**
   * True when the template defines the queue, function (any qualifier) or state machine a target names —
   * everything that exists in the local cloud.
   */
  private targetExists(kind: 'sqs' | 'lambda' | 'states', arn: string): boolean {
    if (kind === 'lambda') {
      const name = arn.split(':function:')[1]?.split(':')[0];
      return this.template.ofType('AWS::Lambda::Function').some((resource) => resource.name === name);
    }
    const type = kind === 'sqs' ? 'AWS::SQS::Queue' : 'AWS::StepFunctions::StateMachine';
    return this.template.byArn(arn)?.type === type;
  }

  /**
   * Ends a failed delivery: to the target's DLQ with the message attributes EventBridge documents (rules:
   * RULE_ARN, TARGET_ARN, ERROR_CODE, ERROR_MESSAGE, RETRY_ATTEMPTS, and EXHAUSTED_RETRY_CONDITION when a
   * retry limit ended it; Scheduler adds SCHEDULE_ARN, SCHEDULED_TIME, EXECUTION_ID, IS_PAYLOAD_TRUNCATED),
   * or dropped when there is none.
   */
  private async deadLetter(
    delivery: Delivery,
    failure: DeliveryFailure,
    retries: number,
    exhausted: 'MaximumRetryAttempts' | 'MaximumEventAgeInSeconds' | undefined,
  ): Promise<void> {
    const details = {
      target: delivery.targetArn,
      code: failure.code,
      message: failure.message,
      retries,
      exhausted,
    };
    if (!delivery.deadLetterArn) {
      this.counts.dropped += 1;
      this.log.warn('EventBridge: delivery failed; no dead-letter queue, event dropped', details);
      return;
    }
    const attributes: Record<string, string> = {
      ERROR_CODE: failure.code,
      ERROR_MESSAGE: failure.message,
      RETRY_ATTEMPTS: String(retries),
      TARGET_ARN: delivery.targetArn,
      ...(exhausted === undefined ? {} : { EXHAUSTED_RETRY_CONDITION: exhausted }),
    };
    let body: string;
    if (delivery.origin.kind === 'rule') {
      attributes.RULE_ARN = delivery.origin.ruleArn;
      body = JSON.stringify(delivery.event);
    } else {
      attributes.SCHEDULE_ARN = delivery.origin.scheduleArn;
      attributes.SCHEDULED_TIME = delivery.origin.scheduledTime;
      attributes.EXECUTION_ID = delivery.origin.executionId;
      attributes.IS_PAYLOAD_TRUNCATED = 'false';
      body = delivery.body;
    }
    try {
      await this.runtime.sendMessage(delivery.deadLetterArn, body, {
        messageAttributes: Object.fromEntries(
          Object.entries(attributes).map(([name, value]) => [
            name,
            { DataType: 'String', StringValue: value },
          ]),
        ),
      });
      this.counts.deadLettered += 1;
      this.log.warn('EventBridge: delivery failed; event sent to the dead-letter queue', {
        ...details,
        dlq: delivery.deadLetterArn,
      });
    } catch (error) {
      this.counts.deadLetterFailed += 1;
      this.log.error('EventBridge: sending to the dead-letter queue failed; event lost', {
        ...details,
        dlq: delivery.deadLetterArn,
        error: String(error),
      });
    }
  }

  // -------------------------------------------------------------------------------------------------------
  // Schedules
  // -------------------------------------------------------------------------------------------------------

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
      this.startRuleDelivery(rule, target, event, context, ingestedAt.getTime(), 0);
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
    this.spawn({
      ...targetDelivery(target),
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

  private armRule(rule: Rule): void {
    const key = `rule:${rule.arn}`;
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

  private armSchedule(schedule: SchedulerSchedule): void {
    const key = `schedule:${schedule.arn}`;
    this.disarm(key);
    if (!this.running || schedule.state === 'DISABLED') return;
    const arm = (after: Date) => {
      const next = this.nextScheduleFire(schedule, after);
      if (next)
        this.armAt(key, next, () => {
          this.fireSchedulerSchedule(schedule, next);
          arm(next);
        });
    };
    arm(this.now());
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

  // -------------------------------------------------------------------------------------------------------
  // Rule API
  // -------------------------------------------------------------------------------------------------------

  private findRule(name: string, busNameOrArn: string | undefined): Rule | undefined {
    return this.rules.get(busNameOf(busNameOrArn ?? DEFAULT_BUS))?.get(name);
  }

  private requireRule(name: string, busNameOrArn: string | undefined): Rule {
    const rule = this.findRule(name, busNameOrArn);
    if (!rule) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Rule ${name} does not exist on EventBus ${busNameOf(busNameOrArn ?? DEFAULT_BUS)}.`,
      );
    }
    return rule;
  }

  private requireBus(nameOrArn: string | undefined): string {
    const name = busNameOf(nameOrArn ?? DEFAULT_BUS);
    if (!this.buses.has(name))
      throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  private testEventPattern(input: z.infer<typeof TestEventPatternInput>): { Result: boolean } {
    let event: unknown;
    try {
      event = JSON.parse(input.Event);
    } catch {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter Event is not valid. Reason: Event is not valid JSON.',
      );
    }
    if (typeof event !== 'object' || event === null || Array.isArray(event)) {
      throw new AwsServiceError(
        'ValidationException',
        'Parameter Event is not valid. Reason: Event must be a JSON object.',
      );
    }
    // "The JSON must follow the format specified in AWS Events, and the following fields are mandatory: id,
    // account, source, time, region, resources, detail-type."
    for (const field of ['id', 'account', 'source', 'time', 'region', 'resources', 'detail-type']) {
      if (!(field in event)) {
        throw new AwsServiceError(
          'ValidationException',
          `Parameter Event is not valid. Reason: Provided Event is missing field ${field}.`,
        );
      }
    }
    try {
      return { Result: compilePattern(input.EventPattern)(event) };
    } catch (error) {
      if (error instanceof InvalidEventPatternError)
        throw new AwsServiceError('InvalidEventPatternException', error.message);
      throw error;
    }
  }

  private listRules(input: z.infer<typeof ListRulesInput>): {
    Rules: Record<string, unknown>[];
    NextToken?: string;
  } {
    const busName = this.requireBus(input.EventBusName);
    const all = [...(this.rules.get(busName)?.values() ?? [])]
      .filter((rule) => input.NamePrefix === undefined || rule.name.startsWith(input.NamePrefix))
      .sort((a, b) => a.name.localeCompare(b.name));
    const offset = input.NextToken === undefined ? 0 : Number(input.NextToken);
    if (!Number.isInteger(offset) || offset < 0)
      throw new AwsServiceError('ValidationException', 'The NextToken is not valid.');
    const limit = input.Limit ?? 100;
    const page = all.slice(offset, offset + limit).map(describe);
    const next = offset + limit;
    return next < all.length ? { Rules: page, NextToken: String(next) } : { Rules: page };
  }

  private putRule(input: z.infer<typeof PutRuleInput>): { RuleArn: string } {
    const busName = this.requireBus(input.EventBusName);
    const existing = this.rules.get(busName)?.get(input.Name);
    let rule: Rule;
    try {
      rule = this.buildRule({
        name: input.Name,
        busName,
        logicalId: existing?.logicalId,
        state: input.State ?? 'ENABLED',
        description: input.Description,
        roleArn: input.RoleArn,
        eventPattern: input.EventPattern,
        scheduleExpression: input.ScheduleExpression,
      });
    } catch (error) {
      if (error instanceof InvalidEventPatternError)
        throw new AwsServiceError('InvalidEventPatternException', error.message);
      if (error instanceof InvalidScheduleExpressionError) {
        throw new AwsServiceError('ValidationException', 'Parameter ScheduleExpression is not valid.');
      }
      throw error;
    }
    rule.targets = existing?.targets ?? [];
    this.rules.get(busName)?.set(rule.name, rule);
    this.armRule(rule);
    return { RuleArn: rule.arn };
  }

  private putTargets(input: z.infer<typeof PutTargetsInput>): {
    FailedEntryCount: number;
    FailedEntries: { TargetId: string; ErrorCode: string; ErrorMessage: string }[];
  } {
    const rule = this.requireRule(input.Rule, input.EventBusName);
    const failed: { TargetId: string; ErrorCode: string; ErrorMessage: string }[] = [];
    const targets = [...rule.targets];
    for (const raw of input.Targets) {
      try {
        const target = compileRuleTarget(raw);
        const index = targets.findIndex((existing) => existing.id === target.id);
        if (index === -1 && targets.length >= MAX_TARGETS_PER_RULE) {
          throw new AwsServiceError(
            'LimitExceededException',
            'The requested resource exceeds the maximum number allowed.',
          );
        }
        if (index === -1) targets.push(target);
        else targets[index] = target;
        this.warnAboutTargets(rule.name, [target]);
      } catch (error) {
        if (
          !(
            error instanceof InvalidTargetError ||
            error instanceof InvalidTargetInputError ||
            error instanceof AwsServiceError
          )
        )
          throw error;
        const targetId =
          error instanceof InvalidTargetError ? error.targetId : String((raw as { Id?: unknown }).Id ?? '');
        const code = error instanceof AwsServiceError ? error.type : 'ValidationException';
        failed.push({ TargetId: targetId, ErrorCode: code, ErrorMessage: error.message });
      }
    }
    rule.targets = targets;
    return { FailedEntryCount: failed.length, FailedEntries: failed };
  }
}

// ---------------------------------------------------------------------------------------------------------
// Helpers and input schemas
// ---------------------------------------------------------------------------------------------------------

/** A rule as ListRules / DescribeRule present it. */
function describe(rule: Rule): Record<string, unknown> {
  return {
    Name: rule.name,
    Arn: rule.arn,
    ...(rule.patternText === undefined ? {} : { EventPattern: rule.patternText }),
    ...(rule.schedule === undefined ? {} : { ScheduleExpression: rule.schedule.text }),
    State: rule.state,
    ...(rule.description === undefined ? {} : { Description: rule.description }),
    ...(rule.roleArn === undefined ? {} : { RoleArn: rule.roleArn }),
    EventBusName: rule.busName,
  };
}

/**
 * An entry's size as the guide's "Calculating PutEvents event entry size" computes it: 14 bytes for a Time,
 * plus the UTF-8 bytes of Source, DetailType, Detail and each of Resources.
 */
export function entrySize(entry: PutEventsEntry): number {
  const bytes = (value: unknown) => (typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0);
  let size = entry.Time === undefined ? 0 : 14;
  size += bytes(entry.Source) + bytes(entry.DetailType) + bytes(entry.Detail);
  for (const resource of Array.isArray(entry.Resources) ? entry.Resources : []) size += bytes(resource);
  return size;
}

/** An error classified as NO_RESOURCE (not retried). */
function notFound(message: string): Error {
  return Object.assign(new Error(message), { name: 'ResourceNotFoundException' });
}

function parseDetail(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. The timer does not hold the process open. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    timer.unref();
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function parseInput<T extends z.ZodType>(schema: T, input: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AwsServiceError('ValidationException', z.prettifyError(parsed.error));
  return parsed.data;
}

const RuleStateSchema = z.enum(['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS']);

/** Entries stay loosely typed here: PutEvents reports a bad entry in its result, not as a request error. */
const PutEventsInput = z
  .object({ Entries: z.array(z.record(z.string(), z.unknown())), EndpointId: z.string().optional() })
  .loose();
const TestEventPatternInput = z.object({ EventPattern: z.string(), Event: z.string() });
const ListRulesInput = z.object({
  NamePrefix: z.string().optional(),
  EventBusName: z.string().optional(),
  NextToken: z.string().optional(),
  Limit: z.number().int().min(1).max(100).optional(),
});
const RuleRefInput = z.object({ Name: z.string().min(1), EventBusName: z.string().optional() });
const TargetsRefInput = z.object({ Rule: z.string().min(1), EventBusName: z.string().optional() }).loose();
const PutRuleInput = z.object({
  Name: z.string().min(1).max(64),
  EventPattern: z.string().optional(),
  ScheduleExpression: z.string().optional(),
  State: RuleStateSchema.optional(),
  Description: z.string().optional(),
  RoleArn: z.string().optional(),
  EventBusName: z.string().optional(),
  Tags: z.array(z.unknown()).optional(),
});
const PutTargetsInput = z.object({
  Rule: z.string().min(1),
  EventBusName: z.string().optional(),
  Targets: z.array(z.unknown()).min(1).max(10),
});
const RemoveTargetsInput = z.object({
  Rule: z.string().min(1),
  EventBusName: z.string().optional(),
  Ids: z.array(z.string()).min(1).max(10),
  Force: z.boolean().optional(),
});

/** `AWS::Events::Rule` properties the local bus reads (resolved; the pattern may be an object or JSON text). */
const TemplateRuleProperties = z
  .object({
    EventBusName: z.string().optional(),
    EventPattern: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    ScheduleExpression: z.string().optional(),
    State: RuleStateSchema.optional(),
    Description: z.string().optional(),
    RoleArn: z.string().optional(),
    Targets: z.array(z.unknown()).optional(),
  })
  .loose();

/** `AWS::Scheduler::Schedule` properties the local bus reads. */
const TemplateScheduleProperties = z
  .object({
    ScheduleExpression: z.string(),
    ScheduleExpressionTimezone: z.string().optional(),
    GroupName: z.string().optional(),
    State: z.enum(['ENABLED', 'DISABLED']).optional(),
    StartDate: z.string().optional(),
    EndDate: z.string().optional(),
    Target: z
      .object({
        Arn: z.string().min(1),
        Input: z.string().optional(),
        SqsParameters: z.object({ MessageGroupId: z.string().optional() }).optional(),
        EventBridgeParameters: z.object({ DetailType: z.string(), Source: z.string() }).optional(),
        RetryPolicy: RetryPolicySchema.optional(),
        DeadLetterConfig: DeadLetterConfigSchema.optional(),
      })
      .loose(),
  })
  .loose();
