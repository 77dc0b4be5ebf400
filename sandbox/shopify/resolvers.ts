import { type FieldNode, GraphQLError, type GraphQLResolveInfo, getDirectiveValues } from 'graphql';
import { canonicalJson } from '../core/json.ts';
import { type Commerce, CommerceError } from './commerce.ts';
import type { IdempotencyStore, StoredOutcome } from './idempotency.ts';
import { decimal, gid, gqlTime, inventoryLevelGid, parseDecimal, parseGid } from './ids.ts';
import {
  currentQuantity,
  displayFulfillmentStatus,
  editedQuantity,
  financialStatus,
  fulfillableQuantity,
  lineTax,
  totals,
} from './orders.ts';
import { shopifyPaymentsAccountView } from './payments.ts';
import { type Fields, matches, type PageArgs, paginate, parseQuery } from './query.ts';
import { idempotentDirective } from './schema.ts';
import {
  type AdjustmentChangeRecord,
  type AdjustmentGroupRecord,
  type FulfillmentOrderRecord,
  type FulfillmentRecord,
  type InventoryItemRecord,
  type LineItemRecord,
  type LocationRecord,
  type OrderRecord,
  type PriceWriteRecord,
  type ProductRecord,
  QUANTITY_NAMES,
  type QuantityName,
  type RefundRecord,
  type ReturnRecord,
  type ShopStore,
  type StoredQuantityName,
  type VariantRecord,
  type WebhookSubscriptionRecord,
} from './store.ts';
import { parseTopic, topicEnum } from './webhooks.ts';

/**
 * Resolvers for the Admin schema: read views over the store's records (Shopify-shaped objects whose
 * function-valued fields take the GraphQL arguments) and the mutations, which validate like Shopify
 * (userErrors with `field`, `message`, `code`) and delegate the business effects to
 * {@link Commerce}.
 */

type View = Record<string, unknown>;
type Args = Record<string, unknown>;

/** What every resolver sees. */
export interface ResolverContext {
  store: ShopStore;
  commerce: Commerce;
  idempotency: IdempotencyStore;
  /** The store clock (monotonic epoch ms). */
  now(): number;
  /** Waits the injected latency once per request (mutations call it after reserving their key). */
  delay(): Promise<void>;
  shop: { id: string; name: string; domain: string; timeZone: string; planName: string; plus: boolean };
  apiVersion: string;
}

/**
 * Mutations that must carry `@idempotent(key:)` from 2026-04 (runtime check, not in the schema), per
 * the changelog "Making idempotency mandatory for inventory adjustments and refund mutations"
 * (https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations),
 * whose list names `refundCreate`, `inventoryAdjustQuantities`, `inventoryMoveQuantities`,
 * `inventorySetQuantities`, `inventorySetOnHandQuantities` and the `inventoryShipment*` mutations — the
 * ones of that list the sandbox serves. `referenceDocumentUri` stays optional (`String` in the SDL),
 * checked only when given.
 */
const IDEMPOTENCY_REQUIRED = new Set(['inventoryAdjustQuantities', 'inventorySetQuantities', 'refundCreate']);

/** `reason` values Shopify accepts for inventory changes (shopify.dev inventory reasons list). */
export const INVENTORY_REASONS = new Set([
  'correction',
  'cycle_count_available',
  'damaged',
  'movement_created',
  'movement_updated',
  'movement_received',
  'movement_canceled',
  'other',
  'promotion',
  'quality_control',
  'received',
  'reservation_created',
  'reservation_deleted',
  'reservation_updated',
  'restock',
  'safety_stock',
  'shrinkage',
]);

const QTY_LIMIT = 2_000_000_000;

// ------------------------------------------------------------------ helpers

function moneyV2(ctx: ResolverContext, minor: number): View {
  return { amount: decimal(minor), currencyCode: ctx.store.currency };
}

function moneyBag(ctx: ResolverContext, minor: number): View {
  return { shopMoney: moneyV2(ctx, minor), presentmentMoney: moneyV2(ctx, minor) };
}

function connection<T>(all: readonly T[], args: Args, keyOf: (t: T) => string, toView: (t: T) => View): View {
  const page = paginate(all, args as PageArgs, keyOf);
  const nodes = page.items.map(toView);
  return {
    edges: nodes.map((node, i) => ({ cursor: page.cursors[i], node })),
    nodes,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: page.cursors[0] ?? null,
      endCursor: page.cursors[page.cursors.length - 1] ?? null,
    },
  };
}

function firstN<T>(list: readonly T[], args: Args): readonly T[] {
  return typeof args.first === 'number' ? list.slice(0, args.first) : list;
}

function idOf(value: unknown, type: string): string | undefined {
  return parseGid(value, type)?.id;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);
const obj = (v: unknown): Args =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Args) : {};
const arr = (v: unknown): Args[] => (Array.isArray(v) ? v.map(obj) : []);

// ------------------------------------------------------------------ views

function locationView(ctx: ResolverContext, loc: LocationRecord): View {
  return {
    __typename: 'Location',
    id: gid('Location', loc.id),
    legacyResourceId: loc.id,
    name: loc.name,
    isActive: loc.isActive,
    fulfillsOnlineOrders: loc.fulfillsOnlineOrders,
    hasActiveInventory: true,
    shipsInventory: loc.kind === 'warehouse',
    address: {
      address1: loc.address1,
      address2: null,
      city: loc.city,
      province: loc.provinceCode,
      provinceCode: loc.provinceCode,
      country: 'United States',
      countryCode: loc.countryCode,
      zip: loc.zip,
      phone: null,
      formatted: [loc.address1, `${loc.city} ${loc.provinceCode} ${loc.zip}`, 'United States'],
    },
    createdAt: gqlTime(loc.createdAt),
    updatedAt: gqlTime(loc.updatedAt),
    inventoryLevel: (a: Args) => {
      const item = ctx.store.itemById.get(idOf(a.inventoryItemId, 'InventoryItem') ?? '');
      return item ? levelView(ctx, item, loc) : null;
    },
    inventoryLevels: (a: Args) => {
      const q = parseQuery(str(a.query));
      const items = ctx.store.inventoryItems.filter((item) => matches(q, { item, loc }, levelFields(ctx)));
      return connection(
        items,
        a,
        (i) => i.id,
        (i) => levelView(ctx, i, loc),
      );
    },
  };
}

function levelFields(ctx: ResolverContext): Fields<{ item: InventoryItemRecord; loc: LocationRecord }> {
  return {
    id: ({ loc }) => loc.id,
    inventory_item_id: ({ item }) => item.id,
    location_id: ({ loc }) => loc.id,
    updated_at: ({ item, loc }) => ctx.store.levelUpdated(item, loc),
    created_at: ({ item }) => item.createdAt,
  };
}

function levelView(ctx: ResolverContext, item: InventoryItemRecord, loc: LocationRecord): View {
  const updatedAt = ctx.store.levelUpdated(item, loc);
  return {
    __typename: 'InventoryLevel',
    id: inventoryLevelGid(loc.id, item.id),
    item: () => itemView(ctx, item),
    location: () => locationView(ctx, loc),
    quantities: (a: Args) => {
      const names = Array.isArray(a.names) ? a.names.filter((n): n is string => typeof n === 'string') : [];
      const q = ctx.store.quantities(item, loc);
      return names.map((name) => {
        const known = (QUANTITY_NAMES as readonly string[]).includes(name);
        return {
          __typename: 'InventoryQuantity',
          id: `gid://shopify/InventoryQuantity/${loc.id}?inventory_item_id=${item.id}&name=${encodeURIComponent(name)}`,
          name,
          quantity: known ? q[name as QuantityName] : 0,
          updatedAt: known ? gqlTime(updatedAt) : null,
        };
      });
    },
    isActive: true,
    canDeactivate: ctx.store.quantity(item, loc, 'committed') === 0,
    deactivationAlert: null,
    createdAt: gqlTime(Math.max(item.createdAt, loc.createdAt)),
    updatedAt: gqlTime(updatedAt),
  };
}

function itemView(ctx: ResolverContext, item: InventoryItemRecord): View {
  const variant = ctx.store.variantById.get(item.variantId);
  return {
    __typename: 'InventoryItem',
    id: gid('InventoryItem', item.id),
    legacyResourceId: item.id,
    sku: item.sku,
    tracked: item.tracked,
    requiresShipping: item.requiresShipping,
    unitCost: moneyV2(ctx, item.costMinor),
    createdAt: gqlTime(item.createdAt),
    updatedAt: gqlTime(item.updatedAt),
    variant: () => (variant ? variantView(ctx, variant) : null),
    variants: (a: Args) =>
      connection(
        variant ? [variant] : [],
        a,
        (v) => v.id,
        (v) => variantView(ctx, v),
      ),
    locationsCount: { count: ctx.store.locations.length, precision: 'EXACT' },
    inventoryLevel: (a: Args) => {
      const loc = ctx.store.locationById.get(idOf(a.locationId, 'Location') ?? '');
      return loc ? levelView(ctx, item, loc) : null;
    },
    inventoryLevels: (a: Args) => {
      const q = parseQuery(str(a.query));
      const locs = ctx.store.locations.filter((loc) => matches(q, { item, loc }, levelFields(ctx)));
      return connection(
        locs,
        a,
        (l) => l.id,
        (l) => levelView(ctx, item, l),
      );
    },
  };
}

function variantView(ctx: ResolverContext, v: VariantRecord): View {
  const product = ctx.store.productById.get(v.productId);
  const item = ctx.store.itemById.get(v.inventoryItemId);
  return {
    __typename: 'ProductVariant',
    id: gid('ProductVariant', v.id),
    legacyResourceId: v.id,
    title: v.title,
    displayName: `${product?.title ?? ''} - ${v.title}`,
    sku: v.sku,
    barcode: v.barcode,
    price: decimal(v.priceMinor),
    compareAtPrice: v.compareAtMinor === null ? null : decimal(v.compareAtMinor),
    position: v.position,
    taxable: v.taxable,
    availableForSale:
      product?.status === 'ACTIVE' &&
      (v.inventoryPolicy === 'CONTINUE' || (item ? ctx.store.totalAvailable(item) > 0 : false)),
    inventoryPolicy: v.inventoryPolicy,
    inventoryQuantity: item ? ctx.store.totalAvailable(item) : 0,
    inventoryItem: () => (item ? itemView(ctx, item) : null),
    product: () => (product ? productView(ctx, product) : null),
    selectedOptions: (product?.optionNames ?? []).map((name, i) => ({
      name,
      value: v.optionValues[i] ?? '',
    })),
    createdAt: gqlTime(v.createdAt),
    updatedAt: gqlTime(v.updatedAt),
  };
}

function productVariants(ctx: ResolverContext, p: ProductRecord): VariantRecord[] {
  return p.variantIds.flatMap((id) => {
    const v = ctx.store.variantById.get(id);
    return v ? [v] : [];
  });
}

