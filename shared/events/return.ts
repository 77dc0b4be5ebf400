import * as z from 'zod';
import { IdSchema, LocationRefSchema, UtcTimestampSchema } from './common.ts';
import { CurrencyCodeSchema, MoneySchema } from './money.ts';

/** What happens to a returned unit: back into sellable stock at the returning location, or written off. */
export const DispositionSchema = z.enum(['restock', 'damaged']);
export type Disposition = z.infer<typeof DispositionSchema>;

/** One returned line of the original online order, with the money given back for it. */
export const ReturnLineSchema = z.object({
  lineId: IdSchema.describe('the return line, unique within the return (e.g. the refund line id)'),
  orderLineId: IdSchema.describe('the line of the original online order'),
  sku: z.string().min(1).nullable(),
  quantity: z.number().int().positive(),
  subtotal: MoneySchema.describe('net amount refunded for the line (after discounts, before tax)'),
  tax: MoneySchema.describe('tax refunded for the line'),
  disposition: DispositionSchema,
});
export type ReturnLine = z.infer<typeof ReturnLineSchema>;

/**
 * A customer returns lines of an online order, online (Shopify) or at a store's POS. `returnId` is the
 * hub's business key for the whole workflow (one execution per return, one ERP credit memo).
 */
export const ReturnRequestedSchema = z.object({
  returnId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,80}$/)
    .describe('hub key: <system>-<account>-<source id>, also the execution name'),
  trigger: z.object({
    system: z.enum(['shopify', 'pos']),
    account: z.string().min(1).describe('shop domain or POS merchant id'),
    id: IdSchema.describe('the source refund (Shopify refund id, Square refund id)'),
    shopifyReturnId: IdSchema.nullable().describe('the Shopify return, when Shopify initiated it'),
  }),
  order: z.object({
    system: z.literal('shopify'),
    account: z.string().min(1).describe('shop domain'),
    orderId: IdSchema.nullable().describe('null when only the order number is known (POS reference)'),
    name: z.string().nullable().describe('human-facing order number, e.g. #1001'),
  }),
  location: LocationRefSchema.nullable().describe('where the goods came back (restock location)'),
  currency: CurrencyCodeSchema,
  lines: z.array(ReturnLineSchema).min(1),
  shipping: MoneySchema.describe('shipping refunded'),
  total: MoneySchema.describe('money returned to the customer: lines + tax + shipping'),
  shopifyRefunded: z
    .boolean()
    .describe('Shopify already holds the return and its refund (it triggered): the workflow skips that step'),
  requestedAt: UtcTimestampSchema,
});
export type ReturnRequested = z.infer<typeof ReturnRequestedSchema>;

/** A return went through every system: refunded in Shopify, credited in the ERP, stock dispositioned. */
export const ReturnCompletedSchema = z.object({
  returnId: ReturnRequestedSchema.shape.returnId,
  order: ReturnRequestedSchema.shape.order,
  shopify: z.object({ returnId: IdSchema.nullable(), refundId: IdSchema.nullable() }),
  erp: z.object({ creditMemoInternalId: IdSchema, creditMemoExternalId: IdSchema }),
  lines: z.array(ReturnLineSchema).min(1),
  total: MoneySchema,
  completedAt: UtcTimestampSchema,
});
export type ReturnCompleted = z.infer<typeof ReturnCompletedSchema>;
