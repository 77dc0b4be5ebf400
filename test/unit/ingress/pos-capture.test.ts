import { describe, expect, it } from 'vitest';
import { signSquareBody } from '#shared/connectors/square/webhook-signature.ts';
import { detailSchema } from '#shared/events/catalog.ts';
import { handlePosWebhook, type PosWebhookRequest } from '#shared/ingress/pos-webhook.ts';
import { orderMovementId } from '#shared/inventory/projection.ts';
import { posIngressDeps } from '#test/support/ingress-fakes.ts';
import { orderWebhookBody, squareSale } from '#test/support/square.ts';

/**
 * The POS capture rules: register sales arrive through payment events, refunds of POS sales become
 * RefundCreated, and what belongs to other workflows (the hub's own pick-up orders, unlinked returns)
 * is acknowledged without an event.
 */
const KEY = 'square-signature-key';
const URL = 'https://hooks.example.com/webhooks/pos';
const MERCHANT = 'MERCHANT00001';
const SALE_ID = 'SQORDER0000000000000000000001';
const RETURN_ID = 'SQRETURN000000000000000000001';
const REFUND_ID = 'TENDER1_refund0000000000000000001';
const usd = (amount: number) => ({ amount, currency: 'USD' });

function delivery(body: string): PosWebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-square-hmacsha256-signature': signSquareBody(body, URL, KEY),
    },
    body,
    isBase64Encoded: false,
    notificationUrl: URL,
  };
}

/** A Square event body with `data.object.<key>` = object (payment or refund), as Square shapes it. */
function eventBody(type: string, key: string, object: Record<string, unknown>, eventId = `evt-${type}`) {
  return JSON.stringify({
    merchant_id: MERCHANT,
    type,
    event_id: eventId,
    created_at: '2026-11-27T10:15:01.123Z',
    data: { type: key, id: object.id, object: { [key]: object } },
  });
}

const payment = (overrides: Record<string, unknown> = {}) => ({
  id: 'TENDER1',
  created_at: '2026-11-27T10:15:00.000Z',
  updated_at: '2026-11-27T10:15:00.000Z',
  amount_money: usd(5899),
  total_money: usd(5899),
  status: 'COMPLETED',
  source_type: 'CARD',
  location_id: 'LOC0000000001',
  order_id: SALE_ID,
  ...overrides,
});

/** A return order for one unit of the sale's second line (12.50 + 1.00 tax), linked to the sale. */
function returnOrder(overrides: Record<string, unknown> = {}) {
  return {
    id: RETURN_ID,
    location_id: 'LOC0000000001',
    source: { name: 'Square Point of Sale' },
    returns: [
      {
        uid: 'ret-1',
        source_order_id: SALE_ID,
        return_line_items: [
          {
            uid: 'rli-1',
            source_line_item_uid: 'line-2',
            catalog_object_id: 'VAR-B',
            catalog_version: 1767225600000,
            quantity: '1',
            name: 'Item VAR-B',
            variation_name: 'M / Blue',
            item_type: 'ITEM',
            base_price_money: usd(1250),
            gross_return_money: usd(1250),
            total_tax_money: usd(100),
            total_discount_money: usd(0),
            total_money: usd(1350),
          },
        ],
      },
    ],
    refunds: [{ id: REFUND_ID, status: 'APPROVED', amount_money: usd(1350) }],
    created_at: '2026-11-27T11:00:00.000Z',
    updated_at: '2026-11-27T11:00:00.000Z',
    closed_at: '2026-11-27T11:00:00.000Z',
    state: 'COMPLETED',
    total_money: usd(0),
    ...overrides,
  };
}

const refund = (overrides: Record<string, unknown> = {}) => ({
  id: REFUND_ID,
  status: 'COMPLETED',
  amount_money: usd(1350),
  payment_id: 'TENDER1',
  order_id: RETURN_ID,
  location_id: 'LOC0000000001',
  reason: 'Returned Goods',
  created_at: '2026-11-27T11:00:00.000Z',
  updated_at: '2026-11-27T11:00:02.000Z',
  ...overrides,
});