function productView(ctx: ResolverContext, p: ProductRecord): View {
  const variants = productVariants(ctx, p);
  return {
    __typename: 'Product',
    id: gid('Product', p.id),
    legacyResourceId: p.id,
    title: p.title,
    handle: p.handle,
    status: p.status,
    vendor: p.vendor,
    productType: p.productType,
    tags: p.tags,
    descriptionHtml: p.descriptionHtml,
    createdAt: gqlTime(p.createdAt),
    updatedAt: gqlTime(p.updatedAt),
    totalInventory: variants.reduce((s, v) => {
      const item = ctx.store.itemById.get(v.inventoryItemId);
      return s + (item ? ctx.store.totalAvailable(item) : 0);
    }, 0),
    tracksInventory: true,
    options: (a: Args) =>
      firstN(p.optionNames, a).map((name, i) => {
        const values = [
          ...new Set(
            variants.map((v) => v.optionValues[i]).filter((x): x is string => typeof x === 'string'),
          ),
        ];
        return {
          __typename: 'ProductOption',
          id: gid('ProductOption', p.optionIds[i] ?? '0'),
          name,
          position: i + 1,
          values,
          optionValues: values.map((value, j) => ({
            id: `gid://shopify/ProductOptionValue/${p.optionIds[i] ?? '0'}${j}`,
            name: value,
          })),
        };
      }),
    variants: (a: Args) =>
      connection(
        variants,
        a,
        (v) => v.id,
        (v) => variantView(ctx, v),
      ),
    variantsCount: { count: variants.length, precision: 'EXACT' },
  };
}

function lineItemView(ctx: ResolverContext, order: OrderRecord, line: LineItemRecord): View {
  const variant = line.variantId ? ctx.store.variantById.get(line.variantId) : undefined;
  const product = line.productId ? ctx.store.productById.get(line.productId) : undefined;
  const qty = editedQuantity(line);
  const tax = lineTax(order, line, qty);
  return {
    __typename: 'LineItem',
    id: gid('LineItem', line.id),
    name: line.variantTitle ? `${line.title} - ${line.variantTitle}` : line.title,
    title: line.title,
    variantTitle: line.variantTitle,
    sku: line.sku,
    vendor: line.vendor,
    quantity: qty,
    currentQuantity: currentQuantity(line),
    unfulfilledQuantity: fulfillableQuantity(line, order),
    refundableQuantity: currentQuantity(line),
    requiresShipping: line.requiresShipping,
    taxable: line.taxable,
    // The sandbox sells no gift cards and applies no discounts (its webhooks say the same).
    isGiftCard: false,
    discountAllocations: [],
    variant: () => (variant ? variantView(ctx, variant) : null),
    product: () => (product ? productView(ctx, product) : null),
    originalUnitPriceSet: moneyBag(ctx, line.priceMinor),
    discountedUnitPriceSet: moneyBag(ctx, line.priceMinor),
    originalTotalSet: moneyBag(ctx, line.priceMinor * qty),
    discountedTotalSet: moneyBag(ctx, line.priceMinor * qty),
    totalDiscountSet: moneyBag(ctx, 0),
    taxLines: () =>
      tax === 0 && order.taxRateBp === 0
        ? []
        : [
            {
              title: order.taxTitle,
              rate: order.taxRateBp / 10_000,
              ratePercentage: order.taxRateBp / 100,
              priceSet: moneyBag(ctx, tax),
            },
          ],
  };
}

function orderView(ctx: ResolverContext, order: OrderRecord): View {
  const t = totals(order);
  const fin = financialStatus(order);
  return {
    __typename: 'Order',
    id: gid('Order', order.id),
    legacyResourceId: order.id,
    name: order.name,
    email: order.email,
    note: order.note,
    tags: order.tags,
    test: false,
    confirmed: true,
    closed: order.closedAt !== null,
    closedAt: order.closedAt === null ? null : gqlTime(order.closedAt),
    cancelledAt: order.cancelledAt === null ? null : gqlTime(order.cancelledAt),
    cancelReason: order.cancelReason,
    createdAt: gqlTime(order.createdAt),
    updatedAt: gqlTime(order.updatedAt),
    processedAt: gqlTime(order.processedAt),
    currencyCode: ctx.store.currency,
    presentmentCurrencyCode: ctx.store.currency,
    sourceName: order.sourceName,
    // As the sandbox's webhooks (payloads.ts): every order is paid through Shopify Payments, tax-exclusive.
    paymentGatewayNames: ['shopify_payments'],
    taxesIncluded: false,
    discountCodes: [],
    displayFinancialStatus: fin.toUpperCase(),
    displayFulfillmentStatus: displayFulfillmentStatus(order),
    customer: {
      __typename: 'Customer',
      id: gid('Customer', order.customer.id),
      legacyResourceId: order.customer.id,
      firstName: order.customer.firstName,
      lastName: order.customer.lastName,
      displayName: `${order.customer.firstName} ${order.customer.lastName}`,
      email: order.customer.email,
    },
    // The checkout's phone (a pick-up order's contact for the store: the sandbox customer's phone).
    phone: order.customer.phone,
    billingAddress: {
      __typename: 'MailingAddress',
      id: gid('MailingAddress', order.billingAddress.id),
      name: `${order.billingAddress.firstName} ${order.billingAddress.lastName}`,
      firstName: order.billingAddress.firstName,
      lastName: order.billingAddress.lastName,
      phone: order.billingAddress.phone,
    },
    shippingAddress: order.shippingAddress
      ? {
          __typename: 'MailingAddress',
          id: gid('MailingAddress', order.shippingAddress.id),
          name: `${order.shippingAddress.firstName} ${order.shippingAddress.lastName}`,
          firstName: order.shippingAddress.firstName,
          lastName: order.shippingAddress.lastName,
          address1: order.shippingAddress.address1,
          address2: null,
          city: order.shippingAddress.city,
          province: order.shippingAddress.province,
          provinceCode: order.shippingAddress.provinceCode,
          country: order.shippingAddress.country,
          countryCodeV2: order.shippingAddress.countryCode,
          zip: order.shippingAddress.zip,
          phone: order.shippingAddress.phone,
        }
      : null,
    retailLocation: null,
    lineItems: (a: Args) =>
      connection(
        order.lineItems,
        a,
        (l) => l.id,
        (l) => lineItemView(ctx, order, l),
      ),
    shippingLines: (a: Args) =>
      connection(
        [order.shippingLine],
        a,
        (s) => s.id,
        (s) => ({
          id: gid('ShippingLine', s.id),
          title: s.title,
          code: s.code,
          source: s.source,
          deliveryCategory: s.deliveryCategory,
          originalPriceSet: moneyBag(ctx, s.priceMinor),
          discountedPriceSet: moneyBag(ctx, s.priceMinor),
          discountAllocations: [],
          taxLines: [],
        }),
      ),
    fulfillmentOrders: (a: Args) => {
      const q = parseQuery(str(a.query));
      const fos = order.fulfillmentOrderIds
        .flatMap((id) => {
          const fo = ctx.store.fulfillmentOrderById.get(id);
          return fo ? [fo] : [];
        })
        .filter((fo) => matches(q, fo, foFields));
      return connection(
        fos,
        a,
        (f) => f.id,
        (f) => fulfillmentOrderView(ctx, f),
      );
    },
    // The order's payment transactions (sale, capture, refund), oldest first: what a refund names as parent.
    transactions: (a: Args) =>
      firstN(
        order.transactions.map((t) => t.id),
        a,
      ).flatMap((id) => {
        const t = order.transactions.find((x) => x.id === id);
        return t
          ? [
              {
                __typename: 'OrderTransaction',
                id: gid('OrderTransaction', t.id),
                kind: t.kind,
                status: t.status,
                gateway: t.gateway,
                amountSet: moneyBag(ctx, t.amountMinor),
                createdAt: gqlTime(t.createdAt),
                processedAt: gqlTime(t.createdAt),
              },
            ]
          : [];
      }),
    fulfillments: (a: Args) =>
      firstN(order.fulfillmentIds, a).flatMap((id) => {
        const f = ctx.store.fulfillmentById.get(id);
        return f ? [fulfillmentView(ctx, f)] : [];
      }),
    refunds: (a: Args) =>
      firstN(order.refundIds, a).flatMap((id) => {
        const r = ctx.store.refundById.get(id);
        return r ? [refundView(ctx, r)] : [];
      }),
    returns: (a: Args) => {
      const rets = order.returnIds.flatMap((id) => {
        const r = ctx.store.returnById.get(id);
        return r ? [r] : [];
      });
      return connection(
        rets,
        a,
        (r) => r.id,
        (r) => returnView(ctx, r),
      );
    },
    taxLines:
      t.tax === 0 && order.taxRateBp === 0
        ? []
        : [
            {
              title: order.taxTitle,
              rate: order.taxRateBp / 10_000,
              ratePercentage: order.taxRateBp / 100,
              priceSet: moneyBag(ctx, t.tax),
            },
          ],
    subtotalPriceSet: moneyBag(ctx, t.subtotal),
    totalDiscountsSet: moneyBag(ctx, 0),
    totalShippingPriceSet: moneyBag(ctx, t.shipping),
    totalTaxSet: moneyBag(ctx, t.tax),
    totalPriceSet: moneyBag(ctx, t.total),
    totalRefundedSet: moneyBag(ctx, t.refunded),
    currentSubtotalPriceSet: moneyBag(ctx, t.currentSubtotal),
    currentTotalTaxSet: moneyBag(ctx, t.currentTax),
    currentTotalPriceSet: moneyBag(ctx, t.currentTotal),
    totalOutstandingSet: moneyBag(ctx, t.outstanding),
  };
}

const foFields: Fields<FulfillmentOrderRecord> = {
  id: (fo) => fo.id,
  status: (fo) => fo.status.toLowerCase(),
  assigned_location_id: (fo) => fo.locationId,
  order_id: (fo) => fo.orderId,
  updated_at: (fo) => fo.updatedAt,
  created_at: (fo) => fo.createdAt,
  delivery_method: (fo) => (fo.deliveryMethod === 'PICK_UP' ? 'pick-up' : 'shipping'),
};

