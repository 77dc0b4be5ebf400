/**
 * The EventBridge Scheduler API on the local AWS endpoint (`AWS_ENDPOINT_URL_SCHEDULER`), as the hub calls it:
 * `CreateSchedule`, `UpdateSchedule`, `GetSchedule`, `DeleteSchedule`. Scheduler speaks REST-JSON (restJson1), not
 * the `X-Amz-Target` JSON protocol (API Reference, https://docs.aws.amazon.com/scheduler/latest/APIReference/):
 *
 * - `CreateSchedule` — `POST /schedules/{Name}`; `UpdateSchedule` — `PUT /schedules/{Name}` (replaces the whole
 *   definition: every required field again); both answer `{"ScheduleArn"}`;
 * - `GetSchedule` — `GET /schedules/{Name}?groupName=`; `DeleteSchedule` — `DELETE /schedules/{Name}?groupName=`.
 *
 * Validation is the API reference's: `Name`/`GroupName` `^[0-9a-zA-Z-_.]+$`, 1–64; `FlexibleTimeWindow` required,
 * `Mode` `OFF` | `FLEXIBLE`, `MaximumWindowInMinutes` 1–1440 and only (and always) with `FLEXIBLE`;
 * `ActionAfterCompletion` `NONE` | `DELETE`; `State` `ENABLED` | `DISABLED`; `Target.RoleArn` an IAM role ARN;
 * `RetryPolicy` 0–185 attempts, 60–86,400 s; `Input` ≤ 8,192 characters; `ClientToken` `^[a-zA-Z0-9-_]+$`, 1–64;
 * the group must exist (`default`, or an `AWS::Scheduler::ScheduleGroup` of the template); a name taken in the
 * group is `ConflictException` (409), an unknown schedule or group `ResourceNotFoundException` (404). Errors carry
 * `x-amzn-errortype` and `{"Message"}`.
 *
 * IAM as AWS evaluates it: the caller needs `scheduler:<Operation>` on the schedule's ARN
 * (`arn:aws:scheduler:<region>:<account>:schedule/<group>/<name>`), and creating or updating one also needs
 * `iam:PassRole` on the target's execution role ("Set up the execution role", Scheduler User Guide). The
 * schedule then reaches its target through that role, as template schedules do (local/eventbridge/delivery.ts).
 *
 * One-time `at()` schedules fire once, at their time (60-second precision in AWS: "between 1:00:00 and
 * 1:00:59"; locally at the second named, never before); `ActionAfterCompletion: DELETE` then deletes them. Time
 * zones other than UTC are refused locally rather than evaluated wrongly.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { LocalEventBridge } from '../eventbridge/bus.ts';
import type { SchedulerSchedule } from '../eventbridge/registry.ts';
import { parseScheduleExpression, type ScheduleExpression } from '../eventbridge/schedule.ts';
import {
  DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
  DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
  targetKindOf,
  validateDeadLetterArn,
} from '../eventbridge/targets.ts';
import type { AuthorizationRequest, LocalIam } from '../iam/local-iam.ts';
import type { LocalTemplate } from '../template.ts';
import type { Caller } from '../types.ts';

const PREFIX = '/schedules/';
const NAME = /^[0-9a-zA-Z\-_.]+$/;

/** A Scheduler error: its type goes in `x-amzn-errortype`, its status is the API reference's. */
export class SchedulerError extends Error {
  constructor(
    readonly type:
      | 'ValidationException'
      | 'ConflictException'
      | 'ResourceNotFoundException'
      | 'AccessDeniedException'
      | 'UnrecognizedClientException',
    message: string,
    readonly status: number,
  ) {
    super(message);
    this.name = type;
  }
}

const invalid = (message: string) => new SchedulerError('ValidationException', message, 400);

const Name = z.string().min(1).max(64).regex(NAME);

