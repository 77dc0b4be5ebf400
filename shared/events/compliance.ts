import * as z from 'zod';
import { IdSchema } from './common.ts';

/**
 * Shopify's mandatory privacy webhooks. They carry personal data only as far as needed to find the
 * customer's records in the ERP and POS (ids, email, phone).
 */
export const CustomerDataRequestedSchema = z.object({
  account: z.string().min(1),
  shopId: IdSchema,
  requestId: IdSchema,
  customer: z.object({ id: IdSchema, email: z.string().nullable(), phone: z.string().nullable() }),
  orderIds: z.array(IdSchema),
});

export const CustomerRedactionRequestedSchema = z.object({
  account: z.string().min(1),
  shopId: IdSchema,
  customer: z.object({ id: IdSchema, email: z.string().nullable(), phone: z.string().nullable() }),
  orderIds: z.array(IdSchema),
});

export const ShopRedactionRequestedSchema = z.object({
  account: z.string().min(1),
  shopId: IdSchema,
});
