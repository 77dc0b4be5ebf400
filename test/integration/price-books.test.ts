import { beforeAll, describe, expect, it } from 'vitest';
import { emptyBook } from '#shared/catalog/price-book.ts';
import {
  PriceFlow,
  type PricePort,
  PricePublishBusyError,
  type SchedulePort,
} from '#shared/catalog/price-flow.ts';
import type { PriceChanged } from '#shared/events/product.ts';
import { DynamoPriceBookStore } from '#shared/repositories/price-books.ts';
import { DynamoPricePublishLease } from '#shared/repositories/price-publish-lease.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

/** The price flow on DynamoDB Local: compare-and-set books, due lists of a 500-SKU promotion. */
const { client, document } = localDynamo();
let table: string;

beforeAll(async () => {
  table = await createPkSkTable(client, 'catalog');
});

const T0 = Date.parse('2026-12-01T10:00:00.000Z');
const usd = (amount: number) => ({ amount, currency: 'USD' });

describe('DynamoPriceBookStore', () => {
  it('compare-and-set: a writer with a stale version loses', async () => {
    const store = new DynamoPriceBookStore(document, table);
    const book = emptyBook('SKU-CAS', 'online-USD');
    expect(await store.put(book, 0)).toBe(true);
    expect(await store.put(book, 0)).toBe(false);
    const stored = await store.get('SKU-CAS', 'online-USD');
    expect(stored?.version).toBe(1);
    expect(await store.put(book, 1)).toBe(true);
    expect(await store.put(book, 1)).toBe(false);
  });

  it('reads many books at once (the reconciler’s read), skipping SKUs without a book', async () => {
    const store = new DynamoPriceBookStore(document, table);
    const skus = Array.from({ length: 130 }, (_, i) => `SKU-M${String(i).padStart(4, '0')}`);
    for (const sku of skus) expect(await store.put(emptyBook(sku, 'online-USD'), 0)).toBe(true);
    const read = await store.getMany([
      ...skus.map((sku) => ({ sku, priceList: 'online-USD' })),
      { sku: 'SKU-NO-BOOK', priceList: 'online-USD' },
      { sku: skus[0] as string, priceList: 'online-EUR' },
    ]);
    expect(read.map((b) => b.sku).sort()).toEqual(skus);
  });

  it('runs a 500-SKU promotion: two schedules, due lists of 500 read back whole, emptied at the end', async () => {
    const store = new DynamoPriceBookStore(document, table);
    const clock = { now: T0 };
    const live = new Set<string>();
    const schedules: SchedulePort = {
      ensure: async (name) => void live.add(name),
      remove: async (name) => void live.delete(name),
    };
    const published: number[] = [];
    const prices: PricePort = {
      publish: async (batch) => void published.push(batch.length),
    };
    const flow = new PriceFlow({ books: store, schedules, prices, prefix: 'it-price', now: () => clock.now });
    const skus = Array.from({ length: 500 }, (_, i) => `SKU-P${String(i).padStart(4, '0')}`);
    const change = (sku: string, patch: Partial<PriceChanged>): PriceChanged => ({
      item: { sku },
      priceList: 'online-USD',
      price: usd(5000),
      compareAtPrice: null,
      effectiveFrom: null,
      effectiveTo: null,
      version: 1,
      ...patch,
    });
    await flow.onPriceChanged(skus.map((s) => change(s, {})));
    const start = T0 + 60_000;
    const end = T0 + 120_000;
    const report = await flow.onPriceChanged(
      skus.map((s) =>
        change(s, {
          promotionId: 'WINTER',
          price: usd(3999),
          effectiveFrom: new Date(start).toISOString(),
          effectiveTo: new Date(end).toISOString(),
          version: 2,
        }),
      ),
    );
    expect(report).toMatchObject({ applied: 500, schedulesEnsured: 2 });
    expect(live.size).toBe(2);
    expect(await store.due(start)).toHaveLength(500);
    clock.now = start;
    expect(await flow.onPriceDue({ kind: 'price-due', at: start })).toEqual({ published: 500 });
    expect(await store.due(start)).toHaveLength(0);
    expect((await store.get('SKU-P0042', 'online-USD'))?.book.promotions.WINTER?.price).toEqual(usd(3999));
    // Withdrawn before its end: the end's due list empties and its schedule is deleted.
    clock.now = start + 10_000;
    const withdrawn = await flow.onPriceChanged(
      skus.map((s) =>
        change(s, {
          promotionId: 'WINTER',
          price: usd(3999),
          effectiveFrom: new Date(start).toISOString(),
          effectiveTo: new Date(end).toISOString(),
          version: 3,
          cancelled: true,
        }),
      ),
    );
    expect(withdrawn).toMatchObject({ publishedNow: 500, schedulesRemoved: 1 });
    expect(await store.due(end)).toHaveLength(0);
  });
});

