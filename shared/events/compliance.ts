import * as z from 'zod';
import { IdSchema } from './common.ts';

/**
 * Shopify's mandatory compliance webhooks (customers/data_request, customers/redact, shop/redact:
 * https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance). Their events carry ids only —
 * the shop, the customer id, the order ids — never the email or phone Shopify sends along: the bus and
 * its archive must not become one more copy of the contact data a redaction is meant to erase. The
 * hub finds what it holds by these ids (parked inputs are tagged with their shop, order and customer
 * ids when they are parked).
 *
 * 2.0 removed `customer.email` and `customer.phone` (1.0 carried them).
 */
const ComplianceCustomerSchema = z.object({
  id: IdSchema.describe('Shopify customer id'),
});

export const CustomerDataRequestedSchema = z.object({
  account: z.string().min(1).describe('shop domain'),
  shopId: IdSchema,
  requestId: IdSchema.describe('Shopify data_request.id'),
  customer: ComplianceCustomerSchema,
  orderIds: z.array(IdSchema).describe('orders_requested'),
});

export const CustomerRedactionRequestedSchema = z.object({
  account: z.string().min(1).describe('shop domain'),
  shopId: IdSchema,
  customer: ComplianceCustomerSchema,
  orderIds: z.array(IdSchema).describe('orders_to_redact'),
});

/** Unchanged since 1.0: it never carried contact data. */
export const ShopRedactionRequestedSchema = z.object({
  account: z.string().min(1),
  shopId: IdSchema,
});

/**
 * The detail-types of the compliance events: consumed by the privacy flow, kept out of the bus
 * archive (a replay must never bring a redaction request back, nor keep one for 90 days).
 */
export const COMPLIANCE_DETAIL_TYPES = [
  'CustomerDataRequested',
  'CustomerRedactionRequested',
  'ShopRedactionRequested',
] as const;
export type ComplianceDetailType = (typeof COMPLIANCE_DETAIL_TYPES)[number];
