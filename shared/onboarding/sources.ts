import * as z from 'zod';
import type { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { graphqlPath } from '../connectors/shopify/api-version.ts';
import { gidToId } from '../connectors/shopify/json.ts';
import {
  codeOfName,
  type ErpItem,
  type ErpLocation,
  type ErpPaymentMethod,
  type OnboardingSnapshot,
  type SourceCatalog,
} from './mappings.ts';
import {
  isRetryableStatus,
  RetryableVendorError,
  retryAfterMs,
  type VendorRetryOptions,
  withVendorRetry,
} from './retry.ts';

/**
 * Readers of what onboarding matches: the ERP item master, locations and payment methods (SuiteQL),
 * Shopify variants and locations (Admin GraphQL) and Square variations and locations (REST). Each
 * answer is parsed with zod at this edge; each reader takes its client or credentials as arguments.
 */

/** The part of the NetSuite client onboarding uses (tests pass a fake). */
export type NetSuiteRequester = Pick<NetSuiteClient, 'request'>;

/** An onboarding read failed: which system, which call, what came back. Permanent for this run. */
export class OnboardingSourceError extends Error {
  readonly code = 'ONBOARDING_SOURCE_FAILED';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OnboardingSourceError';
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new OnboardingSourceError(
      `${what}: unexpected answer (${issue?.path.join('.') || '(root)'}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

// ------------------------------------------------------------------ NetSuite (SuiteQL)

const SUITEQL_PATH = '/services/rest/query/v1/suiteql';
const SUITEQL_PAGE = 1000;

const SuiteQlPageSchema = z.object({
  items: z.array(z.record(z.string(), z.unknown())),
  hasMore: z.boolean(),
});

/** Every row of a SuiteQL query, paged with `limit`/`offset` (1,000 rows per call, SuiteQL's maximum). */
export async function suiteQlAll<S extends z.ZodType>(
  client: NetSuiteRequester,
  q: string,
  row: S,
): Promise<z.infer<S>[]> {
  const rows: z.infer<S>[] = [];
  for (let offset = 0; ; offset += SUITEQL_PAGE) {
    const res = await client.request({
      method: 'POST',
      path: SUITEQL_PATH,
      query: { limit: String(SUITEQL_PAGE), offset: String(offset) },
      headers: { prefer: 'transient' },
      body: { q },
    });
    const page = parse(SuiteQlPageSchema, res.body, `SuiteQL ${q}`);
    for (const item of page.items) rows.push(parse(row, item, `SuiteQL ${q}`));
    if (!page.hasMore || page.items.length === 0) return rows;
  }
}

const Text = z.union([z.string(), z.number()]).transform(String);

/** The ERP's active items (every item type: booking items are told apart by the caller). */
export async function fetchErpItems(client: NetSuiteRequester): Promise<ErpItem[]> {
  const rows = await suiteQlAll(
    client,
    "SELECT id, itemid FROM item WHERE isinactive = 'F' ORDER BY id",
    z.object({ id: Text, itemid: Text.optional() }),
  );
  return rows.map((r) => ({ id: r.id, sku: r.itemid ?? '' }));
}

/** The ERP's active locations; the code is the external id, else the first word of the name. */
export async function fetchErpLocations(client: NetSuiteRequester): Promise<ErpLocation[]> {
  const rows = await suiteQlAll(
    client,
    "SELECT id, externalid, name FROM location WHERE isinactive = 'F' ORDER BY id",
    z.object({ id: Text, externalid: Text.optional(), name: Text.optional() }),
  );
  return rows.map((r) => ({ id: r.id, code: r.externalid ?? codeOfName(r.name ?? '') }));
}

/** The ERP's active payment methods. */
export async function fetchErpPaymentMethods(client: NetSuiteRequester): Promise<ErpPaymentMethod[]> {
  const rows = await suiteQlAll(
    client,
    "SELECT id, name FROM paymentmethod WHERE isinactive = 'F' ORDER BY id",
    z.object({ id: Text, name: Text }),
  );
  return rows.map((r) => ({ id: r.id, name: r.name }));
}

// ------------------------------------------------------------------ Shopify (Admin GraphQL)

/** A shop's Admin API: the shop's base URL (`https://<shop>.myshopify.com` or a sandbox mount) and token. */
export interface ShopifyAccess {
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly fetch?: typeof fetch;
  /** Retries of 429 / 5xx / `THROTTLED` answers. */
  readonly retry?: VendorRetryOptions;
}

/**
 * The GraphQL documents onboarding sends (validated against Shopify's Admin schema by
 * `test/sandbox/shopify-schema.test.ts`). 250 nodes a page: Shopify's maximum `first`.
 */
export const SHOPIFY_VARIANT_SKUS_QUERY = `query OnboardingVariants($after: String) {
  productVariants(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { sku } }
}`;
export const SHOPIFY_LOCATIONS_QUERY = `query OnboardingLocations($after: String) {
  locations(first: 250, after: $after) { pageInfo { hasNextPage endCursor } nodes { id name } }
}`;
/** Every GraphQL document the hub sends to Shopify. */
export const SHOPIFY_DOCUMENTS: Readonly<Record<string, string>> = {
  SHOPIFY_VARIANT_SKUS_QUERY,
  SHOPIFY_LOCATIONS_QUERY,
};

const PageInfoSchema = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });

const GraphQlAnswerSchema = z.object({
  data: z.record(z.string(), z.unknown()).nullable().optional(),
  errors: z
    .array(
      z.object({
        message: z.string(),
        extensions: z.looseObject({ code: z.string().optional() }).optional(),
      }),
    )
    .optional(),
  extensions: z
    .looseObject({
      cost: z
        .looseObject({
          requestedQueryCost: z.number(),
          throttleStatus: z.looseObject({ currentlyAvailable: z.number(), restoreRate: z.number() }),
        })
        .optional(),
    })
    .optional(),
});

const giveUp = (what: string) => (last: RetryableVendorError, attempts: number) =>
  new OnboardingSourceError(`${what}: gave up after ${attempts} attempts (${last.message})`, { cause: last });

/** A fetch that failed without an answer (connection refused or reset) is worth another try. */
async function send(fetchFn: typeof fetch, url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetchFn(url, init);
  } catch (error) {
    throw new RetryableVendorError(`${what}: ${(error as Error).message}`, undefined, { cause: error });
  }
}

