import { describe, expect, it } from 'vitest';
import type { CanonicalEvent } from '#shared/events/catalog.ts';
import { DEFAULT_POLICY } from '#shared/inventory/policy.ts';
import type { ChannelOrder, ErpDocument } from '#shared/reconcile/compare.ts';
import { type ReconcileDeps, reconcile } from '#shared/reconcile/reconcile.ts';
import type { ShopifyOrderNode } from '#shared/reconcile/shopify-orders.ts';
import type { ReconciliationRun, StoredDiscrepancy } from '#shared/repositories/reconciliation.ts';

const SHOP = 'omnihub-dev.myshopify.com';
const NOW = new Date('2026-12-03T12:00:00.000Z');
const bag = (amount: string) => ({
  shopMoney: { amount, currencyCode: 'USD' },
  presentmentMoney: { amount, currencyCode: 'USD' },
});

/** A Shopify order as the order query answers it (one line, no tax). */
const node = (id: string): ShopifyOrderNode => ({
  id: `gid://shopify/Order/${id}`,
  legacyResourceId: id,
  name: `#${id}`,
  test: false,
  createdAt: '2026-12-03T10:00:00Z',
  updatedAt: '2026-12-03T10:00:00Z',
  closedAt: null,
  cancelledAt: null,
  cancelReason: null,
  currencyCode: 'USD',
  presentmentCurrencyCode: 'USD',
  sourceName: 'web',
  displayFinancialStatus: 'PAID',
  paymentGatewayNames: ['shopify_payments'],
  taxesIncluded: false,
  discountCodes: [],
  retailLocation: null,
  customer: { id: 'gid://shopify/Customer/9' },
  taxLines: [],
  subtotalPriceSet: bag('10.00'),
  totalDiscountsSet: bag('0.00'),
  totalShippingPriceSet: bag('0.00'),
  totalTaxSet: bag('0.00'),
  totalPriceSet: bag('10.00'),
  currentSubtotalPriceSet: bag('10.00'),
  currentTotalTaxSet: bag('0.00'),
  currentTotalPriceSet: bag('10.00'),
  lineItems: {
    pageInfo: { hasNextPage: false },
    nodes: [
      {
        id: 'gid://shopify/LineItem/1',
        sku: 'SKU-1',
        title: 'Thing',
        variantTitle: null,
        quantity: 1,
        currentQuantity: 1,
        requiresShipping: true,
        taxable: true,
        isGiftCard: false,
        variant: { id: 'gid://shopify/ProductVariant/2' },
        product: { id: 'gid://shopify/Product/3' },
        originalUnitPriceSet: bag('10.00'),
        discountAllocations: [],
        taxLines: [],
      },
    ],
  },
  shippingLines: { nodes: [] },
});

const order = (id: string): ChannelOrder => ({
  system: 'shopify',
  account: SHOP,
  orderId: id,
  name: `#${id}`,
  total: { amount: 1000, currency: 'USD' },
  status: 'open',
  refundIds: [],
});

function setup(options: { erp?: string[]; parked?: Record<string, string>; healAllowed?: boolean } = {}) {
  const published: CanonicalEvent[] = [];
  const saved: { run: ReconciliationRun; discrepancies: readonly StoredDiscrepancy[] }[] = [];
  const metrics: [string, number][] = [];
  const republished: { sku: string; location: string }[][] = [];
  const erp = new Map<string, ErpDocument>(
    (options.erp ?? []).map((id) => [
      `shopify-${SHOP}-${id}`,
      { externalId: `shopify-${SHOP}-${id}`, recordType: 'salesOrder', total: 1000, status: 'open' },
    ]),
  );
  const deps: ReconcileDeps = {
    shopify: [
      {
        shopDomain: SHOP,
        currency: 'USD',
        readOrders: async () => ({ orders: ['1', '2', '3'].map(order), pages: 1 }),
        readOrder: async (id) => node(id),
      },
    ],
    erp: { read: async (wanted) => new Map([...erp].filter(([id]) => wanted.has(id))) },
    inventory: {
      policy: DEFAULT_POLICY,
      read: async () => [{ sku: 'SKU-1', location: '7', onHand: 5, committed: 1, reserved: 0, shopify: 5 }],
      republish: async (keys) => {
        republished.push([...keys]);
      },
    },
    parkedOrders: async () => new Map(Object.entries(options.parked ?? {})),
    publisher: { publish: async (events) => void published.push(...events) },
    store: { save: async (run, discrepancies) => void saved.push({ run, discrepancies }) },
    healAllowed: options.healAllowed ?? true,
    defaultLookbackMinutes: 60,
    settleMinutes: 5,
    telemetry: { count: () => {} },
    metric: (name, value) => void metrics.push([name, value]),
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => NOW,
    runId: () => 'run-1',
  };
  return { deps, published, saved, metrics, republished };
}

describe('reconcile', () => {
  it('reports, stores and measures without changing anything unless asked to heal', async () => {
    const { deps, published, saved, metrics, republished } = setup({ erp: ['1'] });
    const result = await reconcile({}, deps);
    expect(result.window).toEqual({ since: '2026-12-03T10:55:00.000Z', until: '2026-12-03T11:55:00.000Z' });
    expect(result.discrepancies.map((d) => [d.kind, d.id])).toEqual([
      ['order-missing-in-erp', '2'],
      ['order-missing-in-erp', '3'],
      ['availability-mismatch', 'SKU-1@7'],
    ]);
    expect(result.healed).toBe(0);
    expect(published).toEqual([]);
    expect(republished).toEqual([]);
    expect(saved[0]?.discrepancies).toHaveLength(3);
    expect(saved[0]?.run.counts['order-missing-in-erp']).toBe(2);
    expect(metrics).toEqual([['ReconciliationDrift', 3]]);
  });

  it('heals a missing order with the OrderCreated its webhook would have published, and enqueues drifted positions', async () => {
    const { deps, published, republished } = setup({ erp: ['1', '3'] });
    const result = await reconcile({ heal: true }, deps);
    expect(result.healed).toBe(2);
    expect(published).toHaveLength(1);
    const [event] = published;
    expect(event?.detailType).toBe('OrderCreated');
    expect(event?.source).toBe('omnihub.shopify');
    expect(event?.detail.metadata.idempotencyKey).toMatch(
      new RegExp(`^shopify:${SHOP}:order:2:OrderCreated:`),
    );
    expect(republished).toEqual([[{ sku: 'SKU-1', location: '7' }]]);
    expect(result.discrepancies.map((d) => d.healing)).toEqual(['republished', 'enqueued']);
  });

  it('does not re-publish an order whose event is parked: it names the exception instead', async () => {
    const { deps, published } = setup({
      erp: ['1', '3'],
      parked: { [`shopify-${SHOP}-2`]: 'erp-order/x#y' },
    });
    const result = await reconcile({ heal: true }, deps);
    expect(published).toEqual([]);
    expect(result.discrepancies[0]).toMatchObject({
      kind: 'order-missing-in-erp',
      healing: 'parked erp-order/x#y',
    });
  });

  it('in a dry-run environment a heal request changes nothing and says so', async () => {
    const { deps, published, republished } = setup({ erp: ['1'], healAllowed: false });
    const result = await reconcile({ heal: true }, deps);
    expect(result.dryRun).toBe(true);
    expect(result.healed).toBe(0);
    expect(published).toEqual([]);
    expect(republished).toEqual([]);
  });
});
