import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { SQUARE_API_VERSION } from '#shared/connectors/square/api-version.ts';
import { CatalogSkuResolver, SquareClient, variationKey } from '#shared/connectors/square/client.ts';
import {
  PosAuthError,
  PosNotFoundError,
  PosRequestError,
  PosUnavailableError,
} from '#shared/connectors/square/errors.ts';
import { parseSquareOrder } from '#shared/connectors/square/mapper.ts';
import { MappingError } from '#shared/errors.ts';
import { start } from '#test/sandbox/helpers.ts';

const TOKEN = 'EAAAEOmnihubSandboxAccessToken';

let sandbox: SquareSandbox;
let server: StartedServer;
let base: string;
let sale: string;
const sent: { url: string; headers: Headers }[] = [];

/** fetch that records what the client sent. */
const recordingFetch: typeof fetch = async (input, init) => {
  sent.push({ url: String(input), headers: new Headers(init?.headers) });
  return fetch(input, init);
};

const tokens = (first: string, fresh?: string) => {
  const state = { refreshes: 0 };
  return Object.assign(state, {
    token: async () => first,
    refresh: async () => {
      state.refreshes += 1;
      return fresh;
    },
  });
};

const client = (token = tokens(TOKEN), fetchFn: typeof fetch = recordingFetch) =>
  new SquareClient({ baseUrl: base, token, fetch: fetchFn, timeoutMs: 500 });

const answer =
  (status: number, body: unknown = {}): typeof fetch =>
  async () =>
    new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });

beforeAll(async () => {
  sandbox = new SquareSandbox({ seed: 3, items: 40, stores: 2 });
  ({ server, url: base } = await start(sandbox));
  ({
    sales: [sale = ''],
  } = (await sandbox.scenario({ sales: 1, seed: 1 })) as { sales: string[] });
});

afterAll(async () => {
  await server.close();
});

beforeEach(() => {
  sent.length = 0;
  sandbox.faults.configure({});
});

describe('SquareClient', () => {
  describe('RetrieveOrder', () => {
    it('reads the order with the bearer token and the pinned Square-Version', async () => {
      const order = parseSquareOrder(await client().retrieveOrder(sale));
      // A register sale: no version (only orders made through the API have one).
      expect(order).toMatchObject({ id: sale, state: 'COMPLETED' });
      expect(order.version).toBeUndefined();
      expect(sent).toHaveLength(1);
      expect(sent[0]?.url).toBe(`${base}/v2/orders/${sale}`);
      expect(sent[0]?.headers.get('authorization')).toBe(`Bearer ${TOKEN}`);
      expect(sent[0]?.headers.get('square-version')).toBe(SQUARE_API_VERSION);
    });

    it('re-reads a refused token once and succeeds with the rotated one', async () => {
      const source = tokens('EAAAEOldRevokedToken', TOKEN);
      await expect(client(source).retrieveOrder(sale)).resolves.toMatchObject({ id: sale });
      expect(source.refreshes).toBe(1);
      expect(sent.map((call) => call.headers.get('authorization'))).toEqual([
        'Bearer EAAAEOldRevokedToken',
        `Bearer ${TOKEN}`,
      ]);
    });

    it('gives up with PosAuthError when the token is refused and no fresher one exists', async () => {
      const source = tokens('EAAAEOldRevokedToken');
      const error = await client(source)
        .retrieveOrder(sale)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PosAuthError);
      expect((error as PosAuthError).status).toBe(401);
      expect((error as Error).message).toMatch(/UNAUTHORIZED/);
    });

    it('answers PosNotFoundError for an unknown order, naming it', async () => {
      await expect(client().retrieveOrder('NOSUCHORDER')).rejects.toThrow(PosNotFoundError);
      await expect(client().retrieveOrder('NOSUCHORDER')).rejects.toThrow(/NOSUCHORDER/);
    });

    it('answers the retryable PosUnavailableError during an outage of the sandbox', async () => {
      sandbox.faults.configure({ outage: { durationMs: 60_000 } });
      const error = await client()
        .retrieveOrder(sale)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PosUnavailableError);
      expect((error as PosUnavailableError).retryable).toBe(true);
      expect((error as PosUnavailableError).status).toBe(503);
    });

    it.each([
      [429, PosUnavailableError],
      [500, PosUnavailableError],
      [403, PosAuthError],
      [400, PosRequestError],
    ])('classifies HTTP %i', async (status, type) => {
      await expect(client(tokens(TOKEN), answer(status)).retrieveOrder(sale)).rejects.toThrow(type);
    });

    it('times out a hanging call as PosUnavailableError', async () => {
      const hang: typeof fetch = (_input, init) =>
        new Promise((_resolve, reject) =>
          init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        );
      await expect(client(tokens(TOKEN), hang).retrieveOrder(sale)).rejects.toThrow(/timed out after 500 ms/);
    });

    it('treats a network failure as retryable and an unreadable answer as a mapping problem', async () => {
      const refused: typeof fetch = async () => {
        throw new TypeError('fetch failed');
      };
      await expect(client(tokens(TOKEN), refused).retrieveOrder(sale)).rejects.toThrow(PosUnavailableError);
      await expect(client(tokens(TOKEN), answer(200, { orders: [] })).retrieveOrder(sale)).rejects.toThrow(
        MappingError,
      );
    });
  });

  describe('RetrieveCatalogObject', () => {
    it('reads the SKU of a variation, at the catalog version sold', async () => {
      const order = parseSquareOrder(await client().retrieveOrder(sale));
      const line = order.line_items[0];
      const variation = sandbox.store.variations.get(line?.catalog_object_id ?? '');
      sent.length = 0;
      const info = await client().retrieveVariation(line?.catalog_object_id ?? '', line?.catalog_version);
      expect(info).toEqual({
        sku: variation?.item_variation_data.sku,
        itemId: variation?.item_variation_data.item_id,
      });
      expect(sent[0]?.url).toBe(
        `${base}/v2/catalog/object/${line?.catalog_object_id}?catalog_version=${line?.catalog_version}`,
      );
    });

    it('answers null for a variation Square does not know, or an object that is not a variation', async () => {
      expect(await client().retrieveVariation('NOSUCHVARIATION')).toBeNull();
      const item = sandbox.store.items[0]?.id ?? '';
      expect(await client().retrieveVariation(item)).toBeNull();
    });
  });
});

describe('CatalogSkuResolver', () => {
  it('asks Square once per variation and version, and keeps versioned answers', async () => {
    const calls: string[] = [];
    let now = 0;
    const resolver = new CatalogSkuResolver(
      {
        retrieveVariation: async (id, version) => {
          calls.push(variationKey(id, version));
          return id === 'GONE' ? null : { sku: `SKU-${id}`, itemId: null };
        },
      },
      { ttlMs: 1_000, now: () => now },
    );
    const refs = [
      { id: 'A', version: 1 },
      { id: 'A', version: 1 },
      { id: 'B', version: null },
      { id: 'GONE', version: null },
    ];
    const first = await resolver.resolve(refs);
    expect(first.get('A@1')).toEqual({ sku: 'SKU-A', itemId: null });
    expect(first.get('GONE')).toBeNull();
    expect(calls.sort()).toEqual(['A@1', 'B', 'GONE']);

    await resolver.resolve(refs);
    expect(calls).toHaveLength(3);

    now = 5_000;
    await resolver.resolve(refs);
    // Unversioned answers expire; a variation at a catalog version never changes.
    expect(calls.sort()).toEqual(['A@1', 'B', 'B', 'GONE', 'GONE']);
  });
});