/**
 * The wait Shopify's leaky bucket needs before a throttled query fits: the missing points over the
 * restore rate, `(requestedQueryCost − currentlyAvailable) / restoreRate` seconds
 * (https://shopify.dev/docs/api/usage/limits#graphql-admin-api-rate-limits).
 */
function throttledWaitMs(cost: z.infer<typeof GraphQlAnswerSchema>['extensions']): number | undefined {
  const c = cost?.cost;
  if (!c || c.throttleStatus.restoreRate <= 0) return undefined;
  const missing = Math.max(0, c.requestedQueryCost - c.throttleStatus.currentlyAvailable);
  return Math.ceil((missing / c.throttleStatus.restoreRate) * 1000);
}

/**
 * One GraphQL call. Retried: HTTP 429 (Shopify's REST-style limit, with `Retry-After`), 5xx (503 during
 * an outage carries `Retry-After`) and `THROTTLED` (HTTP 200 with the bucket's state in
 * `extensions.cost`), see {@link withVendorRetry}.
 */
async function shopifyQuery(
  shop: ShopifyAccess,
  query: string,
  variables: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const url = `${shop.baseUrl.replace(/\/+$/, '')}${graphqlPath()}`;
  return withVendorRetry(
    async () => {
      const res = await send(
        shop.fetch ?? fetch,
        url,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.accessToken },
          body: JSON.stringify({ query, variables }),
        },
        'Shopify GraphQL',
      );
      if (isRetryableStatus(res.status))
        throw new RetryableVendorError(
          `Shopify GraphQL answered ${res.status}`,
          retryAfterMs(res.headers.get('retry-after')),
        );
      if (!res.ok) throw new OnboardingSourceError(`Shopify GraphQL answered ${res.status}`);
      const answer = parse(GraphQlAnswerSchema, await res.json(), 'Shopify GraphQL');
      if (answer.errors?.some((e) => e.extensions?.code === 'THROTTLED'))
        throw new RetryableVendorError('Shopify GraphQL: THROTTLED', throttledWaitMs(answer.extensions));
      if (answer.errors?.length || !answer.data) {
        throw new OnboardingSourceError(
          `Shopify GraphQL: ${answer.errors?.map((e) => e.message).join('; ') ?? 'no data'}`,
        );
      }
      return answer.data;
    },
    giveUp('Shopify GraphQL'),
    shop.retry,
  );
}

/** Every node of a connection: `query` pages `field` with `$after`. */
async function shopifyAll<S extends z.ZodType>(
  shop: ShopifyAccess,
  query: string,
  field: string,
  node: S,
): Promise<z.infer<S>[]> {
  const Connection = z.object({ pageInfo: PageInfoSchema, nodes: z.array(node) });
  const out: z.infer<S>[] = [];
  let after: string | null = null;
  do {
    const data = await shopifyQuery(shop, query, { after });
    const page = parse(Connection, data[field], `Shopify ${field}`);
    out.push(...page.nodes);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after !== null);
  return out;
}

/**
 * The shop's variant SKUs and locations. A location is keyed by its numeric id, the form orders carry
 * (`location_id`), and coded by the first word of its name (Shopify locations have no external id).
 */
