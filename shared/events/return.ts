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
  refundedBy: z
    .literal('pos')
    .optional()
    .describe(
      '1.1: the customer was paid back at the store (POS refund): Shopify records the return, refunds nothing',
    ),
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

/**
 * A return made at a store of goods bought online, refunded at the register (Square: an unlinked return
 * order — no `source_order_id` — carrying the online order's number, and its unlinked refund). The POS
 * ingress publishes it from `omnihub.pos` under the key `pos:<merchant>:store-return:<refundId>`; the
 * omnichannel-return workflow looks the online order up by its number and its lines by SKU.
 */
export const StoreReturnRecordedSchema = z.object({
  source: z.object({
    system: z.literal('pos'),
    account: z.string().min(1).describe('POS merchant id'),
    refundId: IdSchema.describe('the POS refund that paid the customer back (Square refund id)'),
    returnOrderId: IdSchema.describe('the POS return order holding the returned lines'),
  }),
  onlineOrderReference: z
    .string()
    .min(1)
    .describe('the online order as the store recorded it: its order number, e.g. #1001'),
  location: LocationRefSchema.describe('the store that took the goods back (POS location)'),
  currency: CurrencyCodeSchema,
  lines: z
    .array(
      z.object({
        lineId: IdSchema.describe('the POS return line (Square return line item uid)'),
        sku: z.string().min(1).nullable(),
        quantity: z.number().int().positive(),
        subtotal: MoneySchema.describe('net amount refunded for the line (before tax)'),
        tax: MoneySchema.describe('tax refunded for the line'),
      }),
    )
    .min(1),
  refunded: MoneySchema.describe('money the store gave back (the POS refund)'),
  refundedAt: UtcTimestampSchema,
});
export type StoreReturnRecorded = z.infer<typeof StoreReturnRecordedSchema>;
