import type { EventDetail } from '../events/catalog.ts';
import type { LocationRef } from '../events/common.ts';
import type { Applied, ProjectionInput } from './projection.ts';

/**
 * The inventory projector's logic: canonical inventory events → projection inputs → the projection,
 * and which SKU × locations must be published afterwards. Handler-free: the repository, the location
 * lookup and the publish request are passed in.
 *
 * | event | projection input |
 * |---|---|
 * | `InventoryCounted` from the ERP (`on_hand`) | ERP count (sequence = change-feed id, `books`) |
 * | `InventoryCounted` from Shopify (`available`) or the POS | channel observation (echo recognised) |
 * | `InventoryAdjusted` from the POS or the hub | channel movement (pending until the ERP books it); `reservation` → reserved |
 * | `InventoryAdjusted` from the ERP | refused: the ERP sends absolute counts with a sequence (a delta without one cannot be ordered against them) |
 *
 * Locations are the hub's location keys: the ERP location id; a Shopify or POS location is translated
 * through the location mappings. An event without a SKU or with an unmapped location cannot be
 * projected: it is returned as `parked` with its reason (the caller parks it for a replay).
 */

export type InventoryEvent =
  | { readonly detailType: 'InventoryCounted'; readonly detail: EventDetail<'InventoryCounted'> }
  | { readonly detailType: 'InventoryAdjusted'; readonly detail: EventDetail<'InventoryAdjusted'> };

export interface PositionRef {
  readonly sku: string;
  readonly location: string;
}

export interface ProjectorDeps {
  /** `sourceAt`: the event's `occurredAt` (epoch ms), the start of the sync lag. */
  readonly apply: (key: PositionRef, input: ProjectionInput, sourceAt?: number) => Promise<Applied>;
  /** A source location → the hub location (ERP location id); undefined when not mapped. */
  readonly hubLocation: (location: LocationRef) => Promise<string | undefined>;
  /**
   * The SKU of a Shopify inventory item (`inventory_levels/update` names the item, not the SKU);
   * undefined when the hub has never published that item (such events are counted as unmanaged).
   */
  readonly skuOfShopifyItem?: (inventoryItemId: string) => Promise<string | undefined>;
}

/** Why an event cannot be projected as it is (park it; replay after the fix). */
export interface Parked {
  readonly eventId: string;
  readonly code: 'NO_SKU' | 'UNKNOWN_MAPPING' | 'UNSUPPORTED';
  readonly reason: string;
}

export interface ProjectorReport {
  readonly outcomes: Record<Applied['outcome'], number>;
  /** SKU × locations whose availability may have changed, or whose channel diverged: publish them. */
  readonly publish: PositionRef[];
  readonly parked: Parked[];
  /**
   * Shopify levels of items the hub has never published (`inventory_levels/update` for stock the hub does
   * not manage yet): left alone, not parked — the publisher reads a level's current quantity before its
   * first write to it anyway, so nothing the hub needs is lost by not projecting these.
   */
  readonly unmanaged: number;
}

/** The projection input of an event (its location still in the source's namespace), or why not. */
export function inputOf(
  event: InventoryEvent,
): { readonly sku: string; readonly location: LocationRef; readonly input: ProjectionInput } | Parked {
  const { data, metadata } = event.detail;
  const sku = data.item.sku;
  if (sku === null)
    return {
      eventId: metadata.eventId,
      code: 'NO_SKU',
      reason: data.item.shopifyInventoryItemId
        ? `Shopify inventory item ${data.item.shopifyInventoryItemId} is not one the hub has published (no SKU known for it)`
        : 'the source sent no SKU for this item',
    };
  const system = data.location.system;
  if (event.detailType === 'InventoryCounted') {
    const counted = event.detail.data;
    if (system === 'erp') {
      if (counted.quantityName !== 'on_hand' || counted.quantity === null)
        return {
          eventId: metadata.eventId,
          code: 'UNSUPPORTED',
          reason: `an ERP count must be an on_hand quantity (got ${counted.quantityName} ${counted.quantity})`,
        };
      return {
        sku,
        location: data.location,
        input: {
          kind: 'erp-count',
          sequence: counted.sequence,
          quantity: counted.quantity,
          ...(counted.books ? { books: counted.books } : {}),
        },
      };
    }
    if (system === 'shopify' || system === 'pos')
      return {
        sku,
        location: data.location,
        input: {
          kind: 'observation',
          channel: system,
          sequence: counted.sequence,
          quantity: counted.quantity,
        },
      };
    return { eventId: metadata.eventId, code: 'UNSUPPORTED', reason: `no counts from ${system}` };
  }
  const adjusted = event.detail.data;
  if (system === 'erp')
    return {
      eventId: metadata.eventId,
      code: 'UNSUPPORTED',
      reason: 'ERP stock changes come as counts with the change-feed sequence, not as deltas',
    };
  if (adjusted.reason === 'reservation')
    return {
      sku,
      location: data.location,
      input: { kind: 'reservation', movementId: adjusted.movementId, delta: adjusted.delta },
    };
  return {
    sku,
    location: data.location,
    input: {
      kind: 'movement',
      source: system === 'shopify' ? 'shopify' : system === 'pos' ? 'pos' : 'hub',
      movementId: adjusted.movementId,
      delta: adjusted.delta,
    },
  };
}

