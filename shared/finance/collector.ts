import type { EventPublisher } from '../bus/publisher.ts';
import { PosUnavailableError } from '../connectors/square/errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { ShopifyGraphql } from '../inventory/shopify-publisher.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { canonicalDigest } from './digest.ts';
import type { Payout, StoreTakings } from './model.ts';
import { readPaidPayouts } from './shopify-payouts.ts';
import {
  businessDayWindow,
  closedBusinessDays,
  type SquarePayment,
  type SquarePaymentRefund,
  SquarePaymentRefundSchema,
  SquarePaymentSchema,
  summarizeTakings,
} from './takings.ts';

/** The Square reads the collector makes (SquareClient). */
export interface FinanceSquareSource {
  listLocationZones(): Promise<
    readonly {
      id: string;
      merchant_id?: string | null;
      status?: string | null;
      timezone?: string | null;
      currency?: string | null;
    }[]
  >;
  listPayments(query: Readonly<Record<string, string>>): Promise<{ payments: unknown[]; cursor?: string }>;
  listPaymentRefunds(
    query: Readonly<Record<string, string>>,
  ): Promise<{ refunds: unknown[]; cursor?: string }>;
  retrievePayment(paymentId: string): Promise<unknown>;
}

export interface FinanceCollectorDeps {
  readonly shops: readonly { readonly domain: string; readonly graphql: ShopifyGraphql }[];
  readonly square: FinanceSquareSource;
  readonly publisher: EventPublisher;
  readonly log: LogSink;
  readonly telemetry: Telemetry;
  /** How far back payouts are read (by issue date). */
  readonly payoutLookbackDays: number;
  /** How many closed business days of each store are (re)computed. */
  readonly takingsLookbackDays: number;
  /** Minutes after local midnight before a day counts as closed (late card completions, index lag). */
  readonly closeGraceMinutes: number;
  /** Merchants this environment serves; another merchant's token is refused (no takings). */
  readonly merchants?: ReadonlySet<string>;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface CollectSummary {
  readonly payouts: number;
  readonly takings: number;
  readonly skipped: readonly string[];
}

/** `PayoutReceived`: one business key per payout and content (a payout never changes once PAID). */
export function payoutEvent(payout: Payout, receivedAt: string): CanonicalEvent<'PayoutReceived'> {
  const digest = canonicalDigest(payout);
  return buildEvent(
    'PayoutReceived',
    EVENT_SOURCES.shopify,
    {
      eventId: deterministicUuid('PayoutReceived', payout.shop, payout.payoutId, digest),
      transactionId: `payout-${payout.shop}-${payout.payoutId}`,
      idempotencyKey: `payout#${payout.shop}#${payout.payoutId}#${digest}`,
      occurredAt: new Date(payout.issuedAt).toISOString(),
      receivedAt,
      origin: { system: 'shopify', account: payout.shop, resourceId: payout.payoutId },
    },
    payout,
  );
}

/** `StoreTakingsClosed`: one business key per store-day and content (a late refund re-posts the day). */
export function takingsEvent(t: StoreTakings, receivedAt: string): CanonicalEvent<'StoreTakingsClosed'> {
  const digest = canonicalDigest(t);
  return buildEvent(
    'StoreTakingsClosed',
    EVENT_SOURCES.pos,
    {
      eventId: deterministicUuid('StoreTakingsClosed', t.locationId, t.businessDate, digest),
      transactionId: `takings-${t.locationId}-${t.businessDate}`,
      idempotencyKey: `takings#${t.locationId}#${t.businessDate}#${digest}`,
      occurredAt: t.until.replace(/\.\d+Z$/, '.000Z'),
      receivedAt,
      origin: { system: 'pos', account: t.merchantId, resourceId: `${t.locationId}#${t.businessDate}` },
    },
    t,
  );
}

/**
 * The scheduled finance collector: Shopify Payments payouts (PAID, issued in the lookback) of every shop,
 * and the takings of every active Square location for its closed business days in the lookback, published
 * as `PayoutReceived` and `StoreTakingsClosed`. Every run republishes what is in its window with
 * deterministic ids and business keys: the poster applies each payout and store-day once per content (its
 * idempotency) and the ERP write is an upsert by external id, so a run that failed half way is simply
 * covered by the next. A shop or store that cannot be read is skipped and logged; the others go on.
 */
export async function collectFinance(deps: FinanceCollectorDeps): Promise<CollectSummary> {
  const now = deps.now?.() ?? new Date();
  const receivedAt = now.toISOString();
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const skipped: string[] = [];
  let payouts = 0;
  let takings = 0;
  const publish = async (event: CanonicalEvent) => {
    // PutEvents may refuse an entry (throttling, InternalFailure): the same event again, with backoff.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await deps.publisher.publish([event]);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(200 * 2 ** attempt);
      }
    }
  };

  const since = new Date(now.getTime() - deps.payoutLookbackDays * 86_400_000);
  for (const shop of deps.shops) {
    try {
      for (const payout of await readPaidPayouts(
        { shop: shop.domain, graphql: shop.graphql, sleep },
        since,
      )) {
        await publish(payoutEvent(payout, receivedAt));
        payouts += 1;
      }
    } catch (error) {
      skipped.push(`shopify ${shop.domain}: ${(error as Error).message}`);
      deps.telemetry.count('FinanceShopSkipped');
      deps.log.error('payouts of a shop could not be read', {
        shop: shop.domain,
        error: (error as Error).message,
      });
    }
  }

  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof PosUnavailableError) || attempt >= 5) throw error;
        deps.log.warn('Square call failed; backing off', { what, attempt });
        await sleep(500 * 2 ** (attempt - 1) * (0.5 + Math.random()));
      }
    }
  };
  const locations = (await call('ListLocations', () => deps.square.listLocationZones())).filter(
    (l) => !l.status || l.status === 'ACTIVE',
  );
  for (const location of locations) {
    const merchantId = location.merchant_id ?? '';
    if (deps.merchants && !deps.merchants.has(merchantId)) {
      skipped.push(`pos ${location.id}: merchant ${merchantId} is not served by this environment`);
      continue;
    }
    const timeZone = location.timezone ?? 'UTC';
    const currency = location.currency ?? 'USD';
    for (const businessDate of closedBusinessDays(
      now,
      timeZone,
      deps.takingsLookbackDays,
      deps.closeGraceMinutes,
    )) {
      try {
        const { from, until } = businessDayWindow(businessDate, timeZone);
        const window = { location_id: location.id, begin_time: from, end_time: until, sort_order: 'ASC' };
        const payments: SquarePayment[] = [];
        let cursor: string | undefined;
        do {
          const page = await call('ListPayments', () =>
            deps.square.listPayments({ ...window, limit: '100', ...(cursor ? { cursor } : {}) }),
          );
          payments.push(...page.payments.map((p) => SquarePaymentSchema.parse(p)));
          cursor = page.cursor;
        } while (cursor);
        const refunds: SquarePaymentRefund[] = [];
        do {
          const page = await call('ListPaymentRefunds', () =>
            deps.square.listPaymentRefunds({ ...window, limit: '100', ...(cursor ? { cursor } : {}) }),
          );
          refunds.push(...page.refunds.map((r) => SquarePaymentRefundSchema.parse(r)));
          cursor = page.cursor;
        } while (cursor);
        // A refund of an earlier day's payment: the tender it went back to is that payment's.
        const known = new Set(payments.map((p) => p.id));
        const refundedPayments = new Map<string, string>();
        for (const id of new Set(
          refunds.flatMap((r) => (r.payment_id && !known.has(r.payment_id) ? [r.payment_id] : [])),
        )) {
          const payment = SquarePaymentSchema.parse(
            await call('GetPayment', () => deps.square.retrievePayment(id)),
          );
          refundedPayments.set(id, payment.source_type ?? 'CARD');
        }
        const day = summarizeTakings({
          merchantId,
          locationId: location.id,
          businessDate,
          timeZone,
          currency,
          payments,
          refunds,
          refundedPayments,
        });
        if (day.payments === 0 && day.refundCount === 0) continue;
        await publish(takingsEvent(day, receivedAt));
        takings += 1;
      } catch (error) {
        skipped.push(`pos ${location.id} ${businessDate}: ${(error as Error).message}`);
        deps.telemetry.count('FinanceStoreDaySkipped');
        deps.log.error('takings of a store-day could not be read', {
          locationId: location.id,
          businessDate,
          error: (error as Error).message,
        });
      }
    }
  }
  deps.log.info('finance collected', { payouts, takings, skipped: skipped.length });
  return { payouts, takings, skipped };
}
