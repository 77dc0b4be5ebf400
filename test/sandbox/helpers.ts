import type { SandboxApp, StartedServer } from '#sandbox/core/http.ts';
import { serveSandboxes } from '#sandbox/core/http.ts';

/** Starts one sandbox on an ephemeral loopback port; returns its mount URL. */
export async function start(app: SandboxApp): Promise<{ server: StartedServer; url: string }> {
  const server = await serveSandboxes([app], { port: 0 });
  return { server, url: server.urlOf(app.name) };
}

/** Polls `probe` until it returns a truthy value or the deadline passes. */
export async function until<T>(probe: () => Promise<T> | T, timeoutMs = 5_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** POSTs JSON and returns status + parsed body. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined, headers: res.headers };
}

/** Reads a response body as JSON of the type the contract promises (asserted by the test itself). */
export async function json<T>(res: Response | Promise<Response>): Promise<T> {
  return (await (await res).json()) as T;
}

/** The paged list every control API answers. */
export interface Page<T> {
  total: number;
  offset: number;
  limit: number;
  hasMore: boolean;
  items: T[];
}