function fulfillmentOrderView(ctx: ResolverContext, fo: FulfillmentOrderRecord): View {
  const order = ctx.store.orderById.get(fo.orderId);
  const loc = ctx.store.locationById.get(fo.locationId);
  const open = fo.status === 'OPEN' || fo.status === 'IN_PROGRESS';
  const actions: string[] = [];
  // Shopify's FulfillmentOrderAction has no pick-up action: readiness for pick-up is the
  // fulfillmentOrderLineItemsPreparedForPickup mutation, not an advertised action.
  if (open) actions.push('CREATE_FULFILLMENT', 'HOLD', 'MOVE');
  return {
    __typename: 'FulfillmentOrder',
    id: gid('FulfillmentOrder', fo.id),
    status: fo.status,
    requestStatus: 'UNSUBMITTED',
    createdAt: gqlTime(fo.createdAt),
    updatedAt: gqlTime(fo.updatedAt),
    fulfillAt: gqlTime(fo.createdAt),
    orderId: gid('Order', fo.orderId),
    orderName: order?.name ?? '',
    order: () => (order ? orderView(ctx, order) : null),
    assignedLocation: {
      name: loc?.name ?? '',
      address1: loc?.address1 ?? null,
      city: loc?.city ?? null,
      province: loc?.provinceCode ?? null,
      countryCode: loc?.countryCode ?? 'US',
      zip: loc?.zip ?? null,
      location: () => (loc ? locationView(ctx, loc) : null),
    },
    deliveryMethod: {
      __typename: 'DeliveryMethod',
      id: gid('DeliveryMethod', fo.deliveryMethodId),
      methodType: fo.deliveryMethod,
      presentedName: fo.deliveryMethod === 'PICK_UP' ? 'Pickup in store' : 'Standard Shipping',
    },
    supportedActions: actions.map((action) => ({ action })),
    lineItems: (a: Args) =>
      connection(
        fo.lineItems,
        a,
        (l) => l.id,
        (l) => {
          const line = order?.lineItems.find((x) => x.id === l.lineItemId);
          const variant = line?.variantId ? ctx.store.variantById.get(line.variantId) : undefined;
          return {
            __typename: 'FulfillmentOrderLineItem',
            id: gid('FulfillmentOrderLineItem', l.id),
            totalQuantity: l.totalQuantity,
            remainingQuantity: l.remainingQuantity,
            sku: line?.sku ?? null,
            productTitle: line?.title ?? '',
            variantTitle: line?.variantTitle ?? null,
            inventoryItemId: variant ? gid('InventoryItem', variant.inventoryItemId) : null,
            lineItem: () => (order && line ? lineItemView(ctx, order, line) : null),
            variant: () => (variant ? variantView(ctx, variant) : null),
          };
        },
      ),
  };
}

function fulfillmentLineView(ctx: ResolverContext, f: FulfillmentRecord, lineId: string): View | null {
  const fl = f.lineItems.find((l) => l.id === lineId);
  const order = ctx.store.orderById.get(f.orderId);
  const line = order?.lineItems.find((l) => l.id === fl?.lineItemId);
  if (!fl || !order || !line) return null;
  return {
    __typename: 'FulfillmentLineItem',
    id: gid('FulfillmentLineItem', fl.id),
    quantity: fl.quantity,
    lineItem: () => lineItemView(ctx, order, line),
  };
}

function fulfillmentView(ctx: ResolverContext, f: FulfillmentRecord): View {
  const loc = ctx.store.locationById.get(f.locationId);
  const order = ctx.store.orderById.get(f.orderId);
  return {
    __typename: 'Fulfillment',
    id: gid('Fulfillment', f.id),
    legacyResourceId: f.id,
    name: f.name,
    status: f.status,
    createdAt: gqlTime(f.createdAt),
    updatedAt: gqlTime(f.updatedAt),
    location: () => (loc ? locationView(ctx, loc) : null),
    order: () => (order ? orderView(ctx, order) : null),
    trackingInfo: () =>
      f.trackingNumber ? [{ company: f.trackingCompany, number: f.trackingNumber, url: null }] : [],
    fulfillmentLineItems: (a: Args) =>
      connection(
        f.lineItems,
        a,
        (l) => l.id,
        (l) => fulfillmentLineView(ctx, f, l.id) ?? {},
      ),
  };
}

function refundView(ctx: ResolverContext, r: RefundRecord): View {
  const order = ctx.store.orderById.get(r.orderId);
  const ret = r.returnId ? ctx.store.returnById.get(r.returnId) : undefined;
  const txs = (order?.transactions ?? []).filter((t) => r.transactionIds.includes(t.id));
  return {
    __typename: 'Refund',
    id: gid('Refund', r.id),
    legacyResourceId: r.id,
    createdAt: gqlTime(r.createdAt),
    updatedAt: gqlTime(r.createdAt),
    note: r.note,
    order: () => (order ? orderView(ctx, order) : null),
    return: () => (ret ? returnView(ctx, ret) : null),
    totalRefundedSet: moneyBag(
      ctx,
      txs.reduce((s, t) => s + t.amountMinor, 0),
    ),
    refundLineItems: (a: Args) =>
      connection(
        r.lineItems,
        a,
        (l) => l.id,
        (l) => {
          const line = order?.lineItems.find((x) => x.id === l.lineItemId);
          const loc = l.locationId ? ctx.store.locationById.get(l.locationId) : undefined;
          return {
            id: gid('RefundLineItem', l.id),
            lineItem: () => (order && line ? lineItemView(ctx, order, line) : null),
            quantity: l.quantity,
            restockType: l.restockType,
            restocked: l.restockType !== 'NO_RESTOCK',
            location: () => (loc ? locationView(ctx, loc) : null),
            priceSet: moneyBag(ctx, line?.priceMinor ?? 0),
            subtotalSet: moneyBag(ctx, l.subtotalMinor),
            totalTaxSet: moneyBag(ctx, l.taxMinor),
          };
        },
      ),
    transactions: (a: Args) =>
      connection(
        txs,
        a,
        (t) => t.id,
        (t) => ({
          __typename: 'OrderTransaction',
          id: gid('OrderTransaction', t.id),
          kind: t.kind,
          status: t.status,
          gateway: t.gateway,
          amountSet: moneyBag(ctx, t.amountMinor),
          createdAt: gqlTime(t.createdAt),
          processedAt: gqlTime(t.createdAt),
        }),
      ),
  };
}

function returnView(ctx: ResolverContext, r: ReturnRecord): View {
  const order = ctx.store.orderById.get(r.orderId);
  const lineView = (l: ReturnRecord['lineItems'][number]): View => {
    const found = ctx.store.fulfillmentLineById.get(l.fulfillmentLineItemId);
    return {
      __typename: 'ReturnLineItem',
      id: gid('ReturnLineItem', l.id),
      quantity: l.quantity,
      processedQuantity: l.processedQuantity,
      unprocessedQuantity: l.quantity - l.processedQuantity,
      refundableQuantity: l.processedQuantity - l.refundedQuantity,
      refundedQuantity: l.refundedQuantity,
      returnReasonNote: l.returnReasonNote,
      fulfillmentLineItem: () => (found ? fulfillmentLineView(ctx, found.fulfillment, found.line.id) : null),
    };
  };
  return {
    __typename: 'Return',
    id: gid('Return', r.id),
    name: r.name,
    status: r.status,
    createdAt: gqlTime(r.createdAt),
    closedAt: r.closedAt === null ? null : gqlTime(r.closedAt),
    totalQuantity: r.lineItems.reduce((s, l) => s + l.quantity, 0),
    order: () => (order ? orderView(ctx, order) : null),
    returnLineItems: (a: Args) => connection(r.lineItems, a, (l) => l.id, lineView),
    reverseFulfillmentOrders: (a: Args) =>
      connection(
        [r],
        a,
        (x) => x.reverseFulfillmentOrderId,
        (x) => ({
          __typename: 'ReverseFulfillmentOrder',
          id: gid('ReverseFulfillmentOrder', x.reverseFulfillmentOrderId),
          status: x.status === 'CLOSED' ? 'CLOSED' : 'OPEN',
          order: () => (order ? orderView(ctx, order) : null),
          lineItems: (b: Args) =>
            connection(
              x.lineItems,
              b,
              (l) => l.reverseLineId,
              (l) => {
                const found = ctx.store.fulfillmentLineById.get(l.fulfillmentLineItemId);
                return {
                  __typename: 'ReverseFulfillmentOrderLineItem',
                  id: gid('ReverseFulfillmentOrderLineItem', l.reverseLineId),
                  totalQuantity: l.quantity,
                  fulfillmentLineItem: () =>
                    found ? fulfillmentLineView(ctx, found.fulfillment, found.line.id) : null,
                  dispositions: l.dispositions.map((d) => {
                    const loc = d.locationId ? ctx.store.locationById.get(d.locationId) : undefined;
                    return {
                      __typename: 'ReverseFulfillmentOrderDisposition',
                      id: `gid://shopify/ReverseFulfillmentOrderDisposition/${d.id}`,
                      quantity: d.quantity,
                      type: d.type,
                      location: () => (loc ? locationView(ctx, loc) : null),
                    };
                  }),
                };
              },
            ),
        }),
      ),
    refunds: (a: Args) =>
      connection(
        r.refundIds.flatMap((id) => {
          const ref = ctx.store.refundById.get(id);
          return ref ? [ref] : [];
        }),
        a,
        (x) => x.id,
        (x) => refundView(ctx, x),
      ),
  };
}

function adjustmentGroupView(ctx: ResolverContext, g: AdjustmentGroupRecord): View {
  return {
    __typename: 'InventoryAdjustmentGroup',
    id: gid('InventoryAdjustmentGroup', g.id),
    createdAt: gqlTime(g.createdAt),
    reason: g.reason,
    referenceDocumentUri: g.referenceDocumentUri,
    app: { __typename: 'App', id: gid('App', '2500017'), title: 'Omnihub', handle: 'omnihub' },
    changes: (a: Args) => {
      const items = Array.isArray(a.inventoryItemIds) ? a.inventoryItemIds : null;
      const locs = Array.isArray(a.locationIds) ? a.locationIds : null;
      const names = Array.isArray(a.quantityNames) ? a.quantityNames : null;
      return g.changes
        .filter(
          (c) =>
            (!items || items.includes(gid('InventoryItem', c.inventoryItemId))) &&
            (!locs || locs.includes(gid('Location', c.locationId))) &&
            (!names || names.includes(c.name)),
        )
        .map((c) => {
          const item = ctx.store.itemById.get(c.inventoryItemId);
          const loc = ctx.store.locationById.get(c.locationId);
          return {
            name: c.name,
            delta: c.delta,
            quantityAfterChange: c.quantityAfterChange,
            item: () => (item ? itemView(ctx, item) : null),
            location: () => (loc ? locationView(ctx, loc) : null),
            ledgerDocumentUri: c.ledgerDocumentUri,
          };
        });
    },
  };
}

function subscriptionView(ctx: ResolverContext, s: WebhookSubscriptionRecord): View {
  return {
    __typename: 'WebhookSubscription',
    id: gid('WebhookSubscription', s.id),
    topic: s.topic,
    uri: s.uri,
    callbackUrl: s.uri,
    format: s.format,
    includeFields: s.includeFields,
    filter: s.filter,
    apiVersion: { handle: ctx.apiVersion, displayName: ctx.apiVersion, supported: true },
    createdAt: gqlTime(s.createdAt),
    updatedAt: gqlTime(s.updatedAt),
  };
}