const ScheduleInput = z.strictObject({
  ActionAfterCompletion: z.enum(['NONE', 'DELETE']).optional(),
  ClientToken: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-zA-Z0-9\-_]+$/)
    .optional(),
  Description: z.string().max(512).optional(),
  EndDate: z.number().optional(),
  FlexibleTimeWindow: z.strictObject({
    Mode: z.enum(['OFF', 'FLEXIBLE']),
    MaximumWindowInMinutes: z.number().int().min(1).max(1440).optional(),
  }),
  GroupName: Name.optional(),
  KmsKeyArn: z.string().min(1).max(2048).optional(),
  ScheduleExpression: z.string().min(1).max(256),
  ScheduleExpressionTimezone: z.string().min(1).max(50).optional(),
  StartDate: z.number().optional(),
  State: z.enum(['ENABLED', 'DISABLED']).optional(),
  Target: z.strictObject({
    Arn: z.string().min(1).max(1600),
    RoleArn: z
      .string()
      .min(1)
      .max(1600)
      .regex(/^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[\w+=,.@/-]+$/),
    DeadLetterConfig: z.strictObject({ Arn: z.string().min(1).max(1600) }).optional(),
    Input: z.string().min(1).max(8192).optional(),
    RetryPolicy: z
      .strictObject({
        MaximumEventAgeInSeconds: z.number().int().min(60).max(86_400).optional(),
        MaximumRetryAttempts: z.number().int().min(0).max(185).optional(),
      })
      .optional(),
    SqsParameters: z.strictObject({ MessageGroupId: z.string().min(1).max(128).optional() }).optional(),
    EventBridgeParameters: z
      .strictObject({ DetailType: z.string().min(1).max(128), Source: z.string().min(1).max(256) })
      .optional(),
  }),
});
type ScheduleInput = z.infer<typeof ScheduleInput>;

/** A schedule as the API keeps it (what `GetSchedule` answers) and the compiled one that fires. */
interface StoredSchedule {
  readonly name: string;
  readonly group: string;
  readonly arn: string;
  readonly input: ScheduleInput;
  readonly createdAt: Date;
  readonly modifiedAt: Date;
}

export interface SchedulerApiOptions {
  readonly now?: () => Date;
}

export class LocalSchedulerApi {
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly groups: ReadonlySet<string>;
  private readonly now: () => Date;

  constructor(
    private readonly template: LocalTemplate,
    private readonly bus: LocalEventBridge,
    private readonly iam?: LocalIam,
    options: SchedulerApiOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.groups = new Set([
      'default',
      ...template
        .ofType('AWS::Scheduler::ScheduleGroup')
        .map((group) => String(group.properties.Name ?? group.name)),
    ]);
    bus.onScheduleCompleted({
      completed: (schedule) => {
        for (const [key, stored] of this.schedules) {
          if (stored.arn !== schedule.arn) continue;
          this.schedules.delete(key);
          this.bus.removeSchedule(key);
        }
      },
    });
  }

  /** The schedules made through the API (for `/_local` pages and tests). */
  list(): { name: string; group: string; expression: string; state: string }[] {
    return [...this.schedules.values()].map((s) => ({
      name: s.name,
      group: s.group,
      expression: s.input.ScheduleExpression,
      state: s.input.State ?? 'ENABLED',
    }));
  }

