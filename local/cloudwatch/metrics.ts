/**
 * The local CloudWatch metric store: datapoints by namespace, metric name and dimension set, and the
 * statistics an alarm asks for over one period.
 *
 * A metric is identified by its namespace, name and exact set of dimensions ("Metrics", "Dimensions" in the
 * CloudWatch User Guide: "CloudWatch treats each unique combination of dimensions as a separate metric").
 * Statistics as the guide's "CloudWatch statistics definitions" defines them: SampleCount, Sum, Average,
 * Minimum, Maximum and percentiles `pNN` / `pNN.NN` (nearest rank).
 */

/** One value of one metric at one time. */
export interface Datum {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly value: number;
  /** Epoch milliseconds. */
  readonly timestamp: number;
  readonly unit?: string | undefined;
}

/** The statistics the local alarms evaluate; anything else refuses to load. */
export const STATISTICS = ['SampleCount', 'Sum', 'Average', 'Minimum', 'Maximum'] as const;
export type Statistic = (typeof STATISTICS)[number];
/** An extended statistic the local alarms evaluate: a percentile. */
export const PERCENTILE = /^p(\d{1,2}(\.\d{1,2})?|100)$/;

/** Datapoints older than this are dropped (the longest local alarm window is far shorter). */
const KEEP_MS = 24 * 3_600_000;

/** The identity of a metric: namespace, name and dimensions in a stable order. */
export function metricKey(
  namespace: string,
  name: string,
  dimensions: Readonly<Record<string, string>>,
): string {
  const sorted = Object.keys(dimensions)
    .sort()
    .map((key) => [key, dimensions[key]]);
  return JSON.stringify([namespace, name, sorted]);
}

/** Computes one statistic over values; undefined when there are none (a missing datapoint). */
export function statistic(values: readonly number[], name: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (name) {
    case 'SampleCount':
      return values.length;
    case 'Sum':
      return values.reduce((sum, value) => sum + value, 0);
    case 'Average':
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    case 'Minimum':
      return Math.min(...values);
    case 'Maximum':
      return Math.max(...values);
    default: {
      const match = PERCENTILE.exec(name);
      if (!match) throw new Error(`statistic ${name} is not supported locally`);
      const sorted = [...values].sort((a, b) => a - b);
      const rank = Math.ceil((Number(match[1]) / 100) * sorted.length);
      return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
    }
  }
}

/** Every datapoint put locally, by metric. */
export class MetricStore {
  private readonly series = new Map<string, Datum[]>();
  private puts = 0;

  put(datum: Datum): void {
    const key = metricKey(datum.namespace, datum.name, datum.dimensions);
    let points = this.series.get(key);
    if (!points) {
      points = [];
      this.series.set(key, points);
    }
    points.push(datum);
    this.puts += 1;
    if (this.puts % 1000 === 0) this.prune(datum.timestamp);
  }

  /** The values of one metric in (start, end], with `unit` when the alarm names one. */
  values(
    namespace: string,
    name: string,
    dimensions: Readonly<Record<string, string>>,
    start: number,
    end: number,
    unit?: string,
  ): number[] {
    return (this.series.get(metricKey(namespace, name, dimensions)) ?? [])
      .filter(
        (datum) =>
          datum.timestamp > start && datum.timestamp <= end && (unit === undefined || datum.unit === unit),
      )
      .map((datum) => datum.value);
  }

  /** How many datapoints were put, for `/_local/health`. */
  get count(): number {
    return this.puts;
  }

  private prune(now: number): void {
    for (const [key, points] of this.series) {
      const kept = points.filter((datum) => datum.timestamp >= now - KEEP_MS);
      if (kept.length === 0) this.series.delete(key);
      else this.series.set(key, kept);
    }
  }
}
