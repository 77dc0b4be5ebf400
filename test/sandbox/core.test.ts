import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ZodError } from 'zod';
import { handleControl, paginate } from '#sandbox/core/control.ts';
import { FaultInjector } from '#sandbox/core/faults.ts';
import { Router, readBody, type SandboxApp, type StartedServer, sendJson } from '#sandbox/core/http.ts';
import { createRetailer } from '#sandbox/core/retailer.ts';
import { createRng } from '#sandbox/core/rng.ts';
import { WebhookDispatcher, type WebhookMessage } from '#sandbox/core/webhooks.ts';
import { postJson, start } from './helpers.ts';

const msg = (n: number): WebhookMessage => ({
  eventId: `e${n}`,
  topic: 't',
  url: 'http://hook.test/x',
  headers: { 'x-n': String(n) },
  body: `{"n":${n}}`,
});

/** A fake receiver: records bodies; `plan` gives the status per attempt of a body (default 200). */
function fakeFetch(plan: (body: string, attempt: number) => number | 'hang' = () => 200) {
  const calls: string[] = [];
  const attempts = new Map<string, number>();
  const fn = (async (_url: string | URL | Request, init?: RequestInit) => {
    const body = String(init?.body);
    const n = (attempts.get(body) ?? 0) + 1;
    attempts.set(body, n);
    calls.push(body);
    const outcome = plan(body, n);
    if (outcome === 'hang') {
      await new Promise((_, reject) =>
        init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
      );
    }
    return new Response(null, { status: outcome === 'hang' ? 599 : outcome });
  }) as typeof fetch;
  return { fn, calls };
}

