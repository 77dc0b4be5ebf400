/**
 * One Lambda execution environment: a worker thread with its own `process.env`, that imports the
 * function's bundled handler on its first invocation (the cold start) and keeps it for the next ones.
 * Written with erasable TypeScript only, so Node runs it directly as a worker.
 */

import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

interface WorkerConfig {
  readonly modulePath: string;
  readonly handlerName: string;
  readonly functionName: string;
  readonly memoryMb: number;
  readonly region: string;
  readonly accountId: string;
}

interface InvokeMessage {
  readonly type: 'invoke';
  readonly id: string;
  readonly event: unknown;
  readonly deadline: number;
  /** `_X_AMZN_TRACE_ID` of this invocation, as Lambda sets it. */
  readonly traceHeader?: string;
}

interface InitMessage {
  readonly type: 'init';
}

type Handler = (event: unknown, context: Record<string, unknown>) => Promise<unknown> | unknown;

const config = workerData as WorkerConfig;
let handler: Handler | undefined;
// Lambda's "path to your function code"; the X-Ray SDK runs in its Lambda mode when it is set.
process.env.LAMBDA_TASK_ROOT ??= dirname(config.modulePath);
process.setSourceMapsEnabled(true);

async function load(): Promise<Handler> {
  const module = (await import(pathToFileURL(config.modulePath).href)) as Record<string, unknown>;
  const exported =
    module[config.handlerName] ??
    (module.default as Record<string, unknown> | undefined)?.[config.handlerName];
  if (typeof exported !== 'function') {
    throw Object.assign(new Error(`${config.handlerName} is not a function in ${config.modulePath}`), {
      name: 'Runtime.HandlerNotFound',
    });
  }
  return exported as Handler;
}

function errorOf(error: unknown): { errorType: string; errorMessage: string; stackTrace: string[] } {
  const err = error instanceof Error ? error : new Error(String(error));
  return {
    errorType: err.name || 'Error',
    errorMessage: err.message,
    stackTrace: (err.stack ?? '').split('\n').slice(1),
  };
}

let invocations = 0;

/** The log of the invocation in progress (what `LogType: Tail` returns the last 4 KB of). */
let captured: string[] | undefined;
for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    captured?.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

/** The invocation's log lines as Lambda writes them around the function's own (START, END, REPORT). */
function invocationLog(requestId: string, durationMs: number): string {
  const lines = captured ?? [];
  captured = undefined;
  const memoryMb = Math.round(process.memoryUsage().rss / (1024 * 1024));
  return [
    `START RequestId: ${requestId} Version: $LATEST\n`,
    ...lines,
    `END RequestId: ${requestId}\n`,
    `REPORT RequestId: ${requestId}\tDuration: ${durationMs.toFixed(2)} ms\tBilled Duration: ${Math.max(1, Math.ceil(durationMs))} ms\tMemory Size: ${config.memoryMb} MB\tMax Memory Used: ${memoryMb} MB\t\n`,
  ].join('');
}

parentPort?.on('message', async (message: InvokeMessage | InitMessage) => {
  if (message.type === 'init') {
    // The init phase (module import, top-level code) runs before the first invocation and, as on
    // Lambda, outside the invocation's timeout.
    const started = Date.now();
    try {
      handler = await load();
      parentPort?.postMessage({ type: 'ready', durationMs: Date.now() - started });
    } catch (error) {
      parentPort?.postMessage({ type: 'init-error', ...errorOf(error), durationMs: Date.now() - started });
    }
    return;
  }
  if (message.type !== 'invoke') return;
  const started = Date.now();
  if (message.traceHeader) process.env._X_AMZN_TRACE_ID = message.traceHeader;
  const coldStart = invocations === 0;
  invocations += 1;
  captured = [];
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: config.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${config.region}:${config.accountId}:function:${config.functionName}`,
    memoryLimitInMB: String(config.memoryMb),
    awsRequestId: message.id,
    logGroupName: `/aws/lambda/${config.functionName}`,
    logStreamName: `local/${process.pid}`,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
  try {
    handler ??= await load();
    const payload = await handler(message.event, context);
    // Lambda returns JSON: serialising here also drops what JSON drops, as on AWS.
    const json = payload === undefined ? 'null' : JSON.stringify(payload);
    const durationMs = Date.now() - started;
    parentPort?.postMessage({
      type: 'result',
      id: message.id,
      ok: true,
      json,
      coldStart,
      durationMs,
      log: invocationLog(message.id, durationMs),
    });
  } catch (error) {
    const durationMs = Date.now() - started;
    const failure = errorOf(error);
    // The runtime logs the failure as Lambda's Node.js runtime does, inside the invocation's log.
    captured?.push(
      `${new Date().toISOString()}\t${message.id}\tERROR\tInvoke Error \t${JSON.stringify({ errorType: failure.errorType, errorMessage: failure.errorMessage, stack: failure.stackTrace })}\n`,
    );
    parentPort?.postMessage({
      type: 'result',
      id: message.id,
      ok: false,
      ...failure,
      coldStart,
      durationMs,
      log: invocationLog(message.id, durationMs),
    });
  }
});
