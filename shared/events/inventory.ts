import * as z from 'zod';
import { IdSchema, ItemRefSchema, LocationRefSchema, UtcTimestampSchema } from './common.ts';

/**
 * A relative stock movement (sale, return, receipt, adjustment). `movementId` is the source's own id
 * for the movement, so that the projector can apply each movement exactly once.
 */
export const InventoryAdjustedSchema = z.object({
  item: ItemRefSchema,
  location: LocationRefSchema,
  delta: z.number().int(),
  movementId: IdSchema,
  reason: z.enum(['sale', 'return', 'receipt', 'transfer', 'damage', 'correction', 'reservation', 'other']),
  occurredAt: UtcTimestampSchema,
});
export type InventoryAdjusted = z.infer<typeof InventoryAdjustedSchema>;

/**
 * An absolute quantity reported by a source system. `sequence` orders counts from one source for
 * one item×location (newer wins): a count older than the one already applied must be ignored.
 */
export const InventoryCountedSchema = z.object({
  item: ItemRefSchema,
  location: LocationRefSchema,
  quantityName: z.enum(['available', 'on_hand']),
  quantity: z.number().int().nullable().describe('null when the item is not tracked at this location'),
  sequence: z.number().int().nonnegative().describe('source ordering key (epoch ms of the source update)'),
  countedAt: UtcTimestampSchema,
  books: IdSchema.optional().describe(
    'movement id of the channel movement this count now includes (e.g. the POS sale a cash sale records), since 1.1',
  ),
});
export type InventoryCounted = z.infer<typeof InventoryCountedSchema>;
