import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import type { FaultInjector } from './faults.ts';
import { HttpError, isLoopback, queryOf, type Router, readJson, sendJson } from './http.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/**
 * What a sandbox plugs into the shared control API. The control API is the
 * same for every sandbox so tests, demos and tools drive all three alike.
 */
export interface ControlPlane {
  faults: FaultInjector;
  webhooks?: WebhookDispatcher;
  /** `GET _control/state`; the query holds the sandbox's own filters and paging. */
  state(query: URLSearchParams): unknown;
  /** `POST _control/scenario`: runs store activity under a seed; returns a summary. */
  scenario(body: unknown): Promise<unknown>;
  /** `POST _control/reset`. */
  reset(): Promise<void>;
  /** Extra `_control/…` routes of one sandbox (paths include the `/_control` prefix). */
  routes?: Router;
}

/** Paging parameters shared by every list in the control API. */
export const PageQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/**
 * Pages a list as `{total, offset, limit, hasMore, items}`, reading
 * `offset`/`limit` from the query (defaults 0/100, limit ≤ 1000).
 */
export function paginate<T>(
  items: readonly T[],
  query: URLSearchParams,
): { total: number; offset: number; limit: number; hasMore: boolean; items: T[] } {
  const { offset, limit } = PageQuerySchema.parse({
    offset: query.get('offset') ?? undefined,
    limit: query.get('limit') ?? undefined,
  });
  return {
    total: items.length,
    offset,
    limit,
    hasMore: offset + limit < items.length,
    items: items.slice(offset, offset + limit),
  };
}

/** A 400 answer for invalid control input, listing zod's issues. */
export function controlInputError(err: z.ZodError): HttpError {
  return new HttpError(400, {
    error: 'invalid_control_input',
    message: z.prettifyError(err),
    issues: err.issues,
  });
}

/**
 * Serves `/_control/*` for a sandbox; returns false for other paths so the
 * vendor routes can run. Loopback peers only (403 otherwise).
 *
 * - `GET  _control/state`            sandbox state (see each sandbox's README section)
 * - `GET  _control/faults`           active fault config, windows and counters
 * - `POST _control/faults`           replace fault config (`FaultConfigSchema`; `{}` clears)
 * - `POST _control/reset`            seeded start state, no faults, zero counters
 * - `POST _control/scenario`         run store activity under a seed
 * - `POST _control/flush`            wait until queued webhooks are delivered or given up
 * - `GET  _control/webhooks`         delivery records (`state`, `topic`, `offset`, `limit`)
 */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  plane: ControlPlane,
): Promise<boolean> {
  if (path !== '/_control' && !path.startsWith('/_control/')) return false;
  if (!isLoopback(req)) throw new HttpError(403, { error: 'control_api_loopback_only' });
  const method = (req.method ?? 'GET').toUpperCase();
  const query = queryOf(req);
  try {
    if (method === 'GET' && path === '/_control/state') {
      sendJson(res, 200, await plane.state(query));
    } else if (method === 'GET' && path === '/_control/faults') {
      sendJson(res, 200, plane.faults.snapshot());
    } else if (method === 'POST' && path === '/_control/faults') {
      const { json } = await readJson(req);
      plane.faults.configure(json ?? {});
      sendJson(res, 200, plane.faults.snapshot());
    } else if (method === 'POST' && path === '/_control/reset') {
      await plane.reset();
      sendJson(res, 200, { reset: true });
    } else if (method === 'POST' && path === '/_control/scenario') {
      const { json } = await readJson(req);
      sendJson(res, 200, await plane.scenario(json ?? {}));
    } else if (method === 'POST' && path === '/_control/flush') {
      await plane.webhooks?.flush();
      sendJson(res, 200, { webhooks: plane.webhooks?.counters ?? null });
    } else if (method === 'GET' && path === '/_control/webhooks') {
      const { offset, limit } = PageQuerySchema.parse({
        offset: query.get('offset') ?? undefined,
        limit: query.get('limit') ?? undefined,
      });
      const page = plane.webhooks?.deliveries({
        state: query.get('state') ?? undefined,
        topic: query.get('topic') ?? undefined,
        offset,
        limit,
      }) ?? { total: 0, items: [] };
      sendJson(res, 200, { ...page, offset, limit, counters: plane.webhooks?.counters ?? null });
    } else {
      const m = plane.routes?.match(method, path);
      if (m && 'handler' in m) {
        await m.handler({ req, res, path, params: m.params });
      } else {
        throw new HttpError(m ? 405 : 404, {
          error: m ? 'method_not_allowed' : 'unknown_control_route',
          path,
        });
      }
    }
  } catch (err) {
    if (err instanceof z.ZodError) throw controlInputError(err);
    throw err;
  }
  return true;
}
