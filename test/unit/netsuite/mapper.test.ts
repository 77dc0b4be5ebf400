import { describe, expect, it } from 'vitest';
import { toNetSuiteJson } from '#shared/connectors/netsuite/json.ts';
import {
  mapOrderToNetSuite,
  type NetSuiteMappingConfig,
  type NsSaleBody,
  percentOf,
  primaryGateway,
  reconcileWithOrder,
  tranDateOf,
} from '#shared/connectors/netsuite/mapper.ts';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import { MappingError } from '#shared/errors.ts';
import { EVENT_CATALOG } from '#shared/events/catalog.ts';
import type { Order } from '#shared/events/order.ts';
import {
  erpRecordTypeFor,
  type MappingLookup,
  mappingLookupFrom,
  orderExternalId,
  parseOrderExternalId,
} from '#shared/ports/erp.ts';
import { TotalsMismatchError, UnknownMappingError } from '#shared/ports/erp-errors.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';
import { canonicalOrder } from '#test/support/orders.ts';

const shop = { shopDomain: 'acme.myshopify.com', currency: 'USD' };

/** Maps a Shopify webhook payload through the hub's real topic mapper to the canonical order. */
function shopifyOrder(
  topic: string,
  patch: (payload: Record<string, unknown>) => Record<string, unknown> = (p) => p,
) {
  const mapper = shopifyTopicMapper(topic);
  if (!mapper) throw new Error(`no mapper for ${topic}`);
  const payload = patch(parseShopifyJson(shopifyWebhookBody(topic)) as Record<string, unknown>);
  const [event] = mapper(payload, shop);
  return EVENT_CATALOG.OrderCreated.data.parse(event?.data);
}

const ITEMS: Record<string, string> = {
  'SKU2006-001': '101',
  'LENS-PROTECT-2YR': '102',
  'CASE-LEATHER-PREM': '103',
  'SKU2006-020': '104',
  'SKU2006-035': '105',
  'SKU-A': '201',
  'SKU-B': '202',
};
const LOCATIONS: Record<string, string> = { 'shopify:655441491': '7', 'pos:L1': '8' };
const PAYMENT_METHODS: Record<string, string> = { visa: '11', cash: '1', gift_card: '12' };

const lookup: MappingLookup = {
  erpItemId: (sku) => ITEMS[sku],
  erpLocationId: async (system, id) => LOCATIONS[`${system}:${id}`],
  erpPaymentMethod: (gateway) => PAYMENT_METHODS[gateway],
};

const config: NetSuiteMappingConfig = {
  customers: { online: '9001', pos: '9002' },
  items: { discount: '8001', shipping: '8002', giftCard: '8004' },
  tax: { typeId: '71', codeId: '72' },
  currencies: { USD: '1', EUR: '4', JPY: '6' },
  onlineLocationId: '1',
  timeZone: 'America/New_York',
};

const lines = (body: NsSaleBody) =>
  body.item.items.map((l) => [l.item?.id ?? null, l.quantity, l.rate ?? null, l.amount] as const);
/** The document total NetSuite books: the lines plus the tax details (override). */
const linesTotal = (body: NsSaleBody) =>
  body.item.items.reduce((t, l) => t + Math.round(Number(l.amount) * 100), 0) +
  body.taxDetails.items.reduce((t, d) => t + Math.round(Number(d.taxAmount) * 100), 0);
const taxDetails = (body: NsSaleBody) =>
  body.taxDetails.items.map((d) => [d.taxDetailsReference, d.taxBasis, d.taxRate, d.taxAmount] as const);

