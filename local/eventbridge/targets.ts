/**
 * Rule and schedule targets: their settings (validated as `PutTargets` would), what kind of resource an ARN
 * names, and how a failed delivery is classified for the retry policy and the dead-letter queue.
 *
 * Reference: Amazon EventBridge User Guide, "Event retry policy and using dead-letter queues" (defaults of 24
 * hours and 185 attempts, exponential back-off with jitter, errors that skip retries, the DLQ's message
 * attributes and ERROR_CODE values) and the API Reference's `Target`, `RetryPolicy` and `DeadLetterConfig`.
 */
import * as z from 'zod';
import { compileTargetInput, type InputRenderer } from './input-transformer.ts';

/** What a target ARN points at; only these are delivered locally. */
export type TargetKind = 'sqs' | 'lambda' | 'states' | 'events' | 'unsupported';

/** "By default, EventBridge retries sending the event for 24 hours and up to 185 times." */
export const DEFAULT_MAXIMUM_RETRY_ATTEMPTS = 185;
export const DEFAULT_MAXIMUM_EVENT_AGE_SECONDS = 86_400;
/** EventBridge quotas, Targets: "Maximum 5 targets per rule." */
export const MAX_TARGETS_PER_RULE = 5;

/** A target's retry policy, as EventBridge rules and Scheduler schedules both declare it. */
export const RetryPolicySchema = z.object({
  MaximumRetryAttempts: z.coerce.number().int().min(0).max(185).optional(),
  MaximumEventAgeInSeconds: z.coerce.number().int().min(60).max(86_400).optional(),
});

/** Where a target's undeliverable events go (an SQS queue ARN). */
export const DeadLetterConfigSchema = z.object({ Arn: z.string().optional() });

/** A target as `AWS::Events::Rule` `Targets` and `PutTargets` spell it; unknown parameters are kept. */
export const RuleTargetSchema = z
  .object({
    Id: z.string().min(1).max(64),
    Arn: z.string().min(1).max(1600),
    RoleArn: z.string().optional(),
    Input: z.string().max(8192).optional(),
    InputPath: z.string().max(256).optional(),
    InputTransformer: z
      .object({
        InputPathsMap: z.record(z.string(), z.string()).optional(),
        InputTemplate: z.string(),
      })
      .optional(),
    RetryPolicy: RetryPolicySchema.optional(),
    DeadLetterConfig: DeadLetterConfigSchema.optional(),
    SqsParameters: z.object({ MessageGroupId: z.string().optional() }).optional(),
  })
  .loose();

export type RuleTargetDefinition = z.infer<typeof RuleTargetSchema>;

/** What every target, a rule's or a schedule's, says about delivering to it: where, the retry budget, the DLQ. */
export interface TargetDeliverySettings {
  readonly arn: string;
  readonly kind: TargetKind;
  /**
   * The role EventBridge assumes to reach the target (`RoleArn`): needed for Step Functions and bus targets of a
   * rule and for every Scheduler target. SQS and Lambda targets of a rule use their resource-based policy instead.
   */
  readonly roleArn?: string | undefined;
  readonly messageGroupId?: string | undefined;
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly deadLetterArn?: string | undefined;
}

/** A target compiled once when its rule loads: the renderer, the retry budget and where failures go. */
export interface CompiledTarget extends TargetDeliverySettings {
  readonly id: string;
  readonly render: InputRenderer;
  /** The definition as given, for `ListTargetsByRule`. */
  readonly definition: Readonly<Record<string, unknown>>;
}

/** A target definition `PutTargets` would refuse. */
export class InvalidTargetError extends Error {
  constructor(
    readonly targetId: string,
    message: string,
  ) {
    super(message);
    this.name = 'InvalidTargetError';
  }
}

/** The service an ARN belongs to, as far as the local cloud can deliver to it. */
export function targetKindOf(arn: string): TargetKind {
  const service = arn.split(':')[2];
  if (service === 'sqs') return 'sqs';
  if (service === 'lambda' && arn.includes(':function:')) return 'lambda';
  if (service === 'states' && arn.includes(':stateMachine:')) return 'states';
  if (service === 'events' && arn.includes(':event-bus/')) return 'events';
  return 'unsupported';
}

/**
 * Validates and compiles one rule target.
 *
 * @throws InvalidTargetError for a definition EventBridge would reject: a bad shape, more than one input
 *   option, an invalid path or template, or a dead-letter queue that is not a standard SQS queue ("Only
 *   standard queues are supported. You can't use a FIFO queue for a DLQ in EventBridge.").
 */
