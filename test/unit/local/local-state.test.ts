import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningSandboxes, startSandboxes } from '#local/sandboxes.ts';
import { freePort } from '#local/services/ports.ts';
import { LocalSqs } from '#local/sqs/service.ts';
import { applyFields, captureFields } from '#local/state/object-state.ts';
import { trackQueues } from '#local/state/queues.ts';
import { IncompatibleStateError, LocalStateStore } from '#local/state/store.ts';
import { writeAssembly } from '#test/support/local-template.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const stateDir = () => join(mkdtempSync(join(tmpdir(), 'omnihub-state-')), 'state');

describe('LocalStateStore', () => {
  it('restores what the last flush wrote, per section', () => {
    const dir = stateDir();
    const store = LocalStateStore.open(dir, { identity: { stack: 'S' } });
    let counter = 1;
    store.register({ name: 'counter', snapshot: () => ({ counter }) });
    store.register({ name: 'map', encoding: 'v8', snapshot: () => new Map([['a', new Uint8Array([1, 2])]]) });
    counter = 2;
    store.close();
    const reopened = LocalStateStore.open(dir, { identity: { stack: 'S' } });
    expect(reopened.restore('counter')).toEqual({ counter: 2 });
    expect(reopened.restore('map', 'v8')).toEqual(new Map([['a', new Uint8Array([1, 2])]]));
    expect(reopened.restore('absent')).toBeUndefined();
  });

  it('refuses state of another stack or seed, naming --fresh, and --fresh wipes it', () => {
    const dir = stateDir();
    LocalStateStore.open(dir, { identity: { stack: 'S', seed: 42 } }).close();
    expect(() => LocalStateStore.open(dir, { identity: { stack: 'T', seed: 42 } })).toThrow(
      IncompatibleStateError,
    );
    expect(() => LocalStateStore.open(dir, { identity: { stack: 'S', seed: 7 } })).toThrow(
      /seed 42 \(this run: 7\).*--fresh/,
    );
    const fresh = LocalStateStore.open(dir, { identity: { stack: 'T', seed: 7 }, fresh: true });
    expect(fresh.identity).toEqual({ stack: 'T', seed: 7 });
  });

  it('keeps the last complete snapshot when a write is interrupted (no partial file is ever read)', () => {
    const dir = stateDir();
    const store = LocalStateStore.open(dir, { identity: { stack: 'S' } });
    store.register({ name: 'queue', snapshot: () => ['m1'] });
    store.flush();
    // A crash in the middle of the next write leaves its temporary file beside the good one.
    writeFileSync(join(dir, 'sections', `queue.json.${process.pid}.tmp`), '["m1", "m');
    store.abandon();
    const reopened = LocalStateStore.open(dir, { identity: { stack: 'S' } });
    expect(reopened.restore('queue')).toEqual(['m1']);
    expect(readdirSync(join(dir, 'sections')).some((file) => file.endsWith('.tmp'))).toBe(false);
  });

  it('refuses a section it cannot read instead of starting empty', () => {
    const dir = stateDir();
    LocalStateStore.open(dir, { identity: { stack: 'S' } }).close();
    writeFileSync(join(dir, 'sections', 'sqs.json'), '{"broken');
    const store = LocalStateStore.open(dir, { identity: { stack: 'S' } });
    expect(() => store.restore('sqs')).toThrow(/sqs .* unreadable.*--fresh/);
  });
});