function nodeById(ctx: ResolverContext, value: unknown): View | null {
  const g = parseGid(value);
  if (!g) return null;
  const s = ctx.store;
  switch (g.type) {
    case 'Location': {
      const r = s.locationById.get(g.id);
      return r ? locationView(ctx, r) : null;
    }
    case 'InventoryItem': {
      const r = s.itemById.get(g.id);
      return r ? itemView(ctx, r) : null;
    }
    case 'InventoryLevel': {
      const itemId = /inventory_item_id=(\d+)/.exec(g.query)?.[1];
      const item = itemId ? s.itemById.get(itemId) : undefined;
      const loc = s.locationById.get(g.id);
      return item && loc ? levelView(ctx, item, loc) : null;
    }
    case 'Product': {
      const r = s.productById.get(g.id);
      return r ? productView(ctx, r) : null;
    }
    case 'ProductVariant': {
      const r = s.variantById.get(g.id);
      return r ? variantView(ctx, r) : null;
    }
    case 'Order': {
      const r = s.orderById.get(g.id);
      return r ? orderView(ctx, r) : null;
    }
    case 'LineItem': {
      const r = s.lineItem(g.id);
      return r ? lineItemView(ctx, r.order, r.line) : null;
    }
    case 'FulfillmentOrder': {
      const r = s.fulfillmentOrderById.get(g.id);
      return r ? fulfillmentOrderView(ctx, r) : null;
    }
    case 'Fulfillment': {
      const r = s.fulfillmentById.get(g.id);
      return r ? fulfillmentView(ctx, r) : null;
    }
    case 'Refund': {
      const r = s.refundById.get(g.id);
      return r ? refundView(ctx, r) : null;
    }
    case 'Return': {
      const r = s.returnById.get(g.id);
      return r ? returnView(ctx, r) : null;
    }
    case 'InventoryAdjustmentGroup': {
      const r = s.adjustmentGroups.get(g.id);
      return r ? adjustmentGroupView(ctx, r) : null;
    }
    case 'WebhookSubscription': {
      const r = s.subscriptions.find((x) => x.id === g.id);
      return r ? subscriptionView(ctx, r) : null;
    }
    default:
      return null;
  }
}

// ------------------------------------------------------------------ search fields

const itemFields: Fields<InventoryItemRecord> = {
  sku: (i) => i.sku,
  id: (i) => i.id,
  created_at: (i) => i.createdAt,
  updated_at: (i) => i.updatedAt,
  default: (i) => i.sku,
};

function variantFields(ctx: ResolverContext): Fields<VariantRecord> {
  return {
    sku: (v) => v.sku,
    id: (v) => v.id,
    barcode: (v) => v.barcode,
    title: (v) => v.title,
    product_id: (v) => v.productId,
    inventory_item_id: (v) => v.inventoryItemId,
    updated_at: (v) => v.updatedAt,
    created_at: (v) => v.createdAt,
    product_status: (v) => ctx.store.productById.get(v.productId)?.status.toLowerCase(),
    default: (v) => v.sku,
  };
}

function productFields(ctx: ResolverContext): Fields<ProductRecord> {
  return {
    id: (p) => p.id,
    title: (p) => p.title,
    handle: (p) => p.handle,
    status: (p) => p.status.toLowerCase(),
    vendor: (p) => p.vendor,
    product_type: (p) => p.productType,
    tag: (p) => p.tags,
    sku: (p) => productVariants(ctx, p).map((v) => v.sku),
    updated_at: (p) => p.updatedAt,
    created_at: (p) => p.createdAt,
    default: (p) => p.title,
  };
}

const orderFields: Fields<OrderRecord> = {
  id: (o) => o.id,
  name: (o) => [o.name, o.name.replace('#', '')],
  email: (o) => o.email,
  status: (o) => (o.cancelledAt !== null ? 'cancelled' : o.closedAt !== null ? 'closed' : 'open'),
  financial_status: (o) => financialStatus(o),
  fulfillment_status: (o) => {
    const s = displayFulfillmentStatus(o);
    return s === 'FULFILLED'
      ? ['shipped', 'fulfilled']
      : s === 'PARTIALLY_FULFILLED'
        ? ['partial']
        : ['unshipped', 'unfulfilled'];
  },
  created_at: (o) => o.createdAt,
  updated_at: (o) => o.updatedAt,
  processed_at: (o) => o.processedAt,
  sku: (o) => o.lineItems.flatMap((l) => (l.sku ? [l.sku] : [])),
  tag: (o) => o.tags,
  delivery_method: (o) => (o.delivery === 'PICK_UP' ? 'pick-up' : 'shipping'),
  fulfillment_location_id: (o) => o.locationId,
  source_name: (o) => o.sourceName,
  default: (o) => [o.name, o.email],
};

const locationFields: Fields<LocationRecord> = {
  id: (l) => l.id,
  name: (l) => l.name,
  active: (l) => String(l.isActive),
  default: (l) => l.name,
};

const ORDER_SORT: Record<string, (o: OrderRecord) => number> = {
  ID: (o) => Number(o.id),
  CREATED_AT: (o) => o.createdAt,
  UPDATED_AT: (o) => o.updatedAt,
  PROCESSED_AT: (o) => o.processedAt,
  ORDER_NUMBER: (o) => o.number,
  TOTAL_PRICE: (o) => totals(o).total,
};

// ------------------------------------------------------------------ queries

/** Root query resolvers. */
export function queryRoot(ctx: ResolverContext): View {
  const s = ctx.store;
  return {
    shop: {
      __typename: 'Shop',
      id: gid('Shop', ctx.shop.id),
      name: ctx.shop.name,
      myshopifyDomain: ctx.shop.domain,
      currencyCode: s.currency,
      ianaTimezone: ctx.shop.timeZone,
      plan: { displayName: ctx.shop.planName, partnerDevelopment: false, shopifyPlus: ctx.shop.plus },
    },
    node: (a: Args) => nodeById(ctx, a.id),
    nodes: (a: Args) => (Array.isArray(a.ids) ? a.ids.map((id) => nodeById(ctx, id)) : []),
    location: (a: Args) => {
      if (a.id === undefined || a.id === null) return locationView(ctx, s.onlineWarehouse);
      const r = s.locationById.get(idOf(a.id, 'Location') ?? '');
      return r ? locationView(ctx, r) : null;
    },
    locations: (a: Args) => {
      const q = parseQuery(str(a.query));
      const list = s.locations.filter(
        (l) => (a.includeInactive === true || l.isActive) && matches(q, l, locationFields),
      );
      return connection(
        list,
        a,
        (l) => l.id,
        (l) => locationView(ctx, l),
      );
    },
    inventoryItem: (a: Args) => {
      const r = s.itemById.get(idOf(a.id, 'InventoryItem') ?? '');
      return r ? itemView(ctx, r) : null;
    },
    inventoryItems: (a: Args) => {
      const q = parseQuery(str(a.query));
      const exactSku = skuLookup(q);
      const pool =
        exactSku !== undefined
          ? s.itemBySku.get(exactSku)
            ? [s.itemBySku.get(exactSku) as InventoryItemRecord]
            : []
          : s.inventoryItems;
      return connection(
        pool.filter((i) => matches(q, i, itemFields)),
        a,
        (i) => i.id,
        (i) => itemView(ctx, i),
      );
    },
    inventoryLevel: (a: Args) => nodeById(ctx, a.id),
    product: (a: Args) => {
      const r = s.productById.get(idOf(a.id, 'Product') ?? '');
      return r ? productView(ctx, r) : null;
    },
    productByIdentifier: (a: Args) => {
      const ident = obj(a.identifier);
      const r = str(ident.id)
        ? s.productById.get(idOf(ident.id, 'Product') ?? '')
        : s.productByHandle.get(str(ident.handle) ?? '');
      return r ? productView(ctx, r) : null;
    },
    products: (a: Args) => {
      const q = parseQuery(str(a.query));
      const list = s.products.filter((p) => matches(q, p, productFields(ctx)));
      return connection(
        list,
        a,
        (p) => p.id,
        (p) => productView(ctx, p),
      );
    },
    productVariant: (a: Args) => {
      const r = s.variantById.get(idOf(a.id, 'ProductVariant') ?? '');
      return r ? variantView(ctx, r) : null;
    },
    productVariants: (a: Args) => {
      const q = parseQuery(str(a.query));
      const exactSku = skuLookup(q);
      const pool =
        exactSku !== undefined
          ? s.variantBySku.get(exactSku)
            ? [s.variantBySku.get(exactSku) as VariantRecord]
            : []
          : s.variants;
      return connection(
        pool.filter((v) => matches(q, v, variantFields(ctx))),
        a,
        (v) => v.id,
        (v) => variantView(ctx, v),
      );
    },
    order: (a: Args) => {
      const r = s.orderById.get(idOf(a.id, 'Order') ?? '');
      return r ? orderView(ctx, r) : null;
    },
    orders: (a: Args) => {
      const q = parseQuery(str(a.query));
      // Shopify's default order is PROCESSED_AT (the argument's default in the schema).
      const key = ORDER_SORT[str(a.sortKey) ?? 'PROCESSED_AT'] ?? ORDER_SORT.PROCESSED_AT;
      const list = s.orders.filter((o) => matches(q, o, orderFields));
      const sorted = key ? [...list].sort((x, y) => key(x) - key(y) || Number(x.id) - Number(y.id)) : list;
      return connection(
        sorted,
        a,
        (o) => o.id,
        (o) => orderView(ctx, o),
      );
    },
    fulfillmentOrder: (a: Args) => {
      const r = s.fulfillmentOrderById.get(idOf(a.id, 'FulfillmentOrder') ?? '');
      return r ? fulfillmentOrderView(ctx, r) : null;
    },
    fulfillmentOrders: (a: Args) => {
      const q = parseQuery(str(a.query));
      const list = s.fulfillmentOrders.filter(
        (fo) =>
          (a.includeClosed === true || (fo.status !== 'CLOSED' && fo.status !== 'CANCELLED')) &&
          matches(q, fo, foFields),
      );
      return connection(
        list,
        a,
        (f) => f.id,
        (f) => fulfillmentOrderView(ctx, f),
      );
    },
    refund: (a: Args) => {
      const r = s.refundById.get(idOf(a.id, 'Refund') ?? '');
      return r ? refundView(ctx, r) : null;
    },
    return: (a: Args) => {
      const r = s.returnById.get(idOf(a.id, 'Return') ?? '');
      return r ? returnView(ctx, r) : null;
    },
    shopifyPaymentsAccount: () => shopifyPaymentsAccountView(s, ctx.shop.id),
    webhookSubscription: (a: Args) => nodeById(ctx, a.id),
    webhookSubscriptions: (a: Args) => {
      const topics = Array.isArray(a.topics) ? a.topics : null;
      const list = s.subscriptions.filter(
        (x) => (!topics || topics.includes(x.topic)) && (typeof a.uri !== 'string' || x.uri === a.uri),
      );
      return connection(
        list,
        a,
        (x) => x.id,
        (x) => subscriptionView(ctx, x),
      );
    },
  };
}

