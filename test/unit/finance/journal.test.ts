import { describe, expect, it } from 'vitest';
import {
  type FinanceAccounts,
  journalLines,
  payoutJournal,
  takingsJournal,
  UnbalancedJournalError,
} from '#shared/finance/journal.ts';
import type { Payout, StoreTakings } from '#shared/finance/model.ts';
import { comparePayoutToBooked } from '#shared/finance/payout-check.ts';

const accounts: FinanceAccounts = {
  shopify: { bank: '1000', clearing: '1100', fees: '6100', refunds: '4900' },
  pos: { bank: '1000', cash: '1010', clearing: '1200', fees: '6100', refunds: '4900' },
};

function payout(overrides: Partial<Payout> = {}): Payout {
  const transactions = [
    { id: 't1', type: 'CHARGE', amount: 10_999, fee: 349, net: 10_650, orderId: '501' },
    { id: 't2', type: 'CHARGE', amount: 2_500, fee: 103, net: 2_397, orderId: '502' },
    { id: 't3', type: 'REFUND', amount: -1_000, fee: 0, net: -1_000, orderId: '499' },
    { id: 't4', type: 'ADJUSTMENT', amount: -15, fee: 0, net: -15 },
  ];
  return {
    shop: 'acme.myshopify.com',
    payoutId: '9001',
    issuedAt: '2026-12-02T23:30:00Z',
    status: 'PAID',
    direction: 'DEPOSIT',
    currency: 'USD',
    gross: 13_499,
    fees: 452,
    refunds: -1_000,
    adjustments: -15,
    net: 12_032,
    transactions,
    ...overrides,
  };
}

const sum = (lines: readonly { debit?: number; credit?: number }[], side: 'debit' | 'credit') =>
  lines.reduce((s, l) => s + (l[side] ?? 0), 0);

describe('payout journal', () => {
  it('balances to the cent: bank net and fees debited, charges credited from clearing, refunds and adjustments debited', () => {
    const journal = payoutJournal(payout(), accounts.shopify);
    expect(journal.externalId).toBe('shopify-payout-acme.myshopify.com-9001');
    expect(journal.tranDate).toBe('2026-12-02');
    expect(journal.lines).toEqual([
      { account: '1000', debit: 12_032, memo: 'Shopify payout 9001: net' },
      { account: '6100', debit: 452, memo: 'Shopify payout 9001: fees' },
      { account: '1100', credit: 13_499, memo: 'Shopify payout 9001: charges' },
      { account: '4900', debit: 1_000, memo: 'Shopify payout 9001: refunds' },
      { account: '1100', debit: 15, memo: 'Shopify payout 9001: adjustments' },
    ]);
    expect(sum(journal.lines, 'debit')).toBe(sum(journal.lines, 'credit'));
  });

  it('a withdrawal (negative net) credits the bank', () => {
    const p = payout({
      transactions: [{ id: 'r', type: 'REFUND', amount: -5_000, fee: 0, net: -5_000, orderId: '1' }],
      gross: 0,
      fees: 0,
      refunds: -5_000,
      adjustments: 0,
      net: -5_000,
      direction: 'WITHDRAWAL',
    });
    const lines = payoutJournal(p, accounts.shopify).lines;
    expect(lines).toEqual([
      { account: '1000', credit: 5_000, memo: 'Shopify payout 9001: net' },
      { account: '4900', debit: 5_000, memo: 'Shopify payout 9001: refunds' },
    ]);
  });

  it('refuses a payout whose totals differ from its transactions, naming the difference', () => {
    expect(() => payoutJournal(payout({ net: 12_033 }), accounts.shopify)).toThrow(
      /net 12033 differs .* \(1 minor units\)/,
    );
    expect(() => payoutJournal(payout({ fees: 450 }), accounts.shopify)).toThrow(UnbalancedJournalError);
    const bad = payout();
    const [first, ...rest] = bad.transactions;
    if (!first) throw new Error('fixture has transactions');
    expect(() =>
      payoutJournal({ ...bad, transactions: [{ ...first, net: 1 }, ...rest] }, accounts.shopify),
    ).toThrow(/transaction t1 net 1/);
  });

  it('journalLines refuses postings that do not sum to zero and merges one account and memo', () => {
    expect(() => journalLines([{ account: '1', amount: 1, memo: 'x' }])).toThrow(/differ by 1/);
    expect(
      journalLines([
        { account: '1', amount: 5, memo: 'x' },
        { account: '1', amount: 5, memo: 'x' },
        { account: '2', amount: -10, memo: 'y' },
        { account: '3', amount: 0, memo: 'z' },
      ]),
    ).toEqual([
      { account: '1', debit: 10, memo: 'x' },
      { account: '2', credit: 10, memo: 'y' },
    ]);
  });
});

describe('store takings journal', () => {
  const takings: StoreTakings = {
    merchantId: 'M1',
    locationId: 'L1',
    businessDate: '2026-12-02',
    timeZone: 'America/Chicago',
    from: '2026-12-02T06:00:00.000Z',
    until: '2026-12-03T06:00:00.000Z',
    currency: 'USD',
    card: 20_000,
    cash: 5_000,
    fees: 560,
    cardRefunds: 1_000,
    cashRefunds: 500,
    bankNet: 18_440,
    cashNet: 4_500,
    payments: 7,
    refundCount: 2,
  };

  it('balances: clearing credited by card and cash, refunds, fees, bank and till debited', () => {
    const journal = takingsJournal(takings, accounts.pos);
    expect(journal.externalId).toBe('pos-takings-L1-2026-12-02');
    expect(journal.tranDate).toBe('2026-12-02');
    expect(sum(journal.lines, 'debit')).toBe(25_000);
    expect(sum(journal.lines, 'credit')).toBe(25_000);
    expect(journal.lines.find((l) => l.memo.endsWith('card net'))).toEqual({
      account: '1000',
      debit: 18_440,
      memo: 'POS takings L1 2026-12-02: card net',
    });
  });

  it('refuses nets that are not takings less refunds and fees', () => {
    expect(() => takingsJournal({ ...takings, bankNet: 18_441 }, accounts.pos)).toThrow(
      UnbalancedJournalError,
    );
  });
});

describe('payout against the booked orders', () => {
  it('balances when every order was booked at what was charged', () => {
    const booked = new Map([
      ['501', { total: 10_999, currency: 'USD' }],
      ['502', { total: 2_500, currency: 'USD' }],
    ]);
    expect(comparePayoutToBooked(payout(), booked)).toMatchObject({
      balanced: true,
      difference: 0,
      orders: 2,
    });
  });

  it('reports the difference of an order booked at another total and of one never booked', () => {
    const booked = new Map([['501', { total: 10_899, currency: 'USD' }]]);
    const result = comparePayoutToBooked(payout(), booked);
    expect(result.balanced).toBe(false);
    expect(result.mismatches).toEqual([
      { orderId: '501', charged: 10_999, booked: 10_899, difference: 100 },
      { orderId: '502', charged: 2_500, booked: null, difference: 2_500 },
    ]);
    expect(result.difference).toBe(2_600);
  });

  it('a booking in another currency does not balance', () => {
    const booked = new Map([
      ['501', { total: 10_999, currency: 'CAD' }],
      ['502', { total: 2_500, currency: 'USD' }],
    ]);
    expect(comparePayoutToBooked(payout(), booked).mismatches.map((m) => m.orderId)).toEqual(['501']);
  });
});
