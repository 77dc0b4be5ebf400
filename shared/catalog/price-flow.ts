import { HubError } from '../errors.ts';
import type { PriceChanged } from '../events/product.ts';
import {
  applyPriceChange,
  atExpression,
  type EffectivePrice,
  effectivePrice,
  emptyBook,
  type PriceBook,
  planSchedules,
  samePrice,
  scheduleName,
} from './price-book.ts';

/**
 * The price flow: `PriceChanged` events update the price books; each book's future transitions
 * (promotion starts and ends, future list prices) become EventBridge Scheduler one-time schedules;
 * a schedule firing publishes the prices in effect *at that moment* to the channels.
 *
 * - One schedule per transition instant (`<prefix>-<yyyymmddThhmmss>Z`, `at(...)`), shared by every
 *   book with a transition then; a "due list" per instant names those books. Creating a schedule that
 *   exists is fine (ConflictException is success); a book that no longer needs an instant leaves its
 *   due list, and an emptied instant's schedule is deleted. A schedule that fires anyway (deleted too
 *   late, a duplicate invocation) finds nothing due or republishes the same prices: harmless.
 * - **Never early**: a due instant is only published at or after it, by the clock of the function
 *   ({@link DueTooEarlyError} otherwise, so the message comes back later), and the price published is
 *   {@link effectivePrice} at that clock.
 * - **Edits take effect at once**: a change whose price in effect *now* differs from before is
 *   published immediately, whatever its schedules.
 */

/** A price book in the store, with the version it was read at (compare-and-set). */
export interface StoredBook {
  readonly book: PriceBook;
  readonly version: number;
}

export interface PriceBookStore {
  get(sku: string, priceList: string): Promise<StoredBook | undefined>;
  /** Writes the book if it is still at `expectedVersion` (0: must not exist); false when it moved. */
  put(book: PriceBook, expectedVersion: number): Promise<boolean>;
  /** Adds books to / removes books from the due list of an instant; answers the books left due then. */
  addDue(instant: number, keys: readonly BookKey[]): Promise<void>;
  removeDue(instant: number, keys: readonly BookKey[]): Promise<number>;
  due(instant: number): Promise<BookKey[]>;
}

export interface BookKey {
  readonly sku: string;
  readonly priceList: string;
}

/** The Scheduler calls the flow makes (CreateSchedule / DeleteSchedule, see scheduler-client.ts). */
export interface SchedulePort {
  /** Creates the one-time schedule (an existing one with that name is success). */
  ensure(name: string, expression: string, input: string): Promise<void>;
  /** Deletes it (a missing one is success). */
  remove(name: string): Promise<void>;
}

/** Publishes prices in effect to the channels (Shopify and POS publishers behind it). */
export interface PricePort {
  publish(prices: readonly (BookKey & { readonly effective: EffectivePrice })[]): Promise<void>;
}

/**
 * Mutual exclusion of price publishing across the function's instances (the price queue's event source
 * mapping runs up to 2 at once). Inside it an instance reads the books, computes the prices in effect at
 * *its* clock and writes them to the channels; so the last write of a variant is always computed from the
 * freshest books, and each shop's cost pacer sees every price call made to the shop meanwhile.
 */
export interface PublishLock {
  /** Runs `fn` holding the lock; a retryable {@link HubError} when it stays taken too long. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** Another instance kept publishing prices past this invocation's budget: retry the message. */
export class PricePublishBusyError extends HubError {
  readonly code = 'PRICE_PUBLISH_BUSY';
  readonly retryable = true;
}

/** A due instant delivered before its time (a manual invoke, a clock skew): retry it later. */
export class DueTooEarlyError extends HubError {
  readonly code = 'PRICE_DUE_TOO_EARLY';
  readonly retryable = true;
}

/** A book kept moving under concurrent writers: retry the message. */
export class PriceBookContentionError extends HubError {
  readonly code = 'PRICE_BOOK_CONTENTION';
  readonly retryable = true;
}

export interface PriceFlowDeps {
  readonly books: PriceBookStore;
  readonly schedules: SchedulePort;
  readonly prices: PricePort;
  /** Schedule name prefix (per stack: `<stack>-price`). */
  readonly prefix: string;
  readonly now: () => number;
  /** @default no lock (one publisher, e.g. in tests) */
  readonly lock?: PublishLock;
}

/** What the schedule delivers to the flow (the schedule's `Target.Input`). */
export interface PriceDueMessage {
  readonly kind: 'price-due';
  /** The instant (epoch ms) it was scheduled for. */
  readonly at: number;
}

export interface PriceChangeReport {
  readonly applied: number;
  readonly ignored: number;
  readonly publishedNow: number;
  readonly schedulesEnsured: number;
  readonly schedulesRemoved: number;
}

/** Books updated at once by one batch of changes. */
const BOOK_CONCURRENCY = 16;

export class PriceFlow {
  constructor(private readonly deps: PriceFlowDeps) {}