/** Deps whose Square holds a register sale (no version: not made through the API) and its return. */
function register(sale: Record<string, unknown> = squareSale({ version: undefined })) {
  const fakes = posIngressDeps();
  fakes.square.orders.set(SALE_ID, sale);
  fakes.square.orders.set(RETURN_ID, returnOrder());
  return fakes;
}

const status = (body: string) => JSON.parse(body) as { status: string; reason?: string };

describe('POS capture: sales from payments, refunds of POS sales, and what belongs elsewhere', () => {
  it('captures a register sale from payment.updated: OrderCreated keyed on updated_at (register orders have no version)', async () => {
    const { deps, publisher } = register();
    const response = await handlePosWebhook(
      delivery(eventBody('payment.updated', 'payment', payment())),
      deps,
    );
    expect(status(response.body).status).toBe('published');
    const version = Date.parse('2026-11-27T10:15:00.000Z');
    expect(
      publisher.published.map((event) => [event.detailType, event.detail.metadata.idempotencyKey]),
    ).toEqual([['OrderCreated', `pos:${MERCHANT}:order:${SALE_ID}:OrderCreated:${version}`]]);
    expect(detailSchema('OrderCreated').parse(publisher.published[0]?.detail).metadata.origin).toMatchObject({
      topic: 'payment.updated',
      resourceId: SALE_ID,
    });
  });

  it('gives a sale seen through payment.created, payment.updated and order.updated one business key', async () => {
    const { deps, publisher } = register(squareSale());
    for (const body of [
      eventBody('payment.created', 'payment', payment(), 'e1'),
      eventBody('payment.updated', 'payment', payment(), 'e2'),
      orderWebhookBody({ id: SALE_ID }, { eventId: 'e3' }),
    ]) {
      expect((await handlePosWebhook(delivery(body), deps)).statusCode).toBe(200);
    }
    const keys = publisher.published.map((event) => event.detail.metadata.idempotencyKey);
    expect(keys).toHaveLength(3);
    expect(new Set(keys)).toEqual(new Set([`pos:${MERCHANT}:order:${SALE_ID}:OrderCreated:2`]));
  });

  it('acknowledges a payment that is not COMPLETED without reading its order', async () => {
    const { deps, publisher, square } = register();
    const response = await handlePosWebhook(
      delivery(eventBody('payment.created', 'payment', payment({ status: 'APPROVED' }))),
      deps,
    );
    expect(status(response.body)).toMatchObject({ status: 'ignored' });
    expect(square.orderCalls).toBe(0);
    expect(publisher.published).toHaveLength(0);
  });

  it('never books an order the hub created in Square (metadata.omnihub_origin: a BOPIS pick-up)', async () => {
    const pickup = squareSale({ metadata: { omnihub_origin: 'shopify:omnihub-dev.myshopify.com:1001' } });
    for (const body of [
      orderWebhookBody({ id: SALE_ID }),
      eventBody('payment.updated', 'payment', payment()),
    ]) {
      const { deps, publisher, exceptions } = register(pickup);
      const response = await handlePosWebhook(delivery(body), deps);
      expect(status(response.body).reason).toMatch(/created by the hub/);
      expect(publisher.published).toHaveLength(0);
      expect(exceptions.parked).toHaveLength(0);
    }
  });

  it('acknowledges a return order announced by order.updated (its refund is what gets booked)', async () => {
    const { deps, publisher, exceptions } = register();
    const response = await handlePosWebhook(delivery(orderWebhookBody({ id: RETURN_ID, version: 1 })), deps);
    expect(status(response.body).reason).toMatch(/is a return/);
    expect(publisher.published).toHaveLength(0);
    expect(exceptions.parked).toHaveLength(0);
  });

  it('turns a COMPLETED refund of a POS sale into one RefundCreated against the sale, to the cent', async () => {
    const { deps, publisher } = register();
    const response = await handlePosWebhook(delivery(eventBody('refund.updated', 'refund', refund())), deps);
    expect(status(response.body).status).toBe('published');
    const [event] = publisher.published;
    expect(event?.detailType).toBe('RefundCreated');
    const detail = detailSchema('RefundCreated').parse(event?.detail);
    expect(detail.metadata).toMatchObject({
      idempotencyKey: `pos:${MERCHANT}:refund:${REFUND_ID}`,
      occurredAt: '2026-11-27T11:00:02.000Z',
    });
    expect(detail.data).toMatchObject({
      source: { system: 'pos', account: MERCHANT, refundId: REFUND_ID, orderId: SALE_ID },
      currency: 'USD',
      lines: [
        {
          lineId: 'rli-1',
          orderLineId: 'line-2',
          sku: 'SKU-B',
          quantity: 1,
          locationId: 'LOC0000000001',
          subtotal: usd(1250),
          tax: usd(100),
        },
      ],
      transactions: [{ transactionId: REFUND_ID, gateway: 'card', amount: usd(1350) }],
      total: usd(1350),
    });
  });

  it('acknowledges a refund that is still PENDING', async () => {
    const { deps, publisher, square } = register();
    const response = await handlePosWebhook(
      delivery(eventBody('refund.created', 'refund', refund({ status: 'PENDING' }))),
      deps,
    );
    expect(status(response.body).status).toBe('ignored');
    expect(square.orderCalls).toBe(0);
    expect(publisher.published).toHaveLength(0);
  });

  it('leaves to the returns workflow a refund of an unlinked return (an online order returned at the store) and of a hub-made order', async () => {
    const unlinked = register();
    unlinked.square.orders.set(
      RETURN_ID,
      returnOrder({ returns: [{ ...returnOrder().returns[0], source_order_id: undefined }] }),
    );
    const hubMade = register(squareSale({ metadata: { omnihub_origin: 'shopify:shop:1' } }));
    const noOrder = register();
    for (const [fakes, body] of [
      [unlinked, refund()],
      [hubMade, refund()],
      [noOrder, refund({ payment_id: undefined, unlinked: true, order_id: undefined })],
    ] as const) {
      const response = await handlePosWebhook(
        delivery(eventBody('refund.updated', 'refund', body)),
        fakes.deps,
      );
      expect(status(response.body)).toMatchObject({
        status: 'ignored',
        reason: expect.stringMatching(/returns workflow/),
      });
      expect(fakes.publisher.published).toHaveLength(0);
      expect(fakes.exceptions.parked).toHaveLength(0);
    }
  });

  it('an unlinked refund of a linked return order returns nothing: acknowledged, no event', async () => {
    const fakes = register();
    const response = await handlePosWebhook(
      delivery(eventBody('refund.updated', 'refund', refund({ payment_id: undefined, unlinked: true }))),
      fakes.deps,
    );
    expect(status(response.body)).toMatchObject({
      status: 'ignored',
      reason: expect.stringMatching(/not an unlinked return order/),
    });
    expect(fakes.publisher.published).toHaveLength(0);
  });

  it('parks a refund that pays back only part of its return, with the reason', async () => {
    const { deps, publisher, exceptions } = register();
    const response = await handlePosWebhook(
      delivery(eventBody('refund.updated', 'refund', refund({ amount_money: usd(1000) }))),
      deps,
    );
    expect(status(response.body).status).toBe('parked');
    expect(publisher.published).toHaveLength(0);
    expect(exceptions.parked[0]).toMatchObject({ code: 'POS_ORDER_UNSUPPORTED' });
    expect(exceptions.parked[0]?.reason).toMatch(/1000 of a return worth 1350/);
  });

  it('parks a payment event whose payment cannot be read', async () => {
    const { deps, exceptions } = register();
    const response = await handlePosWebhook(
      delivery(eventBody('payment.updated', 'payment', { id: 'P1', order_id: SALE_ID })),
      deps,
    );
    expect(status(response.body).status).toBe('parked');
    expect(exceptions.parked[0]?.code).toBe('MAPPING_FAILED');
  });
});