describe('captureFields / applyFields', () => {
  class Counter {
    next = new Map<string, number>();
    bump(key: string) {
      this.next.set(key, (this.next.get(key) ?? 0) + 1);
    }
  }
  class Store {
    readonly ids = new Counter();
    readonly orders: { id: string }[] = [];
    readonly byId = new Map<string, { id: string }>();
    readonly clock = () => 1;
    add(id: string) {
      const order = { id };
      this.orders.push(order);
      this.byId.set(id, order);
      this.ids.bump('order');
    }
  }

  it('restores data into a fresh instance in place, keeps shared records shared and leaves behaviour alone', () => {
    const before = new Store();
    before.add('o1');
    before.add('o2');
    const data = captureFields({ store: before }, ['store']);
    const owner = { store: new Store() };
    const orders = owner.store.orders;
    applyFields(owner, structuredClone(data));
    expect(owner.store.orders).toBe(orders);
    expect(owner.store.orders.map((order) => order.id)).toEqual(['o1', 'o2']);
    expect(owner.store.byId.get('o2')).toBe(owner.store.orders[1]);
    expect(owner.store.ids).toBeInstanceOf(Counter);
    expect(owner.store.ids.next.get('order')).toBe(2);
    expect(owner.store.clock()).toBe(1);
  });

  it('applies into a class instance held by a plain object, which keeps its methods (a sandbox session)', () => {
    const before = { session: { store: new Store(), runs: 1 } };
    before.session.store.add('o1');
    const data = captureFields(before, ['session']);
    const owner = { session: { store: new Store(), runs: 0, stale: 'gone' } as Record<string, unknown> };
    applyFields(owner, structuredClone(data));
    const store = owner.session.store as Store;
    expect(store).toBeInstanceOf(Store);
    store.add('o2');
    expect(store.orders.map((order) => order.id)).toEqual(['o1', 'o2']);
    expect(owner.session.runs).toBe(1);
    expect(owner.session).not.toHaveProperty('stale');
  });

  it('refuses a class instance inside a collection, which would come back without its methods', () => {
    expect(() => captureFields({ list: [new Counter()] }, ['list'])).toThrow(/list\[0\].*Counter/);
  });
});

describe('trackQueues (SQS emulator)', () => {
  let sqs: LocalSqs | undefined;
  afterEach(async () => {
    await sqs?.close();
    sqs = undefined;
  });

  const template = writeAssembly({
    Dlq: { Type: 'AWS::SQS::Queue' },
    Queue: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        VisibilityTimeout: 30,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 2 },
      },
    },
  });

  async function start() {
    const port = await freePort();
    const started = await LocalSqs.start(template.load({ sqsEndpoint: `http://127.0.0.1:${port}` }), port);
    return { sqs: started, queues: trackQueues(started.service, silent) };
  }

  const counts = async (queue: LocalSqs, url: string) => {
    const { Attributes } = await queue.client.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
    );
    return {
      visible: Number(Attributes?.ApproximateNumberOfMessages),
      inFlight: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
    };
  };

  it('brings back visible and in-flight messages (visible, receive count kept), not deleted or redriven ones', async () => {
    const first = await start();
    sqs = first.sqs;
    const url = first.sqs.queueUrl('Test-Queue');
    for (const body of ['in-flight', 'deleted', 'redriven']) await first.sqs.send(url, body);
    const received = await first.sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 30 }),
    );
    const byBody = new Map((received.Messages ?? []).map((message) => [message.Body, message]));
    await first.sqs.client.send(
      new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: byBody.get('deleted')?.ReceiptHandle }),
    );
    // A second receive of 'redriven' (maxReceiveCount 2) that times out at once: it moves to the DLQ.
    await first.sqs.client.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: byBody.get('redriven')?.ReceiptHandle,
        VisibilityTimeout: 0,
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const again = await first.sqs.client.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
    );
    expect(again.Messages?.map((message) => message.Body)).toEqual(['redriven']);
    await first.sqs.send(url, 'visible');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const snapshot = JSON.parse(JSON.stringify(first.queues.snapshot()));
    await first.sqs.close();

    const second = await start();
    sqs = second.sqs;
    expect(second.queues.restore(snapshot)).toEqual({ restored: 3, inFlight: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await counts(second.sqs, url)).toEqual({ visible: 2, inFlight: 0 });
    expect(await counts(second.sqs, second.sqs.queueUrl('Test-Dlq'))).toEqual({ visible: 1, inFlight: 0 });
    const afterRestart = await second.sqs.client.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        AttributeNames: ['All'],
      }),
    );
    const restored = Object.fromEntries(
      (afterRestart.Messages ?? []).map((message) => [
        message.Body,
        {
          sameId: message.MessageId === byBody.get(message.Body ?? '')?.MessageId,
          receives: message.Attributes?.ApproximateReceiveCount,
        },
      ]),
    );
    expect(restored).toEqual({
      'in-flight': { sameId: true, receives: '2' },
      visible: { sameId: false, receives: '1' },
    });
  });

  it('leaves out a message whose retention period has passed', async () => {
    const first = await start();
    sqs = first.sqs;
    await first.sqs.send('Test-Queue', 'old');
    const [queue] = first.sqs.service.Queues.filter((candidate) => candidate.QueueName === 'Test-Queue');
    Object.assign(queue as object, { MessageRetentionPeriod: 0 });
    expect(first.queues.snapshot()['Test-Queue']).toEqual([]);
  });
});