/** `sku:ABC` alone (the common lookup) answers from the SKU index instead of a scan. */
function skuLookup(q: ReturnType<typeof parseQuery>): string | undefined {
  const only = q.length === 1 ? q[0] : undefined;
  const term = only && only.length === 1 ? only[0] : undefined;
  return term && term.field === 'sku' && term.op === ':' && !term.negate && !term.value.endsWith('*')
    ? term.value
    : undefined;
}

// ------------------------------------------------------------------ mutations

interface UserErr {
  field: string[] | null;
  message: string;
  code: string | null;
}

function userError(field: string[] | null, message: string, code: string | null = null): UserErr {
  return { field, message, code };
}

function fieldNode(info: GraphQLResolveInfo): FieldNode {
  const n = info.fieldNodes[0];
  if (!n) throw new Error('resolver without a field node');
  return n;
}

/** The `@idempotent(key:)` value on this field, if any. */
function idempotencyKey(info: GraphQLResolveInfo): string | undefined {
  const values = getDirectiveValues(idempotentDirective(), fieldNode(info), info.variableValues);
  return typeof values?.key === 'string' ? values.key : undefined;
}

/**
 * Runs a mutation under Shopify's idempotency rules: mandatory key check, replay of a finished
 * operation (rendered from current state), mismatch/concurrency userErrors, and the injected
 * latency inside the in-progress window (so concurrent duplicates are observable).
 */
async function idempotent(
  ctx: ResolverContext,
  info: GraphQLResolveInfo,
  args: Args,
  run: () => StoredOutcome,
  render: (outcome: StoredOutcome) => View,
): Promise<View> {
  const name = info.fieldName;
  const key = idempotencyKey(info);
  if (key === undefined && IDEMPOTENCY_REQUIRED.has(name)) {
    throw new GraphQLError('The @idempotent directive is required for this mutation but was not provided.', {
      nodes: [fieldNode(info)],
      extensions: { code: 'BAD_REQUEST' },
    });
  }
  if (key === undefined) {
    await ctx.delay();
    return render(run());
  }
  const begin = ctx.idempotency.begin(key, `${name}:${canonicalJson(args)}`);
  if (begin.kind === 'error')
    return render({ refs: {}, userErrors: [userError(null, begin.message, begin.code)] });
  if (begin.kind === 'replay') return render(begin.outcome);
  try {
    await ctx.delay();
    const outcome = run();
    ctx.idempotency.complete(key, outcome);
    return render(outcome);
  } catch (err) {
    ctx.idempotency.abandon(key);
    throw err;
  }
}

function requireChangeFrom(info: GraphQLResolveInfo, rows: Args[], inputType: string): void {
  if (rows.some((r) => !('changeFromQuantity' in r))) {
    throw new GraphQLError(`${inputType} must include the following argument: changeFromQuantity.`, {
      nodes: [fieldNode(info)],
      extensions: { code: 'INVALID_FIELD_ARGUMENTS' },
    });
  }
}

function validUri(v: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\/?\S+$/i.test(v);
}

/** `ReturnErrorCode` of the pinned Admin schema (2025-04): the codes a return mutation's userErrors may carry. */
const RETURN_ERROR_CODES = new Set([
  'ALREADY_EXISTS',
  'BLANK',
  'CREATION_FAILED',
  'EQUAL_TO',
  'FEATURE_NOT_ENABLED',
  'GREATER_THAN',
  'GREATER_THAN_OR_EQUAL_TO',
  'INCLUSION',
  'INTERNAL_ERROR',
  'INVALID',
  'INVALID_STATE',
  'LESS_THAN',
  'LESS_THAN_OR_EQUAL_TO',
  'NOTIFICATION_FAILED',
  'NOT_A_NUMBER',
  'NOT_EDITABLE',
  'NOT_FOUND',
  'PRESENT',
  'TAKEN',
  'TOO_BIG',
  'TOO_LONG',
  'TOO_MANY_ARGUMENTS',
  'TOO_SHORT',
  'WRONG_LENGTH',
]);

function commerceErrors(err: unknown, prefix: string[]): UserErr[] {
  if (err instanceof CommerceError) {
    return [userError(err.field ? [...prefix, ...err.field] : null, err.message, err.code)];
  }
  throw err;
}

