import type { Rng } from '../core/rng.ts';
import { currentQuantity, editedQuantity, fulfillableQuantity, lineTax, totals, touch } from './orders.ts';
import {
  fulfillmentCreatePayload,
  inventoryLevelPayload,
  orderPayload,
  type PayloadContext,
  preparedForPickupPayload,
  productPayload,
  refundPayload,
} from './payloads.ts';
import type {
  AddressRecord,
  AdjustmentChangeRecord,
  AdjustmentGroupRecord,
  CustomerRecord,
  DispositionType,
  FulfillmentOrderRecord,
  FulfillmentRecord,
  InventoryItemRecord,
  LineItemRecord,
  LocationRecord,
  OrderRecord,
  ProductRecord,
  RefundLineRecord,
  RefundRecord,
  ReturnRecord,
  ShopStore,
  StoredQuantityName,
  TransactionRecord,
  VariantRecord,
} from './store.ts';
import type { Topic } from './webhooks.ts';

/**
 * The shop's business operations — what happens in Shopify when a customer checks out, a merchant
 * edits or cancels an order, a refund or return is processed, stock moves — each updating the
 * records, the inventory states and emitting the webhooks Shopify emits for it. Scenario activity
 * and GraphQL mutations both go through here, so the two can never disagree.
 *
 * Inventory follows Shopify's states: a placed order moves units from `available` to `committed`
 * at its assigned location; a fulfilment removes them from `committed` (and `on_hand`); a cancel
 * or a `CANCEL` refund puts unfulfilled units back to `available`; a `RETURN` refund or a
 * `RESTOCKED` return disposition adds units to `available`. Only changes of `available` emit
 * `inventory_levels/update` (its body only carries `available`; Shopify documents that changes to
 * committed, reserved, damaged, safety_stock and quality_control do not trigger webhooks).
 */

/** Receives the events the operations produce. */
export type Emit = (topic: Topic, body: Record<string, unknown>, at: number, resourceId: string) => void;

/** One line to order. */
export interface OrderLineInput {
  variant: VariantRecord;
  quantity: number;
}

/** A validation failure, rendered by callers as a GraphQL `userErrors` entry. */
export class CommerceError extends Error {
  constructor(
    message: string,
    readonly field: string[] | null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'CommerceError';
  }
}

const TAX: Record<string, [number, string]> = {
  NY: [888, 'NY State Tax'],
  MA: [625, 'MA State Tax'],
  IL: [1025, 'IL State Tax'],
  TX: [825, 'TX State Tax'],
  CO: [881, 'CO State Tax'],
  WA: [1025, 'WA State Tax'],
  CA: [950, 'CA State Tax'],
  FL: [700, 'FL State Tax'],
  GA: [890, 'GA State Tax'],
  OR: [0, 'OR State Tax'],
  MN: [803, 'MN State Tax'],
  OH: [750, 'OH State Tax'],
};

const FIRST = [
  'Ava',
  'Liam',
  'Noah',
  'Emma',
  'Mia',
  'Lucas',
  'Zoe',
  'Ethan',
  'Ivy',
  'Omar',
  'Sara',
  'Jin',
  'Priya',
  'Leo',
];
const LAST = [
  'Smith',
  'Garcia',
  'Chen',
  'Patel',
  'Johnson',
  'Kim',
  'Nguyen',
  'Brown',
  'Lopez',
  'Walker',
  'Silva',
  'Novak',
];
const STREETS = [
  'Oak Street',
  'Maple Avenue',
  'Pine Road',
  'Cedar Lane',
  'Elm Court',
  'Harbor Way',
  'Hill Drive',
];
const PROVINCES: Record<string, string> = {
  NY: 'New York',
  MA: 'Massachusetts',
  IL: 'Illinois',
  TX: 'Texas',
  CO: 'Colorado',
  WA: 'Washington',
  CA: 'California',
  FL: 'Florida',
  GA: 'Georgia',
  OR: 'Oregon',
  MN: 'Minnesota',
  OH: 'Ohio',
};

/** Standard shipping, free over $150. */
const SHIPPING_MINOR = 795;
const FREE_SHIPPING_OVER = 15_000;

export class Commerce {
  readonly payloads: PayloadContext;

  constructor(
    readonly store: ShopStore,
    private readonly emit: Emit,
    payloads: Omit<PayloadContext, 'store'>,
  ) {
    this.payloads = { ...payloads, store };
  }

  // ------------------------------------------------------------------ inventory