describe('DynamoPricePublishLease', () => {
  /** A virtual clock for the leases' waits (DynamoDB compares the expiry against the clock given). */
  const lease = (clock: { now: number }, deadline: number, reserveMs = 30_000) =>
    new DynamoPricePublishLease(document, table, {
      deadline: () => deadline,
      reserveMs,
      now: () => clock.now,
      sleep: async (ms) => {
        clock.now += ms;
        await new Promise((resolve) => setImmediate(resolve));
      },
    });

  /** Takes the lease and never gives it back (resolves once it is held). */
  const holdForever = (holder: DynamoPricePublishLease) =>
    new Promise<void>((held) => {
      void holder.run(async () => {
        held();
        await new Promise<void>(() => {});
      });
    });

  it('lets one instance publish at a time: the second runs once the first gave the lease back', async () => {
    const clock = { now: T0 };
    const a = lease(clock, T0 + 120_000);
    const b = lease(clock, T0 + 120_000);
    const order: string[] = [];
    let releaseA!: () => void;
    const aHolds = new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    let aStarted!: () => void;
    const aIn = new Promise<void>((resolve) => {
      aStarted = resolve;
    });
    const first = a.run(async () => {
      order.push('a in');
      aStarted();
      await aHolds;
      order.push('a out');
    });
    await aIn;
    const second = b.run(async () => void order.push('b in'));
    // b polls while a holds the lease (its virtual clock moves with each wait), and does not get in.
    while (clock.now < T0 + 5_000) await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['a in']);
    releaseA();
    await Promise.all([first, second]);
    expect(order).toEqual(['a in', 'a out', 'b in']);
  });

  it('is given back when the publish fails; a holder that never gives it back loses it at its invocation deadline', async () => {
    const clock = { now: T0 + 1_000_000 };
    await expect(
      lease(clock, clock.now + 60_000).run(async () => {
        throw new Error('crashed');
      }),
    ).rejects.toThrow('crashed');
    // Given back on the error path: the next holder takes it at once.
    const takenAt = clock.now;
    await holdForever(lease(clock, takenAt + 60_000));
    expect(clock.now).toBe(takenAt);
    // That holder never gives it back (an invocation that timed out): the next one gets it at its deadline.
    let ranAt = 0;
    await lease(clock, takenAt + 120_000, 10_000).run(async () => {
      ranAt = clock.now;
    });
    expect(ranAt).toBeGreaterThan(takenAt + 60_000);
    expect(ranAt).toBeLessThan(takenAt + 62_000);
  });

  it('gives up with a retryable error when the lease stays taken past its own budget', async () => {
    const clock = { now: T0 + 2_000_000 };
    await holdForever(lease(clock, clock.now + 120_000));
    const waiter = lease(clock, clock.now + 40_000, 30_000);
    const started = clock.now;
    const error = await waiter.run(async () => 'ran').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PricePublishBusyError);
    expect((error as PricePublishBusyError).retryable).toBe(true);
    expect(clock.now - started).toBeGreaterThanOrEqual(10_000);
    expect(clock.now - started).toBeLessThan(12_000);
  });
});
