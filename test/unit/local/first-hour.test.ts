import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { toJsonLogLine } from '#local/function-logs.ts';
import { groupParked, opsCommand, type ParkedItem, replayCommand } from '#local/parked.ts';
import { freePort, portInUseMessage, takenPort } from '#local/services/ports.ts';
import { synthCacheDir } from '#local/synth.ts';
import { mappingProblems } from '../../../scripts/ops/mapping-guard.ts';

describe('function log files hold JSON lines only', () => {
  it('keeps a JSON record as one line and wraps plain text as Lambda’s JSON log format does', () => {
    const now = new Date('2026-01-02T03:04:05.000Z');
    expect(toJsonLogLine('Fn', '{"level":"INFO","message":"ok"}', now)).toBe(
      '{"level":"INFO","message":"ok"}',
    );
    expect(toJsonLogLine('Fn', '{\n  "level": "WARN",\n  "message": "multi"\n}', now)).toBe(
      '{"level":"WARN","message":"multi"}',
    );
    const plain = 'No application metrics to publish. The cold-start metric may be published if enabled.';
    const wrapped = JSON.parse(toJsonLogLine('Fn', plain, now)) as Record<string, unknown>;
    expect(wrapped).toEqual({ timestamp: now.toISOString(), level: 'INFO', message: plain, function: 'Fn' });
    expect(JSON.parse(toJsonLogLine('Fn', 'TypeError: boom\n    at x (y.js:1:1)', now))).toMatchObject({
      level: 'ERROR',
      message: 'TypeError: boom\n    at x (y.js:1:1)',
    });
    // Something that looks like JSON but is not: wrapped, never written as is.
    expect(JSON.parse(toJsonLogLine('Fn', '{not json}', now))).toMatchObject({ message: '{not json}' });
    expect(toJsonLogLine('Fn', 'START RequestId: 1', now)).not.toContain('\n');
  });
});

describe('parked items: grouped by kind and code, each with the command that replays it', () => {
  const item = (kind: string, code: string, n: number): ParkedItem => ({
    kind,
    code,
    exceptionId: `${kind}/${n}`,
    reason: `reason ${n}`,
    parkedAt: `2026-01-01T00:00:0${n}Z`,
  });

  it('names replay-orders for ERP orders (with the PORT of a cloud on another port) and no invented command for webhooks', () => {
    const groups = groupParked(
      [
        item('erp-order', 'UNKNOWN_MAPPING', 1),
        item('erp-order', 'UNKNOWN_MAPPING', 2),
        item('shopify-webhook', 'SHOP_MISMATCH', 3),
      ],
      opsCommand(3010),
    );
    expect(groups).toEqual([
      {
        kind: 'erp-order',
        code: 'UNKNOWN_MAPPING',
        count: 2,
        reason: 'reason 2',
        replay: 'PORT=3010 npm run -s ops -- replay-orders --code UNKNOWN_MAPPING',
        exceptionIds: ['erp-order/1', 'erp-order/2'],
      },
      expect.objectContaining({ kind: 'shopify-webhook', count: 1 }),
    ]);
    expect(groups[1]?.replay).toContain('no replay command for webhooks yet');
    expect(replayCommand('erp-order', 'ERP_VALIDATION', opsCommand(3000))).toBe(
      'npm run -s ops -- replay-orders --code ERP_VALIDATION',
    );
  });
});

describe('npm start: one synth per stack and context, ports named with their setting', () => {
  it('gives another PORT (other sandbox URLs in the template) another synth directory', () => {
    const at = (port: number) =>
      synthCacheDir('/x/cdk.out', 'Omnihub-dev', {
        netsuiteBaseUrl: `http://127.0.0.1:${port}/_sandbox/netsuite`,
      });
    expect(at(3000)).toBe(at(3000));
    expect(at(3000)).not.toBe(at(3010));
    expect(at(3000)).toMatch(/^\/x\/cdk\.out\/Omnihub-dev-[0-9a-f]{10}$/);
    expect(synthCacheDir('/x', 'Omnihub-staging')).not.toBe(synthCacheDir('/x', 'Omnihub-dev'));
  });

  it('finds the taken one of PORT … PORT+3 and names it with what it is for and the setting that moves it', async () => {
    const blocker = createServer();
    const base = await freePort();
    await new Promise<void>((resolve) => blocker.listen(base + 2, '127.0.0.1', () => resolve()));
    try {
      expect(await takenPort(base)).toBe(base + 2);
      const message = await portInUseMessage(base, base + 2);
      expect(message).toContain(`port ${base + 2} is in use (PORT+2: SQS)`);
      expect(message).toMatch(/start on other ports with PORT=\d+ npm start/);
    } finally {
      blocker.close();
    }
  });
});

describe('ops commands with no local cloud answering', () => {
  const projectDir = fileURLToPath(new URL('../../../', import.meta.url));
  const ops = (args: readonly string[], env: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ops.ts', ...args], {
        cwd: projectDir,
        env: { ...process.env, OMNIHUB_URL: '', ...env },
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
      });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });

  it('name the URL they tried and the settings to change, without a stack trace', {
    timeout: 60_000,
  }, async () => {
    const port = await freePort();
    const env = { PORT: String(port) };
    for (const args of [
      ['status'],
      ['exceptions'],
      ['send-shopify', 'orders/create', '--sample'],
      ['replay-orders'],
      ['trace', 'some-order-id'],
      ['dlq', 'list'],
    ]) {
      const { code, output } = await ops(args, env);
      expect(code, output).toBe(1);
      expect(output).toContain(
        `no local cloud answered at http://127.0.0.1:${port} (from PORT=${port}; ECONNREFUSED)`,
      );
      expect(output).toContain('OMNIHUB_URL=');
      expect(output).not.toMatch(/\n\s+at /);
    }
  });
});

describe('load-mappings into the local cloud', () => {
  it('refuses the sample file for deployed accounts: SKUs on booking items, a sandbox row changed', async () => {
    const { readFileSync } = await import('node:fs');
    const rows = JSON.parse(
      readFileSync(new URL('../../../docs/examples/mappings.sample.json', import.meta.url), 'utf8'),
    ) as Parameters<typeof mappingProblems>[0];
    const booking = { discount: '1', shipping: '2', tax: '3', giftCard: '4' };
    const existing = new Map([['payment-method' as const, new Map([['gateway#shopify_payments', '7']])]]);
    const problems = mappingProblems(rows, booking, existing);
    expect(problems).toContain("sku SKU2006-020 → item 2: that is the ERP's shipping booking item");
    expect(problems).toContain('payment-method gateway shopify_payments: 7 now, the file says 1');
    // A row that adds a mapping or repeats the table's is fine.
    expect(
      mappingProblems(
        [
          { kind: 'item', source: 'sku', sourceId: 'NEW-1', target: '100' },
          { kind: 'payment-method', source: 'gateway', sourceId: 'shopify_payments', target: '7' },
        ],
        booking,
        existing,
      ),
    ).toEqual([]);
  });
});