  /**
   * Applies quantity deltas to one level, stamping it at a time strictly after its previous change
   * (second precision, as REST renders it), and emits `inventory_levels/update` when `available`
   * changed. Returns the stamp.
   */
  changeLevel(
    item: InventoryItemRecord,
    loc: LocationRecord,
    deltas: Partial<Record<StoredQuantityName, number>>,
    at: number,
    emit = true,
  ): number {
    const prev = this.store.levelUpdated(item, loc);
    const stamp = Math.max(at, Math.floor(prev / 1000) * 1000 + 1000);
    for (const [name, delta] of Object.entries(deltas) as Array<[StoredQuantityName, number]>) {
      if (delta !== 0) this.store.addQuantity(item, loc, name, delta, stamp);
    }
    if (emit && (deltas.available ?? 0) !== 0) {
      const available = this.store.quantity(item, loc, 'available');
      this.emit(
        'inventory_levels/update',
        inventoryLevelPayload(this.payloads, item, loc, available, stamp),
        stamp,
        `${item.id}@${loc.id}`,
      );
    }
    item.updatedAt = Math.max(item.updatedAt, stamp);
    return stamp;
  }

  /** Records an adjustment group (what `inventorySetQuantities`/`inventoryAdjustQuantities` return). */
  recordAdjustment(
    reason: string,
    referenceDocumentUri: string | null,
    changes: AdjustmentChangeRecord[],
    at: number,
  ): AdjustmentGroupRecord {
    const group: AdjustmentGroupRecord = {
      id: this.store.ids.id('InventoryAdjustmentGroup'),
      reason,
      referenceDocumentUri,
      createdAt: at,
      changes,
    };
    this.store.adjustmentGroups.set(group.id, group);
    return group;
  }

  // ------------------------------------------------------------------ orders

  /** A deterministic customer with an address in one of the retailer's cities. */
  newCustomer(rng: Rng, at: number): { customer: CustomerRecord; address: AddressRecord } {
    const first = rng.pick(FIRST);
    const last = rng.pick(LAST);
    const loc = rng.pick(
      this.store.locations.filter((l) => l.kind === 'store').length > 0
        ? this.store.locations.filter((l) => l.kind === 'store')
        : this.store.locations,
    );
    const customer: CustomerRecord = {
      id: this.store.ids.id('Customer'),
      firstName: first,
      lastName: last,
      email: `${first}.${last}.${this.store.customers.length + 1}@example.com`.toLowerCase(),
      // A fictitious number (555-01xx range is reserved for fiction); from the count, not the rng, so
      // seeded scenarios keep their choices. Square pick-ups need the customer's phone.
      phone: `+1555${String(100 + (this.store.customers.length % 100)).padStart(3, '0')}${String(this.store.customers.length).padStart(4, '0').slice(-4)}`,
      createdAt: at,
    };
    this.store.customers.push(customer);
    const address: AddressRecord = {
      id: this.store.ids.id('MailingAddress'),
      firstName: first,
      lastName: last,
      address1: `${rng.int(1, 999)} ${rng.pick(STREETS)}`,
      city: loc.city,
      provinceCode: loc.provinceCode,
      province: PROVINCES[loc.provinceCode] ?? loc.provinceCode,
      countryCode: 'US',
      country: 'United States',
      zip: loc.zip,
      phone: null,
    };
    return { customer, address };
  }

