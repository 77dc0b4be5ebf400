import { sumMoney } from '../../events/money.ts';
import type { Refund } from '../../events/refund.ts';
import type { Disposition, ReturnLine, ReturnRequested } from '../../events/return.ts';

/**
 * The hub's key of a return: `<system>-<account>-<source id>`. It names the workflow's execution
 * (Step Functions execution names are unique per state machine for 90 days, so a repeated trigger
 * starts nothing new), keys the ERP credit memo (`return-<returnId>`) and the stock movements.
 */
export function returnIdOf(system: 'shopify' | 'pos', account: string, sourceId: string): string {
  const id = `${system}-${account}-${sourceId}`;
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(id)) {
    throw new RangeError(
      `cannot build a return id from ${JSON.stringify(id)} (80 characters, [A-Za-z0-9._-])`,
    );
  }
  return id;
}

/**
 * A Shopify refund line's restock type → what happens to the unit. Shopify records the return's
 * disposition on the refund it creates: `return` (restocked at `location_id`), `no_restock` (the unit is
 * not put back: damaged or kept), `cancel` (unfulfilled units cancelled — not a return),
 * `legacy_restock` (pre-2019 restock). shopify.dev, REST Refund resource `refund_line_items.restock_type`.
 */
const DISPOSITION: Readonly<Record<Refund['lines'][number]['restockType'], Disposition | null>> = {
  return: 'restock',
  legacy_restock: 'restock',
  no_restock: 'damaged',
  cancel: null,
};

export type TriggerDecision =
  | { readonly kind: 'return'; readonly request: ReturnRequested }
  | { readonly kind: 'ignored'; readonly reason: string };

/**
 * A Shopify `RefundCreated` → the return it records, or why it is not one. A refund is a return when it
 * processes a Shopify return (`returnId`, refunds/create `return`) or restocks returned units
 * (`restock_type: return`); other refunds (cancellations, goodwill) are not. Shopify already did its
 * part (the return and the refund), so the workflow skips that step (`shopifyRefunded`).
 */
export function returnFromShopifyRefund(refund: Refund): TriggerDecision {
  if (refund.source.system !== 'shopify') {
    return { kind: 'ignored', reason: `refund ${refund.source.refundId} is not a Shopify refund` };
  }
  const viaReturn = (refund.returnId ?? null) !== null;
  // A refund of a Shopify return records the stock disposition on the return, not on the refund: its lines
  // are `no_restock`, with the location the units were restocked at (RESTOCKED disposition) or none
  // (not restocked: damaged, missing). Other refunds say it with their restock type.
  const dispositionOf = (line: Refund['lines'][number]): Disposition | null =>
    viaReturn && line.restockType === 'no_restock'
      ? line.locationId === null
        ? 'damaged'
        : 'restock'
      : DISPOSITION[line.restockType];
  const returned = refund.lines.filter((line) => line.quantity > 0 && dispositionOf(line) !== null);
  const isReturn = viaReturn || returned.some((line) => line.restockType === 'return');
  if (!isReturn || returned.length === 0) {
    return {
      kind: 'ignored',
      reason: `refund ${refund.source.refundId} returns no units (no Shopify return, no line restocked as returned)`,
    };
  }
  const lines: ReturnLine[] = returned.map((line) => ({
    lineId: line.lineId,
    orderLineId: line.orderLineId,
    sku: line.sku,
    quantity: line.quantity,
    subtotal: line.subtotal,
    tax: line.tax,
    disposition: dispositionOf(line) as Disposition,
  }));
  const locationId =
    returned.find((line) => dispositionOf(line) === 'restock' && line.locationId !== null)?.locationId ??
    null;
  const total = sumMoney(
    [...lines.flatMap((line) => [line.subtotal, line.tax]), refund.shipping],
    refund.currency,
  );
  return {
    kind: 'return',
    request: {
      returnId: returnIdOf('shopify', refund.source.account, refund.source.refundId),
      trigger: {
        system: 'shopify',
        account: refund.source.account,
        id: refund.source.refundId,
        shopifyReturnId: refund.returnId ?? null,
      },
      order: {
        system: 'shopify',
        account: refund.source.account,
        orderId: refund.source.orderId,
        name: null,
      },
      location: locationId === null ? null : { system: 'shopify', id: locationId },
      currency: refund.currency,
      lines,
      shipping: refund.shipping,
      total,
      shopifyRefunded: true,
      requestedAt: refund.createdAt,
    },
  };
}
