import * as z from 'zod';
import { buildEvent, type CanonicalEvent } from '../events/catalog.ts';
import { toUtc } from '../events/common.ts';
import { deterministicUuid, EVENT_SOURCES } from '../events/envelope.ts';
import { money } from '../events/money.ts';
import { ChangeFeedError, MAX_PAGE, type SuiteQlRequester } from '../inventory/erp-change-feed.ts';

/**
 * The ERP change feed's `price` entries (the same outbox `customrecord_oh_change` the inventory poller
 * reads, with its own cursor): each entry carries the item's base price *after* the change, so it
 * becomes a `PriceChanged` for the list price with `version` = the entry id — a re-read page or a
 * duplicate is a stale version the price books ignore, and a newer entry always wins.
 *
 * The base price is NetSuite's decimal in the account's base currency (sandbox/README.md, "Change
 * feed"); it is converted to integer minor units without floating point ({@link money}). Promotions
 * with their windows come from the ERP's promotion records (not in the change feed yet) or from
 * `PriceChanged` events put on the bus by another producer; both land in the same price books.
 */

const SUITEQL_PATH = '/services/rest/query/v1/suiteql';

const Text = z.union([z.string(), z.number()]).transform(String);
const PriceRowSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(Number).pipe(z.number().int().positive()),
  custrecord_oh_item: Text,
  custrecord_oh_sku: Text,
  custrecord_oh_price: z.union([z.string(), z.number()]),
  created: Text,
});

export interface PriceFeedOptions {
  /** The ERP account (event origin and ids). */
  readonly account: string;
  /** The account's base currency (ISO 4217). */
  readonly currency: string;
  /** The price list list prices go to (a market: `online-USD`). */
  readonly priceList: string;
  readonly pageSize?: number;
  readonly now?: () => number;
}

/** One page of price changes after `afterId` as `PriceChanged` events; `lastId` is the next cursor. */
export async function readPriceChanges(
  client: SuiteQlRequester,
  afterId: number,
  options: PriceFeedOptions,
): Promise<{ events: CanonicalEvent<'PriceChanged'>[]; lastId: number; hasMore: boolean }> {
  if (!Number.isInteger(afterId) || afterId < 0) throw new ChangeFeedError(`bad cursor ${afterId}`);
  const limit = Math.min(options.pageSize ?? MAX_PAGE, MAX_PAGE);
  const res = await client.request({
    method: 'POST',
    path: SUITEQL_PATH,
    query: { limit: String(limit), offset: '0' },
    headers: { prefer: 'transient' },
    body: {
      q: `SELECT id, custrecord_oh_item, custrecord_oh_sku, custrecord_oh_price, created FROM customrecord_oh_change WHERE id > ${afterId} AND custrecord_oh_kind = 'price' ORDER BY id`,
    },
  });
  const page = z
    .object({ items: z.array(z.record(z.string(), z.unknown())), hasMore: z.boolean() })
    .safeParse(res.body);
  if (!page.success) throw new ChangeFeedError('SuiteQL price changes: unexpected answer');
  const now = options.now ?? Date.now;
  const events = page.data.items.map((item) => {
    const row = PriceRowSchema.safeParse(item);
    if (!row.success)
      throw new ChangeFeedError(`price change ${JSON.stringify(item)}: ${row.error.issues[0]?.message}`);
    const r = row.data;
    return buildEvent(
      'PriceChanged',
      EVENT_SOURCES.erp,
      {
        eventId: deterministicUuid('erp-price', options.account, String(r.id)),
        transactionId: `erp-price-${options.account}-${r.id}`,
        idempotencyKey: `erp#${options.account}#price#${r.id}`,
        occurredAt: toUtc(r.created),
        receivedAt: new Date(now()).toISOString(),
        origin: {
          system: 'erp',
          account: options.account,
          topic: 'customrecord_oh_change',
          resourceId: String(r.id),
        },
      },
      {
        item: { sku: r.custrecord_oh_sku, erpItemId: r.custrecord_oh_item },
        priceList: options.priceList,
        price: money(r.custrecord_oh_price, options.currency),
        compareAtPrice: null,
        effectiveFrom: null,
        effectiveTo: null,
        version: r.id,
      },
    );
  });
  const lastId = page.data.items.length > 0 ? Number(page.data.items.at(-1)?.id) : afterId;
  return { events, lastId, hasMore: page.data.hasMore };
}
