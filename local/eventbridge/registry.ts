/**
 * What the local EventBridge knows: its buses, the rules on each bus with their compiled targets, and the
 * `AWS::Scheduler::Schedule`s — loaded from the synthesized template and changed by the rules API.
 *
 * A rule is validated once, here, as PutRule would validate it (pattern, schedule expression, targets), so a
 * template EventBridge would refuse fails when the local cloud loads it, not on the first event.
 */
import { z } from 'zod';
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { LocalTemplate } from '../template.ts';
import type { LocalLogger } from '../types.ts';
import type { ArchiveDefinition } from './archive.ts';
import { busNameOf, eventBusArn, ruleArn } from './event.ts';
import { compilePattern, type EventMatcher } from './pattern.ts';
import { parseScheduleExpression, type ScheduleExpression } from './schedule.ts';
import {
  type CompiledTarget,
  compileRuleTarget,
  DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
  DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
  DeadLetterConfigSchema,
  MAX_TARGETS_PER_RULE,
  RetryPolicySchema,
  type TargetDeliverySettings,
  targetKindOf,
  validateDeadLetterArn,
} from './targets.ts';

export const DEFAULT_BUS = 'default';

export const RuleStateSchema = z.enum([
  'ENABLED',
  'DISABLED',
  'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS',
]);

export type RuleState = z.infer<typeof RuleStateSchema>;

/** A rule on one bus: an event pattern, a schedule, or both, and up to five targets. */
export interface Rule {
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
export interface SchedulerSchedule {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly state: 'ENABLED' | 'DISABLED';
  readonly expression: ScheduleExpression;
  readonly startDate?: Date | undefined;
  readonly endDate?: Date | undefined;
  /** Scheduler API schedules: `DELETE` removes the schedule once it has invoked its target for the last time. */
  readonly actionAfterCompletion?: 'NONE' | 'DELETE' | undefined;
  readonly target: TargetDeliverySettings & {
    readonly input?: string | undefined;
    readonly eventBridge?: { readonly detailType: string; readonly source: string } | undefined;
  };
}

/** What PutRule (and a template `AWS::Events::Rule`) says about a rule, before validation. */
export interface RuleSpec {
  readonly name: string;
  readonly busName: string;
  readonly logicalId?: string | undefined;
  readonly state: RuleState;
  readonly description?: string | undefined;
  readonly roleArn?: string | undefined;
  readonly eventPattern?: unknown;
  readonly scheduleExpression?: string | undefined;
}

/**
 * The buses, rules and schedules of one local EventBridge. Rules are kept by bus, in template order: a bus
 * delivers to its rules in this order.
 */
export class RuleRegistry {
  private readonly template: LocalTemplate;
  private readonly log: LocalLogger;
  private readonly buses = new Map<string, { name: string; arn: string; description?: string | undefined }>();
  private readonly archives = new Map<string, ArchiveDefinition>();
  private readonly rules = new Map<string, Map<string, Rule>>();
  private readonly schedules = new Map<string, SchedulerSchedule>();

  /**
   * Loads buses, rules and schedules from the template.
   *
   * @throws Error naming the resource's logical id when a rule or schedule could not deploy: an invalid
   *   event pattern or schedule expression, neither of the two, a schedule on a custom bus, an invalid target,
   *   more than five targets.
   */
  constructor(template: LocalTemplate, log: LocalLogger) {
    this.template = template;
    this.log = log;
    this.addBus(DEFAULT_BUS);
    for (const bus of template.ofType('AWS::Events::EventBus')) {
      this.addBus(
        bus.name,
        typeof bus.properties.Description === 'string' ? bus.properties.Description : undefined,
      );
    }
    for (const resource of template.ofType('AWS::Events::Rule'))
      this.loadRule(resource.logicalId, resource.name, resource.properties);
    for (const resource of template.ofType('AWS::Scheduler::Schedule')) {
      this.loadSchedule(resource.logicalId, resource.name, resource.properties);
    }
    for (const resource of template.ofType('AWS::Events::Archive')) {
      this.loadArchive(resource.logicalId, resource.name, resource.arn, resource.properties);
    }
  }

  /** Every bus, in the order they were defined (the default bus first). */
  allBuses(): { name: string; arn: string; description?: string | undefined }[] {
    return [...this.buses.values()];
  }

  /** Every archive of the template, by name. */
  allArchives(): ArchiveDefinition[] {
    return [...this.archives.values()];
  }

  /** @throws AwsServiceError ResourceNotFoundException when there is no such archive. */
  requireArchive(name: string): ArchiveDefinition {
    const archive = this.archives.get(name);
    if (!archive) throw new AwsServiceError('ResourceNotFoundException', `Archive ${name} does not exist.`);
    return archive;
  }

  hasBus(name: string): boolean {
    return this.buses.has(name);
  }

  /**
   * The bus a request names (name or ARN; the default bus when omitted).
   *
   * @throws AwsServiceError ResourceNotFoundException when there is no such bus.
   */
  requireBus(nameOrArn: string | undefined): string {
    const name = busNameOf(nameOrArn ?? DEFAULT_BUS);
    if (!this.buses.has(name))
      throw new AwsServiceError('ResourceNotFoundException', `Event bus ${name} does not exist.`);
    return name;
  }

