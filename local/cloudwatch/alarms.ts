/**
 * The template's `AWS::CloudWatch::Alarm`s, evaluated on the local metrics.
 *
 * Evaluation as "Using Amazon CloudWatch alarms" → "Evaluating an alarm" and "Configuring how CloudWatch
 * alarms treat missing data" (CloudWatch User Guide) describe it: each evaluation looks at the last
 * `EvaluationPeriods` periods of `Period` seconds; each period's datapoint is the alarm's statistic over the
 * values in it (or missing); the alarm goes to ALARM when at least `DatapointsToAlarm` (default:
 * EvaluationPeriods) of them breach the threshold, to OK when that can no longer be. Missing datapoints per
 * `TreatMissingData`: `breaching` and `notBreaching` count them as such; `ignore` keeps the state when all are
 * missing; `missing` (the default) goes to INSUFFICIENT_DATA when all are missing. With some missing and too
 * few present to decide, the state is kept (a simplification of the guide's table). An alarm starts in
 * INSUFFICIENT_DATA. On each state change the actions of the new state run (`AlarmActions`, `OKActions`,
 * `InsufficientDataActions`, when `ActionsEnabled`); an SNS topic action is recorded as the notification
 * CloudWatch publishes.
 *
 * What the local cloud cannot evaluate refuses to load: metric math (`Metrics`), anomaly detection
 * comparisons, extended statistics other than percentiles.
 */
import { z } from 'zod';
import type { LocalResource } from '../template.ts';
import { type MetricStore, PERCENTILE, STATISTICS, statistic } from './metrics.ts';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

const COMPARISONS = {
  GreaterThanOrEqualToThreshold: (value: number, threshold: number) => value >= threshold,
  GreaterThanThreshold: (value: number, threshold: number) => value > threshold,
  LessThanThreshold: (value: number, threshold: number) => value < threshold,
  LessThanOrEqualToThreshold: (value: number, threshold: number) => value <= threshold,
} as const;

const COMPARISON_TEXT: Record<keyof typeof COMPARISONS, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

/** `AWS::CloudWatch::Alarm` properties (resolved). */
const AlarmProperties = z
  .object({
    AlarmName: z.string().optional(),
    AlarmDescription: z.string().optional(),
    ActionsEnabled: z.boolean().optional(),
    AlarmActions: z.array(z.string()).optional(),
    OKActions: z.array(z.string()).optional(),
    InsufficientDataActions: z.array(z.string()).optional(),
    MetricName: z.string(),
    Namespace: z.string(),
    Dimensions: z.array(z.object({ Name: z.string(), Value: z.coerce.string() })).optional(),
    Statistic: z.enum(STATISTICS).optional(),
    ExtendedStatistic: z.string().optional(),
    Period: z.coerce.number().int().min(1),
    Unit: z.string().optional(),
    EvaluationPeriods: z.coerce.number().int().min(1),
    DatapointsToAlarm: z.coerce.number().int().min(1).optional(),
    Threshold: z.coerce.number(),
    ComparisonOperator: z.enum(
      Object.keys(COMPARISONS) as [keyof typeof COMPARISONS, ...(keyof typeof COMPARISONS)[]],
    ),
    TreatMissingData: z.enum(['breaching', 'notBreaching', 'ignore', 'missing']).optional(),
  })
  .loose();

/** One alarm as loaded from the template. */
export interface AlarmDefinition {
  readonly name: string;
  readonly arn: string;
  readonly logicalId: string;
  readonly description?: string | undefined;
  readonly actionsEnabled: boolean;
  readonly alarmActions: readonly string[];
  readonly okActions: readonly string[];
  readonly insufficientDataActions: readonly string[];
  readonly metricName: string;
  readonly namespace: string;
  readonly dimensions: Readonly<Record<string, string>>;
  /** `Statistic` or `ExtendedStatistic` (a percentile). */
  readonly statistic: string;
  readonly extended: boolean;
  readonly period: number;
  readonly unit?: string | undefined;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  readonly threshold: number;
  readonly comparison: keyof typeof COMPARISONS;
  readonly treatMissingData: 'breaching' | 'notBreaching' | 'ignore' | 'missing';
}

/**
 * Reads an `AWS::CloudWatch::Alarm`.
 *
 * @throws Error naming the alarm when it is invalid or uses what the local cloud does not evaluate.
 */
