import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalTemplate, loadTemplate } from '#local/template.ts';
import type {
  InvokeResult,
  LocalLogger,
  LocalRuntime,
  PutEventsEntry,
  PutEventsResult,
  SendMessageOptions,
} from '#local/types.ts';

export const ACCOUNT = '000000000000';
export const REGION = 'us-east-1';
export const STACK = 'Test';

export const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
export const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}`;
export const stateMachineArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}`;
export const busArn = (name: string) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${name}`;

/** Writes `Resources` as a synthesized template in a temp dir and loads it as the local cloud does. */
export function templateOf(resources: Record<string, unknown>): LocalTemplate {
  const dir = mkdtempSync(join(tmpdir(), 'omnihub-eb-'));
  writeFileSync(join(dir, `${STACK}.template.json`), JSON.stringify({ Resources: resources }));
  return loadTemplate(dir, STACK, {
    sqsEndpoint: 'http://127.0.0.1:9',
    apiEndpoint: 'http://127.0.0.1:3000',
  });
}

/** A fresh temp directory for archive files. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'omnihub-eb-archive-'));
}

export type RuntimeCall =
  | {
      readonly kind: 'sqs';
      readonly target: string;
      readonly body: string;
      readonly options: SendMessageOptions | undefined;
    }
  | { readonly kind: 'lambda'; readonly target: string; readonly payload: unknown }
  | {
      readonly kind: 'states';
      readonly target: string;
      readonly input: string;
      readonly name: string | undefined;
    };

/**
 * A LocalRuntime that records every call and fails the ones it is told to: `failTimes(arn, n, error)` fails
 * the next n calls to that target, `failAlways(arn, error)` every call. `onCall` runs before each call (tests
 * use it to move a pinned clock).
 */
export class FakeRuntime implements LocalRuntime {
  readonly calls: RuntimeCall[] = [];
  /** Every attempt, failed ones included, in order: `${kind} ${target}`. */
  readonly attempts: string[] = [];
  readonly logs: { level: string; message: string; details?: Record<string, unknown> }[] = [];
  readonly log: LocalLogger = {
    info: (message, details) => this.logs.push({ level: 'info', message, details }),
    warn: (message, details) => this.logs.push({ level: 'warn', message, details }),
    error: (message, details) => this.logs.push({ level: 'error', message, details }),
  };
  lambdaResult: InvokeResult = { ok: true, payload: null, durationMs: 1, coldStart: false };
  onCall: (target: string) => void = () => {};
  private readonly failures = new Map<string, { remaining: number; error: () => Error }>();
  private putEventsHandler: ((entries: readonly PutEventsEntry[]) => PutEventsResult) | undefined;

  constructor(readonly template: LocalTemplate) {}

  failTimes(target: string, times: number, error: () => Error = () => new Error('boom')): void {
    this.failures.set(target, { remaining: times, error });
  }

  failAlways(target: string, error: () => Error = () => new Error('boom')): void {
    this.failures.set(target, { remaining: Number.POSITIVE_INFINITY, error });
  }

  /** Routes `putEvents` to the bus under test, as the lead's runtime does. */
  routePutEvents(handler: (entries: readonly PutEventsEntry[]) => PutEventsResult): void {
    this.putEventsHandler = handler;
  }

  sqs(target?: string): Extract<RuntimeCall, { kind: 'sqs' }>[] {
    return this.calls.filter(
      (call): call is Extract<RuntimeCall, { kind: 'sqs' }> =>
        call.kind === 'sqs' && (target === undefined || call.target === target),
    );
  }

  private attempt(kind: string, target: string): void {
    this.attempts.push(`${kind} ${target}`);
    this.onCall(target);
    const failure = this.failures.get(target);
    if (failure && failure.remaining > 0) {
      failure.remaining -= 1;
      throw failure.error();
    }
  }

  async invokeFunction(functionNameOrArn: string, payload: unknown): Promise<InvokeResult> {
    this.attempt('lambda', functionNameOrArn);
    this.calls.push({ kind: 'lambda', target: functionNameOrArn, payload });
    return this.lambdaResult;
  }

  async sendMessage(
    queueArnOrUrl: string,
    body: string,
    options?: SendMessageOptions,
  ): Promise<{ messageId: string }> {
    this.attempt('sqs', queueArnOrUrl);
    this.calls.push({ kind: 'sqs', target: queueArnOrUrl, body, options });
    return { messageId: crypto.randomUUID() };
  }

  async startExecution(
    arn: string,
    input: string,
    name?: string,
  ): Promise<{ executionArn: string; startDate: string }> {
    this.attempt('states', arn);
    this.calls.push({ kind: 'states', target: arn, input, name });
    return {
      executionArn: `${arn.replace(':stateMachine:', ':execution:')}:${crypto.randomUUID()}`,
      startDate: new Date().toISOString(),
    };
  }

  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    if (!this.putEventsHandler) throw new Error('putEvents not routed');
    return this.putEventsHandler(entries);
  }
}

/** An error carrying an AWS error name, as SDK-style errors do. */
export function awsError(name: string, message = name): () => Error {
  return () => Object.assign(new Error(message), { name });
}

/** `AWS::SQS::Queue` with an explicit name, so its ARN is `queueArn(name)`. */
export function queue(name: string): Record<string, unknown> {
  return { Type: 'AWS::SQS::Queue', Properties: { QueueName: name } };
}

/** `AWS::Lambda::Function` with an explicit name, so its ARN is `functionArn(name)`. */
export function lambdaFunction(name: string): Record<string, unknown> {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: { FunctionName: name, Runtime: 'nodejs24.x', Handler: 'index.handler' },
  };
}

/** `AWS::StepFunctions::StateMachine` with an explicit name, so its ARN is `stateMachineArn(name)`. */
export function stateMachine(name: string): Record<string, unknown> {
  return {
    Type: 'AWS::StepFunctions::StateMachine',
    Properties: { StateMachineName: name, DefinitionString: '{}' },
  };
}

/** An `AWS::Events::Rule` on the default bus (or `bus`), with explicit name. */
export function rule(name: string, properties: Record<string, unknown>): Record<string, unknown> {
  return { Type: 'AWS::Events::Rule', Properties: { Name: name, State: 'ENABLED', ...properties } };
}

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