  /**
   * Places an online order (checkout completed and paid): records it, opens its fulfillment order
   * at `location`, commits the units there and emits orders/create, orders/paid and the
   * inventory level updates.
   */
  placeOrder(args: {
    customer: CustomerRecord;
    address: AddressRecord;
    delivery: 'SHIPPING' | 'PICK_UP';
    location: LocationRecord;
    lines: OrderLineInput[];
    at: number;
    token: string;
  }): OrderRecord {
    const { store } = this;
    const number = store.nextNumber();
    const taxRegion = args.delivery === 'PICK_UP' ? args.location.provinceCode : args.address.provinceCode;
    const [taxRateBp, taxTitle] = TAX[taxRegion] ?? [700, `${taxRegion} State Tax`];
    const lineItems: LineItemRecord[] = args.lines.map(({ variant, quantity }) => {
      const product = store.productById.get(variant.productId);
      return {
        id: store.ids.id('LineItem'),
        variantId: variant.id,
        productId: variant.productId,
        sku: variant.sku,
        title: product?.title ?? variant.title,
        variantTitle: variant.title,
        vendor: product?.vendor ?? null,
        priceMinor: variant.priceMinor,
        quantity,
        removedQuantity: 0,
        refundedQuantity: 0,
        cancelledQuantity: 0,
        fulfilledQuantity: 0,
        addedByEdit: false,
        grams: variant.weightGrams,
        taxable: variant.taxable,
        requiresShipping: true,
      };
    });
    const subtotal = lineItems.reduce((s, l) => s + l.priceMinor * l.quantity, 0);
    const shippingPrice = args.delivery === 'PICK_UP' || subtotal >= FREE_SHIPPING_OVER ? 0 : SHIPPING_MINOR;
    const order: OrderRecord = {
      id: store.ids.id('Order'),
      number,
      name: `#${number}`,
      token: args.token,
      email: args.customer.email,
      customer: args.customer,
      shippingAddress: args.delivery === 'SHIPPING' ? args.address : null,
      billingAddress: args.address,
      delivery: args.delivery,
      locationId: args.location.id,
      shippingLine:
        args.delivery === 'PICK_UP'
          ? {
              id: store.ids.id('ShippingLine'),
              title: `Pick up at ${args.location.name}`,
              code: 'Pickup',
              source: 'shopify',
              deliveryCategory: 'pick-up',
              priceMinor: 0,
            }
          : {
              id: store.ids.id('ShippingLine'),
              title: 'Standard Shipping',
              code: 'STANDARD',
              source: 'shopify',
              deliveryCategory: null,
              priceMinor: shippingPrice,
            },
      taxRateBp,
      taxTitle,
      lineItems,
      transactions: [],
      refundIds: [],
      fulfillmentOrderIds: [],
      fulfillmentIds: [],
      returnIds: [],
      tags: args.delivery === 'PICK_UP' ? ['pickup'] : [],
      note: null,
      sourceName: 'web',
      createdAt: args.at,
      updatedAt: args.at,
      processedAt: args.at,
      cancelledAt: null,
      cancelReason: null,
      closedAt: null,
      shippingRefundedMinor: 0,
    };
    order.transactions.push({
      id: store.ids.id('OrderTransaction'),
      kind: 'SALE',
      status: 'SUCCESS',
      gateway: 'shopify_payments',
      amountMinor: totals(order).total,
      createdAt: args.at,
      parentId: null,
    });
    store.addOrder(order);
    const fo: FulfillmentOrderRecord = {
      id: store.ids.id('FulfillmentOrder'),
      orderId: order.id,
      locationId: args.location.id,
      deliveryMethodId: store.ids.id('DeliveryMethod'),
      deliveryMethod: args.delivery,
      status: 'OPEN',
      preparedForPickupAt: null,
      lineItems: lineItems.map((l) => ({
        id: store.ids.id('FulfillmentOrderLineItem'),
        lineItemId: l.id,
        totalQuantity: l.quantity,
        remainingQuantity: l.quantity,
      })),
      createdAt: args.at,
      updatedAt: args.at,
    };
    store.addFulfillmentOrder(fo);
    order.fulfillmentOrderIds.push(fo.id);
    this.emitOrder('orders/create', order, order.createdAt);
    this.emitOrder('orders/paid', order, order.createdAt);
    for (const line of lineItems) this.commit(line, args.location, line.quantity, args.at);
    return order;
  }

  private commit(line: LineItemRecord, loc: LocationRecord, qty: number, at: number): void {
    const item = this.itemOf(line);
    if (item && qty !== 0) this.changeLevel(item, loc, { available: -qty, committed: qty }, at);
  }

  private itemOf(line: LineItemRecord): InventoryItemRecord | undefined {
    const v = line.variantId ? this.store.variantById.get(line.variantId) : undefined;
    return v ? this.store.itemById.get(v.inventoryItemId) : undefined;
  }

  private openFulfillmentOrder(order: OrderRecord): FulfillmentOrderRecord | undefined {
    for (const id of order.fulfillmentOrderIds) {
      const fo = this.store.fulfillmentOrderById.get(id);
      if (fo && (fo.status === 'OPEN' || fo.status === 'IN_PROGRESS')) return fo;
    }
    return undefined;
  }

  private emitOrder(topic: Topic, order: OrderRecord, at: number): void {
    this.emit(topic, orderPayload(this.payloads, order), at, order.id);
  }

  /**
   * Edits an order (Shopify's order editing: change quantities of unfulfilled lines, add lines):
   * restocks removed units, commits added ones, emits orders/edited and orders/updated.
   */
  editOrder(
    order: OrderRecord,
    edit: { setQuantities?: Array<{ lineItemId: string; quantity: number }>; add?: OrderLineInput[] },
    at: number,
  ): void {
    if (order.cancelledAt !== null)
      throw new CommerceError('The order is cancelled and cannot be edited.', ['id']);
    const loc = this.store.locationById.get(order.locationId);
    const fo = this.openFulfillmentOrder(order);
    if (!loc || !fo) throw new CommerceError('The order has no open fulfillment order to edit.', ['id']);
    const stamp = touch(order, at);
    for (const change of edit.setQuantities ?? []) {
      const line = order.lineItems.find((l) => l.id === change.lineItemId);
      if (!line) throw new CommerceError('Line item does not exist.', ['lineItemId']);
      const open = fulfillableQuantity(line, order);
      const target = Math.max(0, Math.min(change.quantity, currentQuantity(line)));
      const removed = Math.min(open, currentQuantity(line) - target);
      if (removed <= 0) continue;
      line.removedQuantity += removed;
      const foLine = fo.lineItems.find((l) => l.lineItemId === line.id);
      if (foLine) foLine.remainingQuantity = Math.max(0, foLine.remainingQuantity - removed);
      const item = this.itemOf(line);
      if (item) this.changeLevel(item, loc, { available: removed, committed: -removed }, stamp);
    }
    for (const add of edit.add ?? []) {
      const product = this.store.productById.get(add.variant.productId);
      const line: LineItemRecord = {
        id: this.store.ids.id('LineItem'),
        variantId: add.variant.id,
        productId: add.variant.productId,
        sku: add.variant.sku,
        title: product?.title ?? add.variant.title,
        variantTitle: add.variant.title,
        vendor: product?.vendor ?? null,
        priceMinor: add.variant.priceMinor,
        quantity: add.quantity,
        removedQuantity: 0,
        refundedQuantity: 0,
        cancelledQuantity: 0,
        fulfilledQuantity: 0,
        addedByEdit: true,
        grams: add.variant.weightGrams,
        taxable: add.variant.taxable,
        requiresShipping: true,
      };
      order.lineItems.push(line);
      fo.lineItems.push({
        id: this.store.ids.id('FulfillmentOrderLineItem'),
        lineItemId: line.id,
        totalQuantity: add.quantity,
        remainingQuantity: add.quantity,
      });
      this.commit(line, loc, add.quantity, stamp);
    }
    fo.updatedAt = stamp;
    this.settlePayment(order, stamp);
    this.emitOrder('orders/edited', order, stamp);
    this.emitOrder('orders/updated', order, stamp);
  }

