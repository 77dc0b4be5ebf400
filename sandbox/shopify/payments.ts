import { createRng } from '../core/rng.ts';
import { decimal, gid, gqlTime } from './ids.ts';
import { type Fields, matches, type PageArgs, paginate, parseQuery } from './query.ts';
import type { ShopStore } from './store.ts';

/**
 * Shopify Payments in the sandbox: payouts with their balance transactions, generated from the store's own
 * orders. Shopify Payments charges each online payment a rate plus a fixed fee (the sandbox default: 2.9 % +
 * 30¢, Shopify's Basic-plan online rate, https://www.shopify.com/pricing) and keeps its fee on a refund (a
 * refund's fee is 0: Shopify does not return processing fees on refunds,
 * https://help.shopify.com/en/manual/payments/shopify-payments/shopify-payments-requirements#refunds).
 * A payout gathers every successful `shopify_payments` sale and refund transaction not yet paid out:
 * a CHARGE (`amount` = the sale, `fee` = rate + fixed, `net = amount − fee`) per sale, a REFUND (negative
 * amount) per refund, optional ADJUSTMENTs, and its `net` is the sum of the transactions' nets
 * (https://shopify.dev/docs/api/admin-graphql/latest/objects/ShopifyPaymentsPayout,
 * https://shopify.dev/docs/api/admin-graphql/latest/objects/ShopifyPaymentsBalanceTransaction).
 *
 * Fault injection (`POST /_control/payouts`): `chargeDeltaMinor` reports one charge that much above its
 * order transaction (a payout that does not balance against the orders booked), and the read chaos
 * (`duplicateRate`, `reorder`) repeats and shuffles nodes of the payout and balance-transaction pages, as an
 * eventually consistent list answered twice or out of order would.
 */

export interface BalanceTransactionRecord {
  id: string;
  type: 'CHARGE' | 'REFUND' | 'ADJUSTMENT';
  amountMinor: number;
  feeMinor: number;
  orderId: string | null;
  orderName: string | null;
  sourceOrderTransactionId: string | null;
  processedAt: number;
  payoutId: string;
}

export interface PayoutRecord {
  id: string;
  issuedAt: number;
  status: 'PAID' | 'SCHEDULED';
  transactionIds: string[];
}

/** The payments state a store keeps (persisted with the store). */
export interface PaymentsState {
  payouts: PayoutRecord[];
  balanceTransactions: BalanceTransactionRecord[];
  /** Order transaction ids already in a balance transaction. */
  paidOut: string[];
  chaos: { duplicateRate: number; reorder: boolean; seed: number; reads: number };
  nextPayoutId: number;
  nextTransactionId: number;
}

export const newPaymentsState = (): PaymentsState => ({
  payouts: [],
  balanceTransactions: [],
  paidOut: [],
  chaos: { duplicateRate: 0, reorder: false, seed: 1, reads: 0 },
  nextPayoutId: 91_000_001,
  nextTransactionId: 93_000_000_001,
});

export interface IssuePayoutOptions {
  /** Fee per charge, basis points of the amount. @default 290 */
  readonly feeBp?: number;
  /** Fixed fee per charge, minor units. @default 30 */
  readonly feeFixedMinor?: number;
  /** Added to the first charge's amount (fault: a charge that does not match its order). @default 0 */
  readonly chargeDeltaMinor?: number;
  /** ADJUSTMENT transactions to add (signed minor units). */
  readonly adjustmentsMinor?: readonly number[];
}

/** Creates a PAID payout of everything not yet paid out; null when there is nothing. */
export function issuePayout(
  store: ShopStore,
  at: number,
  options: IssuePayoutOptions = {},
): PayoutRecord | null {
  const p = store.payments;
  const paid = new Set(p.paidOut);
  const feeBp = options.feeBp ?? 290;
  const fixed = options.feeFixedMinor ?? 30;
  const payoutId = String(p.nextPayoutId);
  const txs: BalanceTransactionRecord[] = [];
  let delta = options.chargeDeltaMinor ?? 0;
  for (const order of store.orders) {
    for (const t of order.transactions) {
      if (t.gateway !== 'shopify_payments' || t.kind === 'VOID' || paid.has(t.id) || t.createdAt > at)
        continue;
      const charge = t.kind === 'SALE';
      const amount = charge ? t.amountMinor + delta : -t.amountMinor;
      if (charge) delta = 0;
      txs.push({
        id: String(p.nextTransactionId++),
        type: charge ? 'CHARGE' : 'REFUND',
        amountMinor: amount,
        feeMinor: charge ? Math.round((t.amountMinor * feeBp) / 10_000) + fixed : 0,
        orderId: order.id,
        orderName: order.name,
        sourceOrderTransactionId: t.id,
        processedAt: t.createdAt,
        payoutId,
      });
      p.paidOut.push(t.id);
    }
  }
  for (const amount of options.adjustmentsMinor ?? []) {
    txs.push({
      id: String(p.nextTransactionId++),
      type: 'ADJUSTMENT',
      amountMinor: amount,
      feeMinor: 0,
      orderId: null,
      orderName: null,
      sourceOrderTransactionId: null,
      processedAt: at,
      payoutId,
    });
  }
  if (txs.length === 0) return null;
  p.nextPayoutId += 1;
  const payout: PayoutRecord = {
    id: payoutId,
    issuedAt: at,
    status: 'PAID',
    transactionIds: txs.map((t) => t.id),
  };
  p.balanceTransactions.push(...txs);
  p.payouts.push(payout);
  return payout;
}

type View = Record<string, unknown>;
type Args = Record<string, unknown>;

