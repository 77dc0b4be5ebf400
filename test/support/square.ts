import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type VariationInfo, variationKey } from '#shared/connectors/square/client.ts';
import type { PosOrderSource } from '#shared/ingress/pos-webhook.ts';
import type { PosOrderRegistry } from '#shared/repositories/pos-orders.ts';
import { fixtureText } from './fixtures.ts';

const orders = fileURLToPath(new URL('../../functions/pos-webhook/fixtures/', import.meta.url));

/** A documented Orders API answer's order (functions/pos-webhook/fixtures/<name>.json). */
export function squareOrderFixture(
  name: 'create-order-response' | 'pay-order-response',
): Record<string, unknown> {
  return (JSON.parse(readFileSync(`${orders}${name}.json`, 'utf8')) as { order: Record<string, unknown> })
    .order;
}

/** A Square webhook fixture (test/fixtures/square/webhooks/<type>.json), parsed. */
export function squareWebhookFixture(type: string): Record<string, unknown> {
  return JSON.parse(fixtureText(`square/webhooks/${type}.json`)) as Record<string, unknown>;
}

const usd = (amount: number) => ({ amount, currency: 'USD' });

/**
 * A completed in-store sale shaped as the Square sandbox renders it: two catalog lines, 8 % tax per
 * line without a breakdown, one card tender for the total.
 */
export function squareSale(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const lines = [
    { uid: 'line-1', variation: 'VAR-A', price: 2999, quantity: 1 },
    { uid: 'line-2', variation: 'VAR-B', price: 1250, quantity: 2 },
  ].map(({ uid, variation, price, quantity }) => {
    const gross = price * quantity;
    const tax = Math.round(gross * 0.08);
    return {
      uid,
      catalog_object_id: variation,
      catalog_version: 1767225600000,
      quantity: String(quantity),
      name: `Item ${variation}`,
      variation_name: 'M / Blue',
      item_type: 'ITEM',
      base_price_money: usd(price),
      gross_sales_money: usd(gross),
      total_tax_money: usd(tax),
      total_discount_money: usd(0),
      total_money: usd(gross + tax),
    };
  });
  const total = lines.reduce((sum, line) => sum + line.total_money.amount, 0);
  const tax = lines.reduce((sum, line) => sum + line.total_tax_money.amount, 0);
  return {
    id: 'SQORDER0000000000000000000001',
    location_id: 'LOC0000000001',
    source: { name: 'Square Point of Sale' },
    line_items: lines,
    tenders: [
      {
        id: 'TENDER1',
        location_id: 'LOC0000000001',
        transaction_id: 'SQORDER0000000000000000000001',
        created_at: '2026-11-27T10:15:00.000Z',
        amount_money: usd(total),
        type: 'CARD',
        payment_id: 'TENDER1',
      },
    ],
    created_at: '2026-11-27T10:15:00.000Z',
    updated_at: '2026-11-27T10:15:00.000Z',
    closed_at: '2026-11-27T10:15:00.000Z',
    state: 'COMPLETED',
    version: 2,
    total_money: usd(total),
    total_tax_money: usd(tax),
    total_discount_money: usd(0),
    total_tip_money: usd(0),
    total_service_charge_money: usd(0),
    ...overrides,
  };
}

/** The catalog of {@link squareSale}: SKUs of its variations at the sold catalog version. */
export const SALE_VARIATIONS: ReadonlyMap<string, VariationInfo> = new Map([
  [variationKey('VAR-A', 1767225600000), { sku: 'SKU-A', itemId: 'ITEM-A' }],
  [variationKey('VAR-B', 1767225600000), { sku: 'SKU-B', itemId: 'ITEM-B' }],
]);

/** A Square order webhook body (compact JSON, as Square sends it) announcing `order`. */
export function orderWebhookBody(
  order: { id: string; location_id?: string; state?: string; version?: number },
  options: {
    type?: string;
    eventId?: string;
    merchantId?: string;
    version?: number;
    state?: string;
    /** The signed notification time (older than 72 h before the receiver's clock is a replay). */
    createdAt?: string;
  } = {},
): string {
  const type = options.type ?? 'order.updated';
  const dataType = type.replace('order.', 'order_').replaceAll('.', '_');
  return JSON.stringify({
    merchant_id: options.merchantId ?? 'MERCHANT00001',
    type,
    event_id: options.eventId ?? '6b7f4a3e-0d2e-4c55-9a3b-0c8c2a9d1e01',
    created_at: options.createdAt ?? '2026-11-27T10:15:01.123456789Z',
    data: {
      type: dataType,
      id: order.id,
      object: {
        [dataType]: {
          created_at: '2026-11-27T10:15:00.000Z',
          location_id: order.location_id ?? 'LOC0000000001',
          order_id: order.id,
          state: options.state ?? order.state ?? 'COMPLETED',
          updated_at: '2026-11-27T10:15:00.000Z',
          version: options.version ?? order.version ?? 2,
        },
      },
    },
  });
}

/** A POS order source over in-memory orders; records calls, can be told to fail. */
export class FakeSquare implements PosOrderSource {
  readonly orders = new Map<string, unknown>();
  readonly variationMap = new Map<string, VariationInfo | null>(SALE_VARIATIONS);
  orderCalls = 0;
  failNext: Error[] = [];

  async retrieveOrder(orderId: string): Promise<unknown> {
    this.orderCalls += 1;
    const failure = this.failNext.shift();
    if (failure) throw failure;
    const order = this.orders.get(orderId);
    if (order === undefined) throw new Error(`FakeSquare: no order ${orderId}`);
    return structuredClone(order);
  }

  async variations(refs: readonly { id: string; version: number | null }[]) {
    return new Map(
      refs.map((ref) => [
        variationKey(ref.id, ref.version),
        this.variationMap.get(variationKey(ref.id, ref.version)) ?? null,
      ]),
    );
  }
}

/** Same contract as the DynamoDB registry: the first version recorded per order stays the first. */
export class MemoryPosOrderRegistry implements PosOrderRegistry {
  readonly first = new Map<string, number>();
  async isFirstCompletion(merchantId: string, orderId: string, version: number) {
    const key = `${merchantId}#${orderId}`;
    if (!this.first.has(key)) this.first.set(key, version);
    return this.first.get(key) === version;
  }
}
