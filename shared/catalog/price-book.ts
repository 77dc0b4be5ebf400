import type { Money } from '../events/money.ts';
import type { PriceChanged } from '../events/product.ts';

/**
 * The price book of one item in one price list (a market: one currency, one channel set): its list
 * price and its promotions, each versioned, and what price applies at any instant.
 *
 * Everything here is pure. The rules that keep prices on time:
 * - **Never early**: a price applies from its `effectiveFrom` (inclusive) to its `effectiveTo`
 *   (exclusive); {@link effectivePrice} at an instant before the start answers the previous price, so
 *   a publisher that computes the price at *its own* `now` can never publish a promotion before it
 *   starts, whatever woke it up (a schedule fired late, a stale schedule, a redelivered message).
 * - **Never left after the end**: the end is a transition like the start ({@link transitionsAfter});
 *   the scheduler wakes the publisher at each transition and the publisher republishes the price
 *   computed at that moment.
 * - **Edits take effect at once**: a newer version of a promotion replaces the old one (window and
 *   price); the consumer recomputes the price at `now` and publishes it if it changed, so a promotion
 *   edited after it started changes the live price immediately.
 * - **Newer version wins**: per entry (the list price, or one promotion id), an older or equal version
 *   is ignored, so redelivered or reordered `PriceChanged` events cannot roll a price back.
 */

/** One versioned price entry of a book: the list price (`promotionId` absent) or a promotion. */
export interface PriceEntry {
  readonly price: Money;
  /** The list price shown struck through (promotions); null for a list price. */
  readonly compareAtPrice: Money | null;
  /** Epoch ms; null = since always. */
  readonly from: number | null;
  /** Epoch ms (exclusive); null = for ever. */
  readonly to: number | null;
  readonly version: number;
  readonly cancelled: boolean;
}

/** List prices in effect order (a future list price waits for its `from`), and promotions by id. */
export interface PriceBook {
  readonly sku: string;
  readonly priceList: string;
  /** The list price versions still relevant, by `from` ascending (one per start instant). */
  readonly list: readonly PriceEntry[];
  readonly promotions: Readonly<Record<string, PriceEntry>>;
}

/** The price a channel shows at an instant. */
export interface EffectivePrice {
  readonly price: Money;
  readonly compareAtPrice: Money | null;
  /** The promotion it comes from (absent: the list price). */
  readonly promotionId?: string;
}

export function emptyBook(sku: string, priceList: string): PriceBook {
  return { sku, priceList, list: [], promotions: {} };
}

const ms = (iso: string | null): number | null => (iso === null ? null : Date.parse(iso));

function entryOf(change: PriceChanged): PriceEntry {
  return {
    price: change.price,
    compareAtPrice: change.compareAtPrice,
    from: ms(change.effectiveFrom),
    to: ms(change.effectiveTo),
    version: change.version,
    cancelled: change.cancelled === true,
  };
}

/** Why a change was not applied (for logs and metrics); undefined when it was. */
export type Ignored = 'stale' | 'other-book';

/**
 * Applies one `PriceChanged` to a book. Returns the new book, or the reason it is unchanged. List
 * prices are kept per start instant: a newer version for the same start replaces it, a list price
 * with a later start is added (it takes over at its start), and list prices superseded before `now`
 * are pruned but the one in effect.
 */
export function applyPriceChange(
  book: PriceBook,
  change: PriceChanged,
  now: number,
): { book: PriceBook; ignored?: Ignored } {
  if (change.item.sku !== book.sku || change.priceList !== book.priceList)
    return { book, ignored: 'other-book' };
  const entry = entryOf(change);
  if (change.promotionId !== undefined) {
    const current = book.promotions[change.promotionId];
    if (current && current.version >= entry.version) return { book, ignored: 'stale' };
    // A withdrawn promotion is kept (cancelled) with its version, so a late duplicate of an older
    // version cannot bring it back.
    return { book: { ...book, promotions: { ...book.promotions, [change.promotionId]: entry } } };
  }
  const sameStart = book.list.find((e) => e.from === entry.from);
  if (sameStart && sameStart.version >= entry.version) return { book, ignored: 'stale' };
  // A newer list price replaces every older-version list price that starts at or after it (the ERP
  // re-priced the item: later scheduled list prices of older versions are withdrawn).
  const kept = book.list.filter(
    (e) => e.from !== entry.from && !(e.version < entry.version && (e.from ?? 0) >= (entry.from ?? 0)),
  );
  const list = [...kept, entry].sort((a, b) => (a.from ?? -Infinity) - (b.from ?? -Infinity));
  return { book: { ...book, list: pruneList(list, now) } };
}

