/**
 * CloudWatch for the local cloud: metrics from the functions' embedded-metric-format log lines and from what
 * the local services count (SQS queue depths, Lambda invocations, errors and throttles, Step Functions
 * executions), the template's alarms evaluated on them, and the notifications their SNS actions publish.
 *
 * Service metrics, as each service documents them (namespace, name, dimension):
 * - `AWS/SQS` `ApproximateNumberOfMessagesVisible`, `ApproximateNumberOfMessagesNotVisible` by `QueueName`,
 *   sampled continuously (SQS "Available CloudWatch metrics");
 * - `AWS/Lambda` `Invocations`, `Errors`, `Throttles` by `FunctionName`, one datapoint per sample in which the
 *   function was invoked (Lambda "Types of metrics for Lambda functions");
 * - `AWS/States` `ExecutionsStarted`, `ExecutionsSucceeded`, `ExecutionsFailed`, `ExecutionsTimedOut`,
 *   `ExecutionsAborted` by `StateMachineArn` (Step Functions "Execution metrics").
 *
 * `alarmTimeScale` shortens every alarm period the same way (0.01: a 60-second period lasts 0.6 s), so a test
 * sees an alarm fire within its evaluation period without waiting minutes.
 */
import type { LocalTemplate } from '../template.ts';
import type { LocalLogger } from '../types.ts';
import {
  type AlarmDefinition,
  type AlarmHistoryItem,
  type AlarmState,
  evaluate,
  loadAlarm,
} from './alarms.ts';
import { parseEmf } from './emf.ts';
import { type Datum, MetricStore } from './metrics.ts';

/** What the local services report, read at every sample. */
export interface MetricSources {
  queues(): Promise<readonly { name: string; visible: number; inFlight: number }[]>;
  functions(): Readonly<Record<string, { invocations: number; errors: number; throttles?: number }>>;
  executions(): readonly {
    stateMachineArn: string;
    status: string;
    startDate: Date;
    stopDate?: Date | undefined;
  }[];
}

export interface LocalCloudWatchOptions {
  /** Multiplies every alarm's Period (and so its evaluation window). @default 1 */
  readonly alarmTimeScale?: number;
  readonly log: LocalLogger;
  readonly now?: () => number;
}

/** An alarm's state now and how it got there. */
export interface AlarmStatus {
  readonly definition: AlarmDefinition;
  state: AlarmState;
  reason: string;
  updatedAt: number;
  readonly history: AlarmHistoryItem[];
}

/** What an alarm action published (SNS) or would have run. */
export interface Notification {
  readonly timestamp: string;
  readonly alarmName: string;
  readonly action: string;
  readonly kind: 'sns' | 'unsupported';
  readonly oldState: AlarmState;
  readonly newState: AlarmState;
  readonly subject: string;
  /** The JSON CloudWatch publishes to the topic. */
  readonly message: Record<string, unknown>;
}

const MAX_HISTORY = 100;

export class LocalCloudWatch {
  readonly metrics = new MetricStore();
  readonly alarms: AlarmStatus[];
  readonly notifications: Notification[] = [];
  private readonly scale: number;
  private readonly now: () => number;
  private readonly log: LocalLogger;
  private timer: NodeJS.Timeout | undefined;
  private sampling: Promise<void> | undefined;
  private lastSample: number;
  private readonly lastCounts = new Map<string, { invocations: number; errors: number; throttles: number }>();
  private readonly invalidEmf = new Map<string, number>();

  /**
   * Loads the template's alarms.
   *
   * @throws Error naming an alarm the local cloud cannot evaluate (see alarms.ts).
   */
  constructor(
    private readonly template: LocalTemplate,
    private readonly sources: MetricSources,
    options: LocalCloudWatchOptions,
  ) {
    this.scale = options.alarmTimeScale ?? 1;
    if (!(this.scale > 0)) throw new Error(`alarmTimeScale must be positive, got ${this.scale}`);
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.lastSample = this.now();
    this.alarms = template.ofType('AWS::CloudWatch::Alarm').map((resource) => ({
      definition: loadAlarm(resource),
      state: 'INSUFFICIENT_DATA',
      reason: 'Unchecked: Initial alarm creation',
      updatedAt: this.now(),
      history: [],
    }));
  }

