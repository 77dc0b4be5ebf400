import * as z from 'zod';

/**
 * Shopify's REST webhook payloads, as far as the hub reads them. Vendor shapes stay in this folder;
 * the mappers turn them into canonical events. Unknown keys are ignored, so new API versions that add
 * fields keep working; a removed or retyped field the hub needs fails the mapper and parks the input.
 */

/** Ids arrive as strings (see parseShopifyJson) or as safe integers. */
const Id = z.union([z.string().regex(/^\d+$/), z.number().int().nonnegative()]).transform(String);
const OptionalId = z
  .union([Id, z.null()])
  .optional()
  .transform((value) => value ?? null);
const Amount = z.union([z.string(), z.number()]);
const Text = z
  .string()
  .nullable()
  .optional()
  .transform((value) => value ?? null);

export const MoneyBagSchema = z.object({ amount: Amount, currency_code: z.string() });
export const MoneySetSchema = z.object({ shop_money: MoneyBagSchema, presentment_money: MoneyBagSchema });
export type ShopifyMoneySet = z.infer<typeof MoneySetSchema>;

export const TaxLinePayloadSchema = z.object({
  title: z.string(),
  rate: z.union([z.number(), z.string()]),
  price_set: MoneySetSchema,
});
const DiscountAllocationSchema = z.object({ amount_set: MoneySetSchema });

export const LineItemPayloadSchema = z.object({
  id: Id,
  admin_graphql_api_id: z.string().optional(),
  sku: Text,
  variant_id: OptionalId,
  product_id: OptionalId,
  title: z.string(),
  variant_title: Text,
  quantity: z.number().int().nonnegative(),
  current_quantity: z.number().int().nonnegative().optional(),
  price_set: MoneySetSchema,
  tax_lines: z.array(TaxLinePayloadSchema).default([]),
  discount_allocations: z.array(DiscountAllocationSchema).default([]),
  gift_card: z.boolean().default(false),
  requires_shipping: z.boolean().default(true),
  taxable: z.boolean().default(true),
});

export const ShippingLinePayloadSchema = z.object({
  id: Id,
  code: Text,
  title: z.string(),
  source: Text,
  delivery_category: Text,
  price_set: MoneySetSchema,
  discount_allocations: z.array(DiscountAllocationSchema).default([]),
  tax_lines: z.array(TaxLinePayloadSchema).default([]),
});

export const OrderPayloadSchema = z.object({
  id: Id,
  admin_graphql_api_id: z.string().optional(),
  name: Text,
  currency: z.string(),
  presentment_currency: z.string().optional(),
  source_name: Text,
  location_id: OptionalId,
  financial_status: Text,
  taxes_included: z.boolean().default(false),
  test: z.boolean().default(false),
  cancelled_at: Text,
  cancel_reason: Text,
  closed_at: Text,
  created_at: z.string(),
  updated_at: z.string(),
  payment_gateway_names: z.array(z.string()).default([]),
  customer: z
    .object({ id: Id, admin_graphql_api_id: z.string().optional() })
    .nullable()
    .optional()
    .transform((value) => value ?? null),
  line_items: z.array(LineItemPayloadSchema),
  shipping_lines: z.array(ShippingLinePayloadSchema).default([]),
  discount_codes: z.array(z.object({ code: Text, amount: Amount, type: z.string() })).default([]),
  tax_lines: z.array(TaxLinePayloadSchema).default([]),
  subtotal_price_set: MoneySetSchema,
  total_discounts_set: MoneySetSchema,
  total_shipping_price_set: MoneySetSchema,
  total_tax_set: MoneySetSchema,
  total_price_set: MoneySetSchema,
  current_subtotal_price_set: MoneySetSchema.optional(),
  current_total_discounts_set: MoneySetSchema.optional(),
  current_shipping_price_set: MoneySetSchema.optional(),
  current_total_tax_set: MoneySetSchema.optional(),
  current_total_price_set: MoneySetSchema.optional(),
});
export type OrderPayload = z.infer<typeof OrderPayloadSchema>;

export const RefundPayloadSchema = z.object({
  id: Id,
  admin_graphql_api_id: z.string().optional(),
  order_id: Id,
  // The return this refund processes (null for a refund outside a return), e.g. {"id": 945000954,
  // "admin_graphql_api_id": "gid://shopify/Return/945000954"}: shopify.dev webhook reference, refunds/create.
  return: z.object({ id: Id, admin_graphql_api_id: z.string().optional() }).nullable().optional(),
  note: Text,
  restock: z.boolean().default(false),
  created_at: z.string(),
  processed_at: Text,
  refund_line_items: z
    .array(
      z.object({
        id: Id,
        line_item_id: Id,
        quantity: z.number().int().nonnegative(),
        restock_type: z.enum(['no_restock', 'cancel', 'return', 'legacy_restock']),
        location_id: OptionalId,
        subtotal_set: MoneySetSchema,
        total_tax_set: MoneySetSchema,
        line_item: z.object({ admin_graphql_api_id: z.string().optional(), sku: Text }).optional(),
      }),
    )
    .default([]),
  refund_shipping_lines: z.array(z.object({ subtotal_amount_set: MoneySetSchema })).default([]),
  order_adjustments: z
    .array(z.object({ kind: z.string(), reason: Text, amount_set: MoneySetSchema }))
    .default([]),
  transactions: z
    .array(
      z.object({
        id: Id,
        admin_graphql_api_id: z.string().optional(),
        kind: z.string(),
        status: z.string(),
        gateway: Text,
        amount: Amount,
        currency: Text,
      }),
    )
    .default([]),
});
export type RefundPayload = z.infer<typeof RefundPayloadSchema>;

export const InventoryLevelPayloadSchema = z.object({
  inventory_item_id: Id,
  location_id: Id,
  available: z.number().int().nullable(),
  updated_at: z.string(),
});

export const ProductPayloadSchema = z.object({
  id: Id,
  admin_graphql_api_id: z.string().optional(),
  title: z.string(),
  handle: Text,
  vendor: Text,
  product_type: Text,
  status: Text,
  tags: z.union([z.string(), z.array(z.string())]).default(''),
  updated_at: z.string(),
  variants: z
    .array(
      z.object({
        id: Id,
        admin_graphql_api_id: z.string().optional(),
        title: z.string(),
        sku: Text,
        price: Amount,
        compare_at_price: z.union([Amount, z.null()]).optional(),
        barcode: Text,
        taxable: z.boolean().nullable().optional(),
        inventory_item_id: OptionalId,
        inventory_management: Text,
        position: z.number().int().nullable().optional(),
      }),
    )
    .default([]),
});

const ComplianceCustomer = z.object({ id: Id, email: Text, phone: Text });

export const CustomerDataRequestPayloadSchema = z.object({
  shop_id: Id,
  shop_domain: z.string(),
  customer: ComplianceCustomer,
  orders_requested: z.array(Id).default([]),
  data_request: z.object({ id: Id }),
});

export const CustomerRedactPayloadSchema = z.object({
  shop_id: Id,
  shop_domain: z.string(),
  customer: ComplianceCustomer,
  orders_to_redact: z.array(Id).default([]),
});

export const ShopRedactPayloadSchema = z.object({ shop_id: Id, shop_domain: z.string() });
