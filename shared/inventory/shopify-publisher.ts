import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { graphqlPath } from '../connectors/shopify/api-version.ts';
import { HubError } from '../errors.ts';
import type { CostPacer, ThrottleStatus } from './cost-pacer.ts';
import { availableFor, type InventoryPolicy, type PendingPublish, publishOrder } from './policy.ts';
import type { ChannelState, Position } from './projection.ts';
import { effectiveOnHand } from './projection.ts';
import {
  INVENTORY_ITEMS_BY_SKU_QUERY,
  INVENTORY_LEVELS_QUERY,
  INVENTORY_SET_AVAILABLE_MUTATION,
  inventoryLevelGid,
} from './shopify-documents.ts';

/**
 * Publishes online availability to Shopify: coalesced, batched, compare-and-set, idempotent, paced.
 *
 * 1. **Coalesce**: the keys to publish are de-duplicated per SKU × location and the *current*
 *    projection is read for each — whatever happened in between, the latest state wins, and a burst of
 *    a thousand movements of one SKU becomes one quantity.
 * 2. **Compute** the target with the policy ({@link availableFor}, online channel); locations the policy
 *    does not publish online are not touched; a target equal to what Shopify holds is not sent.
 * 3. **Base**: each quantity is sent with `changeFromQuantity` = what Shopify was last known to hold
 *    (the projection's `confirmed`). Levels without a known base are read first (with Shopify's
 *    `committed`, which the target subtracts).
 * 4. **Send** `inventorySetQuantities` with up to 250 quantities (Shopify's input array limit), in
 *    publishing priority (low stock and fast movers first), each call paced by the {@link CostPacer}
 *    and carrying an `@idempotent` key derived from its content and this run, so a retry after a 5xx
 *    or a lost answer is applied once.
 * 5. **Conflict**: Shopify applies a call all or nothing; `CHANGE_FROM_QUANTITY_STALE` names the stale
 *    rows — a Shopify-side sale since the base. They are re-read (available and committed), recomputed
 *    and the batch is sent again: a newer Shopify-side sale is never overwritten.
 * 6. **Record** what was written (quantity, key, time) as the new base and the last published value,
 *    which also lets the webhook echo of the write be recognised.
 */

/** The part of the projection repository the publisher uses (tests pass an in-memory one). */
export interface PositionStore {
  getMany(keys: readonly { sku: string; location: string }[]): Promise<Position[]>;
  recordChannelState(key: { sku: string; location: string }, state: ChannelState): Promise<boolean>;
}

/** Shopify's ids of one SKU × hub location. */
export interface ShopifyLevelRef {
  readonly inventoryItemId: string;
  readonly locationId: string;
}

/** Resolves SKU × hub location → Shopify ids (absent from the map: not mapped, not published). */
export interface ShopifyLevelResolver {
  resolve(keys: readonly { sku: string; location: string }[]): Promise<Map<string, ShopifyLevelRef>>;
}

/** One GraphQL answer, as the publisher reads it. */
export interface GraphqlAnswer {
  readonly data: Record<string, unknown> | null;
  readonly errors: readonly { message: string; code?: string }[];
  readonly requestedQueryCost?: number;
  readonly throttleStatus?: ThrottleStatus;
}

/** Sends one document; throws {@link ShopifyUnavailableError} for answers worth retrying as they are. */
export type ShopifyGraphql = (document: string, variables: Record<string, unknown>) => Promise<GraphqlAnswer>;

/** Shopify did not answer usefully (network, 429, 5xx): the same request may succeed later. */
export class ShopifyUnavailableError extends HubError {
  readonly code = 'SHOPIFY_UNAVAILABLE';
  readonly retryable = true;
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** Shopify refused a request in a way retrying cannot fix (a bug, a revoked token, a schema change). */
export class ShopifyRequestError extends HubError {
  readonly code = 'SHOPIFY_REQUEST_FAILED';
  readonly retryable = false;
}

const AnswerSchema = z.object({
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
          throttleStatus: z.object({
            maximumAvailable: z.number(),
            currentlyAvailable: z.number(),
            restoreRate: z.number(),
          }),
        })
        .optional(),
    })
    .optional(),
});

