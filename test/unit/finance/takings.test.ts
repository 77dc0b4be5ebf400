import { describe, expect, it } from 'vitest';
import { takingsJournal } from '#shared/finance/journal.ts';
import {
  businessDayWindow,
  closedBusinessDays,
  type SquarePayment,
  summarizeTakings,
  TakingsError,
} from '#shared/finance/takings.ts';

const usd = (amount: number) => ({ amount, currency: 'USD' });
const payment = (
  id: string,
  at: string,
  amount: number,
  source: string,
  fee = 0,
  location = 'L1',
): SquarePayment => ({
  id,
  status: 'COMPLETED',
  source_type: source,
  location_id: location,
  created_at: at,
  amount_money: usd(amount),
  total_money: usd(amount),
  ...(fee ? { processing_fee: [{ amount_money: usd(fee) }] } : {}),
});

describe('business day window', () => {
  it('is local midnight to midnight in the store time zone, DST included', () => {
    expect(businessDayWindow('2026-12-02', 'America/Chicago')).toEqual({
      from: '2026-12-02T06:00:00.000Z',
      until: '2026-12-03T06:00:00.000Z',
    });
    // 2026-03-08: US DST starts, the day is 23 hours long in New York.
    expect(businessDayWindow('2026-03-08', 'America/New_York')).toEqual({
      from: '2026-03-08T05:00:00.000Z',
      until: '2026-03-09T04:00:00.000Z',
    });
  });

  it('closed days end before now less the grace period, oldest first', () => {
    const now = new Date('2026-12-03T06:10:00Z'); // 00:10 in Chicago
    expect(closedBusinessDays(now, 'America/Chicago', 2, 5)).toEqual(['2026-12-01', '2026-12-02']);
    expect(closedBusinessDays(now, 'America/Chicago', 2, 30)).toEqual(['2026-11-30', '2026-12-01']);
  });
});

describe('summarizeTakings', () => {
  const base = {
    merchantId: 'M',
    locationId: 'L1',
    businessDate: '2026-12-02',
    timeZone: 'America/Chicago',
    currency: 'USD',
  };

  it('sums card and cash, fees and refunds by tender, once per id, within the day and the location', () => {
    const p1 = payment('p1', '2026-12-02T15:00:00Z', 10_000, 'CARD', 290);
    const p2 = payment('p2', '2026-12-02T16:00:00Z', 2_000, 'CASH');
    const takings = summarizeTakings({
      ...base,
      payments: [
        p2,
        p1,
        p1, // listed twice
        payment('p3', '2026-12-03T06:00:00Z', 999, 'CARD'), // next day, local midnight
        payment('p4', '2026-12-02T16:00:00Z', 999, 'CARD', 0, 'L2'), // another store
      ],
      refunds: [
        {
          id: 'r1',
          status: 'COMPLETED',
          payment_id: 'p1',
          location_id: 'L1',
          created_at: '2026-12-02T20:00:00Z',
          amount_money: usd(1_000),
          processing_fee: [{ amount_money: usd(-29) }],
        },
        {
          id: 'r2',
          status: 'COMPLETED',
          payment_id: 'old',
          location_id: 'L1',
          created_at: '2026-12-02T21:00:00Z',
          amount_money: usd(500),
        },
        {
          // An online order returned at the store, paid back from the till: an unlinked refund.
          id: 'r4',
          status: 'COMPLETED',
          unlinked: true,
          destination_type: 'CASH',
          location_id: 'L1',
          created_at: '2026-12-02T21:30:00Z',
          amount_money: usd(300),
        },
        {
          id: 'r3',
          status: 'PENDING',
          payment_id: 'p1',
          location_id: 'L1',
          created_at: '2026-12-02T21:00:00Z',
          amount_money: usd(1),
        },
      ],
      refundedPayments: new Map([['old', 'CASH']]),
    });
    expect(takings).toMatchObject({
      card: 10_000,
      cash: 2_000,
      fees: 261,
      cardRefunds: 1_000,
      cashRefunds: 800,
      bankNet: 8_739,
      cashNet: 1_200,
      payments: 2,
      refundCount: 3,
    });
    const lines = takingsJournal(takings, {
      bank: '1',
      cash: '2',
      clearing: '3',
      fees: '4',
      refunds: '5',
    }).lines;
    expect(lines.reduce((s, l) => s + (l.debit ?? 0) - (l.credit ?? 0), 0)).toBe(0);
  });

  it('refuses another currency and a refund of a payment it cannot place', () => {
    expect(() =>
      summarizeTakings({
        ...base,
        payments: [
          { ...payment('p', '2026-12-02T15:00:00Z', 1, 'CARD'), total_money: { amount: 1, currency: 'CAD' } },
        ],
        refunds: [],
      }),
    ).toThrow(TakingsError);
    expect(() =>
      summarizeTakings({
        ...base,
        payments: [],
        refunds: [
          {
            id: 'r',
            status: 'COMPLETED',
            payment_id: 'x',
            location_id: 'L1',
            created_at: '2026-12-02T15:00:00Z',
            amount_money: usd(1),
          },
        ],
      }),
    ).toThrow(/payment x/);
  });
});
