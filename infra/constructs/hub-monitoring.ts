import { Annotations, Aspects, Duration, type IAspect, Stack, Validations } from 'aws-cdk-lib';
import {
  Alarm,
  type CfnAlarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription, UrlSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct, type IConstruct } from 'constructs';
import type { EnvironmentConfig } from '../config/environments.ts';
import { BufferedConsumer } from './buffered-consumer.ts';
import { HubKey } from './hub-key.ts';
import type { WebhookApi } from './webhook-api.ts';

/** The hub's own metrics (Powertools, `POWERTOOLS_METRICS_NAMESPACE`), by `service` dimension. */
export const HUB_NAMESPACE = 'Omnihub';
/** The reconciler's drift metric (emitted by `functions/reconciler`, service `reconciler`). */
export const DRIFT_METRIC = { metricName: 'ReconciliationDrift', service: 'reconciler' } as const;

/**
 * The runbook of each kind of alarm, by the metric it watches (`<namespace> <metric>`), under
 * `docs/runbooks/`. An alarm whose metric has none fails synthesis: every page an operator gets says
 * what it means, how to look, and how to replay.
 */
export const RUNBOOKS: Readonly<Record<string, string>> = {
  'AWS/SQS ApproximateNumberOfMessagesVisible': 'dlq-messages.md',
  'AWS/SQS ApproximateAgeOfOldestMessage': 'queue-age.md',
  'AWS/Lambda Errors': 'function-errors.md',
  'AWS/Lambda Throttles': 'function-throttles.md',
  'AWS/States ExecutionsFailed': 'state-machine-failed.md',
  'AWS/States ExecutionsTimedOut': 'state-machine-failed.md',
  'AWS/States ExecutionsAborted': 'state-machine-failed.md',
  'AWS/ApiGateway 5xx': 'api-5xx.md',
  'AWS/ApiGateway 4xx': 'api-4xx.md',
  'AWS/ApiGateway Latency': 'api-latency.md',
  [`${HUB_NAMESPACE} ErpThrottled`]: 'erp-throttling.md',
  [`${HUB_NAMESPACE} ShopifyThrottled`]: 'shopify-throttling.md',
  [`${HUB_NAMESPACE} ${DRIFT_METRIC.metricName}`]: 'reconciliation-drift.md',
};
export const RUNBOOK_DIR = 'docs/runbooks';

/** Oldest message of a consumer queue older than this: the flow is behind (an outage being waited out). */
const QUEUE_AGE_ALARM = Duration.minutes(30);

export interface HubMonitoringProps {
  readonly config: EnvironmentConfig;
  readonly webhookApi: WebhookApi;
}

/**
 * Alarms that page and the environment's dashboard. It walks the stack (so it is created after the flows):
 * every queue gets an oldest-message-age alarm and every DLQ a visible-messages alarm (a
 * {@link BufferedConsumer}'s own), every Lambda function errors and throttles alarms, every state machine
 * failed/timed-out alarms (a HubStateMachine's own), the webhook API 5xx and p99 latency alarms, the ERP
 * and Shopify throttling alarms of the functions that call them, and reconciliation drift. Then an aspect
 * gives every alarm of the stack — those above, the flows' own, any added later — the SNS topic's action and
 * its runbook's link; a validation fails synthesis if a queue, DLQ, function or state machine added after
 * this construct has no alarm.
 */
