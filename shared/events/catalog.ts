import * as z from 'zod';
import { PayoutSchema, StoreTakingsSchema } from '../finance/model.ts';
import {
  CustomerDataRequestedSchema,
  CustomerRedactionRequestedSchema,
  ShopRedactionRequestedSchema,
} from './compliance.ts';
import { EVENT_SOURCES, type EventMetadata, EventMetadataSchema, type EventSource } from './envelope.ts';
import { InventoryAdjustedSchema, InventoryCountedSchema } from './inventory.ts';
import { OrderSchema } from './order.ts';
import { PickupCancelledSchema, PickupUpdatedSchema } from './pickup.ts';
import { PriceChangedSchema, ProductSchema } from './product.ts';
import { RefundSchema } from './refund.ts';
import { ReturnCompletedSchema, ReturnRequestedSchema, StoreReturnRecordedSchema } from './return.ts';

interface EventDefinition<D extends z.ZodType> {
  /** major.minor: bump the major for any removed, renamed or retyped field (the contract test enforces it). */
  readonly version: string;
  readonly sources: readonly EventSource[];
  readonly description: string;
  readonly data: D;
}

const define = <D extends z.ZodType>(definition: EventDefinition<D>) => definition;

/**
 * Every canonical event the hub publishes: detail-type → schema version, sources and data schema.
 * This is the single place events are declared; docs/events/ is generated from it.
 */
export const EVENT_CATALOG = {
  OrderCreated: define({
    version: '1.0',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
    description: 'An order was placed online or at a POS.',
    data: OrderSchema,
  }),
  OrderUpdated: define({
    version: '1.0',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
    description:
      'An order changed (edit, payment, fulfilment). Carries the whole order; newer updatedAt wins.',
    data: OrderSchema,
  }),
  OrderCancelled: define({
    version: '1.0',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
    description: 'An order was cancelled.',
    data: OrderSchema,
  }),
  RefundCreated: define({
    version: '1.1',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
    description:
      'Money was refunded against an order, with restocked lines (1.1: `returnId`, the Shopify return it processes).',
    data: RefundSchema,
  }),
  ReturnRequested: define({
    version: '1.1',
    sources: [EVENT_SOURCES.hub],
    description:
      'A customer returns lines of an online order (in Shopify or at a store): starts the omnichannel-return workflow (1.1: `refundedBy`).',
    data: ReturnRequestedSchema,
  }),
  StoreReturnRecorded: define({
    version: '1.0',
    sources: [EVENT_SOURCES.pos],
    description:
      'Goods bought online were returned at a store and refunded at its register (a POS return naming the online order number).',
    data: StoreReturnRecordedSchema,
  }),
  ReturnCompleted: define({
    version: '1.0',
    sources: [EVENT_SOURCES.hub],
    description:
      'A return is refunded in Shopify, credited in the ERP (credit memo, tax reversed) and its stock dispositioned.',
    data: ReturnCompletedSchema,
  }),
  InventoryAdjusted: define({
    version: '1.0',
    sources: [EVENT_SOURCES.pos, EVENT_SOURCES.erp, EVENT_SOURCES.hub],
    description: 'A relative stock movement at a location (delta, identified by its movement id).',
    data: InventoryAdjustedSchema,
  }),
  InventoryCounted: define({
    version: '1.1',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos, EVENT_SOURCES.erp],
    description:
      'An absolute stock quantity at a location, ordered by the source sequence (1.1: `books`, the channel movement it includes).',
    data: InventoryCountedSchema,
  }),
  ProductChanged: define({
    version: '1.1',
    sources: [EVENT_SOURCES.shopify, EVENT_SOURCES.erp],
    description: 'A product or its variants changed (1.1: option names and variant option values).',
    data: ProductSchema,
  }),
  PriceChanged: define({
    version: '1.1',
    sources: [EVENT_SOURCES.erp, EVENT_SOURCES.hub],
    description:
      'A price (or a scheduled promotional price) for an item changed (1.1: `promotionId`, `cancelled`).',
    data: PriceChangedSchema,
  }),
  PayoutReceived: define({
    version: '1.0',
    sources: [EVENT_SOURCES.shopify],
    description:
      'A Shopify Payments payout was paid: gross, fees, refunds, adjustments and net with its balance transactions (integer minor units).',
    data: PayoutSchema,
  }),
  StoreTakingsClosed: define({
    version: '1.0',
    sources: [EVENT_SOURCES.pos],
    description:
      "A store's business day closed: card, cash, fees, refunds and nets from the POS payments (integer minor units).",
    data: StoreTakingsSchema,
  }),
  CustomerDataRequested: define({
    version: '2.0',
    sources: [EVENT_SOURCES.shopify],
    description:
      'Shopify compliance webhook customers/data_request: ids only (2.0 dropped the email and phone).',
    data: CustomerDataRequestedSchema,
  }),
  CustomerRedactionRequested: define({
    version: '2.0',
    sources: [EVENT_SOURCES.shopify],
    description: 'Shopify compliance webhook customers/redact: ids only (2.0 dropped the email and phone).',
    data: CustomerRedactionRequestedSchema,
  }),
  ShopRedactionRequested: define({
    version: '1.0',
    sources: [EVENT_SOURCES.shopify],
    description: 'Shopify compliance webhook shop/redact.',
    data: ShopRedactionRequestedSchema,
  }),
  PickupUpdated: define({
    version: '1.0',
    sources: [EVENT_SOURCES.pos],
    description:
      'The POS state of a pick-up order the hub created for an online order (BOPIS: PREPARED, COMPLETED, CANCELED).',
    data: PickupUpdatedSchema,
  }),
  PickupCancelled: define({
    version: '1.0',
    sources: [EVENT_SOURCES.hub],
    description:
      'A pick-up order ended uncollected (stock, window expired, cancelled, failure) and was undone.',
    data: PickupCancelledSchema,
  }),
} as const;

export type DetailType = keyof typeof EVENT_CATALOG;
export type EventData<T extends DetailType> = z.infer<(typeof EVENT_CATALOG)[T]['data']>;

/** The `detail` of a canonical event: `{ metadata, data }`. */
export interface EventDetail<T extends DetailType> {
  readonly metadata: EventMetadata;
  readonly data: EventData<T>;
}

/** A canonical event ready for PutEvents. */
export interface CanonicalEvent<T extends DetailType = DetailType> {
  readonly source: EventSource;
  readonly detailType: T;
  readonly detail: EventDetail<T>;
}

/** The zod schema of the whole detail of one detail-type. */
export function detailSchema<T extends DetailType>(detailType: T) {
  const data = EVENT_CATALOG[detailType].data as (typeof EVENT_CATALOG)[T]['data'];
  return z.object({ metadata: EventMetadataSchema, data });
}

/**
 * Builds a canonical event and validates it against its schema, so that nothing malformed ever
 * reaches the bus. The schema version comes from the catalog, never from the caller.
 */
export function buildEvent<T extends DetailType>(
  detailType: T,
  source: EventSource,
  metadata: Omit<EventMetadata, 'schemaVersion'>,
  data: EventData<T>,
): CanonicalEvent<T> {
  const definition = EVENT_CATALOG[detailType];
  if (!definition.sources.includes(source)) {
    throw new Error(`${detailType} is not declared for source ${source}`);
  }
  const detail = detailSchema(detailType).parse({
    metadata: { ...metadata, schemaVersion: definition.version },
    data,
  }) as EventDetail<T>;
  return { source, detailType, detail };
}
