import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsJsonRouter } from '#local/aws/json-protocol.ts';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { localClientConfig, serveRouter } from '#test/support/aws-router-server.ts';
import { ACCOUNT, FakeRuntime, REGION, templateOf } from './eventbridge-fixtures.ts';

const projectDir = fileURLToPath(new URL('../../..', import.meta.url));

/** An event with every field TestEventPattern requires. */
const ORDER_CREATED = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'OrderCreated',
  source: 'omnihub.shopify',
  account: ACCOUNT,
  time: '2026-03-10T12:34:56Z',
  region: REGION,
  resources: [],
  detail: { orderId: 'o-1', total: 120 },
};

/** The local EventBridge served over HTTP as the local cloud serves it; records each operation called. */
async function serveLocalEventBridge() {
  const template = templateOf({});
  const bus = new LocalEventBridge(template, new FakeRuntime(template));
  const operations: string[] = [];
  const router = new AwsJsonRouter();
  router.register('AWSEvents', (operation, input) => {
    operations.push(operation);
    return bus.handle(operation, input);
  });
  return { ...(await serveRouter(router)), operations };
}

/** Runs `npm run ops -- <args>` as a child process with `stdin`, as an operator would. */
function runOps(
  args: readonly string[],
  stdin: string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ops.ts', ...args], {
      cwd: projectDir,
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** A loopback port nothing listens on (taken from the OS, then released). */
async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('TestEventPattern through the AWS SDK v3 EventBridge client', () => {
  let served: Awaited<ReturnType<typeof serveLocalEventBridge>>;
  let client: EventBridgeClient;

  beforeAll(async () => {
    served = await serveLocalEventBridge();
    client = new EventBridgeClient({ ...localClientConfig(served.endpoint), maxAttempts: 1 });
  });

  afterAll(async () => {
    client.destroy();
    await served.close();
  });

  const testPattern = (pattern: unknown, event: unknown = ORDER_CREATED) =>
    client.send(
      new TestEventPatternCommand({ EventPattern: JSON.stringify(pattern), Event: JSON.stringify(event) }),
    );

  it('answers Result true for a matching event and false for one that does not match', async () => {
    const matching = await testPattern({
      source: ['omnihub.shopify'],
      detail: { total: [{ numeric: ['>', 100] }] },
    });
    const other = await testPattern({ source: ['omnihub.pos'] });

    expect(matching.Result).toBe(true);
    expect(other.Result).toBe(false);
  });

  it('refuses a pattern EventBridge would refuse with InvalidEventPatternException (HTTP 400)', async () => {
    await expect(testPattern({ source: 'omnihub.shopify' })).rejects.toMatchObject({
      name: 'InvalidEventPatternException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses an event without a mandatory field, and a pattern over 4,096 characters, as invalid', async () => {
    const { id: _id, ...withoutId } = ORDER_CREATED;
    const longPattern = { source: Array.from({ length: 400 }, (_, index) => `omnihub.source-${index}`) };

    await expect(testPattern({ source: ['omnihub.shopify'] }, withoutId)).rejects.toMatchObject({
      name: 'ValidationException',
      message: 'Parameter Event is not valid. Reason: Provided Event is missing field id.',
    });
    await expect(testPattern(longPattern)).rejects.toMatchObject({ name: 'ValidationException' });
  });
});

describe('ops test-pattern', () => {
  it('asks the local endpoint per line (AWSEvents.TestEventPattern) and prints its answers', async () => {
    const served = await serveLocalEventBridge();
    const lines = [
      { pattern: { 'detail-type': ['OrderCreated'] }, event: ORDER_CREATED },
      { pattern: '{"source":["omnihub.pos"]}', event: JSON.stringify(ORDER_CREATED) },
      { pattern: { source: 'omnihub.shopify' }, event: ORDER_CREATED },
    ];
    try {
      const result = await runOps(
        ['test-pattern', '--endpoint-url', served.endpoint],
        lines.map((line) => JSON.stringify(line)).join('\n'),
      );

      expect(result.stdout.trim().split('\n')).toEqual([
        'true',
        'false',
        expect.stringMatching(/^error: InvalidEventPatternException: /),
      ]);
      expect(result.code).toBe(1);
      expect(served.operations).toEqual(['TestEventPattern', 'TestEventPattern', 'TestEventPattern']);
    } finally {
      await served.close();
    }
  });

  it('names the URL it tried and says to run npm start when no local cloud answers', async () => {
    const awsPort = await unusedPort();

    const result = await runOps(
      ['test-pattern'],
      JSON.stringify({ pattern: { source: ['omnihub.shopify'] }, event: ORDER_CREATED }),
      { PORT: String(awsPort - 1) },
    );

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`http://127.0.0.1:${awsPort}`);
    expect(result.stderr).toContain('npm start');
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