export class HubMonitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: HubMonitoringProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);
    const key = HubKey.of(this);
    this.topic = new Topic(this, 'AlarmTopic', {
      topicName: `omnihub-${config.name}-alarms`,
      displayName: `Omnihub ${config.name} alarms`,
      enforceSSL: true,
      ...(key ? { masterKey: key } : {}),
    });
    if (key) {
      // CloudWatch publishes to an encrypted topic only with a customer managed key that lets it
      // (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarms-and-encrypted-topics).
      key.addToResourcePolicy(
        new PolicyStatement({
          sid: 'CloudWatchAlarmsPublish',
          principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
        }),
      );
    } else {
      Validations.of(this.topic).acknowledge({
        id: 'AwsSolutions-SNS2',
        reason:
          'CloudWatch alarms cannot publish to a topic encrypted with the AWS managed SNS key (CloudWatch User Guide, "Amazon SNS topics with encryption"); with the hub key (encryption: customer-managed) the topic is encrypted.',
      });
    }
    for (const email of config.alarms?.emails ?? []) this.topic.addSubscription(new EmailSubscription(email));
    for (const url of config.alarms?.httpsEndpoints ?? [])
      this.topic.addSubscription(new UrlSubscription(url));

    const alarms = new Construct(this, 'Alarms');
    const all = () => stack.node.findAll();
    const queues = all().filter((node): node is Queue => node instanceof Queue);
    const dlqRefs = new Set<unknown>(
      queues.flatMap((queue) => (queue.deadLetterQueue ? [queue.deadLetterQueue.queue] : [])),
    );
    const deadLetterQueues = new Set(queues.filter((queue) => dlqRefs.has(queue)));
    const consumers = all().filter((node): node is BufferedConsumer => node instanceof BufferedConsumer);
    const alarmed = new Set<IConstruct>(consumers.map((consumer) => consumer.deadLetterQueue));
    const functions = all().filter((node): node is LambdaFunction => node instanceof LambdaFunction);
    const machines = all().filter((node): node is StateMachine => node instanceof StateMachine);
    const count = (
      alarmId: string,
      metric: IMetric,
      description: string,
      threshold = 1,
      operator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    ) =>
      new Alarm(alarms, alarmId, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: operator,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    const name = (construct: IConstruct) =>
      `${construct.node.scope?.node.id ?? ''}${construct.node.id}`.replace(/[^A-Za-z0-9]/g, '');

    for (const queue of queues) {
      if (deadLetterQueues.has(queue)) {
        if (alarmed.has(queue)) continue;
        count(
          `${name(queue)}Visible`,
          queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(1),
            statistic: 'Maximum',
          }),
          `Messages in the DLQ ${queue.node.path}: inspect, fix, then redrive with the ops tool`,
        );
      } else {
        count(
          `${name(queue)}Age`,
          queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
          `The oldest message of ${queue.node.path} waits over ${QUEUE_AGE_ALARM.toMinutes()} minutes: its consumer is behind or failing`,
          QUEUE_AGE_ALARM.toSeconds(),
          ComparisonOperator.GREATER_THAN_THRESHOLD,
        );
      }
    }
    for (const fn of functions) {
      const fnName = name(fn);
      count(
        `${fnName}Errors`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        `${fn.node.path} failed 3 or more invocations in 5 minutes`,
        3,
      );
      count(
        `${fnName}Throttles`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        `${fn.node.path} was throttled (concurrency) in the last 5 minutes`,
      );
      const variables = serviceVariables(fn);
      if (!variables.service) continue;
      const hubMetric = (metricName: string) =>
        new Metric({
          namespace: HUB_NAMESPACE,
          metricName,
          dimensionsMap: { service: variables.service as string },
          period: Duration.minutes(5),
          statistic: 'Sum',
        });
      if (variables.callsErp) {
        count(
          `${fnName}ErpThrottled`,
          hubMetric('ErpThrottled'),
          `${variables.service}: 20 or more NetSuite calls answered 429 / concurrency governance in 5 minutes (the pacing is above the account's limit, or another integration uses it)`,
          20,
        );
      }
      if (variables.callsShopify) {
        count(
          `${fnName}ShopifyThrottled`,
          hubMetric('ShopifyThrottled'),
          `${variables.service}: 10 or more Shopify Admin calls throttled in 5 minutes (the cost bucket is empty)`,
          10,
        );
      }
    }
    const hubMachineAlarms = new Set(
      all()
        .filter((node): node is Alarm => node instanceof Alarm)
        .flatMap((alarm) => (alarm.node.defaultChild as CfnAlarm).dimensions)
        .map((dimension) => JSON.stringify(stack.resolve(dimension))),
    );
    for (const machine of machines) {
      const dimension = JSON.stringify(
        stack.resolve({ name: 'StateMachineArn', value: machine.stateMachineArn }),
      );
      if (hubMachineAlarms.has(dimension)) continue;
      count(
        `${name(machine)}Failed`,
        machine.metricFailed({ period: Duration.minutes(1), statistic: 'Sum' }),
        `Failed executions of ${machine.node.path}: read the history, fix, redrive`,
      );
      count(
        `${name(machine)}TimedOut`,
        machine.metricTimedOut({ period: Duration.minutes(1), statistic: 'Sum' }),
        `Timed-out executions of ${machine.node.path}: read the history, fix, redrive`,
      );
    }
    const api = props.webhookApi.api;
    const apiMetric = (metricName: string, statistic: string) =>
      new Metric({
        namespace: 'AWS/ApiGateway',
        metricName,
        dimensionsMap: { ApiId: api.apiId, Stage: '$default' },
        period: Duration.minutes(5),
        statistic,
      });
    count(
      'WebhookApi5xx',
      apiMetric('5xx', 'Sum'),
      'The webhook API answered 5xx 5 or more times in 5 minutes: vendors retry, but a lasting failure loses deliveries after their retry budget',
      5,
    );
    new Alarm(alarms, 'WebhookApiLatencyP99', {
      alarmDescription:
        'The webhook API p99 latency is above 3 s for 15 minutes: Shopify waits 5 s for an answer and counts slower ones as failed',
      metric: apiMetric('Latency', 'p99'),
      threshold: 3000,
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    count(
      'ReconciliationDrift',
      new Metric({
        namespace: HUB_NAMESPACE,
        metricName: DRIFT_METRIC.metricName,
        dimensionsMap: { service: DRIFT_METRIC.service },
        period: Duration.minutes(15),
        statistic: 'Maximum',
      }),
      'The reconciler found discrepancies between the ERP, Shopify, the POS and the projection',
      0,
      ComparisonOperator.GREATER_THAN_THRESHOLD,
    );

    this.dashboard = this.buildDashboard(config, {
      queues,
      deadLetterQueues,
      functions,
      machines,
      apiMetric,
    });

    const action = new SnsAction(this.topic);
    Aspects.of(stack).add(new AlarmWiring(action));
    this.node.addValidation({
      validate: () => {
        const known = new Set<IConstruct>([...queues, ...functions, ...machines]);
        return all()
          .filter(
            (node) =>
              (node instanceof Queue || node instanceof LambdaFunction || node instanceof StateMachine) &&
              !known.has(node),
          )
          .map(
            (node) =>
              `${node.node.path} was created after ${this.node.path}: it has no alarms (create HubMonitoring after every flow)`,
          );
      },
    });
  }

  private buildDashboard(
    config: EnvironmentConfig,
    parts: {
      queues: Queue[];
      deadLetterQueues: Set<Queue>;
      functions: LambdaFunction[];
      machines: StateMachine[];
      apiMetric: (name: string, statistic: string) => Metric;
    },
  ): Dashboard {
    const services = parts.functions
      .map((fn) => serviceVariables(fn).service)
      .filter((s): s is string => !!s);
    const hub = (metricName: string, service: string, statistic = 'Sum') =>
      new Metric({
        namespace: HUB_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period: Duration.minutes(5),
        label: `${service} ${metricName}`,
      });
    const width = 12;
    const consumerQueues = parts.queues.filter((queue) => !parts.deadLetterQueues.has(queue));
    const dlqs = [...parts.deadLetterQueues];
    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `omnihub-${config.name}` });
    dashboard.addWidgets(
      new TextWidget({
        markdown: `# Omnihub ${config.name}\nAlarms notify the SNS topic \`omnihub-${config.name}-alarms\`; each alarm links its runbook (${RUNBOOK_DIR}/). Trace an order: \`npm run -s ops -- trace <id> --env ${config.name}\`.`,
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Throughput per flow (invocations)',
        width,
        left: parts.functions.map((fn) =>
          fn.metricInvocations({
            period: Duration.minutes(5),
            label: serviceVariables(fn).service ?? fn.node.id,
          }),
        ),
      }),
      new GraphWidget({
        title: 'Business outcomes',
        width,
        left: [
          ...services.map((service) => hub('EventsPublished', service)),
          ...services
            .filter((s) => s === 'erp-order-sync')
            .flatMap((service) => [hub('OrderSynced', service), hub('OrderSyncParked', service)]),
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Sync lag: oldest message age (s)',
        width,
        left: consumerQueues.map((queue) =>
          queue.metricApproximateAgeOfOldestMessage({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: queue.node.scope?.node.id ?? queue.node.id,
          }),
        ),
      }),
      new GraphWidget({
        title: 'Queue depth (and DLQs)',
        width,
        left: consumerQueues.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: queue.node.scope?.node.id ?? queue.node.id,
          }),
        ),
        right: dlqs.map((queue) =>
          queue.metricApproximateNumberOfMessagesVisible({
            period: Duration.minutes(5),
            statistic: 'Maximum',
            label: `${queue.node.scope?.node.id ?? queue.node.id} DLQ`,
          }),
        ),
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Errors (functions, API 5xx, executions failed)',
        width,
        left: [
          ...parts.functions.map((fn) =>
            fn.metricErrors({
              period: Duration.minutes(5),
              label: serviceVariables(fn).service ?? fn.node.id,
            }),
          ),
          parts.apiMetric('5xx', 'Sum'),
          ...parts.machines.map((machine) => machine.metricFailed({ period: Duration.minutes(5) })),
        ],
      }),
      new GraphWidget({
        title: 'Throttles (Lambda, NetSuite 429, Shopify)',
        width,
        left: [
          ...parts.functions.map((fn) =>
            fn.metricThrottles({
              period: Duration.minutes(5),
              label: serviceVariables(fn).service ?? fn.node.id,
            }),
          ),
          ...parts.functions.flatMap((fn) => {
            const v = serviceVariables(fn);
            return [
              ...(v.service && v.callsErp ? [hub('ErpThrottled', v.service)] : []),
              ...(v.service && v.callsShopify ? [hub('ShopifyThrottled', v.service)] : []),
            ];
          }),
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Shopify cost bucket use (calls, throttled)',
        width,
        left: parts.functions.flatMap((fn) => {
          const v = serviceVariables(fn);
          return v.service && v.callsShopify
            ? [hub('ShopifyInventoryCalls', v.service), hub('ShopifyThrottled', v.service)]
            : [];
        }),
      }),
      new GraphWidget({
        title: 'Reconciliation drift',
        width,
        left: [hub(DRIFT_METRIC.metricName, DRIFT_METRIC.service, 'Maximum')],
        right: [parts.apiMetric('Latency', 'p99')],
      }),
    );
    return dashboard;
  }
}