/** A shop's Admin API over fetch: `baseUrl` is `https://<shop>.myshopify.com` (or a sandbox mount). */
export function shopifyGraphql(shop: {
  readonly baseUrl: string;
  readonly accessToken: string;
  readonly fetch?: typeof fetch;
}): ShopifyGraphql {
  const url = `${shop.baseUrl.replace(/\/+$/, '')}${graphqlPath()}`;
  const fetchFn = shop.fetch ?? fetch;
  return async (document, variables) => {
    let res: Response;
    try {
      res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shopify-access-token': shop.accessToken },
        body: JSON.stringify({ query: document, variables }),
      });
    } catch (error) {
      throw new ShopifyUnavailableError(`Shopify unreachable: ${(error as Error).message}`);
    }
    if (res.status === 429 || res.status >= 500) {
      const after = res.headers.get('retry-after');
      const retryAfterMs = after && /^\d+$/.test(after.trim()) ? Number(after) * 1000 : undefined;
      throw new ShopifyUnavailableError(`Shopify answered ${res.status}`, retryAfterMs);
    }
    if (res.status !== 200)
      throw new ShopifyRequestError(`Shopify answered ${res.status}: ${await res.text()}`);
    const parsed = AnswerSchema.safeParse(await res.json());
    if (!parsed.success) throw new ShopifyUnavailableError('Shopify answered an unreadable body');
    const cost = parsed.data.extensions?.cost;
    return {
      data: parsed.data.data ?? null,
      errors: (parsed.data.errors ?? []).map((e) => ({
        message: e.message,
        ...(e.extensions?.code ? { code: e.extensions.code } : {}),
      })),
      ...(cost ? { requestedQueryCost: cost.requestedQueryCost, throttleStatus: cost.throttleStatus } : {}),
    };
  };
}

/** What one publish did (also the metrics it emits). */
export interface PublishReport {
  /** Keys asked for, and distinct SKU × locations after coalescing. */
  requested: number;
  positions: number;
  /** Positions not published online by the policy, or without Shopify ids. */
  notPublished: number;
  unmapped: number;
  /**
   * Positions the ERP has not reported yet (no ERP count): not published — the hub never guesses the
   * truth, and 0 would be wrong; the first ERP count of the position (the change feed, an opening
   * snapshot) publishes it.
   */
  unknownOnHand: number;
  /** Already at their target in Shopify. */
  unchanged: number;
  /** Quantities written, and the mutation calls that wrote them. */
  written: number;
  calls: number;
  /** Levels read (unknown or stale base) and the query calls that read them. */
  read: number;
  readCalls: number;
  /** Quantities Shopify refused as stale (a Shopify-side change since the base). */
  casConflicts: number;
  /** Rows left for a later publish after `maxCasAttempts` conflicts in a row. */
  casGaveUp: number;
  /** `THROTTLED` answers (the pacer should make this 0 in steady state). */
  throttled: number;
  /** Calls retried after a 429, a 5xx or a network failure. */
  transientRetries: number;
  /** Rows Shopify refused for good, by user error code. */
  refused: Record<string, number>;
  /**
   * Levels Shopify showed above their target when the publish found them (an oversell window: the
   * channel could sell units the truth no longer has, until this write).
   */
  oversellWindows: number;
  /** Source event → Shopify write of each written level (ms), when its source time is known. */
  lagMs: number[];
}

export interface ShopifyPublisherOptions {
  readonly graphql: ShopifyGraphql;
  readonly pacer: CostPacer;
  readonly positions: PositionStore;
  readonly levels: ShopifyLevelResolver;
  readonly policy: InventoryPolicy;
  /** The item's category for safety-stock rules, when known. */
  readonly categoryOf?: (sku: string) => string | undefined;
  /** Calls in flight at once (the pacer still decides when each goes). @default 4 */
  readonly maxInFlight?: number;
  /** Quantities per call; Shopify's input array limit is 250. @default 250 */
  readonly batchSize?: number;
  /** Sends of one batch after stale rows before they are left for the next publish. @default 4 */
  readonly maxCasAttempts?: number;
  /** Retries of one call after 429 / 5xx / network failures / `THROTTLED`. @default 6 */
  readonly maxRetries?: number;
  /** `reason` of the writes (one of Shopify's inventory reasons). @default 'correction' */
  readonly reason?: string;
  /** `referenceDocumentUri` prefix: `<prefix>/<run id>`. @default 'gid://omnihub/InventoryPublish' */
  readonly referencePrefix?: string;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Run id (idempotency keys and the reference document). @default a random UUID per publish */
  readonly runId?: () => string;
}

