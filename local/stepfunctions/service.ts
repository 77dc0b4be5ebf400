/**
 * The local Step Functions service: runs every state machine of the synthesized template with
 * aws-local-stepfunctions, sends Task states to the local cloud (Lambda, DynamoDB, EventBridge, SQS, nested
 * executions), implements the callback pattern (`.waitForTaskToken` with SendTaskSuccess/Failure/Heartbeat,
 * TimeoutSeconds and HeartbeatSeconds), and answers the Step Functions API (AWS JSON 1.0,
 * `AWSStepFunctions.*`) so handlers and tests use the real `@aws-sdk/client-sfn`.
 *
 * Limits (see README of the local cloud): JSONPath only, no JSONata and no `Assign` variables; no Distributed
 * Map (ItemReader/ResultWriter/ItemBatcher); no activities; `$$.State.EnteredTime`/`RetryCount` are not in
 * the context object; `$$.Execution.Input` inside a Map iteration or Parallel branch is that branch's input.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ExecutionError,
  type RunOptions,
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import { AwsServiceError } from '../aws/json-protocol.ts';
import type { LocalTemplate } from '../template.ts';
import type { LocalRuntime } from '../types.ts';
import {
  type JsonObject,
  MAX_TIMER_SECONDS,
  type PreparedMachine,
  prepareMachine,
  type StateInfo,
} from './definition.ts';
import { ExecutionHistory, type HistoryEvent } from './history.ts';
import {
  asText,
  dynamoDbTask,
  invokeFunctionResource,
  lambdaInvoke,
  parseResource,
  putEventsTask,
  sdkMetadata,
  sendMessageTask,
  TaskFailure,
  type TaskResource,
} from './integrations.ts';
import { ReferencePathError, referencePath } from './paths.ts';

/** Time scaling and endpoints; every field is optional (real time, endpoints from the environment). */
export interface LocalStepFunctionsOptions {
  /** Multiplies Wait state durations: 1 = real time (the default); tests use e.g. 0.001. */
  readonly waitTimeScale?: number;
  /** Multiplies Retry intervals (`IntervalSeconds`, `MaxDelaySeconds`); defaults to `waitTimeScale`. */
  readonly retryIntervalScale?: number;
  /**
   * Multiplies `TimeoutSeconds`/`HeartbeatSeconds` of tasks and of the state machine. Defaults to 1: these
   * bound real work, so they stay real unless a test wants a timeout to fire quickly.
   */
  readonly timeoutScale?: number;
  /** Endpoints of local services used through SDK clients; default `AWS_ENDPOINT_URL_DYNAMODB` / `AWS_ENDPOINT_URL`. */
  readonly endpoints?: { readonly dynamodb?: string };
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A read-only snapshot of one execution, for observability and tests. */
export interface ExecutionView {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly type: 'STANDARD' | 'EXPRESS';
  readonly status: ExecutionStatus;
  /** Input and output as JSON text, as DescribeExecution returns them. */
  readonly input: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate?: Date;
}

/** An execution as the local state keeps it (dates as ISO text). */
export interface PersistedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly status: ExecutionStatus;
  readonly startDate: string;
  readonly stopDate?: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  readonly traceHeader?: string;
}

type JsonValue = Parameters<StateMachine['run']>[0];
type TaskHandlers = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>;

/** "Express workflows can run for up to five minutes" (Developer Guide, "Choosing workflow type"). */
export const EXPRESS_MAX_SECONDS = 300;
/** "You can redrive … executions that failed, aborted, or timed out … within 14 days" (Developer Guide, "Redriving executions"). */
const REDRIVE_WINDOW_MS = 14 * 86_400_000;
/** At most 1,000 redrives of one execution (same page). */
const MAX_REDRIVES = 1000;

/** How long an execution may run: the machine's TimeoutSeconds, capped at five minutes for EXPRESS. */
function executionLimitSeconds(machine: PreparedMachine): number | undefined {
  if (machine.type === 'EXPRESS')
    return Math.min(machine.timeoutSeconds ?? EXPRESS_MAX_SECONDS, EXPRESS_MAX_SECONDS);
  return machine.timeoutSeconds;
}

