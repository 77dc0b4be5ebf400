import { describe, expect, it } from 'vitest';
import type { PriceBook } from '#shared/catalog/price-book.ts';
import {
  type BookKey,
  DueTooEarlyError,
  type PriceBookStore,
  PriceFlow,
  type PricePort,
  type PublishLock,
  type SchedulePort,
  type StoredBook,
} from '#shared/catalog/price-flow.ts';
import type { PriceChanged } from '#shared/events/product.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (t: number) => new Date(t).toISOString();
const usd = (amount: number) => ({ amount, currency: 'USD' });

class MemoryBooks implements PriceBookStore {
  readonly books = new Map<string, StoredBook>();
  readonly dues = new Map<number, Map<string, BookKey>>();
  async get(sku: string, priceList: string) {
    return this.books.get(`${sku}|${priceList}`);
  }
  async put(book: PriceBook, expectedVersion: number) {
    const key = `${book.sku}|${book.priceList}`;
    if ((this.books.get(key)?.version ?? 0) !== expectedVersion) return false;
    this.books.set(key, { book, version: expectedVersion + 1 });
    return true;
  }
  async addDue(instant: number, keys: readonly BookKey[]) {
    const due = this.dues.get(instant) ?? new Map<string, BookKey>();
    for (const k of keys) due.set(`${k.sku}|${k.priceList}`, k);
    this.dues.set(instant, due);
  }
  async removeDue(instant: number, keys: readonly BookKey[]) {
    const due = this.dues.get(instant);
    for (const k of keys) due?.delete(`${k.sku}|${k.priceList}`);
    return due?.size ?? 0;
  }
  async due(instant: number) {
    return [...(this.dues.get(instant)?.values() ?? [])];
  }
}

class FakeSchedules implements SchedulePort {
  readonly live = new Map<string, { expression: string; input: string }>();
  async ensure(name: string, expression: string, input: string) {
    if (!this.live.has(name)) this.live.set(name, { expression, input });
  }
  async remove(name: string) {
    this.live.delete(name);
  }
}

class RecordingPrices implements PricePort {
  readonly writes: { at: number; sku: string; price: number; compareAt: number | null }[] = [];
  constructor(private readonly clock: { now: number }) {}
  async publish(prices: Parameters<PricePort['publish']>[0]) {
    for (const p of prices)
      this.writes.push({
        at: this.clock.now,
        sku: p.sku,
        price: p.effective.price.amount,
        compareAt: p.effective.compareAtPrice?.amount ?? null,
      });
  }
}

const list = (sku: string, amount: number, version = 1): PriceChanged => ({
  item: { sku },
  priceList: 'online-USD',
  price: usd(amount),
  compareAtPrice: null,
  effectiveFrom: null,
  effectiveTo: null,
  version,
});

const promo = (sku: string, amount: number, from: number, to: number, version: number): PriceChanged => ({
  ...list(sku, amount, version),
  promotionId: 'WINTER',
  effectiveFrom: iso(from),
  effectiveTo: iso(to),
});

function setup() {
  const clock = { now: T0 };
  const books = new MemoryBooks();
  const schedules = new FakeSchedules();
  const prices = new RecordingPrices(clock);
  const flow = new PriceFlow({ books, schedules, prices, prefix: 'oh-dev-price', now: () => clock.now });
  return { clock, books, schedules, prices, flow };
}