/**
 * The compare-and-set base of a level: what Shopify was last known to hold. When an
 * `inventory_levels/update` newer than that knowledge showed another value, Shopify changed on its
 * side (an online order moved units to `committed`, an admin edit): the base is unknown, so the level
 * is re-read with its `committed` before the target is computed — never raised from a stale
 * `committed` over a Shopify-side sale.
 */
export function shopifyBase(position: Position): number | null {
  const confirmed = position.confirmed.shopify;
  const observed = position.observed.shopify;
  if (
    observed &&
    (!confirmed || (observed.sequence > confirmed.at && observed.quantity !== confirmed.quantity))
  )
    return null;
  return confirmed?.quantity ?? null;
}

/** Shopify's maximum input array size (https://shopify.dev/docs/api/usage/limits#input-limits). */
export const MAX_QUANTITIES_PER_CALL = 250;

/** A mutation's base cost; `inventorySetQuantities` selects no connection in its payload. */
const MUTATION_COST = 10;

interface Row {
  readonly sku: string;
  readonly location: string;
  readonly ref: ShopifyLevelRef;
  /** The projection as last read (re-read right before each send, see `sendBatch`). */
  position: Position;
  /** What Shopify holds, as far as the hub knows. */
  base: number | null;
  committed: number;
  target: number;
  readonly since: number;
}

/** A SKU × location as the publisher keys it (also the key of `publish`'s `reread`). */
export const keyOf = (k: { sku: string; location: string }) => `${k.sku}|${k.location}`;

/** Rows refused for good by these codes are dropped (and counted); anything else fails the batch. */
const PERMANENT_ROW_ERRORS = new Set([
  'INVALID_INVENTORY_ITEM',
  'INVALID_LOCATION',
  'ITEM_NOT_STOCKED_AT_LOCATION',
  'NON_MUTABLE_INVENTORY_ITEM',
  'INVALID_QUANTITY_TOO_HIGH',
]);