  /** How often the services are sampled and the alarms evaluated: a quarter of the shortest period. */
  get sampleIntervalMs(): number {
    const shortest = Math.min(60, ...this.alarms.map((alarm) => alarm.definition.period)) * 1000 * this.scale;
    return Math.max(50, Math.min(15_000, shortest / 4));
  }

  /** Starts sampling and evaluating. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.tick(), this.sampleIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sampling;
  }

  /** One function log line: its embedded metrics, if any, become datapoints. */
  ingestLog(functionName: string, line: string): void {
    const result = parseEmf(line);
    if (result.kind === 'metrics') {
      for (const datum of result.datums) this.metrics.put(datum);
    } else if (result.kind === 'invalid') {
      const count = (this.invalidEmf.get(functionName) ?? 0) + 1;
      this.invalidEmf.set(functionName, count);
      if (count === 1) {
        this.log.warn(
          'CloudWatch: an embedded-metric-format log line is invalid; CloudWatch extracts no metrics from it',
          {
            function: functionName,
            reason: result.reason,
          },
        );
      }
    }
  }

  /** Samples the services and evaluates every alarm now (the timer does this; tests call it directly). */
  tick(): Promise<void> {
    this.sampling ??= (async () => {
      try {
        await this.sample();
        this.evaluateAll();
      } catch (error) {
        this.log.error('CloudWatch: sampling failed', { error: String(error) });
      } finally {
        this.sampling = undefined;
      }
    })();
    return this.sampling;
  }

  /** Counters for `/_local/health`. */
  get counters(): { datapoints: number; alarms: number; inAlarm: number; invalidEmfLines: number } {
    return {
      datapoints: this.metrics.count,
      alarms: this.alarms.length,
      inAlarm: this.alarms.filter((alarm) => alarm.state === 'ALARM').length,
      invalidEmfLines: [...this.invalidEmf.values()].reduce((sum, count) => sum + count, 0),
    };
  }

  private put(
    namespace: string,
    name: string,
    dimensions: Record<string, string>,
    value: number,
    timestamp: number,
  ): void {
    const datum: Datum = { namespace, name, dimensions, value, timestamp, unit: 'Count' };
    this.metrics.put(datum);
  }

  private async sample(): Promise<void> {
    const now = this.now();
    for (const queue of await this.sources.queues()) {
      this.put(
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        { QueueName: queue.name },
        queue.visible,
        now,
      );
      this.put(
        'AWS/SQS',
        'ApproximateNumberOfMessagesNotVisible',
        { QueueName: queue.name },
        queue.inFlight,
        now,
      );
    }
    for (const [name, stats] of Object.entries(this.sources.functions())) {
      const last = this.lastCounts.get(name) ?? { invocations: 0, errors: 0, throttles: 0 };
      const current = {
        invocations: stats.invocations,
        errors: stats.errors,
        throttles: stats.throttles ?? 0,
      };
      this.lastCounts.set(name, current);
      const invocations = current.invocations - last.invocations;
      const throttles = current.throttles - last.throttles;
      if (invocations <= 0 && throttles <= 0) continue;
      this.put('AWS/Lambda', 'Invocations', { FunctionName: name }, invocations, now);
      this.put('AWS/Lambda', 'Errors', { FunctionName: name }, current.errors - last.errors, now);
      this.put('AWS/Lambda', 'Throttles', { FunctionName: name }, throttles, now);
    }
    const since = this.lastSample;
    this.lastSample = now;
    const closedAs: Record<string, string> = {
      SUCCEEDED: 'ExecutionsSucceeded',
      FAILED: 'ExecutionsFailed',
      TIMED_OUT: 'ExecutionsTimedOut',
      ABORTED: 'ExecutionsAborted',
    };
    const counts = new Map<string, number>();
    const add = (arn: string, metric: string) =>
      counts.set(`${arn} ${metric}`, (counts.get(`${arn} ${metric}`) ?? 0) + 1);
    for (const execution of this.sources.executions()) {
      const started = execution.startDate.getTime();
      if (started > since && started <= now) add(execution.stateMachineArn, 'ExecutionsStarted');
      const stopped = execution.stopDate?.getTime();
      const metric = closedAs[execution.status];
      if (stopped !== undefined && stopped > since && stopped <= now && metric)
        add(execution.stateMachineArn, metric);
    }
    for (const [key, value] of counts) {
      const [arn, metric] = key.split(' ') as [string, string];
      this.put('AWS/States', metric, { StateMachineArn: arn }, value, now);
    }
  }