  /** After an edit the amount paid must match the new total: charge or refund the difference. */
  private settlePayment(order: OrderRecord, at: number): void {
    const t = totals(order);
    const net = order.transactions.reduce(
      (s, x) => s + (x.kind === 'SALE' ? x.amountMinor : -x.amountMinor),
      0,
    );
    const diff = t.currentTotal - net;
    if (diff === 0) return;
    order.transactions.push({
      id: this.store.ids.id('OrderTransaction'),
      kind: diff > 0 ? 'SALE' : 'REFUND',
      status: 'SUCCESS',
      gateway: 'shopify_payments',
      amountMinor: Math.abs(diff),
      createdAt: at,
      parentId: order.transactions[0]?.id ?? null,
    });
  }

  /**
   * Cancels an order with a full refund and restock (Shopify's default for paid online orders):
   * emits refunds/create, orders/cancelled and orders/updated, and restocks unfulfilled units.
   */
  cancelOrder(
    order: OrderRecord,
    reason: NonNullable<OrderRecord['cancelReason']>,
    at: number,
  ): RefundRecord | undefined {
    if (order.cancelledAt !== null) throw new CommerceError('Order has already been cancelled.', ['orderId']);
    const stamp = touch(order, at);
    const lines = order.lineItems
      .map((l) => ({
        lineItemId: l.id,
        quantity: fulfillableQuantity(l, order),
        restockType: 'CANCEL' as const,
        locationId: order.locationId,
      }))
      .filter((l) => l.quantity > 0);
    let refund: RefundRecord | undefined;
    if (lines.length > 0) {
      refund = this.refund(
        order,
        { lines, shipping: 'full', note: 'Order canceled', money: 'computed' },
        stamp,
        false,
      );
    }
    order.cancelledAt = stamp;
    order.cancelReason = reason;
    order.closedAt = stamp;
    for (const id of order.fulfillmentOrderIds) {
      const fo = this.store.fulfillmentOrderById.get(id);
      if (fo && fo.status !== 'CLOSED') {
        fo.status = 'CLOSED';
        fo.updatedAt = stamp;
        for (const l of fo.lineItems) l.remainingQuantity = 0;
      }
    }
    if (refund) this.emit('refunds/create', refundPayload(this.payloads, refund), stamp, refund.id);
    this.emitOrder('orders/cancelled', order, stamp);
    this.emitOrder('orders/updated', order, stamp);
    return refund;
  }

