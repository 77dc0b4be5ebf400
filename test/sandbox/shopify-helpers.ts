import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type StartedServer, serveSandboxes } from '#sandbox/core/http.ts';
import {
  createShopifySandbox,
  type ShopifySandbox,
  type ShopifySandboxOptions,
} from '#sandbox/shopify/index.ts';
import { PINNED_VERSION, validateAgainstShopify } from '#test/support/shopify-schema.ts';

/**
 * Refuses a document Shopify's real Admin schema (pinned version) would refuse, so a sandbox test can
 * only exercise what a client written against Shopify could send. Tests of the sandbox's own
 * validation errors pass `offSchema: true`.
 */
export function assertShopifyDocument(query: string): void {
  let errors: readonly { message: string }[];
  try {
    errors = validateAgainstShopify(query);
  } catch (error) {
    errors = [error as Error];
  }
  if (errors.length > 0)
    throw new Error(
      `not a valid document for Shopify's Admin API ${PINNED_VERSION}: ${errors.map((e) => e.message).join('; ')}\n${query}`,
    );
}

/** A GraphQL answer as the tests read it. */
export interface GqlAnswer {
  status: number;
  headers: Headers;
  body: {
    data?: Record<string, unknown> | null;
    errors?: Array<{ message: string; extensions?: Record<string, unknown>; path?: unknown[] }>;
    extensions?: {
      cost: {
        requestedQueryCost: number;
        actualQueryCost: number | null;
        throttleStatus: { maximumAvailable: number; currentlyAvailable: number; restoreRate: number };
      };
    };
  };
}

/** A running sandbox on an ephemeral loopback port, driven with plain fetch. */
export interface ShopifyHarness {
  app: ShopifySandbox;
  server: StartedServer;
  base: string;
  gql(
    query: string,
    variables?: Record<string, unknown>,
    opts?: { token?: string | null; version?: string; offSchema?: boolean },
  ): Promise<GqlAnswer>;
  control(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/** Starts a (small by default) Shopify sandbox. */
export async function startShopify(options: ShopifySandboxOptions = {}): Promise<ShopifyHarness> {
  const app = createShopifySandbox({ items: 200, stores: 5, ...options });
  const server = await serveSandboxes([app]);
  const base = server.urlOf('shopify');
  return {
    app,
    server,
    base,
    async gql(query, variables = {}, opts = {}) {
      if (!opts.offSchema) assertShopifyDocument(query);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      const token = opts.token === undefined ? app.credentials.accessToken : opts.token;
      if (token !== null) headers['x-shopify-access-token'] = token;
      const res = await fetch(`${base}/admin/api/${opts.version ?? '2026-10'}/graphql.json`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, headers: res.headers, body: (await res.json()) as GqlAnswer['body'] };
    },
    async control(method, path, body) {
      const res = await fetch(`${base}/_control/${path}`, {
        method,
        ...(body === undefined
          ? {}
          : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    close: () => server.close(),
  };
}

/** One webhook POST as the receiver saw it: raw bytes and lower-cased headers. */
export interface Received {
  raw: Buffer;
  headers: Record<string, string>;
}

/** A webhook receiver on an ephemeral port; `respond` decides the status per delivery. */
export async function startReceiver(respond: (r: Received, n: number) => number = () => 200): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k] = v;
      const r = { raw: Buffer.concat(chunks), headers };
      received.push(r);
      res.statusCode = respond(r, received.length);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/shopify`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** `data.<name>` of an answer, failing loudly (with the errors) when it is missing. */
export function field<T>(r: GqlAnswer, name: string): T {
  const v = r.body.data?.[name];
  if (v === undefined || v === null) throw new Error(`no data.${name}: ${JSON.stringify(r.body.errors)}`);
  return v as T;
}

/** `gid://shopify/<type>/<id>` */
export const gidOf = (type: string, id: string): string => `gid://shopify/${type}/${id}`;
