import { spawn } from 'node:child_process';
import { GetQueueUrlCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { syncLocalMappings } from '#local/onboarding.ts';
import { waitFor } from '#local/services/ports.ts';
import { DynamoExceptionStore, type ParkedException } from '#shared/repositories/exceptions.ts';

/**
 * The operator's replay and trace, end to end in the local cloud with its chaos on (duplicated and
 * reordered deliveries, failed PutEvents entries): orders that sell an unmapped SKU are parked; the mapping is
 * fixed; `ops exceptions retry --local` (the ops Lambda, invoked through the local Lambda Invoke API by the
 * CLI — not by importing its code) books each once; a message in the ERP order DLQ goes back with `ops dlq
 * replay --local` and is booked once; `ops trace` shows a replayed order's whole path; every replay has its
 * audit row. Sized to prove that, not volume: a dozen orders.
 */
const ORDERS = 12;
/** Every n-th catalog SKU is left unmapped: some orders park, the others book. */
const UNMAPPED_EVERY = 3;
const ACTOR = 'e2e-operator';

let pipeline: OrderPipeline;
let exceptions: DynamoExceptionStore;
let parkedBefore: ParkedException[] = [];
/** The parked order whose event is put in the DLQ (as if its delivery had failed) instead of retried. */
let viaDlq: { transactionId: string; orderId: string; externalId: string };

interface OrderEvent {
  detail: { metadata: { transactionId: string }; data: { source: { orderId: string } } };
}
const eventOf = (exception: ParkedException) => JSON.parse(exception.payload.toString('utf8')) as OrderEvent;

/** `npm run -s ops -- <args>` against the pipeline's local cloud, as an operator runs it. */
function ops(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/ops.ts', ...args], {
      env: { ...process.env, OMNIHUB_URL: pipeline.url },
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
  });
}

const lastJson = <T>(stdout: string): T => JSON.parse(stdout.trim().split('\n').at(-1) ?? 'null') as T;

