import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { cachedProbeStack } from '#local/harness/probe-stack.ts';
import { type RunningSandboxes, startSandboxes } from '#local/sandboxes.ts';
import { waitFor } from '#local/services/ports.ts';
import { signSquareBody } from '#shared/connectors/square/webhook-signature.ts';

/**
 * A Square sale through the local cloud: the Square sandbox (subscribed by `local/sandboxes.ts`)
 * signs an `order.updated` webhook for the hub's `/webhooks/pos` with the local signature key, the
 * local API Gateway hands it to the synthesized pos-webhook function, which verifies it against the
 * URL it was posted to, reads the order and its catalog SKUs back from the sandbox with the local
 * access token, and puts `OrderCreated` (source omnihub.pos) on the bus.
 *
 * The sandboxes listen on their own port, chosen before the synth (the function's Square base URL is
 * part of the template); the hub's URL is known only once the cloud listens, so they start after it.
 */
const KEY = 'e2e-square-signature-key';
const env = { OMNIHUB_SQUARE_SIGNATURE_KEY: KEY };

let cloud: LocalCloud;
let sandboxes: RunningSandboxes | undefined;
let sandboxServer: Server;
let squareUrl = '';
let merchantId = '';

interface BusEvent {
  'detail-type': string;
  source: string;
  detail: {
    metadata: { idempotencyKey: string; eventId: string };
    data: {
      source: { system: string; account: string; orderId: string };
      channel: string;
      storeLocationId: string;
      lines: { sku: string | null; quantity: number }[];
      totals: { total: { amount: number; currency: string } };
      paymentGateways: string[];
    };
  };
}

interface SandboxOrder {
  id: string;
  location_id: string;
  version?: number;
  updated_at: string;
  total_money: { amount: number; currency: string };
  line_items: { catalog_object_id: string; quantity: string }[];
}

async function square<T>(path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${squareUrl}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`square ${path}: ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}

const posEvents = async (orderId: string) =>
  ((await (await fetch(`${cloud.url}/_local/events?source=omnihub.pos`)).json()) as BusEvent[]).filter(
    // Order events only: a sale also publishes the stock it moved (InventoryAdjusted/InventoryCounted).
    (event) => event['detail-type'].startsWith('Order') && event.detail.data.source?.orderId === orderId,
  );

/** The bus events of a POS order once `count` have arrived; on a timeout, says what Square's deliveries got. */
async function published(orderId: string, count = 1): Promise<BusEvent[]> {
  try {
    await waitFor(async () => (await posEvents(orderId)).length >= count, {
      timeoutMs: 15_000,
      what: `${count} event(s) on the bus for POS sale ${orderId}`,
    });
  } catch (error) {
    const { items } = await square<{ items: { topic: string; state: string; lastStatus?: number }[] }>(
      '/_control/webhooks?limit=1000',
    );
    const deliveries = items.map(({ topic, state, lastStatus }) => ({ topic, state, lastStatus }));
    throw new Error(
      `POS sale ${orderId} did not reach the bus; Square's deliveries: ${JSON.stringify(deliveries)}`,
      {
        cause: error,
      },
    );
  }
  return posEvents(orderId);
}

async function sale(options: Record<string, unknown> = {}): Promise<SandboxOrder> {
  const { sales } = await square<{ sales: string[] }>('/_control/scenario', { sales: 1, ...options });
  const orderId = sales[0] ?? '';
  const { records } = await square<{ records: { items: SandboxOrder[] } }>(
    '/_control/state?view=orders&limit=1000',
  );
  const order = records.items.find((candidate) => candidate.id === orderId);
  if (!order) throw new Error(`sale ${orderId} not in the sandbox`);
  return order;
}

beforeAll(async () => {
  let route: ((req: IncomingMessage, res: ServerResponse) => Promise<boolean>) | undefined;
  sandboxServer = createServer((req, res) => {
    void (async () => {
      if (!(await route?.(req, res))) res.writeHead(route ? 404 : 503).end();
    })();
  });
  await new Promise<void>((resolve) => sandboxServer.listen(0, '127.0.0.1', resolve));
  const sandboxOrigin = `http://127.0.0.1:${(sandboxServer.address() as AddressInfo).port}`;
  squareUrl = `${sandboxOrigin}/_sandbox/square`;

  const { dir: assemblyDir, stackName } = cachedProbeStack({
    port: (sandboxServer.address() as AddressInfo).port,
    context: (baseUrl) => ({ squareBaseUrl: `${baseUrl}/_sandbox/square` }),
  });
  cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    env,
    chaos: { ...DEFAULT_CHAOS, seed: 34 },
  });
  sandboxes = await startSandboxes({ hubUrl: cloud.url, env, seed: 17 });
  route = sandboxes.handle;
  merchantId = (await square<{ merchantId: string }>('/_control/state?limit=1')).merchantId;
}, 180_000);

