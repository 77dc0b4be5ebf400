import { describe, expect, it } from 'vitest';
import { applyPriceChange, emptyBook } from '#shared/catalog/price-book.ts';
import type { CanonicalEvent } from '#shared/events/catalog.ts';
import type { PriceChanged } from '#shared/events/product.ts';
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

  it('covers prices: a Shopify variant that shows another price than the books is reported, never healed', async () => {
    const { deps, metrics } = setup({ erp: ['1', '2', '3'] });
    const usd = (amount: number) => ({ amount, currency: 'USD' });
    const T = NOW.getTime();
    const list = (sku: string, amount: number): PriceChanged => ({
      item: { sku },
      priceList: 'online-USD',
      price: usd(amount),
      compareAtPrice: null,
      effectiveFrom: null,
      effectiveTo: null,
      version: 1,
    });
    const book = (...changes: PriceChanged[]) =>
      changes.reduce(
        (b, c) => applyPriceChange(b, c, T - 3_600_000).book,
        emptyBook(changes[0]?.item.sku ?? '', 'online-USD'),
      );
    // A promotion that ended an hour ago, one that ended 10 s ago (within the grace: still publishing),
    // a price right, and a price changed in Shopify's admin.
    const ended = (sku: string, endedAgo: number) =>
      book(list(sku, 5000), {
        ...list(sku, 3999),
        promotionId: 'BF',
        effectiveFrom: new Date(T - 7_200_000).toISOString(),
        effectiveTo: new Date(T - endedAgo).toISOString(),
        version: 2,
      });
    const prices = {
      graceMs: 60_000,
      read: async () => ({
        pages: 1,
        shops: [
          {
            shopDomain: SHOP,
            books: [
              ended('SKU-LEFT', 3_600_000),
              ended('SKU-JUST', 10_000),
              book(list('SKU-OK', 1500)),
              book(list('SKU-ADMIN', 2500)),
            ],
            channel: [
              { sku: 'SKU-LEFT', price: usd(3999), compareAtPrice: usd(5000) },
              { sku: 'SKU-JUST', price: usd(3999), compareAtPrice: usd(5000) },
              { sku: 'SKU-OK', price: usd(1500), compareAtPrice: null },
              { sku: 'SKU-ADMIN', price: usd(2000), compareAtPrice: null },
              { sku: 'SKU-NOT-PRICED', price: usd(1), compareAtPrice: null },
            ],
          },
        ],
      }),
    };
    const result = await reconcile({ heal: true }, { ...deps, inventory: undefined, prices });
    expect(result.discrepancies.map((d) => [d.kind, d.id, d.expected, d.actual, d.healing])).toEqual([
      ['price-mismatch', `SKU-LEFT@${SHOP}`, 'USD 50.00', 'USD 39.99 (compare-at USD 50.00)', undefined],
      ['price-mismatch', `SKU-ADMIN@${SHOP}`, 'USD 25.00', 'USD 20.00', undefined],
    ]);
    expect(result.counts['price-mismatch']).toBe(2);
    expect(result.read.pricedVariants).toBe(4);
    expect(result.healed).toBe(0);
    expect(metrics).toEqual([['ReconciliationDrift', 2]]);
  });
});
