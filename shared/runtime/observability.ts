import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * Powertools singletons. Created once per module so that every invocation of a warm function reuses
 * them; service name and namespace come from the POWERTOOLS_* variables the HubFunction construct sets.
 */
export const logger = new Logger();
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Omnihub' });
export const tracer = new Tracer();

/** The narrow view of metrics the domain code needs, so tests pass a plain recorder. */
export interface Telemetry {
  count(name: string, value?: number): void;
  /** A measured value (a latency, a ratio); optional, so counting-only fakes stay valid. */
  record?(name: string, value: number, unit: 'Milliseconds' | 'Percent' | 'None'): void;
}

export const powertoolsTelemetry: Telemetry = {
  count(name, value = 1) {
    metrics.addMetric(name, 'Count', value);
  },
  record(name, value, unit) {
    metrics.addMetric(name, unit, value);
  },
};

/** The narrow view of a logger the domain code needs. */
export interface LogSink {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}
