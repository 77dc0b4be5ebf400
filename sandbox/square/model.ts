/** The Square API version whose shapes the sandbox follows (the fixtures' spec version). */
export const SQUARE_VERSION = '2025-08-20';

/** Square Money: integer amount in the smallest denomination + ISO 4217 currency. */
export interface Money {
  amount: number;
  currency: string;
}

export interface SquareLocation {
  id: string;
  name: string;
  description: string;
  address: {
    address_line_1: string;
    locality: string;
    administrative_district_level_1: string;
    postal_code: string;
    country: string;
  };
  timezone: string;
  capabilities: string[];
  status: 'ACTIVE';
  created_at: string;
  merchant_id: string;
  country: string;
  language_code: string;
  currency: string;
  business_name: string;
  type: 'PHYSICAL';
  mcc: string;
}

/**
 * Catalog objects carry `updated_at` and `version`, no `created_at`: Square's `CatalogObject` defines
 * none, and Square staff call the `created_at` some answers once showed "an incorrectly exposed field
 * that we will not continue to support" (https://github.com/square/square-nodejs-sdk/issues/121).
 */
export interface CatalogVariation {
  type: 'ITEM_VARIATION';
  id: string;
  updated_at: string;
  version: number;
  is_deleted: false;
  present_at_all_locations: true;
  item_variation_data: {
    item_id: string;
    name: string;
    sku: string;
    upc: string;
    ordinal: number;
    pricing_type: 'FIXED_PRICING';
    price_money: Money;
    track_inventory: true;
    sellable: true;
    stockable: true;
  };
}

export interface CatalogItem {
  type: 'ITEM';
  id: string;
  updated_at: string;
  version: number;
  is_deleted: false;
  present_at_all_locations: true;
  item_data: {
    name: string;
    description: string;
    product_type: 'REGULAR';
    variations: CatalogVariation[];
  };
}

export interface OrderLineItem {
  uid: string;
  catalog_object_id: string;
  catalog_version: number;
  quantity: string;
  name: string;
  variation_name: string;
  item_type: 'ITEM';
  base_price_money: Money;
  gross_sales_money: Money;
  total_tax_money: Money;
  total_discount_money: Money;
  total_money: Money;
}

export interface OrderReturnLineItem {
  uid: string;
  source_line_item_uid?: string;
  catalog_object_id: string;
  catalog_version: number;
  quantity: string;
  name: string;
  variation_name: string;
  item_type: 'ITEM';
  base_price_money: Money;
  gross_return_money: Money;
  total_tax_money: Money;
  total_discount_money: Money;
  total_money: Money;
}

export interface OrderTender {
  id: string;
  location_id: string;
  transaction_id: string;
  created_at: string;
  amount_money: Money;
  type: 'CARD' | 'CASH';
  payment_id: string;
}

export interface OrderRefund {
  id: string;
  location_id: string;
  /** Unset for an unlinked refund (no Square payment, so no tender): only id, location, reason, money, status are required. */
  transaction_id?: string;
  tender_id?: string;
  created_at: string;
  reason: string;
  amount_money: Money;
  status: 'PENDING' | 'APPROVED' | 'REJECTED' | 'FAILED';
}

export interface Order {
  id: string;
  location_id: string;
  reference_id?: string;
  source: { name: string };
  line_items?: OrderLineItem[];
  returns?: Array<{ uid: string; source_order_id?: string; return_line_items: OrderReturnLineItem[] }>;
  return_amounts?: {
    total_money: Money;
    tax_money: Money;
    discount_money: Money;
    tip_money: Money;
    service_charge_money: Money;
  };
  net_amounts: {
    total_money: Money;
    tax_money: Money;
    discount_money: Money;
    tip_money: Money;
    service_charge_money: Money;
  };
  tenders?: OrderTender[];
  refunds?: OrderRefund[];
  fulfillments?: Array<{
    uid: string;
    type: 'PICKUP';
    state: 'PROPOSED' | 'RESERVED' | 'PREPARED' | 'COMPLETED' | 'CANCELED' | 'FAILED';
    pickup_details?: Record<string, unknown>;
  }>;
  metadata?: Record<string, string>;
  created_at: string;
  updated_at: string;
  closed_at?: string;
  state: 'OPEN' | 'COMPLETED' | 'CANCELED' | 'DRAFT';
  /** Only orders made through the Orders API have one (Order `version`). */
  version?: number;
  total_money: Money;
  total_tax_money: Money;
  total_discount_money: Money;
  total_tip_money: Money;
  total_service_charge_money: Money;
}

export interface Payment {
  id: string;
  created_at: string;
  updated_at: string;
  amount_money: Money;
  total_money: Money;
  refunded_money?: Money;
  status: 'APPROVED' | 'COMPLETED';
  source_type: 'CARD' | 'CASH';
  location_id: string;
  order_id: string;
  refund_ids?: string[];
}

export interface PaymentRefund {
  id: string;
  status: 'PENDING' | 'COMPLETED' | 'REJECTED' | 'FAILED';
  amount_money: Money;
  /** Unset for an unlinked refund (`unlinked: true`), which names its `destination_type` instead. */
  payment_id?: string;
  unlinked?: boolean;
  destination_type?: 'CASH' | 'CARD' | 'EXTERNAL';
  order_id: string;
  location_id: string;
  reason: string;
  created_at: string;
  updated_at: string;
  version?: number;
}

export interface InventoryCount {
  catalog_object_id: string;
  catalog_object_type: 'ITEM_VARIATION';
  state: 'IN_STOCK';
  location_id: string;
  quantity: string;
  calculated_at: string;
}

/** A webhook event as Square sends it (envelope key order as in Square's examples). */
export interface SquareEvent {
  merchant_id: string;
  type: string;
  event_id: string;
  created_at: string;
  data: { type: string; id: string; object: Record<string, unknown> };
}
