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

  /** A completed in-store sale: order, payment, `order.updated` (and `order.created` if asked), stock out. */
  sale(
    rng: Rng,
    locationId: string,
    lines: Array<{ v: CatalogVariation; q: number }>,
    at: string,
    orderCreated: boolean,
  ): string {
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
    const order: Order = {
      id: orderId,
      location_id: locationId,
      source: { name: 'Square Point of Sale' },
      line_items: items,
      net_amounts: {
        total_money: money(total, currency),
        tax_money: money(tax, currency),
        discount_money: zero,
        tip_money: zero,
        service_charge_money: zero,
      },
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
      created_at: at,
      updated_at: at,
      closed_at: at,
      state: 'COMPLETED',
      version: 2,
      total_money: money(total, currency),
      total_tax_money: money(tax, currency),
      total_discount_money: zero,
      total_tip_money: zero,
      total_service_charge_money: zero,
    };
    this.store.orders.set(orderId, order);
    const payment: Payment = {
      id: paymentId,
      created_at: at,
      updated_at: at,
      amount_money: money(total, currency),
      total_money: money(total, currency),
      status: 'COMPLETED',
      source_type: tenderType,
      location_id: locationId,
      order_id: orderId,
    };
    this.store.payments.set(paymentId, payment);
    if (orderCreated) {
      this.emitter.emit(
        'order.created',
        'order_created',
        orderId,
        {
          order_created: {
            created_at: at,
            location_id: locationId,
            order_id: orderId,
            state: 'OPEN',
            version: 1,
          },
        },
        at,
        rng,
      );
    }
    this.orderUpdated(rng, order, at);
    const counts: InventoryCount[] = [];
    for (const l of items) {
      this.store.record(l.catalog_object_id, locationId, 'adjust', -Number(l.quantity), Date.parse(at), at);
      counts.push(this.store.count(l.catalog_object_id, locationId, at));
    }
    this.emitter.emitCounts(dedupeCounts(counts), at, rng);
    return orderId;
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
      version: 1,
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

  /** `order.updated` for a completed order (no line items: receivers fetch the order). */
  private orderUpdated(rng: Rng, order: Order, at: string): void {
    this.emitter.emit(
      'order.updated',
      'order_updated',
      order.id,
      {
        order_updated: {
          created_at: at,
          location_id: order.location_id,
          order_id: order.id,
          state: 'COMPLETED',
          updated_at: at,
          version: order.version,
        },
      },
      at,
      rng,
    );
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
    this.orderUpdated(rng, order, at);
    this.emitter.emit('refund.created', 'refund', refundId, { refund: refundObject(refund) }, at, rng);
    const doneAt = new Date(Date.parse(at) + 2000).toISOString();
    refund.status = 'COMPLETED';
    refund.updated_at = doneAt;
    refund.version = 2;
    this.emitter.emit('refund.updated', 'refund', refundId, { refund: refundObject(refund) }, doneAt, rng);
    this.restock(rng, src.location_id, rl, at);
    return { orderId: order.id, refundId };
  }

  /** An online order returned at a store: a return order carrying the online reference, no refund, restock. */
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
  ): string {
    const rl = this.returnLines(
      rng,
      lines.map((l) => ({ v: l.v, q: l.q, price: l.price ?? l.v.item_variation_data.price_money.amount })),
    );
    const order = this.returnOrder(
      rng,
      locationId,
      { uid: squareId(rng, 22, 'b62'), return_line_items: rl },
      at,
      {
        reference_id: reference,
        metadata: { online_order_reference: reference, return_channel: 'in_store' },
      },
    );
    this.orderUpdated(rng, order, at);
    this.restock(rng, locationId, rl, at);
    return order.id;
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
    payment_id: r.payment_id,
    status: r.status,
    updated_at: r.updated_at,
    version: r.version,
  };
}

/** Keeps the last count per item and location (a sale with two lines of one item reports it once). */
function dedupeCounts(counts: InventoryCount[]): InventoryCount[] {
  const m = new Map<string, InventoryCount>();
  for (const c of counts) m.set(`${c.catalog_object_id}|${c.location_id}`, c);
  return [...m.values()];
}