export class ShopifyInventoryPublisher {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ShopifyPublisherOptions) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Publishes the current availability of `keys` (any order, duplicates allowed). Keys in `reread` are read
   * from Shopify before anything is decided, whatever the hub last wrote: the reconciler saw Shopify hold
   * another value (an admin edit whose webhook never came), so the last write is no base to trust.
   */
  async publish(
    keys: readonly { sku: string; location: string }[],
    options: { readonly reread?: ReadonlySet<string> } = {},
  ): Promise<PublishReport> {
    const runId = this.options.runId?.() ?? randomUUID();
    const report: PublishReport = {
      requested: keys.length,
      positions: 0,
      notPublished: 0,
      unmapped: 0,
      unknownOnHand: 0,
      unchanged: 0,
      written: 0,
      calls: 0,
      read: 0,
      readCalls: 0,
      casConflicts: 0,
      casGaveUp: 0,
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
      const ref = refs.get(keyOf(position));
      if (this.targetOf(position, position.committed) === null) {
        report.notPublished += 1;
        continue;
      }
      if (!ref) {
        report.unmapped += 1;
        continue;
      }
      const base = options.reread?.has(keyOf(position)) ? null : shopifyBase(position);
      rows.push({
        sku: position.sku,
        location: position.location,
        ref,
        position,
        base,
        committed: position.committed,
        target: this.targetOf(position, position.committed) ?? 0,
        since: position.published.shopify?.at ?? 0,
      });
    }
    // Levels without a known base: read what Shopify holds (and its committed) before writing.
    await this.refresh(
      rows.filter((r) => r.base === null),
      report,
    );
    const toSend = publishOrder(
      this.options.policy,
      rows
        .filter((r) => {
          if (r.base === r.target) report.unchanged += 1;
          if (r.base !== null && r.base > r.target) report.oversellWindows += 1;
          return r.base !== null && r.base !== r.target;
        })
        .map((r) => ({ ...r, current: r.base }) as Row & PendingPublish),
    );
    const size = Math.min(this.options.batchSize ?? MAX_QUANTITIES_PER_CALL, MAX_QUANTITIES_PER_CALL);
    const batches: Row[][] = [];
    for (let start = 0; start < toSend.length; start += size) batches.push(toSend.slice(start, start + size));
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < batches.length; i = next++) {
        await this.sendBatch(batches[i] ?? [], `${runId}:${i}`, runId, report);
      }
    };
    await Promise.all(
      Array.from({ length: Math.max(1, Math.min(this.options.maxInFlight ?? 4, batches.length)) }, worker),
    );
    return report;
  }

  /** The online target of a position with Shopify's `committed`; null when not published online. */
  private targetOf(position: Position, committed: number): number | null {
    const category = this.options.categoryOf?.(position.sku);
    return availableFor(
      this.options.policy,
      'online',
      { sku: position.sku, location: position.location, ...(category ? { category } : {}) },
      { onHand: effectiveOnHand(position), committed, reserved: Math.max(0, position.reserved) },
    );
  }

  /**
   * Sends one batch until Shopify takes it: stale rows are re-read and recomputed between sends (rows
   * that reach their target by themselves leave the batch); rows Shopify refuses for good are dropped.
   */
  private async sendBatch(
    batch: Row[],
    batchId: string,
    runId: string,
    report: PublishReport,
  ): Promise<void> {
    let rows = batch;
    for (let attempt = 0; rows.length > 0; attempt += 1) {
      if (attempt >= (this.options.maxCasAttempts ?? 4)) {
        report.casGaveUp += rows.length;
        return;
      }
      let sent: { rows: Row[]; key: string } | undefined;
      // Built once the pacer grants the points, from the projection read then: the pacer can hold a call
      // for seconds, and a POS sale projected meanwhile must lower the quantity sent, never be
      // overwritten by the availability read before the wait (no stale raise).
      const answer = await this.call(
        INVENTORY_SET_AVAILABLE_MUTATION,
        async () => {
          await this.reread(rows);
          rows = rows.filter((r) => r.target !== r.base);
          if (rows.length === 0) return undefined;
          const input = {
            name: 'available',
            reason: this.options.reason ?? 'correction',
            referenceDocumentUri: `${this.options.referencePrefix ?? 'gid://omnihub/InventoryPublish'}/${runId}`,
            quantities: rows.map((r) => ({
              inventoryItemId: r.ref.inventoryItemId,
              locationId: r.ref.locationId,
              quantity: r.target,
              changeFromQuantity: r.base,
            })),
          };
          // Same content in the same run → same key: a resend after a lost answer is applied once.
          const key = `omnihub-inv-${createHash('sha256')
            .update(`${batchId}\n${JSON.stringify(input)}`)
            .digest('hex')
            .slice(0, 40)}`;
          sent = { rows, key };
          return { input, key };
        },
        MUTATION_COST,
        report,
      );
      if (answer === undefined || sent === undefined) return;
      rows = (sent as { rows: Row[] }).rows;
      const key = (sent as { key: string }).key;
      report.calls += 1;
      const payload = answer.data?.inventorySetQuantities as
        | { userErrors?: { code?: string | null; field?: string[] | null; message: string }[] }
        | null
        | undefined;
      const userErrors = payload?.userErrors ?? [];
      if (userErrors.length === 0) {
        await this.recordWritten(rows, key, report);
        return;
      }
      const stale = new Set<number>();
      const refused = new Set<number>();
      for (const error of userErrors) {
        const index =
          error.field?.[0] === 'input' && error.field[1] === 'quantities' ? Number(error.field[2]) : NaN;
        if (error.code === 'IDEMPOTENCY_CONCURRENT_REQUEST') {
          // The same key is still running at Shopify (our earlier, unanswered send): ask again shortly.
          await this.sleep(250);
          attempt -= 1;
          stale.clear();
          refused.clear();
          break;
        }
        if (error.code === 'CHANGE_FROM_QUANTITY_STALE' && Number.isInteger(index)) stale.add(index);
        else if (error.code && PERMANENT_ROW_ERRORS.has(error.code) && Number.isInteger(index)) {
          refused.add(index);
          report.refused[error.code] = (report.refused[error.code] ?? 0) + 1;
        } else {
          throw new ShopifyRequestError(
            `inventorySetQuantities refused: ${userErrors.map((e) => `${e.code}: ${e.message}`).join('; ')}`,
          );
        }
      }
      report.casConflicts += stale.size;
      const staleRows = rows.filter((_, i) => stale.has(i));
      await this.refresh(staleRows, report);
      rows = rows.filter((r, i) => !refused.has(i) && !(stale.has(i) && r.base === r.target));
    }
  }

  /** Re-reads the projection of `rows` and recomputes their targets (with the committed each row holds). */
  private async reread(rows: Row[]): Promise<void> {
    const fresh = await this.options.positions.getMany(
      rows.map((r) => ({ sku: r.sku, location: r.location })),
    );
    rows.forEach((row, i) => {
      const position = fresh[i];
      if (!position) return;
      row.position = position;
      row.target = this.targetOf(position, row.committed) ?? row.target;
    });
  }

  /**
   * Reads `available` and `committed` of `rows` from Shopify (≤ 250 a call), makes them the rows' base
   * and committed, recomputes their targets and records what was read in the projection.
   */
  private async refresh(rows: Row[], report: PublishReport): Promise<void> {
    for (let start = 0; start < rows.length; start += MAX_QUANTITIES_PER_CALL) {
      const chunk = rows.slice(start, start + MAX_QUANTITIES_PER_CALL);
      const ids = chunk.map((r) => inventoryLevelGid(r.ref.locationId, r.ref.inventoryItemId));
      const answer = await this.call(INVENTORY_LEVELS_QUERY, async () => ({ ids }), 2 * ids.length, report);
      if (!answer) continue;
      report.readCalls += 1;
      const nodes =
        (answer.data?.nodes as ({ quantities?: { name: string; quantity: number }[] } | null)[]) ?? [];
      const at = this.now();
      await Promise.all(
        chunk.map(async (row, i) => {
          const quantities = nodes[i]?.quantities;
          if (!quantities) return; // Not stocked there: left unchanged; base stays unknown.
          const available = quantities.find((q) => q.name === 'available')?.quantity ?? 0;
          const committed = quantities.find((q) => q.name === 'committed')?.quantity ?? 0;
          row.base = available;
          row.committed = committed;
          row.target = this.targetOf(row.position, committed) ?? row.target;
          report.read += 1;
          await this.options.positions.recordChannelState(row, {
            channel: 'shopify',
            quantity: available,
            committed,
            at,
          });
        }),
      );
    }
  }

  private async recordWritten(rows: readonly Row[], key: string, report: PublishReport): Promise<void> {
    const at = this.now();
    for (let start = 0; start < rows.length; start += 25) {
      await Promise.all(
        rows.slice(start, start + 25).map((row) =>
          this.options.positions.recordChannelState(row, {
            channel: 'shopify',
            quantity: row.target,
            committed: row.committed,
            at,
            published: { quantity: row.target, at, key },
          }),
        ),
      );
    }
    report.written += rows.length;
    for (const row of rows)
      if (row.position.changedAt !== undefined) report.lagMs.push(Math.max(0, at - row.position.changedAt));
  }

  /**
   * One paced call: waits for the points, builds the variables (`build`, after the wait: undefined =
   * nothing left to send), sends, settles the pacer with Shopify's bucket. Retried after `THROTTLED`,
   * 429, 5xx and network failures, the variables built again each time (the same content gives the same
   * idempotency key, so a resend after a lost answer is applied once).
   */
  private async call(
    document: string,
    build: () => Promise<Record<string, unknown> | undefined>,
    cost: number,
    report: PublishReport,
  ): Promise<GraphqlAnswer | undefined> {
    const maxRetries = this.options.maxRetries ?? 6;
    for (let attempt = 0; ; attempt += 1) {
      const grant = await this.options.pacer.acquire(cost);
      let answer: GraphqlAnswer;
      try {
        const variables = await build();
        if (variables === undefined) {
          grant.settle({});
          return undefined;
        }
        answer = await this.options.graphql(document, variables);
      } catch (error) {
        grant.settle({});
        if (!(error instanceof ShopifyUnavailableError) || attempt >= maxRetries) throw error;
        report.transientRetries += 1;
        await this.sleep(error.retryAfterMs ?? Math.min(10_000, 200 * 2 ** attempt));
        continue;
      }
      grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
      if (answer.errors.some((e) => e.code === 'THROTTLED')) {
        report.throttled += 1;
        if (attempt >= maxRetries) throw new ShopifyUnavailableError('Shopify kept answering THROTTLED');
        continue; // The pacer now knows the bucket and waits for the points.
      }
      if (answer.errors.length > 0)
        throw new ShopifyRequestError(`Shopify refused: ${answer.errors.map((e) => e.message).join('; ')}`);
      return answer;
    }
  }
}

