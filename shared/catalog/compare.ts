import type { Money } from '../events/money.ts';
import { type EffectivePrice, effectivePrice, type PriceBook, transitionsAfter } from './price-book.ts';

/**
 * Price coverage for the reconciler: what each channel shows against what the price books say it
 * should show now. Pure, so the reconciler (functions/reconciler, another engineer's) calls it with
 * whatever it read; nothing here talks to a vendor.
 *
 * A price that changed less than `graceMs` ago (a transition just fired, the publisher is still
 * working through the plan's cost bucket) is in flight, not a discrepancy: the reconciler would
 * otherwise "heal" a price the publisher is about to write. Before the grace the old and the new
 * price are both accepted; after it only the new one.
 */

/** One variant (Shopify) or variation (Square) as the channel holds it. */
export interface ChannelPrice {
  readonly sku: string;
  readonly price: Money;
  /** Shopify's compare-at; Square has none (undefined: not compared). */
  readonly compareAtPrice?: Money | null;
}

export type PriceDiscrepancyKind =
  /** The channel has no variant for a SKU the books price. */
  | 'missing'
  /** The channel's price differs from the effective price. */
  | 'price'
  /** The channel's compare-at differs (a promotion left struck through, or one missing). */
  | 'compare-at';

export interface PriceDiscrepancy {
  readonly sku: string;
  readonly kind: PriceDiscrepancyKind;
  readonly expected: EffectivePrice;
  readonly actual?: ChannelPrice;
}

export interface CompareOptions {
  /** The instant to compare at (epoch ms). */
  readonly now: number;
  /** How long after a transition a channel may still show the previous price. */
  readonly graceMs: number;
  /** Square has no compare-at price: compare the price only. @default true */
  readonly compareAt?: boolean;
}

const sameMoney = (a: Money | null | undefined, b: Money | null | undefined): boolean =>
  (a?.amount ?? null) === (b?.amount ?? null) && (a?.currency ?? null) === (b?.currency ?? null);

/** The last transition of a book at or before `now` (epoch ms), if any. */
function lastTransition(book: PriceBook, now: number): number | undefined {
  const all = transitionsAfter(book, -Infinity).filter((t) => t <= now);
  return all.at(-1);
}

function matches(
  expected: EffectivePrice,
  actual: ChannelPrice,
  compareAt: boolean,
): PriceDiscrepancyKind | undefined {
  if (!sameMoney(expected.price, actual.price)) return 'price';
  if (
    compareAt &&
    actual.compareAtPrice !== undefined &&
    !sameMoney(expected.compareAtPrice, actual.compareAtPrice)
  )
    return 'compare-at';
  return undefined;
}

/**
 * Compares a channel's prices with the books (one price list). SKUs the channel has but the books do
 * not price are not this comparison's business (they are not the ERP's items, or not launched).
 */
export function compareCatalog(
  books: readonly PriceBook[],
  channel: readonly ChannelPrice[],
  options: CompareOptions,
): PriceDiscrepancy[] {
  const bySku = new Map(channel.map((c) => [c.sku, c]));
  const compareAt = options.compareAt ?? true;
  const out: PriceDiscrepancy[] = [];
  for (const book of books) {
    const expected = effectivePrice(book, options.now);
    if (!expected) continue;
    const actual = bySku.get(book.sku);
    if (!actual) {
      out.push({ sku: book.sku, kind: 'missing', expected });
      continue;
    }
    const kind = matches(expected, actual, compareAt);
    if (!kind) continue;
    const changedAt = lastTransition(book, options.now);
    if (changedAt !== undefined && options.now - changedAt < options.graceMs) {
      const before = effectivePrice(book, changedAt - 1);
      if (before && !matches(before, actual, compareAt)) continue;
    }
    out.push({ sku: book.sku, kind, expected, actual });
  }
  return out;
}