describe('NetSuite mapper', () => {
  describe.each(['orders/create', 'orders/updated', 'orders/cancelled'])('Shopify %s sample', (topic) => {
    const order = shopifyOrder(topic);

    it('maps to a sales order whose lines add up to the order total to the cent', async () => {
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(linesTotal(body)).toBe(order.totals.total.amount);
      expect(body.currency).toEqual({ id: '1' });
      expect(body.entity).toEqual({ id: '9001' });
    });
  });

  describe('online order (Shopify orders/create sample)', () => {
    const order = shopifyOrder('orders/create');

    it('keys the record by shop and order id, readable from either side', () => {
      const externalId = orderExternalId(order.source);
      expect(externalId).toBe('shopify-acme.myshopify.com-820982911946154508');
      expect(parseOrderExternalId(externalId)).toEqual({
        system: 'shopify',
        account: 'acme.myshopify.com',
        orderId: '820982911946154508',
      });
      expect(erpRecordTypeFor(order)).toBe('salesOrder');
    });

    it('maps header fields: customer, local tranDate, currency, Shopify name, location, approved status', async () => {
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(body).toMatchObject({
        entity: { id: '9001' },
        // created 2021-12-31T19:00:00-05:00: the account's (New York) date, not the UTC one
        tranDate: '2021-12-31',
        currency: { id: '1' },
        otherRefNum: '#9999',
        location: { id: '1' },
        orderStatus: 'B',
      });
      expect(body.memo).toBe('[TEST] Shopify order #9999 (acme.myshopify.com, id 820982911946154508)');
      expect(body.paymentMethod).toBeUndefined();
    });

    it('writes product, shipping and the unallocated order discount as explicit lines', async () => {
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body)).toEqual([
        ['101', 1, '89.99', '89.99'],
        ['102', 1, '19.99', '19.99'],
        ['103', 1, '24.99', '24.99'],
        ['104', 1, '159.99', '159.99'],
        ['105', 1, '119.99', '119.99'],
        ['8002', 1, '10.00', '10.00'],
        ['8001', 1, '-20.00', '-20.00'],
      ]);
      expect(body.item.items[5]?.description).toBe('Shipping: Generic Shipping');
      expect(body.item.items[6]?.description).toBe('Discount (order)');
    });

    it('closes every line of a cancelled order (the sample is cancelled)', async () => {
      expect(order.status).toBe('cancelled');
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(body.item.items.every((line) => line.isClosed === true)).toBe(true);
      const open = await mapOrderToNetSuite({ ...order, status: 'open' }, 'salesOrder', lookup, config);
      expect(open.item.items.some((line) => 'isClosed' in line)).toBe(false);
    });

    it('puts money on the wire as number tokens with exactly the decimal digits', async () => {
      const json = toNetSuiteJson(await mapOrderToNetSuite(order, 'salesOrder', lookup, config));
      expect(json).toContain('"rate":10.00,"amount":10.00');
      expect(json).toContain('"amount":-20.00');
      expect(json).toContain('"id":"101"');
      expect(JSON.parse(json).item.items[0].amount).toBe(89.99);
    });
  });

  describe('discounts', () => {
    it('follows a discounted line with its discount line and adds no order-level discount', async () => {
      const order = shopifyOrder('orders/create', (p) => ({
        ...p,
        discount_codes: [{ code: 'BF2026', amount: '20.00', type: 'fixed_amount' }],
        line_items: (p.line_items as Record<string, unknown>[]).map((line, index) =>
          index === 0
            ? {
                ...line,
                discount_allocations: [
                  {
                    amount: '20.00',
                    amount_set: {
                      shop_money: { amount: '20.00', currency_code: 'USD' },
                      presentment_money: { amount: '20.00', currency_code: 'USD' },
                    },
                  },
                ],
              }
            : line,
        ),
      }));
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body).slice(0, 3)).toEqual([
        ['101', 1, '89.99', '89.99'],
        ['8001', 1, '-20.00', '-20.00'],
        ['102', 1, '19.99', '19.99'],
      ]);
      expect(body.item.items[1]?.description).toBe('Discount BF2026 on SKU2006-001');
      expect(body.item.items.filter((l) => l.item?.id === '8001')).toHaveLength(1);
      expect(linesTotal(body)).toBe(40495);
    });

    it('books a shipping discount against the shipping line', async () => {
      const order = canonicalOrder({
        lines: [{ sku: 'SKU-A', unitPrice: 2500, quantity: 2, discount: 500 }],
        shipping: [{ title: 'Standard', price: 795, discount: 795 }],
        discountCodes: ['FREESHIP'],
      });
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body)).toEqual([
        ['201', 2, '25.00', '50.00'],
        ['8001', 1, '-5.00', '-5.00'],
        ['8002', 1, '7.95', '7.95'],
        ['8001', 1, '-7.95', '-7.95'],
      ]);
      expect(linesTotal(body)).toBe(order.totals.total.amount);
      expect(order.totals.total.amount).toBe(4500);
    });
  });

  describe('taxes (SuiteTax tax details override)', () => {
    it('books each tax charged on a line as a tax detail of that line, with no tax charge line', async () => {
      const order = canonicalOrder({
        lines: [
          {
            sku: 'SKU-A',
            unitPrice: 1999,
            quantity: 3,
            tax: [{ title: 'NY State', rate: '0.04', amount: 240 }],
          },
          { sku: 'SKU-B', unitPrice: 500, tax: [{ title: 'NY State', rate: '0.04', amount: 20 }] },
        ],
        shipping: [{ title: 'Ground', price: 1000, tax: [{ title: 'NY State', rate: '0.04', amount: 40 }] }],
      });
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body)).toEqual([
        ['201', 3, '19.99', '59.97'],
        ['202', 1, '5.00', '5.00'],
        ['8002', 1, '10.00', '10.00'],
      ]);
      expect(body.taxDetailsOverride).toBe(true);
      expect(taxDetails(body)).toEqual([
        ['line-1000', '59.97', '4', '2.40'],
        ['line-1001', '5.00', '4', '0.20'],
        ['shipping-2000', '10.00', '4', '0.40'],
      ]);
      expect(body.taxDetails.items.every((d) => d.taxType.id === '71' && d.taxCode.id === '72')).toBe(true);
      expect(body.item.items.map((l) => l.taxDetailsReference)).toEqual([
        'line-1000',
        'line-1001',
        'shipping-2000',
      ]);
      expect(linesTotal(body)).toBe(order.totals.total.amount);
      expect(toNetSuiteJson(body)).toContain('"taxBasis":59.97,"taxRate":4,"taxAmount":2.40');
    });

    it('books Shopify order-level tax lines on the first line when the lines carry none', async () => {
      const order = shopifyOrder('orders/create', (p) => ({
        ...p,
        tax_lines: [
          {
            title: 'State tax',
            rate: 0.0825,
            price_set: {
              shop_money: { amount: '33.41', currency_code: 'USD' },
              presentment_money: { amount: '33.41', currency_code: 'USD' },
            },
          },
        ],
        total_tax_set: {
          shop_money: { amount: '33.41', currency_code: 'USD' },
          presentment_money: { amount: '33.41', currency_code: 'USD' },
        },
        total_price_set: {
          shop_money: { amount: '438.36', currency_code: 'USD' },
          presentment_money: { amount: '438.36', currency_code: 'USD' },
        },
      }));
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(body.taxDetails.items).toHaveLength(1);
      expect(body.taxDetails.items[0]).toMatchObject({ taxAmount: '33.41' });
      expect(body.taxDetails.items[0]?.taxDetailsReference).toBe(body.item.items[0]?.taxDetailsReference);
      expect(linesTotal(body)).toBe(43836);
    });

    it('nets included tax out of tax-inclusive prices and books it as tax details', async () => {
      const vat = (amount: number) => [{ title: 'MwSt', rate: '0.19', amount }];
      const order = canonicalOrder({
        account: 'acme-de.myshopify.com',
        currency: 'EUR',
        taxesIncluded: true,
        lines: [{ sku: 'SKU-A', unitPrice: 11900, tax: vat(1900) }],
        shipping: [{ title: 'DHL', price: 595, tax: vat(95) }],
      });
      expect(order.totals.total.amount).toBe(12495);
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body)).toEqual([
        ['201', 1, null, '100.00'],
        ['8002', 1, null, '5.00'],
      ]);
      expect(taxDetails(body)).toEqual([
        ['line-1000', '100.00', '19', '19.00'],
        ['shipping-2000', '5.00', '19', '0.95'],
      ]);
      expect(body.currency).toEqual({ id: '4' });
      expect(linesTotal(body)).toBe(12495);
    });

    it('writes decimal rates as exact percentages', () => {
      expect(['0.04', '0.0825', '0.08875', '0.19', '1', '0', '0.1', '0.000001'].map(percentOf)).toEqual([
        '4',
        '8.25',
        '8.875',
        '19',
        '100',
        '0',
        '10',
        '0.0001',
      ]);
    });
  });

  describe('lines by key (edits and cancellations)', () => {
    const order = canonicalOrder({
      lines: [
        { sku: 'SKU-A', unitPrice: 1000, quantity: 2, discount: 200 },
        { sku: 'SKU-B', unitPrice: 500 },
      ],
    });
    const known = { 'line-1000': '1', 'discount-1000': '2', 'line-1001': '3', 'line-1099': '4' };

    it('sends the ERP key of every line it has, new lines without one, and closes lines the order lost', async () => {
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config, known);
      expect(
        body.item.items.map((l) => [
          l.taxDetailsReference,
          l.line ?? null,
          l.quantity,
          l.amount,
          l.isClosed ?? false,
        ]),
      ).toEqual([
        ['line-1000', 1, 2, '20.00', false],
        ['discount-1000', 2, 1, '-2.00', false],
        ['line-1001', 3, 1, '5.00', false],
        // Removed from the order by an edit: kept in the ERP, closed at nothing.
        ['line-1099', 4, 0, '0.00', true],
      ]);
      expect(body.item.items[3]?.item).toBeUndefined();
      expect(linesTotal(body)).toBe(order.totals.total.amount);
      const fresh = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(fresh.item.items.some((l) => l.line !== undefined)).toBe(false);
    });

    it('closes every line of a cancelled sales order in place, keeping their amounts', async () => {
      const cancelled: Order = { ...order, status: 'cancelled' };
      const body = await mapOrderToNetSuite(cancelled, 'salesOrder', lookup, config, known);
      expect(body.item.items.map((l) => [l.line, l.isClosed])).toEqual([
        [1, true],
        [2, true],
        [3, true],
        [4, true],
      ]);
      expect(linesTotal(body)).toBe(order.totals.total.amount);
    });
  });

  describe('point of sale', () => {
    it('maps a Shopify POS sale to a cash sale at the mapped store with the mapped payment method', async () => {
      const order = shopifyOrder('orders/create', (p) => ({
        ...p,
        source_name: 'pos',
        location_id: 655441491,
        cancelled_at: null,
      }));
      expect(erpRecordTypeFor(order)).toBe('cashSale');
      const body = await mapOrderToNetSuite(order, 'cashSale', lookup, config);
      expect(body).toMatchObject({
        entity: { id: '9002' },
        location: { id: '7' },
        paymentMethod: { id: '11' },
      });
      expect(body.orderStatus).toBeUndefined();
      expect(linesTotal(body)).toBe(order.totals.total.amount);
    });

    it('maps a Square-style POS sale paid by gift card and cash, with tax and a line discount', async () => {
      const order = canonicalOrder({
        system: 'pos',
        account: 'MLR3F8Q2',
        orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY',
        name: null,
        storeLocationId: 'L1',
        gateways: ['gift_card', 'cash'],
        lines: [
          {
            sku: 'SKU-B',
            unitPrice: 1250,
            quantity: 4,
            discount: 250,
            tax: [{ title: 'Sales tax', rate: '0.0875', amount: 416 }],
          },
        ],
      });
      expect(orderExternalId(order.source)).toBe('pos-MLR3F8Q2-CAISENgvlJ6jLWAzERDzjyHVybY');
      const body = await mapOrderToNetSuite(order, 'cashSale', lookup, config);
      expect(body).toMatchObject({
        entity: { id: '9002' },
        location: { id: '8' },
        paymentMethod: { id: '1' },
        otherRefNum: 'CAISENgvlJ6jLWAzERDzjyHVybY',
        memo: 'POS order CAISENgvlJ6jLWAzERDzjyHVybY (MLR3F8Q2, id CAISENgvlJ6jLWAzERDzjyHVybY)',
      });
      expect(lines(body)).toEqual([
        ['202', 4, '12.50', '50.00'],
        ['8001', 1, '-2.50', '-2.50'],
      ]);
      expect(taxDetails(body)).toEqual([['line-1000', '47.50', '8.75', '4.16']]);
      expect(linesTotal(body)).toBe(5166);
    });

    it('takes the first gateway that is not a gift card as the payment method', () => {
      expect(primaryGateway(['gift_card', 'shopify_payments'])).toBe('shopify_payments');
      expect(primaryGateway(['Gift Card'])).toBe('Gift Card');
      expect(primaryGateway([])).toBeUndefined();
    });
  });

  describe('gift cards and multi-currency', () => {
    it('books a gift card sold on the gift card item, even without a SKU', async () => {
      const order = canonicalOrder({
        lines: [
          { sku: 'SKU-A', unitPrice: 3000 },
          { sku: null, unitPrice: 5000, giftCard: true, title: 'Gift Card $50' },
        ],
      });
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(lines(body)).toEqual([
        ['201', 1, '30.00', '30.00'],
        ['8004', 1, '50.00', '50.00'],
      ]);
      expect(body.item.items[1]?.description).toBe('Gift card - Gift Card $50');
    });

    it('writes a zero-decimal currency without decimals and notes the presentment currency', async () => {
      const order = canonicalOrder({
        account: 'acme-jp.myshopify.com',
        currency: 'JPY',
        presentment: { currency: 'USD', total: 2012 },
        lines: [{ sku: 'SKU-A', unitPrice: 1500, quantity: 2 }],
        shipping: [{ title: '宅急便', price: 0 }],
      });
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(body.currency).toEqual({ id: '6' });
      expect(lines(body)).toEqual([['201', 2, '1500', '3000']]);
      expect(body.memo).toContain('customer paid USD 20.12');
      expect(toNetSuiteJson(body)).toContain('"rate":1500,"amount":3000');
    });

    it('books a Shopify multi-currency order in the shop currency', async () => {
      const order = shopifyOrder('orders/create', (p) => ({
        ...p,
        presentment_currency: 'EUR',
        total_price_set: {
          shop_money: { amount: '404.95', currency_code: 'USD' },
          presentment_money: { amount: '371.20', currency_code: 'EUR' },
        },
      }));
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(body.currency).toEqual({ id: '1' });
      expect(body.memo).toContain('customer paid EUR 371.20');
      expect(linesTotal(body)).toBe(40495);
    });
  });

  describe('unknown mappings', () => {
    it('names every missing SKU, location, payment method and currency in one permanent error', async () => {
      const order = canonicalOrder({
        system: 'pos',
        account: 'MLR3F8Q2',
        orderId: 'X1',
        storeLocationId: 'L404',
        currency: 'GBP',
        gateways: ['paypal'],
        lines: [
          { sku: 'SKU-A', unitPrice: 100 },
          { sku: 'NOPE-1', unitPrice: 100 },
          { sku: null, unitPrice: 100 },
        ],
      });
      const error = await mapOrderToNetSuite(order, 'cashSale', lookup, config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownMappingError);
      const unknown = error as UnknownMappingError;
      expect(unknown).toMatchObject({ code: 'UNKNOWN_MAPPING', retryable: false });
      expect(unknown.missing).toEqual(
        expect.arrayContaining([
          { kind: 'currency', key: 'GBP' },
          { kind: 'item', key: 'NOPE-1' },
          { kind: 'item', key: 'line 1002', reason: '"Product 2" has no SKU' },
          { kind: 'location', key: 'pos:L404' },
          { kind: 'payment-method', key: 'paypal' },
        ]),
      );
      expect(unknown.missing).toHaveLength(5);
      expect(unknown.message).toContain('item "NOPE-1"');
    });

    it('adapts the DynamoDB mapping table to the lookup', async () => {
      const seen: string[] = [];
      const table = {
        lookup: async (kind: string, source: string, id: string) => {
          seen.push(`${kind}|${source}|${id}`);
          return 'x';
        },
      };
      const adapted = mappingLookupFrom(table);
      await adapted.erpItemId('SKU-A');
      await adapted.erpLocationId('pos', 'L1');
      await adapted.erpPaymentMethod('cash');
      expect(seen).toEqual(['item|sku|SKU-A', 'location|pos|L1', 'payment-method|gateway|cash']);
    });
  });

  describe('reconciliation', () => {
    const order = canonicalOrder({
      lines: [
        { sku: 'SKU-A', unitPrice: 1999, quantity: 3, tax: [{ title: 'Tax', rate: '0.1', amount: 600 }] },
      ],
      shipping: [{ title: 'Ground', price: 500 }],
    });

    it('refuses an order whose stated total differs from its lines by one cent', async () => {
      const off: Order = {
        ...order,
        totals: { ...order.totals, total: { amount: order.totals.total.amount + 1, currency: 'USD' } },
      };
      const error = await mapOrderToNetSuite(off, 'salesOrder', lookup, config).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TotalsMismatchError);
      expect(error).toMatchObject({
        retryable: false,
        code: 'ERP_TOTALS_MISMATCH',
        mismatches: [{ field: 'total', expected: '70.98', actual: '70.97' }],
      });
    });

    it('refuses a body whose tax, shipping or line arithmetic is off', async () => {
      const body = await mapOrderToNetSuite(order, 'salesOrder', lookup, config);
      expect(() => reconcileWithOrder(order, body, config.items)).not.toThrow();
      const [first, ...rest] = body.item.items;
      if (!first) throw new Error('no lines');
      const tampered: NsSaleBody = { ...body, item: { items: [{ ...first, amount: '59.98' }, ...rest] } };
      expect(() => reconcileWithOrder(order, tampered, config.items)).toThrow(TotalsMismatchError);
      const noTax: NsSaleBody = { ...body, taxDetails: { items: [] } };
      expect(() => reconcileWithOrder(order, noTax, config.items)).toThrow(/tax 0.00 ≠ 6.00/);
      const shippingAsItem: NsSaleBody = {
        ...body,
        item: {
          items: body.item.items.map((l) => (l.item?.id === '8002' ? { ...l, item: { id: '201' } } : l)),
        },
      };
      expect(() => reconcileWithOrder(order, shippingAsItem, config.items)).toThrow(/shipping 0.00 ≠ 5.00/);
    });
  });

  describe('external ids and dates', () => {
    it('parses back ids of shops whose domain has dashes, and refuses unsafe characters', () => {
      const id = orderExternalId({ system: 'shopify', account: 'my-shop-eu.myshopify.com', orderId: '42' });
      expect(parseOrderExternalId(id)).toEqual({
        system: 'shopify',
        account: 'my-shop-eu.myshopify.com',
        orderId: '42',
      });
      expect(parseOrderExternalId('SHOP-1001')).toBeUndefined();
      expect(() => orderExternalId({ system: 'pos', account: 'a/b', orderId: '1' })).toThrow(MappingError);
      expect(() => orderExternalId({ system: 'pos', account: 'ab', orderId: '1-2' })).toThrow(MappingError);
    });

    it('dates a transaction in the account time zone', () => {
      expect(tranDateOf('2026-11-28T03:30:00.000Z', 'America/Los_Angeles')).toBe('2026-11-27');
      expect(tranDateOf('2026-11-28T03:30:00.000Z')).toBe('2026-11-28');
      expect(tranDateOf('2026-11-27T23:30:00.000Z', 'Europe/Berlin')).toBe('2026-11-28');
    });
  });
});
