import type { Payout } from './model.ts';

/** What the hub booked in the ERP for one order: its ERP total, or nothing (never booked). */
export type BookedOrder = { readonly total: number; readonly currency: string } | undefined;

/** One order of a payout whose charges differ from what the hub booked for it. */
export interface OrderDifference {
  readonly orderId: string;
  /** Sum of the payout's charges for the order (minor units). */
  readonly charged: number;
  /** The ERP total the hub booked, or null when the hub booked no such order. */
  readonly booked: number | null;
  /** charged − booked (the whole charge for an order the hub never booked). */
  readonly difference: number;
}

export interface PayoutComparison {
  readonly balanced: boolean;
  /** Σ of the per-order differences, minor units of the payout currency (charged − booked). */
  readonly difference: number;
  readonly currency: string;
  readonly orders: number;
  readonly mismatches: readonly OrderDifference[];
  /** Charges with no associated order (they cannot be matched to a booking). */
  readonly unassociated: readonly string[];
}

/**
 * Compares a payout's charges with the orders the hub booked (the sync ledger's ERP totals), per order:
 * the charges of an order in the payout must add up to the total the hub booked for it, in the payout's
 * currency. An order the hub never booked, a booked total that differs, a booking in another currency or
 * a charge without an order makes the payout unbalanced, with the difference. Pure: the finance poster
 * parks what does not balance; the reconciler can run the same comparison over any payout.
 *
 * Assumes each order is captured in full by Shopify Payments within one payout (the sandbox's and most
 * shops' case); an order paid partly by gift card or captured across payouts shows as a difference.
 */
export function comparePayoutToBooked(
  payout: Pick<Payout, 'currency' | 'transactions'>,
  booked: ReadonlyMap<string, BookedOrder>,
): PayoutComparison {
  const charged = new Map<string, number>();
  const unassociated: string[] = [];
  for (const t of payout.transactions) {
    if (t.type !== 'CHARGE') continue;
    if (t.orderId === undefined) unassociated.push(t.id);
    else charged.set(t.orderId, (charged.get(t.orderId) ?? 0) + t.amount);
  }
  const mismatches: OrderDifference[] = [];
  for (const [orderId, amount] of [...charged].sort(([a], [b]) => a.localeCompare(b))) {
    const entry = booked.get(orderId);
    const total = entry && entry.currency === payout.currency ? entry.total : null;
    if (total !== amount)
      mismatches.push({ orderId, charged: amount, booked: total, difference: amount - (total ?? 0) });
  }
  const difference = mismatches.reduce((sum, m) => sum + m.difference, 0);
  return {
    balanced: mismatches.length === 0 && unassociated.length === 0,
    difference,
    currency: payout.currency,
    orders: charged.size,
    mismatches,
    unassociated,
  };
}
