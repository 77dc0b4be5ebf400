import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
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

/** Runs a read under fake timers to completion, so the retry waits cost no real time. */
async function settle<T>(promise: Promise<T>): Promise<T> {
  const outcome = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  await vi.runAllTimersAsync();
  const result = await outcome;
  if ('error' in result) throw result.error;
  return result.value;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
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

    const catalog = await settle(
      fetchShopifyCatalog({
        baseUrl: 'http://shop.test/',
        accessToken: 'shpat_x',
        fetch: fakeFetch,
        retry: { onRetry: ({ delayMs }) => sleeps.push(delayMs) },
      }),
    );

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

describe('onboarding retries vendor refusals with their backoff hints', () => {
  const locations = {
    data: { locations: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [] } },
  };
  const variants = {
    data: {
      productVariants: { pageInfo: { hasNextPage: false, endCursor: null }, nodes: [{ sku: 'SKU-1' }] },
    },
  };
  const throttled = {
    errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }],
    extensions: {
      cost: {
        requestedQueryCost: 252,
        actualQueryCost: null,
        throttleStatus: { maximumAvailable: 2000, currentlyAvailable: 2, restoreRate: 100 },
      },
    },
  };

  /** A Shopify whose variants query answers `script` in turn (then succeeds); locations always succeed. */
  function shopify(script: Array<() => Response>) {
    let calls = 0;
    const fake = (async (_url: string, init: RequestInit) => {
      if (String(init.body).includes('locations')) return jsonResponse(locations);
      calls += 1;
      return script[calls - 1]?.() ?? jsonResponse(variants);
    }) as typeof fetch;
    return { fake, calls: () => calls };
  }

  it('waits out a 429 for its Retry-After, then reads', async () => {
    const delays: number[] = [];
    const shop = shopify([
      () =>
        new Response('{"errors":"Exceeded 2 calls per second for api client."}', {
          status: 429,
          headers: { 'retry-after': '2' },
        }),
    ]);
    const catalog = await settle(
      fetchShopifyCatalog({
        baseUrl: 'http://shop.test',
        accessToken: 't',
        fetch: shop.fake,
        retry: { onRetry: ({ delayMs }) => delays.push(delayMs) },
      }),
    );
    expect(catalog.skus).toEqual(['SKU-1']);
    expect(delays).toEqual([2000]);
    expect(shop.calls()).toBe(2);
  });

  it('waits out THROTTLED for (requested − available) / restoreRate, and 5xx with a backoff', async () => {
    const delays: number[] = [];
    const shop = shopify([
      () => jsonResponse(throttled),
      () => new Response('{"errors":"Service Unavailable"}', { status: 503 }),
      () => new Response('{"errors":"Bad Gateway"}', { status: 502 }),
    ]);
    await settle(
      fetchShopifyCatalog({
        baseUrl: 'http://shop.test',
        accessToken: 't',
        fetch: shop.fake,
        retry: { initialDelayMs: 100, onRetry: ({ delayMs }) => delays.push(delayMs) },
      }),
    );
    // 250 missing points at 100 points/s; then 100 ms doubling for the unhinted 5xx answers.
    expect(delays).toEqual([2500, 200, 400]);
    expect(shop.calls()).toBe(4);
  });

  it('gives up after the bounded attempts, naming the last refusal', async () => {
    const shop = shopify(Array.from({ length: 10 }, () => () => new Response('{}', { status: 500 })));
    await expect(
      settle(
        fetchShopifyCatalog({
          baseUrl: 'http://shop.test',
          accessToken: 't',
          fetch: shop.fake,
          retry: { maxAttempts: 3 },
        }),
      ),
    ).rejects.toThrow(/Shopify GraphQL: gave up after 4 attempts \(Shopify GraphQL answered 500\)/);
    expect(shop.calls()).toBe(4);
  });

  it('does not wait for a hint past the deadline', async () => {
    const shop = shopify(
      Array.from(
        { length: 10 },
        () => () => new Response('{}', { status: 503, headers: { 'retry-after': '30' } }),
      ),
    );
    await expect(
      settle(
        fetchShopifyCatalog({
          baseUrl: 'http://shop.test',
          accessToken: 't',
          fetch: shop.fake,
          retry: { deadlineMs: 45_000, maxDelayMs: 60_000 },
        }),
      ),
    ).rejects.toThrow(/gave up after 2 attempts/);
    expect(shop.calls()).toBe(2);
  });

  it('does not retry what a retry cannot fix (401)', async () => {
    const shop = shopify([() => new Response('{"errors":"[API] Invalid API key"}', { status: 401 })]);
    await expect(
      settle(fetchShopifyCatalog({ baseUrl: 'http://shop.test', accessToken: 't', fetch: shop.fake })),
    ).rejects.toThrow(/Shopify GraphQL answered 401/);
    expect(shop.calls()).toBe(1);
  });

  it('Square: waits out a 429 (Retry-After) and a network failure, then reads', async () => {
    const delays: number[] = [];
    let calls = 0;
    const fakeFetch = (async (url: string) => {
      calls += 1;
      if (calls === 1)
        return new Response('{"errors":[{"category":"RATE_LIMIT_ERROR","code":"RATE_LIMITED"}]}', {
          status: 429,
          headers: { 'retry-after': '3' },
        });
      if (calls === 2) throw new TypeError('fetch failed');
      if (url.endsWith('/v2/locations'))
        return jsonResponse({ locations: [{ id: 'L1', name: 'ST-001 Austin' }] });
      return jsonResponse({ objects: [{ type: 'ITEM_VARIATION', item_variation_data: { sku: 'SKU-9' } }] });
    }) as typeof fetch;
    const catalog = await settle(
      fetchSquareCatalog({
        baseUrl: 'http://sq.test',
        accessToken: 't',
        fetch: fakeFetch,
        retry: { initialDelayMs: 100, onRetry: ({ delayMs }) => delays.push(delayMs) },
      }),
    );
    expect(catalog.skus).toEqual(['SKU-9']);
    expect(delays).toEqual([3000, 200]);
  });
});
