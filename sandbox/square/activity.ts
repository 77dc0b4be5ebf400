import type { Rng } from '../core/rng.ts';
import type {
  CatalogVariation,
  InventoryCount,
  Money,
  Order,
  OrderLineItem,
  OrderReturnLineItem,
  Payment,
  PaymentRefund,
} from './model.ts';
import { type SquareStore, squareId } from './store.ts';
import type { SquareWebhookEmitter } from './webhooks.ts';

const money = (amount: number, currency: string): Money => ({ amount, currency });
const TAX_RATE = 0.08;

/** What a sale or return line needs of a catalog variation. */
type LineVariation = Pick<CatalogVariation, 'id' | 'version'> & {
  item_variation_data: Pick<CatalogVariation['item_variation_data'], 'name' | 'item_id'>;
};

/**
 * What one POS activity does to the merchant, as Square records it: a sale (a completed order, its
 * payment, stock out), a return (a return order, a refund on the original payment, restock), an
 * online order returned at a store, a cycle count or a shrink adjustment — each with the records
 * the API then serves and the webhooks Square sends. Ids and choices come from the caller's `rng`,
 * so a seeded scenario replays byte for byte.
 */
export class PosActivity {
  /** Quantity already returned per sale line (`uid`), so a line is never returned twice. */
  private readonly returned = new Map<string, number>();

  constructor(
    private readonly store: SquareStore,
    private readonly emitter: SquareWebhookEmitter,
    private readonly currency: string,
  ) {}

  /** A cycle count (`count`: the new quantity) or shrink (`adjust`: an IN_STOCK delta to `reason`) made in the POS. */
  inventoryChange(
    rng: Rng,
    variationId: string,
    locationId: string,
    kind: 'count' | 'adjust',
    value: number,
    at: string,
    reason: string,
  ): void {
    const before = this.store.quantity(variationId, locationId);
    this.store.record(variationId, locationId, kind, value, Date.parse(at), at);
    const id = squareId(rng, 24);
    const v = this.store.variations.get(variationId);
    this.store.changes.push(
      kind === 'count'
        ? {
            type: 'PHYSICAL_COUNT',
            physical_count: {
              id,
              catalog_object_id: variationId,
              catalog_object_type: 'ITEM_VARIATION',
              state: 'IN_STOCK',
              location_id: locationId,
              quantity: String(value),
              source: { product: 'SQUARE_POS' },
              occurred_at: at,
              created_at: at,
            },
          }
        : {
            type: 'ADJUSTMENT',
            adjustment: {
              id,
              from_state: value < 0 ? 'IN_STOCK' : reason,
              to_state: value < 0 ? reason : 'IN_STOCK',
              catalog_object_id: variationId,
              catalog_object_type: 'ITEM_VARIATION',
              location_id: locationId,
              quantity: String(Math.abs(value)),
              occurred_at: at,
              created_at: at,
            },
          },
    );
    if (v && this.store.quantity(variationId, locationId) !== before)
      this.emitter.emitCounts([this.store.count(variationId, locationId, at)], at, rng);
  }

  /**
   * One line of a sale (`gross_sales_money`) or a return (`gross_return_money`, with the sale line it
   * returns): price × quantity plus 8 % tax, in Square's key order.
   */
  private line<G extends 'gross_sales_money' | 'gross_return_money'>(
    rng: Rng,
    v: LineVariation,
    quantity: number,
    price: number,
    gross: G,
    sourceUid?: string,
  ) {
    const currency = this.currency;
    const grossAmount = price * quantity;
    const tax = Math.round(grossAmount * TAX_RATE);
    const item = this.store.items.find((i) => i.id === v.item_variation_data.item_id);
    return {
      uid: squareId(rng, 22, 'b62'),
      ...(sourceUid ? { source_line_item_uid: sourceUid } : {}),
      catalog_object_id: v.id,
      catalog_version: v.version,
      quantity: String(quantity),
      name: item?.item_data.name ?? v.item_variation_data.name,
      variation_name: v.item_variation_data.name,
      item_type: 'ITEM' as const,
      base_price_money: money(price, currency),
      ...({ [gross]: money(grossAmount, currency) } as Record<G, Money>),
      total_tax_money: money(tax, currency),
      total_discount_money: money(0, currency),
      total_money: money(grossAmount + tax, currency),
    };
  }

