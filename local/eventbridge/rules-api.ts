/**
 * The EventBridge API of the local cloud (AWS JSON protocol, target prefix `AWSEvents`): PutEvents,
 * TestEventPattern and the rule and target operations, answered with EventBridge's response shapes and error
 * types so the AWS SDK and CLI work against it.
 *
 * Reference: the Amazon EventBridge API Reference (`TestEventPattern`, `PutRule`, `PutTargets`,
 * `RemoveTargets`, `DeleteRule`, `EnableRule`, `DisableRule`, `ListRules`, `DescribeRule`,
 * `ListTargetsByRule`).
 */
import { z } from 'zod';
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { PutEventsEntry, PutEventsResult } from '../types.ts';
import { type ArchiveDefinition, archiveContents, type EventArchive } from './archive.ts';
import { InvalidTargetInputError } from './input-transformer.ts';
import { compilePattern, InvalidEventPatternError } from './pattern.ts';
import { type Rule, type RuleRegistry, RuleStateSchema } from './registry.ts';
import type { Replays } from './replay.ts';
import { InvalidScheduleExpressionError } from './schedule.ts';
import { compileRuleTarget, InvalidTargetError, MAX_TARGETS_PER_RULE } from './targets.ts';

/** What the API hands on: accepted events, and rule changes the timers must follow. */
export interface RulesApiPorts {
  readonly accountId: string;
  putEvents(entries: readonly PutEventsEntry[]): PutEventsResult;
  /** A rule was created, replaced, enabled or disabled. */
  ruleChanged(rule: Rule): void;
  ruleDeleted(rule: Rule): void;
  /** The bus journal (archive contents are views of it) and the replays over it. */
  readonly journal: EventArchive;
  readonly replays: Replays;
  /** When the buses and archives were created locally (`CreationTime`). */
  readonly createdAt: Date;
  now(): Date;
}

/** The `AWSEvents` operations over one registry of buses and rules. */
export class RulesApi {
  constructor(
    private readonly registry: RuleRegistry,
    private readonly ports: RulesApiPorts,
  ) {}