  /**
   * Creates a refund. `money: 'computed'` refunds the lines' subtotal and tax (plus shipping) to the
   * original payment, as the admin does; `{transactions}` uses the caller's transactions, as the
   * `refundCreate` mutation does (no transaction means no money moves). Emits refunds/create and
   * orders/updated unless `emitEvents` is false (a cancel emits them itself, in Shopify's order).
   */
  refund(
    order: OrderRecord,
    args: {
      /** `fulfilled`: the units were fulfilled (a return); NO_RESTOCK then leaves `committed` alone. */
      lines: Array<{
        lineItemId: string;
        quantity: number;
        restockType: RefundLineRecord['restockType'];
        locationId: string | null;
        fulfilled?: boolean;
      }>;
      shipping?: 'full' | number;
      note?: string | null;
      money: 'computed' | { transactions: Array<{ amountMinor: number; gateway: string }> };
      returnId?: string | null;
      allowOverRefunding?: boolean;
    },
    at: number,
    emitEvents = true,
  ): RefundRecord {
    const { store } = this;
    const refundLines: RefundLineRecord[] = [];
    const plan: Array<{
      line: LineItemRecord;
      q: number;
      restockType: RefundLineRecord['restockType'];
      loc: LocationRecord | undefined;
      fulfilled: boolean;
    }> = [];
    args.lines.forEach((input, i) => {
      const line = order.lineItems.find((l) => l.id === input.lineItemId);
      if (!line)
        throw new CommerceError('Line item does not exist.', ['refundLineItems', String(i), 'lineItemId']);
      if (input.quantity <= 0)
        throw new CommerceError('Quantity must be greater than 0.', [
          'refundLineItems',
          String(i),
          'quantity',
        ]);
      if (input.quantity > currentQuantity(line)) {
        throw new CommerceError(
          `Quantity cannot refund more items than were purchased (${currentQuantity(line)} refundable).`,
          ['refundLineItems', String(i), 'quantity'],
        );
      }
      const unfulfilled = fulfillableQuantity(line, order);
      if (input.restockType === 'CANCEL' && input.quantity > unfulfilled) {
        throw new CommerceError('Cannot cancel more items than are unfulfilled.', [
          'refundLineItems',
          String(i),
          'restockType',
        ]);
      }
      const returnable = line.fulfilledQuantity - (line.refundedQuantity - line.cancelledQuantity);
      if (input.restockType === 'RETURN' && input.quantity > returnable) {
        throw new CommerceError('Cannot return more items than were fulfilled.', [
          'refundLineItems',
          String(i),
          'restockType',
        ]);
      }
      const locId = input.restockType === 'NO_RESTOCK' ? null : (input.locationId ?? order.locationId);
      const loc = locId ? store.locationById.get(locId) : undefined;
      if (locId && !loc)
        throw new CommerceError('Location does not exist.', ['refundLineItems', String(i), 'locationId']);
      plan.push({
        line,
        q: input.quantity,
        restockType: input.restockType,
        loc,
        fulfilled: input.fulfilled === true,
      });
      refundLines.push({
        id: store.ids.id('RefundLineItem'),
        lineItemId: line.id,
        quantity: input.quantity,
        restockType: input.restockType,
        locationId: loc?.id ?? null,
        subtotalMinor: line.priceMinor * input.quantity,
        taxMinor: lineTax(order, line, input.quantity),
      });
    });
    const remainingShipping = order.shippingLine.priceMinor - order.shippingRefundedMinor;
    const shippingMinor =
      args.shipping === 'full' ? remainingShipping : Math.min(args.shipping ?? 0, remainingShipping);
    const paid = order.transactions.reduce(
      (s, x) => s + (x.kind === 'SALE' ? x.amountMinor : -x.amountMinor),
      0,
    );
    const txInputs =
      args.money === 'computed'
        ? [
            {
              amountMinor: Math.min(
                paid,
                refundLines.reduce((s, l) => s + l.subtotalMinor + l.taxMinor, 0) + shippingMinor,
              ),
              gateway: 'shopify_payments',
            },
          ].filter((t) => t.amountMinor > 0)
        : args.money.transactions;
    const txTotal = txInputs.reduce((s, t) => s + t.amountMinor, 0);
    if (txTotal > paid && !args.allowOverRefunding) {
      throw new CommerceError(
        `Refund amount ${txTotal / 100} exceeds the refundable amount ${paid / 100}.`,
        ['transactions'],
        'OVER_REFUND',
      );
    }
    // Validation passed: apply.
    const stamp = emitEvents ? touch(order, at) : at;
    const transactions: TransactionRecord[] = txInputs.map((t) => ({
      id: store.ids.id('OrderTransaction'),
      kind: 'REFUND',
      status: 'SUCCESS',
      gateway: t.gateway,
      amountMinor: t.amountMinor,
      createdAt: stamp,
      parentId: order.transactions.find((x) => x.kind === 'SALE')?.id ?? null,
    }));
    order.transactions.push(...transactions);
    order.shippingRefundedMinor += shippingMinor;
    const refund: RefundRecord = {
      id: store.ids.id('Refund'),
      orderId: order.id,
      returnId: args.returnId ?? null,
      note: args.note ?? null,
      lineItems: refundLines,
      shippingMinor,
      transactionIds: transactions.map((t) => t.id),
      createdAt: stamp,
    };
    store.addRefund(refund);
    order.refundIds.push(refund.id);
    const fo = this.openFulfillmentOrder(order);
    for (const { line, q, restockType, loc, fulfilled } of plan) {
      const unfulfilledBefore = fulfillableQuantity(line, order);
      // Units taken off the order while unfulfilled leave `committed` at the assigned location.
      const fromUnfulfilled = restockType === 'RETURN' || fulfilled ? 0 : Math.min(q, unfulfilledBefore);
      line.refundedQuantity += q;
      line.cancelledQuantity += fromUnfulfilled;
      const item = this.itemOf(line);
      const orderLoc = store.locationById.get(order.locationId);
      if (fromUnfulfilled > 0 && fo) {
        const foLine = fo.lineItems.find((l) => l.lineItemId === line.id);
        if (foLine) foLine.remainingQuantity = Math.max(0, foLine.remainingQuantity - fromUnfulfilled);
      }
      if (!item) continue;
      if (restockType === 'CANCEL' && orderLoc) {
        const target = loc ?? orderLoc;
        if (target.id === orderLoc.id) {
          this.changeLevel(
            item,
            orderLoc,
            { available: fromUnfulfilled, committed: -fromUnfulfilled },
            stamp,
          );
        } else {
          this.changeLevel(item, orderLoc, { committed: -fromUnfulfilled }, stamp);
          this.changeLevel(item, target, { available: fromUnfulfilled }, stamp);
        }
      } else if (restockType === 'RETURN' && loc) {
        this.changeLevel(item, loc, { available: q }, stamp);
      } else if (fromUnfulfilled > 0 && orderLoc) {
        // Refunded without restock while unfulfilled: the units leave committed (and on_hand).
        this.changeLevel(item, orderLoc, { committed: -fromUnfulfilled }, stamp);
      }
    }
    if (fo?.lineItems.every((l) => l.remainingQuantity === 0)) {
      fo.status = 'CLOSED';
      fo.updatedAt = stamp;
    }
    if (emitEvents) {
      this.emit('refunds/create', refundPayload(this.payloads, refund), stamp, refund.id);
      this.emitOrder('orders/updated', order, stamp);
    }
    return refund;
  }

