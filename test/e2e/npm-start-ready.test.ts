import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePortRange, stopProcessGroup } from '#test/support/npm-start.ts';

/**
 * Health means ready: `npm start` (local/cli.ts, on fresh state in a directory of its own) is polled from the
 * moment its port listens; as soon as `/_local/health` answers 200, a Shopify scenario places 40 orders. Every
 * one is booked in the NetSuite sandbox: none found the mappings table still empty (parked UNKNOWN_MAPPING,
 * which is what happened when health turned green before the mapping onboarding had finished).
 */
const ORDERS = 40;
const projectDir = fileURLToPath(new URL('../..', import.meta.url));

let child: ChildProcess | undefined;
let localDir: string;
let port: number;
let output = '';

async function until<T>(
  timeoutMs: number,
  intervalMs: number,
  check: () => Promise<T | undefined>,
  what: string,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (child?.exitCode !== null && child?.exitCode !== undefined)
      throw new Error(`npm start exited (${child.exitCode}) while waiting for ${what}:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

beforeAll(async () => {
  localDir = mkdtempSync(join(tmpdir(), 'omnihub-start-'));
  port = await freePortRange();
  child = spawn(process.execPath, ['--import', 'tsx', 'local/cli.ts', '--fresh'], {
    cwd: projectDir,
    env: { ...process.env, PORT: String(port), OMNIHUB_LOCAL_DIR: localDir },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
});

afterAll(async () => {
  await stopProcessGroup(child, 'SIGTERM', 20_000);
  rmSync(localDir, { recursive: true, force: true });
});

describe('npm start: health means ready', () => {
  it('books every order posted the moment /_local/health turns 200', { timeout: 240_000 }, async () => {
    const url = `http://127.0.0.1:${port}`;
    const seen = new Set<string>();
    await until(
      150_000,
      10,
      async () => {
        const response = await fetch(`${url}/_local/health`, { signal: AbortSignal.timeout(5_000) });
        const body = (await response.json()) as { status: string; waitingFor?: string[] };
        seen.add(
          `${response.status} ${body.status}${body.waitingFor ? ` ${body.waitingFor.join(',')}` : ''}`,
        );
        return response.status === 200 ? true : undefined;
      },
      'health 200',
    );
    // At once: the scenario places the orders and sends their webhooks.
    const placed = await fetch(`${url}/_sandbox/shopify/_control/scenario`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ seed: 11, orders: ORDERS, pickupShare: 0, wait: true }),
    });
    expect(placed.status).toBe(200);
    // The cloud was seen waiting for the onboarding before it said ready (the gate, not luck, made this pass).
    expect([...seen]).toContain('503 warming mappings onboarding');
    expect(output).toContain('is up in');

    const booked = await until(
      120_000,
      250,
      async () => {
        const response = await fetch(
          `${url}/_sandbox/netsuite/_control/state?type=salesOrder&full=1&limit=1000`,
        );
        const state = (await response.json()) as { records: { items: { externalId: string | null }[] } };
        const ids = state.records.items
          .map((item) => item.externalId ?? '')
          .filter((id) => id.startsWith('shopify-'));
        return ids.length >= ORDERS ? ids : undefined;
      },
      `${ORDERS} sales orders booked`,
    );
    expect(new Set(booked).size).toBe(ORDERS);
  });
});
