import * as z from 'zod';
import type { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { HubError } from '../errors.ts';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { toUtc } from '../events/common.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import { orderMovementId } from './projection.ts';

/**
 * The ERP's inventory change feed, polled with an id cursor.
 *
 * NetSuite has no outbound webhook for record changes, so the account runs a user-event script that
 * writes one outbox custom record `customrecord_oh_change` per change (see sandbox/README.md, "Change
 * feed"); the hub reads it through SuiteQL in id order, `WHERE id > :cursor ORDER BY id`, one page at a
 * time. An on-hand entry carries the quantity **after** the change (absolute), so it becomes an
 * `InventoryCounted` with `sequence` = the entry id: re-reading a page, or a duplicate delivery, is a
 * stale count the projection ignores. An entry caused by a cash sale also names the channel movement
 * the sale books (`books` = the cash sale's external id × SKU, see {@link orderMovementId}), so the
 * projection drops the pending POS sale in the same write that takes the ERP count which includes it.
 *
 * The cursor advances only after the page's events are on the bus (the caller's `publish` resolved):
 * a crash in between re-reads the page, never skips it.
 */

/** The part of the NetSuite client the poller uses. */
export type SuiteQlRequester = Pick<NetSuiteClient, 'request'>;

const SUITEQL_PATH = '/services/rest/query/v1/suiteql';

/** SuiteQL's page size maximum. */
export const MAX_PAGE = 1000;

const Text = z.union([z.string(), z.number()]).transform(String);
const Int = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = Number(v);
  if (!Number.isInteger(n)) {
    ctx.addIssue({ code: 'custom', message: `not an integer: ${v}` });
    return z.NEVER;
  }
  return n;
});

const ChangeRowSchema = z.object({
  id: Int,
  custrecord_oh_item: Text,
  custrecord_oh_sku: Text,
  custrecord_oh_location: Text,
  custrecord_oh_quantity: Int,
  custrecord_oh_source: Text.optional(),
  created: Text,
});

const PageSchema = z.object({ items: z.array(z.record(z.string(), z.unknown())), hasMore: z.boolean() });

/** The change feed answered something the poller cannot read: retry later, or fix the script. */
export class ChangeFeedError extends HubError {
  readonly code = 'ERP_CHANGE_FEED_UNREADABLE';
  readonly retryable = true;
}

/** Where the poller stands (the last entry id whose events are on the bus). */
export interface CursorStore {
  read(): Promise<number>;
  /** Moves the cursor from `from` to `to`; false when another poller moved it first. */
  advance(from: number, to: number): Promise<boolean>;
}

export interface PollOptions {
  readonly client: SuiteQlRequester;
  /** The ERP account id (event origin and ids). */
  readonly account: string;
  readonly cursor: CursorStore;
  /** Puts the events on the bus; resolves once all are accepted. */
  readonly publish: (events: readonly CanonicalEvent<'InventoryCounted'>[]) => Promise<void>;
  /** Entries per SuiteQL page. @default 1000 */
  readonly pageSize?: number;
  /** Pages per poll (a scheduled invocation must end well within its timeout). @default 20 */
  readonly maxPages?: number;
  /** Event ids and times. */
  readonly now?: () => number;
}

export interface PollReport {
  readonly pages: number;
  readonly entries: number;
  readonly events: number;
  readonly from: number;
  readonly to: number;
  /** True when the feed had more than `maxPages` pages: poll again at once. */
  readonly more: boolean;
  /** True when another poller moved the cursor (this one stopped; its events were duplicates). */
  readonly lostCursor: boolean;
}

async function suiteQl(
  client: SuiteQlRequester,
  q: string,
  limit: number,
): Promise<z.infer<typeof PageSchema>> {
  const res = await client.request({
    method: 'POST',
    path: SUITEQL_PATH,
    query: { limit: String(limit), offset: '0' },
    headers: { prefer: 'transient' },
    body: { q },
  });
  const page = PageSchema.safeParse(res.body);
  if (!page.success) throw new ChangeFeedError(`SuiteQL ${q}: unexpected answer`);
  return page.data;
}

/** External ids of cash sales by internal id (the POS orders they book). */
async function cashSaleExternalIds(
  client: SuiteQlRequester,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let start = 0; start < ids.length; start += MAX_PAGE) {
    const chunk = ids.slice(start, start + MAX_PAGE);
    if (!chunk.every((id) => /^\d+$/.test(id)))
      throw new ChangeFeedError(`not internal ids: ${chunk.join(',')}`);
    const page = await suiteQl(
      client,
      `SELECT id, externalid FROM transaction WHERE recordtype = 'cashsale' AND id IN (${chunk.join(', ')})`,
      MAX_PAGE,
    );
    for (const row of page.items) {
      const parsed = z.object({ id: Text, externalid: Text.optional() }).safeParse(row);
      if (parsed.success && parsed.data.externalid) out.set(parsed.data.id, parsed.data.externalid);
    }
  }
  return out;
}

