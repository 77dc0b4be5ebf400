import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '#sandbox/core/json.ts';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { start } from './helpers.ts';

const TOKEN = 'EAAAEOmnihubSandboxAccessToken';
const HOOK = 'http://127.0.0.1:9/webhooks/square';
const CLOCK = Date.parse('2026-03-02T09:00:00.000Z');

interface Delivered {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Everything a small seeded run produces, as one canonical JSON text: the scenario answers (ids),
 * the records the state endpoint serves, the signed webhook deliveries (headers and bodies) and the
 * answers of the API calls that draw ids from the sandbox's own stream.
 */
async function seededRun(): Promise<string> {
  const delivered: Delivered[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    delivered.push({
      url: String(input),
      headers: { ...(init?.headers as Record<string, string>) },
      body: String(init?.body),
    });
    return new Response(null, { status: 200 });
  };
  const app = new SquareSandbox({
    seed: 7,
    items: 60,
    stores: 3,
    clock: () => CLOCK,
    fetch: recordingFetch,
    webhooks: [{ url: HOOK }, { url: `${HOOK}/counts`, eventTypes: ['inventory.count.updated'] }],
  });
  const { server, url } = await start(app);
  try {
    const api = async (path: string, body: unknown) =>
      (
        await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        })
      ).json() as Promise<unknown>;
    const sku = app.retailer.items[3]?.sku ?? '';
    // Deliveries settle between steps, so the webhook counters each answer carries are fixed too.
    const scenarios: unknown[] = [];
    scenarios.push(
      await app.scenario({
        seed: 5,
        at: '2026-03-01T10:00:00.000Z',
        sales: 6,
        returns: 3,
        onlineReturns: 2,
        counts: 3,
        adjustments: 2,
        orderCreatedForPos: true,
      }),
    );
    await app.webhooks.flush(10_000);
    scenarios.push(
      await app.scenario({
        at: '2026-03-01T12:00:00.000Z',
        sales: 2,
        returns: 1,
        onlineReturns: [{ reference: '#4242', location: 'ST-002', lines: [{ sku, quantity: 2 }] }],
      }),
    );
    await app.webhooks.flush(10_000);
    const variation = [...app.store.variations.values()][5]?.id;
    const location = app.store.locations[1]?.id;
    const calls = [
      await api('/v2/inventory/changes/batch-create', {
        idempotency_key: 'pin-1',
        changes: [
          {
            type: 'PHYSICAL_COUNT',
            physical_count: {
              catalog_object_id: variation,
              state: 'IN_STOCK',
              location_id: location,
              quantity: '17',
              occurred_at: '2026-03-01T13:00:00.000Z',
            },
          },
          {
            type: 'ADJUSTMENT',
            adjustment: {
              catalog_object_id: variation,
              from_state: 'IN_STOCK',
              to_state: 'WASTE',
              location_id: location,
              quantity: '2',
              occurred_at: '2026-03-01T13:05:00.000Z',
            },
          },
        ],
      }),
      await api('/v2/webhooks/subscriptions', {
        subscription: { name: 'pin', event_types: ['order.updated'], notification_url: `${HOOK}/pin` },
      }),
    ];
    await app.webhooks.flush(10_000);
    const views = ['orders', 'payments', 'refunds', 'inventory', 'events', 'changes'].map((view) =>
      app.state(new URLSearchParams({ view, limit: '1000' })),
    );
    return canonicalJson({ scenarios, calls, views, delivered });
  } finally {
    await server.close();
  }
}

describe('square sandbox: scenario determinism', () => {
  it('produces the same ids, records and signed bodies under the same seed', async () => {
    // Arrange + Act
    const first = await seededRun();
    const second = await seededRun();

    // Assert
    expect(second).toBe(first);
    expect(first).toContain('"refund.updated"');
    expect(first).toContain('#4242');
  });

  it('keeps the output pinned (a change of ids or bodies is a behaviour change)', async () => {
    // Arrange + Act
    const digest = createHash('sha256')
      .update(await seededRun())
      .digest('hex');

    // Assert
    expect(digest).toBe('f4b6a3739512d915b23f12af2fd3dab1f70377a9547c494175c194c64da77534');
  });
});
