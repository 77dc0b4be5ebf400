import * as z from 'zod';

/** UTC ISO-8601 timestamp with a `Z` suffix — the only time format on the bus. */
export const UtcTimestampSchema = z.iso
  .datetime({ precision: 3 })
  .describe('UTC ISO-8601 timestamp, e.g. 2026-11-27T17:00:00.000Z');

/** Identifiers are strings everywhere: vendor ids exceed 2^53 and must never pass through a JS number. */
export const IdSchema = z.string().min(1);

/** Systems the hub integrates. */
export const SystemSchema = z.enum(['shopify', 'pos', 'erp', 'hub']);
export type System = z.infer<typeof SystemSchema>;

/**
 * Normalises any ISO-8601 timestamp (Shopify sends local offsets such as `-05:00`) to UTC with
 * millisecond precision. Throws on an unparseable value so that mappers fail loudly.
 */
export function toUtc(value: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`not an ISO-8601 timestamp: ${value}`);
  return new Date(ms).toISOString();
}

/**
 * Reference to a sellable item as known by each system. The SKU is the hub's join key; vendor ids are
 * kept so that consumers can resolve an item when the source did not send a SKU (e.g. Shopify's
 * inventory_levels/update carries only the inventory item id).
 */
export const ItemRefSchema = z
  .object({
    sku: z.string().min(1).nullable(),
    shopifyVariantId: IdSchema.optional(),
    shopifyInventoryItemId: IdSchema.optional(),
    shopifyProductId: IdSchema.optional(),
    posCatalogObjectId: IdSchema.optional(),
    erpItemId: IdSchema.optional(),
  })
  .describe('An item as each system knows it; sku is null when the source did not send one');
export type ItemRef = z.infer<typeof ItemRefSchema>;

/** A location (warehouse or store) in the namespace of the system that reported it. */
export const LocationRefSchema = z.object({
  system: SystemSchema,
  id: IdSchema,
});
export type LocationRef = z.infer<typeof LocationRefSchema>;
