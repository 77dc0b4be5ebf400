import { describe, expect, it } from 'vitest';
import {
  buildMappings,
  checkConfig,
  codeOfName,
  matchItems,
  matchLocations,
  matchPaymentMethods,
  type OnboardingSnapshot,
  type SourceCatalog,
  sample,
  summarize,
} from '#shared/onboarding/mappings.ts';

const shopify = (skus: (string | null)[], locations: SourceCatalog['locations'] = []): SourceCatalog => ({
  system: 'shopify',
  skus,
  locations,
});
const pos = (skus: (string | null)[], locations: SourceCatalog['locations'] = []): SourceCatalog => ({
  system: 'pos',
  skus,
  locations,
});

const config = { items: { discount: '1', shipping: '2', tax: '3', giftCard: '4' }, onlineLocationId: '10' };
const bookingItems = [
  { id: '1', sku: 'OH-DISCOUNT' },
  { id: '2', sku: 'OH-SHIPPING' },
  { id: '3', sku: 'OH-TAX' },
  { id: '4', sku: 'OH-GIFTCARD' },
];

describe('matchItems', () => {
  it('maps each SKU sold by a source to the ERP item with that SKU, once across sources', () => {
    const erp = [
      { id: '100', sku: 'SKU-1' },
      { id: '101', sku: 'SKU-2' },
      { id: '102', sku: 'SKU-3' },
    ];
    const { mappings, report } = matchItems(erp, [shopify(['SKU-2', 'SKU-1']), pos(['SKU-1'])]);
    expect(mappings).toEqual([
      { kind: 'item', source: 'sku', sourceId: 'SKU-1', target: '100' },
      { kind: 'item', source: 'sku', sourceId: 'SKU-2', target: '101' },
    ]);
    expect(report.mapped).toBe(2);
    expect(report.erpOnly).toEqual({ count: 1, first: ['SKU-3'] });
  });

  it('reports SKUs a source sells that the ERP lacks, per source, with the first few named', () => {
    const erp = [{ id: '100', sku: 'SKU-1' }];
    const missing = Array.from({ length: 7 }, (_, i) => `NEW-${i}`);
    const { mappings, report } = matchItems(erp, [
      shopify(['SKU-1', ...missing]),
      pos(['SKU-1', 'POS-ONLY']),
    ]);
    expect(mappings.map((m) => m.sourceId)).toEqual(['SKU-1']);
    expect(report.unmatched.shopify).toEqual({
      count: 7,
      first: ['NEW-0', 'NEW-1', 'NEW-2', 'NEW-3', 'NEW-4'],
    });
    expect(report.unmatched.pos).toEqual({ count: 1, first: ['POS-ONLY'] });
  });

  it('counts variants without a SKU instead of dropping them silently', () => {
    const { report } = matchItems(
      [{ id: '100', sku: 'SKU-1' }],
      [shopify(['SKU-1', null, '  ']), pos([null])],
    );
    expect(report.withoutSku).toEqual({ shopify: 2, pos: 1 });
  });

  it('does not map a SKU held by two ERP items, and reports both ids', () => {
    const erp = [
      { id: '100', sku: 'SKU-1' },
      { id: '250', sku: 'SKU-1' },
      { id: '101', sku: 'SKU-2' },
    ];
    const { mappings, report } = matchItems(erp, [shopify(['SKU-1', 'SKU-2'])]);
    expect(mappings.map((m) => m.sourceId)).toEqual(['SKU-2']);
    expect(report.ambiguous).toEqual({ count: 1, first: ['SKU-1 (items 100, 250)'] });
    expect(report.unmatched.shopify).toEqual({ count: 1, first: ['SKU-1'] });
  });

  it('maps a SKU listed twice by a source (two variants) to one row, and trims SKUs', () => {
    const { mappings } = matchItems([{ id: '100', sku: 'SKU-1 ' }], [shopify(['SKU-1', ' SKU-1', 'SKU-1'])]);
    expect(mappings).toEqual([{ kind: 'item', source: 'sku', sourceId: 'SKU-1', target: '100' }]);
  });

  it('leaves the ignored ERP items (booking items) out of the SKU index and the ERP-only report', () => {
    const { report } = matchItems(
      [...bookingItems, { id: '100', sku: 'SKU-1' }],
      [shopify(['SKU-1'])],
      new Set(['1', '2', '3', '4']),
    );
    expect(report.erpOnly.count).toBe(0);
  });
});

