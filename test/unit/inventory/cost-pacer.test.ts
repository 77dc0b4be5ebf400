import { describe, expect, it } from 'vitest';
import { CostPacer, type ThrottleStatus } from '#shared/inventory/cost-pacer.ts';

/** A virtual clock: `sleep` advances time instead of waiting. */
function virtualTime() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

const status = (currentlyAvailable: number, restoreRate = 100, maximumAvailable = 2000): ThrottleStatus => ({
  maximumAvailable,
  currentlyAvailable,
  restoreRate,
});

describe('CostPacer (a model of Shopify cost bucket)', () => {
  it('sends one call at a time until an answer says how full the bucket is', async () => {
    const clock = virtualTime();
    const pacer = new CostPacer(clock);
    const first = await pacer.acquire(10);
    let secondGranted = false;
    const second = pacer.acquire(10).then((grant) => {
      secondGranted = true;
      return grant;
    });
    await clock.sleep(0);
    await Promise.resolve();
    expect(secondGranted).toBe(false);
    first.settle({ throttleStatus: status(1990) });
    (await second).settle({ throttleStatus: status(1980) });
    expect(secondGranted).toBe(true);
  });

  it('waits for the restore rate when the bucket is short: (cost + margin − level) / rate', async () => {
    const clock = virtualTime();
    const pacer = new CostPacer({ ...clock, marginPoints: 10 });
    (await pacer.acquire(10)).settle({ throttleStatus: status(0) });
    const before = clock.now();
    (await pacer.acquire(10)).settle({ throttleStatus: status(0) });
    // 20 points (cost + margin) at 100 points/s.
    expect(clock.now() - before).toBe(200);
  });

  it('spends a full bucket without waiting, then paces at the restore rate', async () => {
    const clock = virtualTime();
    const pacer = new CostPacer({ ...clock, marginPoints: 0 });
    (await pacer.acquire(10)).settle({ throttleStatus: status(100, 100, 100) });
    const grants = [];
    for (let i = 0; i < 30; i += 1) grants.push(await pacer.acquire(10));
    // 100 points at once, then 200 more at 100 points/s: 2 s, never more than the bucket held.
    expect(clock.now()).toBe(2000);
    expect(pacer.counters).toMatchObject({ calls: 31, pointsRequested: 310 });
  });

  it('counts calls still in flight against what Shopify reports (they may not be charged yet)', async () => {
    const clock = virtualTime();
    const pacer = new CostPacer({ ...clock, marginPoints: 0 });
    (await pacer.acquire(10)).settle({ throttleStatus: status(50, 100, 100) });
    const inFlight = await pacer.acquire(40); // level 50 → 10
    const answered = await pacer.acquire(10); // level 10 → 0
    // Shopify charged `answered` but not yet `inFlight`: it reports 40; the model keeps 40 − 40 = 0.
    answered.settle({ throttleStatus: status(40, 100, 100) });
    expect(pacer.available()).toBe(0);
    inFlight.settle({ throttleStatus: status(0, 100, 100) });
    expect(pacer.available()).toBe(0);
  });

  it('re-bases on a THROTTLED answer it did not expect (another caller of the same app)', async () => {
    const clock = virtualTime();
    const pacer = new CostPacer({ ...clock, marginPoints: 0 });
    (await pacer.acquire(10)).settle({ throttleStatus: status(1000, 100, 2000) });
    pacer.observe(status(5, 100, 2000));
    const before = clock.now();
    await pacer.acquire(10);
    expect(clock.now() - before).toBe(50);
  });
});
