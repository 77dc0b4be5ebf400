import { describe, expect, it } from 'vitest';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { mapOrder, shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import { OrderPayloadSchema } from '#shared/connectors/shopify/payloads.ts';
import { MappingError } from '#shared/errors.ts';
import { type DetailType, detailSchema, EVENT_CATALOG } from '#shared/events/catalog.ts';
import { EventMetadataSchema } from '#shared/events/envelope.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

const shop = { shopDomain: 'acme.myshopify.com', currency: 'USD' };
const map = (topic: string, payload: unknown) => {
  const mapper = shopifyTopicMapper(topic);
  if (!mapper) throw new Error(`no mapper for ${topic}`);
  return mapper(payload, shop);
};
const fixture = (topic: string) => parseShopifyJson(shopifyWebhookBody(topic));

/** Topics with a documented sample, and the event each maps to. */
const MAPPED_TOPICS = [
  ['orders/create', 'OrderCreated'],
  ['orders/updated', 'OrderUpdated'],
  ['orders/cancelled', 'OrderCancelled'],
  ['refunds/create', 'RefundCreated'],
  ['products/update', 'ProductChanged'],
  ['customers/data_request', 'CustomerDataRequested'],
  ['customers/redact', 'CustomerRedactionRequested'],
  ['shop/redact', 'ShopRedactionRequested'],
  ['inventory_levels/update', 'InventoryCounted'],
] as const;

describe('Shopify mappers', () => {
  describe.each(MAPPED_TOPICS)('%s (documented sample)', (topic, detailType) => {
    it(`maps to exactly one ${detailType} whose data satisfies the catalog schema`, () => {
      const events = map(topic, fixture(topic));
      expect(events).toHaveLength(1);
      const [event] = events;
      expect(event?.detailType).toBe(detailType);
      expect(() => EVENT_CATALOG[detailType].data.parse(event?.data)).not.toThrow();
      expect(event?.idempotencyKey).toMatch(/^shopify:acme\.myshopify\.com:/);
    });

    it('gives the same business key when mapped twice', () => {
      expect(map(topic, fixture(topic))[0]?.idempotencyKey).toBe(
        map(topic, fixture(topic))[0]?.idempotencyKey,
      );
    });
  });

  describe('orders', () => {
    const [created] = map('orders/create', fixture('orders/create'));
    const order = EVENT_CATALOG.OrderCreated.data.parse(created?.data);

    it('takes the exact order id from the GID, not the rounded number', () => {
      expect(order.source.orderId).toBe('820982911946154508');
      expect(order.lines[0]?.lineId).toBe('487817672276298554');
    });

    it('converts amounts to integer minor units in the shop currency', () => {
      expect(order.currency).toBe('USD');
      expect(order.lines.map((line) => [line.sku, line.unitPrice.amount])).toEqual([
        ['SKU2006-001', 8999],
        ['LENS-PROTECT-2YR', 1999],
        ['CASE-LEATHER-PREM', 2499],
        ['SKU2006-020', 15999],
        ['SKU2006-035', 11999],
      ]);
      expect(order.totals).toEqual({
        subtotal: { amount: 40495, currency: 'USD' },
        discounts: { amount: 2000, currency: 'USD' },
        shipping: { amount: 1000, currency: 'USD' },
        tax: { amount: 0, currency: 'USD' },
        total: { amount: 40495, currency: 'USD' },
      });
      expect(order.currentTotals.total).toEqual({ amount: 41495, currency: 'USD' });
      expect(order.shippingLines[0]?.price).toEqual({ amount: 1000, currency: 'USD' });
    });

    it('reads status, channel and times as the sample states them', () => {
      expect(order.channel).toBe('online');
      expect(order.storeLocationId).toBeNull();
      expect(order.fulfilmentMethod).toBe('ship');
      expect(order.status).toBe('cancelled');
      expect(order.cancelReason).toBe('customer');
      expect(order.paymentStatus).toBe('voided');
      expect(order.test).toBe(true);
      expect(order.createdAt).toBe('2022-01-01T00:00:00.000Z');
      expect(order.updatedAt).toBe('2022-01-01T00:00:00.000Z');
      expect(order.customerRef).toEqual({ system: 'shopify', id: '115310627314723954' });
    });

    it('uses the order creation time for OrderCreated and the update time as the version of updates', () => {
      expect(created?.occurredAt).toBe('2022-01-01T00:00:00.000Z');
      const [updated] = map('orders/updated', fixture('orders/updated'));
      expect(updated?.idempotencyKey).toMatch(
        new RegExp(
          `^shopify:acme\\.myshopify\\.com:order:820982911946154508:OrderUpdated:${Date.parse('2022-01-01T00:00:00.000Z')}:[\\w-]{12}$`,
        ),
      );
    });

    it('gives two different changes within the same second different business keys (updated_at has 1 s precision)', () => {
      const base = fixture('orders/updated') as Record<string, unknown>;
      const [paid] = map('orders/updated', { ...base, financial_status: 'paid' });
      const [edited] = map('orders/updated', {
        ...base,
        financial_status: 'paid',
        tags: 'edited',
        note: 'x',
        name: '#9999-E',
      });
      const [paidAgain] = map('orders/updated', { ...base, financial_status: 'paid' });
      expect(paid?.idempotencyKey).not.toBe(edited?.idempotencyKey);
      expect(paid?.idempotencyKey).toBe(paidAgain?.idempotencyKey);
    });

    it('recognises a POS sale only when both source_name is pos and a location is set', () => {
      const base = fixture('orders/create') as Record<string, unknown>;
      const pos = mapOrder(
        OrderPayloadSchema.parse({ ...base, source_name: 'pos', location_id: 655441491 }),
        shop,
      );
      expect(pos.channel).toBe('pos');
      expect(pos.storeLocationId).toBe('655441491');
      expect(pos.fulfilmentMethod).toBe('carry_out');
      const injected = mapOrder(
        OrderPayloadSchema.parse({ ...base, source_name: 'web', location_id: 655441491 }),
        shop,
      );
      expect(injected.channel).toBe('online');
      const noLocation = mapOrder(
        OrderPayloadSchema.parse({ ...base, source_name: 'pos', location_id: null }),
        shop,
      );
      expect(noLocation.channel).toBe('online');
    });

    it('maps pick-up, discounts, taxes and multi-currency explicitly', () => {
      const base = fixture('orders/create') as Record<string, unknown> & {
        line_items: Record<string, unknown>[];
      };
      const eur = (amount: string) => ({
        shop_money: { amount, currency_code: 'USD' },
        presentment_money: { amount, currency_code: 'EUR' },
      });
      const payload = {
        ...base,
        presentment_currency: 'EUR',
        total_price_set: {
          shop_money: { amount: '404.95', currency_code: 'USD' },
          presentment_money: { amount: '371.20', currency_code: 'EUR' },
        },
        discount_codes: [{ code: 'BF2026', amount: '20.00', type: 'fixed_amount' }],
        tax_lines: [{ title: 'State tax', rate: 0.0825, price_set: eur('33.41') }],
        shipping_lines: [
          {
            id: 1,
            code: 'Pickup',
            title: 'Pick up at Queen St',
            source: 'shopify',
            delivery_category: 'pick-up',
            price_set: eur('0.00'),
            discount_allocations: [],
            tax_lines: [],
          },
        ],
        line_items: base.line_items.map((line, index) =>
          index === 0
            ? { ...line, discount_allocations: [{ amount: '20.00', amount_set: eur('20.00') }] }
            : line,
        ),
      };
      const order = mapOrder(OrderPayloadSchema.parse(payload), shop);
      expect(order.fulfilmentMethod).toBe('pickup');
      expect(order.shippingLines[0]?.method).toBe('pickup');
      expect(order.discounts).toEqual([
        { code: 'BF2026', kind: 'fixed_amount', amount: { amount: 2000, currency: 'USD' } },
      ]);
      expect(order.lines[0]?.discount).toEqual({ amount: 2000, currency: 'USD' });
      expect(order.taxLines).toEqual([
        { title: 'State tax', rate: '0.0825', amount: { amount: 3341, currency: 'USD' } },
      ]);
      expect(order.presentment).toEqual({ currency: 'EUR', total: { amount: 37120, currency: 'EUR' } });
    });

    it('fails with the field named when a required field is missing', () => {
      const { line_items: _dropped, ...withoutLines } = fixture('orders/create') as Record<string, unknown>;
      expect(() => map('orders/create', withoutLines)).toThrow(MappingError);
      expect(() => map('orders/create', withoutLines)).toThrow(/line_items/);
    });

    it('fails when an amount cannot be represented in minor units', () => {
      const base = fixture('orders/create') as Record<string, unknown>;
      const bad = {
        ...base,
        total_tax_set: {
          shop_money: { amount: '1.005', currency_code: 'USD' },
          presentment_money: { amount: '1.005', currency_code: 'USD' },
        },
      };
      expect(() => map('orders/create', bad)).toThrow(MappingError);
    });

    it('fails when a line is priced in another currency than the order', () => {
      const base = fixture('orders/create') as Record<string, unknown> & {
        line_items: Record<string, unknown>[];
      };
      const bad = {
        ...base,
        line_items: base.line_items.map((line) => ({
          ...line,
          price_set: {
            shop_money: { amount: '1.00', currency_code: 'CAD' },
            presentment_money: { amount: '1.00', currency_code: 'CAD' },
          },
        })),
      };
      expect(() => map('orders/create', bad)).toThrow(/CAD/);
    });
  });

  describe('refunds/create', () => {
    const data = EVENT_CATALOG.RefundCreated.data.parse(
      map('refunds/create', fixture('refunds/create'))[0]?.data,
    );

    it('keeps every refunded line with its order line id from the GID', () => {
      expect(data.source.refundId).toBe('890088186047892319');
      expect(data.lines).toHaveLength(5);
      expect(data.lines[0]).toMatchObject({
        orderLineId: '487817672276298554',
        sku: 'SKU2006-001',
        quantity: 1,
        restockType: 'no_restock',
        locationId: null,
        subtotal: { amount: 8999, currency: 'USD' },
      });
      // Rounded ids in the sample collide; GIDs do not.
      expect(new Set(data.lines.map((line) => line.orderLineId)).size).toBe(5);
    });

    it('totals the successful refund transactions', () => {
      expect(data.transactions.map((transaction) => transaction.amount.amount)).toEqual([7500, 1000]);
      expect(data.total).toEqual({ amount: 8500, currency: 'USD' });
    });
  });

  it('keeps lines in the shop currency and refund transactions in the presentment currency', () => {
    const body = JSON.parse(shopifyWebhookBody('refunds/create')) as Record<string, unknown> & {
      transactions: Record<string, unknown>[];
    };
    const multi = {
      ...body,
      transactions: body.transactions.map((transaction) => ({ ...transaction, currency: 'EUR' })),
    };
    const data = EVENT_CATALOG.RefundCreated.data.parse(
      map('refunds/create', parseShopifyJson(JSON.stringify(multi)))[0]?.data,
    );
    expect(data.currency).toBe('USD');
    expect(data.lines[0]?.subtotal.currency).toBe('USD');
    expect(data.total).toEqual({ amount: 8500, currency: 'EUR' });
  });

  it('does not treat Object members as topics', () => {
    expect(shopifyTopicMapper('constructor')).toBeUndefined();
    expect(shopifyTopicMapper('toString')).toBeUndefined();
    expect(shopifyTopicMapper('orders/create')).toBeTypeOf('function');
  });

  describe('inventory_levels/update', () => {
    it('maps the documented sample (available null: not tracked) to a null quantity', () => {
      const data = EVENT_CATALOG.InventoryCounted.data.parse(
        map('inventory_levels/update', fixture('inventory_levels/update'))[0]?.data,
      );
      expect(data).toMatchObject({
        item: { sku: null, shopifyInventoryItemId: '271878346596884000' },
        location: { system: 'shopify', id: '24826418' },
        quantity: null,
        sequence: Date.parse('2022-01-01T00:00:00Z'),
      });
    });

    it('maps a tracked level to its absolute quantity, ordered by updated_at', () => {
      const body =
        '{"inventory_item_id":271878346596884015,"location_id":24826418,"available":7,"updated_at":"2026-11-27T10:00:00-05:00"}';
      const [event] = map('inventory_levels/update', parseShopifyJson(body));
      expect(event?.data).toMatchObject({
        quantity: 7,
        sequence: Date.parse('2026-11-27T15:00:00Z'),
        countedAt: '2026-11-27T15:00:00.000Z',
      });
      expect(event?.data).toMatchObject({ item: { shopifyInventoryItemId: '271878346596884015' } });
    });

    it('rejects a fractional quantity', () => {
      expect(() =>
        map('inventory_levels/update', {
          inventory_item_id: 1,
          location_id: 2,
          available: 1.5,
          updated_at: '2026-01-01T00:00:00Z',
        }),
      ).toThrow(MappingError);
    });
  });

  describe('products/update', () => {
    it('maps variants with prices in the shop currency and exact GID ids', () => {
      const data = EVENT_CATALOG.ProductChanged.data.parse(
        map('products/update', fixture('products/update'))[0]?.data,
      );
      expect(data.source.productId).toBe('788032119674292922');
      expect(data.status).toBe('active');
      expect(data.tags).toEqual(['example', 'mens', 't-shirt']);
      expect(
        data.variants.map((variant) => [
          variant.item.shopifyVariantId,
          variant.price.amount,
          variant.compareAtPrice?.amount,
        ]),
      ).toEqual([
        ['642667041472713922', 1999, 2499],
        ['757650484644203962', 1999, 2499],
      ]);
    });
  });

  describe('compliance topics', () => {
    it('carries the customer and the orders to act on by id, for the verified shop', () => {
      const [event] = map('customers/redact', fixture('customers/redact'));
      expect(event?.data).toEqual({
        account: 'acme.myshopify.com',
        shopId: '954889',
        customer: { id: '191167' },
        orderIds: ['299938', '280263', '220458'],
      });
      expect(event?.occurredAt).toBeUndefined();
    });

    it.each(['customers/data_request', 'customers/redact'])(
      '%s: leaves the email and phone Shopify sent off the event',
      (topic) => {
        const [event] = map(topic, fixture(topic));
        const text = JSON.stringify(event);
        expect(text).not.toContain('john@example.com');
        expect(text).not.toContain('555-625-1199');
        expect(event?.data).toMatchObject({ customer: { id: '191167' } });
      },
    );
  });

  describe('detailSchema', () => {
    const metadata = {
      eventId: '3b241101-e2bb-4255-8caf-4136c566a962',
      schemaVersion: '1.0',
      transactionId: 'tx-1',
      idempotencyKey: 'shopify:acme.myshopify.com:test',
      occurredAt: '2026-01-01T00:00:00.000Z',
      receivedAt: '2026-01-01T00:00:01.000Z',
      origin: { system: 'shopify', account: 'acme.myshopify.com' },
    };
    const detailTypes = Object.keys(EVENT_CATALOG) as DetailType[];

    it.each(detailTypes)('%s: checks the envelope metadata and its own catalog data schema', (detailType) => {
      const schema = detailSchema(detailType);
      expect(schema.shape.metadata).toBe(EventMetadataSchema);
      expect(schema.shape.data).toBe(EVENT_CATALOG[detailType].data);
      expect(schema.safeParse({ metadata, data: {} }).success).toBe(false);
    });

    it.each(MAPPED_TOPICS)('%s: the mapped sample passes the %s detail schema', (topic, detailType) => {
      const [event] = map(topic, fixture(topic));
      expect(detailSchema(detailType).safeParse({ metadata, data: event?.data }).success).toBe(true);
      expect(detailSchema(detailType).safeParse({ data: event?.data }).success).toBe(false);
    });
  });
});
