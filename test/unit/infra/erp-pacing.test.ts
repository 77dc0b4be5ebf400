import { describe, expect, it } from 'vitest';
import { resolveEnvironment } from '#infra/config/environments.ts';
import { erpPacing, withErpConcurrencyLimit } from '#infra/config/erp-pacing.ts';

describe('erpPacing', () => {
  it.each([
    // limit, instances, calls per instance, batch
    [5, 5, 1, 10],
    [10, 5, 2, 20],
    [15, 5, 3, 30],
    [20, 5, 4, 40],
    [25, 5, 5, 50],
    [7, 7, 1, 10],
    [2, 2, 1, 10],
    [4, 2, 2, 20],
    [6, 6, 1, 10],
    [30, 6, 5, 50],
  ])('limit %i → %i instances × %i calls, batches of %i', (limit, instances, calls, batch) => {
    const pacing = erpPacing(limit);
    expect(pacing).toEqual({ instances, callsPerInstance: calls, batchSize: batch });
    // Never above the limit, and all of it in use.
    expect(pacing.instances * pacing.callsPerInstance).toBe(limit);
    expect(pacing.instances).toBeGreaterThanOrEqual(2);
  });

  it('refuses limits the event source mapping cannot pace (below 2) or that are not integers', () => {
    expect(() => erpPacing(1)).toThrow(/from 2 to 1000/);
    expect(() => erpPacing(7.5)).toThrow(/integer/);
  });

  it('takes the account limit from -c erpConcurrencyLimit', () => {
    const dev = resolveEnvironment('dev');
    expect(withErpConcurrencyLimit(dev, undefined)).toBe(dev);
    expect(withErpConcurrencyLimit(dev, '20').erp.concurrencyLimit).toBe(20);
    expect(() => withErpConcurrencyLimit(dev, 'many')).toThrow(/integer/);
  });
});
