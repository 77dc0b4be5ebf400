import { describe, expect, it } from 'vitest';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { mapOrderToNetSuite, type NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import { type VariationInfo, variationKey } from '#shared/connectors/square/client.ts';
import { PosUnsupportedOrderError } from '#shared/connectors/square/errors.ts';
import {
  catalogRefs,
  effectiveRate,
  mapSquareOrder,
  parseSquareOrder,
  percentageToRate,
} from '#shared/connectors/square/mapper.ts';
import { MappingError } from '#shared/errors.ts';
import { OrderSchema } from '#shared/events/order.ts';
import { SALE_VARIATIONS, squareOrderFixture, squareSale } from '#test/support/square.ts';

const MERCHANT = 'MLR3F8Q2EXAMP';

const map = (raw: unknown, variations: ReadonlyMap<string, VariationInfo | null> = SALE_VARIATIONS) =>
  OrderSchema.parse(mapSquareOrder(parseSquareOrder(raw), { merchantId: MERCHANT, variations }));

/** Books an order into a NetSuite body with every mapping present: throws if it would not reconcile. */
const ERP_CONFIG: NetSuiteMappingConfig = {
  customers: { online: '1', pos: '2' },
  items: { discount: 'D', shipping: 'S', giftCard: 'G' },
  tax: { typeId: '1', codeId: '5' },
  currencies: { USD: '1' },
};
const bookable = (order: ReturnType<typeof map>) =>
  mapOrderToNetSuite(
    order,
    'cashSale',
    { erpItemId: () => '100', erpLocationId: () => '7', erpPaymentMethod: () => '3' },
    ERP_CONFIG,
  );

describe('Square order mapper', () => {
  describe("Square's documented CreateOrder answer (taxes, discounts, modifiers)", () => {
    const raw = squareOrderFixture('create-order-response');
    const variations = new Map([
      [variationKey('catalog_object_id2'), { sku: 'STEAK-NY-STRIP', itemId: 'ITEM-1' }],
      [variationKey('BEMYCSMIJL46OCDV4KYIKXIB'), { sku: 'STEAK-NY-L', itemId: 'ITEM-2' }],
    ]);

    it('maps lines to the cent: unit price with modifiers, allocated discounts, applied taxes, SKUs', () => {
      const order = map(raw, variations);
      expect(order.lines).toEqual([
        expect.objectContaining({
          lineId: '8uSwfzvUImn3IRrvciqlXC',
          sku: 'STEAK-NY-STRIP',
          variantId: 'catalog_object_id2',
          productId: 'ITEM-1',
          title: 'New York Strip Steak',
          quantity: 1,
          unitPrice: { amount: 1599, currency: 'USD' },
          discount: { amount: 87, currency: 'USD' },
          taxLines: [{ title: 'State Sales Tax', rate: '0.09', amount: { amount: 136, currency: 'USD' } }],
          taxable: true,
        }),
        expect.objectContaining({
          lineId: 'v8ZuEXpOJpb0bazLuvrLDB',
          sku: 'STEAK-NY-L',
          variantTitle: 'Larger',
          quantity: 2,
          // (2200 base + 50 modifier) per unit: gross sales 4500 for two.
          unitPrice: { amount: 2250, currency: 'USD' },
          discount: { amount: 346, currency: 'USD' },
          taxLines: [{ title: 'State Sales Tax', rate: '0.09', amount: { amount: 374, currency: 'USD' } }],
        }),
      ]);
    });

    it('keeps the order totals, discounts and taxes as Square computed them', () => {
      const order = map(raw, variations);
      expect(order.totals).toEqual({
        subtotal: { amount: 5666, currency: 'USD' },
        discounts: { amount: 433, currency: 'USD' },
        shipping: { amount: 0, currency: 'USD' },
        tax: { amount: 510, currency: 'USD' },
        total: { amount: 6176, currency: 'USD' },
      });
      expect(order.discounts).toEqual([
        { code: 'Membership Discount', kind: 'fixed_percentage', amount: { amount: 30, currency: 'USD' } },
        { code: 'Labor Day Sale', kind: 'fixed_percentage', amount: { amount: 303, currency: 'USD' } },
        { code: 'Sale - $1.00 off', kind: 'fixed_amount', amount: { amount: 100, currency: 'USD' } },
      ]);
      expect(order.taxLines).toEqual([
        { title: 'State Sales Tax', rate: '0.09', amount: { amount: 510, currency: 'USD' } },
      ]);
      expect(order.taxesIncluded).toBe(false);
    });

    it('names the POS source, store, customer and state', () => {
      const order = map(raw, variations);
      expect(order).toMatchObject({
        source: {
          system: 'pos',
          account: MERCHANT,
          orderId: 'CAISENgvlJ6jLWAzERDzjyHVybY',
          name: 'my-order-001',
        },
        channel: 'pos',
        storeLocationId: '057P5VYJ4A5X1',
        fulfilmentMethod: 'carry_out',
        status: 'open',
        paymentStatus: 'pending',
        paymentGateways: [],
        customerRef: { system: 'pos', id: 'customer_id4' },
        createdAt: '2020-01-17T20:47:53.293Z',
        updatedAt: '2020-01-17T20:47:53.293Z',
        cancelledAt: null,
      });
    });

    it('books into an ERP document that reconciles to the cent (once paid)', async () => {
      const paid = {
        ...raw,
        state: 'COMPLETED',
        tenders: [{ id: 'T1', type: 'CARD', amount_money: { amount: 6176, currency: 'USD' } }],
      };
      const body = await bookable(map(paid, variations));
      // Lines plus the tax details (SuiteTax override) NetSuite books.
      const total =
        body.item.items.reduce((sum, line) => sum + Math.round(Number(line.amount) * 100), 0) +
        body.taxDetails.items.reduce((sum, detail) => sum + Math.round(Number(detail.taxAmount) * 100), 0);
      expect(total).toBe(6176);
    });
  });

  describe("Square's documented PayOrder answer (completed, two card tenders)", () => {
    const raw = squareOrderFixture('pay-order-response');

    it('is a closed, paid sale with the card gateway once, lines without catalog ids have no SKU', () => {
      const order = map(raw, new Map());
      expect(order).toMatchObject({
        status: 'closed',
        paymentStatus: 'paid',
        paymentGateways: ['card'],
        totals: { total: { amount: 2000, currency: 'USD' }, tax: { amount: 0, currency: 'USD' } },
      });
      expect(
        order.lines.map((line) => [line.sku, line.unitPrice.amount, line.quantity, line.taxLines]),
      ).toEqual([
        [null, 500, 1, []],
        [null, 750, 2, []],
      ]);
    });
  });

  describe('sandbox-shaped sales (tax without a breakdown)', () => {
    it('gives the unitemized tax one "Sales tax" line at the effective rate, and books to the cent', async () => {
      const order = map(squareSale());
      expect(order.lines.map((line) => [line.sku, line.unitPrice.amount, line.taxLines])).toEqual([
        ['SKU-A', 2999, [{ title: 'Sales tax', rate: '0.08', amount: { amount: 240, currency: 'USD' } }]],
        ['SKU-B', 1250, [{ title: 'Sales tax', rate: '0.08', amount: { amount: 200, currency: 'USD' } }]],
      ]);
      expect(order.totals.total.amount).toBe(2999 + 2500 + 440);
      expect(order.taxLines).toEqual([
        { title: 'Sales tax', rate: '0.08', amount: { amount: 440, currency: 'USD' } },
      ]);
      const body = await bookable(order);
      expect(body.paymentMethod).toEqual({ id: '3' });
    });

    it('maps sales the Square sandbox itself made, with their catalog SKUs', async () => {
      const sandbox = new SquareSandbox({ seed: 5, items: 60, stores: 2 });
      try {
        const { sales } = (await sandbox.scenario({ sales: 3, seed: 9, maxLinesPerSale: 4 })) as {
          sales: string[];
        };
        expect(sales).toHaveLength(3);
        for (const id of sales) {
          const raw = sandbox.store.orders.get(id);
          const variations = new Map(
            catalogRefs(parseSquareOrder(raw)).map((ref) => {
              const data = sandbox.store.variations.get(ref.id)?.item_variation_data;
              return [
                variationKey(ref.id, ref.version),
                data ? { sku: data.sku, itemId: data.item_id } : null,
              ];
            }),
          );
          const order = map(raw, variations);
          expect(order.lines.map((line) => line.sku)).toEqual(
            raw?.line_items?.map(
              (line) => sandbox.store.variations.get(line.catalog_object_id)?.item_variation_data.sku,
            ),
          );
          expect(order.totals.total).toEqual(raw?.total_money);
          expect(order.paymentGateways).toEqual([raw?.tenders?.[0]?.type.toLowerCase()]);
          await bookable(order);
        }
      } finally {
        await sandbox.close();
      }
    });
  });

  describe('states and payments', () => {
    it('maps a canceled order as cancelled and voided, cancelled at its closing time', () => {
      const order = map(
        squareSale({
          state: 'CANCELED',
          tenders: [],
          closed_at: '2026-11-27T10:20:00Z',
          updated_at: '2026-11-27T10:20:00Z',
        }),
      );
      expect(order).toMatchObject({
        status: 'cancelled',
        paymentStatus: 'voided',
        cancelledAt: '2026-11-27T10:20:00.000Z',
      });
    });

    it('reports refunds against the tenders', () => {
      const sale = squareSale();
      const total = (sale.total_money as { amount: number }).amount;
      const refund = (amount: number, status = 'APPROVED') => ({
        id: `R${amount}`,
        status,
        amount_money: { amount, currency: 'USD' },
      });
      expect(map(squareSale({ refunds: [refund(500)] })).paymentStatus).toBe('partially_refunded');
      expect(map(squareSale({ refunds: [refund(total)] })).paymentStatus).toBe('refunded');
      expect(map(squareSale({ refunds: [refund(total, 'REJECTED')] })).paymentStatus).toBe('paid');
    });

    it('maps cash and gift card tenders to their gateways, in tender order', () => {
      const sale = squareSale();
      const total = (sale.total_money as { amount: number }).amount;
      const order = map(
        squareSale({
          tenders: [
            { id: 'G', type: 'SQUARE_GIFT_CARD', amount_money: { amount: 1000, currency: 'USD' } },
            { id: 'C', type: 'CASH', amount_money: { amount: total - 1000, currency: 'USD' } },
          ],
        }),
      );
      expect(order.paymentGateways).toEqual(['gift_card', 'cash']);
      expect(order.paymentStatus).toBe('paid');
    });

    it('reads pick-up and shipment fulfilments', () => {
      expect(
        map(squareSale({ fulfillments: [{ type: 'PICKUP', state: 'PROPOSED' }] })).fulfilmentMethod,
      ).toBe('pickup');
      const shipped = map(squareSale({ fulfillments: [{ type: 'SHIPMENT' }] }));
      expect(shipped.fulfilmentMethod).toBe('ship');
      expect(shipped.lines.every((line) => line.requiresShipping)).toBe(true);
    });
  });

  describe('what cannot be mapped', () => {
    it.each([
      ['a tip', { total_tip_money: { amount: 200, currency: 'USD' } }, /a tip/],
      ['service charges', { service_charges: [{ uid: 'sc' }] }, /service charges/],
      [
        'cash rounding',
        { rounding_adjustment: { amount_money: { amount: -2, currency: 'USD' } } },
        /rounding/,
      ],
      ['a return', { line_items: [], returns: [{ uid: 'r1' }] }, /a return/],
      ['an exchange', { returns: [{ uid: 'r1' }] }, /an exchange/],
    ])('refuses %s as unsupported, saying so', (_what, patch, reason) => {
      const attempt = () => map(squareSale(patch));
      expect(attempt).toThrow(PosUnsupportedOrderError);
      expect(attempt).toThrow(reason);
    });

    it('refuses a fractional (unit-priced) quantity', () => {
      const sale = squareSale();
      const [first, second] = sale.line_items as Record<string, unknown>[];
      expect(() => map({ ...sale, line_items: [{ ...first, quantity: '1.5' }, second] })).toThrow(
        /quantity 1\.5/,
      );
    });

    it('refuses money in another currency than the order', () => {
      const sale = squareSale();
      const [first, second] = sale.line_items as Record<string, unknown>[];
      const euros = { ...first, total_tax_money: { amount: 240, currency: 'EUR' } };
      expect(() => map({ ...sale, line_items: [euros, second] })).toThrow(/EUR on an order in USD/);
    });

    it('refuses totals that do not add up, naming the difference', () => {
      expect(() => map(squareSale({ total_money: { amount: 1, currency: 'USD' } }))).toThrow(MappingError);
      expect(() => map(squareSale({ total_money: { amount: 1, currency: 'USD' } }))).toThrow(
        /total 1 ≠ lines 5939/,
      );
      expect(() => map(squareSale({ total_tax_money: { amount: 439, currency: 'USD' } }))).toThrow(/tax 439/);
    });

    it('refuses an order shape it cannot read, with the failing path', () => {
      expect(() => parseSquareOrder({ id: 'X', state: 'COMPLETED' })).toThrow(/location_id/);
    });
  });

  describe('inclusive taxes', () => {
    const inclusive = (): Record<string, unknown> => {
      const order = squareOrderFixture('create-order-response');
      const taxes = order.taxes as Record<string, unknown>[];
      // Prices include the tax: the total is gross − discounts.
      return {
        ...order,
        taxes: taxes.map((tax) => ({ ...tax, type: 'INCLUSIVE' })),
        total_money: { amount: 5666, currency: 'USD' },
      };
    };

    it('flags the order tax-inclusive and checks the total without adding the tax', () => {
      const order = map(inclusive(), new Map());
      expect(order.taxesIncluded).toBe(true);
      expect(order.totals.total.amount).toBe(5666);
    });

    it('refuses inclusive and additive taxes on one order', () => {
      const mixed = inclusive();
      const taxes = mixed.taxes as Record<string, unknown>[];
      mixed.taxes = [...taxes, { uid: 'city', name: 'City', percentage: '1', type: 'ADDITIVE' }];
      const lines = mixed.line_items as { applied_taxes: unknown[] }[];
      lines[0]?.applied_taxes.push({ tax_uid: 'city', applied_money: { amount: 0, currency: 'USD' } });
      expect(() => map(mixed, new Map())).toThrow(/mixes inclusive and additive/);
    });
  });

  describe('rates', () => {
    it.each([
      ['9', '0.09'],
      ['8.875', '0.08875'],
      ['0.5', '0.005'],
      ['12.50', '0.125'],
      ['100', '1'],
      ['0', '0'],
    ])('percentage %s → rate %s', (percentage, rate) => {
      expect(percentageToRate(percentage)).toBe(rate);
    });

    it('refuses a percentage that is not a decimal', () => {
      expect(() => percentageToRate('9%')).toThrow(MappingError);
    });

    it('computes an effective rate to four decimals without going negative', () => {
      expect(effectiveRate(240, 2999)).toBe('0.08');
      expect(effectiveRate(83, 1000)).toBe('0.083');
      expect(effectiveRate(1, 3)).toBe('0.3333');
      expect(effectiveRate(0, 100)).toBe('0');
      expect(effectiveRate(10, 0)).toBe('0');
    });
  });
});
