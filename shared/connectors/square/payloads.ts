import * as z from 'zod';

/**
 * Square's webhook envelope and API objects, as far as the hub reads them (Square-Version
 * 2025-08-20). Vendor shapes stay in this folder; the mapper turns them into canonical events. Unknown
 * keys are ignored, so a newer version that adds fields keeps working; a removed or retyped field the
 * hub needs fails the parse and parks the input with the path that failed.
 */

/** Square Money: an integer amount in the currency's smallest unit (Square documents it so) and its code. */
export const SquareMoneySchema = z.object({ amount: z.number().int(), currency: z.string() });
export type SquareMoney = z.infer<typeof SquareMoneySchema>;

const Text = z
  .string()
  .nullable()
  .optional()
  .transform((value) => value ?? null);

/** `{merchant_id, type, event_id, created_at, data:{type, id, object}}` — every Square event. */
/** Square ids and event types are short; a bound keeps hostile values out of keys and logs. */
const SquareTokenSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/, 'a Square id (at most 64 characters)');

export const SquareWebhookEnvelopeSchema = z.object({
  merchant_id: SquareTokenSchema,
  type: SquareTokenSchema,
  event_id: SquareTokenSchema,
  created_at: z.string().optional(),
  data: z
    .object({
      type: z.string().optional(),
      id: z.string().optional(),
      object: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
});
export type SquareWebhookEnvelope = z.infer<typeof SquareWebhookEnvelopeSchema>;

/**
 * `data.object.order_created|order_updated|order_fulfillment_updated`: the order's id, state and
 * version only — never its lines, which is why the ingress fetches the order.
 */
export const SquareOrderNotificationSchema = z.object({
  order_id: z.string().min(1),
  location_id: z.string().optional(),
  state: z.string().optional(),
  version: z.number().int().optional(),
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
});
export type SquareOrderNotification = z.infer<typeof SquareOrderNotificationSchema>;

const AppliedMoney = z.object({ applied_money: SquareMoneySchema.optional() });

export const SquareLineItemSchema = z.object({
  uid: z.string().min(1),
  name: Text,
  /** A decimal string: unit-priced items (by weight) carry fractions. */
  quantity: z.string(),
  catalog_object_id: Text,
  catalog_version: z.number().int().nullable().optional(),
  variation_name: Text,
  item_type: Text,
  base_price_money: SquareMoneySchema.optional(),
  gross_sales_money: SquareMoneySchema.optional(),
  total_tax_money: SquareMoneySchema.optional(),
  total_discount_money: SquareMoneySchema.optional(),
  total_money: SquareMoneySchema.optional(),
  applied_taxes: z.array(AppliedMoney.extend({ tax_uid: z.string() })).default([]),
  applied_discounts: z.array(AppliedMoney.extend({ discount_uid: z.string() })).default([]),
  modifiers: z.array(z.object({ total_price_money: SquareMoneySchema.optional() })).default([]),
});
export type SquareLineItem = z.infer<typeof SquareLineItemSchema>;

/** `OrderReturnLineItem`: a line of a return order, with the sale line it returns. */
export const SquareReturnLineItemSchema = z.object({
  uid: z.string().min(1),
  source_line_item_uid: Text,
  name: Text,
  quantity: z.string(),
  catalog_object_id: Text,
  catalog_version: z.number().int().nullable().optional(),
  variation_name: Text,
  item_type: Text,
  base_price_money: SquareMoneySchema.optional(),
  gross_return_money: SquareMoneySchema.optional(),
  total_tax_money: SquareMoneySchema.optional(),
  total_discount_money: SquareMoneySchema.optional(),
  total_money: SquareMoneySchema.optional(),
});
export type SquareReturnLineItem = z.infer<typeof SquareReturnLineItemSchema>;

/**
 * `data.object.payment` of `payment.created` / `payment.updated` (Payment, Square-Version 2025-08-20):
 * "the payment.status ... field is updated when a payment is authorized, canceled, or completed"
 * (developer.squareup.com/docs/payments-api/webhooks). Only what the ingress routes on.
 */
export const SquarePaymentSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  order_id: Text,
  location_id: Text,
  source_type: Text,
  updated_at: Text,
});
export type SquarePayment = z.infer<typeof SquarePaymentSchema>;

/**
 * `data.object.refund` of `refund.created` / `refund.updated`, and `GET /v2/refunds/{id}` (PaymentRefund):
 * `order_id` is the return order Square creates for every refund, itemized or custom ("Both the
 * itemized refund and custom refund create a return order", developer.squareup.com/docs/orders-api/
 * order-returns-exchanges), `payment_id` the refunded payment; an `unlinked` refund has no payment.
 */
export const SquareRefundSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  amount_money: SquareMoneySchema,
  payment_id: Text,
  order_id: Text,
  location_id: Text,
  unlinked: z.boolean().nullable().optional(),
  reason: Text,
  created_at: z.string(),
  updated_at: Text,
});
export type SquareRefund = z.infer<typeof SquareRefundSchema>;

