import * as z from 'zod';
import { HubError } from '../errors.ts';
import { type Payout, payoutExternalId, type StoreTakings, takingsExternalId } from './model.ts';

const AccountId = z.string().regex(/^\d+$/, 'a NetSuite account internal id');

/**
 * The general-ledger accounts finance posts to (operator config: NetSuite internal ids of `account`
 * records). Online orders and POS sales are booked against a clearing account (their payment method's
 * deposit account); a payout or a store-day moves the money out of clearing into the bank (and the till),
 * with the processor's fees to an expense account and refunds to their own account.
 */
export const FinanceAccountsSchema = z.strictObject({
  shopify: z.strictObject({
    /** The bank account Shopify Payments pays out to. */
    bank: AccountId,
    /** Shopify Payments clearing: where online orders' payments wait for their payout. */
    clearing: AccountId,
    /** Payment processing fees (expense). */
    fees: AccountId,
    /** Refunds paid back through Shopify Payments. */
    refunds: AccountId,
    /** Adjustments, disputes and reserves. @default the clearing account */
    adjustments: AccountId.optional(),
  }),
  pos: z.strictObject({
    /** The bank account Square pays card takings out to. */
    bank: AccountId,
    /** Cash in the stores' tills (undeposited cash). */
    cash: AccountId,
    /** POS clearing: where POS sales wait for the day's close. */
    clearing: AccountId,
    fees: AccountId,
    refunds: AccountId,
  }),
});
export type FinanceAccounts = z.infer<typeof FinanceAccountsSchema>;

/** One journal line: exactly one of debit or credit, positive, in minor units. */
export interface JournalLine {
  readonly account: string;
  readonly debit?: number;
  readonly credit?: number;
  readonly memo: string;
}

/** A balanced journal entry, in minor units, before it is written in the ERP's format. */
export interface Journal {
  readonly externalId: string;
  readonly currency: string;
  /** `YYYY-MM-DD`: the accounting date (payout issue date in UTC, the store's business date). */
  readonly tranDate: string;
  readonly memo: string;
  readonly lines: readonly JournalLine[];
}

/** The figures of a source document do not add up: nothing can be posted for it as it is. */
export class UnbalancedJournalError extends HubError {
  readonly code = 'JOURNAL_UNBALANCED';
  readonly retryable = false;
}

/**
 * Turns signed postings (positive = debit) into journal lines, merging postings to one account with one
 * memo, dropping zeros, and refusing anything that does not balance to the minor unit.
 */
export function journalLines(
  postings: readonly { account: string; amount: number; memo: string }[],
): JournalLine[] {
  const merged = new Map<string, { account: string; amount: number; memo: string }>();
  let sum = 0;
  for (const p of postings) {
    if (!Number.isSafeInteger(p.amount))
      throw new UnbalancedJournalError(`${p.memo}: ${p.amount} is not an integer amount`);
    sum += p.amount;
    const key = `${p.account}\u0000${p.memo}`;
    const prev = merged.get(key);
    merged.set(key, { ...p, amount: (prev?.amount ?? 0) + p.amount });
  }
  if (sum !== 0) throw new UnbalancedJournalError(`debits and credits differ by ${sum} minor units`);
  return [...merged.values()]
    .filter((p) => p.amount !== 0)
    .map((p) =>
      p.amount > 0
        ? { account: p.account, debit: p.amount, memo: p.memo }
        : { account: p.account, credit: -p.amount, memo: p.memo },
    );
}

/**
 * Checks that a payout's figures add up: every transaction's net is its amount less its fee, and the
 * payout's gross, refunds, adjustments, fees and net are the sums of its transactions. Throws
 * {@link UnbalancedJournalError} naming the first difference.
 */