const salesOrders = async () =>
  (await pipeline.erpDocuments('salesOrder')).map((doc) => doc.externalId ?? '');

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 21,
    chaos: { ...DEFAULT_CHAOS, seed: 22 },
  });
  exceptions = new DynamoExceptionStore(
    DynamoDBDocumentClient.from(pipeline.dynamodb),
    pipeline.cloud.template
      .ofType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith('ExceptionsTable'))?.name ?? '',
  );
  const skus = await pipeline.all<{ sku: string }>(
    'square',
    'view=catalog',
    (state) => state.records as { total: number; hasMore: boolean; items: { sku: string }[] },
  );
  await pipeline.deleteItemMappings(
    skus.filter((_, index) => index % UNMAPPED_EVERY === 0).map((item) => item.sku),
  );
  await pipeline.control('shopify', '/_control/scenario', { seed: 5, orders: ORDERS, pickupShare: 0 });
  await pipeline.drained(180_000, ['shopify']);
  parkedBefore = (await exceptions.listParked('erp-order')).filter((e) => e.code === 'UNKNOWN_MAPPING');
}, 600_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('ops replay and trace (local cloud, chaos on)', () => {
  it('parks the orders with an unmapped SKU, books the others', async () => {
    expect(parkedBefore.length).toBeGreaterThanOrEqual(2);
    const parkedOrders = new Set(parkedBefore.map((e) => String(e.attributes.externalId)));
    const booked = await salesOrders();
    // A delivery the sandbox still retries (the chaos fails some PutEvents) may book later: none is lost (below).
    expect(booked.length).toBeGreaterThanOrEqual(1);
    expect(booked.filter((id) => parkedOrders.has(id))).toEqual([]);
  });

  it('after the fix, exceptions retry and dlq replay book every parked order exactly once, audited', async () => {
    // One parked order's event lands in the ERP order DLQ instead (as EventBridge parks an event it could
    // not deliver); its exception is resolved so that only the DLQ brings it back.
    const [first] = parkedBefore;
    if (!first) throw new Error('nothing parked');
    const event = eventOf(first);
    viaDlq = {
      transactionId: event.detail.metadata.transactionId,
      orderId: event.detail.data.source.orderId,
      externalId: String(first.attributes.externalId),
    };
    await exceptions.markDismissed(first.kind, first.sk, {
      reason: 'moved to the DLQ by the test',
      expiresAt: 0,
    });
    const { dlq } = await pipeline.erpQueues();
    const { QueueUrl } = await pipeline.sqs.send(new GetQueueUrlCommand({ QueueName: dlq.name }));
    await pipeline.sqs.send(
      new SendMessageCommand({ QueueUrl, MessageBody: first.payload.toString('utf8') }),
    );

    // The fix: the SKUs are onboarded (again until it goes through, as an operator would).
    await waitFor(
      async () => {
        await syncLocalMappings(pipeline.url);
        return true;
      },
      { timeoutMs: 90_000, intervalMs: 2_000, what: 'the mapping fix to go through' },
    );

    const listed = await ops(['dlq', 'list', '--local', '--json', '--actor', ACTOR]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(lastJson<{ queues: { name: string; dlq: number }[] }>(listed.stdout).queues).toContainEqual(
      expect.objectContaining({ name: 'ErpOrders', dlq: 1 }),
    );
    const redrive = await ops(['dlq', 'replay', 'ErpOrders', '--local', '--json', '--actor', ACTOR]);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(lastJson<{ redriven: number }>(redrive.stdout).redriven).toBe(1);

    // A warm consumer remembers a mapping miss for up to 10 s: a retry in that window parks again, as on
    // AWS. Retried until nothing is parked, against a deadline.
    const retried = new Set<string>();
    await waitFor(
      async () => {
        const run = await ops(['exceptions', 'retry', '--local', '--json', '--actor', ACTOR]);
        expect(run.code, run.stderr).toBe(0);
        for (const id of lastJson<{ replayed: string[] }>(run.stdout).replayed) retried.add(id);
        await pipeline.drained(120_000, []);
        // A replayed order goes back through the bus: the queues can look drained before its event lands,
        // so the retry is done when nothing is parked and every order is booked (or the deadline says what).
        return (
          (await exceptions.listParked('erp-order')).length === 0 && (await salesOrders()).length >= ORDERS
        );
      },
      { timeoutMs: 240_000, intervalMs: 3_000, what: 'every parked order to be booked' },
    );
    expect(retried.size).toBeGreaterThanOrEqual(parkedBefore.length - 1);

    const booked = await salesOrders();
    expect(booked).toHaveLength(ORDERS);
    expect(new Set(booked).size).toBe(ORDERS);
    expect(booked).toContain(viaDlq.externalId);
    const { dlq: after } = await pipeline.erpQueues();
    expect(after.visible + after.inFlight).toBe(0);

    const auditTable = pipeline.cloud.template
      .ofType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith('OpsAuditTable'))?.name;
    const rows = (
      await DynamoDBDocumentClient.from(pipeline.dynamodb).send(new ScanCommand({ TableName: auditTable }))
    ).Items as { actor: string; command: string; status: string; result?: string }[];
    for (const command of ['dlq-list', 'dlq-redrive', 'exceptions-retry']) {
      expect(
        rows.filter((row) => row.command === command && row.actor === ACTOR && row.status === 'SUCCEEDED')
          .length,
        command,
      ).toBeGreaterThanOrEqual(1);
    }
  }, 600_000);

  it('traces a replayed order: received → published → queued → parked → replayed → erp-posted', async () => {
    const retriedEvent = eventOf(parkedBefore[1] as ParkedException);
    for (const [id, transactionId] of [
      [retriedEvent.detail.metadata.transactionId, retriedEvent.detail.metadata.transactionId],
      // By the Shopify order id: the transaction that created it is among those it names.
      [viaDlq.orderId, viaDlq.transactionId],
    ] as const) {
      const traced = await ops(['trace', id, '--local', '--json']);
      expect(traced.code, traced.stderr).toBe(0);
      const { traces } = lastJson<{ traces: { transactionId: string; checkpoints: { step: string }[] }[] }>(
        traced.stdout,
      );
      const steps =
        traces.find((t) => t.transactionId === transactionId)?.checkpoints.map((c) => c.step) ?? [];
      // In this order (chaos may deliver an event twice: a step can repeat).
      const expected = ['received', 'published', 'queued', 'parked', 'replayed', 'erp-posted'];
      let at = 0;
      for (const step of steps) if (step === expected[at]) at += 1;
      expect(at, `${id}: ${steps.join(' → ')}`).toBe(expected.length);
    }
    const text = await ops(['trace', viaDlq.transactionId, '--local']);
    expect(text.stdout).toMatch(
      /path: received → published → (.* → )?parked → (.* → )?replayed → queued → erp-posted\n/,
    );
  }, 120_000);
});
