import * as z from 'zod';
import { SQUARE_API_VERSION } from '../connectors/square/api-version.ts';
import type { VariationInfo } from '../connectors/square/client.ts';
import { MappingError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { toUtc } from '../events/common.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import type { Order } from '../events/order.ts';
import type { Refund } from '../events/refund.ts';
import { orderExternalId, refundExternalId } from '../ports/erp.ts';
import { orderMovementId } from './projection.ts';

/**
 * POS (Square) inputs of the inventory projection:
 *
 * | Square | canonical event |
 * |---|---|
 * | `inventory.count.updated` (`data.object.inventory_counts[]`, state `IN_STOCK`) | `InventoryCounted` from `omnihub.pos` (`on_hand`, sequence = `calculated_at` in epoch ms): a channel observation |
 * | a completed sale (captured from its payment, shared/ingress/pos-capture.ts) | `InventoryAdjusted` `sale`, −units per SKU, movement id = {@link orderMovementId}(the cash sale's external id, SKU) |
 * | a completed refund of a sale (its return order) | `InventoryAdjusted` `return`, +units per SKU restocked, movement id `<cash refund external id>#<sku>` |
 *
 * The sale's movement id is the one the ERP change feed names in `books` when the cash sale it records
 * arrives (erp-change-feed.ts), so the pending sale leaves the projection exactly when the ERP's on hand
 * includes it. Square's own count of the sale is only an observation: the ERP stays the truth.
 *
 * Echoes: Square's `inventory.count.updated` carries no idempotency key or reference of the write that
 * caused it, so the hub's own `batch-create` comes back recognised by its value — the projection marks
 * an observation equal to the value last published as an echo (projection.ts), not a movement.
 */

/** One `InventoryCount` of `inventory.count.updated` (Square API 2025-08-20, `InventoryCount`). */
export const SquareInventoryCountSchema = z.object({
  catalog_object_id: z.string().min(1),
  catalog_object_type: z.string().optional(),
  state: z.string().min(1),
  location_id: z.string().min(1),
  /** A decimal string (Square quantities are strings with up to 5 decimals). */
  quantity: z.string().regex(/^-?\d+(\.\d+)?$/),
  calculated_at: z.string().min(1),
});
export type SquareInventoryCount = z.infer<typeof SquareInventoryCountSchema>;

export const SquareInventoryCountsSchema = z.array(SquareInventoryCountSchema);

/** Who delivered the input: the event's `origin` fields. */
export interface PosInventoryContext {
  readonly merchantId: string;
  readonly receivedAt: string;
  /** The Square event type (`inventory.count.updated`, `payment.updated`, …) or `pos.sweep`. */
  readonly topic: string;
  readonly deliveryId: string;
  readonly triggeredAt?: string;
}

const originOf = (ctx: PosInventoryContext, resourceId: string) => ({
  system: 'pos' as const,
  account: ctx.merchantId,
  topic: ctx.topic,
  apiVersion: SQUARE_API_VERSION,
  deliveryId: ctx.deliveryId,
  resourceId,
  ...(ctx.triggeredAt ? { triggeredAt: ctx.triggeredAt } : {}),
});

/**
 * A Square quantity as whole units. Square quantities are decimals (items sold by weight); the hub
 * tracks units, so a fractional quantity cannot be projected (a MappingError: parked, not rounded).
 */
function units(quantity: string, what: string): number {
  const value = Number(quantity);
  if (!Number.isInteger(value)) throw new MappingError(`${what}: quantity ${quantity} is not whole units`);
  return value;
}

/**
 * `inventory.count.updated` → one `InventoryCounted` per IN_STOCK count (other states — `SOLD`,
 * `WASTE`, … — are where units went, not what the store holds). `variations` resolves the catalog
 * object to its SKU; a variation Square does not know, or one without a SKU, gives a count with
 * `sku: null` (the projector parks it as NO_SKU, replayable once the catalogue is fixed).
 */
export function posCountEvents(
  counts: readonly SquareInventoryCount[],
  variations: ReadonlyMap<string, VariationInfo | null>,
  ctx: PosInventoryContext,
): CanonicalEvent<'InventoryCounted'>[] {
  const events: CanonicalEvent<'InventoryCounted'>[] = [];
  for (const count of counts) {
    if (count.state !== 'IN_STOCK') continue;
    const countedAt = toUtc(count.calculated_at);
    const sequence = Date.parse(countedAt);
    const quantity = units(count.quantity, `count of ${count.catalog_object_id} at ${count.location_id}`);
    const sku = variations.get(count.catalog_object_id)?.sku ?? null;
    const key = `pos:${ctx.merchantId}:count:${count.catalog_object_id}:${count.location_id}:${sequence}`;
    events.push(
      buildEvent(
        'InventoryCounted',
        EVENT_SOURCES.pos,
        {
          eventId: deterministicUuid('pos', ctx.merchantId, ctx.deliveryId, 'InventoryCounted', key),
          transactionId: deterministicUuid('pos', ctx.merchantId, ctx.deliveryId),
          idempotencyKey: key,
          occurredAt: countedAt,
          receivedAt: ctx.receivedAt,
          origin: originOf(ctx, count.catalog_object_id),
        },
        {
          item: { sku, posCatalogObjectId: count.catalog_object_id },
          location: { system: 'pos', id: count.location_id },
          quantityName: 'on_hand',
          quantity,
          sequence,
          countedAt,
        },
      ),
    );
  }
  return events;
}

/** Units per SKU of `lines` (lines without a SKU cannot be projected and are left out). */
function unitsBySku(lines: readonly { sku: string | null; quantity: number }[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of lines) {
    if (line.sku === null || line.quantity <= 0) continue;
    out.set(line.sku, (out.get(line.sku) ?? 0) + line.quantity);
  }
  return out;
}

/**
 * A completed POS sale → `InventoryAdjusted` (`sale`, −units) per SKU at the store that took it. The
 * movement id joins the sale to the ERP cash sale that books it (see the module doc); the same sale
 * captured again (another delivery, the sweep, a later version) gives the same ids, so it counts once.
 */
export function posSaleMovements(
  order: Order,
  occurredAt: string,
  ctx: PosInventoryContext,
  transactionId: string,
): CanonicalEvent<'InventoryAdjusted'>[] {
  if (order.source.system !== 'pos' || order.storeLocationId === null || order.status === 'cancelled')
    return [];
  const externalId = orderExternalId(order.source);
  const location = { system: 'pos' as const, id: order.storeLocationId };
  return [...unitsBySku(order.lines)].map(([sku, quantity]) => {
    const movementId = orderMovementId(externalId, sku);
    return buildEvent(
      'InventoryAdjusted',
      EVENT_SOURCES.pos,
      {
        eventId: deterministicUuid('pos', ctx.merchantId, 'InventoryAdjusted', movementId),
        transactionId,
        idempotencyKey: `pos:${ctx.merchantId}:movement:${movementId}`,
        occurredAt,
        receivedAt: ctx.receivedAt,
        origin: originOf(ctx, order.source.orderId),
      },
      { item: { sku }, location, delta: -quantity, movementId, reason: 'sale', occurredAt },
    );
  });
}

/**
 * A completed POS refund → `InventoryAdjusted` (`return`, +units) per SKU returned to stock, at the
 * location the lines name (else the sale's store). The projection holds a return as pending and leaves
 * it out of availability until the ERP books it (never publish stock the truth does not have yet).
 */
export function posReturnMovements(
  refund: Refund,
  storeLocationId: string | null,
  ctx: PosInventoryContext,
  transactionId: string,
): CanonicalEvent<'InventoryAdjusted'>[] {
  if (refund.source.system !== 'pos') return [];
  const externalId = refundExternalId(refund.source);
  const occurredAt = refund.processedAt ?? refund.createdAt;
  const byLocation = new Map<string, { sku: string | null; quantity: number }[]>();
  for (const line of refund.lines) {
    if (line.restockType === 'no_restock') continue;
    const location = line.locationId ?? storeLocationId;
    if (location === null) continue;
    byLocation.set(location, [...(byLocation.get(location) ?? []), line]);
  }
  const events: CanonicalEvent<'InventoryAdjusted'>[] = [];
  for (const [locationId, lines] of byLocation) {
    for (const [sku, quantity] of unitsBySku(lines)) {
      const movementId = `${externalId}#${sku}`;
      events.push(
        buildEvent(
          'InventoryAdjusted',
          EVENT_SOURCES.pos,
          {
            eventId: deterministicUuid('pos', ctx.merchantId, 'InventoryAdjusted', movementId, locationId),
            transactionId,
            idempotencyKey: `pos:${ctx.merchantId}:movement:${movementId}:${locationId}`,
            occurredAt,
            receivedAt: ctx.receivedAt,
            origin: originOf(ctx, refund.source.refundId),
          },
          {
            item: { sku },
            location: { system: 'pos', id: locationId },
            delta: quantity,
            movementId,
            reason: 'return',
            occurredAt,
          },
        ),
      );
    }
  }
  return events;
}