/** The Powertools service of a function and which vendors it calls, from its environment. */
function serviceVariables(fn: LambdaFunction): {
  service?: string;
  callsErp: boolean;
  callsShopify: boolean;
} {
  // The variables are rendered lazily (addEnvironment): resolved here, as CloudFormation will see them.
  const environment = Stack.of(fn).resolve((fn.node.defaultChild as CfnFunction).environment) as
    | { variables?: Record<string, unknown> }
    | undefined;
  const variables = environment?.variables ?? {};
  const service = variables.POWERTOOLS_SERVICE_NAME;
  return {
    ...(typeof service === 'string' ? { service } : {}),
    callsErp: 'NETSUITE_BASE_URL' in variables,
    callsShopify: 'SHOPIFY_ADMIN_BASE_URL' in variables,
  };
}

/** Gives every alarm of the stack the topic's action and its runbook's link (or fails on an alarm without one). */
class AlarmWiring implements IAspect {
  private readonly wired = new WeakSet<Alarm>();

  constructor(private readonly action: SnsAction) {}

  visit(node: IConstruct): void {
    if (!(node instanceof Alarm) || this.wired.has(node)) return;
    this.wired.add(node);
    const cfn = node.node.defaultChild as CfnAlarm;
    const runbook = runbookOf(cfn.namespace, cfn.metricName);
    if (!runbook) {
      Annotations.of(node).addError(
        `alarm on ${cfn.namespace} ${cfn.metricName} has no runbook: write one in ${RUNBOOK_DIR}/ and add it to RUNBOOKS (infra/constructs/hub-monitoring.ts)`,
      );
      return;
    }
    if (!cfn.alarmDescription?.includes(`${RUNBOOK_DIR}/`)) {
      cfn.alarmDescription = `${cfn.alarmDescription ?? ''} Runbook: ${RUNBOOK_DIR}/${runbook}`.trim();
    }
    node.addAlarmAction(this.action);
  }
}

export function runbookOf(namespace: string | undefined, metricName: string | undefined): string | undefined {
  return RUNBOOKS[`${namespace} ${metricName}`];
}