/** Root mutation resolvers. */
export function mutationRoot(ctx: ResolverContext): View {
  const s = ctx.store;
  const c = ctx.commerce;

  const groupPayload = (o: StoredOutcome): View => {
    const g = o.refs.group ? s.adjustmentGroups.get(o.refs.group) : undefined;
    return { inventoryAdjustmentGroup: g ? adjustmentGroupView(ctx, g) : null, userErrors: o.userErrors };
  };

  return {
    inventorySetQuantities: async (a: Args, _c: unknown, info: GraphQLResolveInfo) => {
      const input = obj(a.input);
      const rows = arr(input.quantities);
      requireChangeFrom(info, rows, 'InventoryQuantityInput');
      return idempotent(ctx, info, a, () => setQuantities(ctx, input, rows), groupPayload);
    },

    inventoryAdjustQuantities: async (a: Args, _c: unknown, info: GraphQLResolveInfo) => {
      const input = obj(a.input);
      const rows = arr(input.changes);
      requireChangeFrom(info, rows, 'InventoryChangeInput');
      return idempotent(ctx, info, a, () => adjustQuantities(ctx, input, rows), groupPayload);
    },

    fulfillmentOrderLineItemsPreparedForPickup: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        (): StoredOutcome => {
          const rows = arr(obj(a.input).lineItemsByFulfillmentOrder);
          const errors: UserErr[] = [];
          const fos: FulfillmentOrderRecord[] = [];
          rows.forEach((r, i) => {
            const fo = s.fulfillmentOrderById.get(idOf(r.fulfillmentOrderId, 'FulfillmentOrder') ?? '');
            if (!fo) {
              errors.push(
                userError(
                  ['input', 'lineItemsByFulfillmentOrder', String(i), 'fulfillmentOrderId'],
                  'Fulfillment order does not exist.',
                  'FULFILLMENT_ORDER_INVALID',
                ),
              );
            } else fos.push(fo);
          });
          if (errors.length === 0) {
            const at = ctx.now();
            for (const [i, fo] of fos.entries()) {
              try {
                c.prepareForPickup(fo, at);
              } catch (err) {
                errors.push(
                  ...commerceErrors(err, ['input']).map((e) => ({
                    ...e,
                    field: e.field ? e.field.map((f) => (f === '0' ? String(i) : f)) : null,
                  })),
                );
              }
            }
          }
          return { refs: {}, userErrors: errors };
        },
        (o) => ({ userErrors: o.userErrors }),
      ),

    // orderCancel (https://shopify.dev/docs/api/admin-graphql/2025-04/mutations/orderCancel): Shopify runs it as
    // a Job; the sandbox completes it at once (the Job is `done`) with a full refund and restock — the only
    // combination the sandbox supports (refund/restock false are refused, never silently ignored).
    orderCancel: async (a: Args) => {
      await ctx.delay();
      const errors = (message: string, code: string, field: string[]) => ({
        job: null,
        orderCancelUserErrors: [{ field, message, code }],
      });
      const order = s.orderById.get(idOf(a.orderId, 'Order') ?? '');
      if (!order) return errors('Order does not exist.', 'NOT_FOUND', ['orderId']);
      if (a.refund !== true || a.restock !== true)
        return errors('The sandbox cancels with refund and restock only.', 'INVALID', ['refund']);
      try {
        c.cancelOrder(order, a.reason as NonNullable<typeof order.cancelReason>, ctx.now());
      } catch (err) {
        const [first] = commerceErrors(err, []);
        return errors(first?.message ?? String(err), 'INVALID', ['orderId']);
      }
      return {
        job: { id: `gid://shopify/Job/${order.id}-cancel`, done: true },
        orderCancelUserErrors: [],
      };
    },

    fulfillmentCreate: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        (): StoredOutcome => {
          const input = obj(a.fulfillment);
          const groups = arr(input.lineItemsByFulfillmentOrder);
          const tracking = obj(input.trackingInfo);
          const first = groups[0];
          if (!first || groups.length > 1) {
            return {
              refs: {},
              userErrors: [
                userError(
                  ['fulfillment', 'lineItemsByFulfillmentOrder'],
                  'Exactly one fulfillment order is supported per fulfillment.',
                ),
              ],
            };
          }
          const fo = s.fulfillmentOrderById.get(idOf(first.fulfillmentOrderId, 'FulfillmentOrder') ?? '');
          if (!fo) {
            return {
              refs: {},
              userErrors: [
                userError(
                  ['fulfillment', 'lineItemsByFulfillmentOrder', '0', 'fulfillmentOrderId'],
                  'Fulfillment order does not exist.',
                ),
              ],
            };
          }
          const lines = Array.isArray(first.fulfillmentOrderLineItems)
            ? arr(first.fulfillmentOrderLineItems).map((l) => ({
                id: idOf(l.id, 'FulfillmentOrderLineItem') ?? '',
                quantity: num(l.quantity) ?? 0,
              }))
            : null;
          try {
            const f = c.fulfill(
              fo,
              lines,
              { company: str(tracking.company) ?? null, number: str(tracking.number) ?? null },
              ctx.now(),
            );
            return { refs: { fulfillment: f.id }, userErrors: [] };
          } catch (err) {
            return { refs: {}, userErrors: commerceErrors(err, ['fulfillment']) };
          }
        },
        (o) => {
          const f = o.refs.fulfillment ? s.fulfillmentById.get(o.refs.fulfillment) : undefined;
          return {
            fulfillment: f ? fulfillmentView(ctx, f) : null,
            userErrors: o.userErrors.map(({ field, message }) => ({ field, message })),
          };
        },
      ),

    refundCreate: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        () => createRefund(ctx, obj(a.input)),
        (o) => {
          const r = o.refs.refund ? s.refundById.get(o.refs.refund) : undefined;
          const order = o.refs.order ? s.orderById.get(o.refs.order) : undefined;
          return {
            refund: r ? refundView(ctx, r) : null,
            order: order ? orderView(ctx, order) : null,
            userErrors: o.userErrors,
          };
        },
      ),

    returnCreate: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        (): StoredOutcome => {
          const input = obj(a.returnInput);
          const order = s.orderById.get(idOf(input.orderId, 'Order') ?? '');
          if (!order)
            return {
              refs: {},
              userErrors: [userError(['returnInput', 'orderId'], 'Order does not exist.', 'NOT_FOUND')],
            };
          const lines = arr(input.returnLineItems).map((l) => ({
            fulfillmentLineItemId: idOf(l.fulfillmentLineItemId, 'FulfillmentLineItem') ?? '',
            quantity: num(l.quantity) ?? 0,
            note: str(l.returnReasonNote) ?? '',
          }));
          try {
            const ret = c.createReturn(order, lines, ctx.now());
            return { refs: { return: ret.id }, userErrors: [] };
          } catch (err) {
            return { refs: {}, userErrors: commerceErrors(err, ['returnInput']) };
          }
        },
        (o) => {
          const r = o.refs.return ? s.returnById.get(o.refs.return) : undefined;
          return { return: r ? returnView(ctx, r) : null, userErrors: o.userErrors };
        },
      ),

    returnCancel: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        (): StoredOutcome => {
          const ret = s.returnById.get(idOf(a.id, 'Return') ?? '');
          if (!ret)
            return { refs: {}, userErrors: [userError(['id'], 'Return does not exist.', 'NOT_FOUND')] };
          try {
            c.cancelReturn(ret, ctx.now());
            return { refs: { return: ret.id }, userErrors: [] };
          } catch (err) {
            return { refs: {}, userErrors: commerceErrors(err, []) };
          }
        },
        (o) => {
          const r = o.refs.return ? s.returnById.get(o.refs.return) : undefined;
          return { return: r ? returnView(ctx, r) : null, userErrors: o.userErrors };
        },
      ),

    returnProcess: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        (): StoredOutcome => {
          const input = obj(a.input);
          const ret = s.returnById.get(idOf(input.returnId, 'Return') ?? '');
          if (!ret)
            return {
              refs: {},
              userErrors: [userError(['input', 'returnId'], 'Return does not exist.', 'NOT_FOUND')],
            };
          const lines = arr(input.returnLineItems).map((l) => ({
            returnLineItemId: idOf(l.id, 'ReturnLineItem') ?? '',
            quantity: num(l.quantity) ?? 0,
            dispositions: arr(l.dispositions).map((d) => ({
              reverseLineId:
                idOf(d.reverseFulfillmentOrderLineItemId, 'ReverseFulfillmentOrderLineItem') ?? '',
              quantity: num(d.quantity) ?? 0,
              type: (str(d.dispositionType) ?? 'NOT_RESTOCKED') as
                | 'MISSING'
                | 'NOT_RESTOCKED'
                | 'PROCESSING_REQUIRED'
                | 'RESTOCKED',
              locationId: idOf(d.locationId, 'Location') ?? null,
            })),
          }));
          const transfer = obj(input.financialTransfer);
          const issue = 'issueRefund' in transfer && transfer.issueRefund !== null;
          const ship = obj(input.refundShipping);
          const shipAmount = parseDecimal(obj(ship.shippingRefundAmount).amount);
          // issueRefund.orderTransactions (required by Shopify's schema): each refunds an amount against
          // one of the order's own transactions, whose gateway the refund goes back to.
          const order = s.orderById.get(ret.orderId);
          const txErrors: UserErr[] = [];
          const transactions = arr(obj(transfer.issueRefund).orderTransactions).map((t, i) => {
            const parentId = idOf(t.parentId, 'OrderTransaction') ?? '';
            const parent = order?.transactions.find((x) => x.id === parentId);
            if (!parent)
              txErrors.push(
                userError(
                  ['input', 'financialTransfer', 'issueRefund', 'orderTransactions', String(i), 'parentId'],
                  'Transaction does not exist.',
                  'NOT_FOUND',
                ),
              );
            return {
              amountMinor: parseDecimal(obj(t.transactionAmount).amount) ?? 0,
              gateway: parent?.gateway ?? 'shopify_payments',
            };
          });
          if (txErrors.length > 0) return { refs: {}, userErrors: txErrors };
          try {
            c.processReturn(
              ret,
              lines,
              {
                issue,
                shipping: ship.fullRefund === true ? 'full' : (shipAmount ?? 0),
                allowOverRefunding: obj(transfer.issueRefund).allowOverRefunding === true,
                ...(issue ? { transactions } : {}),
              },
              ctx.now(),
            );
            return { refs: { return: ret.id }, userErrors: [] };
          } catch (err) {
            // ReturnUserError.code is a ReturnErrorCode (2025-04 schema): a refund refusal (OVER_REFUND,
            // a RefundUserError code) is not one of its values, so it is answered as INVALID — an
            // unknown enum value would fail the whole response instead of answering a userError.
            const errors = commerceErrors(err, ['input']).map((e) => ({
              ...e,
              code: e.code !== null && RETURN_ERROR_CODES.has(e.code) ? e.code : 'INVALID',
            }));
            return { refs: {}, userErrors: errors };
          }
        },
        (o) => {
          const r = o.refs.return ? s.returnById.get(o.refs.return) : undefined;
          return { return: r ? returnView(ctx, r) : null, userErrors: o.userErrors };
        },
      ),

    productVariantsBulkUpdate: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        () => productVariantsBulkUpdate(ctx, a),
        (o) => {
          const p = o.refs.product ? s.productById.get(o.refs.product) : undefined;
          const updated = (o.refs.variants ?? '')
            .split(',')
            .filter(Boolean)
            .map((id) => s.variantById.get(id))
            .filter((v): v is VariantRecord => v !== undefined);
          return {
            product: p ? productView(ctx, p) : null,
            productVariants: p ? updated.map((v) => variantView(ctx, v)) : null,
            userErrors: o.userErrors,
          };
        },
      ),

    productSet: async (a: Args, _c: unknown, info: GraphQLResolveInfo) =>
      idempotent(
        ctx,
        info,
        a,
        () => productSet(ctx, a),
        (o) => {
          const p = o.refs.product ? s.productById.get(o.refs.product) : undefined;
          const synchronous = a.synchronous !== false;
          return {
            product: p && synchronous ? productView(ctx, p) : null,
            productSetOperation:
              p && !synchronous
                ? {
                    __typename: 'ProductSetOperation',
                    id: `gid://shopify/ProductSetOperation/${p.id}`,
                    status: 'COMPLETE',
                    product: productView(ctx, p),
                    userErrors: [],
                  }
                : null,
            userErrors: o.userErrors,
          };
        },
      ),

    webhookSubscriptionCreate: async (a: Args) => {
      await ctx.delay();
      const topic = parseTopic(str(a.topic) ?? '');
      const input = obj(a.webhookSubscription);
      const uri = str(input.uri) ?? str(input.callbackUrl) ?? '';
      if (!topic)
        return {
          webhookSubscription: null,
          userErrors: [userError(['topic'], 'Topic is not supported by the sandbox.')],
        };
      if (!uri)
        return {
          webhookSubscription: null,
          userErrors: [userError(['webhookSubscription', 'uri'], "Address can't be blank")],
        };
      if (!/^https?:\/\/\S+$/i.test(uri)) {
        return {
          webhookSubscription: null,
          userErrors: [userError(['webhookSubscription', 'uri'], 'Address is invalid')],
        };
      }
      if (s.subscriptions.some((x) => x.topic === topicEnum(topic) && x.uri === uri)) {
        return {
          webhookSubscription: null,
          userErrors: [
            userError(['webhookSubscription', 'uri'], 'Address for this topic has already been taken'),
          ],
        };
      }
      const at = ctx.now();
      const sub: WebhookSubscriptionRecord = {
        id: s.ids.id('WebhookSubscription'),
        topic: topicEnum(topic),
        uri,
        format: input.format === 'XML' ? 'XML' : 'JSON',
        includeFields: Array.isArray(input.includeFields)
          ? input.includeFields.filter((f): f is string => typeof f === 'string')
          : [],
        filter: str(input.filter) ?? null,
        name: '',
        source: 'api',
        createdAt: at,
        updatedAt: at,
      };
      s.subscriptions.push(sub);
      return { webhookSubscription: subscriptionView(ctx, sub), userErrors: [] };
    },

    // https://shopify.dev/docs/api/admin-graphql/latest/mutations/webhookSubscriptionUpdate: the given
    // fields replace the subscription's (the topic is fixed at creation).
    webhookSubscriptionUpdate: async (a: Args) => {
      await ctx.delay();
      const id = idOf(a.id, 'WebhookSubscription');
      const sub = s.subscriptions.find((x) => x.id === id);
      if (!sub)
        return {
          webhookSubscription: null,
          userErrors: [userError(['id'], 'Webhook subscription does not exist')],
        };
      const input = obj(a.webhookSubscription);
      const uri = str(input.uri) ?? str(input.callbackUrl);
      if (uri !== undefined) {
        if (!/^https?:\/\/\S+$/i.test(uri))
          return {
            webhookSubscription: null,
            userErrors: [userError(['webhookSubscription', 'uri'], 'Address is invalid')],
          };
        if (s.subscriptions.some((x) => x !== sub && x.topic === sub.topic && x.uri === uri))
          return {
            webhookSubscription: null,
            userErrors: [
              userError(['webhookSubscription', 'uri'], 'Address for this topic has already been taken'),
            ],
          };
        sub.uri = uri;
      }
      if (input.format === 'XML' || input.format === 'JSON') sub.format = input.format;
      if (Array.isArray(input.includeFields))
        sub.includeFields = input.includeFields.filter((f): f is string => typeof f === 'string');
      if (input.filter !== undefined) sub.filter = str(input.filter) ?? null;
      sub.updatedAt = ctx.now();
      return { webhookSubscription: subscriptionView(ctx, sub), userErrors: [] };
    },

    webhookSubscriptionDelete: async (a: Args) => {
      await ctx.delay();
      const id = idOf(a.id, 'WebhookSubscription');
      const i = s.subscriptions.findIndex((x) => x.id === id);
      if (i < 0)
        return {
          deletedWebhookSubscriptionId: null,
          userErrors: [userError(['id'], 'Webhook subscription does not exist')],
        };
      s.subscriptions.splice(i, 1);
      return { deletedWebhookSubscriptionId: a.id, userErrors: [] };
    },
  };
}

// ------------------------------------------------------------------ inventory mutations

interface ResolvedRow {
  item: InventoryItemRecord;
  loc: LocationRecord;
  value: number;
  changeFrom: number | null;
  ledger: string | null;
}

function resolveRows(
  ctx: ResolverContext,
  rows: Args[],
  listName: 'quantities' | 'changes',
  valueKey: 'quantity' | 'delta',
  errors: UserErr[],
  codes: { item: string; location: string },
): ResolvedRow[] {
  const out: ResolvedRow[] = [];
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    const base = ['input', listName, String(i)];
    const item = ctx.store.itemById.get(idOf(r.inventoryItemId, 'InventoryItem') ?? '');
    const loc = ctx.store.locationById.get(idOf(r.locationId, 'Location') ?? '');
    if (!item)
      errors.push(
        userError(
          [...base, 'inventoryItemId'],
          'The specified inventory item could not be found.',
          codes.item,
        ),
      );
    if (!loc)
      errors.push(
        userError([...base, 'locationId'], 'The specified location could not be found.', codes.location),
      );
    if (!item || !loc) return;
    const pair = `${item.id}@${loc.id}`;
    if (listName === 'quantities' && seen.has(pair)) {
      errors.push(
        userError(
          base,
          'The combination of inventoryItemId and locationId must be unique.',
          'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR',
        ),
      );
      return;
    }
    seen.add(pair);
    out.push({
      item,
      loc,
      value: num(r[valueKey]) ?? 0,
      changeFrom: num(r.changeFromQuantity) ?? null,
      ledger: str(r.ledgerDocumentUri) ?? null,
    });
  });
  return out;
}