const sum = (txs: readonly BalanceTransactionRecord[], f: (t: BalanceTransactionRecord) => number) =>
  txs.reduce((s, t) => s + f(t), 0);

/** Repeats and shuffles nodes of a page when the read chaos is on (deterministic per read). */
function chaotic<T>(p: PaymentsState, nodes: T[]): T[] {
  const { duplicateRate, reorder } = p.chaos;
  if (duplicateRate === 0 && !reorder) return nodes;
  p.chaos.reads += 1;
  const rng = createRng(p.chaos.seed * 7919 + p.chaos.reads);
  const out = nodes.flatMap((n) => (rng.next() < duplicateRate ? [n, n] : [n]));
  if (reorder) {
    for (let i = out.length - 1; i > 0; i -= 1) {
      const j = Math.floor(rng.next() * (i + 1));
      [out[i], out[j]] = [out[j] as T, out[i] as T];
    }
  }
  return out;
}

const payoutFields: Fields<PayoutRecord> = {
  id: (r) => Number(r.id),
  status: (r) => r.status,
  issued_at: (r) => r.issuedAt,
};

const transactionFields = (p: PaymentsState): Fields<BalanceTransactionRecord> => ({
  id: (r) => Number(r.id),
  payments_transfer_id: (r) => r.payoutId,
  payout_status: (r) => p.payouts.find((x) => x.id === r.payoutId)?.status ?? 'PENDING',
  processed_at: (r) => r.processedAt,
  transaction_type: (r) => r.type.toLowerCase(),
});

/** `QueryRoot.shopifyPaymentsAccount`. */
export function shopifyPaymentsAccountView(store: ShopStore, shopId: string): View {
  const p = store.payments;
  const money = (minor: number) => ({ amount: decimal(minor), currencyCode: store.currency });
  const txOf = (payout: PayoutRecord) => p.balanceTransactions.filter((t) => t.payoutId === payout.id);
  const payoutView = (r: PayoutRecord): View => {
    const txs = txOf(r);
    const of = (type: BalanceTransactionRecord['type']) => txs.filter((t) => t.type === type);
    const net = sum(txs, (t) => t.amountMinor - t.feeMinor);
    return {
      __typename: 'ShopifyPaymentsPayout',
      id: gid('ShopifyPaymentsPayout', r.id),
      legacyResourceId: r.id,
      issuedAt: gqlTime(r.issuedAt),
      net: money(net),
      status: r.status,
      transactionType: net < 0 ? 'WITHDRAWAL' : 'DEPOSIT',
      summary: {
        chargesGross: money(sum(of('CHARGE'), (t) => t.amountMinor)),
        chargesFee: money(sum(of('CHARGE'), (t) => t.feeMinor)),
        refundsFeeGross: money(sum(of('REFUND'), (t) => t.amountMinor)),
        refundsFee: money(sum(of('REFUND'), (t) => t.feeMinor)),
        adjustmentsGross: money(sum(of('ADJUSTMENT'), (t) => t.amountMinor)),
        adjustmentsFee: money(sum(of('ADJUSTMENT'), (t) => t.feeMinor)),
      },
    };
  };
  const txView = (t: BalanceTransactionRecord): View => ({
    __typename: 'ShopifyPaymentsBalanceTransaction',
    id: gid('ShopifyPaymentsBalanceTransaction', t.id),
    type: t.type,
    amount: money(t.amountMinor),
    fee: money(t.feeMinor),
    net: money(t.amountMinor - t.feeMinor),
    associatedOrder: t.orderId ? { id: gid('Order', t.orderId), name: t.orderName } : null,
    associatedPayout: { id: gid('ShopifyPaymentsPayout', t.payoutId), status: 'PAID' },
    sourceOrderTransactionId: t.sourceOrderTransactionId,
    transactionDate: gqlTime(t.processedAt),
    test: false,
  });
  const connection = <T>(
    all: readonly T[],
    args: Args,
    key: (t: T) => string,
    view: (t: T) => View,
  ): View => {
    const page = paginate(all, args as PageArgs, key);
    const pairs = chaotic(
      p,
      page.items.map((item, i) => ({ cursor: page.cursors[i], node: view(item) })),
    );
    return {
      edges: pairs,
      nodes: pairs.map((e) => e.node),
      pageInfo: {
        hasNextPage: page.hasNextPage,
        hasPreviousPage: page.hasPreviousPage,
        startCursor: page.cursors[0] ?? null,
        endCursor: page.cursors[page.cursors.length - 1] ?? null,
      },
    };
  };
  return {
    __typename: 'ShopifyPaymentsAccount',
    id: gid('ShopifyPaymentsAccount', shopId),
    defaultCurrency: store.currency,
    // Shopify's default sort is ISSUED_AT (newest first in the admin; the API sorts ascending unless reversed).
    payouts: (a: Args) => {
      const q = parseQuery(typeof a.query === 'string' ? a.query : null);
      const list = [...p.payouts]
        .filter((r) => matches(q, r, payoutFields))
        .sort((x, y) => x.issuedAt - y.issuedAt || Number(x.id) - Number(y.id));
      return connection(list, a, (r) => r.id, payoutView);
    },
    balanceTransactions: (a: Args) => {
      const q = parseQuery(typeof a.query === 'string' ? a.query : null);
      const fields = transactionFields(p);
      const list = p.balanceTransactions
        .filter((t) => matches(q, t, fields))
        .sort((x, y) => x.processedAt - y.processedAt || Number(x.id) - Number(y.id));
      return connection(list, a, (t) => t.id, txView);
    },
  };
}
