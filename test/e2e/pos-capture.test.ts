import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { type ErpDocument, erpTotalMinor, OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';

/**
 * POS capture through the local cloud, as Square behaves: register sales announce themselves through
 * payment events only (no order events), refunds through refund events, with 5 % of webhooks duplicated
 * and 5 % reordered, on a local cloud with its chaos on — and one sale whose webhooks Square lost, found by the scheduled sweep (EventBridge
 * Scheduler → pos-sweep, every minute in dev). The NetSuite sandbox must end with exactly one cash sale
 * per sale and one cash refund per refund, each to the cent.
 *
 * Sized to prove it, not to load the pipeline: tens of sales, a handful of refunds (each refund's sale
 * has to be booked first, so reordering makes some wait and retry), one lost sale.
 */
const SALES = 24;
const RETURNS = 6;
const WEBHOOK_FAULTS = { duplicateRate: 0.05, reorderRate: 0.05 };

interface SquareOrder {
  id: string;
  total_money: { amount: number; currency: string };
  returns?: { source_order_id?: string }[];
}
interface SquareRefund {
  id: string;
  status: string;
  amount_money: { amount: number; currency: string };
}

let pipeline: OrderPipeline;
let merchantId = '';
let sales: string[] = [];
let lostSale = '';
let refunds: SquareRefund[] = [];
let orders = new Map<string, SquareOrder>();
let cashSales: ErpDocument[] = [];
let cashRefunds: ErpDocument[] = [];
let faults = { duplicated: 0, reordered: 0, dropped: 0 };

const byExternalId = (documents: readonly ErpDocument[]) => {
  const map = new Map<string, ErpDocument[]>();
  for (const document of documents)
    map.set(document.externalId ?? '', [...(map.get(document.externalId ?? '') ?? []), document]);
  return map;
};

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 15,
    erpLatencyMs: { min: 20, max: 60 },
    seed: 9,
    chaos: { ...DEFAULT_CHAOS, seed: 23 },
  });
  merchantId = (await pipeline.control<{ merchantId: string }>('square', '/_control/state?limit=1'))
    .merchantId;
  await pipeline.control('square', '/_control/faults', { webhooks: WEBHOOK_FAULTS, seed: 21 });
  // Simulated store time ends before now (the sweep searches up to now); Square signs created_at ≤ now.
  const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
  const run = await pipeline.control<{ sales: string[]; refunds: string[] }>('square', '/_control/scenario', {
    seed: 5,
    at: hourAgo,
    sales: SALES,
    returns: RETURNS,
    locations: ['ST-001', 'ST-002', 'ST-003'],
  });
  sales = run.sales;
  const lost = await pipeline.control<{ sales: string[] }>('square', '/_control/scenario', {
    seed: 6,
    at: new Date(Date.now() - 120_000).toISOString(),
    sales: 1,
    dropWebhooks: true,
    locations: ['ST-004'],
  });
  lostSale = lost.sales[0] ?? '';
  const squareOrders = await pipeline.all<SquareOrder>(
    'square',
    'view=orders',
    (state) => state.records as { total: number; hasMore: boolean; items: SquareOrder[] },
  );
  orders = new Map(squareOrders.map((order) => [order.id, order]));
  refunds = await pipeline.all<SquareRefund>(
    'square',
    'view=refunds',
    (state) => state.records as { total: number; hasMore: boolean; items: SquareRefund[] },
  );
  const all = [...sales, lostSale];
  // Until every sale has its cash sale and every refund its cash refund (the lost sale: by the sweep).
  await waitFor(
    async () => {
      cashSales = await pipeline.erpDocuments('cashSale');
      cashRefunds = await pipeline.erpDocuments('cashRefund');
      const booked = byExternalId(cashSales);
      const refunded = byExternalId(cashRefunds);
      return (
        all.every((id) => booked.has(`pos-${merchantId}-${id}`)) &&
        refunds.every((refund) => refunded.has(`posrefund-${merchantId}-${refund.id}`))
      );
    },
    { timeoutMs: 180_000, intervalMs: 1_000, what: 'a cash sale per sale and a cash refund per refund' },
  );
  // Whatever is still queued (late duplicates) must not add documents: let the pipeline settle, then read.
  // Generous: each sandbox flush may wait 30 s for a delivery in its retry backoff (60 s failed under load).
  await pipeline.drained(180_000, ['square']);
  cashSales = await pipeline.erpDocuments('cashSale');
  cashRefunds = await pipeline.erpDocuments('cashRefund');
  faults = (await pipeline.control<{ webhooks: typeof faults }>('square', '/_control/flush', {})).webhooks;
}, 480_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('POS capture (e2e): register sales from payment webhooks, refunds from refund webhooks, a lost sale from the sweep — one ERP document each, to the cent', () => {
  it('went through the faults it was meant to', () => {
    expect(sales).toHaveLength(SALES);
    expect(refunds.length).toBeGreaterThan(0);
    expect(refunds.every((refund) => refund.status === 'COMPLETED')).toBe(true);
    expect(faults.duplicated + faults.reordered).toBeGreaterThan(0);
    expect(faults.dropped).toBeGreaterThan(0);
  });

  it('has exactly one cash sale per sale (the lost one included), with its total to the cent', () => {
    const booked = byExternalId(cashSales);
    const problems: string[] = [];
    for (const id of [...sales, lostSale]) {
      const found = booked.get(`pos-${merchantId}-${id}`) ?? [];
      const expected = orders.get(id)?.total_money.amount;
      if (found.length !== 1) problems.push(`${id}: ${found.length} cash sales`);
      else if (erpTotalMinor(found[0] as ErpDocument) !== expected)
        problems.push(`${id}: total ${expected}, ERP ${erpTotalMinor(found[0] as ErpDocument)}`);
    }
    expect(problems).toEqual([]);
    expect(cashSales).toHaveLength(SALES + 1);
  });

  it('has exactly one cash refund per refund, created from its sale’s cash sale, with the refunded amount to the cent', () => {
    const refunded = byExternalId(cashRefunds);
    const salesById = new Map(cashSales.map((document) => [document.id, document]));
    const problems: string[] = [];
    for (const refund of refunds) {
      const found = refunded.get(`posrefund-${merchantId}-${refund.id}`) ?? [];
      if (found.length !== 1) {
        problems.push(`${refund.id}: ${found.length} cash refunds`);
        continue;
      }
      const [document] = found as [ErpDocument];
      if (erpTotalMinor(document) !== refund.amount_money.amount)
        problems.push(`${refund.id}: amount ${refund.amount_money.amount}, ERP ${erpTotalMinor(document)}`);
      const from = salesById.get((document.body.createdFrom as { id: string } | undefined)?.id ?? '');
      if (!from?.externalId?.startsWith(`pos-${merchantId}-`))
        problems.push(`${refund.id}: not created from a POS cash sale`);
    }
    expect(problems).toEqual([]);
    expect(cashRefunds).toHaveLength(refunds.length);
  });

  it('parked nothing and dead-lettered nothing', async () => {
    const parked = (await pipeline.exceptions()).filter((exception) => exception.status === 'PARKED');
    expect(parked.map((exception) => `${exception.kind} ${exception.code}: ${exception.reason}`)).toEqual([]);
    expect(await pipeline.deadLetters()).toEqual([]);
  });
});
