import { createRetailer, type Retailer, type SeedLocation } from '../core/retailer.ts';
import { IdAllocator } from './ids.ts';
import { newPaymentsState, type PaymentsState } from './payments.ts';

/**
 * The simulated shop's data. Records hold ids as strings and money as integer minor units; the
 * GraphQL views and REST payload builders render them in Shopify's shapes. Everything is derived
 * from the shared seeded retailer (`sandbox/core/retailer.ts`), so Shopify, Square and NetSuite
 * agree on SKUs and location codes, as a real retailer's systems do after onboarding.
 */

/** Inventory quantity names, in storage order. `on_hand` is derived (see {@link onHand}). */
export const STORED_QUANTITY_NAMES = [
  'available',
  'committed',
  'reserved',
  'incoming',
  'damaged',
  'safety_stock',
  'quality_control',
] as const;

/** A stored quantity name. */
export type StoredQuantityName = (typeof STORED_QUANTITY_NAMES)[number];

/** Every name `InventoryLevel.quantities(names:)` answers. */
export const QUANTITY_NAMES = [...STORED_QUANTITY_NAMES, 'on_hand'] as const;

/** A quantity name Shopify knows. */
export type QuantityName = (typeof QUANTITY_NAMES)[number];

const NQ = STORED_QUANTITY_NAMES.length;
const QIDX: Record<StoredQuantityName, number> = {
  available: 0,
  committed: 1,
  reserved: 2,
  incoming: 3,
  damaged: 4,
  safety_stock: 5,
  quality_control: 6,
};

/**
 * Shopify's documented arithmetic (shopify.dev/docs/apps/build/orders-fulfillment/
 * inventory-management-apps): on_hand = available + committed + reserved + damaged + safety_stock +
 * quality_control. `incoming` is not on hand; damaged, safety stock and quality control are on
 * hand but not sellable.
 */
export function onHand(q: Readonly<Record<StoredQuantityName, number>>): number {
  return q.available + q.committed + q.reserved + q.damaged + q.safety_stock + q.quality_control;
}

export interface LocationRecord {
  id: string;
  /** Cross-system key from the shared retailer (`WH-01`, `ST-001`). */
  code: string;
  name: string;
  kind: 'warehouse' | 'store';
  address1: string;
  city: string;
  provinceCode: string;
  countryCode: string;
  zip: string;
  timezone: string;
  isActive: boolean;
  fulfillsOnlineOrders: boolean;
  createdAt: number;
  updatedAt: number;
  /** Column of this location in the inventory table. */
  col: number;
}

export interface ProductRecord {
  id: string;
  handle: string;
  title: string;
  vendor: string;
  productType: string;
  status: 'ACTIVE' | 'ARCHIVED' | 'DRAFT' | 'UNLISTED';
  tags: string[];
  descriptionHtml: string;
  optionNames: string[];
  optionIds: string[];
  variantIds: string[];
  createdAt: number;
  updatedAt: number;
}

export interface VariantRecord {
  id: string;
  productId: string;
  inventoryItemId: string;
  sku: string;
  title: string;
  barcode: string | null;
  priceMinor: number;
  compareAtMinor: number | null;
  position: number;
  taxable: boolean;
  inventoryPolicy: 'DENY' | 'CONTINUE';
  optionValues: string[];
  weightGrams: number;
  createdAt: number;
  updatedAt: number;
}

export interface InventoryItemRecord {
  id: string;
  variantId: string;
  sku: string;
  tracked: boolean;
  requiresShipping: boolean;
  costMinor: number;
  createdAt: number;
  updatedAt: number;
  /** Row of this item in the inventory table. */
  row: number;
}

export interface CustomerRecord {
  id: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string | null;
  createdAt: number;
}

export interface AddressRecord {
  id: string;
  firstName: string;
  lastName: string;
  address1: string;
  city: string;
  provinceCode: string;
  province: string;
  countryCode: string;
  country: string;
  zip: string;
  phone: string | null;
}