  /**
   * A completed sale rung up at the register: order (no `version`: "Orders not created through the API do
   * not include a version number", Order `version`), payment, stock out. Square publishes `payment.created`
   * and `payment.updated` (a card payment is APPROVED, then COMPLETED; cash is COMPLETED at once) and the
   * inventory change — no order event (unless `orderEvents`, for receivers that want them anyway).
   */
  sale(
    rng: Rng,
    locationId: string,
    lines: Array<{ v: CatalogVariation; q: number }>,
    at: string,
    orderEvents: boolean,
  ): string {
    const order = this.completedOrder(rng, locationId, lines, at, { source: 'Square Point of Sale' });
    if (orderEvents) {
      this.orderEvent(rng, 'order.created', order, 'OPEN', 1, at);
      this.orderEvent(rng, 'order.updated', order, 'COMPLETED', 2, at);
    }
    this.paymentEvents(rng, order, at);
    this.stockOut(rng, order, at);
    return order.id;
  }

  /**
   * An order made through the Orders API, paid and completed: versioned, with `order.created` (OPEN),
   * the payment events and `order.updated` (COMPLETED). With `pickup`, a pick-up order the hub created
   * for an online order (BOPIS: `metadata.omnihub_origin`, a PICKUP fulfilment, paid online so no Square
   * payment), picked up: `order.created`, `order.fulfillment.updated` (PREPARED → COMPLETED) and
   * `order.updated` (COMPLETED).
   */
  apiOrder(
    rng: Rng,
    locationId: string,
    lines: Array<{ v: CatalogVariation; q: number }>,
    at: string,
    pickup: boolean,
  ): string {
    const origin = pickup ? `shopify:omnihub-dev.myshopify.com:${rng.int(100000, 999999)}` : undefined;
    const order = this.completedOrder(rng, locationId, lines, at, {
      source: pickup ? 'Omnihub' : 'Order Ahead',
      version: 4,
      ...(origin ? { metadata: { omnihub_origin: origin }, reference_id: `#${origin.split(':')[2]}` } : {}),
      tendered: !pickup,
    });
    if (pickup) {
      order.fulfillments = [{ uid: squareId(rng, 22, 'b62'), type: 'PICKUP', state: 'COMPLETED' }];
    }
    this.orderEvent(rng, 'order.created', order, 'OPEN', 1, at);
    if (pickup) {
      this.emitter.emit(
        'order.fulfillment.updated',
        'order_fulfillment_updated',
        order.id,
        {
          order_fulfillment_updated: {
            created_at: at,
            fulfillment_update: [
              {
                fulfillment_uid: order.fulfillments?.[0]?.uid,
                new_state: 'COMPLETED',
                old_state: 'PREPARED',
              },
            ],
            location_id: order.location_id,
            order_id: order.id,
            state: 'COMPLETED',
            updated_at: at,
            version: 3,
          },
        },
        at,
        rng,
      );
    } else {
      this.paymentEvents(rng, order, at);
    }
    this.orderEvent(rng, 'order.updated', order, 'COMPLETED', order.version ?? 4, at);
    this.stockOut(rng, order, at);
    return order.id;
  }