  /**
   * Fulfils (ships, or hands over a pick-up) the given lines of a fulfillment order: units leave
   * `committed` and `on_hand`; emits fulfillments/create and orders/updated.
   */
  fulfill(
    fo: FulfillmentOrderRecord,
    lines: Array<{ id: string; quantity: number }> | null,
    tracking: { company: string | null; number: string | null },
    at: number,
  ): FulfillmentRecord {
    const { store } = this;
    const order = store.orderById.get(fo.orderId);
    if (!order) throw new CommerceError('Fulfillment order does not exist.', ['fulfillmentOrderId']);
    if (fo.status === 'CLOSED' || fo.status === 'CANCELLED') {
      throw new CommerceError('Fulfillment order is not in a fulfillable state.', ['fulfillmentOrderId']);
    }
    const picks = (lines ?? fo.lineItems.map((l) => ({ id: l.id, quantity: l.remainingQuantity }))).filter(
      (l) => l.quantity > 0,
    );
    if (picks.length === 0)
      throw new CommerceError('There are no line items to fulfill.', ['fulfillmentOrderLineItems']);
    for (const p of picks) {
      const foLine = fo.lineItems.find((l) => l.id === p.id);
      if (!foLine)
        throw new CommerceError('Fulfillment order line item does not exist.', [
          'fulfillmentOrderLineItems',
          'id',
        ]);
      if (p.quantity > foLine.remainingQuantity) {
        throw new CommerceError('Quantity exceeds the remaining quantity.', [
          'fulfillmentOrderLineItems',
          'quantity',
        ]);
      }
    }
    const stamp = touch(order, at);
    const loc = store.locationById.get(fo.locationId);
    const fulfillment: FulfillmentRecord = {
      id: store.ids.id('Fulfillment'),
      orderId: order.id,
      locationId: fo.locationId,
      fulfillmentOrderId: fo.id,
      name: `${order.name}.${order.fulfillmentIds.length + 1}`,
      status: 'SUCCESS',
      trackingCompany: tracking.company,
      trackingNumber: tracking.number,
      lineItems: [],
      createdAt: stamp,
      updatedAt: stamp,
    };
    for (const p of picks) {
      const foLine = fo.lineItems.find((l) => l.id === p.id);
      if (!foLine) continue;
      foLine.remainingQuantity -= p.quantity;
      const line = order.lineItems.find((l) => l.id === foLine.lineItemId);
      if (!line) continue;
      line.fulfilledQuantity += p.quantity;
      fulfillment.lineItems.push({
        id: store.ids.id('FulfillmentLineItem'),
        lineItemId: line.id,
        quantity: p.quantity,
      });
      const item = this.itemOf(line);
      if (item && loc) this.changeLevel(item, loc, { committed: -p.quantity }, stamp);
    }
    store.addFulfillment(fulfillment);
    order.fulfillmentIds.push(fulfillment.id);
    fo.status = fo.lineItems.every((l) => l.remainingQuantity === 0) ? 'CLOSED' : 'IN_PROGRESS';
    fo.updatedAt = stamp;
    this.emit(
      'fulfillments/create',
      fulfillmentCreatePayload(this.payloads, fulfillment),
      stamp,
      fulfillment.id,
    );
    this.emitOrder('orders/updated', order, stamp);
    return fulfillment;
  }