describe('core: rng', () => {
  it('is deterministic per seed and independent across forks', () => {
    const a = createRng(5);
    const b = createRng(5);
    const seqA = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(createRng(6).next()).not.toBe(seqA[0]);
    const r = createRng(1);
    for (let i = 0; i < 200; i++) {
      const v = r.int(3, 7);
      expect(v).toBeGreaterThanOrEqual(3);
      expect(v).toBeLessThanOrEqual(7);
    }
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
    expect(() => r.pick([])).toThrow(RangeError);
    expect(createRng(9).uuid()).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(createRng(9).uuid()).toBe(createRng(9).uuid());
    const f1 = createRng(3).fork();
    const f2 = createRng(3).fork();
    expect(f1.next()).toBe(f2.next());
    expect(createRng(3).shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('seeds the same retailer for every sandbox', () => {
    const a = createRetailer({ seed: 4, items: 50, stores: 3 });
    const b = createRetailer({ seed: 4, items: 50, stores: 3 });
    expect(a.items).toEqual(b.items);
    expect(a.items).toHaveLength(50);
    expect(a.locations.map((l) => l.code)).toEqual(['WH-01', 'ST-001', 'ST-002', 'ST-003']);
    expect(a.openingStock('SKU-000001', 'ST-001')).toBe(b.openingStock('SKU-000001', 'ST-001'));
    expect(new Set(a.items.map((i) => i.sku)).size).toBe(50);
  });
});

describe('core: FaultInjector', () => {
  it('defaults to no faults and validates its config', () => {
    const f = new FaultInjector(1);
    expect(f.decide('/x')).toEqual({ kind: 'pass', latencyMs: 0 });
    expect(() => f.configure({ errorRate: 2 })).toThrow(ZodError);
    expect(() => f.configure({ latencyMs: { min: 10, max: 5 } })).toThrow(ZodError);
  });

  it('injects errors at the configured rate, reproducibly, and counts them', () => {
    const run = () => {
      const f = new FaultInjector(1);
      f.configure({ errorRate: 0.3, seed: 77 });
      return { kinds: Array.from({ length: 200 }, () => f.decide('/a').kind), counters: f.counters };
    };
    const a = run();
    expect(run().kinds).toEqual(a.kinds);
    const errors = a.kinds.filter((k) => k === 'error').length;
    expect(errors).toBeGreaterThan(35);
    expect(errors).toBeLessThan(85);
    expect(a.counters).toMatchObject({ calls: 200, errors, passed: 200 - errors });
  });

  it('opens and closes outage and throttle-storm windows on its clock', () => {
    let now = 1_000_000;
    const f = new FaultInjector(1, () => now);
    f.configure({ outage: { durationMs: 500 }, throttleStorm: { rate: 1, durationMs: 2_000 } });
    expect(f.decide().kind).toBe('outage');
    now += 600;
    expect(f.decide()).toMatchObject({ kind: 'throttle', retryAfterSeconds: 2 });
    now += 2_000;
    expect(f.decide().kind).toBe('pass');
    f.configure({
      outage: { startsAt: new Date(now + 100).toISOString(), endsAt: new Date(now + 200).toISOString() },
    });
    expect(f.decide().kind).toBe('pass');
    now += 150;
    expect(f.decide().kind).toBe('outage');
    expect(f.counters).toMatchObject({ outageRejections: 2, throttled: 1 });
  });

  it('draws latency from the configured distribution and respects path filters', () => {
    const f = new FaultInjector(2);
    f.configure({ latencyMs: { min: 20, max: 40 }, paths: ['/slow'] });
    for (let i = 0; i < 50; i++) {
      const d = f.decide('/slow/x');
      expect(d.kind === 'pass' && d.latencyMs >= 20 && d.latencyMs <= 40).toBe(true);
    }
    expect(f.decide('/fast')).toEqual({ kind: 'pass', latencyMs: 0 });
    f.configure({ latencyMs: { distribution: 'lognormal', median: 100, p99: 1000 } });
    const xs = Array.from({ length: 400 }, () => (f.decide() as { latencyMs: number }).latencyMs).sort(
      (a, b) => a - b,
    );
    expect(xs[200]).toBeGreaterThan(60);
    expect(xs[200]).toBeLessThan(160);
    f.configure({ timeoutRate: 1, timeoutMs: 5 });
    expect(f.decide()).toEqual({ kind: 'timeout', timeoutMs: 5 });
  });
});

describe('core: WebhookDispatcher', () => {
  it('delivers in order, retries non-2xx with backoff and counts', async () => {
    const fake = fakeFetch((body, n) => (body === '{"n":2}' && n < 3 ? 503 : 200));
    const d = new WebhookDispatcher({ fetch: fake.fn, retry: { initialBackoffMs: 5, maxBackoffMs: 20 } });
    for (let i = 1; i <= 4; i++) d.enqueue(msg(i));
    await d.flush(5_000);
    expect(d.counters).toMatchObject({
      queued: 4,
      delivered: 4,
      attempts: 6,
      retried: 2,
      failed: 0,
      pending: 0,
      inFlight: 0,
    });
    expect(fake.calls.filter((c) => c !== '{"n":2}')).toEqual(['{"n":1}', '{"n":3}', '{"n":4}']);
    expect(d.deliveries({ state: 'delivered' }).total).toBe(4);
  });

  it('treats timeouts as failures and gives up after maxAttempts', async () => {
    const fake = fakeFetch(() => 'hang');
    const d = new WebhookDispatcher({
      fetch: fake.fn,
      retry: { maxAttempts: 3, initialBackoffMs: 1, timeoutMs: 30 },
    });
    d.enqueue(msg(1));
    await d.flush(5_000);
    expect(d.counters).toMatchObject({ failed: 1, attempts: 3, delivered: 0 });
    expect(d.deliveries().items[0]).toMatchObject({ state: 'failed', attempts: 3 });
  });

  it('applies drop, duplicate and reorder decisions and is reproducible under a seed', async () => {
    const run = async () => {
      const f = new FaultInjector(1);
      f.configure({ webhooks: { dropRate: 0.2, duplicateRate: 0.2, reorderRate: 0.2 }, seed: 12 });
      const fake = fakeFetch();
      const d = new WebhookDispatcher({ fetch: fake.fn, decide: () => f.decideWebhook() });
      for (let i = 1; i <= 30; i++) d.enqueue(msg(i));
      await d.flush(5_000);
      return { calls: fake.calls, counters: d.counters };
    };
    const a = await run();
    const b = await run();
    expect(b).toEqual(a);
    const { dropped, duplicated, reordered, delivered, queued } = a.counters;
    expect(dropped).toBeGreaterThan(0);
    expect(duplicated).toBeGreaterThan(0);
    expect(reordered).toBeGreaterThan(0);
    expect(delivered).toBe(queued - dropped + duplicated);
    expect(a.calls).toHaveLength(delivered);
    const firstSeen = [...new Set(a.calls)].map((c) => Number(/\d+/.exec(c)?.[0]));
    expect(firstSeen).not.toEqual([...firstSeen].sort((x, y) => x - y));
  });

  it('delays deliveries and cancels everything on reset', async () => {
    const fake = fakeFetch();
    const d = new WebhookDispatcher({
      fetch: fake.fn,
      decide: () => ({ drop: false, duplicate: false, reorder: false, delayMs: 60 }),
    });
    const t0 = performance.now();
    d.enqueue(msg(1));
    await d.flush();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(55);
    d.enqueue(msg(2));
    d.reset();
    await d.flush(100);
    expect(d.counters).toMatchObject({ queued: 0, delivered: 0, pending: 0 });
    expect(fake.calls).toEqual(['{"n":1}']);
  });
});

describe('core: http and control API', () => {
  const app: SandboxApp & { scenarioCalls: number } = {
    name: 'dummy',
    scenarioCalls: 0,
    async handle(req: IncomingMessage, res: ServerResponse, path: string) {
      const faults = injector;
      if (
        await handleControl(req, res, path, {
          faults,
          state: (q) => ({ items: paginate([1, 2, 3, 4, 5], q) }),
          scenario: async (b) => {
            app.scenarioCalls++;
            return { got: b };
          },
          reset: async () => faults.reset(),
        })
      )
        return;
      if (path === '/echo') {
        const body = await readBody(req, 8);
        sendJson(res, 200, { size: body.length });
        return;
      }
      sendJson(res, 404, { path });
    },
    reset: async () => undefined,
    close: async () => undefined,
  };
  const injector = new FaultInjector(1);
  let server: StartedServer;
  let url: string;
  beforeAll(async () => {
    ({ server, url } = await start(app));
  });
  afterAll(() => server.close());

  it('routes by method and path parameters', () => {
    const r = new Router()
      .on('GET', '/v2/orders/:id', () => undefined)
      .on('POST', '/v2/orders/search', () => undefined);
    expect(r.match('GET', '/v2/orders/abc%20d')).toMatchObject({ params: { id: 'abc d' } });
    expect(r.match('POST', '/v2/orders/search')).toMatchObject({ params: {} });
    expect(r.match('DELETE', '/v2/orders/x')).toEqual({ methodNotAllowed: true });
    expect(r.match('GET', '/v2/nope')).toBeUndefined();
  });

  it('mounts apps under /_sandbox/<name> and limits body size', async () => {
    expect((await fetch(`${url}/echo`, { method: 'POST', body: 'abc' })).status).toBe(200);
    const big = await fetch(`${url}/echo`, { method: 'POST', body: 'x'.repeat(64) });
    expect(big.status).toBe(413);
    expect((await fetch(`${server.origin}/_sandbox/other/x`)).status).toBe(404);
  });

  it('serves state, faults, scenario and reset, and rejects bad fault config with 400', async () => {
    const s = (await (await fetch(`${url}/_control/state?offset=2&limit=2`)).json()) as { items: unknown };
    expect(s.items).toEqual({ total: 5, offset: 2, limit: 2, hasMore: true, items: [3, 4] });
    const ok = await postJson(`${url}/_control/faults`, { errorRate: 0.5 });
    expect(ok.status).toBe(200);
    expect((ok.json as { config: { errorRate: number } }).config.errorRate).toBe(0.5);
    const bad = await postJson(`${url}/_control/faults`, { errorRate: 'lots' });
    expect(bad.status).toBe(400);
    expect((bad.json as { error: string }).error).toBe('invalid_control_input');
    expect((await postJson(`${url}/_control/scenario`, { n: 1 })).json).toEqual({ got: { n: 1 } });
    await postJson(`${url}/_control/reset`, {});
    expect(injector.config.errorRate).toBe(0);
    expect((await fetch(`${url}/_control/nope`)).status).toBe(404);
  });
});
