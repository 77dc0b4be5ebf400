import * as z from 'zod';
import { HubError } from '../errors.ts';
import { detailSchema } from '../events/catalog.ts';
import { toDecimalString } from '../events/money.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { FinancePosting } from '../repositories/finance-postings.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { canonicalDigest } from './digest.ts';
import { type FinanceAccounts, type Journal, payoutJournal, takingsJournal } from './journal.ts';
import type { Payout } from './model.ts';
import { type BookedOrder, comparePayoutToBooked, type PayoutComparison } from './payout-check.ts';

/** What the finance queue carries: the two canonical finance events as EventBridge delivers them. */
export const FinanceBusEventSchema = z.discriminatedUnion('detail-type', [
  z.looseObject({ 'detail-type': z.literal('PayoutReceived'), detail: detailSchema('PayoutReceived') }),
  z.looseObject({
    'detail-type': z.literal('StoreTakingsClosed'),
    detail: detailSchema('StoreTakingsClosed'),
  }),
]);
export type FinanceBusEvent = z.infer<typeof FinanceBusEventSchema>;

export type PostingOutcome =
  | { readonly status: 'posted'; readonly externalId: string; readonly internalId: string }
  | { readonly status: 'stale'; readonly externalId: string }
  | { readonly status: 'parked'; readonly code: string; readonly exceptionId: string };

/** Some orders of a recent payout are not booked yet (order capture still at work): try again later. */
export class PayoutAwaitingBookingsError extends HubError {
  readonly code = 'PAYOUT_AWAITING_BOOKINGS';
  readonly retryable = true;
}

export interface FinancePosterDeps {
  /** Upserts a journal entry by its external id (NetSuite: connectors/netsuite/journal.ts). */
  readonly postJournal: (journal: Journal, transactionId: string) => Promise<{ internalId: string }>;
  /** What the hub booked for these orders of a shop (the sync ledger's ERP totals), by order id. */
  readonly booked: (shop: string, orderIds: readonly string[]) => Promise<ReadonlyMap<string, BookedOrder>>;
  readonly postings: {
    get(externalId: string): Promise<FinancePosting | undefined>;
    record(posting: FinancePosting): Promise<boolean>;
  };
  readonly exceptions: ExceptionStore;
  readonly accounts: FinanceAccounts;
  /** How long after a payout's issue orders it pays may still be on their way to the ERP. */
  readonly bookingGraceMs: number;
  readonly log: LogSink;
  readonly telemetry: Telemetry;
  readonly now?: () => Date;
}

const describe = (c: PayoutComparison) => {
  const money = (amount: number) => toDecimalString({ amount, currency: c.currency });
  const orders = c.mismatches
    .map(
      (m) =>
        `order ${m.orderId} charged ${money(m.charged)}, booked ${m.booked === null ? 'nothing' : money(m.booked)}`,
    )
    .join('; ');
  return `differs from the orders the hub booked by ${c.currency} ${money(c.difference)}${orders ? ` (${orders})` : ''}${c.unassociated.length ? `; charges without an order: ${c.unassociated.join(', ')}` : ''}`;
};

/**
 * Posts one finance event to the ERP as a balanced journal entry, once per payout or store-day:
 * - a payout's charges are first compared with what the hub booked for their orders (the ledger): an
 *   unbalanced payout is parked (`PAYOUT_UNBALANCED`, with the difference) instead of posted — unless it is
 *   recent and only misses bookings, which are then waited for (retry);
 * - figures that do not add up are parked (`JOURNAL_UNBALANCED`); nothing unbalanced is ever sent;
 * - the entry is upserted by external id (one per payout, per store-day); a store-day collected earlier
 *   than what was posted is not written over the newer figures (`stale`).
 */
export async function postFinanceEvent(
  event: FinanceBusEvent,
  deps: FinancePosterDeps,
): Promise<PostingOutcome> {
  const { metadata } = event.detail;
  const park = async (code: string, reason: string, extra: Record<string, string>) => {
    const { exceptionId } = await deps.exceptions.park({
      kind: 'finance',
      inputId: metadata.idempotencyKey,
      at: metadata.occurredAt,
      code,
      reason,
      issues: [],
      transactionId: metadata.transactionId,
      attributes: { detailType: event['detail-type'], eventId: metadata.eventId, ...extra },
      payload: Buffer.from(JSON.stringify(event)),
    });
    deps.telemetry.count('FinanceParked');
    deps.log.warn('finance document parked', {
      code,
      reason,
      exceptionId,
      transactionId: metadata.transactionId,
    });
    return { status: 'parked' as const, code, exceptionId };
  };

  let journal: Journal;
  if (event['detail-type'] === 'PayoutReceived') {
    const payout: Payout = event.detail.data;
    const orderIds = [
      ...new Set(payout.transactions.flatMap((t) => (t.type === 'CHARGE' && t.orderId ? [t.orderId] : []))),
    ];
    const comparison = comparePayoutToBooked(payout, await deps.booked(payout.shop, orderIds));
    if (!comparison.balanced) {
      const onlyMissing =
        comparison.unassociated.length === 0 && comparison.mismatches.every((m) => m.booked === null);
      const age = (deps.now?.() ?? new Date()).getTime() - Date.parse(payout.issuedAt);
      if (onlyMissing && age < deps.bookingGraceMs) {
        throw new PayoutAwaitingBookingsError(
          `payout ${payout.payoutId}: ${comparison.mismatches.length} of its orders are not booked yet`,
        );
      }
      return park(
        'PAYOUT_UNBALANCED',
        `Shopify payout ${payout.payoutId} of ${payout.shop} ${describe(comparison)}`,
        {
          shop: payout.shop,
          payoutId: payout.payoutId,
          currency: payout.currency,
          differenceMinor: String(comparison.difference),
        },
      );
    }
    try {
      journal = payoutJournal(payout, deps.accounts.shopify);
    } catch (error) {
      if ((error as { code?: string }).code !== 'JOURNAL_UNBALANCED') throw error;
      return park('JOURNAL_UNBALANCED', (error as Error).message, {
        shop: payout.shop,
        payoutId: payout.payoutId,
      });
    }
  } else {
    const t = event.detail.data;
    try {
      journal = takingsJournal(t, deps.accounts.pos);
    } catch (error) {
      if ((error as { code?: string }).code !== 'JOURNAL_UNBALANCED') throw error;
      return park('JOURNAL_UNBALANCED', (error as Error).message, {
        locationId: t.locationId,
        businessDate: t.businessDate,
      });
    }
  }

  const collectedAt = metadata.receivedAt;
  const previous = await deps.postings.get(journal.externalId);
  if (previous && previous.collectedAt > collectedAt) {
    deps.telemetry.count('FinanceStaleIgnored');
    return { status: 'stale', externalId: journal.externalId };
  }
  const { internalId } = await deps.postJournal(journal, metadata.transactionId);
  await deps.postings.record({
    externalId: journal.externalId,
    erpInternalId: internalId,
    collectedAt,
    digest: canonicalDigest(journal),
    postedAt: (deps.now?.() ?? new Date()).toISOString(),
  });
  deps.telemetry.count(event['detail-type'] === 'PayoutReceived' ? 'PayoutPosted' : 'StoreTakingsPosted');
  deps.log.info('journal entry posted', {
    externalId: journal.externalId,
    internalId,
    transactionId: metadata.transactionId,
  });
  return { status: 'posted', externalId: journal.externalId, internalId };
}