  /** Answers the request when it is a Scheduler API call; false otherwise. */
  async handle(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<boolean> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!url.pathname.startsWith(PREFIX)) return false;
    try {
      const name = decodeURIComponent(url.pathname.slice(PREFIX.length));
      if (!Name.safeParse(name).success)
        throw invalid(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint`);
      const caller: Caller = this.iam ? this.iam.identify(req.headers, req.url) : { kind: 'admin' };
      switch (req.method) {
        case 'POST':
          return this.send(res, 200, this.create(caller, name, parseBody(body)));
        case 'PUT':
          return this.send(res, 200, this.update(caller, name, parseBody(body)));
        case 'GET':
          return this.send(res, 200, this.get(caller, name, url.searchParams.get('groupName') ?? undefined));
        case 'DELETE':
          return this.send(
            res,
            200,
            this.delete(caller, name, url.searchParams.get('groupName') ?? undefined),
          );
        default:
          throw invalid(`${req.method} is not a Scheduler operation on /schedules/{Name}`);
      }
    } catch (error) {
      const e = toSchedulerError(error);
      res.writeHead(e.status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        'x-amzn-errortype': e.type,
      });
      res.end(JSON.stringify({ Message: e.message }));
      return true;
    }
  }

  private send(res: ServerResponse, status: number, body: unknown): true {
    res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify(body));
    return true;
  }

  private arnOf(group: string, name: string): string {
    return `arn:aws:scheduler:${this.template.region}:${this.template.accountId}:schedule/${group}/${name}`;
  }

  private requireGroup(group: string): void {
    if (!this.groups.has(group))
      throw new SchedulerError('ResourceNotFoundException', `Schedule group ${group} does not exist.`, 404);
  }

  private authorize(caller: Caller, action: string, arn: string, passRole?: string): void {
    if (!this.iam) return;
    const requests: AuthorizationRequest[] = [{ action: `scheduler:${action}`, resource: arn }];
    if (passRole)
      requests.push({
        action: 'iam:PassRole',
        resource: passRole,
        context: { 'iam:passedtoservice': ['scheduler.amazonaws.com'] },
      });
    const denial = this.iam.authorize(caller, requests);
    if (denial) throw new SchedulerError('AccessDeniedException', denial.message, 403);
  }

  private create(caller: Caller, name: string, raw: unknown): { ScheduleArn: string } {
    const input = validate(raw);
    const group = input.GroupName ?? 'default';
    const arn = this.arnOf(group, name);
    this.authorize(caller, 'CreateSchedule', arn, input.Target.RoleArn);
    this.requireGroup(group);
    const key = keyOf(group, name);
    if (this.schedules.has(key))
      throw new SchedulerError('ConflictException', `Schedule ${name} already exists.`, 409);
    this.store(key, { name, group, arn, input, createdAt: this.now(), modifiedAt: this.now() });
    return { ScheduleArn: arn };
  }

  private update(caller: Caller, name: string, raw: unknown): { ScheduleArn: string } {
    const input = validate(raw);
    const group = input.GroupName ?? 'default';
    const arn = this.arnOf(group, name);
    this.authorize(caller, 'UpdateSchedule', arn, input.Target.RoleArn);
    this.requireGroup(group);
    const key = keyOf(group, name);
    const current = this.schedules.get(key);
    if (!current)
      throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    this.store(key, { ...current, input, modifiedAt: this.now() });
    return { ScheduleArn: arn };
  }

  private get(caller: Caller, name: string, groupName: string | undefined): Record<string, unknown> {
    const group = groupName ?? 'default';
    this.authorize(caller, 'GetSchedule', this.arnOf(group, name));
    this.requireGroup(group);
    const s = this.schedules.get(keyOf(group, name));
    if (!s) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    const { ClientToken: _token, ...definition } = s.input;
    return {
      ...definition,
      ActionAfterCompletion: s.input.ActionAfterCompletion ?? 'NONE',
      Arn: s.arn,
      CreationDate: s.createdAt.getTime() / 1000,
      GroupName: s.group,
      LastModificationDate: s.modifiedAt.getTime() / 1000,
      Name: s.name,
      State: s.input.State ?? 'ENABLED',
    };
  }

  private delete(caller: Caller, name: string, groupName: string | undefined): Record<string, never> {
    const group = groupName ?? 'default';
    this.authorize(caller, 'DeleteSchedule', this.arnOf(group, name));
    this.requireGroup(group);
    const key = keyOf(group, name);
    if (!this.schedules.has(key))
      throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`, 404);
    this.schedules.delete(key);
    this.bus.removeSchedule(key);
    return {};
  }

