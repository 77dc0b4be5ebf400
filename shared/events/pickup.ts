import * as z from 'zod';
import { IdSchema, UtcTimestampSchema } from './common.ts';

/**
 * The state of a pick-up order the hub created in the POS (BOPIS), as the POS reports it: Square's
 * `order.fulfillment.updated` of an order carrying the hub's `omnihub_origin` metadata. `origin` names
 * the online order (`shopify:<shop>:<orderId>`). No recipient data: ids and states only.
 */
export const PickupUpdatedSchema = z.object({
  origin: z.string().min(1).describe('the online order: <system>:<account>:<orderId>'),
  posOrderId: IdSchema,
  posLocationId: IdSchema,
  state: z
    .enum(['PROPOSED', 'RESERVED', 'PREPARED', 'COMPLETED', 'CANCELED', 'FAILED'])
    .describe("the PICKUP fulfilment's state (Square FulfillmentState)"),
  version: z.number().int().nonnegative().describe("the Square order's version"),
  updatedAt: UtcTimestampSchema,
});
export type PickupUpdated = z.infer<typeof PickupUpdatedSchema>;

/** A pick-up order ended without a collection; everything done for it was undone (BOPIS compensations). */
export const PickupCancelledSchema = z.object({
  origin: z.string().min(1),
  orderId: IdSchema,
  orderName: z.string().nullable(),
  reason: z.enum(['STOCK_UNAVAILABLE', 'WINDOW_EXPIRED', 'ORDER_CANCELLED', 'STEP_FAILED']),
});
export type PickupCancelled = z.infer<typeof PickupCancelledSchema>;