/** Closed executions kept for Describe/List/idempotency before the oldest are forgotten. */
const MAX_CLOSED_EXECUTIONS = 10_000;
const NAME_FORBIDDEN = /[\s<>{}[\]?*"#%\\^|~`$&,;:/]/;

/** AWS's execution-name rule: 1–80 characters, no whitespace, brackets, wildcards, specials or controls. */
function validExecutionName(name: string): boolean {
  if (name.length < 1 || name.length > 80 || NAME_FORBIDDEN.test(name)) return false;
  return [...name].every((ch) => {
    const code = ch.charCodeAt(0);
    return code > 0x1f && (code < 0x7f || code > 0x9f);
  });
}
const STATE_MACHINE_ARN = /^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[^:]+$/;

/** Thrown into tasks still running when their execution closes; never caught by Retry/Catch. */
const closedFailure = () => new TaskFailure('States.Runtime', 'the execution was closed', false);

function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(closedFailure());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(closedFailure());
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** One running or closed execution. */
class Execution {
  status: ExecutionStatus = 'RUNNING';
  output: string | undefined;
  error: string | undefined;
  cause: string | undefined;
  stopDate: Date | undefined;
  /** Aborted when the execution closes, whatever the reason: ends waits, callbacks and timers. */
  controller = new AbortController();
  redriveCount = 0;
  redriveDate: Date | undefined;
  readonly history: ExecutionHistory;
  readonly startDate: Date;
  /** The library's handle, to abort the interpreter on StopExecution or timeout. */
  abortRun: (() => void) | undefined;
  /** Resolves once the execution is closed and its history complete. */
  done: Promise<void> = Promise.resolve();
  settled = false;
  /** The token minted for the Task whose Parameters are being evaluated right now (see `issueToken`). */
  private issued: string | undefined;
  readonly context: NonNullable<RunOptions['context']>;

  constructor(
    readonly arn: string,
    readonly name: string,
    readonly machine: PreparedMachine,
    readonly input: string,
    readonly traceHeader: string | undefined,
    startDate: Date = new Date(),
  ) {
    this.startDate = startDate;
    this.history = new ExecutionHistory(
      (state, libraryType) => machine.states.get(state)?.type ?? libraryType,
      (event) => {
        if (this.status !== 'RUNNING' || event.type !== 'ExecutionFailed') {
          return { status: this.status, error: this.error, cause: this.cause };
        }
        return { status: 'FAILED', ...normalizeFailure(event.Error, event.Cause) };
      },
    );
    const self = this;
    this.context = {
      Execution: {
        Id: arn,
        Name: name,
        RoleArn: machine.roleArn,
        RedriveCount: 0,
        StartTime: this.startDate.toISOString(),
      },
      StateMachine: { Id: machine.arn, Name: machine.name },
      // `$$.Task.Token` is read while the library evaluates a Task's Parameters, synchronously followed by
      // the call of that Task's handler, which takes the token (`takeToken`).
      Task: {
        get Token(): string {
          return self.issueToken();
        },
      },
    };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  private issueToken(): string {
    if (this.issued === undefined) {
      const token = Buffer.from(JSON.stringify({ v: 1, e: this.arn, n: randomUUID() })).toString('base64');
      this.issued = token;
      queueMicrotask(() => {
        if (this.issued === token) this.issued = undefined;
      });
    }
    return this.issued;
  }

  takeToken(): string | undefined {
    const token = this.issued;
    this.issued = undefined;
    return token;
  }

  view(): ExecutionView {
    return {
      executionArn: this.arn,
      stateMachineArn: this.machine.arn,
      name: this.name,
      type: this.machine.type,
      status: this.status,
      input: this.input,
      ...(this.output === undefined ? {} : { output: this.output }),
      ...(this.error === undefined ? {} : { error: this.error }),
      ...(this.cause === undefined ? {} : { cause: this.cause }),
      startDate: this.startDate,
      ...(this.stopDate ? { stopDate: this.stopDate } : {}),
    };
  }
}

/** A `.waitForTaskToken` task waiting for its token. */
interface CallbackTask {
  readonly execution: Execution;
  readonly stateName: string;
  /** False once the token can no longer be answered (completed, failed, timed out, execution closed). */
  open: boolean;
  readonly complete: (output: unknown) => void;
  readonly fail: (failure: TaskFailure) => void;
  readonly heartbeat: () => void;
  /** TimeoutSeconds passed: the library fails the state; the token only stops being answerable. */
  readonly retire: () => void;
}

/** The defaults the library gives a Fail state without Error/Cause, which AWS would not report. */
const FAIL_STATE_DEFAULTS = { error: 'FailStateError', cause: 'Execution failed because of a Fail state' };

function normalizeFailure(error: unknown, cause: unknown): { error?: string; cause?: string } {
  const errorText = typeof error === 'string' && error !== FAIL_STATE_DEFAULTS.error ? error : undefined;
  const causeText =
    cause === undefined || cause === null || cause === FAIL_STATE_DEFAULTS.cause
      ? undefined
      : typeof cause === 'string'
        ? cause
        : cause instanceof Error
          ? cause.message
          : JSON.stringify(cause);
  return {
    ...(errorText ? { error: errorText } : {}),
    ...(causeText && causeText !== errorText ? { cause: causeText } : {}),
  };
}

/** Error and cause of a library rejection, as DescribeExecution reports them. */
function failureOf(reason: unknown): { error?: string; cause?: string } {
  const inner = reason instanceof ExecutionError ? reason.cause : reason;
  if (!(inner instanceof Error)) return { error: 'States.Runtime', cause: String(inner) };
  if (inner instanceof TaskFailure) return normalizeFailure(inner.error, inner.causeText);
  // Errors of the interpreter itself (States.*, Fail states) carry ASL names; anything else is a crash.
  const known =
    'isRetryable' in inner || inner.name === FAIL_STATE_DEFAULTS.error || inner.name.startsWith('States.');
  return known
    ? normalizeFailure(inner.name, inner.message)
    : { error: 'States.Runtime', cause: inner.message };
}

function describeOutput(execution: Execution, parsed: boolean): Record<string, unknown> {
  const parse = (text: string | undefined) => (text === undefined ? null : (JSON.parse(text) as unknown));
  return {
    ExecutionArn: execution.arn,
    Input: parsed ? parse(execution.input) : execution.input,
    InputDetails: { Included: true },
    Name: execution.name,
    ...(execution.output === undefined
      ? {}
      : { Output: parsed ? parse(execution.output) : execution.output }),
    ...(execution.output === undefined ? {} : { OutputDetails: { Included: true } }),
    StartDate: execution.startDate.getTime(),
    StateMachineArn: execution.machine.arn,
    Status: execution.status,
    ...(execution.stopDate ? { StopDate: execution.stopDate.getTime() } : {}),
    ...(execution.error === undefined ? {} : { Error: execution.error }),
    ...(execution.cause === undefined ? {} : { Cause: execution.cause }),
  };
}

function str(input: Record<string, unknown>, field: string, required: true): string;
function str(input: Record<string, unknown>, field: string, required?: false): string | undefined;
function str(input: Record<string, unknown>, field: string, required = false): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) {
    if (required) {
      throw new AwsServiceError(
        'ValidationException',
        `1 validation error detected: '${field}' must not be null`,
      );
    }
    return undefined;
  }
  if (typeof value !== 'string') {
    throw new AwsServiceError('ValidationException', `'${field}' must be a string`);
  }
  return value;
}

/**
 * Step Functions for the local cloud. Construct it with the resolved template and the runtime the other
 * local services share; register `handle` with the AWS JSON router under `AWSStepFunctions`.
 */
export class LocalStepFunctions {
  private readonly machines = new Map<string, PreparedMachine>();
  private readonly interpreters = new Map<string, StateMachine>();
  private readonly all = new Map<string, Execution>();
  private readonly callbacks = new Map<string, CallbackTask>();
  private readonly waitTimeScale: number;
  private readonly timeoutScale: number;
  private dynamoDbClient: DynamoDBClient | undefined;

