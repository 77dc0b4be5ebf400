import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { type EventPattern, type IEventBus, Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

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
}

/**
 * A queue in front of a consumer function, with the hub's defaults: SQS-managed encryption and
 * SSL-only access on the queue and its DLQ, redrive after `maxReceiveCount`, an event source mapping
 * that reports batch item failures (only failed records come back), 14 days' retention in the DLQ,
 * and an alarm as soon as anything reaches the DLQ.
 */
export class BufferedConsumer extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly dlqAlarm: Alarm;

  constructor(scope: Construct, id: string, props: BufferedConsumerProps) {
    super(scope, id);
    const functionTimeout = props.handler.timeout ?? Duration.seconds(3);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: props.removalPolicy,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
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
    return new Rule(this, id, {
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
  }
}
