import { Duration, Lazy, type RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { HubKey } from './hub-key.ts';

export interface BufferedConsumerProps {
  /** The function that consumes the queue; it must answer with `batchItemFailures`. */
  readonly handler: LambdaFunction;
  /** @default 10 */
  readonly batchSize?: number;
  /** @default no batching window */
  readonly maxBatchingWindow?: Duration;
  /** Batches in flight at once (ScalingConfig.MaximumConcurrency, 2–1000): how the hub paces a vendor. @default 5 */
  readonly maxConcurrency?: number;
  /** Receives before a message is parked in the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default six times the function timeout, as AWS recommends for SQS event sources */
  readonly visibilityTimeout?: Duration;
  readonly removalPolicy: RemovalPolicy;
  /** The hub's customer managed key. @default the stack's `HubKey`, if any, else SQS-managed encryption */
  readonly encryptionKey?: IKey;
}

/**
 * A queue in front of a consumer function, with the hub's defaults: SQS-managed encryption (or the hub's
 * customer managed key) and SSL-only access on the queue and its DLQ, redrive after `maxReceiveCount`, an event source mapping
 * that reports batch item failures (only failed records come back), 14 days' retention in the DLQ,
 * and an alarm as soon as anything reaches the DLQ.
 */
export class BufferedConsumer extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly dlqAlarm: Alarm;
  private readonly encryptionKey: IKey | undefined;
  /** The rules that feed the queue: the only ones EventBridge may deliver from (see `subscribe`). */
  private readonly ruleArns: string[] = [];

  constructor(scope: Construct, id: string, props: BufferedConsumerProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey ?? HubKey.of(this);
    const functionTimeout = props.handler.timeout ?? Duration.seconds(3);
    // With a customer managed key, the consumer's event source mapping gets kms:Decrypt with its receive
    // permissions (grantConsumeMessages), and EventBridge gets the key for its deliveries (subscribe).
    const encryption = this.encryptionKey
      ? { encryption: QueueEncryption.KMS, encryptionMasterKey: this.encryptionKey }
      : { encryption: QueueEncryption.SQS_MANAGED };
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      ...encryption,
      enforceSSL: true,
      retentionPeriod: Duration.days(4),
      visibilityTimeout: props.visibilityTimeout ?? Duration.seconds(functionTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
      removalPolicy: props.removalPolicy,
    });
    props.handler.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.batchSize ?? 10,
        ...(props.maxBatchingWindow ? { maxBatchingWindow: props.maxBatchingWindow } : {}),
        maxConcurrency: props.maxConcurrency ?? 5,
        reportBatchItemFailures: true,
      }),
    );
    this.dlqAlarm = new Alarm(this, 'DeadLetterAlarm', {
      alarmDescription: `Messages parked in the DLQ of ${id}: inspect, fix, then redrive with the ops tool`,
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /**
   * Routes matching events from the bus into the queue. EventBridge retries a failed delivery for up
   * to 24 hours and then parks the event in the same DLQ, so nothing is dropped silently.
   */
  subscribe(bus: IEventBus, id: string, eventPattern: EventPattern): Rule {
    const rule = new Rule(this, id, {
      eventBus: bus,
      eventPattern,
      targets: [
        new SqsQueue(this.queue, {
          deadLetterQueue: this.deadLetterQueue,
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    // With a customer-managed key, CDK's SqsQueue target allows EventBridge by account (aws:SourceAccount),
    // not by rule: any rule of the account — on any bus, made by anyone allowed PutRule — could then feed
    // this queue (a forged RefundCreated into the ERP queue). An explicit Deny for every other source keeps
    // delivery to the hub's own rules whatever the Allow says (an explicit Deny wins). The rule ARNs can sit
    // in the queue policy (queue policy → rule → queue is no cycle), not in the key policy.
    if (this.ruleArns.length === 0) {
      this.queue.addToResourcePolicy(
        new PolicyStatement({
          sid: 'OnlyTheHubRulesDeliver',
          effect: Effect.DENY,
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sqs:SendMessage'],
          resources: [this.queue.queueArn],
          conditions: { ArnNotEquals: { 'aws:SourceArn': Lazy.list({ produce: () => this.ruleArns }) } },
        }),
      );
    }
    this.ruleArns.push(rule.ruleArn);
    // The SqsQueue target lets EventBridge use the key for the queue (CDK's send grant, limited to this
    // account: a rule ARN in the key policy would be a cycle, key → bus → rule → key), but not for the
    // rule's DLQ, which AWS documents as needing kms:Decrypt and kms:GenerateDataKey for events.amazonaws.com
    // (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html). Limited the same way, to
    // the rules of this account (one statement for every consumer).
    const stack = Stack.of(this);
    this.encryptionKey?.addToResourcePolicy(
      new PolicyStatement({
        sid: 'EventBridgeRuleDeadLetterQueues',
        principals: [new ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': stack.account },
          ArnLike: {
            'aws:SourceArn': stack.formatArn({ service: 'events', resource: 'rule', resourceName: '*' }),
          },
        },
      }),
    );
    return rule;
  }
}