export interface LineItemRecord {
  id: string;
  variantId: string | null;
  productId: string | null;
  sku: string | null;
  title: string;
  variantTitle: string | null;
  vendor: string | null;
  priceMinor: number;
  /** Quantity at checkout. */
  quantity: number;
  /** Units removed by order edits. */
  removedQuantity: number;
  /** Units refunded (with or without restock). */
  refundedQuantity: number;
  /** Of those, units refunded while still unfulfilled (they leave the fulfillable quantity). */
  cancelledQuantity: number;
  /** Units fulfilled (shipped or picked up). */
  fulfilledQuantity: number;
  /** Units added by an order edit (the line did not exist at checkout when `quantity` is 0). */
  addedByEdit: boolean;
  grams: number;
  taxable: boolean;
  requiresShipping: boolean;
}

export interface ShippingLineRecord {
  id: string;
  title: string;
  code: string;
  source: string;
  deliveryCategory: string | null;
  priceMinor: number;
}

export interface TransactionRecord {
  id: string;
  kind: 'SALE' | 'REFUND' | 'VOID';
  status: 'SUCCESS';
  gateway: string;
  amountMinor: number;
  createdAt: number;
  parentId: string | null;
}

export interface OrderRecord {
  id: string;
  number: number;
  name: string;
  token: string;
  email: string;
  customer: CustomerRecord;
  shippingAddress: AddressRecord | null;
  billingAddress: AddressRecord;
  delivery: 'SHIPPING' | 'PICK_UP';
  /** Location the order is assigned to (warehouse for shipping, the store for pick-up). */
  locationId: string;
  shippingLine: ShippingLineRecord;
  /** Tax rate in basis points (e.g. 725 = 7.25 %). */
  taxRateBp: number;
  taxTitle: string;
  lineItems: LineItemRecord[];
  transactions: TransactionRecord[];
  refundIds: string[];
  fulfillmentOrderIds: string[];
  fulfillmentIds: string[];
  returnIds: string[];
  tags: string[];
  note: string | null;
  sourceName: string;
  createdAt: number;
  updatedAt: number;
  processedAt: number;
  cancelledAt: number | null;
  cancelReason: 'CUSTOMER' | 'DECLINED' | 'FRAUD' | 'INVENTORY' | 'STAFF' | 'OTHER' | null;
  closedAt: number | null;
  shippingRefundedMinor: number;
}

export interface FulfillmentOrderLineRecord {
  id: string;
  lineItemId: string;
  totalQuantity: number;
  remainingQuantity: number;
}

export interface FulfillmentOrderRecord {
  id: string;
  orderId: string;
  locationId: string;
  deliveryMethodId: string;
  deliveryMethod: 'SHIPPING' | 'PICK_UP';
  status: 'OPEN' | 'IN_PROGRESS' | 'CLOSED' | 'CANCELLED';
  preparedForPickupAt: number | null;
  lineItems: FulfillmentOrderLineRecord[];
  createdAt: number;
  updatedAt: number;
}

export interface FulfillmentLineRecord {
  id: string;
  lineItemId: string;
  quantity: number;
}

export interface FulfillmentRecord {
  id: string;
  orderId: string;
  locationId: string;
  fulfillmentOrderId: string;
  name: string;
  status: 'SUCCESS' | 'CANCELLED';
  trackingCompany: string | null;
  trackingNumber: string | null;
  lineItems: FulfillmentLineRecord[];
  createdAt: number;
  updatedAt: number;
}

export interface RefundLineRecord {
  id: string;
  lineItemId: string;
  quantity: number;
  restockType: 'NO_RESTOCK' | 'CANCEL' | 'RETURN' | 'LEGACY_RESTOCK';
  locationId: string | null;
  subtotalMinor: number;
  taxMinor: number;
}

export interface RefundRecord {
  id: string;
  orderId: string;
  returnId: string | null;
  note: string | null;
  lineItems: RefundLineRecord[];
  shippingMinor: number;
  transactionIds: string[];
  createdAt: number;
}

export interface ReturnLineRecord {
  id: string;
  fulfillmentLineItemId: string;
  lineItemId: string;
  reverseLineId: string;
  quantity: number;
  processedQuantity: number;
  refundedQuantity: number;
  returnReasonNote: string;
  dispositions: Array<{ id: string; quantity: number; type: DispositionType; locationId: string | null }>;
}

export type DispositionType = 'MISSING' | 'NOT_RESTOCKED' | 'PROCESSING_REQUIRED' | 'RESTOCKED';

export interface ReturnRecord {
  id: string;
  orderId: string;
  name: string;
  status: 'OPEN' | 'CLOSED' | 'CANCELED' | 'DECLINED' | 'REQUESTED';
  reverseFulfillmentOrderId: string;
  lineItems: ReturnLineRecord[];
  refundIds: string[];
  createdAt: number;
  closedAt: number | null;
}

