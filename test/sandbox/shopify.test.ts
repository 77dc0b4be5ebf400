import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { field, gidOf, type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/**
 * Contract tests of the Shopify sandbox's GraphQL Admin API: authentication and versions, the
 * calculated query cost and the leaky bucket (with a fake clock, so the numbers are exact),
 * inventory quantities with compare-and-set, `@idempotent(key:)`, and the 250-item input limit.
 */

const SET = `mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange } }
    userErrors { field message code }
  }
}`;

const ADJUST = `mutation Adjust($input: InventoryAdjustQuantitiesInput!, $key: String!) {
  inventoryAdjustQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange ledgerDocumentUri } }
    userErrors { field message code }
  }
}`;

const LEVEL = `query Level($item: ID!, $loc: ID!) {
  inventoryItem(id: $item) {
    sku
    inventoryLevel(locationId: $loc) {
      id
      quantities(names: ["available", "on_hand", "committed", "reserved", "incoming", "damaged", "safety_stock", "quality_control"]) { name quantity }
    }
  }
}`;

type Payload = {
  inventoryAdjustmentGroup: {
    id: string;
    changes: Array<{ name: string; delta: number; quantityAfterChange: number }>;
  } | null;
  userErrors: Array<{ field: string[] | null; message: string; code: string | null }>;
};

describe('shopify sandbox: Admin GraphQL API', () => {
  let h: ShopifyHarness;
  let now = Date.parse('2026-11-02T10:00:00Z');

  const itemGid = (i = 0) => gidOf('InventoryItem', h.app.store.inventoryItems[i]?.id ?? '');
  const locGid = (i = 1) => gidOf('Location', h.app.store.locations[i]?.id ?? '');
  async function levels(item: string, loc: string): Promise<Record<string, number>> {
    const r = await h.gql(LEVEL, { item, loc });
    const q = field<{
      inventoryLevel: { quantities: Array<{ name: string; quantity: number }> };
    }>(r, 'inventoryItem').inventoryLevel.quantities;
    return Object.fromEntries(q.map((x) => [x.name, x.quantity]));
  }
  const payloadOf = (r: { body: { data?: Record<string, unknown> | null } }, field: string): Payload =>
    r.body.data?.[field] as Payload;

  beforeAll(async () => {
    h = await startShopify({ seed: 11, plan: 'standard', clock: () => now });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('authentication and versions', () => {
    it('answers 401 with Shopify error text without a valid access token', async () => {
      const missing = await h.gql('{ shop { name } }', {}, { token: null });
      const wrong = await h.gql('{ shop { name } }', {}, { token: 'shpat_wrong' });
      expect(missing.status).toBe(401);
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({
        errors: '[API] Invalid API key or access token (unrecognized login or wrong password)',
      });
    });

    it('serves 2026-07 and later, falls older stable versions forward, and 404s anything else', async () => {
      const pinned = await h.gql('{ shop { myshopifyDomain } }');
      const july = await h.gql('{ shop { name } }', {}, { version: '2026-07' });
      const old = await h.gql('{ shop { name } }', {}, { version: '2025-10' });
      expect(pinned.status).toBe(200);
      expect(pinned.headers.get('x-shopify-api-version')).toBe('2026-10');
      expect(pinned.body.data).toEqual({ shop: { myshopifyDomain: 'omnihub-demo.myshopify.com' } });
      expect(july.headers.get('x-shopify-api-version')).toBe('2026-07');
      expect(old.status).toBe(200);
      expect(old.headers.get('x-shopify-api-version')).toBe('2026-07');
      for (const bad of ['2026-13', '2026-08', 'unstable', '2027-04', 'latest']) {
        const r = await fetch(`${h.base}/admin/api/${bad}/graphql.json`, {
          method: 'POST',
          headers: {
            'x-shopify-access-token': h.app.credentials.accessToken,
            'content-type': 'application/json',
          },
          body: '{"query":"{ shop { name } }"}',
        });
        expect(r.status, bad).toBe(404);
        expect(await r.json()).toEqual({ errors: 'Not Found' });
      }
    });
  });

  describe('calculated query cost', () => {
    it('charges objects 1, scalars 0, connections 2 + first × node, mutations 10', async () => {
      const shop = await h.gql('{ shop { name currencyCode plan { displayName } } }');
      expect(shop.body.extensions?.cost.requestedQueryCost).toBe(2); // shop + plan objects
      const products = await h.gql('{ products(first: 10) { edges { node { title } } } }');
      expect(products.body.extensions?.cost.requestedQueryCost).toBe(12);
      const nested = await h.gql(
        '{ products(first: 10) { edges { node { variants(first: 5) { nodes { sku } } } } } }',
      );
      expect(nested.body.extensions?.cost.requestedQueryCost).toBe(2 + 10 * (1 + 2 + 5));
      const set = await h.gql(SET, {
        key: 'cost-1',
        input: {
          name: 'available',
          reason: 'correction',
          quantities: [
            { inventoryItemId: itemGid(), locationId: locGid(), quantity: 3, changeFromQuantity: null },
          ],
        },
      });
      expect(set.body.extensions?.cost.requestedQueryCost).toBe(10);
      expect(set.body.extensions?.cost.actualQueryCost).toBe(10);
    });

    it('computes the actual cost from what came back and refunds the difference', async () => {
      now += 60_000; // bucket full again
      const sku = h.app.store.variants[0]?.sku ?? '';
      const r = await h.gql(
        `{ productVariants(first: 50, query: "sku:${sku}") { nodes { sku product { title } } } }`,
      );
      const cost = r.body.extensions?.cost;
      expect(cost?.requestedQueryCost).toBe(2 + 50 * 2);
      expect(cost?.actualQueryCost).toBe(2 + 1 * 2);
      expect(cost?.throttleStatus.currentlyAvailable).toBe(2000 - 4);
    });

    it('rejects a single query above 1,000 points with MAX_COST_EXCEEDED and charges nothing', async () => {
      now += 60_000;
      const r = await h.gql('{ products(first: 250) { nodes { variants(first: 10) { nodes { id } } } } }');
      expect(r.status).toBe(200);
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors?.[0]?.extensions).toMatchObject({
        code: 'MAX_COST_EXCEEDED',
        cost: 3252,
        maxCost: 1000,
      });
      expect(r.body.errors?.[0]?.message).toMatch(
        /^Query cost is 3252, which exceeds the single query max cost limit \(1000\)/,
      );
      expect(r.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(2000);
    });
  });

  describe('leaky bucket', () => {
    const VARIANTS_200 = '{ productVariants(first: 200) { nodes { id } } }'; // 2 + 200 × 1, all 200 returned

    it.each([
      ['standard', 100, 2000],
      ['advanced', 200, 4000],
      ['plus', 1000, 20000],
      ['enterprise', 2000, 40000],
    ] as const)(
      'reports %s plan limits: restore %d/s, bucket %d (20×)',
      async (plan, restoreRate, maximumAvailable) => {
        await h.control('POST', 'plan', { plan });
        const r = await h.gql('{ shop { name } }');
        expect(r.body.extensions?.cost.throttleStatus).toMatchObject({ restoreRate, maximumAvailable });
      },
    );

    it('throttles when the bucket cannot hold the requested cost, then restores at the plan rate', async () => {
      await h.control('POST', 'plan', { plan: 'standard', currentlyAvailable: 2000 });
      for (let i = 1; i <= 9; i++) {
        const ok = await h.gql(VARIANTS_200);
        expect(ok.body.errors).toBeUndefined();
        expect(ok.body.extensions?.cost).toMatchObject({ requestedQueryCost: 202, actualQueryCost: 202 });
        expect(ok.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(2000 - 202 * i);
      }
      const throttled = await h.gql(VARIANTS_200);
      expect(throttled.status).toBe(200);
      expect(throttled.body.data).toBeUndefined();
      expect(throttled.body.errors).toEqual([
        {
          message: 'Throttled',
          extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
        },
      ]);
      expect(throttled.body.extensions?.cost).toEqual({
        requestedQueryCost: 202,
        actualQueryCost: null,
        throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 182, restoreRate: 100 },
      });
      now += 200; // +20 points at 100/s
      const again = await h.gql(VARIANTS_200);
      expect(again.body.errors).toBeUndefined();
      expect(again.body.extensions?.cost.throttleStatus.currentlyAvailable).toBe(0);
      const state = await h.control('GET', 'state?records=none');
      expect((state.body.counters as { throttled: number }).throttled).toBeGreaterThanOrEqual(1);
      now += 60_000;
    });
  });

  describe('inventory quantities', () => {
    it('sets available with compare-and-set; on_hand follows by the same delta', async () => {
      const before = await levels(itemGid(1), locGid(2));
      const r = await h.gql(SET, {
        key: 'set-ok',
        input: {
          name: 'available',
          reason: 'correction',
          referenceDocumentUri: 'omnihub://sync/run-1',
          quantities: [
            {
              inventoryItemId: itemGid(1),
              locationId: locGid(2),
              quantity: (before.available ?? 0) + 7,
              changeFromQuantity: before.available,
            },
          ],
        },
      });
      const p = payloadOf(r, 'inventorySetQuantities');
      expect(p.userErrors).toEqual([]);
      expect(p.inventoryAdjustmentGroup?.changes).toEqual([
        { name: 'available', delta: 7, quantityAfterChange: (before.available ?? 0) + 7 },
        { name: 'on_hand', delta: 7, quantityAfterChange: (before.on_hand ?? 0) + 7 },
      ]);
      const after = await levels(itemGid(1), locGid(2));
      expect(after.available).toBe((before.available ?? 0) + 7);
      expect(after.on_hand).toBe((before.on_hand ?? 0) + 7);
    });

    it('rejects a stale changeFromQuantity with CHANGE_FROM_QUANTITY_STALE and applies nothing', async () => {
      const a = await levels(itemGid(2), locGid(1));
      const b = await levels(itemGid(3), locGid(1));
      const r = await h.gql(SET, {
        key: 'set-stale',
        input: {
          name: 'available',
          reason: 'correction',
          quantities: [
            {
              inventoryItemId: itemGid(2),
              locationId: locGid(1),
              quantity: 40,
              changeFromQuantity: a.available,
            },
            {
              inventoryItemId: itemGid(3),
              locationId: locGid(1),
              quantity: 41,
              changeFromQuantity: (b.available ?? 0) + 1,
            },
          ],
        },
      });
      const p = payloadOf(r, 'inventorySetQuantities');
      expect(p.inventoryAdjustmentGroup).toBeNull();
      expect(p.userErrors).toEqual([
        {
          field: ['input', 'quantities', '1', 'changeFromQuantity'],
          message: 'The changeFromQuantity argument no longer matches the persisted quantity.',
          code: 'CHANGE_FROM_QUANTITY_STALE',
        },
      ]);
      expect(await levels(itemGid(2), locGid(1))).toEqual(a);
      expect(await levels(itemGid(3), locGid(1))).toEqual(b);
    });

    it('requires changeFromQuantity (null opts out) and @idempotent on adjustments and on set', async () => {
      const input = {
        name: 'available',
        reason: 'correction',
        quantities: [{ inventoryItemId: itemGid(4), locationId: locGid(1), quantity: 5 }],
      };
      const missing = await h.gql(SET, { key: 'no-cfq', input });
      expect(missing.body.errors?.[0]).toMatchObject({
        message: 'InventoryQuantityInput must include the following argument: changeFromQuantity.',
        extensions: { code: 'INVALID_FIELD_ARGUMENTS' },
      });
      expect(missing.body.data).toEqual({ inventorySetQuantities: null });
      const adjustWithoutKey = await h.gql(
        'mutation($input: InventoryAdjustQuantitiesInput!) { inventoryAdjustQuantities(input: $input) { userErrors { code } } }',
        {
          input: {
            name: 'available',
            reason: 'correction',
            changes: [
              { inventoryItemId: itemGid(4), locationId: locGid(1), delta: 1, changeFromQuantity: null },
            ],
          },
        },
      );
      expect(adjustWithoutKey.body.errors?.[0]).toMatchObject({
        message: 'The @idempotent directive is required for this mutation but was not provided.',
        extensions: { code: 'BAD_REQUEST' },
      });
      const setWithoutKey = await h.gql(
        'mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input) { userErrors { code } } }',
        { input: { ...input, quantities: [{ ...input.quantities[0], changeFromQuantity: null }] } },
      );
      expect(setWithoutKey.body.errors?.[0]).toMatchObject({
        message: 'The @idempotent directive is required for this mutation but was not provided.',
        extensions: { code: 'BAD_REQUEST' },
      });
      expect(setWithoutKey.body.data).toEqual({ inventorySetQuantities: null });
      const withKey = await h.gql(SET, {
        key: 'cfq-null',
        input: { ...input, quantities: [{ ...input.quantities[0], quantity: 6, changeFromQuantity: null }] },
      });
      expect(payloadOf(withKey, 'inventorySetQuantities').userErrors).toEqual([]);
      expect((await levels(itemGid(4), locGid(1))).available).toBe(6);
    });

    it('counts damaged, safety_stock and quality_control in on_hand but not in available', async () => {
      const before = await levels(itemGid(5), locGid(1));
      const adjust = (name: string, delta: number, key: string) =>
        h.gql(ADJUST, {
          key,
          input: {
            name,
            reason:
              name === 'safety_stock' ? 'safety_stock' : name === 'damaged' ? 'damaged' : 'quality_control',
            changes: [
              {
                inventoryItemId: itemGid(5),
                locationId: locGid(1),
                delta,
                changeFromQuantity: null,
                ledgerDocumentUri: `omnihub://ledger/${key}`,
              },
            ],
          },
        });
      for (const [name, d] of [
        ['damaged', 2],
        ['safety_stock', 3],
        ['quality_control', 1],
      ] as const) {
        const r = await adjust(name, d, `adj-${name}`);
        expect(payloadOf(r, 'inventoryAdjustQuantities').userErrors).toEqual([]);
      }
      const after = await levels(itemGid(5), locGid(1));
      expect(after.available).toBe(before.available);
      expect(after.damaged).toBe((before.damaged ?? 0) + 2);
      expect(after.on_hand).toBe((before.on_hand ?? 0) + 6);
      const sum = ['available', 'committed', 'reserved', 'damaged', 'safety_stock', 'quality_control'].reduce(
        (s, n) => s + (after[n] ?? 0),
        0,
      );
      expect(after.on_hand).toBe(sum);
      const noLedger = await h.gql(ADJUST, {
        key: 'adj-no-ledger',
        input: {
          name: 'damaged',
          reason: 'damaged',
          changes: [
            { inventoryItemId: itemGid(5), locationId: locGid(1), delta: 1, changeFromQuantity: null },
          ],
        },
      });
      expect(payloadOf(noLedger, 'inventoryAdjustQuantities').userErrors[0]?.code).toBe(
        'INVALID_QUANTITY_DOCUMENT',
      );
    });

    it('enforces 250 items per input array with MAX_INPUT_SIZE_EXCEEDED', async () => {
      const row = (i: number) => ({
        inventoryItemId: itemGid(i % 200),
        locationId: gidOf('Location', h.app.store.locations[Math.floor(i / 200)]?.id ?? ''),
        quantity: 1,
        changeFromQuantity: null,
      });
      const tooMany = await h.gql(SET, {
        key: 'too-many',
        input: {
          name: 'available',
          reason: 'correction',
          quantities: Array.from({ length: 251 }, (_, i) => row(i)),
        },
      });
      expect(tooMany.body.data).toBeUndefined();
      expect(tooMany.body.errors?.[0]).toMatchObject({
        message: 'The input array size of 251 is greater than the maximum allowed of 250.',
        path: ['inventorySetQuantities', 'input', 'quantities'],
        extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' },
      });
      const ok = await h.gql(SET, {
        key: 'just-enough',
        input: {
          name: 'available',
          reason: 'correction',
          quantities: Array.from({ length: 250 }, (_, i) => row(i)),
        },
      });
      const p = payloadOf(ok, 'inventorySetQuantities');
      expect(p.userErrors).toEqual([]);
      expect(p.inventoryAdjustmentGroup?.changes).toHaveLength(500);
    });
  });

  describe('@idempotent(key:)', () => {
    const adjustBy = (delta: number, key: string) =>
      h.gql(ADJUST, {
        key,
        input: {
          name: 'available',
          reason: 'received',
          changes: [{ inventoryItemId: itemGid(7), locationId: locGid(1), delta, changeFromQuantity: null }],
        },
      });

    it('replays the same key and parameters with the original result, applied once', async () => {
      const before = (await levels(itemGid(7), locGid(1))).available ?? 0;
      const first = payloadOf(await adjustBy(5, 'idem-1'), 'inventoryAdjustQuantities');
      const second = payloadOf(await adjustBy(5, 'idem-1'), 'inventoryAdjustQuantities');
      expect(first.userErrors).toEqual([]);
      expect(second).toEqual(first);
      expect((await levels(itemGid(7), locGid(1))).available).toBe(before + 5);
      const other = payloadOf(await adjustBy(5, 'idem-2'), 'inventoryAdjustQuantities');
      expect(other.inventoryAdjustmentGroup?.id).not.toBe(first.inventoryAdjustmentGroup?.id);
      expect((await levels(itemGid(7), locGid(1))).available).toBe(before + 10);
    });

    it('rejects the same key with different parameters (IDEMPOTENCY_KEY_PARAMETER_MISMATCH)', async () => {
      const before = (await levels(itemGid(7), locGid(1))).available;
      const r = payloadOf(await adjustBy(6, 'idem-1'), 'inventoryAdjustQuantities');
      expect(r.inventoryAdjustmentGroup).toBeNull();
      expect(r.userErrors).toEqual([
        {
          field: null,
          message: 'The same idempotency key cannot be used with different operation parameters.',
          code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH',
        },
      ]);
      expect((await levels(itemGid(7), locGid(1))).available).toBe(before);
    });

    it('answers IDEMPOTENCY_CONCURRENT_REQUEST while the first request is still in progress', async () => {
      await h.control('POST', 'faults', { latencyMs: { distribution: 'fixed', ms: 300 } });
      try {
        const [a, b] = await Promise.all([
          adjustBy(1, 'idem-race'),
          new Promise((r) => setTimeout(r, 60)).then(() => adjustBy(1, 'idem-race')),
        ]);
        const codes = [a, b]
          .map((x) => payloadOf(x, 'inventoryAdjustQuantities').userErrors[0]?.code ?? 'OK')
          .sort();
        expect(codes).toEqual(['IDEMPOTENCY_CONCURRENT_REQUEST', 'OK']);
      } finally {
        await h.control('POST', 'faults', {});
      }
    });

    it('forgets keys after 24 hours', async () => {
      const before = (await levels(itemGid(7), locGid(1))).available ?? 0;
      now += 24 * 3_600_000 + 1;
      const r = payloadOf(await adjustBy(5, 'idem-1'), 'inventoryAdjustQuantities');
      expect(r.userErrors).toEqual([]);
      expect((await levels(itemGid(7), locGid(1))).available).toBe(before + 5);
    });
  });

  describe('queries', () => {
    it('finds inventory items and variants by SKU with GIDs and cursors', async () => {
      const sku = h.app.store.variants[3]?.sku ?? '';
      const r = await h.gql(`{
        inventoryItems(first: 5, query: "sku:${sku}") { edges { cursor node { id sku variant { id } } } pageInfo { hasNextPage endCursor } }
        productVariants(first: 5, query: "sku:${sku}") { nodes { id sku inventoryItem { id } product { id } } }
      }`);
      const items = r.body.data?.inventoryItems as {
        edges: Array<{ cursor: string; node: { id: string; sku: string } }>;
        pageInfo: { hasNextPage: boolean };
      };
      expect(items.edges).toHaveLength(1);
      expect(items.edges[0]?.node.id).toMatch(/^gid:\/\/shopify\/InventoryItem\/\d+$/);
      expect(items.edges[0]?.node.sku).toBe(sku);
      const variants = r.body.data?.productVariants as { nodes: Array<{ inventoryItem: { id: string } }> };
      expect(variants.nodes[0]?.inventoryItem.id).toBe(items.edges[0]?.node.id);
    });

    it('pages a connection with first/after until hasNextPage is false', async () => {
      const seen = new Set<string>();
      let after: string | null = null;
      for (let page = 0; page < 10; page++) {
        const r = await h.gql(
          'query($after: String) { locations(first: 4, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }',
          { after },
        );
        const conn = r.body.data?.locations as {
          nodes: Array<{ id: string }>;
          pageInfo: { hasNextPage: boolean; endCursor: string | null };
        };
        for (const n of conn.nodes) seen.add(n.id);
        if (!conn.pageInfo.hasNextPage) break;
        after = conn.pageInfo.endCursor;
      }
      expect(seen.size).toBe(h.app.store.locations.length);
    });

    it('requires first or last on connections', async () => {
      const r = await h.gql('{ locations { nodes { id } } }');
      expect(r.body.errors?.[0]?.message).toBe('you must provide one of first or last');
    });
  });
});

describe('shopify sandbox: default retailer', () => {
  it('seeds ≥ 2,000 variants over 1 warehouse + 120 stores with the shared location codes', async () => {
    const h = await startShopify({ items: undefined, stores: undefined });
    try {
      const state = await h.control('GET', 'state?records=locations&limit=3');
      const records = state.body.records as {
        counts: Record<string, number>;
        locations: { items: Array<{ code: string }> };
      };
      expect(records.counts.variants).toBe(2000);
      expect(records.counts.locations).toBe(121);
      expect(records.locations.items.map((l) => l.code)).toEqual(['WH-01', 'ST-001', 'ST-002']);
      expect(state.body.credentials).toMatchObject({
        shopDomain: 'omnihub-demo.myshopify.com',
        apiVersion: '2026-10',
      });
      expect(state.body.limits).toMatchObject({
        plan: 'plus',
        restoreRate: 1000,
        maximumAvailable: 20000,
        maxSingleQueryCost: 1000,
        maxInputArraySize: 250,
      });
      const inv = await h.control('GET', 'state?records=inventory&sku=SKU-000010&location=ST-001');
      const page = (
        inv.body.records as {
          inventory: {
            total: number;
            items: Array<{ sku: string; locationCode: string; quantities: Record<string, number> }>;
          };
        }
      ).inventory;
      expect(page.total).toBe(1);
      expect(page.items[0]).toMatchObject({ sku: 'SKU-000010', locationCode: 'ST-001' });
      expect(page.items[0]?.quantities.on_hand).toBe(
        h.app.store.retailer.openingStock('SKU-000010', 'ST-001'),
      );
    } finally {
      await h.close();
    }
  });
});
