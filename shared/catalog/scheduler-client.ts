import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  type SchedulerClient as Scheduler,
} from '@aws-sdk/client-scheduler';
import { HubError } from '../errors.ts';
import type { SchedulePort } from './price-flow.ts';

/**
 * The price flow's one-time schedules on EventBridge Scheduler, through `@aws-sdk/client-scheduler`
 * (CreateSchedule, DeleteSchedule). The endpoint is the SDK's: `AWS_ENDPOINT_URL_SCHEDULER` when set (the
 * local cloud sets it for functions), else `https://scheduler.<region>.amazonaws.com`.
 *
 * CreateSchedule (API Reference, https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html):
 * `ScheduleExpression` `at(...)`, `FlexibleTimeWindow {Mode: OFF}` (on time, not "within a window"),
 * `ActionAfterCompletion: DELETE` (a fired one-time schedule deletes itself), the target (the price queue)
 * with the execution role, a `ClientToken` derived from the name and content (a retried create is the same
 * request); a name already taken (`ConflictException`) is success. DeleteSchedule of a missing schedule
 * (`ResourceNotFoundException`) is success.
 */

/** Scheduler answered with an error the caller should see (validation, access denied, …). */
export class SchedulerRequestError extends HubError {
  readonly code = 'SCHEDULER_REQUEST_FAILED';
  constructor(
    message: string,
    readonly type: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

export interface SchedulerClientOptions {
  /** The SDK client (`new SchedulerClient({})` in a function). */
  readonly client: Scheduler;
  /** The schedule group (its own, so IAM can be scoped to it). */
  readonly groupName: string;
  /** Where a fired schedule delivers `{kind:'price-due', at}`: the price queue. */
  readonly targetArn: string;
  /** The execution role Scheduler assumes to send to the queue. */
  readonly roleArn: string;
}

/** The SDK's service exceptions carry the error type as `name`, the status in `$metadata`. */
function requestError(operation: string, name: string, error: unknown): SchedulerRequestError {
  const e = error as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $retryable?: unknown;
  };
  const status = e.$metadata?.httpStatusCode;
  const type = e.name ?? 'Error';
  // No HTTP answer (network), a throttle or a 5xx: retry; anything else is the caller's error.
  const retryable = status === undefined || status === 429 || status >= 500 || Boolean(e.$retryable);
  return new SchedulerRequestError(
    `Scheduler ${operation} ${name}: ${type} ${e.message ?? ''}`,
    type,
    retryable,
  );
}

/** The price flow's {@link SchedulePort} on EventBridge Scheduler. */
export class SchedulerClient implements SchedulePort {
  constructor(private readonly options: SchedulerClientOptions) {}

  async ensure(name: string, expression: string, input: string): Promise<void> {
    try {
      await this.options.client.send(
        new CreateScheduleCommand({
          Name: name,
          GroupName: this.options.groupName,
          ActionAfterCompletion: 'DELETE',
          // Idempotent per schedule: the same name and content is the same request.
          ClientToken: createHash('sha256')
            .update(`${name}|${expression}|${input}`)
            .digest('hex')
            .slice(0, 64),
          FlexibleTimeWindow: { Mode: 'OFF' },
          ScheduleExpression: expression,
          ScheduleExpressionTimezone: 'UTC',
          Target: { Arn: this.options.targetArn, RoleArn: this.options.roleArn, Input: input },
        }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ConflictException') return;
      throw requestError('CreateSchedule', name, error);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }),
      );
    } catch (error) {
      if ((error as { name?: string }).name === 'ResourceNotFoundException') return;
      throw requestError('DeleteSchedule', name, error);
    }
  }
}