export interface AdjustmentChangeRecord {
  name: QuantityName;
  delta: number;
  quantityAfterChange: number;
  inventoryItemId: string;
  locationId: string;
  ledgerDocumentUri: string | null;
}

export interface AdjustmentGroupRecord {
  id: string;
  reason: string;
  referenceDocumentUri: string | null;
  createdAt: number;
  changes: AdjustmentChangeRecord[];
}

export interface WebhookSubscriptionRecord {
  id: string;
  /** GraphQL enum form, e.g. `ORDERS_CREATE`. */
  topic: string;
  uri: string;
  format: 'JSON' | 'XML';
  includeFields: string[];
  filter: string | null;
  /** `X-Shopify-Name`: the subscription's name (app-configured subscriptions have one). */
  name: string;
  /**
   * `config`: app configuration (control API or options; survives `_control/reset`, like
   * subscriptions declared in `shopify.app.toml`); `api`: created through `webhookSubscriptionCreate`
   * (shop data, cleared by a reset).
   */
  source: 'config' | 'api';
  createdAt: number;
  updatedAt: number;
}

/** Options for seeding the store. */
export interface StoreSeedOptions {
  seed: number;
  /** Sellable variants. @default 2000 */
  items?: number;
  /** Stores (POS locations). @default 120 */
  stores?: number;
  /** Online warehouses. @default 1 */
  warehouses?: number;
  currency?: string;
  /** When the catalogue "was created" (epoch ms); seed timestamps sit before it. */
  createdAt: number;
}

/**
 * One price write, as the sandbox applied it (the `/_control/price-writes` log): lets a test check that
 * a price was never published before its time and never left after it.
 */
export interface PriceWriteRecord {
  /** Sandbox clock (epoch ms) when the write was applied. */
  at: number;
  variantId: string;
  sku: string;
  priceMinor: number;
  compareAtMinor: number | null;
  via: 'productSet' | 'productVariantsBulkUpdate';
}

/** The whole store, mutable in place. */
export class ShopStore {
  readonly ids = new IdAllocator();
  readonly retailer: Retailer;
  readonly currency: string;
  readonly locations: LocationRecord[] = [];
  readonly products: ProductRecord[] = [];
  readonly variants: VariantRecord[] = [];
  /** Price writes in the order they were applied (see {@link PriceWriteRecord}). */
  readonly priceWrites: PriceWriteRecord[] = [];
  readonly inventoryItems: InventoryItemRecord[] = [];
  readonly orders: OrderRecord[] = [];
  readonly fulfillmentOrders: FulfillmentOrderRecord[] = [];
  readonly fulfillments: FulfillmentRecord[] = [];
  readonly refunds: RefundRecord[] = [];
  readonly returns: ReturnRecord[] = [];
  readonly adjustmentGroups = new Map<string, AdjustmentGroupRecord>();
  readonly subscriptions: WebhookSubscriptionRecord[] = [];
  readonly customers: CustomerRecord[] = [];
  /** Shopify Payments payouts and balance transactions (sandbox/shopify/payments.ts). */
  payments: PaymentsState = newPaymentsState();

  readonly locationById = new Map<string, LocationRecord>();
  readonly locationByCode = new Map<string, LocationRecord>();
  readonly productById = new Map<string, ProductRecord>();
  readonly productByHandle = new Map<string, ProductRecord>();
  readonly variantById = new Map<string, VariantRecord>();
  readonly variantBySku = new Map<string, VariantRecord>();
  readonly itemById = new Map<string, InventoryItemRecord>();
  readonly itemBySku = new Map<string, InventoryItemRecord>();
  readonly orderById = new Map<string, OrderRecord>();
  readonly fulfillmentOrderById = new Map<string, FulfillmentOrderRecord>();
  readonly fulfillmentById = new Map<string, FulfillmentRecord>();
  readonly fulfillmentLineById = new Map<
    string,
    { fulfillment: FulfillmentRecord; line: FulfillmentLineRecord }
  >();
  readonly refundById = new Map<string, RefundRecord>();
  readonly returnById = new Map<string, ReturnRecord>();

