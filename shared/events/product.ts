import * as z from 'zod';
import { IdSchema, ItemRefSchema, UtcTimestampSchema } from './common.ts';
import { MoneySchema } from './money.ts';

export const VariantSchema = z.object({
  item: ItemRefSchema,
  title: z.string(),
  /** Option values in the product's option order (1.1), e.g. `["Navy", "M"]`. */
  optionValues: z.array(z.string()).optional(),
  price: MoneySchema,
  compareAtPrice: MoneySchema.nullable(),
  barcode: z.string().nullable(),
  taxable: z.boolean().nullable(),
  inventoryTracked: z.boolean().nullable(),
  position: z.number().int().nullable(),
});

/** A product and its variants as the source system knows them now. */
export const ProductSchema = z.object({
  source: z.object({
    system: z.enum(['shopify', 'erp', 'pos']),
    account: z.string().min(1),
    productId: IdSchema,
  }),
  title: z.string(),
  handle: z.string().nullable(),
  vendor: z.string().nullable(),
  productType: z.string().nullable(),
  status: z.enum(['active', 'draft', 'archived', 'unlisted', 'unknown']),
  tags: z.array(z.string()),
  /** Option names (1.1), e.g. `["Color", "Size"]`; at most 3 on Shopify. */
  options: z.array(z.string()).optional(),
  variants: z.array(VariantSchema),
  updatedAt: UtcTimestampSchema,
});
export type Product = z.infer<typeof ProductSchema>;

/** A price for one item, optionally scheduled (promotions have a start and an end). */
export const PriceChangedSchema = z.object({
  item: ItemRefSchema,
  priceList: z.string().min(1).describe('price list or channel the price applies to'),
  price: MoneySchema,
  compareAtPrice: MoneySchema.nullable(),
  effectiveFrom: UtcTimestampSchema.nullable(),
  effectiveTo: UtcTimestampSchema.nullable(),
  version: z.number().int().nonnegative().describe('source version; newer wins'),
  /**
   * 1.1: the promotion this price belongs to (absent: the item's list price). A promotion has a
   * window (`effectiveFrom` ≤ t < `effectiveTo`), its price, and `compareAtPrice` = the list price
   * shown struck through; a newer version moves or edits it.
   */
  promotionId: IdSchema.optional(),
  /** 1.1: the promotion was withdrawn (its price no longer applies, whatever its window). */
  cancelled: z.boolean().optional(),
});
export type PriceChanged = z.infer<typeof PriceChangedSchema>;
