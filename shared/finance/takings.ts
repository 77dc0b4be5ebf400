import * as z from 'zod';
import type { StoreTakings } from './model.ts';

/**
 * POS takings from Square's Payments API. Why payments and refunds (`ListPayments`, `ListPaymentRefunds`,
 * by `location_id` and a `begin_time`/`end_time` window on `created_at`) and not the Payouts API
 * (`ListPayouts`/`ListPayoutEntries`): a payout is Square's bank transfer of card funds, across locations and
 * on Square's schedule, and holds no cash; finance wants each store's business day, cash included. Square
 * documents the payments list as filterable by location and creation time, 100 per page, cursor paging
 * (https://developer.squareup.com/reference/square/payments-api/list-payments,
 * https://developer.squareup.com/reference/square/payments-api/list-payment-refunds); each Payment and
 * PaymentRefund carries its `processing_fee` entries (negative on a refund when Square returns fees).
 */

const Money = z.looseObject({ amount: z.number().int(), currency: z.string() });
const Fees = z.array(z.looseObject({ amount_money: Money })).nullish();

export const SquarePaymentSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  source_type: z.string().nullish(),
  location_id: z.string().nullish(),
  created_at: z.string(),
  total_money: Money.nullish(),
  amount_money: Money,
  processing_fee: Fees,
});
export type SquarePayment = z.infer<typeof SquarePaymentSchema>;

export const SquarePaymentRefundSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  payment_id: z.string().nullish(),
  location_id: z.string().nullish(),
  created_at: z.string(),
  amount_money: Money,
  processing_fee: Fees,
  destination_type: z.string().nullish(),
  unlinked: z.boolean().nullish(),
});
export type SquarePaymentRefund = z.infer<typeof SquarePaymentRefundSchema>;

/** Milliseconds `timeZone` is ahead of UTC at `at`. */
function offsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(at));
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - at;
}

/** The UTC instant of local midnight starting `date` (`YYYY-MM-DD`) in `timeZone` (DST-aware). */
export function localMidnightUtc(date: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const wall = Date.UTC(y, m - 1, d);
  let guess = wall - offsetMs(wall, timeZone);
  guess = wall - offsetMs(guess, timeZone);
  return guess;
}

/** `[from, until)` of a business day in the store's time zone, as UTC ISO-8601. */
export function businessDayWindow(date: string, timeZone: string): { from: string; until: string } {
  const next = new Date(Date.parse(`${date}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
  return {
    from: new Date(localMidnightUtc(date, timeZone)).toISOString(),
    until: new Date(localMidnightUtc(next, timeZone)).toISOString(),
  };
}

/** The store's calendar date at `at`, `YYYY-MM-DD`. */
export function localDate(at: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).format(at);
}

/**
 * The business days of a store that are closed at `now` (ended at least `graceMinutes` ago) and at most
 * `lookbackDays` old, oldest first: what the collector (re)computes each run.
 */
export function closedBusinessDays(
  now: Date,
  timeZone: string,
  lookbackDays: number,
  graceMinutes: number,
): string[] {
  const latest = localDate(new Date(now.getTime() - graceMinutes * 60_000), timeZone);
  const days: string[] = [];
  for (let back = lookbackDays; back >= 1; back -= 1) {
    days.push(new Date(Date.parse(`${latest}T00:00:00Z`) - back * 86_400_000).toISOString().slice(0, 10));
  }
  return days;
}

/** The takings can not be computed from what Square answered (another currency, an unknown payment). */
export class TakingsError extends Error {}

const feeOf = (fees: SquarePayment['processing_fee']) =>
  (fees ?? []).reduce((s, f) => s + f.amount_money.amount, 0);

/**
 * Sums one store-day: COMPLETED payments by tender (`CASH` to the till, every other source type is settled
 * by Square to the bank), their processing fees, and COMPLETED refunds by the tender of the payment they
 * refund (a refund whose payment is not in the list is looked up in `refundedPayments`). Each payment and
 * refund counts once by id, whatever order and how many times the pages listed them. Payments or
 * refunds of other locations, or outside the window, are ignored.
 */
export function summarizeTakings(input: {
  readonly merchantId: string;
  readonly locationId: string;
  readonly businessDate: string;
  readonly timeZone: string;
  readonly currency: string;
  readonly payments: readonly SquarePayment[];
  readonly refunds: readonly SquarePaymentRefund[];
  /** Source types of earlier days' payments that the day's refunds refund, by payment id. */
  readonly refundedPayments?: ReadonlyMap<string, string>;
}): StoreTakings {
  const { from, until } = businessDayWindow(input.businessDate, input.timeZone);
  const [start, end] = [Date.parse(from), Date.parse(until)];
  const inDay = (at: string, location: string | null | undefined) =>
    location === input.locationId && Date.parse(at) >= start && Date.parse(at) < end;
  const payments = new Map(
    input.payments
      .filter((p) => p.status === 'COMPLETED' && inDay(p.created_at, p.location_id))
      .map((p) => [p.id, p]),
  );
  const refunds = new Map(
    input.refunds
      .filter((r) => r.status === 'COMPLETED' && inDay(r.created_at, r.location_id))
      .map((r) => [r.id, r]),
  );
  const sourceOf = new Map(input.refundedPayments ?? []);
  for (const p of input.payments) sourceOf.set(p.id, p.source_type ?? 'CARD');
  const t = { card: 0, cash: 0, fees: 0, cardRefunds: 0, cashRefunds: 0 };
  const check = (money: { currency: string }, what: string) => {
    if (money.currency !== input.currency) {
      throw new TakingsError(`${what} is in ${money.currency}, the location's currency is ${input.currency}`);
    }
  };
  for (const p of payments.values()) {
    const total = p.total_money ?? p.amount_money;
    check(total, `payment ${p.id}`);
    if (p.source_type === 'CASH') t.cash += total.amount;
    else t.card += total.amount;
    t.fees += feeOf(p.processing_fee);
  }
  for (const r of refunds.values()) {
    check(r.amount_money, `refund ${r.id}`);
    // An unlinked refund (no Square payment: e.g. an online order returned and paid back at the store) goes
    // out through its destination (`destination_type`: CASH from the till, else to a card/account),
    // https://developer.squareup.com/docs/refunds-api/unlinked-refunds.
    const source = r.payment_id
      ? sourceOf.get(r.payment_id)
      : r.unlinked === true
        ? (r.destination_type ?? undefined)
        : undefined;
    if (source === undefined)
      throw new TakingsError(
        `refund ${r.id} refunds payment ${r.payment_id ?? '(none)'}, which Square did not list`,
      );
    if (source === 'CASH') t.cashRefunds += r.amount_money.amount;
    else t.cardRefunds += r.amount_money.amount;
    t.fees += feeOf(r.processing_fee);
  }
  return {
    merchantId: input.merchantId,
    locationId: input.locationId,
    businessDate: input.businessDate,
    timeZone: input.timeZone,
    from,
    until,
    currency: input.currency,
    ...t,
    bankNet: t.card - t.cardRefunds - t.fees,
    cashNet: t.cash - t.cashRefunds,
    payments: payments.size,
    refundCount: refunds.size,
  };
}