  /** The completed order of a sale, its tender and (when tendered) its payment, stored. */
  private completedOrder(
    rng: Rng,
    locationId: string,
    lines: Array<{ v: CatalogVariation; q: number }>,
    at: string,
    options: {
      source: string;
      version?: number;
      metadata?: Record<string, string>;
      reference_id?: string;
      tendered?: boolean;
    },
  ): Order {
    const currency = this.currency;
    const orderId = squareId(rng, 29, 'b62');
    const paymentId = squareId(rng, 29, 'b62');
    const items: OrderLineItem[] = lines.map(({ v, q }) =>
      this.line(rng, v, q, v.item_variation_data.price_money.amount, 'gross_sales_money'),
    );
    const total = items.reduce((s, l) => s + l.total_money.amount, 0);
    const tax = items.reduce((s, l) => s + l.total_tax_money.amount, 0);
    const zero = money(0, currency);
    const tenderType = rng.chance(0.8) ? 'CARD' : 'CASH';
    const tendered = options.tendered ?? true;
    const order: Order = {
      id: orderId,
      location_id: locationId,
      ...(options.reference_id ? { reference_id: options.reference_id } : {}),
      source: { name: options.source },
      line_items: items,
      net_amounts: {
        total_money: money(total, currency),
        tax_money: money(tax, currency),
        discount_money: zero,
        tip_money: zero,
        service_charge_money: zero,
      },
      ...(tendered
        ? {
            tenders: [
              {
                id: paymentId,
                location_id: locationId,
                transaction_id: orderId,
                created_at: at,
                amount_money: money(total, currency),
                type: tenderType,
                payment_id: paymentId,
              },
            ],
          }
        : {}),
      ...(options.metadata ? { metadata: options.metadata } : {}),
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      ...(options.version !== undefined ? { version: options.version } : {}),
      total_money: money(total, currency),
      total_tax_money: money(tax, currency),
      total_discount_money: zero,
      total_tip_money: zero,
      total_service_charge_money: zero,
    };
    this.store.orders.set(orderId, order);
    if (tendered) {
      this.store.payments.set(paymentId, {
        id: paymentId,
        created_at: at,
        updated_at: at,
        amount_money: money(total, currency),
        total_money: money(total, currency),
        status: 'COMPLETED',
        source_type: tenderType,
        location_id: locationId,
        order_id: orderId,
      });
    }
    return order;
  }

  /**
   * `payment.created` and, for a card, `payment.updated` once it completes (cash completes at once), as
   * the Payments API publishes them for payments taken in the POS app ("The payment.created event
   * notification is sent ... when a payment is taken by a seller through the Point of Sale application",
   * developer.squareup.com/docs/payments-api/webhooks).
   */
  private paymentEvents(rng: Rng, order: Order, at: string): void {
    const payment = this.store.payments.get(order.tenders?.[0]?.payment_id ?? '');
    if (!payment) return;
    const card = payment.source_type === 'CARD';
    this.emitter.emit(
      'payment.created',
      'payment',
      payment.id,
      { payment: paymentObject({ ...payment, status: card ? 'APPROVED' : 'COMPLETED' }) },
      at,
      rng,
    );
    if (card) {
      this.emitter.emit(
        'payment.updated',
        'payment',
        payment.id,
        { payment: paymentObject(payment) },
        at,
        rng,
      );
    }
  }

  /** An order event (`order.created` / `order.updated`): ids, state and version, never the lines. */
  private orderEvent(
    rng: Rng,
    type: 'order.created' | 'order.updated',
    order: Order,
    state: Order['state'],
    version: number,
    at: string,
  ): void {
    const key = type === 'order.created' ? 'order_created' : 'order_updated';
    this.emitter.emit(
      type,
      key,
      order.id,
      {
        [key]: {
          created_at: at,
          location_id: order.location_id,
          order_id: order.id,
          state,
          ...(type === 'order.updated' ? { updated_at: at } : {}),
          version,
        },
      },
      at,
      rng,
    );
  }

  /** Stock out for a sale's lines, announced with one `inventory.count.updated`. */
  private stockOut(rng: Rng, order: Order, at: string): void {
    const counts: InventoryCount[] = [];
    for (const l of order.line_items ?? []) {
      this.store.record(
        l.catalog_object_id,
        order.location_id,
        'adjust',
        -Number(l.quantity),
        Date.parse(at),
        at,
      );
      counts.push(this.store.count(l.catalog_object_id, order.location_id, at));
    }
    this.emitter.emitCounts(dedupeCounts(counts), at, rng);
  }

  private returnLines(
    rng: Rng,
    lines: Array<{ v: LineVariation; q: number; price: number; sourceUid?: string }>,
  ): OrderReturnLineItem[] {
    return lines.map(({ v, q, price, sourceUid }) =>
      this.line(rng, v, q, price, 'gross_return_money', sourceUid),
    );
  }

  private returnOrder(
    rng: Rng,
    locationId: string,
    ret: NonNullable<Order['returns']>[number],
    at: string,
    extra: Partial<Order>,
  ): Order {
    const currency = this.currency;
    const total = ret.return_line_items.reduce((s, l) => s + l.total_money.amount, 0);
    const tax = ret.return_line_items.reduce((s, l) => s + l.total_tax_money.amount, 0);
    const zero = money(0, currency);
    const order: Order = {
      id: squareId(rng, 29, 'b62'),
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      returns: [ret],
      return_amounts: {
        total_money: money(total, currency),
        tax_money: money(tax, currency),
        discount_money: zero,
        tip_money: zero,
        service_charge_money: zero,
      },
      net_amounts: {
        total_money: money(-total, currency),
        tax_money: money(-tax, currency),
        discount_money: zero,
        tip_money: zero,
        service_charge_money: zero,
      },
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      total_money: zero,
      total_tax_money: zero,
      total_discount_money: zero,
      total_tip_money: zero,
      total_service_charge_money: zero,
      ...extra,
    };
    this.store.orders.set(order.id, order);
    return order;
  }