/**
 * The event with its SKU resolved from the Shopify inventory item it names, when it has none. An item
 * the hub never published stays without one (counted as unmanaged and left alone: the hub manages only
 * levels it publishes, and reads a level before its first write to it).
 */
async function withSku(event: InventoryEvent, deps: ProjectorDeps): Promise<InventoryEvent> {
  const item = event.detail.data.item;
  if (item.sku !== null || !item.shopifyInventoryItemId || !deps.skuOfShopifyItem) return event;
  const sku = await deps.skuOfShopifyItem(item.shopifyInventoryItemId);
  if (sku === undefined) return event;
  return {
    ...event,
    detail: { ...event.detail, data: { ...event.detail.data, item: { ...item, sku } } },
  } as InventoryEvent;
}

/** A Shopify order event (OrderCreated, OrderUpdated — fulfilments show there —, OrderCancelled). */
export interface ShopifyOrderEvent {
  readonly detailType: 'OrderCreated' | 'OrderUpdated' | 'OrderCancelled';
  readonly detail: EventDetail<'OrderCreated'>;
}

export interface CommittedDeps {
  readonly apply: ProjectorDeps['apply'];
  /** The SKU's positions where Shopify's committed was last seen above 0. */
  readonly withCommitted: (sku: string) => Promise<readonly PositionRef[]>;
}

/**
 * Committed stock from online orders. Shopify computes `committed` itself (units of open orders at the
 * location their fulfilment order is assigned to); the hub never derives it from orders — it would
 * subtract twice — it re-reads it. A new order or a restocking cancellation changes `available` too, so
 * its `inventory_levels/update` already makes the level's base unknown; a **fulfilment** moves units out
 * of `committed` and `on_hand` and leaves `available` alone (no `inventory_levels/update`), so the hub's
 * `committed` stays high and, once the ERP books the shipment, its target would subtract the shipped units
 * twice. So every Shopify order event marks the order's SKUs at the locations where the hub last saw
 * Shopify commit units (the event names no location) as changed on Shopify's side — a Shopify
 * observation with no quantity, sequence = the order's `updatedAt` — and the publisher re-reads them
 * (available and committed) before any write, without waiting for a compare-and-set conflict.
 */
export async function refreshCommitted(
  event: ShopifyOrderEvent,
  deps: CommittedDeps,
): Promise<{ readonly publish: PositionRef[] }> {
  const order = event.detail.data;
  const sequence = Date.parse(order.updatedAt);
  const skus = [...new Set(order.lines.map((l) => l.sku).filter((sku): sku is string => sku !== null))];
  const publish: PositionRef[] = [];
  for (const sku of skus) {
    for (const key of await deps.withCommitted(sku)) {
      const applied = await deps.apply(
        { sku: key.sku, location: key.location },
        { kind: 'observation', channel: 'shopify', sequence, quantity: null },
      );
      if (PUBLISH_ON.has(applied.outcome)) publish.push({ sku: key.sku, location: key.location });
    }
  }
  return { publish };
}

/** Which outcomes change what a channel should show (and so must be published). */
const PUBLISH_ON: ReadonlySet<Applied['outcome']> = new Set(['applied', 'observed']);

/**
 * Applies `events` in order (the caller groups a batch by position if it wants them in parallel) and
 * returns the distinct positions to publish.
 */
export async function projectInventoryEvents(
  events: readonly InventoryEvent[],
  deps: ProjectorDeps,
): Promise<ProjectorReport> {
  const outcomes: Record<Applied['outcome'], number> = {
    applied: 0,
    observed: 0,
    echo: 0,
    duplicate: 0,
    stale: 0,
    included: 0,
  };
  const publish = new Map<string, PositionRef>();
  const parked: Parked[] = [];
  let unmanaged = 0;
  for (const original of events) {
    const event = await withSku(original, deps);
    if (event.detail.data.item.sku === null && event.detail.data.item.shopifyInventoryItemId) {
      unmanaged += 1;
      continue;
    }
    const mapped = inputOf(event);
    if ('code' in mapped) {
      parked.push(mapped);
      continue;
    }
    const location =
      mapped.location.system === 'erp' ? mapped.location.id : await deps.hubLocation(mapped.location);
    if (location === undefined) {
      parked.push({
        eventId: event.detail.metadata.eventId,
        code: 'UNKNOWN_MAPPING',
        reason: `no ERP location for ${mapped.location.system} location ${mapped.location.id}`,
      });
      continue;
    }
    const key = { sku: mapped.sku, location };
    const sourceAt = Date.parse(event.detail.metadata.occurredAt);
    const applied = await deps.apply(key, mapped.input, Number.isNaN(sourceAt) ? undefined : sourceAt);
    outcomes[applied.outcome] += 1;
    if (PUBLISH_ON.has(applied.outcome)) publish.set(`${key.sku}|${key.location}`, key);
  }
  return { outcomes, publish: [...publish.values()], parked, unmanaged };
}
