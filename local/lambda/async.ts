/**
 * Asynchronous invocation (`InvocationType: Event`, and every EventBridge → Lambda delivery) as Lambda runs it:
 * the event goes to the function's event queue and the caller gets 202 at once; Lambda then invokes the function,
 * retries it, and finally sends a record to the on-success or on-failure destination, or the event to the
 * dead-letter queue.
 *
 * Reference: Lambda Developer Guide, "How Lambda handles errors and retries with asynchronous invocation":
 * - a function error (including a timeout) is retried "two more times, with a one-minute wait between the first
 *   two attempts, and two minutes between the second and third attempts" — `MaximumRetryAttempts` (0–2) of the
 *   function's `AWS::Lambda::EventInvokeConfig` changes the count;
 * - a throttle (429) or system error (5xx) returns the event to the queue: "The retry interval increases
 *   exponentially from 1 second after the first attempt to a maximum of 5 minutes", for up to
 *   `MaximumEventAgeInSeconds` (60–21,600; default 6 hours), after which the event is discarded;
 * - "Capturing records of Lambda asynchronous invocations": the invocation record (version 1.0, requestContext
 *   with condition `Success` / `RetriesExhausted` / `EventAgeExceeded` and approximateInvokeCount, requestPayload,
 *   responseContext, responsePayload) goes to the destination; "For dead-letter queues, Lambda only sends the
 *   content of the event", with the RequestID, ErrorCode and ErrorMessage attributes ("Dead-letter queues").
 * Destinations and the dead-letter queue are written with the function's execution role.
 */
import { randomUUID } from 'node:crypto';
import type { LocalTemplate } from '../template.ts';
import { abortableSleep as sleep } from '../timers.ts';
import type { Caller, InvokeResult, LocalLogger } from '../types.ts';
import { LambdaServiceError } from './errors.ts';

/** A function's asynchronous invocation settings. */
export interface AsyncInvokeConfig {
  readonly maximumRetryAttempts: number;
  readonly maximumEventAgeSeconds: number;
  readonly onSuccess?: string | undefined;
  readonly onFailure?: string | undefined;
  /** `DeadLetterConfig.TargetArn` of the function. */
  readonly deadLetterArn?: string | undefined;
}

export const DEFAULT_ASYNC_CONFIG: AsyncInvokeConfig = {
  maximumRetryAttempts: 2,
  maximumEventAgeSeconds: 21_600,
};

/**
 * Reads `AWS::Lambda::EventInvokeConfig` (unqualified or `$LATEST`) and `DeadLetterConfig` per function name.
 *
 * @throws Error for settings outside Lambda's ranges, a destination the local cloud cannot deliver to (SNS, S3), or
 *   a FIFO queue as destination ("This can happen if your configuration includes an unsupported destination type,
 *   such as an Amazon SQS FIFO queue").
 */