  /**
   * The AWS JSON-protocol handler for the `AWSEvents` target prefix: PutEvents, TestEventPattern, ListRules,
   * DescribeRule, ListTargetsByRule, PutRule, PutTargets, RemoveTargets, DeleteRule, EnableRule, DisableRule.
   *
   * @throws AwsServiceError with EventBridge's error type for invalid requests and unknown operations.
   */
  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'PutEvents':
        return this.ports.putEvents(parseInput(PutEventsInput, input).Entries as PutEventsEntry[]);
      case 'TestEventPattern':
        return testEventPattern(parseInput(TestEventPatternInput, input));
      case 'ListRules':
        return this.listRules(parseInput(ListRulesInput, input));
      case 'DescribeRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.registry.requireRule(Name, EventBusName);
        return { ...describe(rule), CreatedBy: this.ports.accountId };
      }
      case 'ListTargetsByRule': {
        const { Rule: name, EventBusName } = parseInput(TargetsRefInput, input);
        return {
          Targets: this.registry.requireRule(name, EventBusName).targets.map((target) => target.definition),
        };
      }
      case 'PutRule':
        return this.putRule(parseInput(PutRuleInput, input));
      case 'PutTargets':
        return this.putTargets(parseInput(PutTargetsInput, input));
      case 'RemoveTargets': {
        const { Rule: name, EventBusName, Ids } = parseInput(RemoveTargetsInput, input);
        const rule = this.registry.requireRule(name, EventBusName);
        rule.targets = rule.targets.filter((target) => !Ids.includes(target.id));
        return { FailedEntryCount: 0, FailedEntries: [] };
      }
      case 'DeleteRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.registry.findRule(Name, EventBusName);
        if (!rule) return {};
        if (rule.targets.length > 0)
          throw new AwsServiceError('ValidationException', "Rule can't be deleted since it has targets.");
        this.registry.deleteRule(rule);
        this.ports.ruleDeleted(rule);
        return {};
      }
      case 'EnableRule':
      case 'DisableRule': {
        const { Name, EventBusName } = parseInput(RuleRefInput, input);
        const rule = this.registry.requireRule(Name, EventBusName);
        rule.state = operation === 'EnableRule' ? 'ENABLED' : 'DISABLED';
        this.ports.ruleChanged(rule);
        return {};
      }
      case 'ListEventBuses':
        return this.listEventBuses(parseInput(ListInput, input));
      case 'DescribeEventBus': {
        const { Name } = parseInput(DescribeEventBusInput, input);
        const name = this.registry.requireBus(Name);
        const bus = this.registry.allBuses().find((candidate) => candidate.name === name);
        return {
          Name: name,
          Arn: bus?.arn,
          ...(bus?.description === undefined ? {} : { Description: bus.description }),
          CreationTime: this.ports.createdAt.getTime() / 1000,
          LastModifiedTime: this.ports.createdAt.getTime() / 1000,
        };
      }
      case 'ListArchives':
        return this.listArchives(parseInput(ListArchivesInput, input));
      case 'DescribeArchive': {
        const archive = this.registry.requireArchive(parseInput(ArchiveRefInput, input).ArchiveName);
        return {
          ArchiveArn: archive.arn,
          ...this.archiveSummary(archive),
          ...(archive.description === undefined ? {} : { Description: archive.description }),
          ...(archive.patternText === undefined ? {} : { EventPattern: archive.patternText }),
          ...(archive.kmsKeyIdentifier === undefined ? {} : { KmsKeyIdentifier: archive.kmsKeyIdentifier }),
        };
      }
      case 'StartReplay':
        return this.ports.replays.start(parseInput(StartReplayInput, input));
      case 'DescribeReplay':
        return this.ports.replays.describe(parseInput(ReplayRefInput, input).ReplayName);
      case 'ListReplays':
        return this.ports.replays.list(parseInput(ListReplaysInput, input));
      case 'CancelReplay':
        return this.ports.replays.cancel(parseInput(ReplayRefInput, input).ReplayName);
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `Operation ${operation} is not supported by the local EventBridge`,
        );
    }
  }

  private listEventBuses(input: z.infer<typeof ListInput>) {
    const all = this.registry
      .allBuses()
      .filter((bus) => input.NamePrefix === undefined || bus.name.startsWith(input.NamePrefix))
      .map((bus) => ({
        Name: bus.name,
        Arn: bus.arn,
        ...(bus.description === undefined ? {} : { Description: bus.description }),
        CreationTime: this.ports.createdAt.getTime() / 1000,
        LastModifiedTime: this.ports.createdAt.getTime() / 1000,
      }));
    return page('EventBuses', all, input);
  }

  private listArchives(input: z.infer<typeof ListArchivesInput>) {
    const all = this.registry
      .allArchives()
      .filter(
        (archive) =>
          (input.NamePrefix === undefined || archive.name.startsWith(input.NamePrefix)) &&
          (input.EventSourceArn === undefined || archive.eventSourceArn === input.EventSourceArn) &&
          (input.State === undefined || input.State === 'ENABLED'),
      )
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((archive) => this.archiveSummary(archive));
    return page('Archives', all, input);
  }

  /** The fields ListArchives and DescribeArchive share; counts and size are those of the archive now. */
  private archiveSummary(archive: ArchiveDefinition): Record<string, unknown> {
    const contents = archiveContents(archive, this.ports.journal, this.ports.now());
    return {
      ArchiveName: archive.name,
      EventSourceArn: archive.eventSourceArn,
      State: 'ENABLED',
      RetentionDays: archive.retentionDays,
      SizeBytes: contents.reduce((sum, record) => sum + Buffer.byteLength(JSON.stringify(record.event)), 0),
      EventCount: contents.length,
      CreationTime: this.ports.createdAt.getTime() / 1000,
    };
  }

  private listRules(input: z.infer<typeof ListRulesInput>): {
    Rules: Record<string, unknown>[];
    NextToken?: string;
  } {
    const busName = this.registry.requireBus(input.EventBusName);
    const all = [...this.registry.rulesOn(busName)]
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
    const busName = this.registry.requireBus(input.EventBusName);
    const existing = this.registry.findRule(input.Name, busName);
    let rule: Rule;
    try {
      rule = this.registry.buildRule({
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
    this.registry.setRule(rule);
    this.ports.ruleChanged(rule);
    return { RuleArn: rule.arn };
  }

  private putTargets(input: z.infer<typeof PutTargetsInput>): {
    FailedEntryCount: number;
    FailedEntries: { TargetId: string; ErrorCode: string; ErrorMessage: string }[];
  } {
    const rule = this.registry.requireRule(input.Rule, input.EventBusName);
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
        this.registry.warnAboutTargets(rule.name, [target]);
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

/**
 * TestEventPattern: whether the event matches the pattern, by the matcher the rules use. The event must be a
 * JSON object with the fields the API Reference names mandatory; a pattern EventBridge would refuse is an
 * InvalidEventPatternException.
 */
function testEventPattern(input: z.infer<typeof TestEventPatternInput>): { Result: boolean } {
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

/** One page of a List operation: `Limit` items from the offset in `NextToken`. */
function page<K extends string, T>(
  key: K,
  all: readonly T[],
  input: { NextToken?: string | undefined; Limit?: number | undefined },
): Record<K, T[]> & { NextToken?: string } {
  const offset = input.NextToken === undefined ? 0 : Number(input.NextToken);
  if (!Number.isInteger(offset) || offset < 0)
    throw new AwsServiceError('ValidationException', 'The NextToken is not valid.');
  const limit = input.Limit ?? 100;
  const items = all.slice(offset, offset + limit);
  const result = { [key]: items } as Record<K, T[]> & { NextToken?: string };
  if (offset + limit < all.length) result.NextToken = String(offset + limit);
  return result;
}

function parseInput<T extends z.ZodType>(schema: T, input: Record<string, unknown>): z.infer<T> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new AwsServiceError('ValidationException', z.prettifyError(parsed.error));
  return parsed.data;
}

/** Entries stay loosely typed here: PutEvents reports a bad entry in its result, not as a request error. */
const PutEventsInput = z
  .object({ Entries: z.array(z.record(z.string(), z.unknown())), EndpointId: z.string().optional() })
  .loose();
/** "EventPattern … Length Constraints: Maximum length of 4096." (API Reference, TestEventPattern) */
const TestEventPatternInput = z.object({ EventPattern: z.string().max(4096), Event: z.string() });
const ListRulesInput = z.object({
  NamePrefix: z.string().optional(),
  EventBusName: z.string().optional(),
  NextToken: z.string().optional(),
  Limit: z.number().int().min(1).max(100).optional(),
});
const ListInput = z.object({
  NamePrefix: z.string().min(1).max(256).optional(),
  NextToken: z.string().optional(),
  Limit: z.number().int().min(1).max(100).optional(),
});
const DescribeEventBusInput = z.object({ Name: z.string().min(1).max(1600).optional() });
const ListArchivesInput = ListInput.extend({
  EventSourceArn: z.string().optional(),
  State: z.enum(['ENABLED', 'DISABLED', 'CREATING', 'UPDATING', 'CREATE_FAILED', 'UPDATE_FAILED']).optional(),
});
const ArchiveRefInput = z.object({
  ArchiveName: z
    .string()
    .min(1)
    .max(48)
    .regex(/^[.\-_A-Za-z0-9]+$/),
});
/** "ReplayName … Length Constraints: Minimum length of 1. Maximum length of 64. Pattern: [\.\-_A-Za-z0-9]+" */
const ReplayNameSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[.\-_A-Za-z0-9]+$/);
const ReplayRefInput = z.object({ ReplayName: ReplayNameSchema });
const StartReplayInput = z.object({
  ReplayName: ReplayNameSchema,
  Description: z.string().max(512).optional(),
  EventSourceArn: z.string().min(1).max(1600),
  EventStartTime: z.number(),
  EventEndTime: z.number(),
  Destination: z.object({
    Arn: z.string().min(1).max(1600),
    FilterArns: z.array(z.string().min(1).max(1600)).optional(),
  }),
});
const ListReplaysInput = ListInput.extend({
  State: z.enum(['STARTING', 'RUNNING', 'CANCELLING', 'COMPLETED', 'CANCELLED', 'FAILED']).optional(),
  EventSourceArn: z.string().optional(),
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
