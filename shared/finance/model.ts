import * as z from 'zod';
import { CurrencyCodeSchema } from '../events/money.ts';

/**
 * The financial documents the hub posts to the ERP, as the finance collector reads them from the vendors:
 * a Shopify Payments payout with its balance transactions, and a POS store's takings for one business day.
 * Every amount is integer minor units of the document's one `currency` (a payout has one currency; Square
 * locations have one). They are also the `detail.data` of `PayoutReceived` and `StoreTakingsClosed`.
 */

const minor = z.number().int().describe('integer minor units of the document currency');
const iso = z.iso.datetime({ offset: true });

/**
 * One Shopify Payments balance transaction of a payout (`ShopifyPaymentsBalanceTransaction`): `amount` is
 * signed (a charge positive, a refund negative), `fee` what Shopify kept, `net = amount − fee`
 * (https://shopify.dev/docs/api/admin-graphql/latest/objects/ShopifyPaymentsBalanceTransaction).
 */
export const PayoutTransactionSchema = z.object({
  id: z.string().min(1),
  /** `ShopifyPaymentsTransactionType`: CHARGE, REFUND, ADJUSTMENT, DISPUTE_WITHDRAWAL, … */
  type: z.string().min(1),
  amount: minor,
  fee: minor,
  net: minor,
  /** The legacy id of the order the transaction belongs to (`associatedOrder`), when there is one. */
  orderId: z.string().min(1).optional(),
  /** `sourceOrderTransactionId`: the order transaction (capture, refund) behind it. */
  sourceOrderTransactionId: z.string().min(1).optional(),
});
export type PayoutTransaction = z.infer<typeof PayoutTransactionSchema>;

export const PayoutSchema = z.object({
  /** The shop's myshopify domain. */
  shop: z.string().min(1),
  /** `legacyResourceId` of the payout (what Shopify's admin and the bank statement show). */
  payoutId: z.string().regex(/^\d+$/),
  issuedAt: iso,
  /** `ShopifyPaymentsPayoutStatus`; only PAID payouts are posted. */
  status: z.string().min(1),
  /** DEPOSIT (to the bank) or WITHDRAWAL (from it). */
  direction: z.enum(['DEPOSIT', 'WITHDRAWAL']),
  currency: CurrencyCodeSchema,
  /** Gross of the charges (`summary.chargesGross`). */
  gross: minor,
  /** Every fee: charges, refunds and adjustments (`summary.*Fee`). */
  fees: minor,
  /** Gross of the refunds, signed as Shopify reports it (negative). */
  refunds: minor,
  /** Gross of everything else (adjustments, disputes, reserves), signed. */
  adjustments: minor,
  /** What reached (DEPOSIT, positive) or left (WITHDRAWAL, negative) the bank account. */
  net: minor,
  transactions: z.array(PayoutTransactionSchema),
});
export type Payout = z.infer<typeof PayoutSchema>;

/**
 * A store's takings for one business day (midnight to midnight in the location's time zone), from Square's
 * payments and refunds at that location: card (and other electronic tenders Square settles to the bank),
 * cash, Square's processing fees, refunds by tender, and what is owed to the bank and the till.
 */
export const StoreTakingsSchema = z.object({
  merchantId: z.string().min(1),
  locationId: z.string().min(1),
  /** `YYYY-MM-DD` in the location's time zone. */
  businessDate: z.iso.date(),
  timeZone: z.string().min(1),
  /** The UTC window the day covers. */
  from: iso,
  until: iso,
  currency: CurrencyCodeSchema,
  card: minor,
  cash: minor,
  /** Square's processing fees (positive: kept by Square). */
  fees: minor,
  cardRefunds: minor,
  cashRefunds: minor,
  /** Card takings Square pays out: card − card refunds − fees. */
  bankNet: minor,
  /** Cash left in the till: cash − cash refunds. */
  cashNet: minor,
  payments: z.number().int().min(0),
  refundCount: z.number().int().min(0),
});
export type StoreTakings = z.infer<typeof StoreTakingsSchema>;

/** ERP external id of a payout's journal entry: one per shop and payout, whatever delivered it. */
export const payoutExternalId = (payout: Pick<Payout, 'shop' | 'payoutId'>) =>
  `shopify-payout-${payout.shop}-${payout.payoutId}`;

/** ERP external id of a store-day's journal entry. */
export const takingsExternalId = (t: Pick<StoreTakings, 'locationId' | 'businessDate'>) =>
  `pos-takings-${t.locationId}-${t.businessDate}`;
