import { describe, expect, it } from 'vitest';
import { payoutEvent, takingsEvent } from '#shared/finance/collector.ts';
import type { Journal } from '#shared/finance/journal.ts';
import type { Payout, StoreTakings } from '#shared/finance/model.ts';
import type { BookedOrder } from '#shared/finance/payout-check.ts';
import {
  type FinanceBusEvent,
  type FinancePosterDeps,
  PayoutAwaitingBookingsError,
  postFinanceEvent,
} from '#shared/finance/poster.ts';
import type { FinancePosting } from '#shared/repositories/finance-postings.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';

const NOW = new Date('2026-12-03T12:00:00.000Z');
const payout: Payout = {
  shop: 'acme.myshopify.com',
  payoutId: '42',
  issuedAt: '2026-12-03T10:00:00.000Z',
  status: 'PAID',
  direction: 'DEPOSIT',
  currency: 'USD',
  gross: 5_000,
  fees: 175,
  refunds: 0,
  adjustments: 0,
  net: 4_825,
  transactions: [
    { id: '1', type: 'CHARGE', amount: 3_000, fee: 117, net: 2_883, orderId: 'A' },
    { id: '2', type: 'CHARGE', amount: 2_000, fee: 58, net: 1_942, orderId: 'B' },
  ],
};
const takings: StoreTakings = {
  merchantId: 'M',
  locationId: 'L',
  businessDate: '2026-12-02',
  timeZone: 'UTC',
  from: '2026-12-02T00:00:00.000Z',
  until: '2026-12-03T00:00:00.000Z',
  currency: 'USD',
  card: 1_000,
  cash: 500,
  fees: 41,
  cardRefunds: 0,
  cashRefunds: 0,
  bankNet: 959,
  cashNet: 500,
  payments: 2,
  refundCount: 0,
};
const asBus = (e: ReturnType<typeof payoutEvent> | ReturnType<typeof takingsEvent>) =>
  ({ 'detail-type': e.detailType, source: e.source, detail: e.detail }) as FinanceBusEvent;

function harness(booked: Record<string, BookedOrder>) {
  const posted: Journal[] = [];
  const postings = new Map<string, FinancePosting>();
  const exceptions = new RecordingExceptions();
  const deps: FinancePosterDeps = {
    postJournal: async (journal) => {
      posted.push(journal);
      return { internalId: '900' };
    },
    booked: async (_shop, ids) => new Map(ids.map((id) => [id, booked[id]])),
    postings: {
      get: async (id) => postings.get(id),
      record: async (p) => {
        postings.set(p.externalId, p);
        return true;
      },
    },
    exceptions,
    accounts: {
      shopify: { bank: '10', clearing: '12', fees: '15', refunds: '14' },
      pos: { bank: '10', cash: '11', clearing: '13', fees: '15', refunds: '14' },
    },
    bookingGraceMs: 3_600_000,
    log: { info() {}, warn() {}, error() {} },
    telemetry: { count() {} },
    now: () => NOW,
  };
  return { deps, posted, exceptions, postings };
}

describe('postFinanceEvent', () => {
  it('posts a payout whose charges match the booked orders, one balanced journal', async () => {
    const h = harness({ A: { total: 3_000, currency: 'USD' }, B: { total: 2_000, currency: 'USD' } });
    const outcome = await postFinanceEvent(asBus(payoutEvent(payout, NOW.toISOString())), h.deps);
    expect(outcome).toEqual({
      status: 'posted',
      externalId: 'shopify-payout-acme.myshopify.com-42',
      internalId: '900',
    });
    expect(h.posted).toHaveLength(1);
    expect(h.exceptions.parked).toHaveLength(0);
  });

  it('parks a payout that differs from the booked orders, with the difference, and posts nothing', async () => {
    const h = harness({ A: { total: 2_923, currency: 'USD' }, B: { total: 2_000, currency: 'USD' } });
    const outcome = await postFinanceEvent(asBus(payoutEvent(payout, NOW.toISOString())), h.deps);
    expect(outcome).toMatchObject({ status: 'parked', code: 'PAYOUT_UNBALANCED' });
    expect(h.posted).toHaveLength(0);
    const [parked] = h.exceptions.parked;
    expect(parked?.kind).toBe('finance');
    expect(parked?.attributes.differenceMinor).toBe('77');
    expect(parked?.reason).toMatch(/by USD 0\.77 \(order A charged 30\.00, booked 29\.23\)/);
  });

  it('waits for orders not booked yet while the payout is recent, then parks', async () => {
    const h = harness({ A: { total: 3_000, currency: 'USD' } });
    const soon = { ...h.deps, now: () => new Date('2026-12-03T10:30:00.000Z') };
    await expect(
      postFinanceEvent(asBus(payoutEvent(payout, NOW.toISOString())), soon),
    ).rejects.toBeInstanceOf(PayoutAwaitingBookingsError);
    const late = harness({ A: { total: 3_000, currency: 'USD' } });
    const outcome = await postFinanceEvent(asBus(payoutEvent(payout, NOW.toISOString())), {
      ...late.deps,
      now: () => NOW,
    });
    expect(outcome).toMatchObject({ status: 'parked', code: 'PAYOUT_UNBALANCED' });
    expect(late.exceptions.parked[0]?.reason).toMatch(/order B charged 20\.00, booked nothing/);
  });

  it('a store-day collected before the one posted does not overwrite it', async () => {
    const h = harness({});
    const newer = asBus(takingsEvent(takings, '2026-12-03T11:00:00.000Z'));
    const older = asBus(takingsEvent({ ...takings, card: 900, bankNet: 859 }, '2026-12-03T10:00:00.000Z'));
    expect(await postFinanceEvent(newer, h.deps)).toMatchObject({ status: 'posted' });
    expect(await postFinanceEvent(older, h.deps)).toEqual({
      status: 'stale',
      externalId: 'pos-takings-L-2026-12-02',
    });
    expect(h.posted).toHaveLength(1);
  });

  it('parks a store-day whose figures do not add up', async () => {
    const h = harness({});
    const outcome = await postFinanceEvent(
      asBus(takingsEvent({ ...takings, bankNet: 1_000 }, NOW.toISOString())),
      h.deps,
    );
    expect(outcome).toMatchObject({ status: 'parked', code: 'JOURNAL_UNBALANCED' });
    expect(h.posted).toHaveLength(0);
  });
});