describe('sandboxes in the local state', () => {
  let running: RunningSandboxes | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await running?.close();
    server?.close();
  });

  async function boot(store: LocalStateStore) {
    // The hub is not listening: Shopify's webhooks stay pending.
    running = await startSandboxes({
      hubUrl: 'http://127.0.0.1:9',
      env: {},
      seed: 5,
      state: store,
      overrides: {
        shopify: { items: 50, stores: 3 },
        square: { items: 50, stores: 3 },
        netsuite: { items: 50, stores: 3 },
      },
    });
    const sandboxes = running;
    server = createServer((req, res) => void sandboxes.handle(req, res));
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', () => resolve()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/_sandbox`;
    return async (system: string, path: string, body?: unknown) => {
      const response = await fetch(`${base}/${system}${path}`, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return (await response.json()) as Record<string, unknown>;
    };
  }

  it('come back as they stopped: records, id streams and pending webhooks', async () => {
    const dir = stateDir();
    const store = LocalStateStore.open(dir, { identity: { stack: 'S', seed: 5 } });
    let control = await boot(store);
    await control('shopify', '/_control/scenario', { seed: 1, orders: 3 });
    await control('square', '/_control/scenario', { seed: 2, sales: 2 });
    await control('netsuite', '/_control/scenario', { seed: 3, newItems: 2, priceChanges: 3 });
    const before = {
      shopify: await control('shopify', '/_control/state?records=orders'),
      square: await control('square', '/_control/state?view=orders'),
      netsuite: await control('netsuite', '/_control/state?type=inventoryItem&limit=1000'),
      pending: await control('shopify', '/_control/webhooks?state=pending'),
    };
    await running?.close();
    server?.close();
    running = undefined;
    store.close();

    const reopened = LocalStateStore.open(dir, { identity: { stack: 'S', seed: 5 } });
    control = await boot(reopened);
    expect(await control('shopify', '/_control/state?records=orders')).toEqual(before.shopify);
    expect(await control('square', '/_control/state?view=orders')).toEqual(before.square);
    expect(await control('netsuite', '/_control/state?type=inventoryItem&limit=1000')).toEqual(
      before.netsuite,
    );
    expect((await control('shopify', '/_control/webhooks?state=pending')).total).toBe(before.pending.total);
    // Each sandbox goes on working after the restore (its classes kept their methods): a Square sale.
    const sale = (await control('square', '/_control/scenario', { seed: 4, sales: 1 })) as {
      sales?: unknown[];
    };
    expect(sale.sales).toHaveLength(1);
    expect(before.pending.total).toBeGreaterThan(0);
    // The next order continues the sequence instead of re-using an id the hub has already seen.
    await control('shopify', '/_control/scenario', { seed: 1, orders: 1 });
    const after = (await control('shopify', '/_control/state?records=orders')) as {
      records: { orders: { items: { id: string }[] } };
    };
    const ids = after.records.orders.items.map((order) => order.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(existsSync(join(dir, 'sections', 'sandbox-shopify.bin'))).toBe(true);
  }, 60_000);

  it('refuse a state saved for another seed', async () => {
    const store = LocalStateStore.open(stateDir(), { identity: { stack: 'S', seed: 6 } });
    await expect(
      startSandboxes({ hubUrl: 'http://127.0.0.1:9', env: {}, seed: 5, state: store }),
    ).rejects.toThrow(/seed 6.*seed 5.*--fresh/);
  });
});
