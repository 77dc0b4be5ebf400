import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { SQUARE_API_VERSION } from '../connectors/square/api-version.ts';
import { HubError } from '../errors.ts';
import { availableFor, type InventoryPolicy } from './policy.ts';
import { effectiveOnHand, type Position } from './projection.ts';
import type { PositionStore } from './shopify-publisher.ts';

/**
 * Publishes the POS count of every store to Square: coalesced, batched, idempotent, paced.
 *
 * 1. **Coalesce**: keys de-duplicated per SKU × location; the *current* projection is read for each.
 * 2. **Target** ({@link availableFor}, channel `pos`): the ERP's on hand at the store, less the POS
 *    sales the ERP has not booked yet (a sale the hub has seen still counts: never a stale raise), less
 *    the units reserved for pick-up orders. Locations the policy does not publish to the POS are not
 *    touched.
 * 3. **Skip** what Square already shows: the newer of the hub's last confirmed write and the last
 *    `inventory.count.updated` observed (a count a clerk keyed in at the register is drift: corrected).
 * 4. **Send** `POST /v2/inventory/changes/batch-create`, ≤ 100 `PHYSICAL_COUNT` changes a call (Square's
 *    limit), state `IN_STOCK`, `occurred_at` = the time of the publish (Square orders a store's changes
 *    by `occurred_at`: a register sale that occurs after it still applies on top), an
 *    `idempotency_key` derived from the call's content and this run, so a resend after a 5xx or a lost
 *    answer is applied once (https://developer.squareup.com/reference/square/inventory-api/batch-change-inventory).
 * 5. **Pace**: Square does not document its rate limits and asks clients to back off on 429
 *    `RATE_LIMITED` with exponential, jittered retries (Square developer forums,
 *    https://developer.squareup.com/forums/t/synchronize-existing-items-with-square/7115/2): one call at a
 *    time per merchant (the function's reserved concurrency 1), at most `maxCallsPerSecond`, and a 429
 *    halves that rate for the rest of the run (additive-increase after successes).
 * 6. **Record** what was written as the confirmed base and the last published value, which is how the
 *    echo (`inventory.count.updated` of the hub's own write, carrying no key) is recognised.
 */

/** Square's limit of changes per `BatchChangeInventory` call. */
export const MAX_CHANGES_PER_CALL = 100;

/** Square ids of one SKU × hub location. */
export interface SquareLevelRef {
  readonly variationId: string;
  readonly locationId: string;
}

export interface SquareLevelResolver {
  resolve(keys: readonly { sku: string; location: string }[]): Promise<Map<string, SquareLevelRef>>;
}

/** A Square error: `errors[].code`, `field` (e.g. `changes[3].physical_count.catalog_object_id`). */
export interface SquareApiError {
  readonly code: string;
  readonly field?: string;
  readonly detail?: string;
}

