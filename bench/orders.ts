/**
 * Order capture benchmark: orders/s from the order queue into the ERP sandbox through the local
 * pipeline (SQS → erp-order-sync with its ledger, idempotency and paced NetSuite client → NetSuite REST
 * upserts), at the ERP account concurrency limits 5, 15 and 20, against a naive baseline in the same run.
 *
 * Per limit: the dev stack is synthesized with `-c erpConcurrencyLimit=<n>` and booted in the local
 * cloud with the sandboxes; the ERP sandbox gets that limit and a per-call latency of 400–600 ms (our
 * assumption for a NetSuite sales-order upsert, which takes hundreds of ms to seconds — so the ERP, not
 * this machine's CPU, is the bottleneck, as in production). The consumer is warmed up on a few orders
 * (a Black Friday backlog meets warm functions); then, with the consumer paused, a Shopify sandbox
 * scenario places N orders;
 * their webhooks go through ingress onto the bus and into the queue, building a backlog. Then the
 * consumer is resumed and timed until the queue is empty:
 * - orders/s: orders synced ÷ drain time;
 * - utilisation: mean ERP calls in flight ÷ the limit, sampled every 10 ms while the backlog lasts
 *   (until the last message is deleted, so the drain's tail counts);
 * - 429 share: calls answered 429 ÷ governed calls.
 * Baseline (naive, one synchronous ERP call per event as events arrive: 32 at a time, no queue, no
 * pacing, no retry) runs the same orders against the same ERP after the candidate (so its writes update
 * documents the candidate created; the sandbox charges both alike): orders/s counts the orders it got
 * into the ERP, and the 429s and lost orders are what it costs.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENVIRONMENTS } from '#infra/config/environments.ts';
import { erpPacing, orderCaptureLimit } from '#infra/config/erp-pacing.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { NetSuiteErpAdapter } from '#shared/connectors/netsuite/adapter.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import { OrderBusEventSchema } from '#shared/flows/order-sync.ts';
import { mappingLookupFrom } from '#shared/ports/erp.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1500);
const LIMITS = (process.env.BENCH_LIMITS ?? '5,15,20').split(',').map(Number);
const [latencyMin, latencyMax] = (process.env.BENCH_ERP_LATENCY_MS ?? '400-600').split('-').map(Number);
const LATENCY = { min: latencyMin ?? 400, max: latencyMax ?? 600 };
const NAIVE_CONCURRENCY = 32;

interface Counters {
  /** Calls that got a concurrency slot. */
  governedCalls: number;
  /** Calls refused with 429 for want of one. */
  throttled: number;
  http429: number;
  peakConcurrency: number;
}

