import * as z from 'zod';
import { IdSchema, UtcTimestampSchema } from './common.ts';
import { CurrencyCodeSchema, MoneySchema } from './money.ts';

/** A tax charged on a line or a shipping line. The rate is a decimal string (not money, not a float). */
export const TaxLineSchema = z.object({
  title: z.string(),
  rate: z
    .string()
    .regex(/^\d+(\.\d+)?$/)
    .describe('decimal rate, e.g. "0.0825"'),
  amount: MoneySchema,
});
export type TaxLine = z.infer<typeof TaxLineSchema>;

export const OrderLineSchema = z.object({
  lineId: IdSchema,
  sku: z.string().min(1).nullable(),
  variantId: IdSchema.nullable(),
  productId: IdSchema.nullable(),
  title: z.string(),
  variantTitle: z.string().nullable(),
  quantity: z.number().int().nonnegative().describe('quantity ordered'),
  currentQuantity: z.number().int().nonnegative().describe('quantity after edits, removals and refunds'),
  unitPrice: MoneySchema.describe('price of one unit before discounts'),
  discount: MoneySchema.describe('total discount allocated to this line'),
  taxLines: z.array(TaxLineSchema),
  isGiftCard: z.boolean(),
  requiresShipping: z.boolean(),
  taxable: z.boolean(),
});
export type OrderLine = z.infer<typeof OrderLineSchema>;

export const ShippingLineSchema = z.object({
  lineId: IdSchema,
  code: z.string().nullable(),
  title: z.string(),
  method: z.enum(['ship', 'pickup', 'local_delivery']),
  price: MoneySchema,
  discount: MoneySchema,
  taxLines: z.array(TaxLineSchema),
});
export type ShippingLine = z.infer<typeof ShippingLineSchema>;

export const DiscountSchema = z.object({
  code: z.string().nullable(),
  kind: z.string().describe('vendor discount type, e.g. fixed_amount, percentage, shipping'),
  amount: MoneySchema,
});

export const OrderTotalsSchema = z.object({
  subtotal: MoneySchema.describe('line items after line discounts, before shipping and tax'),
  discounts: MoneySchema,
  shipping: MoneySchema,
  tax: MoneySchema,
  total: MoneySchema,
});
export type OrderTotals = z.infer<typeof OrderTotalsSchema>;

export const PaymentStatusSchema = z.enum([
  'pending',
  'authorized',
  'partially_paid',
  'paid',
  'partially_refunded',
  'refunded',
  'voided',
  'expired',
  'unknown',
]);

export const OrderChannelSchema = z.enum(['online', 'pos']);
export const FulfilmentMethodSchema = z.enum(['ship', 'pickup', 'local_delivery', 'carry_out', 'none']);

/**
 * The canonical order. Amounts are in the shop's currency (what the ERP books); the presentment
 * (customer) currency and total are kept for multi-currency shops.
 */
export const OrderSchema = z.object({
  source: z.object({
    system: z.enum(['shopify', 'pos']),
    account: z.string().min(1).describe('shop domain or POS merchant id'),
    orderId: IdSchema,
    name: z.string().nullable().describe('human-facing order number, e.g. #1001'),
  }),
  channel: OrderChannelSchema,
  storeLocationId: IdSchema.nullable().describe('source location id of the store that took a POS order'),
  fulfilmentMethod: FulfilmentMethodSchema,
  status: z.enum(['open', 'cancelled', 'closed']),
  cancelReason: z.string().nullable(),
  paymentStatus: PaymentStatusSchema,
  paymentGateways: z.array(z.string()),
  currency: CurrencyCodeSchema,
  presentment: z.object({ currency: CurrencyCodeSchema, total: MoneySchema }),
  taxesIncluded: z.boolean(),
  lines: z.array(OrderLineSchema),
  shippingLines: z.array(ShippingLineSchema),
  discounts: z.array(DiscountSchema),
  taxLines: z.array(TaxLineSchema),
  totals: OrderTotalsSchema.describe('as originally placed'),
  currentTotals: OrderTotalsSchema.describe('after edits, returns and refunds'),
  customerRef: z.object({ system: z.enum(['shopify', 'pos']), id: IdSchema }).nullable(),
  test: z.boolean(),
  createdAt: UtcTimestampSchema,
  updatedAt: UtcTimestampSchema.describe('source update time: orders updates by this, newer wins'),
  cancelledAt: UtcTimestampSchema.nullable(),
});
export type Order = z.infer<typeof OrderSchema>;