describe('POS stock for the inventory projection: sales, returns and counts', () => {
  const adjusted = (events: readonly { detailType: string; detail: unknown }[]) =>
    events.map((event) => {
      expect(event.detailType).toBe('InventoryAdjusted');
      return detailSchema('InventoryAdjusted').parse(event.detail).data;
    });

  it('publishes a sale with one InventoryAdjusted per SKU, keyed as the ERP cash sale books it', async () => {
    const { deps, publisher } = register();
    await handlePosWebhook(delivery(eventBody('payment.updated', 'payment', payment())), deps);
    const externalId = `pos-${MERCHANT}-${SALE_ID}`;
    expect(adjusted(publisher.stock)).toEqual([
      expect.objectContaining({
        item: { sku: 'SKU-A' },
        location: { system: 'pos', id: 'LOC0000000001' },
        delta: -1,
        movementId: orderMovementId(externalId, 'SKU-A'),
        reason: 'sale',
      }),
      expect.objectContaining({ item: { sku: 'SKU-B' }, delta: -2, movementId: `${externalId}#SKU-B` }),
    ]);
  });

  it('gives the same sale seen through another event the same movement ids (it counts once)', async () => {
    const { deps, publisher } = register(squareSale());
    await handlePosWebhook(delivery(eventBody('payment.created', 'payment', payment(), 'e1')), deps);
    await handlePosWebhook(delivery(eventBody('payment.updated', 'payment', payment(), 'e2')), deps);
    const ids = adjusted(publisher.stock).map((d) => d.movementId);
    expect(ids).toHaveLength(4);
    expect(new Set(ids).size).toBe(2);
  });

  it('publishes a refund of a POS sale as a return movement at the store that took it back', async () => {
    const { deps, publisher } = register();
    await handlePosWebhook(delivery(eventBody('refund.updated', 'refund', refund())), deps);
    expect(adjusted(publisher.stock)).toEqual([
      expect.objectContaining({
        item: { sku: 'SKU-B' },
        location: { system: 'pos', id: 'LOC0000000001' },
        delta: 1,
        movementId: `posrefund-${MERCHANT}-${REFUND_ID}#SKU-B`,
        reason: 'return',
      }),
    ]);
  });

  const counted = (events: readonly { detailType: string; detail: unknown }[]) =>
    events.map((event) => detailSchema('InventoryCounted').parse(event.detail).data);
  const countsBody = (counts: Record<string, unknown>[], eventId = 'evt-count') =>
    JSON.stringify({
      merchant_id: MERCHANT,
      type: 'inventory.count.updated',
      event_id: eventId,
      created_at: '2026-11-27T10:15:01.123Z',
      data: { type: 'inventory_counts', id: eventId, object: { inventory_counts: counts } },
    });
  const count = (overrides: Record<string, unknown> = {}) => ({
    catalog_object_id: 'VAR-C',
    catalog_object_type: 'ITEM_VARIATION',
    location_id: 'LOC0000000002',
    quantity: '7',
    state: 'IN_STOCK',
    calculated_at: '2026-11-27T10:15:00.10296Z',
    ...overrides,
  });

  it('publishes each IN_STOCK count of inventory.count.updated as InventoryCounted with its SKU', async () => {
    const fakes = posIngressDeps();
    fakes.square.variationMap.set('VAR-C', { sku: 'SKU-C', itemId: 'ITEM-C' });
    const response = await handlePosWebhook(
      delivery(countsBody([count(), count({ state: 'WASTE', quantity: '2' })])),
      fakes.deps,
    );
    expect(status(response.body).status).toBe('published');
    expect(fakes.square.orderCalls).toBe(0);
    expect(counted(fakes.publisher.stock)).toEqual([
      {
        item: { sku: 'SKU-C', posCatalogObjectId: 'VAR-C' },
        location: { system: 'pos', id: 'LOC0000000002' },
        quantityName: 'on_hand',
        quantity: 7,
        sequence: Date.parse('2026-11-27T10:15:00.102Z'),
        countedAt: '2026-11-27T10:15:00.102Z',
      },
    ]);
  });

  it('publishes the count of a variation Square cannot name with sku null (the projector parks it)', async () => {
    const fakes = posIngressDeps();
    await handlePosWebhook(delivery(countsBody([count({ catalog_object_id: 'VAR-GONE' })])), fakes.deps);
    expect(counted(fakes.publisher.stock)).toEqual([
      expect.objectContaining({ item: { sku: null, posCatalogObjectId: 'VAR-GONE' } }),
    ]);
  });

  it('parks a count the hub cannot carry (a fractional quantity), with the reason', async () => {
    const fakes = posIngressDeps();
    fakes.square.variationMap.set('VAR-C', { sku: 'SKU-C', itemId: 'ITEM-C' });
    const response = await handlePosWebhook(delivery(countsBody([count({ quantity: '2.5' })])), fakes.deps);
    expect(status(response.body).status).toBe('parked');
    expect(fakes.publisher.stock).toHaveLength(0);
    expect(fakes.exceptions.parked[0]?.reason).toMatch(/2\.5 is not whole units/);
  });
});

