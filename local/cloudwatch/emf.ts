/**
 * Embedded metric format: the metrics a function's log lines carry (Powertools Metrics writes them), as
 * CloudWatch Logs extracts them.
 *
 * Per "Specification: Embedded metric format" (CloudWatch User Guide): the log event MUST be a JSON object with
 * no other data before or after it; its `_aws` member holds `Timestamp` (epoch milliseconds) and
 * `CloudWatchMetrics`, an array of metric directives, each with a `Namespace` string, `Dimensions` (an array
 * of dimension sets, each an array of at most 30 member names whose root values are strings) and `Metrics`
 * (at most 100 definitions `{Name, Unit?, StorageResolution?}`); every referenced member MUST be on the root
 * node, a metric's value a number or an array of at most 100 numbers. A document that breaks a rule yields no
 * metrics (CloudWatch counts it in `AWS/Logs` EMFValidationErrors); the log line itself is kept.
 */
import type { Datum } from './metrics.ts';

/** What a log line is to the metric extraction. */
export type EmfResult =
  | { readonly kind: 'not-emf' }
  | { readonly kind: 'metrics'; readonly datums: Datum[] }
  | { readonly kind: 'invalid'; readonly reason: string };

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Reads one log line; `not-emf` for anything that is not a JSON object with an `_aws` member. */
export function parseEmf(line: string): EmfResult {
  const text = line.trim();
  if (!text.startsWith('{') || !text.includes('"_aws"')) return { kind: 'not-emf' };
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    return { kind: 'not-emf' };
  }
  if (!isObject(root) || !('_aws' in root)) return { kind: 'not-emf' };
  const invalid = (reason: string): EmfResult => ({ kind: 'invalid', reason });
  const metadata = root._aws;
  if (!isObject(metadata)) return invalid('_aws is not an object');
  if (typeof metadata.Timestamp !== 'number') return invalid('_aws.Timestamp is not a number');
  if (!Array.isArray(metadata.CloudWatchMetrics)) return invalid('_aws.CloudWatchMetrics is not an array');
  const datums: Datum[] = [];
  for (const directive of metadata.CloudWatchMetrics) {
    if (!isObject(directive)) return invalid('a metric directive is not an object');
    const { Namespace, Dimensions, Metrics } = directive;
    if (typeof Namespace !== 'string' || Namespace.length === 0 || Namespace.length > 1024) {
      return invalid('a metric directive has no Namespace string of 1 to 1024 characters');
    }
    if (!Array.isArray(Dimensions)) return invalid(`${Namespace}: Dimensions is not an array`);
    if (!Array.isArray(Metrics) || Metrics.length > 100)
      return invalid(`${Namespace}: Metrics is not an array of at most 100`);
    const sets: Record<string, string>[] = [];
    for (const set of Dimensions) {
      if (!Array.isArray(set) || set.length > 30)
        return invalid(`${Namespace}: a dimension set is not an array of at most 30`);
      const dimensions: Record<string, string> = {};
      for (const member of set) {
        const value = typeof member === 'string' ? root[member] : undefined;
        if (typeof value !== 'string')
          return invalid(`${Namespace}: dimension ${String(member)} has no string value on the root`);
        dimensions[member as string] = value;
      }
      sets.push(dimensions);
    }
    // No dimension set: the metrics are published without dimensions.
    if (sets.length === 0) sets.push({});
    for (const definition of Metrics) {
      if (!isObject(definition) || typeof definition.Name !== 'string')
        return invalid(`${Namespace}: a metric has no Name`);
      const raw = root[definition.Name];
      const values = Array.isArray(raw) ? raw : [raw];
      if (
        values.length === 0 ||
        values.length > 100 ||
        values.some((value) => typeof value !== 'number' || !Number.isFinite(value))
      ) {
        return invalid(
          `${Namespace}: metric ${definition.Name} has no number (or array of at most 100 numbers) on the root`,
        );
      }
      for (const dimensions of sets) {
        for (const value of values as number[]) {
          datums.push({
            namespace: Namespace,
            name: definition.Name,
            dimensions,
            value,
            timestamp: metadata.Timestamp,
            unit: typeof definition.Unit === 'string' ? definition.Unit : undefined,
          });
        }
      }
    }
  }
  return { kind: 'metrics', datums };
}
