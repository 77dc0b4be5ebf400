import { describe, expect, it } from 'vitest';
import { redactContactData, shopifyPayloadSubjects } from '#shared/connectors/shopify/contact-data.ts';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { mapOrder, shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import { OrderPayloadSchema } from '#shared/connectors/shopify/payloads.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

const fixture = (topic: string) => parseShopifyJson(shopifyWebhookBody(topic));
const shop = { shopDomain: 'acme.myshopify.com', currency: 'USD' };

/** The contact values the documented order sample holds (buyer, customer, billing and shipping). */
const ORDER_CONTACT_VALUES = [
  'jon@example.com',
  'john@example.com',
  'John',
  'Smith',
  '123 Elm St.',
  'K2H7A8',
  '123-123-1234',
  'Steve',
  'Shipper',
  '123 Shipping Street',
  '555-555-SHIP',
  'Shipping Company',
  '40003',
];

describe('redactContactData', () => {
  describe('an order (documented orders/create sample)', () => {
    const original = fixture('orders/create');
    const redacted = redactContactData(original);
    const text = JSON.stringify(redacted.value);

    it('holds contact data before: the test values are really in the sample', () => {
      const before = JSON.stringify(original);
      for (const value of ORDER_CONTACT_VALUES) expect(before).toContain(value);
    });

    it("removes the buyer's email, phone, names and addresses wherever they are", () => {
      for (const value of ORDER_CONTACT_VALUES) expect(text).not.toContain(value);
      expect(redacted.value).toMatchObject({ email: null, billing_address: null, shipping_address: null });
    });

    it('keeps the customer as an id', () => {
      expect((redacted.value as { customer: unknown }).customer).toEqual({
        id: '115310627314723950',
        admin_graphql_api_id: 'gid://shopify/Customer/115310627314723954',
      });
    });

    it('keeps what booking needs: the redacted order maps to the same canonical order', () => {
      const before = mapOrder(OrderPayloadSchema.parse(original), shop);
      const after = mapOrder(OrderPayloadSchema.parse(redacted.value), shop);
      expect(after).toEqual(before);
      const [event] = shopifyTopicMapper('orders/create')?.(redacted.value, shop) ?? [];
      expect(event?.detailType).toBe('OrderCreated');
    });

    it('says which fields held contact data, by path', () => {
      expect(redacted.removed).toEqual(
        expect.arrayContaining([
          '$.email',
          '$.contact_email',
          '$.billing_address',
          '$.shipping_address',
          '$.customer.email',
          '$.customer.first_name',
          '$.customer.default_address',
        ]),
      );
    });

    it('is idempotent: a redacted payload has nothing left to remove and stays as it is', () => {
      const again = redactContactData(redacted.value);
      expect(again.removed).toEqual([]);
      expect(again.value).toBe(redacted.value);
    });
  });

  it.each(['customers/redact', 'customers/data_request'])(
    'removes the email and phone of a parked %s payload and keeps the ids',
    (topic) => {
      const { value, removed } = redactContactData(fixture(topic));
      expect(JSON.stringify(value)).not.toMatch(/john@example\.com|555-625-1199/);
      expect(value).toMatchObject({ shop_id: '954889', customer: { id: '191167' } });
      expect(removed).toEqual(['$.customer.email', '$.customer.phone']);
    },
  );

  it('leaves a payload without contact data untouched (a canonical event, a refund without notes)', () => {
    const event = {
      detail: { data: { source: { orderId: '1' }, customerRef: { system: 'shopify', id: '9' } } },
    };
    expect(redactContactData(event)).toEqual({ value: event, removed: [] });
  });

  it('empties free-form lists (line item properties, note attributes) and nulls notes', () => {
    const { value, removed } = redactContactData({
      note: 'leave with neighbour Mrs Jones',
      note_attributes: [{ name: 'gift message', value: 'for Anna' }],
      line_items: [{ id: '1', properties: [{ name: 'engraving', value: 'A.B.' }] }],
    });
    expect(value).toEqual({ note: null, note_attributes: [], line_items: [{ id: '1', properties: [] }] });
    expect(removed).toEqual(['$.line_items[].properties', '$.note', '$.note_attributes']);
  });
});

describe('shopifyPayloadSubjects', () => {
  it('finds an order by its numeric id and its GID, and its customer both ways', () => {
    expect(shopifyPayloadSubjects('orders/create', fixture('orders/create'))).toEqual({
      orderIds: ['820982911946154500', '820982911946154508'],
      customerIds: ['115310627314723950', '115310627314723954'],
    });
  });

  it("finds a refund's order", () => {
    expect(shopifyPayloadSubjects('refunds/create', fixture('refunds/create')).orderIds).toEqual([
      String((fixture('refunds/create') as { order_id: string }).order_id),
    ]);
  });

  it("finds a compliance request's orders and customer", () => {
    expect(shopifyPayloadSubjects('customers/redact', fixture('customers/redact'))).toEqual({
      orderIds: ['299938', '280263', '220458'],
      customerIds: ['191167'],
    });
  });

  it('does not read a product id as an order id, and survives a body that is not an object', () => {
    expect(shopifyPayloadSubjects('products/update', fixture('products/update'))).toEqual({
      orderIds: [],
      customerIds: [],
    });
    expect(shopifyPayloadSubjects('orders/create', ['x'])).toEqual({ orderIds: [], customerIds: [] });
  });
});