  /** The rules of a bus in delivery order (none for an unknown bus). */
  rulesOn(busName: string): Iterable<Rule> {
    return this.rules.get(busName)?.values() ?? [];
  }

  /** Every rule of every bus. */
  *allRules(): Iterable<Rule> {
    for (const rules of this.rules.values()) yield* rules.values();
  }

  findRule(name: string, busNameOrArn: string | undefined): Rule | undefined {
    return this.rules.get(busNameOf(busNameOrArn ?? DEFAULT_BUS))?.get(name);
  }

  /** @throws AwsServiceError ResourceNotFoundException when the bus has no such rule. */
  requireRule(name: string, busNameOrArn: string | undefined): Rule {
    const rule = this.findRule(name, busNameOrArn);
    if (!rule) {
      throw new AwsServiceError(
        'ResourceNotFoundException',
        `Rule ${name} does not exist on EventBus ${busNameOf(busNameOrArn ?? DEFAULT_BUS)}.`,
      );
    }
    return rule;
  }

  /** Adds the rule to its bus, or replaces the rule of that name (keeping its place in the delivery order). */
  setRule(rule: Rule): void {
    this.rules.get(rule.busName)?.set(rule.name, rule);
  }

  deleteRule(rule: Rule): void {
    this.rules.get(rule.busName)?.delete(rule.name);
  }

  /** Rule names per bus, for diagnostics (`{ default: ['a', 'b'], orders: ['c'] }`). */
  ruleNames(): Record<string, string[]> {
    return Object.fromEntries([...this.rules].map(([bus, rules]) => [bus, [...rules.keys()]]));
  }

  schedule(name: string): SchedulerSchedule | undefined {
    return this.schedules.get(name);
  }

  allSchedules(): Iterable<SchedulerSchedule> {
    return this.schedules.values();
  }

  /** Adds or replaces a schedule made through the Scheduler API (local/scheduler), keyed by `key`. */
  putSchedule(key: string, schedule: SchedulerSchedule): void {
    this.schedules.set(key, schedule);
  }

  /** Removes a Scheduler API schedule. */
  removeSchedule(key: string): void {
    this.schedules.delete(key);
  }

  /** Validates and builds a rule as PutRule would; shared by the template and the PutRule API. */
  buildRule(spec: RuleSpec): Rule {
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

  /** Warns about targets the local cloud skips, cannot find, or whose input settings it ignores. */
  warnAboutTargets(owner: string, targets: readonly CompiledTarget[]): void {
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

  /**
   * True when the template defines the queue, function (any qualifier) or state machine a target names —
   * everything that exists in the local cloud.
   */
  targetExists(kind: 'sqs' | 'lambda' | 'states', arn: string): boolean {
    if (kind === 'lambda') {
      const name = arn.split(':function:')[1]?.split(':')[0];
      return this.template.ofType('AWS::Lambda::Function').some((resource) => resource.name === name);
    }
    const type = kind === 'sqs' ? 'AWS::SQS::Queue' : 'AWS::StepFunctions::StateMachine';
    return this.template.byArn(arn)?.type === type;
  }

  private addBus(name: string, description?: string): void {
    if (this.buses.has(name)) return;
    this.buses.set(name, {
      name,
      arn: eventBusArn(this.template.region, this.template.accountId, name),
      description,
    });
    this.rules.set(name, new Map());
  }

  /**
   * An `AWS::Events::Archive`, validated as CreateArchive would: its source must be a bus of this template
   * and its pattern valid; RetentionDays is a non-negative integer (0 or absent: indefinitely).
   */
  private loadArchive(
    logicalId: string,
    name: string,
    arn: string,
    properties: Record<string, unknown>,
  ): void {
    const fail = (message: string): Error => new Error(`AWS::Events::Archive ${logicalId}: ${message}`);
    const parsed = TemplateArchiveProperties.safeParse(properties);
    if (!parsed.success) throw fail(z.prettifyError(parsed.error));
    const props = parsed.data;
    const busName = busNameOf(props.SourceArn);
    if (!props.SourceArn.includes(':event-bus/') || !this.buses.has(busName)) {
      throw fail(`SourceArn ${props.SourceArn} is not an event bus of the template`);
    }
    let matcher: EventMatcher | undefined;
    let patternText: string | undefined;
    if (props.EventPattern !== undefined) {
      patternText =
        typeof props.EventPattern === 'string' ? props.EventPattern : JSON.stringify(props.EventPattern);
      try {
        matcher = compilePattern(props.EventPattern as Record<string, unknown> | string);
      } catch (error) {
        throw fail((error as Error).message);
      }
    }
    this.archives.set(name, {
      name,
      arn,
      logicalId,
      eventSourceArn: props.SourceArn,
      busName,
      description: props.Description,
      patternText,
      matcher,
      retentionDays: props.RetentionDays ?? 0,
      kmsKeyIdentifier: props.KmsKeyIdentifier || undefined,
    });
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
        roleArn: typeof target.RoleArn === 'string' ? target.RoleArn : undefined,
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
}

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

/** `AWS::Events::Archive` properties the local bus reads. */
const TemplateArchiveProperties = z
  .object({
    SourceArn: z.string().min(1),
    Description: z.string().max(512).optional(),
    EventPattern: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    RetentionDays: z.coerce.number().int().min(0).optional(),
    KmsKeyIdentifier: z.string().optional(),
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
