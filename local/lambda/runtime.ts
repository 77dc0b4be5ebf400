import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { LocalResource, LocalTemplate } from '../template.ts';
import type { InvokeResult, LocalLogger } from '../types.ts';
import { lambdaTraceHeader } from '../xray/daemon.ts';
import { MAX_SYNC_PAYLOAD_BYTES, MAX_SYNC_RESPONSE_BYTES, payloadTooLarge, throttled } from './errors.ts';

/** A function of the template, with what the local runtime needs to run it as Lambda would. */
export interface LocalFunction {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly modulePath: string;
  readonly handlerName: string;
  readonly timeoutMs: number;
  readonly memoryMb: number;
  /** Reserved concurrency from the template, else the local default. */
  readonly maxConcurrency: number;
  /**
   * `ReservedConcurrentExecutions`: invocations beyond it are throttled (429), as on AWS. Without it the function
   * shares the account's pool, and invocations beyond the local default wait for an environment instead.
   */
  readonly reservedConcurrency?: number | undefined;
  readonly environment: Readonly<Record<string, string>>;
  /** `TracingConfig.Mode`: Active functions get a sampled trace header on every invocation. */
  readonly tracing: 'Active' | 'PassThrough';
}

export interface FunctionStats {
  invocations: number;
  coldStarts: number;
  errors: number;
  timeouts: number;
  /** Environments alive now (warm workers). */
  environments: number;
  /** Invocations waiting for a free environment. */
  queued: number;
  /** Invocations refused with TooManyRequestsException (reserved concurrency in use). */
  throttles: number;
}

interface Environment {
  readonly worker: Worker;
  /** Resolves when the init phase is over: undefined when ready, the error otherwise. */
  readonly ready: Promise<{ errorType: string; errorMessage: string } | undefined>;
  busy: boolean;
  pending?: {
    readonly id: string;
    readonly resolve: (result: InvokeResult) => void;
    readonly timer: NodeJS.Timeout;
    readonly started: number;
  };
}

export interface LambdaRuntimeOptions {
  /** Variables every function gets besides its template environment (endpoints, region, fake credentials). */
  readonly baseEnvironment: Readonly<Record<string, string>>;
  /**
   * Environments per function when the template reserves none. On AWS each has its own CPU share;
   * here they share this machine's cores, and cold-starting many more than there are cores only
   * makes every one of them slow. @default twice the available parallelism
   */
  readonly defaultConcurrency?: number;
  /** Receives each function's stdout/stderr lines (its logs). */
  readonly onLog?: (functionName: string, line: string) => void;
  /**
   * The credentials a function's environment gets (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
   * `AWS_SESSION_TOKEN`), identifying its role to the local services. @default the base environment's
   */
  readonly credentials?: (functionName: string) => {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken: string;
  };
  readonly log: LocalLogger;
}

const WORKER_FILE = new URL('./worker.ts', import.meta.url);

/** Lambda's limit for the init phase of an on-demand function. */
const INIT_TIMEOUT_MS = 10_000;

/** "Function environment variables: 4 KB, for all environment variables associated with the function, in aggregate" (Lambda quotas). */
const MAX_ENVIRONMENT_BYTES = 4 * 1024;

/**
 * Refuses a function whose environment variables are over 4 KB, measured as Lambda measures them: the JSON of the
 * variables map (Lambda's answer: "… exceeded the 4KB limit. String measured: {"KEY":"value",…}").
 *
 * @throws Error with Lambda's InvalidParameterValueException message, naming the function.
 */
export function assertEnvironmentSize(logicalId: string, variables: Readonly<Record<string, string>>): void {
  const measured = JSON.stringify(variables);
  if (Buffer.byteLength(measured, 'utf8') > MAX_ENVIRONMENT_BYTES) {
    throw new Error(
      `${logicalId}: InvalidParameterValueException: Lambda was unable to configure your environment variables because the environment variables you have provided exceeded the 4KB limit. String measured: ${measured}`,
    );
  }
}

/** Ends an environment's invocation in flight, if any, with a runtime failure (crash, shutdown). */
function failPending(environment: Environment, errorType: string, errorMessage: string): void {
  const pending = environment.pending;
  if (!pending) return;
  clearTimeout(pending.timer);
  environment.pending = undefined;
  pending.resolve({
    ok: false,
    errorType,
    errorMessage,
    timedOut: false,
    durationMs: Date.now() - pending.started,
    coldStart: false,
  });
}