export function checkPayoutFigures(payout: Payout): void {
  const sums = { gross: 0, refunds: 0, adjustments: 0, fees: 0, net: 0 };
  for (const t of payout.transactions) {
    if (t.amount - t.fee !== t.net) {
      throw new UnbalancedJournalError(
        `payout ${payout.payoutId}: transaction ${t.id} net ${t.net} is not amount ${t.amount} less fee ${t.fee}`,
      );
    }
    if (t.type === 'CHARGE') sums.gross += t.amount;
    else if (t.type === 'REFUND') sums.refunds += t.amount;
    else sums.adjustments += t.amount;
    sums.fees += t.fee;
    sums.net += t.net;
  }
  for (const key of ['gross', 'refunds', 'adjustments', 'fees', 'net'] as const) {
    if (sums[key] !== payout[key]) {
      throw new UnbalancedJournalError(
        `payout ${payout.payoutId}: ${key} ${payout[key]} differs from its transactions' ${sums[key]} (${payout[key] - sums[key]} minor units)`,
      );
    }
  }
}

/**
 * The journal entry of a Shopify Payments payout: the bank receives the net (or pays it, for a
 * withdrawal), the fees are expensed, and the charges, refunds and adjustments leave the clearing
 * accounts the orders were booked against. Balanced by construction once the figures add up
 * ({@link checkPayoutFigures}): net + fees − gross − refunds − adjustments = 0.
 */
export function payoutJournal(payout: Payout, accounts: FinanceAccounts['shopify']): Journal {
  checkPayoutFigures(payout);
  const ref = `Shopify payout ${payout.payoutId}`;
  return {
    externalId: payoutExternalId(payout),
    currency: payout.currency,
    tranDate: payout.issuedAt.slice(0, 10),
    memo: `${ref} (${payout.shop}, issued ${payout.issuedAt}, ${payout.transactions.length} transactions)`,
    lines: journalLines([
      { account: accounts.bank, amount: payout.net, memo: `${ref}: net` },
      { account: accounts.fees, amount: payout.fees, memo: `${ref}: fees` },
      { account: accounts.clearing, amount: -payout.gross, memo: `${ref}: charges` },
      { account: accounts.refunds, amount: -payout.refunds, memo: `${ref}: refunds` },
      {
        account: accounts.adjustments ?? accounts.clearing,
        amount: -payout.adjustments,
        memo: `${ref}: adjustments`,
      },
    ]),
  };
}

/** Checks that a store-day's nets are its takings less refunds and fees. */
export function checkTakingsFigures(t: StoreTakings): void {
  if (t.bankNet !== t.card - t.cardRefunds - t.fees || t.cashNet !== t.cash - t.cashRefunds) {
    throw new UnbalancedJournalError(
      `store ${t.locationId} ${t.businessDate}: nets do not match takings less refunds and fees`,
    );
  }
}

/**
 * The journal entry of a store's business day: POS sales leave clearing (card and cash), refunds are
 * debited to the refunds account, Square's fees expensed, the card net goes to the bank and the cash to
 * the till account. −(card + cash) + refunds + fees + bankNet + cashNet = 0.
 */
export function takingsJournal(t: StoreTakings, accounts: FinanceAccounts['pos']): Journal {
  checkTakingsFigures(t);
  const ref = `POS takings ${t.locationId} ${t.businessDate}`;
  return {
    externalId: takingsExternalId(t),
    currency: t.currency,
    tranDate: t.businessDate,
    memo: `${ref} (${t.timeZone}, ${t.payments} payments, ${t.refundCount} refunds)`,
    lines: journalLines([
      { account: accounts.clearing, amount: -t.card, memo: `${ref}: card` },
      { account: accounts.clearing, amount: -t.cash, memo: `${ref}: cash` },
      { account: accounts.refunds, amount: t.cardRefunds + t.cashRefunds, memo: `${ref}: refunds` },
      { account: accounts.fees, amount: t.fees, memo: `${ref}: fees` },
      { account: accounts.bank, amount: t.bankNet, memo: `${ref}: card net` },
      { account: accounts.cash, amount: t.cashNet, memo: `${ref}: cash net` },
    ]),
  };
}
