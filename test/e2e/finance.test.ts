import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';
import { localMidnightUtc } from '#shared/finance/takings.ts';

/**
 * Financial posting through the local cloud, chaos on (SQS and EventBridge duplicates and reorders above
 * the `--chaos` rates, failed PutEvents entries) and with the sandboxes answering their payout and payment
 * lists with repeated and shuffled items: a day of Shopify payouts and POS store takings is posted to the
 * NetSuite sandbox as balanced journal entries, exactly one per payout and per store-day, whose figures are
 * the vendors' to the cent, although the collector runs several times; a payout whose charge differs from
 * the order the hub booked is parked with the difference and posts nothing.
 */

let pipeline: OrderPipeline;

interface JournalRecord {
  id: string;
  externalId: string | null;
  body: { line: { items: { account: { id: string }; debit?: number; credit?: number; memo?: string }[] } };
}
interface SquarePayment {
  id: string;
  created_at: string;
  location_id: string;
  source_type: string;
  status: string;
  total_money: { amount: number };
}
interface SquareRefund {
  id: string;
  created_at: string;
  location_id: string;
  payment_id: string;
  status: string;
  amount_money: { amount: number };
}
interface IssuedPayout {
  id: string;
  netMinor: number;
  transactions: { type: string; amountMinor: number; feeMinor: number; orderId: string | null }[];
}