/** Where the bundled code of a function lives in the cloud assembly. */
function assetModule(
  template: LocalTemplate,
  resource: LocalResource,
): { modulePath: string; handlerName: string } {
  const handler = String(resource.properties.Handler ?? 'index.handler');
  const dot = handler.lastIndexOf('.');
  const file = handler.slice(0, dot);
  const handlerName = handler.slice(dot + 1);
  const code = resource.properties.Code as { S3Key?: string } | undefined;
  const assetPath =
    typeof resource.metadata['aws:asset:path'] === 'string'
      ? (resource.metadata['aws:asset:path'] as string)
      : `asset.${String(code?.S3Key ?? '').replace(/\.zip$/, '')}`;
  const dir = join(template.assemblyDir, assetPath);
  for (const extension of ['.mjs', '.js', '.cjs']) {
    const candidate = join(dir, `${file}${extension}`);
    if (existsSync(candidate)) return { modulePath: candidate, handlerName };
  }
  throw new Error(`no bundled code for ${resource.logicalId} in ${dir}`);
}

/**
 * Runs the template's functions locally as Lambda runs them: each execution environment is a worker
 * thread with its own environment variables, reused while warm, one invocation at a time; at most
 * the reserved concurrency of environments per function (extra invocations wait); a run past the
 * timeout tears its environment down, and the next invocation pays a cold start again.
 */
export class LambdaRuntime {
  readonly functions = new Map<string, LocalFunction>();
  private readonly environments = new Map<string, Environment[]>();
  private readonly waiting = new Map<string, (() => void)[]>();
  private readonly stats = new Map<string, FunctionStats>();
  private closed = false;

  constructor(
    template: LocalTemplate,
    private readonly options: LambdaRuntimeOptions,
  ) {
    for (const resource of template.ofType('AWS::Lambda::Function')) {
      const { modulePath, handlerName } = assetModule(template, resource);
      const variables = ((
        resource.properties.Environment as { Variables?: Record<string, unknown> } | undefined
      )?.Variables ?? {}) as Record<string, unknown>;
      const reserved = resource.properties.ReservedConcurrentExecutions;
      const environment = Object.fromEntries(
        Object.entries(variables).map(([key, value]) => [key, String(value)]),
      );
      assertEnvironmentSize(resource.logicalId, environment);
      const fn: LocalFunction = {
        name: resource.name,
        arn: resource.arn,
        logicalId: resource.logicalId,
        modulePath,
        handlerName,
        timeoutMs: Number(resource.properties.Timeout ?? 3) * 1000,
        memoryMb: Number(resource.properties.MemorySize ?? 128),
        maxConcurrency:
          reserved === undefined
            ? (options.defaultConcurrency ?? 2 * availableParallelism())
            : Number(reserved),
        reservedConcurrency: reserved === undefined ? undefined : Number(reserved),
        environment,
        tracing:
          (resource.properties.TracingConfig as { Mode?: unknown } | undefined)?.Mode === 'Active'
            ? 'Active'
            : 'PassThrough',
      };
      this.functions.set(fn.name, fn);
      this.environments.set(fn.name, []);
      this.waiting.set(fn.name, []);
      this.stats.set(fn.name, {
        invocations: 0,
        coldStarts: 0,
        errors: 0,
        timeouts: 0,
        environments: 0,
        queued: 0,
        throttles: 0,
      });
    }
  }

