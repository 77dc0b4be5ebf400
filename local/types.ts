import type { LocalTemplate } from './template.ts';

/** What a local Lambda invocation came to, as the Invoke API reports it. */
export type InvokeResult =
  | { readonly ok: true; readonly payload: unknown; readonly durationMs: number; readonly coldStart: boolean }
  | {
      readonly ok: false;
      readonly errorType: string;
      readonly errorMessage: string;
      /** True when the function ran past its timeout and its environment was torn down. */
      readonly timedOut: boolean;
      readonly durationMs: number;
      readonly coldStart: boolean;
    };

export interface SendMessageOptions {
  readonly messageGroupId?: string;
  readonly messageDeduplicationId?: string;
  readonly delaySeconds?: number;
  readonly messageAttributes?: Readonly<Record<string, { DataType: string; StringValue: string }>>;
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