const cents = (n: number | undefined) => Math.round((n ?? 0) * 100);
const journals = () =>
  pipeline.all<JournalRecord>('netsuite', 'type=journalEntry&full=1', (s) => s.records as never);

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 37,
    chaos: { ...DEFAULT_CHAOS, duplicateRate: 0.1, reorderRate: 0.1, seed: 43 },
  });
}, 180_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('financial posting through the local cloud', () => {
  it('posts a day of payouts and store takings as balanced journals exactly once; an unbalanced payout parks with the difference', async () => {
    // ── Shopify: orders booked in the ERP, then two payouts (the second with a charge 0.77 above its order).
    await pipeline.control('shopify', '/_control/scenario', {
      seed: 11,
      orders: 4,
      pickupShare: 0,
      wait: true,
    });
    // No wait for order capture: the poster retries a payout whose orders are not booked yet (its booking grace).
    const good = (await pipeline.control<{ payout: IssuedPayout }>('shopify', '/_control/payouts', {}))
      .payout;
    await pipeline.control('shopify', '/_control/scenario', {
      seed: 12,
      orders: 2,
      pickupShare: 0,
      wait: true,
    });
    const bad = (
      await pipeline.control<{ payout: IssuedPayout }>('shopify', '/_control/payouts', {
        chargeDeltaMinor: 77,
      })
    ).payout;
    expect(good.transactions.filter((t) => t.type === 'CHARGE')).toHaveLength(4);
    expect(bad.transactions.filter((t) => t.type === 'CHARGE')).toHaveLength(2);

    // ── POS: a store's sales (and a return) two local days ago, when the store's day is long closed.
    const { records: locations } = await pipeline.control<{
      records: { items: { id: string; timezone: string }[] };
    }>('square', '/_control/state?view=locations&limit=2');
    const store = locations.items[0];
    if (!store) throw new Error('no Square location');
    const today = new Intl.DateTimeFormat('en-CA', { timeZone: store.timezone }).format(new Date());
    const businessDate = new Date(Date.parse(`${today}T00:00:00Z`) - 2 * 86_400_000)
      .toISOString()
      .slice(0, 10);
    const from = localMidnightUtc(businessDate, store.timezone);
    await pipeline.control('square', '/_control/scenario', {
      seed: 5,
      sales: 6,
      returns: 1,
      locations: [store.id],
      at: new Date(from + 10 * 3_600_000).toISOString(),
    });
    // (Takings come from Square's payments, not from what the hub booked: no need to wait for POS capture.)

    // ── Chaos in the vendors' lists from now on; the collector runs three times (and on its schedule).
    await pipeline.control('shopify', '/_control/payouts', {
      issue: false,
      chaos: { duplicateRate: 0.3, reorder: true, seed: 5 },
    });
    await pipeline.control('square', '/_control/list-chaos', { duplicateRate: 0.3, reorder: true, seed: 6 });
    const collector = pipeline.cloud.template
      .ofType('AWS::Lambda::Function')
      .find((fn) => fn.logicalId.startsWith('FinanceCollectorFunction'));
    if (!collector) throw new Error('no finance collector in the template');
    for (let run = 0; run < 3; run += 1) pipeline.cloud.lambdaService.invokeAsync(collector.name, {});

    const payoutEid = (id: string) => `shopify-payout-omnihub-dev.myshopify.com-${id}`;
    const takingsEid = `pos-takings-${store.id}-${businessDate}`;
    await waitFor(
      async () => {
        const eids = new Set((await journals()).map((j) => j.externalId));
        const parked = (await pipeline.exceptions()).filter((e) => e.kind === 'finance');
        return eids.has(payoutEid(good.id)) && eids.has(takingsEid) && parked.length > 0;
      },
      {
        timeoutMs: 240_000,
        intervalMs: 1000,
        what: 'the payout and store-day journals and the parked payout',
      },
    );
    // Later collector runs and held-back duplicates may still arrive: nothing waits in the queue (not its DLQ)
    // for 5 s in a row before anything is counted.
    let quiet = 0;
    let seen = '';
    await waitFor(
      async () => {
        const queues = (await pipeline.queues()).filter((q) => /FinancePostings/.test(q.name));
        seen = JSON.stringify(queues);
        // In flight may be a record waiting out its retry backoff (a payout that came before its bookings):
        // nothing waiting to be delivered is what matters; a late copy cannot add an entry (upsert by external id).
        const busy = queues.some((q) => !q.isDlq && q.visible > 0);
        quiet = busy ? 0 : quiet + 1;
        return quiet >= 10;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `the finance queue to stay drained (${seen})` },
    ).catch(async (error) => {
      throw new Error(
        `${(error as Error).message}; queues ${seen}; parked ${JSON.stringify(await pipeline.exceptions())}`,
      );
    });

    const all = await journals();
    const byEid = (eid: string) => all.filter((j) => j.externalId === eid);
    // Exactly once per payout and store-day; nothing for the unbalanced payout.
    expect(byEid(payoutEid(good.id))).toHaveLength(1);
    expect(byEid(takingsEid)).toHaveLength(1);
    expect(byEid(payoutEid(bad.id))).toHaveLength(0);
    for (const journal of all) {
      const lines = journal.body.line.items;
      expect(
        lines.reduce((s, l) => s + cents(l.debit), 0),
        `${journal.externalId} debits = credits`,
      ).toBe(lines.reduce((s, l) => s + cents(l.credit), 0));
    }

    // The payout's journal: the bank receives its net, fees and charges as Shopify reported them.
    const payoutLines = byEid(payoutEid(good.id))[0]?.body.line.items ?? [];
    const line = (lines: typeof payoutLines, account: string, memo: string) =>
      lines.find((l) => l.account.id === account && (l.memo ?? '').endsWith(memo));
    // Net, fees and charges (no refunds or adjustments in this payout), each once: lines replaced, never appended.
    expect(payoutLines).toHaveLength(3);
    expect(cents(line(payoutLines, '10', ': net')?.debit)).toBe(good.netMinor);
    expect(cents(line(payoutLines, '15', ': fees')?.debit)).toBe(
      good.transactions.reduce((s, t) => s + t.feeMinor, 0),
    );
    expect(cents(line(payoutLines, '12', ': charges')?.credit)).toBe(
      good.transactions.filter((t) => t.type === 'CHARGE').reduce((s, t) => s + t.amountMinor, 0),
    );

    // The store-day's journal: card and cash takings, Square's fees and refunds, from the POS's own records.
    const until = localMidnightUtc(
      new Date(Date.parse(`${businessDate}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10),
      store.timezone,
    );
    const inDay = (at: string) => Date.parse(at) >= from && Date.parse(at) < until;
    const payments = (
      await pipeline.all<SquarePayment>(
        'square',
        `view=payments&location_id=${store.id}`,
        (s) => s.records as never,
      )
    ).filter((p) => p.status === 'COMPLETED' && inDay(p.created_at));
    const refunds = (
      await pipeline.all<SquareRefund>(
        'square',
        `view=refunds&location_id=${store.id}`,
        (s) => s.records as never,
      )
    ).filter((r) => r.status === 'COMPLETED' && inDay(r.created_at));
    expect(payments.length).toBeGreaterThanOrEqual(5);
    const card = payments
      .filter((p) => p.source_type !== 'CASH')
      .reduce((s, p) => s + p.total_money.amount, 0);
    const cash = payments
      .filter((p) => p.source_type === 'CASH')
      .reduce((s, p) => s + p.total_money.amount, 0);
    // Square's US in-person rate in the sandbox: 2.6 % + 15¢ per card payment.
    const fees = payments
      .filter((p) => p.source_type === 'CARD')
      .reduce((s, p) => s + Math.round((p.total_money.amount * 260) / 10_000) + 15, 0);
    const refunded = refunds.reduce((s, r) => s + r.amount_money.amount, 0);
    const takingsLines = byEid(takingsEid)[0]?.body.line.items ?? [];
    expect(cents(line(takingsLines, '13', ': card')?.credit)).toBe(card);
    expect(cents(line(takingsLines, '13', ': cash')?.credit ?? 0)).toBe(cash);
    expect(cents(line(takingsLines, '15', ': fees')?.debit)).toBe(fees);
    expect(cents(line(takingsLines, '14', ': refunds')?.debit ?? 0)).toBe(refunded);

    // The unbalanced payout is parked with its difference, once, and nothing reached a DLQ.
    const parked = (await pipeline.exceptions()).filter((e) => e.kind === 'finance');
    expect(parked.map((e) => [e.code, e.attributes.payoutId, e.attributes.differenceMinor])).toEqual([
      ['PAYOUT_UNBALANCED', bad.id, '77'],
    ]);
    expect(parked[0]?.reason).toMatch(/differs from the orders the hub booked by USD 0\.77/);
    const queues = await pipeline.queues();
    expect(queues.filter((q) => q.isDlq && q.visible + q.inFlight > 0)).toEqual([]);
    // The chaos fired: the collector read repeated items and the cloud duplicated deliveries.
    const chaos = (await (await fetch(`${pipeline.url}/_local/chaos`)).json()) as {
      counters?: Record<string, number>;
    };
    expect(JSON.stringify(chaos)).toMatch(/duplicat/i);
  }, 480_000);
});