describe('POS capture: an online order returned and refunded at the store (unlinked refund)', () => {
  const STORE_REFUND = 'UNLINKEDREFUND000000000000001';
  /** The unlinked return order Square POS makes: no source_order_id, the online order number in reference_id. */
  const storeReturn = (overrides: Record<string, unknown> = {}) =>
    returnOrder({
      reference_id: '#1001',
      returns: [{ ...returnOrder().returns[0], source_order_id: undefined }],
      refunds: [{ id: STORE_REFUND, status: 'APPROVED', amount_money: usd(1350) }],
      ...overrides,
    });
  const storeRefund = (overrides: Record<string, unknown> = {}) =>
    refund({ id: STORE_REFUND, payment_id: undefined, unlinked: true, ...overrides });
  const atStore = (order = storeReturn()) => {
    const fakes = posIngressDeps();
    fakes.square.orders.set(RETURN_ID, order);
    return fakes;
  };

  it('publishes StoreReturnRecorded with the online order number, the SKUs and the money given back; no stock movement', async () => {
    const { deps, publisher, exceptions } = atStore();
    const response = await handlePosWebhook(
      delivery(eventBody('refund.updated', 'refund', storeRefund())),
      deps,
    );
    expect(status(response.body).status).toBe('published');
    expect(exceptions.parked).toHaveLength(0);
    expect(publisher.published.map((event) => event.detailType)).toEqual(['StoreReturnRecorded']);
    // The workflow books the restock once it has matched the online order: nothing for the projection here.
    expect(publisher.stock).toEqual([]);
    const detail = detailSchema('StoreReturnRecorded').parse(publisher.published[0]?.detail);
    expect(detail.metadata.idempotencyKey).toBe(`pos:${MERCHANT}:store-return:${STORE_REFUND}`);
    expect(detail.data).toEqual({
      source: { system: 'pos', account: MERCHANT, refundId: STORE_REFUND, returnOrderId: RETURN_ID },
      onlineOrderReference: '#1001',
      location: { system: 'pos', id: 'LOC0000000001' },
      currency: 'USD',
      lines: [{ lineId: 'rli-1', sku: 'SKU-B', quantity: 1, subtotal: usd(1250), tax: usd(100) }],
      refunded: usd(1350),
      refundedAt: '2026-11-27T11:00:02.000Z',
    });
  });

  it('gives the refund one business key whichever delivery; a PENDING refund publishes nothing', async () => {
    const { deps, publisher } = atStore();
    const pending = await handlePosWebhook(
      delivery(eventBody('refund.created', 'refund', storeRefund({ status: 'PENDING' }), 'e0')),
      deps,
    );
    expect(status(pending.body).status).toBe('ignored');
    for (const eventId of ['e1', 'e2']) {
      await handlePosWebhook(delivery(eventBody('refund.updated', 'refund', storeRefund(), eventId)), deps);
    }
    const keys = publisher.published.map((event) => event.detail.metadata.idempotencyKey);
    expect(keys).toEqual([
      `pos:${MERCHANT}:store-return:${STORE_REFUND}`,
      `pos:${MERCHANT}:store-return:${STORE_REFUND}`,
    ]);
  });

  it('parks a store return that names no online order, and one refunded in parts, with the reason', async () => {
    const noReference = atStore(storeReturn({ reference_id: undefined }));
    const response = await handlePosWebhook(
      delivery(eventBody('refund.updated', 'refund', storeRefund())),
      noReference.deps,
    );
    expect(status(response.body).status).toBe('parked');
    expect(noReference.publisher.published).toHaveLength(0);
    expect(noReference.exceptions.parked[0]?.reason).toMatch(/names no online order/);

    const inParts = atStore();
    await handlePosWebhook(
      delivery(eventBody('refund.updated', 'refund', storeRefund({ amount_money: usd(1000) }))),
      inParts.deps,
    );
    expect(inParts.exceptions.parked[0]).toMatchObject({ code: 'POS_ORDER_UNSUPPORTED' });
  });
});