  /** Restocks returned lines (10 % go to WASTE as damaged) and emits the count changes. */
  private restock(rng: Rng, locationId: string, lines: OrderReturnLineItem[], at: string): void {
    const counts: InventoryCount[] = [];
    for (const l of lines) {
      if (rng.chance(0.1)) continue;
      this.store.record(l.catalog_object_id, locationId, 'adjust', Number(l.quantity), Date.parse(at), at);
      counts.push(this.store.count(l.catalog_object_id, locationId, at));
    }
    this.emitter.emitCounts(dedupeCounts(counts), at, rng);
  }

  /**
   * A return of an earlier sale line not yet returned in full: return order, refund on the original
   * payment (`refund.created` PENDING, then `refund.updated` COMPLETED), restock. Undefined when no
   * sale is left to return.
   */
  linkedReturn(rng: Rng, at: string): { orderId: string; refundId: string } | undefined {
    const candidates = [...this.store.orders.values()].filter(
      (o) =>
        o.line_items?.some((l) => Number(l.quantity) > (this.returned.get(l.uid) ?? 0)) && o.tenders?.[0],
    );
    if (candidates.length === 0) return undefined;
    const src = rng.pick(candidates);
    const open = (src.line_items ?? []).filter((l) => Number(l.quantity) > (this.returned.get(l.uid) ?? 0));
    const line = rng.pick(open);
    const q = rng.int(1, Number(line.quantity) - (this.returned.get(line.uid) ?? 0));
    this.returned.set(line.uid, (this.returned.get(line.uid) ?? 0) + q);
    const v = this.store.variations.get(line.catalog_object_id);
    if (!v) return undefined;
    const rl = this.returnLines(rng, [{ v, q, price: line.base_price_money.amount, sourceUid: line.uid }]);
    const tender = src.tenders?.[0];
    if (!tender) return undefined;
    const ret = { uid: squareId(rng, 22, 'b62'), source_order_id: src.id, return_line_items: rl };
    const amount = rl.reduce((s, l) => s + l.total_money.amount, 0);
    const refundId = `${tender.payment_id}_${squareId(rng, 40, 'b62')}`;
    const order = this.returnOrder(rng, src.location_id, ret, at, {
      refunds: [
        {
          id: refundId,
          location_id: src.location_id,
          transaction_id: src.id,
          tender_id: tender.id,
          created_at: at,
          reason: 'Returned Goods',
          amount_money: money(amount, this.currency),
          status: 'APPROVED',
        },
      ],
    });
    const refund: PaymentRefund = {
      id: refundId,
      status: 'PENDING',
      amount_money: money(amount, this.currency),
      payment_id: tender.payment_id,
      order_id: order.id,
      location_id: src.location_id,
      reason: 'Returned Goods',
      created_at: at,
      updated_at: at,
      version: 1,
    };
    this.store.refunds.set(refundId, refund);
    const payment = this.store.payments.get(tender.payment_id);
    if (payment) {
      payment.refund_ids = [...(payment.refund_ids ?? []), refundId];
      payment.refunded_money = money((payment.refunded_money?.amount ?? 0) + amount, this.currency);
    }
    this.emitter.emit('refund.created', 'refund', refundId, { refund: refundObject(refund) }, at, rng);
    const doneAt = new Date(Date.parse(at) + 2000).toISOString();
    refund.status = 'COMPLETED';
    refund.updated_at = doneAt;
    refund.version = 2;
    this.emitter.emit('refund.updated', 'refund', refundId, { refund: refundObject(refund) }, doneAt, rng);
    // The refund changes the payment (`refunded_money`, `refund_ids`): Square publishes payment.updated.
    if (payment) {
      payment.updated_at = doneAt;
      this.emitter.emit(
        'payment.updated',
        'payment',
        payment.id,
        { payment: paymentObject(payment) },
        doneAt,
        rng,
      );
    }
    this.restock(rng, src.location_id, rl, at);
    return { orderId: order.id, refundId };
  }