  /**
   * Marks a pick-up fulfillment order as ready for pickup (the customer is notified): emits
   * fulfillment_orders/line_items_prepared_for_pickup.
   */
  prepareForPickup(fo: FulfillmentOrderRecord, at: number): void {
    if (fo.deliveryMethod !== 'PICK_UP') {
      throw new CommerceError(
        'Fulfillment order is not a pickup fulfillment order.',
        ['lineItemsByFulfillmentOrder', '0', 'fulfillmentOrderId'],
        'FULFILLMENT_ORDER_INVALID',
      );
    }
    if (fo.status !== 'OPEN' && fo.status !== 'IN_PROGRESS') {
      throw new CommerceError(
        'Fulfillment order is not in a preparable state.',
        ['lineItemsByFulfillmentOrder', '0', 'fulfillmentOrderId'],
        'FULFILLMENT_ORDER_INVALID',
      );
    }
    if (fo.lineItems.every((l) => l.remainingQuantity === 0) || fo.preparedForPickupAt !== null) {
      throw new CommerceError(
        'There are no line items to prepare for this fulfillment order.',
        ['lineItemsByFulfillmentOrder', '0', 'fulfillmentOrderId'],
        'NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER',
      );
    }
    const stamp = Math.max(at, fo.updatedAt + 1000);
    fo.preparedForPickupAt = stamp;
    fo.status = 'IN_PROGRESS';
    fo.updatedAt = stamp;
    this.emit(
      'fulfillment_orders/line_items_prepared_for_pickup',
      preparedForPickupPayload(fo),
      stamp,
      fo.id,
    );
  }

  // ------------------------------------------------------------------ returns

  /** Opens a return for fulfilled line items (Shopify's `returnCreate`). */
  createReturn(
    order: OrderRecord,
    lines: Array<{ fulfillmentLineItemId: string; quantity: number; note: string }>,
    at: number,
  ): ReturnRecord {
    const { store } = this;
    if (lines.length === 0)
      throw new CommerceError("Return line items can't be blank.", ['returnLineItems'], 'BLANK');
    const rec: ReturnRecord = {
      id: store.ids.id('Return'),
      orderId: order.id,
      name: `${order.name}-R${order.returnIds.length + 1}`,
      status: 'OPEN',
      reverseFulfillmentOrderId: store.ids.id('ReverseFulfillmentOrder'),
      lineItems: [],
      refundIds: [],
      createdAt: at,
      closedAt: null,
    };
    lines.forEach((l, i) => {
      const found = store.fulfillmentLineById.get(l.fulfillmentLineItemId);
      if (!found || found.fulfillment.orderId !== order.id) {
        throw new CommerceError(
          'Fulfillment line item does not exist.',
          ['returnLineItems', String(i), 'fulfillmentLineItemId'],
          'NOT_FOUND',
        );
      }
      const alreadyReturned = store.returns
        .filter((r) => r.orderId === order.id && r.status !== 'CANCELED' && r.status !== 'DECLINED')
        .flatMap((r) => r.lineItems)
        .filter((rl) => rl.fulfillmentLineItemId === l.fulfillmentLineItemId)
        .reduce((s, rl) => s + rl.quantity, 0);
      if (l.quantity <= 0 || l.quantity + alreadyReturned > found.line.quantity) {
        throw new CommerceError(
          'Quantity is greater than the returnable quantity.',
          ['returnLineItems', String(i), 'quantity'],
          'GREATER_THAN',
        );
      }
      rec.lineItems.push({
        id: store.ids.id('ReturnLineItem'),
        fulfillmentLineItemId: l.fulfillmentLineItemId,
        lineItemId: found.line.lineItemId,
        reverseLineId: store.ids.id('ReverseFulfillmentOrderLineItem'),
        quantity: l.quantity,
        processedQuantity: 0,
        refundedQuantity: 0,
        returnReasonNote: l.note,
        dispositions: [],
      });
    });
    store.addReturn(rec);
    order.returnIds.push(rec.id);
    touch(order, at);
    this.emitOrder('orders/updated', order, order.updatedAt);
    return rec;
  }

  /**
   * Cancels an open return nothing was done on yet (Shopify's `returnCancel`: "Canceling a return is only
   * available before any work has been done on the return (such as an inspection or refund)",
   * https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnCancel); its units count as fulfilled
   * again (they can be returned anew).
   */
  cancelReturn(ret: ReturnRecord, at: number): ReturnRecord {
    if (ret.status === 'CANCELED') return ret;
    if (
      ret.status !== 'OPEN' ||
      ret.refundIds.length > 0 ||
      ret.lineItems.some((l) => l.processedQuantity > 0)
    ) {
      throw new CommerceError('Return cannot be canceled.', ['id'], 'INVALID_STATE');
    }
    ret.status = 'CANCELED';
    const order = this.store.orderById.get(ret.orderId);
    if (order) {
      touch(order, at);
      this.emitOrder('orders/updated', order, order.updatedAt);
    }
    return ret;
  }