  /** Quantities: one `Int32Array(locations × names)` per inventory item row. */
  private readonly qty: Int32Array[] = [];
  /** Last change per level: one `Float64Array(locations)` per row (0 = never changed since seeding). */
  private readonly levelUpdatedAt: Float64Array[] = [];
  private nextOrderNumber = 1001;

  constructor(readonly options: StoreSeedOptions) {
    this.retailer = createRetailer({
      seed: options.seed,
      items: options.items ?? 2000,
      stores: options.stores ?? 120,
      warehouses: options.warehouses ?? 1,
      currency: options.currency ?? 'USD',
    });
    this.currency = this.retailer.currency;
    this.seed();
  }

  private seed(): void {
    const t0 = this.options.createdAt;
    for (const seed of this.retailer.locations) this.addLocation(seed, t0 - 400 * 86_400_000);
    let product: ProductRecord | undefined;
    for (const item of this.retailer.items) {
      if (!product || product.handle !== item.productHandle) {
        product = {
          id: this.ids.id('Product'),
          handle: item.productHandle,
          title: item.productTitle,
          vendor: 'Omnihub Outfitters',
          productType: item.category,
          status: 'ACTIVE',
          tags: [item.category.toLowerCase()],
          descriptionHtml: `<p>${item.productTitle}</p>`,
          optionNames: item.size === 'OS' ? ['Color'] : ['Color', 'Size'],
          optionIds: [],
          variantIds: [],
          createdAt: t0 - 200 * 86_400_000,
          updatedAt: t0 - 30 * 86_400_000,
        };
        product.optionIds = product.optionNames.map(() => this.ids.id('ProductOption'));
        this.products.push(product);
        this.productById.set(product.id, product);
        this.productByHandle.set(product.handle, product);
      }
      const variant = this.addVariant(product, {
        sku: item.sku,
        title: item.variantTitle,
        barcode: item.barcode,
        priceMinor: item.priceMinor,
        optionValues: item.size === 'OS' ? [item.color] : [item.color, item.size],
        weightGrams: item.weightGrams,
        costMinor: item.costMinor,
        at: product.createdAt,
      });
      const inv = this.itemById.get(variant.inventoryItemId);
      if (!inv) continue;
      const q = this.qty[inv.row];
      if (!q) continue;
      for (const loc of this.locations) {
        q[loc.col * NQ + QIDX.available] = this.retailer.openingStock(item.sku, loc.code);
      }
    }
  }

  private addLocation(seed: SeedLocation, at: number): LocationRecord {
    const rec: LocationRecord = {
      id: this.ids.id('Location'),
      code: seed.code,
      // The cross-system code leads the name (`ST-001 New York 1`), as in the Square sandbox:
      // Shopify locations have no external-id field, so the hub maps them by this first word.
      name: `${seed.code} ${seed.name}`,
      kind: seed.kind,
      address1: `${100 + this.locations.length} Main Street`,
      city: seed.city,
      provinceCode: seed.region,
      countryCode: seed.country,
      zip: seed.postalCode,
      timezone: seed.timezone,
      isActive: true,
      fulfillsOnlineOrders: true,
      createdAt: at,
      updatedAt: at,
      col: this.locations.length,
    };
    this.locations.push(rec);
    this.locationById.set(rec.id, rec);
    this.locationByCode.set(rec.code, rec);
    return rec;
  }

  /** Adds a variant (and its inventory item, stocked at 0 at every location). */
  addVariant(
    product: ProductRecord,
    v: {
      sku: string;
      title: string;
      barcode: string | null;
      priceMinor: number;
      compareAtMinor?: number | null;
      optionValues: string[];
      weightGrams: number;
      costMinor: number;
      at: number;
      taxable?: boolean;
      inventoryPolicy?: 'DENY' | 'CONTINUE';
      tracked?: boolean;
      requiresShipping?: boolean;
    },
  ): VariantRecord {
    const variant: VariantRecord = {
      id: this.ids.id('ProductVariant'),
      productId: product.id,
      inventoryItemId: this.ids.id('InventoryItem'),
      sku: v.sku,
      title: v.title,
      barcode: v.barcode,
      priceMinor: v.priceMinor,
      compareAtMinor: v.compareAtMinor ?? null,
      position: product.variantIds.length + 1,
      taxable: v.taxable ?? true,
      inventoryPolicy: v.inventoryPolicy ?? 'DENY',
      optionValues: v.optionValues,
      weightGrams: v.weightGrams,
      createdAt: v.at,
      updatedAt: v.at,
    };
    const item: InventoryItemRecord = {
      id: variant.inventoryItemId,
      variantId: variant.id,
      sku: v.sku,
      tracked: v.tracked ?? true,
      requiresShipping: v.requiresShipping ?? true,
      costMinor: v.costMinor,
      createdAt: v.at,
      updatedAt: v.at,
      row: this.qty.length,
    };
    this.qty.push(new Int32Array(this.locations.length * NQ));
    this.levelUpdatedAt.push(new Float64Array(this.locations.length));
    product.variantIds.push(variant.id);
    this.variants.push(variant);
    this.variantById.set(variant.id, variant);
    this.variantBySku.set(variant.sku, variant);
    this.inventoryItems.push(item);
    this.itemById.set(item.id, item);
    this.itemBySku.set(item.sku, item);
    return variant;
  }

