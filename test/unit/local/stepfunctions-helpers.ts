/**
 * Shared set-up for the local Step Functions tests: state machines are built with the real CDK,
 * synthesized into a temporary cloud assembly and loaded with `loadTemplate`, exactly as the local cloud
 * loads `cdk.out`; a fake `LocalRuntime` plays the functions, queues and bus and records every call.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsJsonRouter } from '#local/aws/json-protocol.ts';
import { waitFor } from '#local/services/ports.ts';
import type { LocalStepFunctions } from '#local/stepfunctions/service.ts';
import { type LocalTemplate, loadTemplate } from '#local/template.ts';
import type {
  InvokeResult,
  LocalLogger,
  LocalRuntime,
  PutEventsEntry,
  PutEventsResult,
  SendMessageOptions,
} from '#local/types.ts';

/** Synthesizes a stack built by `build` and loads it as the local cloud would. */
export function synthesize(
  stackName: string,
  build: (stack: Stack) => void,
): { template: LocalTemplate; cleanup: () => void } {
  const outdir = mkdtempSync(join(tmpdir(), 'omnihub-sfn-'));
  const app = new App({ outdir });
  const stack = new Stack(app, stackName);
  build(stack);
  app.synth();
  const template = loadTemplate(outdir, stackName, {
    sqsEndpoint: 'http://127.0.0.1:9',
    apiEndpoint: 'http://127.0.0.1:3000',
  });
  return { template, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/** A Lambda function the fake runtime answers for; its code never runs. */
export function fn(stack: Stack, functionName: string): lambda.Function {
  return new lambda.Function(stack, functionName, {
    functionName,
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
  });
}

/** What a fake function does with one invocation. */
export type Behaviour = (payload: unknown, call: number) => unknown | Promise<unknown>;

/** Makes a behaviour end in a function error, as an unhandled exception in the handler would. */
export class FunctionError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** A `LocalRuntime` that records every call and answers from per-function behaviours. */
export class FakeRuntime implements LocalRuntime {
  readonly invocations: { functionName: string; payload: unknown }[] = [];
  readonly messages: { queue: string; body: string; options: SendMessageOptions | undefined }[] = [];
  readonly events: PutEventsEntry[] = [];
  readonly warnings: { message: string; details: Record<string, unknown> | undefined }[] = [];
  readonly functions = new Map<string, Behaviour>();
  /** When set, the next PutEvents reports this many failed entries. */
  failEntries = 0;
  sfn: LocalStepFunctions | undefined;
  readonly log: LocalLogger = {
    info: () => undefined,
    warn: (message, details) => {
      this.warnings.push({ message, details });
    },
    error: (message, details) => {
      this.warnings.push({ message, details });
    },
  };

  constructor(readonly template: LocalTemplate) {}

  calls(functionName: string): unknown[] {
    return this.invocations.filter((call) => call.functionName === functionName).map((call) => call.payload);
  }

  async invokeFunction(functionNameOrArn: string, payload: unknown): Promise<InvokeResult> {
    const functionName = functionNameOrArn.split(':function:').at(-1) ?? functionNameOrArn;
    const behaviour = this.functions.get(functionName);
    if (!behaviour) {
      const error = new Error(`Function not found: ${functionNameOrArn}`);
      error.name = 'ResourceNotFoundException';
      throw error;
    }
    this.invocations.push({ functionName, payload });
    const call = this.calls(functionName).length;
    try {
      return { ok: true, payload: await behaviour(payload, call), durationMs: 1, coldStart: call === 1 };
    } catch (error) {
      if (error instanceof FunctionError) {
        return {
          ok: false,
          errorType: error.errorType,
          errorMessage: error.message,
          timedOut: false,
          durationMs: 1,
          coldStart: false,
        };
      }
      throw error;
    }
  }

  async sendMessage(
    queue: string,
    body: string,
    options?: SendMessageOptions,
  ): Promise<{ messageId: string }> {
    this.messages.push({ queue, body, options });
    return { messageId: `message-${this.messages.length}` };
  }

  async startExecution(stateMachineArn: string, input: string, name?: string) {
    if (!this.sfn) throw new Error('no Step Functions service');
    return this.sfn.startExecution(stateMachineArn, input, name);
  }

  async putEvents(entries: readonly PutEventsEntry[]): Promise<PutEventsResult> {
    const failing = this.failEntries;
    this.failEntries = 0;
    this.events.push(...entries);
    return {
      FailedEntryCount: Math.min(failing, entries.length),
      Entries: entries.map((_entry, index) =>
        index < failing
          ? { ErrorCode: 'InternalFailure', ErrorMessage: 'injected' }
          : { EventId: `event-${this.events.length}-${index}` },
      ),
    };
  }
}

/** The ARN of the template's state machine whose logical id starts with `id`. */
export function machineArn(template: LocalTemplate, id: string): string {
  const machine = template
    .ofType('AWS::StepFunctions::StateMachine')
    .find((resource) => resource.logicalId.startsWith(id));
  if (!machine) throw new Error(`no state machine ${id}`);
  return machine.arn;
}

/** Polls until `probe` returns a value (not undefined), or fails after `timeoutMs`. */
export async function eventually<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 5_000,
): Promise<T> {
  let value: T | undefined;
  await waitFor(
    async () => {
      value = await probe();
      return value !== undefined;
    },
    { timeoutMs, intervalMs: 10, what },
  );
  return value as T;
}

/** Serves `sfn` over HTTP through the AWS JSON router and returns a real SDK client for it. */
export async function serve(
  sfn: LocalStepFunctions,
): Promise<{ client: SFNClient; server: Server; close: () => Promise<void> }> {
  const router = new AwsJsonRouter();
  router.register('AWSStepFunctions', (operation, input) => sfn.handle(operation, input));
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      router.handle(req, res, Buffer.concat(chunks)).then(
        (handled) => {
          if (!handled) {
            res.writeHead(404);
            res.end();
          }
        },
        (error: unknown) => {
          res.writeHead(500);
          res.end(String(error));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const client = new SFNClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // StartSyncExecution carries the host prefix `sync-`, which a loopback endpoint cannot resolve.
    disableHostPrefix: true,
    maxAttempts: 1,
  });
  return {
    client,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        client.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