  private store(key: string, stored: StoredSchedule): void {
    this.schedules.set(key, stored);
    this.bus.putSchedule(key, compile(stored, parseExpression(stored.input)));
  }
}

/** The registry key of an API schedule (template schedules are keyed by their bare name). */
function keyOf(group: string, name: string): string {
  return `scheduler-api/${group}/${name}`;
}

function parseBody(body: Buffer): unknown {
  try {
    return body.length ? JSON.parse(body.toString('utf8')) : {};
  } catch {
    throw invalid('request body is not JSON');
  }
}

function validate(raw: unknown): ScheduleInput {
  const parsed = ScheduleInput.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw invalid(`1 validation error detected: ${issue?.path.join('.') || 'body'}: ${issue?.message}`);
  }
  const input = parsed.data;
  const window = input.FlexibleTimeWindow;
  if (window.Mode === 'FLEXIBLE' && window.MaximumWindowInMinutes === undefined)
    throw invalid('MaximumWindowInMinutes must be provided when Mode is FLEXIBLE.');
  if (window.Mode === 'OFF' && window.MaximumWindowInMinutes !== undefined)
    throw invalid('MaximumWindowInMinutes must not be provided when Mode is OFF.');
  const zone = input.ScheduleExpressionTimezone;
  if (zone !== undefined && !/^(UTC|Etc\/UTC)$/.test(zone))
    throw invalid(`ScheduleExpressionTimezone ${zone}: only UTC is evaluated by the local cloud.`);
  try {
    validateDeadLetterArn('Target', input.Target.DeadLetterConfig?.Arn);
  } catch (error) {
    throw invalid((error as Error).message);
  }
  parseExpression(input);
  return input;
}

function parseExpression(input: ScheduleInput): ScheduleExpression {
  try {
    return parseScheduleExpression(input.ScheduleExpression, { allowAt: true });
  } catch (error) {
    throw invalid(`Invalid Schedule Expression ${input.ScheduleExpression}: ${(error as Error).message}`);
  }
}

function compile(stored: StoredSchedule, expression: ScheduleExpression): SchedulerSchedule {
  const { input } = stored;
  const target = input.Target;
  return {
    name: stored.name,
    arn: stored.arn,
    logicalId: `scheduler-api:${stored.group}/${stored.name}`,
    state: input.State ?? 'ENABLED',
    expression,
    // "EventBridge Scheduler ignores StartDate and EndDate for one-time schedules."
    startDate:
      expression.kind === 'at' || input.StartDate === undefined
        ? undefined
        : new Date(input.StartDate * 1000),
    endDate:
      expression.kind === 'at' || input.EndDate === undefined ? undefined : new Date(input.EndDate * 1000),
    actionAfterCompletion: input.ActionAfterCompletion ?? 'NONE',
    target: {
      arn: target.Arn,
      kind: targetKindOf(target.Arn),
      roleArn: target.RoleArn,
      input: target.Input,
      messageGroupId: target.SqsParameters?.MessageGroupId,
      eventBridge: target.EventBridgeParameters
        ? { detailType: target.EventBridgeParameters.DetailType, source: target.EventBridgeParameters.Source }
        : undefined,
      maximumRetryAttempts: target.RetryPolicy?.MaximumRetryAttempts ?? DEFAULT_MAXIMUM_RETRY_ATTEMPTS,
      maximumEventAgeSeconds:
        target.RetryPolicy?.MaximumEventAgeInSeconds ?? DEFAULT_MAXIMUM_EVENT_AGE_SECONDS,
      deadLetterArn: target.DeadLetterConfig?.Arn,
    },
  };
}

function toSchedulerError(error: unknown): SchedulerError {
  if (error instanceof SchedulerError) return error;
  const e = error as Error;
  if (e.name === 'UnrecognizedClientException')
    return new SchedulerError('UnrecognizedClientException', e.message, 403);
  if (e.name === 'AccessDeniedException') return new SchedulerError('AccessDeniedException', e.message, 403);
  throw error;
}