export async function fetchShopifyCatalog(shop: ShopifyAccess): Promise<SourceCatalog> {
  const [variants, locations] = await Promise.all([
    shopifyAll(shop, SHOPIFY_VARIANT_SKUS_QUERY, 'productVariants', z.object({ sku: z.string().nullable() })),
    shopifyAll(shop, SHOPIFY_LOCATIONS_QUERY, 'locations', z.object({ id: z.string(), name: z.string() })),
  ]);
  return {
    system: 'shopify',
    skus: variants.map((v) => v.sku),
    locations: locations.map((l) => {
      const id = gidToId(l.id);
      if (id === undefined) throw new OnboardingSourceError(`Shopify location id ${l.id} is not a GID`);
      return { id, code: codeOfName(l.name) };
    }),
  };
}

// ------------------------------------------------------------------ Square (REST)

/** A Square seller's API: base URL (`https://connect.squareup.com` or a sandbox mount) and access token. */
export interface SquareAccess {
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly fetch?: typeof fetch;
  /** Retries of 429 / 5xx answers. */
  readonly retry?: VendorRetryOptions;
}

/** The Square API version the hub's Square shapes follow. */
const SQUARE_VERSION = '2025-08-20';

/**
 * One GET, retried on 429 (`RATE_LIMITED`) and 5xx, after `Retry-After` when Square sends one
 * (https://developer.squareup.com/docs/build-basics/handling-errors), see {@link withVendorRetry}.
 */
async function squareGet(square: SquareAccess, path: string): Promise<unknown> {
  const what = `Square GET ${path}`;
  return withVendorRetry(
    async () => {
      const res = await send(
        square.fetch ?? fetch,
        `${square.baseUrl.replace(/\/+$/, '')}${path}`,
        {
          headers: {
            authorization: `Bearer ${square.accessToken}`,
            'square-version': SQUARE_VERSION,
            accept: 'application/json',
          },
        },
        what,
      );
      if (isRetryableStatus(res.status))
        throw new RetryableVendorError(
          `${what} answered ${res.status}`,
          retryAfterMs(res.headers.get('retry-after')),
        );
      if (!res.ok) throw new OnboardingSourceError(`${what} answered ${res.status}`);
      return res.json();
    },
    giveUp(what),
    square.retry,
  );
}

const SquareLocationsSchema = z.object({
  locations: z.array(z.looseObject({ id: z.string(), name: z.string() })).default([]),
});
const SquareCatalogPageSchema = z.object({
  objects: z
    .array(
      z.looseObject({
        type: z.string(),
        item_variation_data: z.looseObject({ sku: z.string().optional() }).optional(),
      }),
    )
    .default([]),
  cursor: z.string().optional(),
});

/**
 * The seller's variation SKUs and locations. Square locations are keyed by their id (what POS orders
 * carry) and coded by the first word of their name, as in Shopify.
 */
export async function fetchSquareCatalog(square: SquareAccess): Promise<SourceCatalog> {
  const locations = parse(
    SquareLocationsSchema,
    await squareGet(square, '/v2/locations'),
    'Square locations',
  );
  const skus: (string | null)[] = [];
  let cursor: string | undefined;
  do {
    const query = new URLSearchParams({ types: 'ITEM_VARIATION', ...(cursor ? { cursor } : {}) });
    const page = parse(
      SquareCatalogPageSchema,
      await squareGet(square, `/v2/catalog/list?${query}`),
      'Square catalog',
    );
    for (const object of page.objects) {
      if (object.type === 'ITEM_VARIATION') skus.push(object.item_variation_data?.sku ?? null);
    }
    cursor = page.cursor;
  } while (cursor);
  return {
    system: 'pos',
    skus,
    locations: locations.locations.map((l) => ({ id: l.id, code: codeOfName(l.name) })),
  };
}

// ------------------------------------------------------------------ all together

/** Where to read from: the ERP always, each source system when it is connected. */
export interface OnboardingSources {
  readonly erp: NetSuiteRequester;
  readonly shopify?: ShopifyAccess;
  readonly square?: SquareAccess;
}

/** Reads every system, in parallel. */
export async function readSnapshot(sources: OnboardingSources): Promise<OnboardingSnapshot> {
  const [items, locations, paymentMethods, shopify, square] = await Promise.all([
    fetchErpItems(sources.erp),
    fetchErpLocations(sources.erp),
    fetchErpPaymentMethods(sources.erp),
    sources.shopify ? fetchShopifyCatalog(sources.shopify) : undefined,
    sources.square ? fetchSquareCatalog(sources.square) : undefined,
  ]);
  return {
    erp: { items, locations, paymentMethods },
    sources: [shopify, square].filter((s): s is SourceCatalog => s !== undefined),
  };
}