/**
 * One page of on-hand changes after `afterId`, as `InventoryCounted` events (ERP location ids, ERP
 * item ids and SKUs; `sequence` = entry id). `lastId` is the last entry read (the next cursor).
 */
export async function readOnHandChanges(
  client: SuiteQlRequester,
  account: string,
  afterId: number,
  options: { pageSize?: number; now?: () => number } = {},
): Promise<{
  events: CanonicalEvent<'InventoryCounted'>[];
  lastId: number;
  entries: number;
  hasMore: boolean;
}> {
  if (!Number.isInteger(afterId) || afterId < 0) throw new ChangeFeedError(`bad cursor ${afterId}`);
  const pageSize = Math.min(options.pageSize ?? MAX_PAGE, MAX_PAGE);
  const page = await suiteQl(
    client,
    `SELECT id, custrecord_oh_item, custrecord_oh_sku, custrecord_oh_location, custrecord_oh_quantity, custrecord_oh_source, created FROM customrecord_oh_change WHERE id > ${afterId} AND custrecord_oh_kind = 'onhand' ORDER BY id`,
    pageSize,
  );
  const rows = page.items.map((item) => {
    const parsed = ChangeRowSchema.safeParse(item);
    if (!parsed.success)
      throw new ChangeFeedError(
        `change feed entry ${JSON.stringify(item)}: ${parsed.error.issues[0]?.message}`,
      );
    return parsed.data;
  });
  const cashSales = rows
    .map((r) => /^cashSale:(\d+)$/.exec(r.custrecord_oh_source ?? '')?.[1])
    .filter((id): id is string => id !== undefined);
  const externalIds = await cashSaleExternalIds(client, [...new Set(cashSales)]);
  const now = options.now ?? Date.now;
  const events = rows.map((r) => {
    const cashSale = /^cashSale:(\d+)$/.exec(r.custrecord_oh_source ?? '')?.[1];
    const externalId = cashSale ? externalIds.get(cashSale) : undefined;
    return buildEvent(
      'InventoryCounted',
      EVENT_SOURCES.erp,
      {
        // Stable per entry: a re-read page republishes the same ids.
        eventId: deterministicUuid('erp-change', account, String(r.id)),
        transactionId: `erp-change-${account}-${r.id}`,
        idempotencyKey: `erp#${account}#onhand#${r.id}`,
        occurredAt: toUtc(r.created),
        receivedAt: new Date(now()).toISOString(),
        origin: {
          system: 'erp',
          account,
          topic: 'customrecord_oh_change',
          resourceId: String(r.id),
          ...(r.custrecord_oh_source ? { sourceEventId: r.custrecord_oh_source } : {}),
        },
      },
      {
        item: { sku: r.custrecord_oh_sku, erpItemId: r.custrecord_oh_item },
        location: { system: 'erp', id: r.custrecord_oh_location },
        quantityName: 'on_hand',
        quantity: r.custrecord_oh_quantity,
        sequence: r.id,
        countedAt: toUtc(r.created),
        ...(externalId ? { books: orderMovementId(externalId, r.custrecord_oh_sku) } : {}),
      },
    );
  });
  const lastId = rows.at(-1)?.id ?? afterId;
  return { events, lastId, entries: rows.length, hasMore: page.hasMore };
}

/**
 * One poll: pages of on-hand changes after the cursor, each published then committed to the cursor,
 * until the feed is drained or `maxPages` pages were read.
 */
export async function pollErpChanges(options: PollOptions): Promise<PollReport> {
  const from = await options.cursor.read();
  let cursor = from;
  let pages = 0;
  let entries = 0;
  let events = 0;
  for (;;) {
    if (pages >= (options.maxPages ?? 20))
      return { pages, entries, events, from, to: cursor, more: true, lostCursor: false };
    const page = await readOnHandChanges(options.client, options.account, cursor, {
      ...(options.pageSize !== undefined ? { pageSize: options.pageSize } : {}),
      ...(options.now ? { now: options.now } : {}),
    });
    pages += 1;
    entries += page.entries;
    if (page.events.length > 0) await options.publish(page.events);
    events += page.events.length;
    if (page.lastId !== cursor) {
      if (!(await options.cursor.advance(cursor, page.lastId)))
        return { pages, entries, events, from, to: cursor, more: false, lostCursor: true };
      cursor = page.lastId;
    }
    if (!page.hasMore) return { pages, entries, events, from, to: cursor, more: false, lostCursor: false };
  }
}