export function loadAlarm(resource: LocalResource): AlarmDefinition {
  const fail = (message: string) => new Error(`AWS::CloudWatch::Alarm ${resource.logicalId}: ${message}`);
  if ('Metrics' in resource.properties) {
    throw fail('metric math alarms (Metrics) are not evaluated by the local cloud');
  }
  const parsed = AlarmProperties.safeParse(resource.properties);
  if (!parsed.success) throw fail(z.prettifyError(parsed.error));
  const props = parsed.data;
  if ((props.Statistic === undefined) === (props.ExtendedStatistic === undefined)) {
    throw fail('exactly one of Statistic and ExtendedStatistic is required');
  }
  if (props.ExtendedStatistic !== undefined && !PERCENTILE.test(props.ExtendedStatistic)) {
    throw fail(`ExtendedStatistic ${props.ExtendedStatistic}: only percentiles (pNN) are evaluated locally`);
  }
  const datapointsToAlarm = props.DatapointsToAlarm ?? props.EvaluationPeriods;
  if (datapointsToAlarm > props.EvaluationPeriods) {
    throw fail('DatapointsToAlarm is greater than EvaluationPeriods');
  }
  return {
    name: resource.name,
    arn: resource.arn,
    logicalId: resource.logicalId,
    description: props.AlarmDescription,
    actionsEnabled: props.ActionsEnabled ?? true,
    alarmActions: props.AlarmActions ?? [],
    okActions: props.OKActions ?? [],
    insufficientDataActions: props.InsufficientDataActions ?? [],
    metricName: props.MetricName,
    namespace: props.Namespace,
    dimensions: Object.fromEntries(
      (props.Dimensions ?? []).map((dimension) => [dimension.Name, dimension.Value]),
    ),
    statistic: props.Statistic ?? (props.ExtendedStatistic as string),
    extended: props.Statistic === undefined,
    period: props.Period,
    unit: props.Unit,
    evaluationPeriods: props.EvaluationPeriods,
    datapointsToAlarm,
    threshold: props.Threshold,
    comparison: props.ComparisonOperator,
    treatMissingData: props.TreatMissingData ?? 'missing',
  };
}

/** One state change, as DescribeAlarmHistory lists them. */
export interface AlarmHistoryItem {
  readonly timestamp: string;
  readonly oldState: AlarmState;
  readonly newState: AlarmState;
  readonly reason: string;
}

/** The result of one evaluation: the state it leads to (undefined: keep the state) and why. */
export interface Evaluation {
  readonly state: AlarmState | undefined;
  readonly reason: string;
  readonly datapoints: readonly (number | undefined)[];
}

/**
 * Evaluates an alarm now. `periodMs` is the alarm's period in local time (Period × the local cloud's alarm
 * time scale); the periods end at `now`, newest last.
 */
export function evaluate(
  alarm: AlarmDefinition,
  store: MetricStore,
  now: number,
  periodMs: number,
): Evaluation {
  const datapoints: (number | undefined)[] = [];
  for (let index = alarm.evaluationPeriods; index >= 1; index -= 1) {
    const end = now - (index - 1) * periodMs;
    const values = store.values(
      alarm.namespace,
      alarm.metricName,
      alarm.dimensions,
      end - periodMs,
      end,
      alarm.unit,
    );
    datapoints.push(statistic(values, alarm.statistic));
  }
  const compare = COMPARISONS[alarm.comparison];
  const present = datapoints.filter((value): value is number => value !== undefined);
  const missing = datapoints.length - present.length;
  let breaching = present.filter((value) => compare(value, alarm.threshold)).length;
  let notBreaching = present.length - breaching;
  if (alarm.treatMissingData === 'breaching') breaching += missing;
  if (alarm.treatMissingData === 'notBreaching') notBreaching += missing;
  const shown = datapoints.map((value) => (value === undefined ? 'missing' : String(value))).join(', ');
  const description = `${breaching} out of the last ${alarm.evaluationPeriods} datapoints [${shown}] ${breaching === 1 ? 'was' : 'were'} ${COMPARISON_TEXT[alarm.comparison]} the threshold (${alarm.threshold}) (minimum ${alarm.datapointsToAlarm} datapoint${alarm.datapointsToAlarm === 1 ? '' : 's'} for ALARM)`;
  if (breaching >= alarm.datapointsToAlarm) {
    return { state: 'ALARM', reason: `Threshold Crossed: ${description}.`, datapoints };
  }
  if (notBreaching > alarm.evaluationPeriods - alarm.datapointsToAlarm) {
    return { state: 'OK', reason: `Threshold Crossed: ${description}.`, datapoints };
  }
  if (present.length === 0 && alarm.treatMissingData === 'missing') {
    return {
      state: 'INSUFFICIENT_DATA',
      reason: `Insufficient Data: ${alarm.evaluationPeriods} datapoint${alarm.evaluationPeriods === 1 ? ' was' : 's were'} unknown.`,
      datapoints,
    };
  }
  return { state: undefined, reason: '', datapoints };
}
