import { describe, expect, it } from 'vitest';
import { emitPublishMetrics } from '#shared/flows/inventory-sync.ts';

/** The measured inventory metrics a publish emits (EMF through Powertools in the functions). */
function recording() {
  const values: [string, number, string][] = [];
  return {
    values,
    telemetry: {
      count: () => {},
      record: (name: string, value: number, unit: string) => values.push([name, value, unit]),
    },
  };
}

describe('inventory publish metrics', () => {
  it('records the lag of each write, the coalescing ratio and the bucket utilisation', () => {
    const { values, telemetry } = recording();
    emitPublishMetrics(
      telemetry,
      'Shopify',
      { requested: 1_000, written: 250, lagMs: [800, 1_200] },
      { points: 300, seconds: 4, restoreRate: 100 },
    );
    expect(values).toEqual([
      ['ShopifySyncLag', 800, 'Milliseconds'],
      ['ShopifySyncLag', 1_200, 'Milliseconds'],
      ['ShopifyCoalescingRatio', 4, 'None'],
      ['ShopifyBucketUtilisation', 75, 'Percent'],
    ]);
  });

  it('keeps at most 100 lag samples (EMF values per metric) and no ratio when nothing was written', () => {
    const { values, telemetry } = recording();
    emitPublishMetrics(telemetry, 'Square', {
      requested: 3,
      written: 0,
      lagMs: Array.from({ length: 150 }, () => 5),
    });
    expect(values).toHaveLength(100);
    expect(values.every(([name]) => name === 'SquareSyncLag')).toBe(true);
  });
});