interface LimitResult {
  limit: number;
  orders: number;
  seconds: number;
  ordersPerSecond: number;
  utilisation: number;
  erpCalls: number;
  http429: number;
  share429: number;
  peakConcurrency: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (value: number, digits = 3) => Number(value.toFixed(digits));

async function counters(pipeline: OrderPipeline): Promise<Counters> {
  return (await pipeline.control<{ counters: Counters }>('netsuite', '/_control/state?limit=1')).counters;
}

/** The ERP sandbox app, for sampling its in-flight calls without an HTTP round trip. */
function erpSandbox(pipeline: OrderPipeline): { inFlightCount: number } {
  const app = pipeline.sandboxes.apps.find((candidate) => candidate.name === 'netsuite');
  if (!app || !('inFlightCount' in app)) throw new Error('no NetSuite sandbox');
  return app as unknown as { inFlightCount: number };
}

function erpFunctionName(pipeline: OrderPipeline): string {
  const fn = pipeline.cloud.template
    .ofType('AWS::Lambda::Function')
    .find((candidate) => candidate.logicalId.startsWith('ErpOrderSyncFunction'));
  if (!fn) throw new Error('no erp-order-sync function in the template');
  return fn.name;
}

/**
 * Runs orders through until every consumer instance the pacing allows is warm (initialised, token
 * fetched, connections open): a Black Friday backlog meets warm functions.
 */
async function warmUp(pipeline: OrderPipeline, limit: number): Promise<void> {
  const { instances } = erpPacing(orderCaptureLimit(limit));
  for (let round = 1; round <= 8; round += 1) {
    await pipeline.control('shopify', '/_control/scenario', { seed: round, orders: instances * 20 });
    await pipeline.drained(120_000);
    const stats = (await (await fetch(`${pipeline.url}/_local/functions`)).json()) as Record<
      string,
      { environments: number }
    >;
    if ((stats[erpFunctionName(pipeline)]?.environments ?? 0) >= instances) return;
  }
}

/** Places the orders with the consumer paused; resolves once all their events wait in the queue. */
async function buildBacklog(pipeline: OrderPipeline): Promise<{ backlog: number; orderIds: Set<string> }> {
  await pipeline.cloud.setEventSourceMappingsEnabled(erpFunctionName(pipeline), false);
  const summary = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
    seed: 5,
    orders: ORDERS,
    pickupShare: 0.2,
    spacingSeconds: { min: 1, max: 3 },
  });
  let previous = -1;
  for (;;) {
    await pipeline.control('shopify', '/_control/flush', {}).catch(() => undefined);
    await pipeline.cloud.idle();
    const { main } = await pipeline.erpQueues();
    if (main.visible === previous && main.visible >= ORDERS)
      return { backlog: main.visible, orderIds: new Set(summary.orders.ids.map(String)) };
    previous = main.visible;
    await sleep(500);
  }
}

async function measure(pipeline: OrderPipeline, limit: number, backlog: number): Promise<LimitResult> {
  const erp = erpSandbox(pipeline);
  const before = await counters(pipeline);
  let visible = backlog;
  // ERP calls in flight every 10 ms while the backlog lasts: from the resume until every message is
  // deleted (the queue's count includes messages in flight), so the drain's tail counts too.
  let samples = 0;
  let inFlightSum = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      if (visible > 0) {
        samples += 1;
        inFlightSum += erp.inFlightCount;
      }
      await sleep(10);
    }
  })();
  const started = performance.now();
  await pipeline.cloud.setEventSourceMappingsEnabled(erpFunctionName(pipeline), true);
  for (;;) {
    const { main } = await pipeline.erpQueues();
    visible = main.visible;
    if (main.visible === 0 && main.inFlight === 0) break;
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  sampling = false;
  await sampler;
  const after = await counters(pipeline);
  const erpCalls = after.governedCalls + after.throttled - before.governedCalls - before.throttled;
  const http429 = after.http429 - before.http429;
  return {
    limit,
    orders: backlog,
    seconds: round(seconds, 2),
    ordersPerSecond: round(backlog / seconds, 1),
    utilisation: round(samples === 0 ? 0 : inFlightSum / samples / limit),
    erpCalls,
    http429,
    share429: round(erpCalls === 0 ? 0 : http429 / erpCalls, 4),
    peakConcurrency: after.peakConcurrency,
  };
}

