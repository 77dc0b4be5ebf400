import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultDecision } from './faults.ts';

/**
 * One simulated vendor system. `path` is the URL path below the mount prefix
 * `/_sandbox/<name>` (always starting with `/`, no query string), so the same
 * app runs mounted in the local cloud or alone via `sandbox/serve.ts`.
 */
export interface SandboxApp {
  readonly name: string;
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void>;
  /** Back to the seeded start state (data, counters, faults, tokens). */
  reset(): Promise<void>;
  /** Stops timers and pending webhook deliveries. */
  close(): Promise<void>;
  /**
   * The fields whose data is the sandbox's state (records, id counters, random streams, pending webhooks):
   * what the local cloud saves and puts back into a sandbox built with the same seed, so a restart goes on
   * where it stopped (`local/sandboxes.ts`). Seeded and derived data and behaviour may be listed too; they
   * are skipped or restored unchanged.
   */
  readonly stateFields?: readonly string[];
}

/** Common construction options; each sandbox extends them with its own. */
export interface SandboxOptions {
  /** Seed for data, scenarios and faults. @default 42 */
  seed?: number;
  /** Clock, injectable for tests. @default Date.now */
  clock?: () => number;
}

/** Builds a sandbox; every `sandbox/<name>/index.ts` exports one as `createSandbox`. */
export type SandboxFactory = (
  options?: SandboxOptions & Record<string, unknown>,
) => SandboxApp | Promise<SandboxApp>;

/** An error that maps to one HTTP answer; the body is already in the vendor's shape. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
    this.name = 'HttpError';
  }
}

/** Default request body limit (1 MiB); vendors enforce their own, larger ones. */
export const DEFAULT_BODY_LIMIT = 1024 * 1024;

/**
 * Reads the raw body (needed verbatim for signatures and idempotency
 * comparisons). Rejects with `HttpError(413)` over `limitBytes`.
 */
export async function readBody(req: IncomingMessage, limitBytes = DEFAULT_BODY_LIMIT): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buf.length;
    if (size > limitBytes) {
      throw new HttpError(413, { error: 'payload_too_large', limitBytes });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/**
 * Reads and parses a JSON body; `onInvalid` renders the vendor's own
 * "malformed JSON" error. An empty body parses as `undefined`.
 */
export async function readJson(
  req: IncomingMessage,
  onInvalid: (message: string) => HttpError = (m) =>
    new HttpError(400, { error: 'invalid_json', message: m }),
  limitBytes = DEFAULT_BODY_LIMIT,
): Promise<{ raw: string; json: unknown }> {
  const raw = (await readBody(req, limitBytes)).toString('utf8');
  if (raw.trim() === '') return { raw, json: undefined };
  try {
    return { raw, json: JSON.parse(raw) as unknown };
  } catch (err) {
    throw onInvalid(err instanceof Error ? err.message : 'invalid JSON');
  }
}

/** Sends a JSON answer (no-op when the response was already sent or the socket is gone). */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text).toString(),
    ...headers,
  });
  res.end(text);
}

/** Sends a body-less answer such as NetSuite's `204 No Content` with a `Location` header. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, headers);
  res.end();
}

/** The query string of a request. */
export function queryOf(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? '/', 'http://sandbox.invalid').searchParams;
}

/**
 * The absolute URL of the mount point (`http://host:port/_sandbox/<name>`),
 * derived from the request, so `Location` headers and links point back to
 * wherever the sandbox is reachable.
 */
export function baseUrlOf(req: IncomingMessage, path: string): string {
  const pathname = new URL(req.url ?? '/', 'http://sandbox.invalid').pathname;
  const prefix = pathname.endsWith(path) ? pathname.slice(0, pathname.length - path.length) : '';
  const proto = headerOf(req, 'x-forwarded-proto') ?? 'http';
  const host = headerOf(req, 'host') ?? '127.0.0.1';
  return `${proto}://${host}${prefix.replace(/\/$/, '')}`;
}

/** One header as a string (first value when repeated). */
export function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** True for loopback peers; the control API accepts no one else. */
export function isLoopback(req: IncomingMessage): boolean {
  const a = req.socket.remoteAddress ?? '';
  return a === '127.0.0.1' || a === '::1' || a === '::ffff:127.0.0.1' || a.startsWith('127.');
}

/** Resolves after `ms`, or early when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** An AbortSignal that fires when the client goes away or the response is finished. */
export function responseClosed(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  if (res.destroyed || res.writableEnded) ac.abort();
  else res.once('close', () => ac.abort());
  return ac.signal;
}

/** How a sandbox renders injected failures in its vendor's own shape. */
export interface FaultRenderer {
  error(status: number): HttpError;
  throttle(retryAfterSeconds: number): HttpError;
  outage(until: string): HttpError;
}

/**
 * Applies a {@link FaultDecision}: waits the injected latency, then throws
 * the vendor-shaped error, or hangs for the timeout and destroys the socket
 * without answering (what a client sees when a vendor times out). Returns
 * normally when the call should proceed.
 */