export function asyncInvokeConfigs(template: LocalTemplate): Map<string, AsyncInvokeConfig> {
  const functionName = (reference: string) =>
    reference.includes(':function:') ? (reference.split(':function:')[1]?.split(':')[0] ?? '') : reference;
  const checkDestination = (owner: string, arn: string | undefined) => {
    if (arn === undefined) return;
    const service = arn.split(':')[2];
    if (!['sqs', 'lambda', 'events'].includes(service ?? ''))
      throw new Error(
        `${owner}: destination ${arn} is not delivered by the local cloud (SQS, Lambda, EventBridge)`,
      );
    if (service === 'sqs' && arn.endsWith('.fifo'))
      throw new Error(`${owner}: a FIFO queue cannot be an asynchronous invocation destination (${arn})`);
  };
  const configs = new Map<string, AsyncInvokeConfig>();
  for (const fn of template.ofType('AWS::Lambda::Function')) {
    const deadLetterArn = (fn.properties.DeadLetterConfig as { TargetArn?: string } | undefined)?.TargetArn;
    if (deadLetterArn !== undefined && deadLetterArn.split(':')[2] !== 'sqs')
      throw new Error(
        `${fn.logicalId}: DeadLetterConfig ${deadLetterArn} is not an SQS queue the local cloud runs`,
      );
    configs.set(fn.name, { ...DEFAULT_ASYNC_CONFIG, deadLetterArn });
  }
  for (const resource of template.ofType('AWS::Lambda::EventInvokeConfig')) {
    const props = resource.properties as {
      FunctionName?: string;
      Qualifier?: string;
      MaximumRetryAttempts?: number;
      MaximumEventAgeInSeconds?: number;
      DestinationConfig?: { OnSuccess?: { Destination?: string }; OnFailure?: { Destination?: string } };
    };
    if (props.Qualifier !== undefined && props.Qualifier !== '$LATEST') continue;
    const name = functionName(String(props.FunctionName ?? ''));
    const base = configs.get(name);
    if (!base) throw new Error(`${resource.logicalId}: function ${name} is not defined in the template`);
    const retries = Number(props.MaximumRetryAttempts ?? DEFAULT_ASYNC_CONFIG.maximumRetryAttempts);
    const age = Number(props.MaximumEventAgeInSeconds ?? DEFAULT_ASYNC_CONFIG.maximumEventAgeSeconds);
    if (!Number.isInteger(retries) || retries < 0 || retries > 2)
      throw new Error(`${resource.logicalId}: MaximumRetryAttempts must be between 0 and 2`);
    if (!Number.isInteger(age) || age < 60 || age > 21_600)
      throw new Error(`${resource.logicalId}: MaximumEventAgeInSeconds must be between 60 and 21600`);
    const onSuccess = props.DestinationConfig?.OnSuccess?.Destination;
    const onFailure = props.DestinationConfig?.OnFailure?.Destination;
    checkDestination(resource.logicalId, onSuccess);
    checkDestination(resource.logicalId, onFailure);
    configs.set(name, {
      ...base,
      maximumRetryAttempts: retries,
      maximumEventAgeSeconds: age,
      onSuccess,
      onFailure,
    });
  }
  return configs;
}

/** Where records and failed events go; every call is made as `caller` (the function's role). */
export interface AsyncDestinations {
  sendMessage(
    queueArn: string,
    body: string,
    options: {
      readonly caller: Caller;
      readonly messageAttributes?: Record<string, { DataType: string; StringValue: string }>;
    },
  ): Promise<unknown>;
  invokeAsync(functionArn: string, payload: unknown, caller: Caller): Promise<unknown>;
  putEvent(
    busArn: string,
    entry: { Source: string; DetailType: string; Detail: string },
    caller: Caller,
  ): Promise<unknown>;
}

export interface AsyncInvokerOptions {
  /** The synchronous engine (throws LambdaServiceError for throttles and service errors). */
  readonly invoke: (functionName: string, payload: unknown) => Promise<InvokeResult>;
  readonly functionArn: (functionName: string) => string;
  readonly configs: ReadonlyMap<string, AsyncInvokeConfig>;
  readonly destinations: AsyncDestinations;
  readonly log: LocalLogger;
  /**
   * Scale of the waits (1 = Lambda's real 1 and 2 minutes, 1 s … 5 min back-off); tests pass a small one.
   * @default 1
   */
  readonly delayScale?: number;
  readonly now?: () => number;
}

/** What the event queues have done (`GET /_local/functions` adds it per function). */
export interface AsyncStats {
  queued: number;
  attempts: number;
  retries: number;
  throttled: number;
  succeeded: number;
  failed: number;
  expired: number;
  destinationFailures: number;
}

interface QueuedEvent {
  readonly requestId: string;
  readonly functionName: string;
  readonly payload: unknown;
  readonly enqueuedAt: number;
  attempts: number;
}

/** An event still in a function's queue, as the local state keeps it across a restart. */
export type PersistedAsyncEvent = Readonly<QueuedEvent>;

const RETRY_WAITS_MS = [60_000, 120_000];
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 300_000;

/** The event queues of the local functions. */
export class AsyncInvoker {
  private readonly stats = new Map<string, AsyncStats>();
  private readonly pending = new Set<Promise<void>>();
  /**
   * Every event from the moment it is queued until it has ended (succeeded, failed for good, expired): waiting, being
   * invoked, waiting for a retry, or kept by `stop()`. Lambda's event queue is durable; what the local state keeps.
   */
  private readonly queued = new Map<string, QueuedEvent>();
  private stopped = false;
  private abort = new AbortController();
  private readonly scale: number;
  private readonly now: () => number;