  /** Accepts a function name, an unqualified or `:$LATEST` ARN. */
  resolve(nameOrArn: string): LocalFunction | undefined {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':')[6] ?? '') : nameOrArn;
    return this.functions.get(name);
  }

  statistics(): Record<string, FunctionStats> {
    return Object.fromEntries(this.stats);
  }

  /**
   * A synchronous (RequestResponse) invocation.
   *
   * @throws LambdaServiceError TooManyRequestsException (429) when the function's reserved concurrency is in use,
   *   RequestEntityTooLargeException (413) for an event over 6 MB.
   */
  async invoke(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const result = await this.invokeOnce(nameOrArn, event);
    if (!result.ok) {
      // As Lambda's runtime does, a failed invocation leaves its error in the function's log.
      const name = this.resolve(nameOrArn)?.name ?? nameOrArn;
      this.options.onLog?.(
        name,
        JSON.stringify({
          timestamp: new Date().toISOString(),
          level: 'ERROR',
          message: 'Invoke Error',
          errorType: result.errorType,
          errorMessage: result.errorMessage,
        }),
      );
    }
    return result;
  }

  private async invokeOnce(nameOrArn: string, event: unknown): Promise<InvokeResult> {
    const fn = this.resolve(nameOrArn);
    if (!fn) {
      return {
        ok: false,
        errorType: 'ResourceNotFoundException',
        errorMessage: `Function not found: ${nameOrArn}`,
        timedOut: false,
        durationMs: 0,
        coldStart: false,
      };
    }
    const stats = this.stats.get(fn.name) as FunctionStats;
    const eventBytes = Buffer.byteLength(JSON.stringify(event) ?? 'null', 'utf8');
    if (eventBytes > MAX_SYNC_PAYLOAD_BYTES) throw payloadTooLarge(eventBytes, 'RequestResponse');
    const environment = await this.acquire(fn, stats);
    stats.invocations += 1;
    const initStarted = Date.now();
    const initError = await environment.ready;
    if (initError) {
      stats.errors += 1;
      this.discard(fn, environment, stats);
      return {
        ok: false,
        ...initError,
        timedOut: false,
        durationMs: Date.now() - initStarted,
        coldStart: true,
      };
    }
    const id = randomUUID();
    const started = Date.now();
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        // Lambda stops a run at its timeout and discards the environment.
        stats.timeouts += 1;
        stats.errors += 1;
        environment.pending = undefined;
        this.discard(fn, environment, stats);
        resolve({
          ok: false,
          errorType: 'Sandbox.Timedout',
          errorMessage: `Task timed out after ${(fn.timeoutMs / 1000).toFixed(2)} seconds`,
          timedOut: true,
          durationMs: Date.now() - started,
          coldStart: false,
        });
      }, fn.timeoutMs);
      environment.pending = {
        id,
        started,
        timer,
        resolve: (result) => {
          if (result.coldStart) stats.coldStarts += 1;
          if (!result.ok) stats.errors += 1;
          environment.busy = false;
          this.release(fn);
          resolve(result);
        },
      };
      environment.worker.postMessage({
        type: 'invoke',
        id,
        event,
        deadline: started + fn.timeoutMs,
        traceHeader: lambdaTraceHeader(fn.tracing === 'Active'),
      });
    });
  }

  /** Ends every environment (Ctrl-C). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.environments.values()].flat();
    for (const environment of all) failPending(environment, 'Runtime.Shutdown', 'local cloud stopped');
    for (const list of this.environments.values()) list.length = 0;
    // Invocations still waiting for an environment fail now instead of hanging.
    for (const waiters of this.waiting.values()) for (const wake of waiters.splice(0)) wake();
    await Promise.all(all.map((environment) => environment.worker.terminate()));
  }

  private async acquire(fn: LocalFunction, stats: FunctionStats): Promise<Environment> {
    for (;;) {
      if (this.closed) throw new Error('local Lambda runtime is closed');
      const environments = this.environments.get(fn.name) as Environment[];
      const idle = environments.find((environment) => !environment.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (environments.length < fn.maxConcurrency) {
        const environment = this.spawn(fn, stats);
        environment.busy = true;
        return environment;
      }
      if (fn.reservedConcurrency !== undefined) {
        stats.throttles += 1;
        throw throttled(fn.name);
      }
      stats.queued += 1;
      await new Promise<void>((resolve) => (this.waiting.get(fn.name) as (() => void)[]).push(resolve));
      stats.queued -= 1;
    }
  }

  private release(fn: LocalFunction): void {
    this.waiting.get(fn.name)?.shift()?.();
  }

  private spawn(fn: LocalFunction, stats: FunctionStats): Environment {
    const worker = new Worker(WORKER_FILE, {
      workerData: {
        modulePath: fn.modulePath,
        handlerName: fn.handlerName,
        functionName: fn.name,
        memoryMb: fn.memoryMb,
        region: this.options.baseEnvironment.AWS_REGION ?? 'us-east-1',
        accountId: this.options.baseEnvironment.AWS_ACCOUNT_ID ?? '000000000000',
      },
      env: {
        ...this.options.baseEnvironment,
        ...fn.environment,
        ...this.credentialEnvironment(fn.name),
        AWS_LAMBDA_FUNCTION_NAME: fn.name,
        AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
        AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
        _HANDLER: `${fn.handlerName}`,
      },
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, fn.memoryMb) },
    });
    let settleReady: (value: { errorType: string; errorMessage: string } | undefined) => void = () => {};
    const ready = new Promise<{ errorType: string; errorMessage: string } | undefined>((resolve) => {
      settleReady = resolve;
    });
    const initTimer = setTimeout(
      () =>
        settleReady({
          errorType: 'Sandbox.Timedout',
          errorMessage: `INIT phase exceeded ${INIT_TIMEOUT_MS / 1000} seconds`,
        }),
      INIT_TIMEOUT_MS,
    );
    const environment: Environment = { worker, ready, busy: false };
    void ready.then(() => clearTimeout(initTimer));
    const forward = (stream: NodeJS.ReadableStream) => {
      let buffer = '';
      stream.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          this.options.onLog?.(fn.name, buffer.slice(0, newline));
          buffer = buffer.slice(newline + 1);
          newline = buffer.indexOf('\n');
        }
      });
    };
    forward(worker.stdout);
    forward(worker.stderr);
    worker.on(
      'message',
      (message: {
        type: string;
        id: string;
        ok: boolean;
        json?: string;
        errorType?: string;
        errorMessage?: string;
        coldStart: boolean;
        durationMs: number;
        log?: string;
      }) => {
        if (message.type === 'ready') return settleReady(undefined);
        if (message.type === 'init-error') {
          return settleReady({
            errorType: message.errorType ?? 'Runtime.InitError',
            errorMessage: message.errorMessage ?? '',
          });
        }
        const pending = environment.pending;
        if (message.type !== 'result' || !pending || pending.id !== message.id) return;
        clearTimeout(pending.timer);
        environment.pending = undefined;
        const log = message.log === undefined ? {} : { log: message.log };
        const responseBytes = Buffer.byteLength(message.json ?? '', 'utf8');
        pending.resolve(
          message.ok && responseBytes > MAX_SYNC_RESPONSE_BYTES
            ? {
                // The runtime cannot post the response: the invocation fails.
                ok: false,
                errorType: 'Function.ResponseSizeTooLarge',
                errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_SYNC_RESPONSE_BYTES} bytes).`,
                timedOut: false,
                durationMs: message.durationMs,
                coldStart: message.coldStart,
                ...log,
              }
            : message.ok
              ? {
                  ok: true,
                  payload: JSON.parse(message.json ?? 'null') as unknown,
                  durationMs: message.durationMs,
                  coldStart: message.coldStart,
                  ...log,
                }
              : {
                  ok: false,
                  errorType: message.errorType ?? 'Error',
                  errorMessage: message.errorMessage ?? '',
                  timedOut: false,
                  durationMs: message.durationMs,
                  coldStart: message.coldStart,
                  ...log,
                },
        );
      },
    );
    const crash = (reason: string) => {
      settleReady({ errorType: 'Runtime.ExitError', errorMessage: reason });
      this.discard(fn, environment, stats);
      failPending(environment, 'Runtime.ExitError', reason);
    };
    worker.on('error', (error) => crash(`RequestId: environment crashed: ${error.message}`));
    worker.on('exit', (code) => {
      if (environment.pending) crash(`Runtime exited with error: exit status ${code}`);
      else this.discard(fn, environment, stats);
    });
    (this.environments.get(fn.name) as Environment[]).push(environment);
    stats.environments += 1;
    worker.postMessage({ type: 'init' });
    return environment;
  }

  private credentialEnvironment(functionName: string): Record<string, string> {
    const credentials = this.options.credentials?.(functionName);
    if (!credentials) return {};
    return {
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_SESSION_TOKEN: credentials.sessionToken,
    };
  }

  private discard(fn: LocalFunction, environment: Environment, stats: FunctionStats): void {
    const environments = this.environments.get(fn.name) as Environment[];
    const index = environments.indexOf(environment);
    if (index < 0) return;
    environments.splice(index, 1);
    stats.environments -= 1;
    void environment.worker.terminate();
    this.release(fn);
  }
}