  private evaluateAll(): void {
    const now = this.now();
    for (const alarm of this.alarms) {
      const result = evaluate(
        alarm.definition,
        this.metrics,
        now,
        alarm.definition.period * 1000 * this.scale,
      );
      if (result.state === undefined || result.state === alarm.state) continue;
      const oldState = alarm.state;
      alarm.state = result.state;
      alarm.reason = result.reason;
      alarm.updatedAt = now;
      alarm.history.push({
        timestamp: new Date(now).toISOString(),
        oldState,
        newState: result.state,
        reason: result.reason,
      });
      if (alarm.history.length > MAX_HISTORY) alarm.history.shift();
      this.log.info(`CloudWatch: alarm ${alarm.definition.name} ${oldState} → ${result.state}`, {
        reason: result.reason,
      });
      this.act(alarm, oldState, now);
    }
  }

  /** Runs the actions of the alarm's new state (SNS topics are recorded as the notification CloudWatch sends). */
  private act(alarm: AlarmStatus, oldState: AlarmState, now: number): void {
    const { definition } = alarm;
    if (!definition.actionsEnabled) return;
    const actions =
      alarm.state === 'ALARM'
        ? definition.alarmActions
        : alarm.state === 'OK'
          ? definition.okActions
          : definition.insufficientDataActions;
    for (const action of actions) {
      const kind = action.startsWith('arn:aws:sns:') ? 'sns' : 'unsupported';
      if (kind === 'unsupported') {
        this.log.warn('CloudWatch: this kind of alarm action is not run locally; recorded only', {
          alarm: definition.name,
          action,
        });
      }
      this.notifications.push({
        timestamp: new Date(now).toISOString(),
        alarmName: definition.name,
        action,
        kind,
        oldState,
        newState: alarm.state,
        subject: `${alarm.state}: "${definition.name}" in ${this.template.region}`,
        // The message body of CloudWatch's SNS notifications ("Amazon SNS notification … of an alarm").
        message: {
          AlarmName: definition.name,
          AlarmDescription: definition.description ?? null,
          AWSAccountId: this.template.accountId,
          AlarmConfigurationUpdatedTimestamp: new Date(now).toISOString(),
          NewStateValue: alarm.state,
          NewStateReason: alarm.reason,
          StateChangeTime: new Date(now).toISOString(),
          Region: this.template.region,
          AlarmArn: definition.arn,
          OldStateValue: oldState,
          OKActions: definition.okActions,
          AlarmActions: definition.alarmActions,
          InsufficientDataActions: definition.insufficientDataActions,
          Trigger: {
            MetricName: definition.metricName,
            Namespace: definition.namespace,
            StatisticType: definition.extended ? 'ExtendedStatistic' : 'Statistic',
            Statistic: definition.extended ? null : definition.statistic.toUpperCase(),
            ...(definition.extended ? { ExtendedStatistic: definition.statistic } : {}),
            Unit: definition.unit ?? null,
            Dimensions: Object.entries(definition.dimensions).map(([name, value]) => ({ value, name })),
            Period: definition.period,
            EvaluationPeriods: definition.evaluationPeriods,
            DatapointsToAlarm: definition.datapointsToAlarm,
            ComparisonOperator: definition.comparison,
            Threshold: definition.threshold,
            TreatMissingData: definition.treatMissingData,
          },
        },
      });
    }
  }

  /** `GET /_local/alarms`. */
  describeForLocal(): Record<string, unknown>[] {
    return this.alarms.map((alarm) => ({
      name: alarm.definition.name,
      state: alarm.state,
      reason: alarm.reason,
      updatedAt: new Date(alarm.updatedAt).toISOString(),
      metric: {
        namespace: alarm.definition.namespace,
        name: alarm.definition.metricName,
        dimensions: alarm.definition.dimensions,
        statistic: alarm.definition.statistic,
        period: alarm.definition.period,
        localPeriodMs: alarm.definition.period * 1000 * this.scale,
      },
      comparison: alarm.definition.comparison,
      threshold: alarm.definition.threshold,
      evaluationPeriods: alarm.definition.evaluationPeriods,
      datapointsToAlarm: alarm.definition.datapointsToAlarm,
      treatMissingData: alarm.definition.treatMissingData,
      history: alarm.history,
    }));
  }
}