  constructor(private readonly options: AsyncInvokerOptions) {
    this.scale = options.delayScale ?? 1;
    this.now = options.now ?? Date.now;
  }

  /** Puts an event on the function's queue and returns its request id (the caller's 202). */
  enqueue(functionName: string, payload: unknown): string {
    const event: QueuedEvent = {
      requestId: randomUUID(),
      functionName,
      payload,
      enqueuedAt: this.now(),
      attempts: 0,
    };
    this.start(event);
    return event.requestId;
  }

  /**
   * Events still queued (waiting, being invoked, waiting for a retry, or kept by `stop()`), with their attempts and
   * age: the local state's snapshot of the functions' event queues.
   */
  snapshot(): PersistedAsyncEvent[] {
    return [...this.queued.values()].map((event) => ({ ...event }));
  }

  /**
   * Goes on with the events a previous run kept, under their request ids, attempts and age (so the retry count and
   * `MaximumEventAgeInSeconds` still bound them). An event whose invocation the stop cut may run twice, as Lambda
   * allows: "it's possible for it to receive the same event from Lambda multiple times because the queue itself is
   * eventually consistent" (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html).
   */
  resume(events: readonly PersistedAsyncEvent[]): void {
    for (const event of events) this.start({ ...event });
  }

  private start(event: QueuedEvent): void {
    const { functionName } = event;
    this.queued.set(event.requestId, event);
    this.statsOf(functionName).queued += 1;
    const promise: Promise<void> = this.process(event)
      .then((kept) => {
        if (!kept) this.queued.delete(event.requestId);
      })
      .catch((error: unknown) => {
        this.queued.delete(event.requestId);
        this.options.log.error('Lambda: asynchronous invocation crashed', {
          functionName,
          error: String(error),
        });
      })
      .finally(() => this.pending.delete(promise));
    this.pending.add(promise);
  }

  /** True while an event waits in a queue or is being invoked. */
  get busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves once no event waits in any queue (events queued meanwhile included). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /**
   * Shutdown: events waiting for a retry stop waiting, no new invocation starts, and an invocation the runtime's
   * shutdown cuts (`Runtime.Shutdown`) is not an attempt — each stays queued (logged) for {@link snapshot}, so a
   * restart goes on with it. Invocations already running finish.
   */
  stop(): void {
    this.stopped = true;
    this.abort.abort();
    this.abort = new AbortController();
  }

  statistics(): Record<string, AsyncStats> {
    return Object.fromEntries(this.stats);
  }

  private statsOf(functionName: string): AsyncStats {
    let stats = this.stats.get(functionName);
    if (!stats) {
      stats = {
        queued: 0,
        attempts: 0,
        retries: 0,
        throttled: 0,
        succeeded: 0,
        failed: 0,
        expired: 0,
        destinationFailures: 0,
      };
      this.stats.set(functionName, stats);
    }
    return stats;
  }

  /** Runs an event to its end; answers true when the event stays queued for a restart. */
  private async process(event: QueuedEvent): Promise<boolean> {
    const config = this.options.configs.get(event.functionName) ?? DEFAULT_ASYNC_CONFIG;
    const stats = this.statsOf(event.functionName);
    const signal = this.abort.signal;
    let backoff = BACKOFF_START_MS;
    for (;;) {
      if (this.stopped) return this.keep(event);
      if (this.now() - event.enqueuedAt > config.maximumEventAgeSeconds * 1000 * this.scale) {
        stats.expired += 1;
        await this.finish(event, config, 'EventAgeExceeded', undefined);
        return false;
      }
      let result: InvokeResult;
      try {
        result = await this.options.invoke(event.functionName, event.payload);
      } catch (error) {
        // The runtime closed while the invocation waited for an environment: the shutdown, not the event.
        if (this.stopped) return this.keep(event);
        if (error instanceof LambdaServiceError && (error.statusCode === 429 || error.statusCode >= 500)) {
          // Throttles and system errors go back to the queue: not an attempt, retried with back-off.
          stats.throttled += 1;
          if (!(await sleep(backoff * this.scale, signal))) return this.keep(event);
          backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
          continue;
        }
        throw error;
      }
      // The local cloud stopped under the invocation: not the function's error, and not an attempt.
      if (!result.ok && result.errorType === 'Runtime.Shutdown' && this.stopped) return this.keep(event);
      event.attempts += 1;
      stats.attempts += 1;
      if (result.ok) {
        stats.succeeded += 1;
        await this.finish(event, config, 'Success', result);
        return false;
      }
      if (event.attempts > config.maximumRetryAttempts) {
        stats.failed += 1;
        await this.finish(event, config, 'RetriesExhausted', result);
        return false;
      }
      stats.retries += 1;
      const wait = (RETRY_WAITS_MS[event.attempts - 1] ?? 120_000) * this.scale;
      if (!(await sleep(wait, signal))) return this.keep(event);
    }
  }