describe('matchLocations', () => {
  const erp = [
    { id: '1', code: 'WH-01' },
    { id: '2', code: 'ST-001' },
    { id: '3', code: 'ST-002' },
  ];

  it('maps each source location id to the ERP location with its code, under the source system', () => {
    const { mappings, report } = matchLocations(erp, [
      shopify(
        [],
        [
          { id: '91000000001', code: 'WH-01' },
          { id: '91000000002', code: 'ST-001' },
        ],
      ),
      pos([], [{ id: 'LSQ1', code: 'ST-002' }]),
    ]);
    expect(mappings).toEqual([
      { kind: 'location', source: 'shopify', sourceId: '91000000001', target: '1' },
      { kind: 'location', source: 'shopify', sourceId: '91000000002', target: '2' },
      { kind: 'location', source: 'pos', sourceId: 'LSQ1', target: '3' },
    ]);
    expect(report).toEqual({
      mapped: 3,
      unmatched: { count: 0, first: [] },
      ambiguous: { count: 0, first: [] },
    });
  });

  it('reports a source location whose code the ERP lacks, and one listed twice only once', () => {
    const { mappings, report } = matchLocations(erp, [
      pos(
        [],
        [
          { id: 'LSQ9', code: 'ST-999' },
          { id: 'LSQ9', code: 'ST-999' },
          { id: 'LSQ8', code: '' },
        ],
      ),
    ]);
    expect(mappings).toEqual([]);
    expect(report.unmatched).toEqual({ count: 2, first: ['pos#LSQ8 (no code)', 'pos#LSQ9 ST-999'] });
  });

  it('does not map a code held by two ERP locations', () => {
    const { mappings, report } = matchLocations(
      [...erp, { id: '7', code: 'ST-001' }],
      [shopify([], [{ id: '91000000002', code: 'ST-001' }])],
    );
    expect(mappings).toEqual([]);
    expect(report.ambiguous).toEqual({ count: 1, first: ['ST-001 (locations 2, 7)'] });
  });
});

describe('matchPaymentMethods', () => {
  it('maps gateways to the ERP payment method of that name, case-insensitively; reports missing ones', () => {
    const { mappings, report } = matchPaymentMethods(
      [
        { id: '1', name: 'Cash' },
        { id: '7', name: 'Shopify Payments' },
      ],
      { shopify_payments: 'shopify payments', cash: 'Cash', card: 'Card (POS)' },
    );
    expect(mappings).toEqual([
      { kind: 'payment-method', source: 'gateway', sourceId: 'cash', target: '1' },
      { kind: 'payment-method', source: 'gateway', sourceId: 'shopify_payments', target: '7' },
    ]);
    expect(report.unmatched).toEqual({ count: 1, first: ['card → Card (POS)'] });
  });
});

describe('checkConfig', () => {
  it('names booking items and the online location that the ERP does not have', () => {
    const problems = checkConfig(
      { items: { discount: 'OH-DISCOUNT', shipping: '2', giftCard: '4' }, onlineLocationId: '99' },
      { items: bookingItems, locations: [{ id: '1', code: 'WH-01' }], paymentMethods: [] },
    );
    expect(problems).toEqual([
      'booking item discount = "OH-DISCOUNT" is not an ERP item id',
      'onlineLocationId = "99" is not an ERP location id',
    ]);
  });
});

describe('buildMappings and summarize', () => {
  const snapshot: OnboardingSnapshot = {
    erp: {
      items: [...bookingItems, { id: '100', sku: 'SKU-1' }, { id: '101', sku: 'SKU-2' }],
      locations: [
        { id: '10', code: 'WH-01' },
        { id: '11', code: 'ST-001' },
      ],
      paymentMethods: [{ id: '1', name: 'Cash' }],
    },
    sources: [
      shopify(['SKU-1', 'SKU-2'], [{ id: '555', code: 'WH-01' }]),
      pos(['SKU-2'], [{ id: 'LSQ1', code: 'ST-001' }]),
    ],
  };

  it('builds item, location and payment-method rows and a clean report in one line', () => {
    const { mappings, report } = buildMappings(snapshot, { config, gateways: { cash: 'Cash' } });
    expect(mappings.map((m) => `${m.kind} ${m.source}#${m.sourceId} → ${m.target}`)).toEqual([
      'item sku#SKU-1 → 100',
      'item sku#SKU-2 → 101',
      'location shopify#555 → 10',
      'location pos#LSQ1 → 11',
      'payment-method gateway#cash → 1',
    ]);
    expect(summarize(report)).toEqual([
      'mappings: 2 items, 2 locations, 1 payment methods (0 SKUs unmatched)',
    ]);
  });

  it('adds one line per problem after the summary', () => {
    const { report } = buildMappings(
      { ...snapshot, sources: [...snapshot.sources, pos(['SKU-9'], [{ id: 'LSQ2', code: 'ST-404' }])] },
      { config: { ...config, onlineLocationId: '99' }, gateways: { cash: 'Cash', card: 'Card (POS)' } },
    );
    expect(summarize(report)).toEqual([
      'mappings: 2 items, 2 locations, 1 payment methods (1 SKUs unmatched)',
      '  1 pos SKUs have no ERP item: SKU-9',
      '  1 locations have no ERP location: pos#LSQ2 ST-404',
      '  1 gateways have no ERP payment method: card → Card (POS)',
      '  config: onlineLocationId = "99" is not an ERP location id',
    ]);
  });
});

describe('helpers', () => {
  it('takes a location code from the first word of its name', () => {
    expect(codeOfName('ST-001 New York 1')).toBe('ST-001');
    expect(codeOfName('  WH-01   Online Fulfilment Centre')).toBe('WH-01');
  });

  it('counts distinct values and names the first few, sorted', () => {
    expect(sample(['b', 'a', 'b', 'c'], 2)).toEqual({ count: 3, first: ['a', 'b'] });
  });
});