/** Square answered 429 or 5xx, or did not answer: the same request may succeed later. */
export class SquareUnavailableError extends HubError {
  readonly code = 'SQUARE_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Square refused the request (4xx other than 429). */
export class SquareRequestError extends HubError {
  readonly code = 'SQUARE_REQUEST_FAILED';
  readonly retryable = false;
  constructor(
    message: string,
    readonly errors: readonly SquareApiError[],
  ) {
    super(message);
  }
}

/** The two Square calls the publisher makes. */
export interface SquareInventoryApi {
  batchChange(body: Record<string, unknown>): Promise<void>;
  /** One page of `ListCatalog` (`types=ITEM_VARIATION`): variation id → SKU. */
  listVariations(
    cursor?: string,
  ): Promise<{ variations: { id: string; sku: string | null }[]; cursor?: string }>;
}

const ErrorBodySchema = z.object({
  errors: z.array(
    z.object({ code: z.string(), field: z.string().optional(), detail: z.string().optional() }),
  ),
});

const ListCatalogSchema = z.object({
  objects: z
    .array(
      z.looseObject({
        id: z.string(),
        type: z.string(),
        item_variation_data: z.looseObject({ sku: z.string().nullish() }).optional(),
      }),
    )
    .default([]),
  cursor: z.string().optional(),
});

/** Square's REST API over fetch (`baseUrl`: https://connect.squareup.com, or the sandbox mount). */
export function squareInventoryApi(options: {
  readonly baseUrl: string;
  readonly accessToken: () => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}): SquareInventoryApi {
  const base = options.baseUrl.replace(/\/+$/, '');
  const fetchFn = options.fetch ?? fetch;
  const call = async (method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> => {
    let res: Response;
    try {
      res = await fetchFn(`${base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${await options.accessToken()}`,
          'square-version': SQUARE_API_VERSION,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new SquareUnavailableError(`Square unreachable: ${(error as Error).message}`);
    }
    const text = await res.text().catch(() => '');
    if (res.status === 429 || res.status >= 500) {
      const after = res.headers.get('retry-after');
      const retryAfterMs = after && /^\d+$/.test(after.trim()) ? Number(after) * 1000 : undefined;
      throw new SquareUnavailableError(`Square answered ${res.status}`, res.status, retryAfterMs);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new SquareUnavailableError(
        `Square answered ${res.status} with a body that is not JSON`,
        res.status,
      );
    }
    if (!res.ok) {
      const errors = ErrorBodySchema.safeParse(json).data?.errors ?? [];
      throw new SquareRequestError(
        `Square answered ${res.status}: ${errors.map((e) => `${e.code} ${e.field ?? ''}`).join('; ')}`,
        errors,
      );
    }
    return json;
  };
  return {
    async batchChange(body) {
      await call('POST', '/v2/inventory/changes/batch-create', body);
    },
    async listVariations(cursor) {
      const query = `types=ITEM_VARIATION${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page = ListCatalogSchema.parse(await call('GET', `/v2/catalog/list?${query}`));
      return {
        variations: page.objects
          .filter((o) => o.type === 'ITEM_VARIATION')
          .map((o) => ({ id: o.id, sku: o.item_variation_data?.sku ?? null })),
        ...(page.cursor ? { cursor: page.cursor } : {}),
      };
    },
  };
}

/**
 * SKU × hub location → Square ids: locations from a fixed map (the location mappings inverted: hub
 * location → Square location id), variations by SKU from the catalogue (`ListCatalog`, every page,
 * read once per instance and again when a SKU is missing and the last read is older than `ttlMs`).
 */
export class SquareLevelDirectory implements SquareLevelResolver {
  private bySku: Map<string, string> | undefined;
  private readAt = 0;

  constructor(
    private readonly api: SquareInventoryApi,
    private readonly locations: ReadonlyMap<string, string>,
    private readonly options: { readonly ttlMs?: number; readonly now?: () => number } = {},
  ) {}

  async resolve(keys: readonly { sku: string; location: string }[]): Promise<Map<string, SquareLevelRef>> {
    const now = this.options.now?.() ?? Date.now();
    const stale = now - this.readAt > (this.options.ttlMs ?? 5 * 60_000);
    if (!this.bySku || (stale && keys.some((k) => !this.bySku?.has(k.sku)))) {
      const bySku = new Map<string, string>();
      let cursor: string | undefined;
      do {
        const page = await this.api.listVariations(cursor);
        for (const v of page.variations) if (v.sku && !bySku.has(v.sku)) bySku.set(v.sku, v.id);
        cursor = page.cursor;
      } while (cursor);
      this.bySku = bySku;
      this.readAt = now;
    }
    const out = new Map<string, SquareLevelRef>();
    for (const key of keys) {
      const variationId = this.bySku.get(key.sku);
      const locationId = this.locations.get(key.location);
      if (variationId && locationId) out.set(keyOf(key), { variationId, locationId });
    }
    return out;
  }
}

export interface SquarePublishReport {
  requested: number;
  positions: number;
  notPublished: number;
  unmapped: number;
  /**
   * Positions the ERP has not reported yet (no ERP count): not published — the hub never guesses the
   * truth, and 0 would be wrong; the first ERP count of the position (the change feed, an opening
   * snapshot) publishes it.
   */
  unknownOnHand: number;
  unchanged: number;
  written: number;
  calls: number;
  /** 429 answers (the pacing should keep this 0 in steady state). */
  throttled: number;
  /** Calls retried after a 429, a 5xx or a network failure. */
  transientRetries: number;
  /** Changes Square refused for good (unknown variation or location), by error code. */
  refused: Record<string, number>;
  /** Store counts found above their target (an oversell window at the register). */
  oversellWindows: number;
  /** Source event → Square write of each written count (ms), when its source time is known. */
  lagMs: number[];
}

export interface SquarePublisherOptions {
  readonly api: SquareInventoryApi;
  readonly positions: PositionStore;
  readonly levels: SquareLevelResolver;
  readonly policy: InventoryPolicy;
  /** Changes per call (≤ 100, Square's limit). @default 100 */
  readonly batchSize?: number;
  /** Steady-state call rate per merchant. @default 10 */
  readonly maxCallsPerSecond?: number;
  /** Retries of one call after 429 / 5xx / network failures. @default 6 */
  readonly maxRetries?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly runId?: () => string;
  readonly random?: () => number;
}

const keyOf = (k: { sku: string; location: string }) => `${k.sku}|${k.location}`;

interface Row {
  readonly sku: string;
  readonly location: string;
  readonly ref: SquareLevelRef;
  /** The projection as last read (re-read right before each send). */
  position: Position;
  target: number;
}

/** What Square shows as far as the hub knows: the newer of its confirmed write and the last count observed. */
export function squareShows(position: Position): number | null {
  const confirmed = position.confirmed.pos;
  const observed = position.observed.pos;
  if (observed && observed.quantity !== null && (!confirmed || observed.sequence > confirmed.at))
    return observed.quantity;
  return confirmed?.quantity ?? null;
}

/** The POS target of a position: ERP on hand less unbooked sales and reservations; null = not published. */
export function posTargetOf(policy: InventoryPolicy, position: Position): number | null {
  return availableFor(
    policy,
    'pos',
    { sku: position.sku, location: position.location },
    { onHand: effectiveOnHand(position), committed: 0, reserved: Math.max(0, position.reserved) },
  );
}

export class SquareInventoryPublisher {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private rate: number;
  private lastCallAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: SquarePublisherOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.rate = options.maxCallsPerSecond ?? 10;
  }

  async publish(keys: readonly { sku: string; location: string }[]): Promise<SquarePublishReport> {
    const runId = this.options.runId?.() ?? randomUUID();
    const report: SquarePublishReport = {
      requested: keys.length,
      positions: 0,
      notPublished: 0,
      unmapped: 0,
      unknownOnHand: 0,
      unchanged: 0,
      written: 0,
      calls: 0,
      throttled: 0,
      transientRetries: 0,
      refused: {},
      oversellWindows: 0,
      lagMs: [],
    };
    const unique = [...new Map(keys.map((k) => [keyOf(k), { sku: k.sku, location: k.location }])).values()];
    report.positions = unique.length;
    const positions = await this.options.positions.getMany(unique);
    const refs = await this.options.levels.resolve(unique);
    const rows: Row[] = [];
    for (const position of positions) {
      if (position.erpSequence < 0) {
        report.unknownOnHand += 1;
        continue;
      }
      const target = posTargetOf(this.options.policy, position);
      if (target === null) {
        report.notPublished += 1;
        continue;
      }
      const ref = refs.get(keyOf(position));
      if (!ref) {
        report.unmapped += 1;
        continue;
      }
      const shows = squareShows(position);
      if (shows === target) {
        report.unchanged += 1;
        continue;
      }
      if (shows !== null && shows > target) report.oversellWindows += 1;
      rows.push({ sku: position.sku, location: position.location, ref, position, target });
    }
    const size = Math.min(this.options.batchSize ?? MAX_CHANGES_PER_CALL, MAX_CHANGES_PER_CALL);
    for (let start = 0, i = 0; start < rows.length; start += size, i += 1) {
      await this.sendBatch(rows.slice(start, start + size), `${runId}:${i}`, runId, report);
    }
    return report;
  }

  /**
   * Sends one batch; changes Square refuses for good (unknown ids) leave it and the rest is resent. Each
   * send (a retry after a 429 or 5xx too) is built after the pacing wait from the projection read then:
   * a sale projected during the wait lowers the count sent instead of being overwritten (no stale raise).
   */
  private async sendBatch(batch: Row[], batchId: string, runId: string, report: SquarePublishReport) {
    let rows = batch;
    const maxRetries = this.options.maxRetries ?? 6;
    // The time of a content, kept while the content is resent (a retry of the same counts is the same
    // request: same body, same key); new counts get the time they are first sent.
    let stamped: { content: string; occurredAt: string } | undefined;
    for (let transient = 0; ; ) {
      await this.pace();
      const fresh = await this.options.positions.getMany(
        rows.map((r) => ({ sku: r.sku, location: r.location })),
      );
      rows.forEach((row, i) => {
        const position = fresh[i];
        if (!position) return;
        row.position = position;
        row.target = posTargetOf(this.options.policy, position) ?? row.target;
      });
      rows = rows.filter((r) => squareShows(r.position) !== r.target);
      if (rows.length === 0) return;
      const content = JSON.stringify(rows.map((r) => [r.ref.variationId, r.ref.locationId, r.target]));
      if (stamped?.content !== content) stamped = { content, occurredAt: new Date(this.now()).toISOString() };
      const { occurredAt } = stamped;
      const changes = rows.map((r) => ({
        type: 'PHYSICAL_COUNT',
        physical_count: {
          reference_id: `omnihub-${runId}`,
          catalog_object_id: r.ref.variationId,
          state: 'IN_STOCK',
          location_id: r.ref.locationId,
          quantity: String(r.target),
          occurred_at: occurredAt,
        },
      }));
      // Same changes in the same batch of the same run → same key (≤ 128 characters: Square's limit).
      const key = `omnihub-pos-${createHash('sha256')
        .update(`${batchId}\n${JSON.stringify(changes)}`)
        .digest('hex')
        .slice(0, 48)}`;
      try {
        await this.options.api.batchChange({ idempotency_key: key, changes, ignore_unchanged_counts: true });
        report.calls += 1;
        this.rate = Math.min(this.options.maxCallsPerSecond ?? 10, this.rate + 0.5);
      } catch (error) {
        if (error instanceof SquareUnavailableError) {
          if (transient >= maxRetries) throw error;
          transient += 1;
          report.transientRetries += 1;
          if (error.status === 429) {
            report.throttled += 1;
            this.rate = Math.max(0.5, this.rate / 2);
          }
          const backoff = Math.min(10_000, 200 * 2 ** (transient - 1)) * (0.5 + this.random() / 2);
          await this.sleep(error.retryAfterMs ?? backoff);
          continue;
        }
        if (!(error instanceof SquareRequestError)) throw error;
        const refused = new Set<number>();
        for (const e of error.errors) {
          const index = /^changes\[(\d+)\]/.exec(e.field ?? '')?.[1];
          if (index === undefined || !['INVALID_VALUE', 'NOT_FOUND'].includes(e.code)) throw error;
          refused.add(Number(index));
          report.refused[e.code] = (report.refused[e.code] ?? 0) + 1;
        }
        if (refused.size === 0) throw error;
        rows = rows.filter((_, i) => !refused.has(i));
        continue;
      }
      const at = this.now();
      for (let start = 0; start < rows.length; start += 25) {
        await Promise.all(
          rows.slice(start, start + 25).map((row) =>
            this.options.positions.recordChannelState(row, {
              channel: 'pos',
              quantity: row.target,
              at,
              published: { quantity: row.target, at, key },
            }),
          ),
        );
      }
      report.written += rows.length;
      for (const row of rows)
        if (row.position.changedAt !== undefined) report.lagMs.push(Math.max(0, at - row.position.changedAt));
      return;
    }
  }

  /** Waits until the next call is due at the current rate (lowered on 429, raised back on success). */
  private async pace(): Promise<void> {
    const wait = this.lastCallAt + 1000 / this.rate - this.now();
    if (wait > 0) await this.sleep(wait);
    this.lastCallAt = this.now();
  }
}
