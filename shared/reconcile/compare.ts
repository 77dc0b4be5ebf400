import type { Money } from '../events/money.ts';
import { availableFor, type InventoryPolicy } from '../inventory/policy.ts';
import { orderExternalId, refundExternalId } from '../ports/erp.ts';

/**
 * The reconciler's comparison, pure: what the channels (Shopify, the POS) hold for a time window against
 * what the ERP booked and what the inventory projection says the channels should show. Every input is
 * read by `sources.ts`; nothing here calls a system, so every rule is unit-tested on plain values.
 *
 * Orders: every channel order in the window must have its ERP document (external id
 * `<system>-<account>-<orderId>`, {@link orderExternalId}) with the order's total as placed (the ERP total
 * is read back and checked to the cent at booking, see shared/flows/order-sync.ts) and the same status —
 * a cancelled channel order is a closed ERP sales order. Refunds: every channel refund the hub books must
 * have its ERP document ({@link refundExternalId}). Inventory: per SKU × location, what each channel shows
 * must be what the policy computes from the projection ({@link availableFor}: online `max(0, on hand −
 * committed − reserved − safety)`, POS the on hand).
 */

export const DISCREPANCY_KINDS = [
  'order-missing-in-erp',
  'order-total-mismatch',
  'order-status-mismatch',
  'refund-missing-in-erp',
  'availability-mismatch',
  'price-mismatch',
] as const;
export type DiscrepancyKind = (typeof DISCREPANCY_KINDS)[number];

/** Where a discrepancy was seen: the system whose record has no (or a different) counterpart. */
export type ReconciledSystem = 'shopify' | 'pos';

export interface Discrepancy {
  readonly kind: DiscrepancyKind;
  /** The system the record comes from (the channel). */
  readonly system: ReconciledSystem;
  /** The channel's id: an order id, a refund id, `<sku>@<location>` for availability, `<sku>@<shop>` for prices. */
  readonly id: string;
  /** What an operator reads: the record, what was expected and what was found. */
  readonly detail: string;
  /** The ERP external id the record should have. */
  readonly externalId?: string;
  readonly name?: string;
  readonly sku?: string;
  readonly location?: string;
  readonly expected?: string | number;
  readonly actual?: string | number | null;
}

/** A channel order as the reconciler reads it (Shopify GraphQL or Square SearchOrders). */
export interface ChannelOrder {
  readonly system: ReconciledSystem;
  /** Shop domain or Square merchant id (the external id's account part). */
  readonly account: string;
  readonly orderId: string;
  /** Shopify's order name (`#1001`), for people. */
  readonly name?: string;
  /** Total as placed, in minor units. */
  readonly total: Money;
  readonly status: 'open' | 'cancelled';
  /** Refunds of this order that the hub books in the ERP (POS refunds; online ones go to returns). */
  readonly refundIds: readonly string[];
  /** A POS return order: booked through its refunds only, it has no order document of its own. */
  readonly returnOnly?: boolean;
}

/** The ERP document of an order or refund, from SuiteQL's `transaction` table. */
export interface ErpDocument {
  readonly externalId: string;
  readonly recordType: string;
  /** Total in minor units of the order's currency (undefined when the ERP has none). */
  readonly total?: number;
  /** `closed` when every line is closed (the hub cancels a sales order that way). */
  readonly status: 'open' | 'closed';
}

const money = (amount: number, currency: string) => `${currency} ${(amount / 100).toFixed(2)}`;

export function compareOrders(
  orders: readonly ChannelOrder[],
  erp: ReadonlyMap<string, ErpDocument>,
): Discrepancy[] {
  const out: Discrepancy[] = [];
  for (const order of orders) {
    const externalId = orderExternalId({
      system: order.system,
      account: order.account,
      orderId: order.orderId,
    });
    const label = order.name ? `${order.name} (${order.orderId})` : order.orderId;
    const base = {
      system: order.system,
      id: order.orderId,
      externalId,
      ...(order.name ? { name: order.name } : {}),
    };
    const document = erp.get(externalId);
    if (order.returnOnly) {
      // nothing to compare for the order itself
    } else if (!document) {
      out.push({
        ...base,
        kind: 'order-missing-in-erp',
        detail: `${order.system} order ${label} has no ERP document ${externalId}`,
      });
    } else {
      if (document.total !== undefined && document.total !== order.total.amount) {
        out.push({
          ...base,
          kind: 'order-total-mismatch',
          detail: `${order.system} order ${label} totals ${money(order.total.amount, order.total.currency)}, the ERP ${document.recordType} ${externalId} ${money(document.total, order.total.currency)}`,
          expected: order.total.amount,
          actual: document.total,
        });
      }
      const expected = order.status === 'cancelled' ? 'closed' : 'open';
      // A cash sale has no open/closed state to compare: a POS order is booked once completed.
      if (document.recordType === 'salesOrder' && document.status !== expected) {
        out.push({
          ...base,
          kind: 'order-status-mismatch',
          detail: `${order.system} order ${label} is ${order.status}, the ERP ${document.recordType} ${externalId} is ${document.status}`,
          expected,
          actual: document.status,
        });
      }
    }
    for (const refundId of order.refundIds) {
      const refundExternal = refundExternalId({ system: order.system, account: order.account, refundId });
      if (!erp.has(refundExternal)) {
        out.push({
          kind: 'refund-missing-in-erp',
          system: order.system,
          id: refundId,
          externalId: refundExternal,
          detail: `${order.system} refund ${refundId} of order ${label} has no ERP document ${refundExternal}`,
        });
      }
    }
  }
  return out;
}

/** One SKU × hub location of the projection, with what each channel shows (null: not read / not there). */
export interface InventoryObservation {
  readonly sku: string;
  readonly location: string;
  readonly onHand: number;
  readonly committed: number;
  readonly reserved: number;
  readonly category?: string;
  /** Shopify's `available` at the location, when the position is published online and was read. */
  readonly shopify?: number | null;
  /** Square's count at the location, when read. */
  readonly pos?: number | null;
}

export function compareAvailability(
  policy: InventoryPolicy,
  positions: readonly InventoryObservation[],
): Discrepancy[] {
  const out: Discrepancy[] = [];
  for (const position of positions) {
    const item = {
      sku: position.sku,
      location: position.location,
      ...(position.category ? { category: position.category } : {}),
    };
    for (const [system, channel, actual] of [
      ['shopify', 'online', position.shopify],
      ['pos', 'pos', position.pos],
    ] as const) {
      if (actual === undefined) continue;
      const expected = availableFor(policy, channel, item, position);
      if (expected === null || expected === actual) continue;
      out.push({
        kind: 'availability-mismatch',
        system,
        id: `${position.sku}@${position.location}`,
        sku: position.sku,
        location: position.location,
        expected,
        actual,
        detail: `${system} shows ${actual ?? 'nothing'} of ${position.sku} at ${position.location}; the projection computes ${expected} (on hand ${position.onHand}, committed ${position.committed}, reserved ${position.reserved})`,
      });
    }
  }
  return out;
}

/** Per kind, how many discrepancies (every kind present, zero included). */
export function countByKind(discrepancies: readonly Discrepancy[]): Record<DiscrepancyKind, number> {
  const counts = Object.fromEntries(DISCREPANCY_KINDS.map((kind) => [kind, 0])) as Record<
    DiscrepancyKind,
    number
  >;
  for (const d of discrepancies) counts[d.kind] += 1;
  return counts;
}