/** The naive integration: each order event straight to the ERP as it arrives, one call, no retry. */
async function naiveBaseline(pipeline: OrderPipeline, limit: number, orderIds: Set<string>) {
  const events = (
    (await (await fetch(`${pipeline.url}/_local/events?detail-type=OrderCreated`)).json()) as unknown[]
  )
    .map((event) => OrderBusEventSchema.safeParse(event))
    .flatMap((parsed) => (parsed.success ? [parsed.data] : []))
    // The benchmark's own orders (not the warm-up's), as the candidate had them.
    .filter((event) => orderIds.has(event.detail.data.source.orderId));
  const baseUrl = `${pipeline.url}/_sandbox/netsuite`;
  const secret = NetSuiteCredentialsSchema.parse(JSON.parse(pipeline.sandboxes.netsuiteCredentials));
  const mappingsTable = pipeline.cloud.template
    .ofType('AWS::DynamoDB::Table')
    .find((table) => table.logicalId.startsWith('MappingsTable'))?.name;
  const erp = new NetSuiteErpAdapter({
    client: new NetSuiteClient({
      baseUrl,
      accountId: secret.accountId,
      auth: new NetSuiteAuth({
        tokenUrl: `${baseUrl}${NETSUITE_TOKEN_PATH}`,
        credentials: async () => secret,
      }),
      maxConcurrency: 10_000,
      retry: { maxAttempts: 0 },
      circuitBreaker: { consecutiveFailures: 1_000_000 },
    }),
    mappings: mappingLookupFrom(
      new MappingRepository(DynamoDBDocumentClient.from(pipeline.dynamodb), mappingsTable ?? ''),
    ),
    config: ENVIRONMENTS.dev.erp.mapping,
  });
  const before = await counters(pipeline);
  let next = 0;
  let synced = 0;
  let lost = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: NAIVE_CONCURRENCY }, async () => {
      while (next < events.length) {
        const event = events[next++];
        if (!event) break;
        try {
          await erp.upsertSalesOrder(event.detail.data, { transactionId: event.id });
          synced += 1;
        } catch {
          lost += 1;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const after = await counters(pipeline);
  const erpCalls = after.governedCalls + after.throttled - before.governedCalls - before.throttled;
  const http429 = after.http429 - before.http429;
  return {
    limit,
    orders: events.length,
    senders: NAIVE_CONCURRENCY,
    seconds: round(seconds, 2),
    ordersPerSecond: round(synced / seconds, 1),
    synced,
    lost,
    erpCalls,
    http429,
    share429: round(erpCalls === 0 ? 0 : http429 / erpCalls, 4),
  };
}

export async function run(): Promise<Record<string, unknown>> {
  const candidate: LimitResult[] = [];
  let baseline: Awaited<ReturnType<typeof naiveBaseline>> | undefined;
  for (const limit of LIMITS) {
    const pipeline = await OrderPipeline.start({
      erpConcurrencyLimit: limit,
      erpLatencyMs: LATENCY,
      seed: 42,
    });
    try {
      await warmUp(pipeline, limit);
      const { backlog, orderIds } = await buildBacklog(pipeline);
      const result = await measure(pipeline, limit, backlog);
      console.log(
        `limit ${limit}: ${result.orders} orders in ${result.seconds} s = ${result.ordersPerSecond}/s, utilisation ${(result.utilisation * 100).toFixed(1)} %, ${result.http429} × 429 of ${result.erpCalls} calls, peak ${result.peakConcurrency}`,
      );
      candidate.push(result);
      if (limit === 15) {
        baseline = await naiveBaseline(pipeline, limit, orderIds);
        console.log(
          `naive baseline at ${limit}: ${baseline.synced}/${baseline.orders} orders in ${baseline.seconds} s = ${baseline.ordersPerSecond}/s, ${baseline.http429} × 429 of ${baseline.erpCalls} calls, ${baseline.lost} lost`,
        );
      }
      // Nothing may be left behind: the backlog drained into the ERP, not into the DLQ.
      const dlq = await pipeline.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: `${pipeline.cloud.endpoints.sqs}/${pipeline.cloud.template.accountId}/${(await pipeline.erpQueues()).dlq.name}`,
          VisibilityTimeout: 0,
        }),
      );
      if ((dlq.Messages ?? []).length > 0) throw new Error(`limit ${limit}: messages in the DLQ`);
    } finally {
      await pipeline.stop();
    }
  }
  const at15 = candidate.find((result) => result.limit === 15);
  return {
    orders: ORDERS,
    erpLatencyMs: LATENCY,
    candidate,
    baseline,
    ratio: at15 && baseline ? round(at15.ordersPerSecond / baseline.ordersPerSecond, 2) : null,
  };
}