/** `GET /v2/refunds/{refund_id}` answer. */
export const GetRefundResponseSchema = z.object({ refund: z.unknown() });

/** `GET /v2/locations` answer, as far as the sweep reads it. */
export const ListLocationsResponseSchema = z.object({
  locations: z.array(z.object({ id: z.string().min(1), merchant_id: Text, status: Text })).default([]),
});

/** `GET /v2/locations` as finance reads it: each location's time zone and currency (its business day). */
export const LocationZonesResponseSchema = z.object({
  locations: z
    .array(
      z.object({
        id: z.string().min(1),
        merchant_id: Text,
        status: Text,
        timezone: Text,
        currency: Text,
      }),
    )
    .default([]),
});

/** `GET /v2/payments` answer: payments (unparsed here) and the next page's cursor. */
export const ListPaymentsResponseSchema = z.object({
  payments: z.array(z.unknown()).default([]),
  cursor: z.string().optional(),
});

/** `GET /v2/refunds` answer: payment refunds (unparsed here) and the next page's cursor. */
export const ListRefundsResponseSchema = z.object({
  refunds: z.array(z.unknown()).default([]),
  cursor: z.string().optional(),
});

/** `POST /v2/orders/search` answer: complete orders (unparsed here) and the next page's cursor. */
export const SearchOrdersResponseSchema = z.object({
  orders: z.array(z.unknown()).default([]),
  cursor: z.string().optional(),
});

export const SquareOrderSchema = z.object({
  id: z.string().min(1),
  location_id: z.string().min(1),
  reference_id: Text,
  ticket_name: Text,
  customer_id: Text,
  source: z.object({ name: Text }).nullable().optional(),
  state: z.string(),
  /**
   * "Orders not created through the API do not include a version number" (Square API reference, Order
   * `version`, Square-Version 2025-08-20): a sale rung up at the register has none; see {@link orderVersionOf}.
   */
  version: z.number().int().nonnegative().optional(),
  /**
   * Application-defined data; "entries written by applications are private and can only be read or
   * modified by the same application" (Order `metadata`): the hub marks the orders it creates here.
   */
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  closed_at: Text,
  line_items: z.array(SquareLineItemSchema).default([]),
  taxes: z
    .array(
      AppliedMoney.extend({
        uid: z.string(),
        name: Text,
        percentage: Text,
        type: Text,
        scope: Text,
      }),
    )
    .default([]),
  discounts: z
    .array(
      AppliedMoney.extend({
        uid: z.string(),
        name: Text,
        type: Text,
        scope: Text,
      }),
    )
    .default([]),
  service_charges: z.array(z.object({ uid: z.string().optional() })).default([]),
  fulfillments: z.array(z.object({ type: Text, state: Text })).default([]),
  returns: z
    .array(
      z.object({
        uid: z.string().optional(),
        /** "An order that contains the original sale of these return line items. This is unset for unlinked returns." */
        source_order_id: Text,
        return_line_items: z.array(SquareReturnLineItemSchema).default([]),
      }),
    )
    .default([]),
  tenders: z
    .array(
      z.object({
        id: z.string(),
        type: z.string(),
        amount_money: SquareMoneySchema.optional(),
        card_details: z.object({ status: Text }).nullable().optional(),
      }),
    )
    .default([]),
  refunds: z
    .array(z.object({ id: z.string(), status: z.string(), amount_money: SquareMoneySchema.optional() }))
    .default([]),
  rounding_adjustment: z.object({ amount_money: SquareMoneySchema.optional() }).nullable().optional(),
  net_amounts: z
    .object({ total_money: SquareMoneySchema, tax_money: SquareMoneySchema.optional() })
    .nullable()
    .optional(),
  total_money: SquareMoneySchema,
  total_tax_money: SquareMoneySchema.optional(),
  total_discount_money: SquareMoneySchema.optional(),
  total_tip_money: SquareMoneySchema.optional(),
  total_service_charge_money: SquareMoneySchema.optional(),
});
export type SquareOrder = z.infer<typeof SquareOrderSchema>;

/** `GET /v2/orders/{id}` answer. */
export const RetrieveOrderResponseSchema = z.object({ order: z.unknown() });

/** `GET /v2/catalog/object/{id}` answer, as far as SKUs go. */
export const CatalogObjectResponseSchema = z.object({
  object: z.object({
    id: z.string(),
    type: z.string(),
    item_variation_data: z.object({ item_id: Text, sku: Text }).nullable().optional(),
  }),
});

/** Square's error body: `{errors: [{category, code, detail, field?}]}`. */
export const SquareErrorBodySchema = z.object({
  errors: z
    .array(
      z.object({
        category: z.string().optional(),
        code: z.string().optional(),
        detail: z.string().optional(),
        field: z.string().optional(),
      }),
    )
    .default([]),
});
