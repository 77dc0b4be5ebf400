import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { syncLocalMappings } from '#local/onboarding.ts';
import { type RunningSandboxes, startSandboxes } from '#local/sandboxes.ts';
import { freePortRange } from '#local/services/ports.ts';
import { LocalStateStore } from '#local/state/store.ts';

/**
 * Nothing is lost on restart: the order-capture flow runs against the NetSuite sandbox while the ERP is slow
 * and fails half of its calls, and the local cloud is stopped (as Ctrl-C stops it) with order messages
 * visible, in flight and waiting for an ERP retry. Started again on the same `.local/state`, it delivers
 * every message, and the ERP — which comes back as it was, not at its seeded start — holds exactly one
 * document per order.
 */
const SEED = 21;
const ORDERS = 40;

interface Queue {
  name: string;
  visible: number;
  inFlight: number;
  isDlq: boolean;
}

interface ErpDocument {
  id: string;
  externalId: string | null;
}

let assemblyDir: string;
let stateDir: string;
let stackName: string;
let port: number;
let run: { cloud: LocalCloud; sandboxes: RunningSandboxes; state: LocalStateStore } | undefined;
let atStop: { visible: number; inFlight: number; erpFailures: number; erpDocuments: number };

async function boot() {
  const state = LocalStateStore.open(stateDir, { identity: { stack: stackName, seed: SEED } });
  const url = `http://127.0.0.1:${port}`;
  const sandboxes = await startSandboxes({ hubUrl: url, env: {}, seed: SEED, state });
  const cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port,
    state,
    chaos: { ...DEFAULT_CHAOS, seed: 32 },
    sandboxes: sandboxes.handle,
    env: { OMNIHUB_NETSUITE_CREDENTIALS: sandboxes.netsuiteCredentials },
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });
  sandboxes.resume();
  run = { cloud, sandboxes, state };
  return run;
}

/** What `npm start` does on Ctrl-C. */
async function stop() {
  if (!run) return;
  await run.cloud.stop();
  await run.sandboxes.close();
  run.state.close();
  run = undefined;
}

async function control<T>(system: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}/_sandbox/${system}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${system} ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

async function orderQueues() {
  const queues = (await (await fetch(`http://127.0.0.1:${port}/_local/queues`)).json()) as Queue[];
  const main = queues.find((queue) => /ErpOrders/.test(queue.name) && !queue.isDlq);
  const dlq = queues.find((queue) => /ErpOrders/.test(queue.name) && queue.isDlq);
  if (!main || !dlq) throw new Error(`no ErpOrders queues in ${JSON.stringify(queues)}`);
  return { main, dlq };
}

async function erpDocuments(): Promise<ErpDocument[]> {
  const documents: ErpDocument[] = [];
  for (const type of ['salesOrder', 'cashSale']) {
    const state = await control<{ records: { items: ErpDocument[] } }>(
      'netsuite',
      `/_control/state?type=${type}&full=1&limit=1000`,
    );
    documents.push(...state.records.items);
  }
  return documents;
}

async function erpFailures(): Promise<number> {
  const { counters } = await control<{ counters: { byStatus: Record<string, number> } }>(
    'netsuite',
    '/_control/state?limit=1',
  );
  return Object.entries(counters.byStatus)
    .filter(([status]) => status.startsWith('5'))
    .reduce((sum, [, count]) => sum + count, 0);
}

/** Polls `check` until it returns a value, or fails with what `describe` says after `timeoutMs`. */
async function until<T>(
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  describe: () => Promise<unknown>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms: ${JSON.stringify(await describe())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const progress = async () => ({
  queues: await orderQueues(),
  erpDocuments: (await erpDocuments()).length,
  erpFailures: await erpFailures(),
  shopifyWebhooks: (await control<{ counters: unknown }>('shopify', '/_control/state?limit=1')).counters,
});

beforeAll(async () => {
  port = await freePortRange();
  const url = `http://127.0.0.1:${port}`;
  assemblyDir = mkdtempSync(join(tmpdir(), 'omnihub-restart-'));
  stateDir = join(mkdtempSync(join(tmpdir(), 'omnihub-restart-state-')), 'state');
  const app = new App({
    outdir: assemblyDir,
    context: {
      env: 'dev',
      netsuiteBaseUrl: `${url}/_sandbox/netsuite`,
      squareBaseUrl: `${url}/_sandbox/square`,
      shopifyBaseUrl: `${url}/_sandbox/shopify`,
      squareNotificationUrl: `${url}/webhooks/pos`,
    },
  });
  stackName = buildApp(app).stack.stackName;
  app.synth();

  const { cloud } = await boot();
  await syncLocalMappings(cloud.url);
  // A slow ERP that fails half of its calls: records wait for their retry backoff while others are posted.
  await control('netsuite', '/_control/plan', { latencyMs: { min: 300, max: 900 } });
  await control('netsuite', '/_control/faults', { errorRate: 0.5, seed: 3 });
  await control('shopify', '/_control/scenario', {
    seed: 9,
    orders: ORDERS,
    spacingSeconds: { min: 1, max: 5 },
  });
  atStop = await until(
    90_000,
    async () => {
      const { main } = await orderQueues();
      const failures = await erpFailures();
      const documents = (await erpDocuments()).length;
      return main.visible > 0 && main.inFlight > 0 && failures > 0 && documents > 0
        ? { visible: main.visible, inFlight: main.inFlight, erpFailures: failures, erpDocuments: documents }
        : undefined;
    },
    progress,
  );
  // Healthy after the restart; the messages waiting for their retry backoff come back visible at once.
  await control('netsuite', '/_control/faults', {});
  await stop();

  await boot();
  await until(
    180_000,
    async () => {
      const { main } = await orderQueues();
      return main.visible === 0 && main.inFlight === 0 && (await erpDocuments()).length >= ORDERS
        ? true
        : undefined;
    },
    progress,
  );
}, 400_000);

afterAll(async () => {
  await stop();
  rmSync(assemblyDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('local cloud restart (e2e)', () => {
  it('was stopped with order messages visible, in flight and waiting for an ERP retry', () => {
    console.info(`restart: stopped with ${JSON.stringify(atStop)}`);
    expect(atStop.visible).toBeGreaterThan(0);
    expect(atStop.inFlight).toBeGreaterThan(0);
    expect(atStop.erpFailures).toBeGreaterThan(0);
    expect(atStop.erpDocuments).toBeLessThan(ORDERS);
  });

  it('delivered every message after the restart: one ERP document per order, none twice, nothing dead-lettered', async () => {
    const documents = await erpDocuments();
    const byExternalId = new Map<string, number>();
    for (const document of documents) {
      byExternalId.set(String(document.externalId), (byExternalId.get(String(document.externalId)) ?? 0) + 1);
    }
    expect([...byExternalId.values()].filter((count) => count > 1)).toEqual([]);
    expect(byExternalId.size).toBe(ORDERS);
    const { dlq } = await orderQueues();
    expect(dlq.visible + dlq.inFlight).toBe(0);
  });
});