/**
 * Resolves SKU × hub location to Shopify ids: locations from a fixed map (the location mappings,
 * inverted: hub location → Shopify location GID), inventory items by SKU through
 * {@link INVENTORY_ITEMS_BY_SKU_QUERY} (50 SKUs a query, cached for the life of the instance).
 */
/** Requested cost of one page of {@link INVENTORY_ITEMS_BY_SKU_QUERY}: 2 + 250 × (variant + item). */
const ITEMS_PAGE_COST = 502;

export class ShopifyLevelDirectory implements ShopifyLevelResolver {
  private readonly items = new Map<string, string | null>();

  constructor(
    private readonly graphql: ShopifyGraphql,
    private readonly pacer: CostPacer,
    private readonly locations: ReadonlyMap<string, string>,
    /**
     * Told each SKU → inventory item pair found (before it is cached), so the projector can read
     * `inventory_levels/update`, which names only the item (see ShopifyItemSkuRepository).
     */
    private readonly onResolved?: (pairs: { inventoryItemId: string; sku: string }[]) => Promise<void>,
  ) {}

  async resolve(keys: readonly { sku: string; location: string }[]): Promise<Map<string, ShopifyLevelRef>> {
    const missing = [...new Set(keys.map((k) => k.sku))].filter((sku) => !this.items.has(sku));
    for (let start = 0; start < missing.length; start += 50) {
      const skus = missing.slice(start, start + 50);
      // Cached only once every page was read: a lookup that failed half way (a 5xx) must not leave its
      // SKUs cached as unknown, or the redelivered batch would drop their updates as unmapped.
      const found = new Map<string, string>();
      const query = skus.map((sku) => `sku:${JSON.stringify(sku)}`).join(' OR ');
      let after: string | null = null;
      for (let throttled = 0; ; ) {
        const grant = await this.pacer.acquire(ITEMS_PAGE_COST);
        let answer: Awaited<ReturnType<ShopifyGraphql>>;
        try {
          answer = await this.graphql(INVENTORY_ITEMS_BY_SKU_QUERY, { query, after });
        } catch (error) {
          // The call is over: release its place in the pacer (a cold pacer waits for none in flight).
          grant.settle({});
          throw error;
        }
        grant.settle(answer.throttleStatus ? { throttleStatus: answer.throttleStatus } : {});
        if (answer.errors.some((e) => e.code === 'THROTTLED')) {
          // The pacer now knows the bucket and waits for the points; a bucket that never holds a page fails.
          if (++throttled > 6) throw new ShopifyUnavailableError('Shopify kept answering THROTTLED');
          continue;
        }
        if (answer.errors.length > 0)
          throw new ShopifyRequestError(`Shopify refused: ${answer.errors.map((e) => e.message).join('; ')}`);
        const page = answer.data?.productVariants as
          | {
              pageInfo: { hasNextPage: boolean; endCursor: string | null };
              nodes: { sku: string | null; inventoryItem: { id: string } }[];
            }
          | undefined;
        for (const node of page?.nodes ?? []) if (node.sku) found.set(node.sku, node.inventoryItem.id);
        after = page?.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
        if (after === null) break;
      }
      await this.onResolved?.([...found].map(([sku, inventoryItemId]) => ({ inventoryItemId, sku })));
      for (const sku of skus) this.items.set(sku, found.get(sku) ?? null);
    }
    const out = new Map<string, ShopifyLevelRef>();
    for (const key of keys) {
      const inventoryItemId = this.items.get(key.sku);
      const locationId = this.locations.get(key.location);
      if (inventoryItemId && locationId) out.set(keyOf(key), { inventoryItemId, locationId });
    }
    return out;
  }
}