/** Drops list prices that a later list price already superseded at `now` (keeps the one in effect). */
function pruneList(list: readonly PriceEntry[], now: number): PriceEntry[] {
  let current = -1;
  list.forEach((e, i) => {
    if ((e.from ?? -Infinity) <= now) current = i;
  });
  return current <= 0 ? [...list] : list.slice(current);
}

const active = (e: PriceEntry, at: number): boolean =>
  !e.cancelled && (e.from ?? -Infinity) <= at && at < (e.to ?? Infinity);

/**
 * The price in effect at `at`: the active promotion that started last (ties: the higher version,
 * then the lower price — the customer is never charged more than an active promotion says), else the
 * list price whose start is the latest at or before `at`. Undefined when no price applies yet.
 */
export function effectivePrice(book: PriceBook, at: number): EffectivePrice | undefined {
  let listPrice: PriceEntry | undefined;
  for (const e of book.list) if ((e.from ?? -Infinity) <= at && at < (e.to ?? Infinity)) listPrice = e;
  let best: [string, PriceEntry] | undefined;
  for (const [id, e] of Object.entries(book.promotions)) {
    if (!active(e, at)) continue;
    if (!best) {
      best = [id, e];
      continue;
    }
    const [, b] = best;
    const order =
      (e.from ?? -Infinity) - (b.from ?? -Infinity) ||
      e.version - b.version ||
      b.price.amount - e.price.amount;
    if (order > 0) best = [id, e];
  }
  if (best) {
    const [id, e] = best;
    // Compare-at is the list price in effect when the ERP sent none: the struck-through price is the
    // regular one, never a stale number.
    return {
      price: e.price,
      compareAtPrice: e.compareAtPrice ?? listPrice?.price ?? null,
      promotionId: id,
    };
  }
  return listPrice ? { price: listPrice.price, compareAtPrice: null } : undefined;
}

/** Instants (epoch ms) after `after` at which the book's effective price may change, ascending. */
export function transitionsAfter(book: PriceBook, after: number): number[] {
  const out = new Set<number>();
  for (const e of book.list) {
    if (e.from !== null && e.from > after) out.add(e.from);
    if (e.to !== null && e.to > after) out.add(e.to);
  }
  for (const e of Object.values(book.promotions)) {
    if (e.cancelled) continue;
    if (e.from !== null && e.from > after) out.add(e.from);
    if (e.to !== null && e.to > after) out.add(e.to);
  }
  return [...out].sort((a, b) => a - b);
}

export const samePrice = (a: EffectivePrice | undefined, b: EffectivePrice | undefined): boolean =>
  a?.price.amount === b?.price.amount &&
  a?.price.currency === b?.price.currency &&
  (a?.compareAtPrice?.amount ?? null) === (b?.compareAtPrice?.amount ?? null) &&
  (a?.compareAtPrice?.currency ?? null) === (b?.compareAtPrice?.currency ?? null);

/**
 * The instant a transition is scheduled for: Scheduler's `at()` takes whole seconds and invokes
 * "between 1:00:00 and 1:00:59" of the minute it names (60-second precision,
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html), never before. Rounding
 * *up* to the second keeps "never early": the publisher computes the price at its own clock anyway.
 */
export function scheduleInstant(transition: number): number {
  return Math.ceil(transition / 1000) * 1000;
}

/** `at(yyyy-mm-ddThh:mm:ss)` in UTC (the schedule's `ScheduleExpressionTimezone` is left at UTC). */
export function atExpression(instant: number): string {
  return `at(${new Date(scheduleInstant(instant)).toISOString().slice(0, 19)})`;
}

/**
 * The Scheduler schedule name of a transition instant. One schedule per instant serves every book
 * with a transition then (a 500-variant promotion is two schedules, not a thousand). Names allow
 * `[0-9a-zA-Z-_.]{1,64}` (CreateSchedule, `Name`).
 */
export function scheduleName(prefix: string, instant: number): string {
  const stamp = new Date(scheduleInstant(instant)).toISOString().slice(0, 19).replace(/[-:]/g, '');
  return `${prefix}-${stamp}Z`;
}

/** What to do with the Scheduler after a book changed: instants to make sure exist, and to release. */
export interface SchedulePlan {
  /** Instants this book now needs a wake-up at (create the schedule if it does not exist). */
  readonly ensure: readonly number[];
  /** Instants this book needed before and no longer does (drop it from their due lists). */
  readonly release: readonly number[];
}

/** Diffs the book's future transitions before and after a change (all at or after `now`). */
export function planSchedules(before: PriceBook, after: PriceBook, now: number): SchedulePlan {
  const was = new Set(transitionsAfter(before, now).map(scheduleInstant));
  const is = new Set(transitionsAfter(after, now).map(scheduleInstant));
  return {
    ensure: [...is].filter((t) => !was.has(t)).sort((a, b) => a - b),
    release: [...was].filter((t) => !is.has(t)).sort((a, b) => a - b),
  };
}