describe('price flow', () => {
  it('publishes a promotion at its start and reverts it at its end, two shared schedules for all its SKUs', async () => {
    const { clock, schedules, prices, flow } = setup();
    const skus = ['A', 'B', 'C'];
    await flow.onPriceChanged(skus.map((s) => list(s, 5000)));
    expect(prices.writes.map((w) => [w.sku, w.price])).toEqual([
      ['A', 5000],
      ['B', 5000],
      ['C', 5000],
    ]);
    const report = await flow.onPriceChanged(skus.map((s) => promo(s, 3999, T0 + 60_000, T0 + 120_000, 2)));
    expect(report).toMatchObject({ applied: 3, publishedNow: 0, schedulesEnsured: 2 });
    expect([...schedules.live.entries()]).toEqual([
      [
        'oh-dev-price-20261201T100100Z',
        {
          expression: 'at(2026-12-01T10:01:00)',
          input: JSON.stringify({ kind: 'price-due', at: T0 + 60_000 }),
        },
      ],
      [
        'oh-dev-price-20261201T100200Z',
        {
          expression: 'at(2026-12-01T10:02:00)',
          input: JSON.stringify({ kind: 'price-due', at: T0 + 120_000 }),
        },
      ],
    ]);
    clock.now = T0 + 59_999;
    await expect(flow.onPriceDue({ kind: 'price-due', at: T0 + 60_000 })).rejects.toThrow(DueTooEarlyError);
    expect(prices.writes).toHaveLength(3);
    clock.now = T0 + 60_400;
    expect(await flow.onPriceDue({ kind: 'price-due', at: T0 + 60_000 })).toEqual({ published: 3 });
    clock.now = T0 + 120_300;
    expect(await flow.onPriceDue({ kind: 'price-due', at: T0 + 120_000 })).toEqual({ published: 3 });
    expect(prices.writes.slice(3).map((w) => [w.sku, w.price, w.compareAt])).toEqual([
      ['A', 3999, 5000],
      ['B', 3999, 5000],
      ['C', 3999, 5000],
      ['A', 5000, null],
      ['B', 5000, null],
      ['C', 5000, null],
    ]);
    // Never early: every promotional write is at or after the start; every write after the end is the list price.
    for (const w of prices.writes) {
      if (w.price === 3999) expect(w.at).toBeGreaterThanOrEqual(T0 + 60_000);
      if (w.at >= T0 + 120_000) expect(w.price).toBe(5000);
    }
  });

  it('a promotion edited after it started takes effect at once; its moved end moves the schedule', async () => {
    const { clock, schedules, prices, flow } = setup();
    await flow.onPriceChanged([list('A', 5000), promo('A', 3999, T0 + 60_000, T0 + 120_000, 2)]);
    clock.now = T0 + 60_000;
    await flow.onPriceDue({ kind: 'price-due', at: T0 + 60_000 });
    clock.now = T0 + 90_000;
    const edited = await flow.onPriceChanged([promo('A', 2999, T0 + 60_000, T0 + 180_000, 3)]);
    expect(edited).toMatchObject({ publishedNow: 1, schedulesEnsured: 1, schedulesRemoved: 1 });
    expect(prices.writes.at(-1)).toMatchObject({ at: T0 + 90_000, price: 2999, compareAt: 5000 });
    expect([...schedules.live.keys()]).toEqual([
      'oh-dev-price-20261201T100100Z',
      'oh-dev-price-20261201T100300Z',
    ]);
    // The old end's schedule, had it fired anyway, finds nothing due.
    clock.now = T0 + 120_000;
    expect(await flow.onPriceDue({ kind: 'price-due', at: T0 + 120_000 })).toEqual({ published: 0 });
    clock.now = T0 + 180_000;
    await flow.onPriceDue({ kind: 'price-due', at: T0 + 180_000 });
    expect(prices.writes.at(-1)).toMatchObject({ price: 5000, compareAt: null });
  });

  it('a withdrawn promotion reverts at once and deletes its schedules; stale duplicates change nothing', async () => {
    const { clock, schedules, prices, flow } = setup();
    await flow.onPriceChanged([list('A', 5000), promo('A', 3999, T0 + 60_000, T0 + 120_000, 2)]);
    clock.now = T0 + 70_000;
    await flow.onPriceDue({ kind: 'price-due', at: T0 + 60_000 });
    const withdrawn = { ...promo('A', 3999, T0 + 60_000, T0 + 120_000, 3), cancelled: true };
    expect(await flow.onPriceChanged([withdrawn])).toMatchObject({ publishedNow: 1, schedulesRemoved: 1 });
    expect(prices.writes.at(-1)).toMatchObject({ price: 5000, compareAt: null });
    expect(schedules.live.has('oh-dev-price-20261201T100200Z')).toBe(false);
    const writes = prices.writes.length;
    expect(
      await flow.onPriceChanged([promo('A', 3999, T0 + 60_000, T0 + 120_000, 2), list('A', 5000)]),
    ).toMatchObject({ applied: 0, ignored: 2 });
    // A stale duplicate rolls nothing back: at most the price in effect is published again.
    expect(prices.writes.slice(writes).every((w) => w.price === 5000 && w.compareAt === null)).toBe(true);
    expect(schedules.live.has('oh-dev-price-20261201T100200Z')).toBe(false);
  });

  it('a batch that failed after writing its books is completed on redelivery (price published, schedules made)', async () => {
    const { clock, books, schedules, prices, flow } = setup();
    const failing = new PriceFlow({
      books,
      schedules: {
        ensure: () => Promise.reject(new Error('Scheduler unavailable')),
        remove: () => Promise.resolve(),
      },
      prices: { publish: () => Promise.reject(new Error('Shopify unavailable')) },
      prefix: 'oh-dev-price',
      now: () => clock.now,
    });
    const batch = [list('A', 5000), promo('A', 3999, T0 + 60_000, T0 + 120_000, 2)];
    await expect(failing.onPriceChanged(batch)).rejects.toThrow('unavailable');
    expect(books.books.has('A|online-USD')).toBe(true);
    // The redelivered batch: every change is already in the book.
    expect(await flow.onPriceChanged(batch)).toMatchObject({ applied: 0, ignored: 2, publishedNow: 1 });
    expect(prices.writes).toEqual([{ at: T0, sku: 'A', price: 5000, compareAt: null }]);
    expect([...schedules.live.keys()].sort()).toEqual([
      'oh-dev-price-20261201T100100Z',
      'oh-dev-price-20261201T100200Z',
    ]);
    clock.now = T0 + 60_000;
    await flow.onPriceDue({ kind: 'price-due', at: T0 + 60_000 });
    expect(prices.writes.at(-1)).toMatchObject({ sku: 'A', price: 3999, compareAt: 5000 });
  });

  it('a batch that moves an end away and back keeps the schedule and the due list (net effect per book)', async () => {
    const { books, schedules, flow } = setup();
    await flow.onPriceChanged([list('A', 5000), promo('A', 3999, T0 + 60_000, T0 + 120_000, 2)]);
    await flow.onPriceChanged([
      promo('A', 3999, T0 + 60_000, T0 + 180_000, 3),
      promo('A', 3999, T0 + 60_000, T0 + 120_000, 4),
    ]);
    expect([...schedules.live.keys()]).toEqual([
      'oh-dev-price-20261201T100100Z',
      'oh-dev-price-20261201T100200Z',
    ]);
    expect(await books.due(T0 + 120_000)).toEqual([{ sku: 'A', priceList: 'online-USD' }]);
    expect(await books.due(T0 + 180_000)).toEqual([]);
  });

  it('computes the prices it publishes under the publish lock, at the clock of the moment it holds it', async () => {
    const { clock, books, schedules, prices } = setup();
    const held: number[] = [];
    // Another instance holds the lock until after the promotion's end: this one's start-due publishes then.
    const lock: PublishLock = {
      async run(fn) {
        clock.now = Math.max(clock.now, T0 + 125_000);
        held.push(clock.now);
        return fn();
      },
    };
    const flow = new PriceFlow({ books, schedules, prices, prefix: 'oh-dev-price', now: () => clock.now });
    await flow.onPriceChanged(['A', 'B'].map((s) => list(s, 5000)));
    await flow.onPriceChanged(['A', 'B'].map((s) => promo(s, 3999, T0 + 60_000, T0 + 120_000, 2)));
    const locked = new PriceFlow({
      books,
      schedules,
      prices,
      lock,
      prefix: 'oh-dev-price',
      now: () => clock.now,
    });
    clock.now = T0 + 60_000;
    expect(await locked.onPriceDue({ kind: 'price-due', at: T0 + 60_000 })).toEqual({ published: 2 });
    expect(held).toEqual([T0 + 125_000]);
    // What was in effect when it could write, not when the due arrived: no promotional price after the end.
    expect(prices.writes.slice(2)).toEqual([
      { at: T0 + 125_000, sku: 'A', price: 5000, compareAt: null },
      { at: T0 + 125_000, sku: 'B', price: 5000, compareAt: null },
    ]);
  });
});
