import { describe, expect, it } from 'vitest';
import type { NetSuiteRequest, NetSuiteResponse } from '#shared/connectors/netsuite/client.ts';
import {
  fetchErpItems,
  fetchShopifyCatalog,
  fetchSquareCatalog,
  type NetSuiteRequester,
  OnboardingSourceError,
} from '#shared/onboarding/sources.ts';

/** A NetSuite client that answers SuiteQL from `rows`, `pageSize` at a time, and records the calls. */
function fakeNetSuite(rows: Record<string, string>[], pageSize: number) {
  const calls: NetSuiteRequest[] = [];
  const client: NetSuiteRequester = {
    request: async (req): Promise<NetSuiteResponse> => {
      calls.push(req);
      const offset = Number(req.query?.offset ?? 0);
      const items = rows.slice(offset, offset + pageSize).map((r) => ({ links: [], ...r }));
      return {
        status: 200,
        headers: new Headers(),
        body: { items, hasMore: offset + pageSize < rows.length, count: items.length, offset },
      };
    },
  };
  return { client, calls };
}

const jsonResponse = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('fetchErpItems', () => {
  it('pages SuiteQL with limit/offset until hasMore is false, with Prefer: transient', async () => {
    const rows = Array.from({ length: 2500 }, (_, i) => ({ id: String(100 + i), itemid: `SKU-${i}` }));
    const { client, calls } = fakeNetSuite(rows, 1000);

    const items = await fetchErpItems(client);

    expect(items).toHaveLength(2500);
    expect(items[2499]).toEqual({ id: '2599', sku: 'SKU-2499' });
    expect(calls.map((c) => c.query)).toEqual([
      { limit: '1000', offset: '0' },
      { limit: '1000', offset: '1000' },
      { limit: '1000', offset: '2000' },
    ]);
    expect(calls[0]).toMatchObject({
      method: 'POST',
      path: '/services/rest/query/v1/suiteql',
      headers: { prefer: 'transient' },
      body: { q: "SELECT id, itemid FROM item WHERE isinactive = 'F' ORDER BY id" },
    });
  });

  it('fails with the query named when a row is not the expected shape', async () => {
    const { client } = fakeNetSuite([{ itemid: 'SKU-1' }], 1000);
    await expect(fetchErpItems(client)).rejects.toThrow(OnboardingSourceError);
  });
});

describe('fetchShopifyCatalog', () => {
  it('waits out THROTTLED answers as the bucket refills, then reads numeric location ids and codes', async () => {
    const sleeps: number[] = [];
    let variantCalls = 0;
    const fakeFetch = (async (_url: string, init: RequestInit) => {
      const { query, variables } = JSON.parse(String(init.body)) as {
        query: string;
        variables: { after: string | null };
      };
      if (query.includes('locations')) {
        return jsonResponse({
          data: {
            locations: {
              pageInfo: { hasNextPage: false, endCursor: null },
              nodes: [{ id: 'gid://shopify/Location/91000000001', name: 'WH-01 Online Fulfilment Centre' }],
            },
          },
        });
      }
      variantCalls += 1;
      if (variantCalls === 1) {
        return jsonResponse({
          errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
          extensions: {
            cost: { requestedQueryCost: 252, throttleStatus: { currentlyAvailable: 52, restoreRate: 100 } },
          },
        });
      }
      const page = variables.after === null ? 0 : 1;
      return jsonResponse({
        data: {
          productVariants: {
            pageInfo: { hasNextPage: page === 0, endCursor: page === 0 ? 'c1' : null },
            nodes: page === 0 ? [{ sku: 'SKU-1' }, { sku: null }] : [{ sku: 'SKU-2' }],
          },
        },
      });
    }) as typeof fetch;

    const catalog = await fetchShopifyCatalog({
      baseUrl: 'http://shop.test/',
      accessToken: 'shpat_x',
      fetch: fakeFetch,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });

    expect(sleeps).toEqual([2000]);
    expect(catalog).toEqual({
      system: 'shopify',
      skus: ['SKU-1', null, 'SKU-2'],
      locations: [{ id: '91000000001', code: 'WH-01' }],
    });
  });

  it('fails on a GraphQL error other than throttling', async () => {
    const fakeFetch = (async () =>
      jsonResponse({ errors: [{ message: 'Field x does not exist' }] })) as typeof fetch;
    await expect(
      fetchShopifyCatalog({ baseUrl: 'http://shop.test', accessToken: 't', fetch: fakeFetch }),
    ).rejects.toThrow(/Field x does not exist/);
  });
});

describe('fetchSquareCatalog', () => {
  it('follows catalog cursors and codes locations by the first word of their name', async () => {
    const urls: string[] = [];
    const fakeFetch = (async (url: string) => {
      urls.push(url);
      if (url.endsWith('/v2/locations')) {
        return jsonResponse({ locations: [{ id: 'LSQ1', name: 'ST-001 Austin 1' }] });
      }
      const cursor = new URL(url).searchParams.get('cursor');
      return jsonResponse(
        cursor
          ? { objects: [{ type: 'ITEM_VARIATION', item_variation_data: { sku: 'SKU-2' } }] }
          : { objects: [{ type: 'ITEM_VARIATION', item_variation_data: { sku: 'SKU-1' } }], cursor: 'MTAw' },
      );
    }) as typeof fetch;

    const catalog = await fetchSquareCatalog({
      baseUrl: 'http://sq.test',
      accessToken: 't',
      fetch: fakeFetch,
    });

    expect(catalog).toEqual({
      system: 'pos',
      skus: ['SKU-1', 'SKU-2'],
      locations: [{ id: 'LSQ1', code: 'ST-001' }],
    });
    expect(urls.slice(1)).toEqual([
      'http://sq.test/v2/catalog/list?types=ITEM_VARIATION',
      'http://sq.test/v2/catalog/list?types=ITEM_VARIATION&cursor=MTAw',
    ]);
  });
});