function checkCommon(
  input: Args,
  errors: UserErr[],
  referenceCode = 'INVALID_REFERENCE_DOCUMENT',
): { reason: string; reference: string | null } {
  const reason = str(input.reason) ?? '';
  if (!INVENTORY_REASONS.has(reason))
    errors.push(userError(['input', 'reason'], 'The specified reason is invalid.', 'INVALID_REASON'));
  const reference = str(input.referenceDocumentUri) ?? null;
  if (reference !== null && (reference.startsWith('gid://shopify/') || !validUri(reference))) {
    errors.push(
      userError(
        ['input', 'referenceDocumentUri'],
        'The specified reference document is invalid.',
        referenceCode,
      ),
    );
  }
  return { reason, reference };
}

function staleError(i: number, listName: string): UserErr {
  return userError(
    ['input', listName, String(i), 'changeFromQuantity'],
    'The changeFromQuantity argument no longer matches the persisted quantity.',
    'CHANGE_FROM_QUANTITY_STALE',
  );
}

/**
 * `inventorySetQuantities`: absolute values of `available` or `on_hand`, all-or-nothing. Setting
 * `available` moves `on_hand` by the same delta and vice versa (the other states are untouched),
 * per Shopify's state arithmetic. Each quantity's `changeFromQuantity` (explicit `null` opts out)
 * must equal the persisted quantity of `name`, otherwise `CHANGE_FROM_QUANTITY_STALE`.
 */
function setQuantities(ctx: ResolverContext, input: Args, rows: Args[]): StoredOutcome {
  const errors: UserErr[] = [];
  const name = str(input.name) ?? '';
  if (name !== 'available' && name !== 'on_hand') {
    errors.push(
      userError(['input', 'name'], 'The quantity name must be either available or on_hand.', 'INVALID_NAME'),
    );
  }
  const { reason, reference } = checkCommon(input, errors);
  const resolved = resolveRows(ctx, rows, 'quantities', 'quantity', errors, {
    item: 'INVALID_INVENTORY_ITEM',
    location: 'INVALID_LOCATION',
  });
  const qname = name as 'available' | 'on_hand';
  if (errors.length === 0) {
    resolved.forEach((r, i) => {
      if (r.value > QTY_LIMIT)
        errors.push(
          userError(
            ['input', 'quantities', String(i), 'quantity'],
            "The quantity can't be higher than 2,000,000,000.",
            'INVALID_QUANTITY_TOO_HIGH',
          ),
        );
      else if (r.value < 0)
        errors.push(
          userError(
            ['input', 'quantities', String(i), 'quantity'],
            "The quantity can't be negative.",
            'INVALID_QUANTITY_NEGATIVE',
          ),
        );
      if (r.changeFrom !== null && r.changeFrom !== ctx.store.quantity(r.item, r.loc, qname))
        errors.push(staleError(i, 'quantities'));
    });
  }
  if (errors.length > 0) return { refs: { group: null }, userErrors: errors };
  const at = ctx.now();
  const changes: AdjustmentChangeRecord[] = [];
  for (const r of resolved) {
    const delta = r.value - ctx.store.quantity(r.item, r.loc, qname);
    if (delta !== 0) ctx.commerce.changeLevel(r.item, r.loc, { available: delta }, at);
    const q = ctx.store.quantities(r.item, r.loc);
    for (const n of ['available', 'on_hand'] as const) {
      changes.push({
        name: n,
        delta,
        quantityAfterChange: q[n],
        inventoryItemId: r.item.id,
        locationId: r.loc.id,
        ledgerDocumentUri: null,
      });
    }
  }
  const group = ctx.commerce.recordAdjustment(reason, reference, changes, at);
  return { refs: { group: group.id }, userErrors: [] };
}

const ADJUSTABLE = new Set([
  'available',
  'on_hand',
  'damaged',
  'incoming',
  'quality_control',
  'reserved',
  'safety_stock',
]);

/**
 * `inventoryAdjustQuantities`: deltas of one quantity name, all-or-nothing, with the documented
 * ledger rules (a `ledgerDocumentUri` is required for every name except `available`, and not
 * allowed for `available`) and compare-and-set on the named quantity.
 */
function adjustQuantities(ctx: ResolverContext, input: Args, rows: Args[]): StoredOutcome {
  const errors: UserErr[] = [];
  const name = str(input.name) ?? '';
  if (!ADJUSTABLE.has(name))
    errors.push(
      userError(['input', 'name'], 'The specified quantity name is invalid.', 'INVALID_QUANTITY_NAME'),
    );
  const { reason, reference } = checkCommon(input, errors);
  const resolved = resolveRows(ctx, rows, 'changes', 'delta', errors, {
    item: 'INVALID_INVENTORY_ITEM',
    location: 'INVALID_LOCATION',
  });
  if (errors.length === 0) {
    resolved.forEach((r, i) => {
      const base = ['input', 'changes', String(i)];
      if (name === 'available' && r.ledger !== null) {
        errors.push(
          userError(
            [...base, 'ledgerDocumentUri'],
            'A ledger document URI is not allowed when adjusting available.',
            'INVALID_AVAILABLE_DOCUMENT',
          ),
        );
      } else if (name !== 'available' && r.ledger === null) {
        errors.push(
          userError(
            [...base, 'ledgerDocumentUri'],
            'A ledger document URI is required except when adjusting available.',
            'INVALID_QUANTITY_DOCUMENT',
          ),
        );
      } else if (r.ledger?.startsWith('gid://shopify/')) {
        errors.push(
          userError(
            [...base, 'ledgerDocumentUri'],
            'Internal (gid://shopify/) ledger documents are not allowed to be adjusted via API.',
            'INTERNAL_LEDGER_DOCUMENT',
          ),
        );
      } else if (r.ledger !== null && !validUri(r.ledger)) {
        errors.push(
          userError(
            [...base, 'ledgerDocumentUri'],
            'The specified ledger document is invalid.',
            'INVALID_LEDGER_DOCUMENT',
          ),
        );
      }
      const current = ctx.store.quantity(r.item, r.loc, name as QuantityName);
      if (current + r.value > QTY_LIMIT)
        errors.push(
          userError(
            [...base, 'delta'],
            "The quantity can't be higher than 2,000,000,000.",
            'INVALID_QUANTITY_TOO_HIGH',
          ),
        );
      if (current + r.value < -QTY_LIMIT)
        errors.push(
          userError(
            [...base, 'delta'],
            "The quantity can't be lower than -2,000,000,000.",
            'INVALID_QUANTITY_TOO_LOW',
          ),
        );
      if (r.changeFrom !== null && r.changeFrom !== current) errors.push(staleError(i, 'changes'));
    });
  }
  if (errors.length > 0) return { refs: { group: null }, userErrors: errors };
  const at = ctx.now();
  const changes: AdjustmentChangeRecord[] = [];
  for (const r of resolved) {
    const stored: StoredQuantityName = name === 'on_hand' ? 'available' : (name as StoredQuantityName);
    if (r.value !== 0) ctx.commerce.changeLevel(r.item, r.loc, { [stored]: r.value }, at);
    const q = ctx.store.quantities(r.item, r.loc);
    const names: QuantityName[] =
      name === 'incoming'
        ? ['incoming']
        : name === 'on_hand'
          ? ['available', 'on_hand']
          : [name as QuantityName, 'on_hand'];
    for (const n of [...new Set(names)]) {
      changes.push({
        name: n,
        delta: r.value,
        quantityAfterChange: q[n],
        inventoryItemId: r.item.id,
        locationId: r.loc.id,
        ledgerDocumentUri: r.ledger,
      });
    }
  }
  const group = ctx.commerce.recordAdjustment(reason, reference, changes, at);
  return { refs: { group: group.id }, userErrors: [] };
}

// ------------------------------------------------------------------ refunds

function createRefund(ctx: ResolverContext, input: Args): StoredOutcome {
  const order = ctx.store.orderById.get(idOf(input.orderId, 'Order') ?? '');
  if (!order)
    return { refs: {}, userErrors: [userError(['input', 'orderId'], 'Order does not exist.', 'NOT_FOUND')] };
  const lines = arr(input.refundLineItems).map((l) => ({
    lineItemId: idOf(l.lineItemId, 'LineItem') ?? '',
    quantity: num(l.quantity) ?? 0,
    restockType: (str(l.restockType) ?? 'NO_RESTOCK') as
      | 'NO_RESTOCK'
      | 'CANCEL'
      | 'RETURN'
      | 'LEGACY_RESTOCK',
    locationId: idOf(l.locationId, 'Location') ?? null,
  }));
  const shipping = obj(input.shipping);
  const shipAmount = parseDecimal(shipping.amount);
  const txErrors: UserErr[] = [];
  const transactions = arr(input.transactions).map((t, i) => {
    const amount = parseDecimal(t.amount) ?? 0;
    if (t.kind !== 'REFUND')
      txErrors.push(
        userError(
          ['input', 'transactions', String(i), 'kind'],
          'Transaction kind must be REFUND.',
          'INVALID',
        ),
      );
    if (amount <= 0)
      txErrors.push(
        userError(
          ['input', 'transactions', String(i), 'amount'],
          'Amount must be greater than 0.',
          'INVALID',
        ),
      );
    return { amountMinor: amount, gateway: str(t.gateway) ?? 'shopify_payments' };
  });
  if (txErrors.length > 0) return { refs: {}, userErrors: txErrors };
  try {
    const refund = ctx.commerce.refund(
      order,
      {
        lines: lines.map((l) => ({
          ...l,
          restockType: l.restockType === 'LEGACY_RESTOCK' ? 'RETURN' : l.restockType,
        })),
        shipping: shipping.fullRefund === true ? 'full' : (shipAmount ?? 0),
        note: str(input.note) ?? null,
        money: { transactions },
        allowOverRefunding: input.allowOverRefunding === true,
      },
      ctx.now(),
    );
    return { refs: { refund: refund.id, order: order.id }, userErrors: [] };
  } catch (err) {
    return { refs: {}, userErrors: commerceErrors(err, ['input']) };
  }
}

// ------------------------------------------------------------------ productVariantsBulkUpdate

/**
 * `productVariantsBulkUpdate`: updates existing variants of one product (price, compare-at, barcode,
 * taxable, inventory policy). Without `allowPartialUpdates` any invalid variant fails the whole call
 * (https://shopify.dev/changelog/partial-updates-for-bulk-product-variants-mutation). Every applied
 * price change is logged with the store clock (`/_control/price-writes`).
 */
