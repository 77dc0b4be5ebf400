import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY, type InventoryPolicy } from '#shared/inventory/policy.ts';
import {
  type ChannelOrder,
  compareAvailability,
  compareOrders,
  countByKind,
  type ErpDocument,
} from '#shared/reconcile/compare.ts';

const SHOP = 'omnihub-dev.myshopify.com';
const order = (patch: Partial<ChannelOrder> = {}): ChannelOrder => ({
  system: 'shopify',
  account: SHOP,
  orderId: '6100000000017',
  name: '#1001',
  total: { amount: 12_345, currency: 'USD' },
  status: 'open',
  refundIds: [],
  ...patch,
});
const doc = (externalId: string, patch: Partial<ErpDocument> = {}): [string, ErpDocument] => [
  externalId,
  { externalId, recordType: 'salesOrder', total: 12_345, status: 'open', ...patch },
];
const EXT = `shopify-${SHOP}-6100000000017`;

describe('compareOrders', () => {
  it('finds nothing when every order has its ERP document with the same total and status', () => {
    expect(compareOrders([order()], new Map([doc(EXT)]))).toEqual([]);
  });

  it('reports an order without an ERP document, by its external id', () => {
    const [d] = compareOrders([order()], new Map());
    expect(d).toMatchObject({
      kind: 'order-missing-in-erp',
      system: 'shopify',
      id: '6100000000017',
      externalId: EXT,
    });
  });

  it('reports a total that differs by one cent, with both amounts', () => {
    const found = compareOrders([order()], new Map([doc(EXT, { total: 12_344 })]));
    expect(found).toEqual([
      expect.objectContaining({ kind: 'order-total-mismatch', expected: 12_345, actual: 12_344 }),
    ]);
    expect(found[0]?.detail).toContain('USD 123.45');
  });

  it('a cancelled order must be a closed sales order, and an open one must not be closed', () => {
    expect(compareOrders([order({ status: 'cancelled' })], new Map([doc(EXT)]))).toEqual([
      expect.objectContaining({ kind: 'order-status-mismatch', expected: 'closed', actual: 'open' }),
    ]);
    expect(compareOrders([order()], new Map([doc(EXT, { status: 'closed' })]))).toEqual([
      expect.objectContaining({ kind: 'order-status-mismatch', expected: 'open', actual: 'closed' }),
    ]);
    expect(
      compareOrders([order({ status: 'cancelled' })], new Map([doc(EXT, { status: 'closed' })])),
    ).toEqual([]);
  });

  it('does not compare the status of a cash sale (a POS sale is booked once completed)', () => {
    const ext = 'pos-M1-ORDER1';
    const pos = order({ system: 'pos', account: 'M1', orderId: 'ORDER1', status: 'cancelled' });
    expect(compareOrders([pos], new Map([doc(ext, { recordType: 'cashSale' })]))).toEqual([]);
  });

  it('reports each refund without its ERP document; a return order is checked through its refunds only', () => {
    const sale = order({ system: 'pos', account: 'M1', orderId: 'SALE', refundIds: ['R1', 'R2'] });
    const ret = order({ system: 'pos', account: 'M1', orderId: 'RET', refundIds: ['R3'], returnOnly: true });
    const erp = new Map([
      doc('pos-M1-SALE', { recordType: 'cashSale' }),
      doc('posrefund-M1-R1', { recordType: 'cashRefund' }),
    ]);
    const found = compareOrders([sale, ret], erp);
    expect(found.map((d) => [d.kind, d.id, d.externalId])).toEqual([
      ['refund-missing-in-erp', 'R2', 'posrefund-M1-R2'],
      ['refund-missing-in-erp', 'R3', 'posrefund-M1-R3'],
    ]);
  });
});

describe('compareAvailability', () => {
  const position = { sku: 'SKU-1', location: '7', onHand: 10, committed: 3, reserved: 1 };

  it('Shopify must show max(0, on hand − committed − safety) and the POS on hand − reserved', () => {
    expect(compareAvailability(DEFAULT_POLICY, [{ ...position, shopify: 7, pos: 9 }])).toEqual([]);
    const found = compareAvailability(DEFAULT_POLICY, [{ ...position, shopify: 6, pos: 10 }]);
    expect(found.map((d) => [d.system, d.id, d.expected, d.actual])).toEqual([
      ['shopify', 'SKU-1@7', 7, 6],
      ['pos', 'SKU-1@7', 9, 10],
    ]);
  });

  it('takes the safety stock from the policy and never expects a negative quantity', () => {
    const policy: InventoryPolicy = { ...DEFAULT_POLICY, safetyStock: { default: 2, rules: [] } };
    expect(compareAvailability(policy, [{ ...position, shopify: 5 }])).toEqual([]);
    expect(compareAvailability(policy, [{ ...position, onHand: 1, shopify: 0 }])).toEqual([]);
  });

  it('skips channels not read and locations the policy does not publish to the channel', () => {
    const policy: InventoryPolicy = {
      ...DEFAULT_POLICY,
      channels: { ...DEFAULT_POLICY.channels, online: { locations: ['8'] } },
    };
    expect(compareAvailability(policy, [{ ...position, shopify: 99 }])).toEqual([]);
    expect(compareAvailability(DEFAULT_POLICY, [position])).toEqual([]);
  });

  it('a level Shopify does not have (null) is a mismatch unless nothing should be there', () => {
    expect(compareAvailability(DEFAULT_POLICY, [{ ...position, shopify: null }])).toEqual([
      expect.objectContaining({ kind: 'availability-mismatch', expected: 7, actual: null }),
    ]);
  });
});

describe('countByKind', () => {
  it('lists every kind, zero included', () => {
    expect(countByKind(compareOrders([order()], new Map()))).toEqual({
      'order-missing-in-erp': 1,
      'order-total-mismatch': 0,
      'order-status-mismatch': 0,
      'refund-missing-in-erp': 0,
      'availability-mismatch': 0,
      'price-mismatch': 0,
    });
  });
});
