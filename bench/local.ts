/**
 * Local pipeline benchmark. Boots the local cloud on the e2e fixture (the dev stack plus a probe
 * consumer), then sends N signed Shopify webhooks with C concurrent senders and measures:
 * - candidate: end-to-end webhooks/s — from the first POST until the consumer has processed every
 *   event (webhook → API → function → bus → rule → SQS → poller → consumer);
 * - baseline: ingress-only webhooks/s — the same POSTs timed until their 200s, without waiting for
 *   the asynchronous half;
 * - boot time of the local cloud (DynamoDB Local, emulators, template) and the first cold request.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCloud } from '#local/cloud.ts';
import { synthProbeStack } from '#local/harness/probe-stack.ts';
import { postShopifyWebhook, shopifyOrderBody } from '#local/harness/shopify-webhooks.ts';
import { waitFor } from '#local/services/ports.ts';

const N = Number(process.env.BENCH_WEBHOOKS ?? 400);
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECRET = 'bench-secret';

export async function run(): Promise<Record<string, unknown>> {
  const assemblyDir = mkdtempSync(join(tmpdir(), 'omnihub-bench-'));
  const { stackName } = synthProbeStack(assemblyDir);
  const bootStarted = performance.now();
  const cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    env: { OMNIHUB_SHOPIFY_SECRET: SECRET },
  });
  const bootMs = performance.now() - bootStarted;
  let sequence = 0;
  let redeliveries = 0;

  const send = async (round: string) => {
    sequence += 1;
    const body = shopifyOrderBody(5_000_000 + sequence, `#OK-${round}-${sequence}`);
    const webhookId = `${round}-${sequence}`;
    // Like Shopify: a non-2xx answer is a failed delivery, retried with the same webhook id.
    for (let attempt = 1; ; attempt += 1) {
      const response = await postShopifyWebhook(cloud.url, {
        topic: 'orders/create',
        body,
        webhookId,
        secret: SECRET,
      });
      await response.arrayBuffer();
      if (response.status === 200) return;
      if (attempt === 3) throw new Error(`webhook answered ${response.status} three times`);
      redeliveries += 1;
    }
  };
  const blast = async (round: string, count: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: C }, async () => {
        while (next < count) {
          next += 1;
          await send(round);
        }
      }),
    );
  };
  const consumed = async () => {
    const pollers = (await (await fetch(`${cloud.url}/_local/pollers`)).json()) as { deleted: number }[];
    return pollers.reduce((sum, poller) => sum + poller.deleted, 0);
  };

  try {
    const coldStarted = performance.now();
    await send('cold');
    const firstRequestMs = performance.now() - coldStarted;
    await waitFor(async () => (await consumed()) >= 1, { timeoutMs: 30_000, what: 'warm-up' });
    await blast('warm', 50);
    await waitFor(async () => (await consumed()) >= 51, { timeoutMs: 60_000, what: 'warm-up batch' });

    // Interleaved rounds, so neither side gets the warmer process; medians reported.
    const ingressRuns: number[] = [];
    const endToEndRuns: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      const before = await consumed();
      const ingressStarted = performance.now();
      await blast(`baseline${round}`, N);
      ingressRuns.push(performance.now() - ingressStarted);
      await waitFor(async () => (await consumed()) >= before + N, {
        timeoutMs: 120_000,
        intervalMs: 50,
        what: 'baseline drain',
      });

      const drained = await consumed();
      const e2eStarted = performance.now();
      await blast(`candidate${round}`, N);
      await waitFor(async () => (await consumed()) >= drained + N, {
        timeoutMs: 120_000,
        intervalMs: 20,
        what: 'end-to-end drain',
      });
      endToEndRuns.push(performance.now() - e2eStarted);
    }
    const median = (values: number[]) =>
      [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
    const ingressMs = median(ingressRuns);
    const e2eMs = median(endToEndRuns);

    const ingressPerSecond = (N / ingressMs) * 1000;
    const endToEndPerSecond = (N / e2eMs) * 1000;
    return {
      webhooks: N,
      concurrency: C,
      rounds: ROUNDS,
      bootMs: Math.round(bootMs),
      firstRequestMs: Math.round(firstRequestMs),
      candidate: {
        name: 'end-to-end webhook → consumer',
        perSecond: Number(endToEndPerSecond.toFixed(1)),
        ms: Math.round(e2eMs),
      },
      baseline: {
        name: 'ingress only (200s)',
        perSecond: Number(ingressPerSecond.toFixed(1)),
        ms: Math.round(ingressMs),
      },
      ratio: Number((endToEndPerSecond / ingressPerSecond).toFixed(3)),
      redeliveries,
    };
  } finally {
    await cloud.stop();
  }
}