  /** All stored quantities of one level, plus `on_hand`. */
  quantities(item: InventoryItemRecord, loc: LocationRecord): Record<QuantityName, number> {
    const q = this.qty[item.row];
    const base = loc.col * NQ;
    const out = {} as Record<StoredQuantityName, number>;
    for (const name of STORED_QUANTITY_NAMES) out[name] = q ? (q[base + QIDX[name]] ?? 0) : 0;
    return { ...out, on_hand: onHand(out) };
  }

  /** One quantity (`on_hand` derived). */
  quantity(item: InventoryItemRecord, loc: LocationRecord, name: QuantityName): number {
    return this.quantities(item, loc)[name];
  }

  /**
   * Adds `delta` to a stored quantity (no validation; callers enforce Shopify's rules) and stamps
   * the level's update time.
   */
  addQuantity(
    item: InventoryItemRecord,
    loc: LocationRecord,
    name: StoredQuantityName,
    delta: number,
    at: number,
  ): void {
    const q = this.qty[item.row];
    const u = this.levelUpdatedAt[item.row];
    if (!q || !u) return;
    const i = loc.col * NQ + QIDX[name];
    q[i] = (q[i] ?? 0) + delta;
    u[loc.col] = Math.max(at, u[loc.col] ?? 0);
  }

  /** When a level last changed (its item's creation when it never did). */
  levelUpdated(item: InventoryItemRecord, loc: LocationRecord): number {
    const t = this.levelUpdatedAt[item.row]?.[loc.col] ?? 0;
    return t > 0 ? t : Math.max(item.createdAt, loc.createdAt);
  }

  /** Sum of `available` over all locations (a variant's `inventoryQuantity`). */
  totalAvailable(item: InventoryItemRecord): number {
    const q = this.qty[item.row];
    if (!q) return 0;
    let sum = 0;
    for (let c = 0; c < this.locations.length; c++) sum += q[c * NQ + QIDX.available] ?? 0;
    return sum;
  }

  /** The next order number (`#1001`, `#1002`, …). */
  nextNumber(): number {
    return this.nextOrderNumber++;
  }

  addOrder(order: OrderRecord): void {
    this.orders.push(order);
    this.orderById.set(order.id, order);
  }

  addFulfillmentOrder(fo: FulfillmentOrderRecord): void {
    this.fulfillmentOrders.push(fo);
    this.fulfillmentOrderById.set(fo.id, fo);
  }

  addFulfillment(f: FulfillmentRecord): void {
    this.fulfillments.push(f);
    this.fulfillmentById.set(f.id, f);
    for (const line of f.lineItems) this.fulfillmentLineById.set(line.id, { fulfillment: f, line });
  }

  addRefund(r: RefundRecord): void {
    this.refunds.push(r);
    this.refundById.set(r.id, r);
  }

  addReturn(r: ReturnRecord): void {
    this.returns.push(r);
    this.returnById.set(r.id, r);
  }

  /** The line item with `id` and its order. */
  lineItem(id: string): { order: OrderRecord; line: LineItemRecord } | undefined {
    for (const order of this.orders) {
      const line = order.lineItems.find((l) => l.id === id);
      if (line) return { order, line };
    }
    return undefined;
  }

  /** The location fulfilling online orders by default (the first warehouse). */
  get onlineWarehouse(): LocationRecord {
    const wh = this.locations.find((l) => l.kind === 'warehouse') ?? this.locations[0];
    if (!wh) throw new Error('store has no locations');
    return wh;
  }
}