afterAll(async () => {
  await sandboxes?.close();
  await cloud?.stop();
  await new Promise((resolve) => sandboxServer?.close(resolve));
});

describe('POS ingress through the local cloud (e2e): a signed Square sale becomes one OrderCreated per order version, to the cent; redeliveries and bad signatures publish nothing', () => {
  it('subscribes the Square sandbox to the hub route with the local signature key', async () => {
    const state = await square<{ subscriptions: { notification_url: string; signature_key: string }[] }>(
      '/_control/state?limit=1',
    );
    expect(state.subscriptions).toEqual([
      expect.objectContaining({ notification_url: `${cloud.url}/webhooks/pos`, signature_key: KEY }),
    ]);
    const health = (await (await fetch(`${cloud.url}/_local/health`)).json()) as { routes: string[] };
    expect(health.routes).toContain('POST /webhooks/pos');
  });

  it('turns a register sale (announced by its payment events only) into OrderCreated from omnihub.pos under one business key, with SKUs and totals to the cent', async () => {
    const order = await sale({ seed: 101 });
    await published(order.id);
    // A card payment is announced twice (payment.created APPROVED, then payment.updated COMPLETED), cash once:
    // only COMPLETED payments publish, so exactly one event.
    await square('/_control/flush', {});
    const events = await posEvents(order.id);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.['detail-type']).toBe('OrderCreated');
    expect(event?.source).toBe('omnihub.pos');
    // A register order has no version: the key carries its updated_at (ms).
    expect(order.version).toBeUndefined();
    expect(event?.detail.metadata.idempotencyKey).toBe(
      `pos:${merchantId}:order:${order.id}:OrderCreated:${Date.parse(order.updated_at)}`,
    );
    expect(event?.detail.data).toMatchObject({
      source: { system: 'pos', account: merchantId, orderId: order.id },
      channel: 'pos',
      storeLocationId: order.location_id,
      totals: { total: order.total_money },
    });
    const catalog = await square<{ records: { items: { id: string; sku: string }[] } }>(
      '/_control/state?view=catalog&limit=1000',
    );
    const skus = new Map(catalog.records.items.map((variation) => [variation.id, variation.sku]));
    expect(event?.detail.data.lines.map((line) => [line.sku, line.quantity])).toEqual(
      order.line_items.map((line) => [skus.get(line.catalog_object_id), Number(line.quantity)]),
    );

    const webhooks = await square<{ items: { topic: string; state: string; lastStatus?: number }[] }>(
      '/_control/webhooks?limit=1000',
    );
    expect(webhooks.items.map(({ topic }) => topic)).not.toContain('order.updated');
    expect(new Set(webhooks.items.map(({ state, lastStatus }) => `${state} ${lastStatus}`))).toEqual(
      new Set(['delivered 200']),
    );
  });

  it('keeps one business key per order version when Square notifies it through order and payment events', async () => {
    const order = await sale({ seed: 202, orderCreatedForPos: true });
    const events = await published(order.id, 2);
    expect(new Set(events.map((event) => event['detail-type']))).toEqual(new Set(['OrderCreated']));
    expect(new Set(events.map((event) => event.detail.metadata.idempotencyKey)).size).toBe(1);
  });

  it('answers a redelivery as a duplicate and refuses a wrongly signed one, publishing nothing', async () => {
    const order = await sale({ seed: 303 });
    await published(order.id);
    await square('/_control/flush', {});
    const { items } = await square<{
      items: { type: string; data: { object: { payment: { order_id: string; status: string } } } }[];
    }>('/_control/events?limit=1000');
    const body = JSON.stringify(
      items.find(
        (event) =>
          event.type.startsWith('payment.') &&
          event.data.object.payment.order_id === order.id &&
          event.data.object.payment.status === 'COMPLETED',
      ),
    );
    const url = `${cloud.url}/webhooks/pos`;
    const post = (key: string) =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-square-hmacsha256-signature': signSquareBody(body, url, key),
        },
        body,
      });

    const again = await post(KEY);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ status: 'published', duplicate: true });
    expect((await post('not-the-key')).status).toBe(401);
    expect(await posEvents(order.id)).toHaveLength(1);
  });
});