  constructor(
    private readonly template: LocalTemplate,
    private readonly runtime: LocalRuntime,
    private readonly options: LocalStepFunctionsOptions = {},
  ) {
    this.handle = this.handle.bind(this);
    this.waitTimeScale = options.waitTimeScale ?? 1;
    this.timeoutScale = options.timeoutScale ?? 1;
    const rewrite = {
      retryIntervalScale: options.retryIntervalScale ?? this.waitTimeScale,
      timeoutScale: this.timeoutScale,
    };
    for (const resource of template.ofType('AWS::StepFunctions::StateMachine')) {
      const machine = prepareMachine(resource, template.assemblyDir, rewrite);
      this.machines.set(machine.arn, machine);
      if (machine.unsupported) {
        // A machine that cannot run as AWS would run it stops the boot, naming it and the state at fault.
        throw new Error(
          `AWS::StepFunctions::StateMachine ${resource.logicalId} (${machine.name}) cannot run locally: ${machine.unsupported}`,
        );
      }
      for (const warning of machine.warnings) runtime.log.warn(warning, { stateMachine: machine.name });
      try {
        // Validate what AWS stores; run the rewritten definition (already validated through its original).
        new StateMachine(machine.original as unknown as StateMachineDefinition, {
          validationOptions: { checkArn: false },
        });
      } catch (error) {
        runtime.log.warn('state machine definition fails ASL validation; running it anyway', {
          stateMachine: machine.name,
          error: (error as Error).message,
        });
      }
      this.interpreters.set(
        machine.arn,
        new StateMachine(machine.runnable as unknown as StateMachineDefinition, {
          validationOptions: { noValidate: true },
        }),
      );
    }
  }

  /** ARNs of the state machines in the template (all of them, including those that cannot run). */
  stateMachineArns(): string[] {
    return [...this.machines.keys()];
  }

  /** Every execution so far, oldest first (observability; tests). */
  executions(stateMachineArn?: string): ExecutionView[] {
    return [...this.all.values()]
      .filter((execution) => !stateMachineArn || execution.machine.arn === stateMachineArn)
      .map((execution) => execution.view());
  }