  /** Stops working on an event at shutdown; it stays queued for the local state. */
  private keep(event: QueuedEvent): true {
    this.options.log.warn('Lambda: asynchronous event kept at shutdown (goes on after a restart)', {
      functionName: event.functionName,
      requestId: event.requestId,
      attempts: event.attempts,
    });
    return true;
  }

  /** Sends the invocation record to the destination of the outcome, and a failed event to the DLQ. */
  private async finish(
    event: QueuedEvent,
    config: AsyncInvokeConfig,
    condition: 'Success' | 'RetriesExhausted' | 'EventAgeExceeded',
    result: InvokeResult | undefined,
  ): Promise<void> {
    const caller: Caller = { kind: 'function', functionName: event.functionName };
    const functionArn = `${this.options.functionArn(event.functionName)}:$LATEST`;
    const destination = condition === 'Success' ? config.onSuccess : config.onFailure;
    const sends: [string, () => Promise<unknown>][] = [];
    if (condition !== 'Success') {
      this.options.log.warn('Lambda: asynchronous invocation failed for good', {
        functionName: event.functionName,
        requestId: event.requestId,
        condition,
        attempts: event.attempts,
        ...(result && !result.ok ? { errorType: result.errorType, errorMessage: result.errorMessage } : {}),
      });
    }
    if (destination) {
      const record = JSON.stringify({
        version: '1.0',
        timestamp: new Date(this.now()).toISOString(),
        requestContext: {
          requestId: event.requestId,
          functionArn,
          condition,
          approximateInvokeCount: event.attempts,
        },
        requestPayload: event.payload,
        responseContext: {
          statusCode: 200,
          executedVersion: '$LATEST',
          ...(result && !result.ok ? { functionError: 'Unhandled' } : {}),
        },
        responsePayload: result?.ok
          ? result.payload
          : result
            ? { errorType: result.errorType, errorMessage: result.errorMessage }
            : undefined,
      });
      const { destinations } = this.options;
      const service = destination.split(':')[2];
      sends.push([
        destination,
        () =>
          service === 'sqs'
            ? destinations.sendMessage(destination, record, { caller })
            : service === 'lambda'
              ? destinations.invokeAsync(destination, JSON.parse(record) as unknown, caller)
              : destinations.putEvent(
                  destination,
                  {
                    Source: 'lambda',
                    DetailType: `Lambda Function Invocation Result - ${condition === 'Success' ? 'Success' : 'Failure'}`,
                    Detail: record,
                  },
                  caller,
                ),
      ]);
    }
    if (condition !== 'Success' && config.deadLetterArn) {
      const deadLetterArn = config.deadLetterArn;
      const message = result && !result.ok ? result.errorMessage : condition;
      sends.push([
        deadLetterArn,
        () =>
          this.options.destinations.sendMessage(deadLetterArn, JSON.stringify(event.payload), {
            caller,
            messageAttributes: {
              RequestID: { DataType: 'String', StringValue: event.requestId },
              ErrorCode: { DataType: 'Number', StringValue: '200' },
              ErrorMessage: { DataType: 'String', StringValue: message.slice(0, 1024) },
            },
          }),
      ]);
    }
    for (const [arn, send] of sends) {
      try {
        await send();
      } catch (error) {
        this.statsOf(event.functionName).destinationFailures += 1;
        this.options.log.error('Lambda: delivering to a destination or dead-letter queue failed', {
          functionName: event.functionName,
          destination: arn,
          error: (error as Error).message,
        });
      }
    }
  }
}