  /** Applies `PriceChanged` events (any order, duplicates welcome). */
  async onPriceChanged(changes: readonly PriceChanged[]): Promise<PriceChangeReport> {
    const report = { applied: 0, ignored: 0, publishedNow: 0, schedulesEnsured: 0, schedulesRemoved: 0 };
    const publishNow: (BookKey & { effective: EffectivePrice })[] = [];
    const ensure = new Map<number, BookKey[]>();
    const release = new Map<number, BookKey[]>();
    // Changes of one book apply in order; books apply concurrently (a 500-SKU promotion is 500 books).
    const byBook = new Map<string, { key: BookKey; changes: PriceChanged[] }>();
    for (const change of changes) {
      const sku = change.item.sku;
      if (!sku) {
        report.ignored += 1;
        continue;
      }
      const id = `${sku}\u0000${change.priceList}`;
      const group = byBook.get(id) ?? { key: { sku, priceList: change.priceList }, changes: [] };
      group.changes.push(change);
      byBook.set(id, group);
    }
    const groups = [...byBook.values()];
    let next = 0;
    const worker = async () => {
      for (let group = groups[next++]; group; group = groups[next++]) {
        let first: PriceBook | undefined;
        let last: PriceBook | undefined;
        // A change the book already has (a duplicate, or the redelivery of a batch that failed after
        // writing the book but before its schedules or publish): its book's schedules and price are
        // completed again below, since nothing says the first delivery got that far.
        let redelivered: PriceBook | undefined;
        for (const change of group.changes) {
          const outcome = await this.update(group.key, change);
          if (outcome.ignored) {
            report.ignored += 1;
            redelivered = outcome.after;
            continue;
          }
          report.applied += 1;
          first ??= outcome.before;
          last = outcome.after;
        }
        const now = this.deps.now();
        if (!first || !last) {
          if (!redelivered) continue;
          // Idempotent completion: every future transition's due entry and schedule (set add, create
          // or conflict), and the price in effect published again.
          for (const t of planSchedules(emptyBook(group.key.sku, group.key.priceList), redelivered, now)
            .ensure)
            ensure.set(t, [...(ensure.get(t) ?? []), group.key]);
          const current = effectivePrice(redelivered, now);
          if (current) publishNow.push({ ...group.key, effective: current });
          continue;
        }
        // The net effect of the book's changes: an instant released then needed again stays.
        const plan = planSchedules(first, last, now);
        for (const t of plan.ensure) ensure.set(t, [...(ensure.get(t) ?? []), group.key]);
        for (const t of plan.release) release.set(t, [...(release.get(t) ?? []), group.key]);
        const is = effectivePrice(last, now);
        if (is && (redelivered || !samePrice(effectivePrice(first, now), is)))
          publishNow.push({ ...group.key, effective: is });
      }
    };
    await Promise.all(Array.from({ length: BOOK_CONCURRENCY }, worker));
    // Due lists first, then the schedule: a schedule never fires on an instant whose books are not listed.
    for (const [instant, keys] of ensure) {
      await this.deps.books.addDue(instant, keys);
      await this.deps.schedules.ensure(
        scheduleName(this.deps.prefix, instant),
        atExpression(instant),
        JSON.stringify({ kind: 'price-due', at: instant } satisfies PriceDueMessage),
      );
      report.schedulesEnsured += 1;
    }
    for (const [instant, keys] of release) {
      const left = await this.deps.books.removeDue(instant, keys);
      if (left === 0) {
        await this.deps.schedules.remove(scheduleName(this.deps.prefix, instant));
        report.schedulesRemoved += 1;
      }
    }
    if (publishNow.length > 0) {
      // The price in effect is recomputed at publishing time from the stored books (another change
      // may have landed meanwhile).
      await this.publishCurrent(publishNow);
      report.publishedNow = publishNow.length;
    }
    return report;
  }

  /** A schedule fired: publishes the prices in effect now of every book due at `message.at`. */
  async onPriceDue(message: PriceDueMessage): Promise<{ published: number }> {
    const now = this.deps.now();
    if (now < message.at)
      throw new DueTooEarlyError(
        `price change due at ${new Date(message.at).toISOString()} delivered ${message.at - now} ms early`,
      );
    const keys = await this.deps.books.due(message.at);
    if (keys.length > 0) await this.publishCurrent(keys);
    await this.deps.books.removeDue(message.at, keys);
    return { published: keys.length };
  }

  /**
   * Publishes the prices in effect of `keys`, read and computed under the publish lock (at the clock of
   * the moment it is held): a publish that waited for another instance's never writes what was in effect
   * before that one's.
   */
  private async publishCurrent(keys: readonly BookKey[]): Promise<void> {
    const publish = async () => {
      const now = this.deps.now();
      // Read BOOK_CONCURRENCY books at a time (a promotion's instant names hundreds), kept in `keys` order.
      const effective: (EffectivePrice | undefined)[] = new Array(keys.length);
      let next = 0;
      const reader = async () => {
        for (let i = next++; i < keys.length; i = next++) {
          const key = keys[i] as BookKey;
          const stored = await this.deps.books.get(key.sku, key.priceList);
          effective[i] = stored ? effectivePrice(stored.book, now) : undefined;
        }
      };
      await Promise.all(Array.from({ length: Math.min(BOOK_CONCURRENCY, keys.length) }, reader));
      const prices = keys.flatMap((key, i) => {
        const price = effective[i];
        return price ? [{ ...key, effective: price }] : [];
      });
      if (prices.length > 0) await this.deps.prices.publish(prices);
    };
    await (this.deps.lock ? this.deps.lock.run(publish) : publish());
  }

  /** Read, apply, compare-and-set; retried a few times under contention. */
  private async update(
    key: BookKey,
    change: PriceChanged,
  ): Promise<{ before: PriceBook; after: PriceBook; ignored: boolean }> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const stored = await this.deps.books.get(key.sku, key.priceList);
      const before = stored?.book ?? emptyBook(key.sku, key.priceList);
      const { book: after, ignored } = applyPriceChange(before, change, this.deps.now());
      if (ignored) return { before, after: before, ignored: true };
      if (await this.deps.books.put(after, stored?.version ?? 0)) return { before, after, ignored: false };
    }
    throw new PriceBookContentionError(`price book ${key.sku}/${key.priceList} kept changing`);
  }
}