export async function applyFault(
  decision: FaultDecision,
  res: ServerResponse,
  render: FaultRenderer,
): Promise<void> {
  const closed = responseClosed(res);
  switch (decision.kind) {
    case 'pass':
      await sleep(decision.latencyMs, closed);
      return;
    case 'error':
      await sleep(decision.latencyMs, closed);
      throw render.error(decision.status);
    case 'throttle':
      await sleep(decision.latencyMs, closed);
      throw render.throttle(decision.retryAfterSeconds);
    case 'outage':
      throw render.outage(decision.until);
    case 'timeout':
      await sleep(decision.timeoutMs, closed);
      res.destroy();
      throw new HttpError(0, null);
  }
}

/** A handler for one route; `params` holds the decoded `:name` segments. */
export type RouteHandler = (ctx: {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  params: Record<string, string>;
}) => Promise<void> | void;

interface Route {
  method: string;
  parts: string[];
  handler: RouteHandler;
}

/**
 * Minimal method + path router (`/v2/orders/:id`); a `:name` segment matches
 * one non-empty segment. `match` tells "no route" (404) from "wrong method" (405).
 */
export class Router {
  private readonly routes: Route[] = [];

  /** Adds a route; first added wins. */
  on(method: string, pattern: string, handler: RouteHandler): this {
    this.routes.push({ method: method.toUpperCase(), parts: split(pattern), handler });
    return this;
  }

  /** Finds the route for a request. */
  match(
    method: string,
    path: string,
  ): { handler: RouteHandler; params: Record<string, string> } | { methodNotAllowed: true } | undefined {
    const segs = split(path);
    let pathMatched = false;
    for (const r of this.routes) {
      const params = matchParts(r.parts, segs);
      if (!params) continue;
      pathMatched = true;
      if (r.method === method.toUpperCase()) return { handler: r.handler, params };
    }
    return pathMatched ? { methodNotAllowed: true } : undefined;
  }
}

function split(path: string): string[] {
  return path.split('/').filter((s) => s !== '');
}

function matchParts(pattern: string[], segs: string[]): Record<string, string> | undefined {
  if (pattern.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] as string;
    const s = segs[i] as string;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(s);
      } catch {
        return undefined;
      }
    } else if (p !== s) {
      return undefined;
    }
  }
  return params;
}

/** The mount prefix of a sandbox in the local cloud. */
export const mountPrefix = (name: string): string => `/_sandbox/${name}`;

/**
 * Dispatches requests under `/_sandbox/<name>/…` to the matching app. The
 * local cloud calls `handle` from its own server and falls through when it
 * returns false. With `rootApp`, unprefixed paths go to that app, so a
 * sandbox run alone also answers at its vendor paths directly.
 */
export function createSandboxRouter(
  apps: readonly SandboxApp[],
  rootApp?: SandboxApp,
): { handle(req: IncomingMessage, res: ServerResponse): Promise<boolean> } {
  return {
    async handle(req, res) {
      const pathname = new URL(req.url ?? '/', 'http://sandbox.invalid').pathname;
      let app: SandboxApp | undefined;
      let path = pathname;
      for (const a of apps) {
        const prefix = mountPrefix(a.name);
        if (pathname === prefix || pathname.startsWith(`${prefix}/`)) {
          app = a;
          path = pathname.slice(prefix.length) || '/';
          break;
        }
      }
      if (!app && rootApp && !pathname.startsWith('/_sandbox/')) app = rootApp;
      if (!app) return false;
      try {
        await app.handle(req, res, path);
      } catch (err) {
        if (err instanceof HttpError) {
          if (err.status > 0) sendJson(res, err.status, err.body, err.headers);
        } else {
          sendJson(res, 500, {
            error: 'sandbox_internal_error',
            message: err instanceof Error ? err.message : String(err),
          });
        }
      }
      return true;
    },
  };
}

/** A running sandbox server. */
export interface StartedServer {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Base URL of one mounted app: `<origin>/_sandbox/<name>`. */
  urlOf(name: string): string;
  close(): Promise<void>;
}

/**
 * Serves sandboxes on a port (`0` = ephemeral, for tests). With a single app
 * it also answers unprefixed vendor paths.
 */
export async function serveSandboxes(
  apps: readonly SandboxApp[],
  { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {},
): Promise<StartedServer> {
  const router = createSandboxRouter(apps, apps.length === 1 ? apps[0] : undefined);
  const server = createServer((req, res) => {
    router.handle(req, res).then(
      (handled) => {
        if (!handled)
          sendJson(res, 404, { error: 'not_found', mounts: apps.map((a) => mountPrefix(a.name)) });
      },
      (err: unknown) => sendJson(res, 500, { error: String(err) }),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  const origin = `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  return {
    server,
    port: actual,
    origin,
    urlOf: (name) => `${origin}${mountPrefix(name)}`,
    close: async () => {
      await Promise.all(apps.map((a) => a.close()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