  /**
   * Processes returned units (Shopify's `returnProcess`): applies dispositions (RESTOCKED adds to
   * `available` at the given location), optionally issues the refund for the processed units, and
   * closes the return when everything is processed.
   */
  processReturn(
    ret: ReturnRecord,
    lines: Array<{
      returnLineItemId: string;
      quantity: number;
      dispositions: Array<{
        reverseLineId: string;
        quantity: number;
        type: DispositionType;
        locationId: string | null;
      }>;
    }>,
    refund: {
      issue: boolean;
      shipping: 'full' | number;
      allowOverRefunding: boolean;
      /** The refund's money as the caller gave it (`orderTransactions`); computed when absent. */
      transactions?: Array<{ amountMinor: number; gateway: string }>;
    },
    at: number,
  ): RefundRecord | undefined {
    const { store } = this;
    const order = store.orderById.get(ret.orderId);
    if (!order) throw new CommerceError('Return does not exist.', ['returnId'], 'NOT_FOUND');
    if (ret.status !== 'OPEN') throw new CommerceError('Return is not open.', ['returnId'], 'INVALID_STATE');
    lines.forEach((l, i) => {
      const rl = ret.lineItems.find((x) => x.id === l.returnLineItemId);
      if (!rl)
        throw new CommerceError(
          'Return line item does not exist.',
          ['returnLineItems', String(i), 'id'],
          'NOT_FOUND',
        );
      if (l.quantity <= 0 || l.quantity > rl.quantity - rl.processedQuantity) {
        throw new CommerceError(
          'Quantity is greater than the unprocessed quantity.',
          ['returnLineItems', String(i), 'quantity'],
          'GREATER_THAN',
        );
      }
      l.dispositions.forEach((d, j) => {
        if (d.reverseLineId !== rl.reverseLineId) {
          throw new CommerceError(
            'Reverse fulfillment order line item does not exist.',
            ['returnLineItems', String(i), 'dispositions', String(j), 'reverseFulfillmentOrderLineItemId'],
            'NOT_FOUND',
          );
        }
        if (d.type === 'RESTOCKED' && (!d.locationId || !store.locationById.has(d.locationId))) {
          throw new CommerceError(
            'A valid location is required to restock.',
            ['returnLineItems', String(i), 'dispositions', String(j), 'locationId'],
            'INVALID',
          );
        }
      });
    });
    const stamp = touch(order, at);
    // The refund first: it validates (amounts, quantities) before it changes anything, so a refused refund
    // leaves the return and the stock as they were — a mutation answering userErrors changes nothing.
    const refundLines: Array<{
      lineItemId: string;
      quantity: number;
      restockType: RefundLineRecord['restockType'];
      locationId: string | null;
      fulfilled: boolean;
    }> = [];
    if (refund.issue) {
      for (const l of lines) {
        const rl = ret.lineItems.find((x) => x.id === l.returnLineItemId);
        if (!rl) continue;
        const restocked = l.dispositions.find((d) => d.type === 'RESTOCKED');
        // Restocking happens through the disposition: the refund line records no restock.
        refundLines.push({
          lineItemId: rl.lineItemId,
          quantity: l.quantity,
          restockType: 'NO_RESTOCK',
          locationId: restocked?.locationId ?? null,
          fulfilled: true,
        });
      }
    }
    let created: RefundRecord | undefined;
    if (refund.issue && refundLines.length > 0) {
      // Fulfilled units refunded after a return: they leave the order without touching committed.
      created = this.refund(
        order,
        {
          lines: refundLines,
          shipping: refund.shipping,
          note: `Refund for return ${ret.name}`,
          money: refund.transactions ? { transactions: refund.transactions } : 'computed',
          returnId: ret.id,
          allowOverRefunding: refund.allowOverRefunding,
        },
        stamp,
        false,
      );
      ret.refundIds.push(created.id);
    }
    for (const l of lines) {
      const rl = ret.lineItems.find((x) => x.id === l.returnLineItemId);
      if (!rl) continue;
      rl.processedQuantity += l.quantity;
      const line = order.lineItems.find((x) => x.id === rl.lineItemId);
      const item = line ? this.itemOf(line) : undefined;
      for (const d of l.dispositions) {
        rl.dispositions.push({
          id: store.ids.id('ReverseFulfillmentOrderLineItem'),
          quantity: d.quantity,
          type: d.type,
          locationId: d.locationId,
        });
        const loc = d.locationId ? store.locationById.get(d.locationId) : undefined;
        if (d.type === 'RESTOCKED' && item && loc)
          this.changeLevel(item, loc, { available: d.quantity }, stamp);
      }
      if (refund.issue) rl.refundedQuantity += l.quantity;
    }
    if (ret.lineItems.every((x) => x.processedQuantity >= x.quantity)) {
      ret.status = 'CLOSED';
      ret.closedAt = stamp;
    }
    if (created) this.emit('refunds/create', refundPayload(this.payloads, created), stamp, created.id);
    this.emitOrder('orders/updated', order, stamp);
    return created;
  }

  // ------------------------------------------------------------------ products

  /** Emits products/create or products/update for `product`. */
  emitProduct(product: ProductRecord, created: boolean): void {
    this.emit(
      created ? 'products/create' : 'products/update',
      productPayload(this.payloads, product),
      product.updatedAt,
      product.id,
    );
  }

  /** Editable quantity of an order line (used by scenario edits). */
  editable(order: OrderRecord, line: LineItemRecord): number {
    return Math.min(fulfillableQuantity(line, order), editedQuantity(line));
  }
}
