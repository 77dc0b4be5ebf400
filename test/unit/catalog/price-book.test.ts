import { describe, expect, it } from 'vitest';
import { compareCatalog } from '#shared/catalog/compare.ts';
import {
  applyPriceChange,
  atExpression,
  effectivePrice,
  emptyBook,
  type PriceBook,
  planSchedules,
  scheduleName,
  transitionsAfter,
} from '#shared/catalog/price-book.ts';
import type { PriceChanged } from '#shared/events/product.ts';

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const iso = (t: number) => new Date(t).toISOString();
const usd = (amount: number) => ({ amount, currency: 'USD' });

const change = (patch: Partial<PriceChanged> = {}): PriceChanged => ({
  item: { sku: 'SKU-1' },
  priceList: 'online-USD',
  price: usd(5000),
  compareAtPrice: null,
  effectiveFrom: null,
  effectiveTo: null,
  version: 1,
  ...patch,
});

const promo = (patch: Partial<PriceChanged> = {}): PriceChanged =>
  change({
    promotionId: 'BF',
    price: usd(3999),
    effectiveFrom: iso(T0 + 60_000),
    effectiveTo: iso(T0 + 120_000),
    version: 2,
    ...patch,
  });

function book(...changes: PriceChanged[]): PriceBook {
  let b = emptyBook('SKU-1', 'online-USD');
  for (const c of changes) b = applyPriceChange(b, c, T0).book;
  return b;
}

describe('price book', () => {
  it('applies a promotion only inside its window: never before the start, never at or after the end', () => {
    const b = book(change(), promo());
    expect(effectivePrice(b, T0)?.price.amount).toBe(5000);
    expect(effectivePrice(b, T0 + 59_999)?.price.amount).toBe(5000);
    expect(effectivePrice(b, T0 + 60_000)).toEqual({
      price: usd(3999),
      compareAtPrice: usd(5000),
      promotionId: 'BF',
    });
    expect(effectivePrice(b, T0 + 119_999)?.price.amount).toBe(3999);
    expect(effectivePrice(b, T0 + 120_000)).toEqual({ price: usd(5000), compareAtPrice: null });
  });

  it('keeps the compare-at the ERP sent for a promotion', () => {
    const b = book(change(), promo({ compareAtPrice: usd(5500) }));
    expect(effectivePrice(b, T0 + 60_000)?.compareAtPrice).toEqual(usd(5500));
  });

  it('ignores a stale or duplicated version, whatever the delivery order', () => {
    const moved = promo({ effectiveFrom: iso(T0 + 30_000), version: 3 });
    const inOrder = book(change(), promo(), moved);
    const reordered = book(change(), moved, promo());
    expect(reordered).toEqual(inOrder);
    expect(applyPriceChange(inOrder, promo(), T0).ignored).toBe('stale');
    expect(applyPriceChange(inOrder, change(), T0).ignored).toBe('stale');
    expect(effectivePrice(inOrder, T0 + 30_000)?.price.amount).toBe(3999);
  });

  it('a promotion edited after it started takes effect at once; a withdrawn one stops at once', () => {
    const started = book(change(), promo());
    const now = T0 + 90_000;
    const edited = applyPriceChange(started, promo({ price: usd(2999), version: 3 }), now).book;
    expect(effectivePrice(edited, now)?.price.amount).toBe(2999);
    const withdrawn = applyPriceChange(edited, promo({ cancelled: true, version: 4 }), now).book;
    expect(effectivePrice(withdrawn, now)).toEqual({ price: usd(5000), compareAtPrice: null });
    // A late duplicate of the older version cannot bring it back.
    expect(applyPriceChange(withdrawn, promo({ version: 3 }), now).ignored).toBe('stale');
  });

  it('a future list price waits for its start; a newer list price replaces it', () => {
    const b = book(change(), change({ price: usd(5500), effectiveFrom: iso(T0 + 60_000), version: 2 }));
    expect(effectivePrice(b, T0)?.price.amount).toBe(5000);
    expect(effectivePrice(b, T0 + 60_000)?.price.amount).toBe(5500);
    const repriced = applyPriceChange(b, change({ price: usd(4800), version: 3 }), T0).book;
    expect(effectivePrice(repriced, T0 + 60_000)?.price.amount).toBe(4800);
    expect(transitionsAfter(repriced, T0)).toEqual([]);
  });

  it('overlapping promotions: the one that started last applies', () => {
    const b = book(
      change(),
      promo(),
      promo({ promotionId: 'FLASH', price: usd(2500), effectiveFrom: iso(T0 + 90_000), version: 5 }),
    );
    expect(effectivePrice(b, T0 + 95_000)?.promotionId).toBe('FLASH');
    expect(effectivePrice(b, T0 + 60_000)?.promotionId).toBe('BF');
  });

  it('ignores changes of another item or price list', () => {
    const b = book(change());
    expect(applyPriceChange(b, change({ priceList: 'pos-USD', version: 9 }), T0).ignored).toBe('other-book');
  });
});

describe('schedules', () => {
  it('plans wake-ups at each future start and end, moved and released as the promotion changes', () => {
    const before = book(change());
    const withPromo = book(change(), promo());
    expect(planSchedules(before, withPromo, T0)).toEqual({
      ensure: [T0 + 60_000, T0 + 120_000],
      release: [],
    });
    const moved = applyPriceChange(withPromo, promo({ effectiveTo: iso(T0 + 180_000), version: 3 }), T0).book;
    expect(planSchedules(withPromo, moved, T0)).toEqual({ ensure: [T0 + 180_000], release: [T0 + 120_000] });
    const gone = applyPriceChange(moved, promo({ cancelled: true, version: 4 }), T0).book;
    expect(planSchedules(moved, gone, T0)).toEqual({ ensure: [], release: [T0 + 60_000, T0 + 180_000] });
  });

  it('names and expresses instants rounded up to the second (never early)', () => {
    const t = Date.parse('2026-12-01T10:00:00.250Z');
    expect(atExpression(t)).toBe('at(2026-12-01T10:00:01)');
    expect(scheduleName('oh-dev-price', t)).toBe('oh-dev-price-20261201T100001Z');
    expect(scheduleName('oh-dev-price', t)).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
  });
});

describe('compareCatalog', () => {
  const books = [book(change(), promo())];
  it('finds a promotion left after its end, beyond the grace', () => {
    const stuck = [{ sku: 'SKU-1', price: usd(3999), compareAtPrice: usd(5000) }];
    expect(compareCatalog(books, stuck, { now: T0 + 120_000 + 5_000, graceMs: 10_000 })).toEqual([]);
    expect(compareCatalog(books, stuck, { now: T0 + 120_000 + 15_000, graceMs: 10_000 })).toMatchObject([
      { sku: 'SKU-1', kind: 'price', expected: { price: usd(5000) } },
    ]);
  });

  it('finds a missing variant and a wrong compare-at; Square (no compare-at) compares the price only', () => {
    const now = T0 + 70_000;
    expect(compareCatalog(books, [], { now, graceMs: 0 })).toMatchObject([{ kind: 'missing' }]);
    const noStrike = [{ sku: 'SKU-1', price: usd(3999), compareAtPrice: null }];
    expect(compareCatalog(books, noStrike, { now, graceMs: 0 })).toMatchObject([{ kind: 'compare-at' }]);
    expect(compareCatalog(books, noStrike, { now, graceMs: 0, compareAt: false })).toEqual([]);
  });
});