function productVariantsBulkUpdate(ctx: ResolverContext, a: Args): StoredOutcome {
  const s = ctx.store;
  const product = s.productById.get(idOf(a.productId, 'Product') ?? '');
  if (!product)
    return {
      refs: {},
      userErrors: [userError(['productId'], 'Product does not exist', 'PRODUCT_DOES_NOT_EXIST')],
    };
  const errors: UserErr[] = [];
  const valid: { v: VariantRecord; input: Args }[] = [];
  arr(a.variants).forEach((input, i) => {
    const field = ['variants', String(i)];
    if (!str(input.id)) {
      errors.push(
        userError([...field, 'id'], 'Product variant is missing ID attribute', 'PRODUCT_VARIANT_ID_MISSING'),
      );
      return;
    }
    const v = s.variantById.get(idOf(input.id, 'ProductVariant') ?? '');
    if (!v || v.productId !== product.id) {
      errors.push(
        userError([...field, 'id'], 'Product variant does not exist', 'PRODUCT_VARIANT_DOES_NOT_EXIST'),
      );
      return;
    }
    const price = input.price === undefined ? undefined : parseDecimal(input.price);
    const compareAt =
      input.compareAtPrice === undefined || input.compareAtPrice === null
        ? undefined
        : parseDecimal(input.compareAtPrice);
    if ((input.price !== undefined && price === undefined) || (price ?? 0) < 0 || (compareAt ?? 0) < 0) {
      errors.push(
        userError([...field, 'price'], 'Price must be greater than or equal to 0', 'NEGATIVE_PRICE_VALUE'),
      );
      return;
    }
    valid.push({ v, input });
  });
  if (errors.length > 0 && a.allowPartialUpdates !== true) return { refs: {}, userErrors: errors };
  const at = ctx.now();
  product.updatedAt = Math.max(at, product.updatedAt + 1000);
  for (const { v, input } of valid) {
    const before = { price: v.priceMinor, compareAt: v.compareAtMinor };
    if (input.price !== undefined) v.priceMinor = parseDecimal(input.price) ?? v.priceMinor;
    if (input.compareAtPrice !== undefined)
      v.compareAtMinor = input.compareAtPrice === null ? null : (parseDecimal(input.compareAtPrice) ?? null);
    if (str(input.barcode) !== undefined) v.barcode = str(input.barcode) ?? null;
    if (typeof input.taxable === 'boolean') v.taxable = input.taxable;
    if (input.inventoryPolicy === 'DENY' || input.inventoryPolicy === 'CONTINUE')
      v.inventoryPolicy = input.inventoryPolicy;
    v.updatedAt = product.updatedAt;
    logPriceWrite(s, v, before, at, 'productVariantsBulkUpdate');
  }
  ctx.commerce.emitProduct(product, false);
  return {
    refs: { product: product.id, variants: valid.map(({ v }) => v.id).join(',') },
    userErrors: errors,
  };
}

/** Logs a variant's price write when its price or compare-at changed. */
function logPriceWrite(
  s: ShopStore,
  v: VariantRecord,
  before: { price: number; compareAt: number | null } | undefined,
  at: number,
  via: PriceWriteRecord['via'],
): void {
  if (before && before.price === v.priceMinor && before.compareAt === v.compareAtMinor) return;
  s.priceWrites.push({
    at,
    variantId: v.id,
    sku: v.sku,
    priceMinor: v.priceMinor,
    compareAtMinor: v.compareAtMinor,
    via,
  });
}

// ------------------------------------------------------------------ productSet

/**
 * `productSet`: creates or updates a product with its complete variant list (variants not listed
 * are removed from the product), matching existing variants by id or SKU. New variants get their
 * `inventoryQuantities`. Emits products/create or products/update.
 */
function productSet(ctx: ResolverContext, a: Args): StoredOutcome {
  const s = ctx.store;
  const input = obj(a.input);
  const ident = obj(a.identifier);
  const errors: UserErr[] = [];
  let product: ProductRecord | undefined;
  if (str(ident.id)) {
    product = s.productById.get(idOf(ident.id, 'Product') ?? '');
    if (!product)
      return {
        refs: {},
        userErrors: [userError(['identifier', 'id'], 'Product does not exist', 'PRODUCT_DOES_NOT_EXIST')],
      };
  } else if (str(ident.handle)) {
    product = s.productByHandle.get(str(ident.handle) ?? '');
  }
  const options = arr(input.productOptions);
  if (options.length > 3)
    errors.push(
      userError(['input', 'productOptions'], 'Options are limited to 3 per product', 'OPTIONS_OVER_LIMIT'),
    );
  const variantsIn = Array.isArray(input.variants) ? arr(input.variants) : null;
  if (!product && !str(input.title))
    errors.push(userError(['input', 'title'], "Title can't be blank", 'MISSING_FIELD_REQUIRED'));
  if (variantsIn && variantsIn.length > 2048)
    errors.push(userError(['input', 'variants'], 'Too many variants', 'VARIANTS_OVER_LIMIT'));
  const skus = new Set<string>();
  variantsIn?.forEach((v, i) => {
    const sku = str(obj(v.inventoryItem).sku);
    if (!sku) return;
    const other = s.variantBySku.get(sku);
    if (skus.has(sku) || (other && other.productId !== product?.id)) {
      errors.push(
        userError(
          ['input', 'variants', String(i), 'inventoryItem', 'sku'],
          'SKU has already been taken',
          'DUPLICATED_VALUE',
        ),
      );
    }
    skus.add(sku);
  });
  if (errors.length > 0) return { refs: {}, userErrors: errors };
  const at = ctx.now();
  const created = !product;
  if (!product) {
    const title = str(input.title) ?? 'Untitled';
    const handle =
      str(input.handle) ??
      str(ident.handle) ??
      title
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-|-$/g, '');
    product = {
      id: s.ids.id('Product'),
      handle,
      title,
      vendor: str(input.vendor) ?? 'Omnihub Outfitters',
      productType: str(input.productType) ?? '',
      status: (str(input.status) as ProductRecord['status'] | undefined) ?? 'ACTIVE',
      tags: [],
      descriptionHtml: str(input.descriptionHtml) ?? '',
      optionNames: [],
      optionIds: [],
      variantIds: [],
      createdAt: at,
      updatedAt: at,
    };
    s.products.push(product);
    s.productById.set(product.id, product);
    s.productByHandle.set(product.handle, product);
  }
  const p = product;
  p.updatedAt = Math.max(at, p.updatedAt + 1000);
  if (str(input.title)) p.title = str(input.title) ?? p.title;
  if (str(input.vendor)) p.vendor = str(input.vendor) ?? p.vendor;
  if (str(input.productType) !== undefined) p.productType = str(input.productType) ?? p.productType;
  if (str(input.status)) p.status = str(input.status) as ProductRecord['status'];
  if (str(input.descriptionHtml) !== undefined)
    p.descriptionHtml = str(input.descriptionHtml) ?? p.descriptionHtml;
  if (Array.isArray(input.tags)) p.tags = input.tags.filter((t): t is string => typeof t === 'string');
  if (options.length > 0) {
    p.optionNames = options.map((o, i) => str(o.name) ?? `Option ${i + 1}`);
    p.optionIds = p.optionNames.map((_, i) => p.optionIds[i] ?? s.ids.id('ProductOption'));
  }
  if (variantsIn) {
    const keep: string[] = [];
    for (const v of variantsIn) {
      const ii = obj(v.inventoryItem);
      const sku = str(ii.sku);
      const byId = s.variantById.get(idOf(v.id, 'ProductVariant') ?? '');
      const existing =
        byId?.productId === p.id
          ? byId
          : sku
            ? p.variantIds.map((id) => s.variantById.get(id)).find((x) => x?.sku === sku)
            : undefined;
      const optionValues = arr(v.optionValues).map((o) => str(o.name) ?? '');
      const price = parseDecimal(v.price);
      const compareAt = v.compareAtPrice === null ? null : parseDecimal(v.compareAtPrice);
      if (existing) {
        const before = { price: existing.priceMinor, compareAt: existing.compareAtMinor };
        if (price !== undefined) existing.priceMinor = price;
        if (v.compareAtPrice !== undefined) existing.compareAtMinor = compareAt ?? null;
        if (str(v.barcode) !== undefined) existing.barcode = str(v.barcode) ?? null;
        if (typeof v.taxable === 'boolean') existing.taxable = v.taxable;
        if (v.inventoryPolicy === 'DENY' || v.inventoryPolicy === 'CONTINUE')
          existing.inventoryPolicy = v.inventoryPolicy;
        if (optionValues.length > 0) {
          existing.optionValues = optionValues;
          existing.title = optionValues.join(' / ');
        }
        if (sku && sku !== existing.sku) {
          s.variantBySku.delete(existing.sku);
          existing.sku = sku;
          s.variantBySku.set(sku, existing);
          const item = s.itemById.get(existing.inventoryItemId);
          if (item) {
            s.itemBySku.delete(item.sku);
            item.sku = sku;
            s.itemBySku.set(sku, item);
          }
        }
        existing.updatedAt = p.updatedAt;
        logPriceWrite(s, existing, before, at, 'productSet');
        keep.push(existing.id);
      } else {
        const variant = s.addVariant(p, {
          sku: sku ?? `${p.handle}-${p.variantIds.length + 1}`,
          title: optionValues.join(' / ') || 'Default Title',
          barcode: str(v.barcode) ?? null,
          priceMinor: price ?? 0,
          compareAtMinor: compareAt ?? null,
          optionValues,
          weightGrams: 0,
          costMinor: parseDecimal(ii.cost) ?? 0,
          at: p.updatedAt,
          taxable: typeof v.taxable === 'boolean' ? v.taxable : true,
          inventoryPolicy: v.inventoryPolicy === 'CONTINUE' ? 'CONTINUE' : 'DENY',
          tracked: ii.tracked !== false,
          requiresShipping: ii.requiresShipping !== false,
        });
        keep.push(variant.id);
        logPriceWrite(s, variant, undefined, at, 'productSet');
        const item = s.itemById.get(variant.inventoryItemId);
        for (const q of arr(v.inventoryQuantities)) {
          const loc = s.locationById.get(idOf(q.locationId, 'Location') ?? '');
          const qty = num(q.quantity) ?? 0;
          if (item && loc && (q.name === 'available' || q.name === 'on_hand') && qty !== 0) {
            ctx.commerce.changeLevel(item, loc, { available: qty }, p.updatedAt);
          }
        }
      }
    }
    for (const id of p.variantIds) {
      if (keep.includes(id)) continue;
      const gone = s.variantById.get(id);
      if (!gone) continue;
      s.variantById.delete(id);
      s.variantBySku.delete(gone.sku);
      s.itemBySku.delete(gone.sku);
      s.itemById.delete(gone.inventoryItemId);
      const vi = s.variants.indexOf(gone);
      if (vi >= 0) s.variants.splice(vi, 1);
      const ii = s.inventoryItems.findIndex((x) => x.id === gone.inventoryItemId);
      if (ii >= 0) s.inventoryItems.splice(ii, 1);
    }
    p.variantIds = keep;
    keep.forEach((id, i) => {
      const v = s.variantById.get(id);
      if (v) v.position = i + 1;
    });
  }
  ctx.commerce.emitProduct(p, created);
  return { refs: { product: p.id }, userErrors: [] };
}