  /**
   * Standard executions for the local state: the running ones (restarted from their input after a restart)
   * and the closed ones (so DescribeExecution, ListExecutions and the uniqueness of names survive a restart).
   * Express executions are not kept, as Step Functions keeps no record of them either.
   */
  snapshot(): PersistedExecution[] {
    return [...this.all.values()]
      .filter((execution) => execution.machine.type === 'STANDARD')
      .map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: execution.machine.arn,
        name: execution.name,
        input: execution.input,
        status: execution.status,
        startDate: execution.startDate.toISOString(),
        ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
        ...(execution.output === undefined ? {} : { output: execution.output }),
        ...(execution.error === undefined ? {} : { error: execution.error }),
        ...(execution.cause === undefined ? {} : { cause: execution.cause }),
        ...(execution.traceHeader ? { traceHeader: execution.traceHeader } : {}),
      }));
  }

  /**
   * Puts back executions saved by an earlier run. The local runner cannot resume an execution in the middle
   * of its definition, so one that was RUNNING starts again from its input, under the same name and ARN —
   * logged, and recorded in its history as a second `ExecutionStarted`.
   */
  restore(saved: readonly PersistedExecution[]): { restarted: string[] } {
    const restarted: string[] = [];
    for (const item of saved) {
      const machine = this.machines.get(item.stateMachineArn);
      if (!machine || this.all.has(item.executionArn)) continue;
      const execution = new Execution(
        item.executionArn,
        item.name,
        machine,
        item.input,
        item.traceHeader,
        new Date(item.startDate),
      );
      this.all.set(execution.arn, execution);
      execution.history.add('ExecutionStarted', {
        input: item.input,
        inputDetails: { truncated: false },
        roleArn: machine.roleArn,
        stateMachineArn: machine.arn,
      });
      if (item.status === 'RUNNING') {
        this.runtime.log.warn(
          'Step Functions: an execution that was running when the local cloud stopped starts again from its input (the local runner cannot resume it where it was)',
          { executionArn: execution.arn },
        );
        restarted.push(execution.arn);
        this.launch(execution, JSON.parse(item.input) as unknown);
        continue;
      }
      execution.status = item.status;
      execution.stopDate = item.stopDate === undefined ? undefined : new Date(item.stopDate);
      execution.output = item.output;
      execution.error = item.error;
      execution.cause = item.cause;
      execution.controller.abort();
      execution.settled = true;
    }
    return { restarted };
  }

  /** Resolves when no execution is running (executions waiting for a task token keep it pending). */
  async idle(): Promise<void> {
    for (;;) {
      const busy = [...this.all.values()].filter((execution) => !execution.settled);
      if (busy.length === 0) return;
      await Promise.all(busy.map((execution) => execution.done));
    }
  }

  /** `LocalRuntime.startExecution`: what EventBridge targets and the orchestrator call. */
  async startExecution(
    stateMachineArn: string,
    input: string,
    name?: string,
  ): Promise<{ executionArn: string; startDate: string }> {
    const execution = this.start(stateMachineArn, input, name, undefined);
    return { executionArn: execution.arn, startDate: execution.startDate.toISOString() };
  }

  /**
   * The AWS JSON-protocol handler for the `AWSStepFunctions` target prefix (bound, so it can be passed to
   * `AwsJsonRouter.register` as is). Errors are `AwsServiceError`s with the types the SDK models.
   */
  async handle(operation: string, input: Record<string, unknown>): Promise<unknown> {
    switch (operation) {
      case 'StartExecution': {
        const execution = this.start(
          str(input, 'stateMachineArn', true),
          str(input, 'input'),
          str(input, 'name'),
          str(input, 'traceHeader'),
        );
        return { executionArn: execution.arn, startDate: epochSeconds(execution.startDate) };
      }
      case 'StartSyncExecution':
        return this.startSync(input);
      case 'DescribeExecution':
        return this.describe(this.execution(str(input, 'executionArn', true)));
      case 'ListExecutions':
        return this.list(input);
      case 'RedriveExecution':
        return this.redrive(this.execution(str(input, 'executionArn', true)));
      case 'StopExecution': {
        const execution = this.execution(str(input, 'executionArn', true));
        this.close(execution, 'ABORTED', { error: str(input, 'error'), cause: str(input, 'cause') });
        return { stopDate: epochSeconds(execution.stopDate ?? new Date()) };
      }
      case 'SendTaskSuccess': {
        const task = this.callback(str(input, 'taskToken', true));
        const output = str(input, 'output', true);
        let parsed: unknown;
        try {
          parsed = JSON.parse(output);
        } catch {
          throw new AwsServiceError('InvalidOutput', `Invalid Output: '${output.slice(0, 100)}'`);
        }
        task.complete(parsed);
        return {};
      }
      case 'SendTaskFailure': {
        const task = this.callback(str(input, 'taskToken', true));
        task.fail(new TaskFailure(str(input, 'error') ?? '', str(input, 'cause') ?? ''));
        return {};
      }
      case 'SendTaskHeartbeat':
        this.callback(str(input, 'taskToken', true)).heartbeat();
        return {};
      case 'GetExecutionHistory':
        return this.historyPage(input);
      case 'DescribeStateMachine':
        return this.describeMachine(this.machine(str(input, 'stateMachineArn', true)));
      case 'ListStateMachines':
        return {
          stateMachines: [...this.machines.values()].map((machine) => ({
            stateMachineArn: machine.arn,
            name: machine.name,
            type: machine.type,
            creationDate: 0,
          })),
        };
      default:
        throw new AwsServiceError(
          'UnknownOperationException',
          `${operation} is not supported by the local Step Functions`,
        );
    }
  }

  // ---- executions ------------------------------------------------------------------------------------------

  private machine(stateMachineArn: string): PreparedMachine {
    const machine = this.machines.get(stateMachineArn);
    if (machine) return machine;
    if (!STATE_MACHINE_ARN.test(stateMachineArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${stateMachineArn}'`);
    }
    throw new AwsServiceError(
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${stateMachineArn}'`,
    );
  }

  private execution(executionArn: string): Execution {
    const execution = this.all.get(executionArn);
    if (execution) return execution;
    if (!/^arn:aws[\w-]*:states:[a-z0-9-]+:\d{12}:(execution|express):/.test(executionArn)) {
      throw new AwsServiceError('InvalidArn', `Invalid Arn: '${executionArn}'`);
    }
    throw new AwsServiceError('ExecutionDoesNotExist', `Execution Does Not Exist: '${executionArn}'`);
  }

  /**
   * StartExecution's rules: a name is unique per Standard machine; the same name and input while that
   * execution is running returns it again (AWS's idempotency); otherwise `ExecutionAlreadyExists`.
   */
  private start(
    stateMachineArn: string,
    input: string | undefined,
    name: string | undefined,
    traceHeader: string | undefined,
  ): Execution {
    const machine = this.machine(stateMachineArn);
    if (name !== undefined && !validExecutionName(name)) {
      throw new AwsServiceError('InvalidName', `Invalid Name: '${name}'`);
    }
    const text = input ?? '{}';
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new AwsServiceError(
        'InvalidExecutionInput',
        `Invalid State Machine Execution Input: '${(error as Error).message}'`,
      );
    }
    const executionName = name ?? randomUUID();
    const arnBase = machine.arn.replace(
      ':stateMachine:',
      machine.type === 'EXPRESS' ? ':express:' : ':execution:',
    );
    const arn =
      machine.type === 'EXPRESS'
        ? `${arnBase}:${executionName}:${randomUUID()}`
        : `${arnBase}:${executionName}`;
    const existing = this.all.get(arn);
    if (existing) {
      if (existing.status === 'RUNNING' && existing.input === text) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution Already Exists: '${arn}'`);
    }
    const execution = new Execution(arn, executionName, machine, text, traceHeader);
    this.all.set(arn, execution);
    this.prune();
    execution.history.add('ExecutionStarted', {
      input: text,
      inputDetails: { truncated: false },
      roleArn: machine.roleArn,
      stateMachineArn: machine.arn,
    });
    this.launch(execution, parsed);
    return execution;
  }

  /** The interpreter of a machine, or of the same definition starting at `startAt` (a redrive). */
  private interpreter(machine: PreparedMachine, startAt?: string): StateMachine | undefined {
    const key = startAt === undefined ? machine.arn : `${machine.arn}#${startAt}`;
    const known = this.interpreters.get(key);
    if (known || startAt === undefined || !machine.runnable) return known;
    const interpreter = new StateMachine(
      { ...machine.runnable, StartAt: startAt } as unknown as StateMachineDefinition,
      {
        validationOptions: { noValidate: true },
      },
    );
    this.interpreters.set(key, interpreter);
    return interpreter;
  }

  private launch(execution: Execution, input: unknown, startAt?: string): void {
    const { machine } = execution;
    const interpreter = this.interpreter(machine, startAt);
    if (!interpreter) {
      this.close(execution, 'FAILED', {
        error: 'States.Runtime',
        cause: machine.unsupported ?? 'the state machine cannot run locally',
      });
      execution.history.add('ExecutionFailed', { error: execution.error, cause: execution.cause });
      execution.settled = true;
      return;
    }
    const handlers: TaskHandlers = {};
    for (const [name, state] of machine.states) {
      handlers[name] = (taskInput) => this.runTask(execution, state, taskInput) as Promise<JsonValue>;
    }
    const run = interpreter.run(input as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers },
      context: execution.context,
      noThrowOnAbort: true,
    });
    execution.abortRun = run.abort;
    let timeout: NodeJS.Timeout | undefined;
    const limitSeconds = executionLimitSeconds(machine);
    if (limitSeconds !== undefined) {
      const ms = Math.min(limitSeconds, MAX_TIMER_SECONDS) * 1000 * this.timeoutScale;
      timeout = setTimeout(() => this.close(execution, 'TIMED_OUT', { error: 'States.Timeout' }), ms);
    }
    const logRead = (async () => {
      for await (const event of run.eventLogs) execution.history.fromLibrary(event);
      execution.history.flush();
    })();
    const outcome = run.result.then(
      (output) => ({ ok: true as const, output }),
      (reason: unknown) => ({ ok: false as const, reason }),
    );
    execution.done = Promise.all([outcome, logRead.catch(() => undefined)]).then(([result]) => {
      clearTimeout(timeout);
      if (result.ok) {
        this.close(execution, 'SUCCEEDED', { output: JSON.stringify(result.output ?? null) });
      } else {
        this.close(execution, 'FAILED', failureOf(result.reason));
      }
      execution.history.flush();
      execution.settled = true;
    });
  }

  /** Closes an execution once: records the outcome, stops the interpreter and everything it waits on. */
  private close(
    execution: Execution,
    status: Exclude<ExecutionStatus, 'RUNNING'>,
    outcome: { output?: string; error?: string | undefined; cause?: string | undefined },
  ): boolean {
    if (execution.status !== 'RUNNING') return false;
    execution.status = status;
    execution.stopDate = new Date();
    execution.output = outcome.output;
    execution.error = outcome.error || undefined;
    execution.cause = outcome.cause || undefined;
    execution.controller.abort();
    if (status === 'ABORTED' || status === 'TIMED_OUT') execution.abortRun?.();
    if (status === 'FAILED' || status === 'TIMED_OUT') {
      this.runtime.log.warn('state machine execution did not succeed', {
        executionArn: execution.arn,
        status,
        error: execution.error,
        cause: execution.cause?.slice(0, 500),
      });
    }
    return true;
  }

  private prune(): void {
    const closed = [...this.all.values()].filter((execution) => execution.settled);
    for (const execution of closed.slice(0, Math.max(0, closed.length - MAX_CLOSED_EXECUTIONS))) {
      this.all.delete(execution.arn);
      for (const [token, task] of this.callbacks)
        if (task.execution === execution) this.callbacks.delete(token);
    }
  }

  // ---- tasks -----------------------------------------------------------------------------------------------

  /** Runs one Task (or former Wait) state; the library has already applied InputPath and Parameters. */
  private async runTask(execution: Execution, state: StateInfo, input: unknown): Promise<unknown> {
    const token = execution.takeToken();
    if (execution.signal.aborted) throw closedFailure();
    if (state.type === 'Wait') return this.runWait(execution, state, input);
    const resource = parseResource(String(state.definition.Resource));
    if (resource.kind === 'unsupported') throw new TaskFailure('States.Runtime', resource.reason, false);
    if (resource.kind === 'wait') return this.runWait(execution, state, input);
    const timeoutSeconds =
      typeof state.definition.TimeoutSeconds === 'number' ? state.definition.TimeoutSeconds : undefined;
    const record = this.taskEvents(execution, state, resource, input, timeoutSeconds);
    // The library enforces TimeoutSeconds (and fails the state with States.Timeout); this mirror timer only
    // records it and retires the task's token, so a late SendTaskSuccess gets TaskTimedOut as on AWS.
    let timedOut = false;
    const onTimeout = () => {
      timedOut = true;
      record.timedOut('States.Timeout');
      if (token) this.retire(token);
    };
    const timer =
      timeoutSeconds === undefined
        ? undefined
        : setTimeout(onTimeout, Math.min(timeoutSeconds * this.timeoutScale, MAX_TIMER_SECONDS) * 1000);
    try {
      const output =
        resource.kind === 'service' && resource.pattern === 'token'
          ? await this.runCallback(
              execution,
              state,
              resource,
              input,
              token ?? this.newToken(execution),
              record,
            )
          : await this.callResource(execution, resource, input, record);
      if (!timedOut) record.succeeded(output);
      return output;
    } catch (error) {
      const failure =
        error instanceof TaskFailure
          ? error
          : new TaskFailure('States.TaskFailed', (error as Error).message ?? String(error));
      if (!timedOut && !execution.signal.aborted && failure.error !== 'States.HeartbeatTimeout')
        record.failed(failure);
      throw failure;
    } finally {
      clearTimeout(timer);
    }
  }

  /** History events of one task attempt, named as AWS names them for its kind of resource. */
  private taskEvents(
    execution: Execution,
    state: StateInfo,
    resource: Exclude<TaskResource, { kind: 'unsupported' } | { kind: 'wait' }>,
    input: unknown,
    timeoutSeconds: number | undefined,
  ) {
    const history = execution.history;
    const name = state.name;
    if (resource.kind === 'function') {
      history.addForState(name, 'LambdaFunctionScheduled', {
        resource: resource.functionArn,
        input: JSON.stringify(input ?? null),
        inputDetails: { truncated: false },
        ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
      });
      history.addForState(name, 'LambdaFunctionStarted', {});
      return {
        submitted: () => undefined,
        succeeded: (output: unknown) =>
          history.addForState(name, 'LambdaFunctionSucceeded', {
            output: JSON.stringify(output ?? null),
            outputDetails: { truncated: false },
          }),
        failed: (failure: TaskFailure) =>
          history.addForState(name, 'LambdaFunctionFailed', {
            error: failure.error,
            cause: failure.causeText,
          }),
        timedOut: (error: string) => history.addForState(name, 'LambdaFunctionTimedOut', { error }),
      };
    }
    const resourceType = resource.service;
    const resourceName = `${resource.action}${{ request: '', sync: '.sync', sync2: '.sync:2', token: '.waitForTaskToken' }[resource.pattern]}`;
    const base = { resourceType, resource: resourceName };
    const heartbeat = state.definition.HeartbeatSeconds;
    history.addForState(name, 'TaskScheduled', {
      ...base,
      region: this.template.region,
      parameters: JSON.stringify(input ?? null),
      ...(timeoutSeconds === undefined ? {} : { timeoutInSeconds: timeoutSeconds }),
      ...(typeof heartbeat === 'number' ? { heartbeatInSeconds: heartbeat } : {}),
    });
    history.addForState(name, 'TaskStarted', base);
    return {
      submitted: (output: unknown) =>
        history.addForState(name, 'TaskSubmitted', { ...base, output: JSON.stringify(output ?? null) }),
      succeeded: (output: unknown) =>
        history.addForState(name, 'TaskSucceeded', {
          ...base,
          output: JSON.stringify(output ?? null),
          outputDetails: { truncated: false },
        }),
      failed: (failure: TaskFailure) =>
        history.addForState(name, 'TaskFailed', { ...base, error: failure.error, cause: failure.causeText }),
      timedOut: (error: string, cause?: string) =>
        history.addForState(name, 'TaskTimedOut', { ...base, error, ...(cause ? { cause } : {}) }),
    };
  }

  /** Calls a resource in the request/response or `.sync` pattern and returns the task result. */
  private callResource(
    execution: Execution,
    resource: Exclude<TaskResource, { kind: 'unsupported' } | { kind: 'wait' }>,
    input: unknown,
    record: { submitted(output: unknown): void },
  ): Promise<unknown> {
    if (resource.kind === 'function')
      return invokeFunctionResource(this.runtime, resource.functionArn, input);
    switch (resource.service) {
      case 'lambda':
        return lambdaInvoke(this.runtime, input);
      case 'dynamodb':
        return dynamoDbTask(this.dynamoDb(), resource.action, input, false);
      case 'aws-sdk:dynamodb':
        return dynamoDbTask(this.dynamoDb(), resource.action, input, true);
      case 'events':
        return putEventsTask(this.runtime, input);
      case 'sqs':
        return sendMessageTask(this.runtime, input);
      case 'states':
        return this.startExecutionTask(execution, resource.pattern, input, record);
      default:
        return Promise.reject(
          new TaskFailure('States.Runtime', `unsupported service ${resource.service}`, false),
        );
    }
  }

  /**
   * `arn:aws:states:::states:startExecution[.sync|.sync:2|.waitForTaskToken]`: starts the child in this
   * service; `.sync` waits for it and fails with `States.TaskFailed` (cause: the child as DescribeExecution
   * shows it) unless it succeeded. Closing the parent stops a `.sync` child, as on AWS.
   */
  private async startExecutionTask(
    parent: Execution,
    pattern: string,
    input: unknown,
    record: { submitted(output: unknown): void },
  ): Promise<unknown> {
    const parameters =
      typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as JsonObject) : {};
    const stateMachineArn = parameters.StateMachineArn;
    if (typeof stateMachineArn !== 'string') {
      throw new TaskFailure(
        'States.Runtime',
        'states:startExecution: the required parameter StateMachineArn is missing',
        false,
      );
    }
    let child: Execution;
    try {
      child = this.start(
        stateMachineArn,
        parameters.Input === undefined ? undefined : asText(parameters.Input),
        typeof parameters.Name === 'string' ? parameters.Name : undefined,
        typeof parameters.TraceHeader === 'string' ? parameters.TraceHeader : undefined,
      );
    } catch (error) {
      if (error instanceof AwsServiceError) {
        throw new TaskFailure(
          `StepFunctions.${error.type.replace(/(Exception)?$/, 'Exception')}`,
          error.message,
        );
      }
      throw error;
    }
    const started = { ExecutionArn: child.arn, StartDate: child.startDate.getTime(), ...sdkMetadata() };
    if (pattern !== 'sync' && pattern !== 'sync2') return started;
    record.submitted(started);
    const stopChild = () => this.close(child, 'ABORTED', {});
    parent.signal.addEventListener('abort', stopChild, { once: true });
    try {
      await child.done;
    } finally {
      parent.signal.removeEventListener('abort', stopChild);
    }
    if (parent.signal.aborted) throw closedFailure();
    const output = describeOutput(child, pattern === 'sync2');
    if (child.status !== 'SUCCEEDED') throw new TaskFailure('States.TaskFailed', JSON.stringify(output));
    return output;
  }

  /**
   * `.waitForTaskToken`: registers the token, makes the integration call, then waits for
   * SendTaskSuccess/SendTaskFailure, a missed heartbeat (`States.HeartbeatTimeout`) or the execution closing.
   */
  private runCallback(
    execution: Execution,
    state: StateInfo,
    resource: Extract<TaskResource, { kind: 'service' }>,
    input: unknown,
    token: string,
    record: { submitted(output: unknown): void; timedOut(error: string, cause?: string): void },
  ): Promise<unknown> {
    const heartbeatSeconds = this.heartbeatSeconds(state, input, execution);
    return new Promise<unknown>((resolve, reject) => {
      let heartbeatTimer: NodeJS.Timeout | undefined;
      const stopWaiting = () => {
        task.open = false;
        clearTimeout(heartbeatTimer);
      };
      const settle = (outcome: () => void) => {
        if (!task.open) return;
        stopWaiting();
        execution.signal.removeEventListener('abort', onClose);
        outcome();
      };
      const armHeartbeat = () => {
        if (heartbeatSeconds === undefined || !task.open) return;
        clearTimeout(heartbeatTimer);
        heartbeatTimer = setTimeout(
          () =>
            settle(() => {
              const cause = `no heartbeat for ${heartbeatSeconds} seconds`;
              record.timedOut('States.HeartbeatTimeout', cause);
              reject(new TaskFailure('States.HeartbeatTimeout', cause));
            }),
          Math.min(heartbeatSeconds * this.timeoutScale, MAX_TIMER_SECONDS) * 1000,
        );
      };
      // Also after `retire`: the library has moved on, the promise only needs settling.
      const onClose = () => {
        stopWaiting();
        reject(closedFailure());
      };
      const task: CallbackTask = {
        execution,
        stateName: state.name,
        open: true,
        complete: (output) => settle(() => resolve(output)),
        fail: (failure) => settle(() => reject(failure)),
        heartbeat: armHeartbeat,
        retire: stopWaiting,
      };
      this.callbacks.set(token, task);
      execution.signal.addEventListener('abort', onClose, { once: true });
      armHeartbeat();
      // The token is live before the call: the callee may answer before the call returns.
      this.callResource(execution, { ...resource, pattern: 'request' }, input, record).then(
        (output) => {
          if (task.open) record.submitted(output);
        },
        (error: unknown) =>
          task.fail(
            error instanceof TaskFailure ? error : new TaskFailure('States.TaskFailed', String(error)),
          ),
      );
    });
  }

  private heartbeatSeconds(state: StateInfo, input: unknown, execution: Execution): number | undefined {
    const { HeartbeatSeconds, HeartbeatSecondsPath } = state.definition;
    if (typeof HeartbeatSeconds === 'number') return HeartbeatSeconds;
    if (typeof HeartbeatSecondsPath !== 'string') return undefined;
    try {
      const value = referencePath(HeartbeatSecondsPath, input, execution.context);
      if (typeof value === 'number' && value > 0) return value;
    } catch (error) {
      if (!(error instanceof ReferencePathError)) throw error;
    }
    throw new TaskFailure(
      'States.Runtime',
      `HeartbeatSecondsPath ${HeartbeatSecondsPath} is not a positive number`,
      false,
    );
  }

  private newToken(execution: Execution): string {
    // Parameters did not read $$.Task.Token: AWS still creates one (nobody can answer it but a timeout).
    return Buffer.from(JSON.stringify({ v: 1, e: execution.arn, n: randomUUID() })).toString('base64');
  }

  /** Marks a token as no longer answerable (timed out) without settling its task. */
  private retire(token: string): void {
    this.callbacks.get(token)?.retire();
  }

  /**
   * The open callback task of a token: malformed → `InvalidToken`; never issued → `TaskDoesNotExist`;
   * already completed, failed, timed out or its execution closed → `TaskTimedOut` (AWS: "Provided task does
   * not exist anymore").
   */
  private callback(token: string): CallbackTask {
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    } catch {
      decoded = undefined;
    }
    if (typeof decoded !== 'object' || decoded === null || (decoded as { v?: unknown }).v !== 1) {
      throw new AwsServiceError('InvalidToken', "Invalid Token: 'Invalid token'");
    }
    const task = this.callbacks.get(token);
    if (!task) throw new AwsServiceError('TaskDoesNotExist', 'Task Does Not Exist');
    if (!task.open)
      throw new AwsServiceError('TaskTimedOut', "Task Timed Out: 'Provided task does not exist anymore'");
    return task;
  }

  /** A Wait state, run by the service so it can scale time and stop with its execution. */
  private async runWait(execution: Execution, state: StateInfo, input: unknown): Promise<unknown> {
    const wait = state.definition;
    const fromPath = (path: string) => {
      try {
        return referencePath(path, input, execution.context);
      } catch (error) {
        throw new TaskFailure('States.Runtime', (error as Error).message, false);
      }
    };
    let ms: number;
    if (typeof wait.Seconds === 'number') {
      ms = wait.Seconds * 1000;
    } else if (typeof wait.Timestamp === 'string') {
      ms = Date.parse(wait.Timestamp) - Date.now();
    } else if (typeof wait.SecondsPath === 'string') {
      const seconds = fromPath(wait.SecondsPath);
      if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0) {
        throw new TaskFailure(
          'States.Runtime',
          `SecondsPath ${wait.SecondsPath} is not a non-negative integer`,
          false,
        );
      }
      ms = seconds * 1000;
    } else if (typeof wait.TimestampPath === 'string') {
      const timestamp = fromPath(wait.TimestampPath);
      const at = typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
      if (Number.isNaN(at)) {
        throw new TaskFailure(
          'States.Runtime',
          `TimestampPath ${wait.TimestampPath} is not an RFC 3339 timestamp`,
          false,
        );
      }
      ms = at - Date.now();
    } else {
      throw new TaskFailure('States.Runtime', `Wait state ${state.name} has no duration`, false);
    }
    await abortableSleep(
      Math.min(Math.max(0, ms) * this.waitTimeScale, MAX_TIMER_SECONDS * 1000),
      execution.signal,
    );
    return input;
  }

  private dynamoDb(): DynamoDBClient | undefined {
    if (this.dynamoDbClient) return this.dynamoDbClient;
    const endpoint =
      this.options.endpoints?.dynamodb ??
      process.env.AWS_ENDPOINT_URL_DYNAMODB ??
      process.env.AWS_ENDPOINT_URL;
    if (!endpoint) return undefined;
    this.dynamoDbClient = new DynamoDBClient({
      endpoint,
      region: this.template.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    return this.dynamoDbClient;
  }

  /**
   * Why an execution cannot be redriven now, or undefined when it can: only a Standard execution that
   * FAILED, was ABORTED or TIMED_OUT within the last 14 days, at most 1,000 times (Developer Guide,
   * "Redriving executions").
   */
  private notRedrivable(execution: Execution): string | undefined {
    if (execution.machine.type === 'EXPRESS') return 'Express executions cannot be redriven';
    if (execution.status === 'RUNNING' || execution.status === 'SUCCEEDED') {
      return `Execution is ${execution.status}; only FAILED, ABORTED or TIMED_OUT executions can be redriven`;
    }
    if (Date.now() - (execution.stopDate?.getTime() ?? 0) > REDRIVE_WINDOW_MS) {
      return 'Execution stopped more than 14 days ago';
    }
    if (execution.redriveCount >= MAX_REDRIVES) return `Execution has been redriven ${MAX_REDRIVES} times`;
    if (!this.failedState(execution)) return 'Execution did not enter any state';
    return undefined;
  }

  private redriveStatus(execution: Execution): Record<string, string> {
    if (execution.status === 'RUNNING')
      return {
        redriveStatus: 'NOT_REDRIVABLE',
        redriveStatusReason: 'Execution is RUNNING and cannot be redriven',
      };
    const reason = this.notRedrivable(execution);
    return reason === undefined
      ? { redriveStatus: 'REDRIVABLE' }
      : { redriveStatus: 'NOT_REDRIVABLE', redriveStatusReason: reason };
  }

  /**
   * The top-level state the execution was in when it stopped, and that state's input: where a redrive
   * starts again. States that succeeded before it are not run again; a Map or Parallel state that failed is
   * run again as a whole (AWS re-runs only its unsuccessful iterations or branches; the local runner cannot).
   */
  private failedState(execution: Execution): { name: string; input: unknown } | undefined {
    const topLevel = execution.machine.original?.States;
    if (typeof topLevel !== 'object' || topLevel === null) return undefined;
    for (const event of [...execution.history.events].reverse()) {
      const details = event.details as { name?: unknown; input?: unknown } | undefined;
      if (!event.type.endsWith('StateEntered') || typeof details?.name !== 'string') continue;
      if (!(details.name in topLevel)) continue;
      return { name: details.name, input: JSON.parse(String(details.input ?? 'null')) as unknown };
    }
    return undefined;
  }

  /**
   * RedriveExecution: the same execution (same ARN) runs again from the state where it stopped, with that
   * state's input; `$$.Execution.RedriveCount` and DescribeExecution's `redriveCount` count the redrives.
   *
   * @throws AwsServiceError ExecutionNotRedrivable with the reason.
   */
  private redrive(execution: Execution): { redriveDate: number } {
    const reason = this.notRedrivable(execution);
    if (reason !== undefined) {
      throw new AwsServiceError(
        'ExecutionNotRedrivable',
        `Execution ${execution.arn} cannot be redriven: ${reason}`,
      );
    }
    const from = this.failedState(execution) as { name: string; input: unknown };
    execution.redriveCount += 1;
    execution.redriveDate = new Date();
    (execution.context.Execution as { RedriveCount: number }).RedriveCount = execution.redriveCount;
    execution.status = 'RUNNING';
    execution.stopDate = undefined;
    execution.output = undefined;
    execution.error = undefined;
    execution.cause = undefined;
    execution.controller = new AbortController();
    execution.settled = false;
    execution.history.add('ExecutionRedriven', { redriveCount: execution.redriveCount });
    this.launch(execution, from.input, from.name);
    return { redriveDate: epochSeconds(execution.redriveDate) };
  }

  // ---- API views -------------------------------------------------------------------------------------------

  private describe(execution: Execution): Record<string, unknown> {
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.machine.arn,
      name: execution.name,
      status: execution.status,
      startDate: epochSeconds(execution.startDate),
      ...(execution.stopDate ? { stopDate: epochSeconds(execution.stopDate) } : {}),
      input: execution.input,
      inputDetails: { included: true },
      ...(execution.status === 'SUCCEEDED'
        ? { output: execution.output, outputDetails: { included: true } }
        : {}),
      ...(execution.error === undefined ? {} : { error: execution.error }),
      ...(execution.cause === undefined ? {} : { cause: execution.cause }),
      ...(execution.traceHeader ? { traceHeader: execution.traceHeader } : {}),
      redriveCount: execution.redriveCount,
      ...(execution.redriveDate ? { redriveDate: epochSeconds(execution.redriveDate) } : {}),
      ...this.redriveStatus(execution),
    };
  }

  private async startSync(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const machine = this.machine(str(input, 'stateMachineArn', true));
    if (machine.type !== 'EXPRESS') {
      throw new AwsServiceError(
        'StateMachineTypeNotSupported',
        'This operation is not supported by this type of state machine',
      );
    }
    const execution = this.start(
      machine.arn,
      str(input, 'input'),
      str(input, 'name'),
      str(input, 'traceHeader'),
    );
    await execution.done;
    const { redriveCount: _count, redriveStatus: _status, ...described } = this.describe(execution);
    const duration = (execution.stopDate ?? new Date()).getTime() - execution.startDate.getTime();
    return {
      ...described,
      billingDetails: {
        billedMemoryUsedInMB: 64,
        billedDurationInMilliseconds: Math.max(100, Math.ceil(duration / 100) * 100),
      },
    };
  }

  private list(input: Record<string, unknown>): Record<string, unknown> {
    const machine = this.machine(str(input, 'stateMachineArn', true));
    const statusFilter = str(input, 'statusFilter');
    const maxResults =
      typeof input.maxResults === 'number' && input.maxResults > 0 ? Math.min(input.maxResults, 1000) : 100;
    const offset = Number(str(input, 'nextToken') ?? 0) || 0;
    const matching = [...this.all.values()]
      .filter(
        (execution) => execution.machine === machine && (!statusFilter || execution.status === statusFilter),
      )
      .reverse();
    const page = matching.slice(offset, offset + maxResults);
    return {
      executions: page.map((execution) => ({
        executionArn: execution.arn,
        stateMachineArn: machine.arn,
        name: execution.name,
        status: execution.status,
        startDate: epochSeconds(execution.startDate),
        ...(execution.stopDate ? { stopDate: epochSeconds(execution.stopDate) } : {}),
      })),
      ...(offset + maxResults < matching.length ? { nextToken: String(offset + maxResults) } : {}),
    };
  }

  private historyPage(input: Record<string, unknown>): Record<string, unknown> {
    const execution = this.execution(str(input, 'executionArn', true));
    const includeData = input.includeExecutionData !== false;
    const maxResults =
      typeof input.maxResults === 'number' && input.maxResults > 0 ? Math.min(input.maxResults, 1000) : 100;
    const offset = Number(str(input, 'nextToken') ?? 0) || 0;
    const ordered: readonly HistoryEvent[] =
      input.reverseOrder === true ? [...execution.history.events].reverse() : execution.history.events;
    const page = ordered.slice(offset, offset + maxResults);
    const dataFields = new Set(['input', 'output', 'parameters', 'inputDetails', 'outputDetails']);
    return {
      events: page.map((event) => ({
        id: event.id,
        previousEventId: event.previousEventId,
        timestamp: epochSeconds(event.timestamp),
        type: event.type,
        ...(event.detailsKey && event.details
          ? {
              [event.detailsKey]: includeData
                ? event.details
                : Object.fromEntries(Object.entries(event.details).filter(([key]) => !dataFields.has(key))),
            }
          : {}),
      })),
      ...(offset + maxResults < ordered.length ? { nextToken: String(offset + maxResults) } : {}),
    };
  }

  private describeMachine(machine: PreparedMachine): Record<string, unknown> {
    return {
      stateMachineArn: machine.arn,
      name: machine.name,
      status: 'ACTIVE',
      definition: JSON.stringify(machine.original ?? {}),
      roleArn: machine.roleArn,
      type: machine.type,
      creationDate: 0,
    };
  }
}