export function compileRuleTarget(raw: unknown): CompiledTarget {
  const parsed = RuleTargetSchema.safeParse(raw);
  const id = typeof raw === 'object' && raw !== null && 'Id' in raw ? String(raw.Id) : '?';
  if (!parsed.success) throw new InvalidTargetError(id, `target ${id}: ${z.prettifyError(parsed.error)}`);
  const target = parsed.data;
  let render: InputRenderer;
  try {
    render = compileTargetInput(target);
  } catch (error) {
    throw new InvalidTargetError(target.Id, `target ${target.Id}: ${(error as Error).message}`);
  }
  const deadLetterArn = target.DeadLetterConfig?.Arn;
  validateDeadLetterArn(target.Id, deadLetterArn);
  return {
    id: target.Id,
    arn: target.Arn,
    kind: targetKindOf(target.Arn),
    roleArn: target.RoleArn,
    render,
    messageGroupId: target.SqsParameters?.MessageGroupId,
    maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
    maximumEventAgeSeconds: target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
    deadLetterArn,
    definition: raw as Record<string, unknown>,
  };
}

/** Rejects a dead-letter ARN that is not a standard SQS queue. */
export function validateDeadLetterArn(targetId: string, arn: string | undefined): void {
  if (arn === undefined) return;
  if (targetKindOf(arn) !== 'sqs') {
    throw new InvalidTargetError(
      targetId,
      `target ${targetId}: DeadLetterConfig.Arn ${arn} is not an SQS queue`,
    );
  }
  if (arn.endsWith('.fifo')) {
    throw new InvalidTargetError(
      targetId,
      `target ${targetId}: a FIFO queue cannot be a dead-letter queue (${arn})`,
    );
  }
}

/** Why a delivery failed, in the terms of the DLQ's ERROR_CODE / ERROR_MESSAGE attributes. */
export interface DeliveryFailure {
  /** One of the ERROR_CODE values the guide lists (NO_RESOURCE, NO_PERMISSIONS, THROTTLING, …). */
  readonly code: string;
  readonly message: string;
  /**
   * False for failures retrying cannot fix: "for errors that result from missing permissions to a target, or a
   * target resource that no longer exists, … EventBridge sends these events directly to the DLQ".
   */
  readonly retryable: boolean;
}

/**
 * Maps an error thrown by a local service call onto EventBridge's ERROR_CODE values, by the AWS error name
 * or code it carries (`name`, `code`, `Code`, `type`, `__type`). Anything unrecognised counts as a retryable
 * ERROR_FROM_TARGET.
 */
export function classifyDeliveryError(error: unknown): DeliveryFailure {
  const message = error instanceof Error ? error.message : String(error);
  const labels = errorLabels(error).join(' ');
  if (/NotFound|NonExistent|DoesNotExist|NoSuch/i.test(labels))
    return { code: 'NO_RESOURCE', message, retryable: false };
  if (/AccessDenied|NotAuthorized|Unauthorized|Forbidden/i.test(labels))
    return { code: 'NO_PERMISSIONS', message, retryable: false };
  if (/Throttl|TooManyRequests|RequestLimitExceeded|SlowDown/i.test(labels))
    return { code: 'THROTTLING', message, retryable: true };
  if (/Timeout|TimedOut|ETIMEDOUT/i.test(labels)) return { code: 'TIMEOUT', message, retryable: true };
  if (/ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENOTFOUND|EPIPE/i.test(labels))
    return { code: 'CONNECTION_FAILURE', message, retryable: true };
  return { code: 'ERROR_FROM_TARGET', message, retryable: true };
}

function errorLabels(error: unknown): string[] {
  if (typeof error !== 'object' || error === null) return [];
  const record = error as Record<string, unknown>;
  return ['name', 'code', 'Code', 'type', '__type']
    .map((key) => record[key])
    .filter((value): value is string => typeof value === 'string');
}

/**
 * The wait before retry number `retry` (0-based): exponential back-off with jitter, as EventBridge documents,
 * scaled by `baseMs` so tests run in milliseconds. The ceiling doubles per retry up to 64 × base; the wait is
 * drawn from the upper half of it, so it never collapses to zero.
 */
export function retryDelayMs(retry: number, baseMs: number, random: () => number = Math.random): number {
  const ceiling = baseMs * 2 ** Math.min(retry, 6);
  return ceiling / 2 + (random() * ceiling) / 2;
}

/** The render function's output as a Lambda payload: JSON when it parses, else the text itself. */
export function lambdaPayload(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

export type { InputRenderer };
