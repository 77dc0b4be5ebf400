import * as z from 'zod';
import { IdSchema, UtcTimestampSchema } from './common.ts';
import { CurrencyCodeSchema, MoneySchema } from './money.ts';

export const RefundLineSchema = z.object({
  lineId: IdSchema,
  orderLineId: IdSchema,
  sku: z.string().min(1).nullable(),
  quantity: z.number().int().nonnegative(),
  restockType: z.enum(['no_restock', 'cancel', 'return', 'legacy_restock']),
  locationId: IdSchema.nullable().describe('source location the items were restocked at'),
  subtotal: MoneySchema,
  tax: MoneySchema,
});

export const RefundTransactionSchema = z.object({
  transactionId: IdSchema,
  kind: z.string(),
  status: z.string(),
  gateway: z.string().nullable(),
  amount: MoneySchema,
});

/** Money given back against an order, line by line, with the transactions that moved it. */
export const RefundSchema = z.object({
  source: z.object({
    system: z.enum(['shopify', 'pos']),
    account: z.string().min(1),
    refundId: IdSchema,
    orderId: IdSchema,
  }),
  returnId: IdSchema.nullable()
    .optional()
    .describe('the Shopify return this refund processes (refunds/create `return`), since 1.1'),
  currency: CurrencyCodeSchema,
  note: z.string().nullable(),
  restock: z.boolean(),
  lines: z.array(RefundLineSchema),
  shipping: MoneySchema.describe('shipping refunded'),
  adjustments: z.array(z.object({ kind: z.string(), reason: z.string().nullable(), amount: MoneySchema })),
  transactions: z.array(RefundTransactionSchema),
  total: MoneySchema.describe(
    'money returned: sum of successful refund transactions, in their (presentment) currency',
  ),
  createdAt: UtcTimestampSchema,
  processedAt: UtcTimestampSchema.nullable(),
});
export type Refund = z.infer<typeof RefundSchema>;