  /**
   * An online order returned at a store, the money given back at the register: an unlinked return order
   * (no `source_order_id`) carrying the online order's number in `reference_id`, an unlinked cash refund
   * (`unlinked: true`, no `payment_id`: "An unlinked refund isn't linked to a Square payment and has no
   * associated payment ID", https://developer.squareup.com/docs/refunds-api/unlinked-refunds) naming that
   * return order, and the restock. Square announces the refund as any other: `refund.created`, then
   * `refund.updated` once COMPLETED (https://developer.squareup.com/reference/square/refunds-api/webhooks/refund.created,
   * …/refund.updated); no order webhook (the order is made in the POS app).
   */
  onlineReturn(
    rng: Rng,
    locationId: string,
    reference: string,
    lines: Array<{
      v: {
        id: string;
        version: number;
        item_variation_data: { name: string; item_id: string; price_money: Money };
      };
      q: number;
      price: number | undefined;
    }>,
    at: string,
  ): { orderId: string; refundId: string } {
    const rl = this.returnLines(
      rng,
      lines.map((l) => ({ v: l.v, q: l.q, price: l.price ?? l.v.item_variation_data.price_money.amount })),
    );
    const amount = rl.reduce((s, l) => s + l.total_money.amount, 0);
    const refundId = squareId(rng, 29, 'b62');
    const order = this.returnOrder(
      rng,
      locationId,
      { uid: squareId(rng, 22, 'b62'), return_line_items: rl },
      at,
      {
        reference_id: reference,
        refunds: [
          {
            id: refundId,
            location_id: locationId,
            created_at: at,
            reason: 'Returned Goods',
            amount_money: money(amount, this.currency),
            status: 'APPROVED',
          },
        ],
      },
    );
    const refund: PaymentRefund = {
      id: refundId,
      status: 'PENDING',
      amount_money: money(amount, this.currency),
      unlinked: true,
      destination_type: 'CASH',
      order_id: order.id,
      location_id: locationId,
      reason: 'Returned Goods',
      created_at: at,
      updated_at: at,
      version: 1,
    };
    this.store.refunds.set(refundId, refund);
    this.emitter.emit('refund.created', 'refund', refundId, { refund: refundObject(refund) }, at, rng);
    const doneAt = new Date(Date.parse(at) + 2000).toISOString();
    refund.status = 'COMPLETED';
    refund.updated_at = doneAt;
    refund.version = 2;
    this.emitter.emit('refund.updated', 'refund', refundId, { refund: refundObject(refund) }, doneAt, rng);
    this.restock(rng, locationId, rl, at);
    return { orderId: order.id, refundId };
  }
}

/** The refund as `refund.created` / `refund.updated` carry it. */
function refundObject(r: PaymentRefund): Record<string, unknown> {
  return {
    amount_money: r.amount_money,
    created_at: r.created_at,
    id: r.id,
    location_id: r.location_id,
    order_id: r.order_id,
    ...(r.payment_id ? { payment_id: r.payment_id } : {}),
    ...(r.unlinked ? { unlinked: true, destination_type: r.destination_type } : {}),
    status: r.status,
    updated_at: r.updated_at,
    version: r.version,
  };
}

/** The payment as `payment.created` / `payment.updated` carry it (Payment, Square-Version 2025-08-20). */
function paymentObject(p: Payment): Record<string, unknown> {
  return {
    amount_money: p.amount_money,
    created_at: p.created_at,
    id: p.id,
    location_id: p.location_id,
    order_id: p.order_id,
    ...(p.refund_ids ? { refund_ids: p.refund_ids } : {}),
    ...(p.refunded_money ? { refunded_money: p.refunded_money } : {}),
    source_type: p.source_type,
    status: p.status,
    total_money: p.total_money,
    updated_at: p.updated_at,
  };
}

/** Keeps the last count per item and location (a sale with two lines of one item reports it once). */
function dedupeCounts(counts: InventoryCount[]): InventoryCount[] {
  const m = new Map<string, InventoryCount>();
  for (const c of counts) m.set(`${c.catalog_object_id}|${c.location_id}`, c);
  return [...m.values()];
}
