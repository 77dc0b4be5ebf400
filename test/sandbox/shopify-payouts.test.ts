import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payoutJournal } from '#shared/finance/journal.ts';
import { readPaidPayouts } from '#shared/finance/shopify-payouts.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/** Shopify Payments payouts of the sandbox's own orders, read as finance reads them. */
let h: ShopifyHarness;
beforeAll(async () => {
  h = await startShopify({ seed: 3 });
});
afterAll(() => h.close());

const reader = () => ({
  shop: h.app.credentials.shopDomain,
  graphql: shopifyGraphql({ baseUrl: h.base, accessToken: h.app.credentials.accessToken }),
  sleep: async () => {},
});

describe('Shopify Payments payouts in the sandbox', () => {
  it('a payout gathers the orders not yet paid out: charges with rate + fixed fees, a net that adds up', async () => {
    const run = await h.control('POST', 'scenario', { seed: 5, orders: 4, pickupShare: 0, wait: true });
    expect(run.status).toBe(200);
    const issued = await h.control('POST', 'payouts', {
      feeBp: 290,
      feeFixedMinor: 30,
      adjustmentsMinor: [-125],
    });
    const payout = issued.body.payout as {
      id: string;
      netMinor: number;
      transactions: { type: string; amountMinor: number; feeMinor: number; orderId: string | null }[];
    };
    expect(payout.transactions.filter((t) => t.type === 'CHARGE')).toHaveLength(4);
    for (const t of payout.transactions.filter((x) => x.type === 'CHARGE')) {
      expect(t.feeMinor).toBe(Math.round((t.amountMinor * 290) / 10_000) + 30);
    }
    // Nothing left to pay out: a second payout has nothing.
    expect((await h.control('POST', 'payouts', {})).body.payout).toBeNull();

    const [read] = await readPaidPayouts(reader(), new Date(0));
    expect(read?.payoutId).toBe(payout.id);
    expect(read?.net).toBe(payout.netMinor);
    expect(read?.adjustments).toBe(-125);
    expect(read?.transactions).toHaveLength(5);
    expect(
      read?.transactions
        .filter((t) => t.orderId)
        .map((t) => t.orderId)
        .sort(),
    ).toEqual(payout.transactions.flatMap((t) => (t.orderId ? [t.orderId] : [])).sort());
    // The figures add up: a balanced journal can be built.
    if (!read) throw new Error('no payout');
    expect(() => payoutJournal(read, { bank: '1', clearing: '2', fees: '3', refunds: '4' })).not.toThrow();
  });

  it('under read chaos (repeated and shuffled nodes) each payout and transaction is read once', async () => {
    await h.control('POST', 'scenario', { seed: 6, orders: 3, pickupShare: 0, wait: true });
    await h.control('POST', 'payouts', {});
    const calm = await readPaidPayouts(reader(), new Date(0));
    await h.control('POST', 'payouts', {
      issue: false,
      chaos: { duplicateRate: 0.5, reorder: true, seed: 9 },
    });
    const chaotic = await readPaidPayouts(reader(), new Date(0));
    await h.control('POST', 'payouts', { issue: false, chaos: { duplicateRate: 0, reorder: false } });
    expect(chaotic).toEqual(calm);
    expect(calm).toHaveLength(2);
  });

  it('reports a charge that differs from its order transaction (fault injection)', async () => {
    await h.control('POST', 'scenario', { seed: 7, orders: 1, pickupShare: 0, wait: true });
    const issued = await h.control('POST', 'payouts', { chargeDeltaMinor: 77 });
    const payout = issued.body.payout as {
      id: string;
      transactions: { amountMinor: number; orderId: string }[];
    };
    const order = h.app.store.orderById.get(payout.transactions[0]?.orderId ?? '');
    const sale = order?.transactions.find((t) => t.kind === 'SALE');
    expect(payout.transactions[0]?.amountMinor).toBe((sale?.amountMinor ?? 0) + 77);
  });
});
