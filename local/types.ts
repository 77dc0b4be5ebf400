import type { LocalTemplate } from './template.ts';

/** What a local Lambda invocation came to, as the Invoke API reports it. */
export type InvokeResult =
  | {
      readonly ok: true;
      readonly payload: unknown;
      readonly durationMs: number;
      readonly coldStart: boolean;
      /** The invocation's log (START … REPORT), for `LogType: Tail`. */
      readonly log?: string;
    }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      /** True when the function ran past its timeout and its environment was torn down. */
      readonly timedOut: boolean;
      readonly durationMs: number;
      readonly coldStart: boolean;
      readonly log?: string;
    };

export interface SendMessageOptions {
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly delaySeconds?: number;
  readonly messageAttributes?: Readonly<Record<string, { DataType: string; StringValue: string }>>;
  /** Who sends, when IAM must decide (EventBridge for a rule, a function's destination); omitted = admin. */
  readonly caller?: Caller;
}

/** A PutEvents entry as the SDK sends it. */
export interface PutEventsEntry {
  readonly Source?: string;
  readonly DetailType?: string;
  readonly Detail?: string;
  readonly EventBusName?: string;
  readonly Resources?: string[];
  readonly Time?: string | number;
  readonly TraceHeader?: string;
}

export interface PutEventsResult {
  readonly FailedEntryCount: number;
  readonly Entries: ({ EventId: string } | { ErrorCode: string; ErrorMessage: string })[];
}

export interface LocalLogger {
  info(message: string, details?: Record<string, unknown>): void;
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/**
 * What the local services offer each other: the local equivalents of Lambda Invoke, SQS SendMessage,
 * Step Functions StartExecution and EventBridge PutEvents. EventBridge targets and Step Functions
 * tasks go through these, never through a service's internals.
 */
export interface LocalRuntime {
  readonly template: LocalTemplate;
  readonly log: LocalLogger;
  /** Synchronous invoke of a function by name or ARN (RequestResponse). */
  invokeFunction(functionNameOrArn: string, payload: unknown): Promise<InvokeResult>;
  /**
   * Asynchronous invoke (Event) by `caller`: resolves once Lambda queued the event; rejects with Lambda's error
   * (AccessDeniedException without a permission, ResourceNotFoundException, RequestEntityTooLargeException).
   * Optional for runtimes built by tests; the local cloud provides it.
   */
  invokeFunctionAsync?(
    functionNameOrArn: string,
    payload: unknown,
    caller: Caller,
  ): Promise<{ readonly requestId: string }>;
  /**
   * Evaluates IAM for `caller` (throws AccessDeniedException when refused). Optional for runtimes built by tests,
   * which run without IAM.
   */
  authorize?(caller: Caller, action: string, resource: string): void;
  /** Sends one message to a queue by ARN or URL. */
  sendMessage(
    queueArnOrUrl: string,
    body: string,
    options?: SendMessageOptions,
  ): Promise<{ messageId: string }>;
  startExecution(
    stateMachineArn: string,
    input: string,
    name?: string,
  ): Promise<{ executionArn: string; startDate: string }>;
  putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult>;
}

/**
 * Who calls a local service, for IAM: the admin (tests, tools, `npm start` itself), a function (its execution
 * role), a role a service assumed (an EventBridge target role, a Scheduler execution role), or a service principal
 * acting for a resource (`events.amazonaws.com` for a rule, with the rule as `aws:SourceArn`).
 */
export type Caller =
  | { readonly kind: 'admin' }
  | { readonly kind: 'function'; readonly functionName: string }
  | { readonly kind: 'role'; readonly roleArn: string; readonly sessionName: string }
  | {
      readonly kind: 'service';
      readonly service: string;
      readonly sourceArn?: string | undefined;
      readonly sourceAccount?: string | undefined;
    };
