import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalResource } from '../template.ts';
import type { InvokeResult, LocalLogger } from '../types.ts';

/** An `AWS::Lambda::EventSourceMapping` from an SQS queue, as the template configures it. */
export interface SqsMappingConfig {
  readonly functionName: string;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly reportBatchItemFailures: boolean;
  /** ScalingConfig.MaximumConcurrency: batches in flight at once. */
  readonly maxConcurrency: number;
  readonly enabled: boolean;
}

export interface PollerStats {
  batches: number;
  records: number;
  deleted: number;
  failedRecords: number;
  failedInvocations: number;
}

/** Reads a mapping's settings with Lambda's defaults (batch 10, no window, concurrency 2 for local). */
export function sqsMappingConfig(
  resource: LocalResource,
  queueUrl: (arn: string) => string,
  defaultConcurrency: number,
): SqsMappingConfig {
  const properties = resource.properties;
  const scaling = properties.ScalingConfig as { MaximumConcurrency?: number } | undefined;
  const queueArn = String(properties.EventSourceArn);
  return {
    functionName: String(properties.FunctionName),
    queueArn,
    queueUrl: queueUrl(queueArn),
    batchSize: Number(properties.BatchSize ?? 10),
    batchingWindowMs: Number(properties.MaximumBatchingWindowInSeconds ?? 0) * 1000,
    reportBatchItemFailures: ((properties.FunctionResponseTypes as string[] | undefined) ?? []).includes(
      'ReportBatchItemFailures',
    ),
    maxConcurrency: Number(scaling?.MaximumConcurrency ?? defaultConcurrency),
    enabled: properties.Enabled !== false && properties.Enabled !== 'false',
  };
}

/** The actions an SQS event source mapping's execution role needs on the queue (Lambda Developer Guide, "Using Lambda with Amazon SQS", execution role permissions). */
export const SQS_MAPPING_ACTIONS = [
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:GetQueueAttributes',
] as const;

/**
 * Refuses a mapping whose function role cannot read the queue, with the answer Lambda gives when such a mapping is
 * created: "The provided execution role does not have permissions to call ReceiveMessage on SQS".
 *
 * @param allowed whether the function's role may perform an action on the queue.
 * @throws Error naming the mapping.
 */
export function assertMappingPermissions(
  mappingLogicalId: string,
  config: Pick<SqsMappingConfig, 'queueArn'>,
  allowed: (action: string, resource: string) => boolean,
): void {
  for (const action of SQS_MAPPING_ACTIONS) {
    if (!allowed(action, config.queueArn)) {
      throw new Error(
        `${mappingLogicalId}: InvalidParameterValueException: The provided execution role does not have permissions to call ${action.slice(4)} on SQS`,
      );
    }
  }
}

function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
        name,
        {
          dataType: value.DataType ?? 'String',
          ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
          ...(value.BinaryValue !== undefined
            ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
            : {}),
          stringListValues: [],
          binaryListValues: [],
        },
      ]),
    ),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/**
 * Which records to delete after an invocation, as Lambda decides: all of them on success; with
 * ReportBatchItemFailures, all but the reported ones (a malformed response or an unknown id fails
 * the whole batch); none when the invocation failed — they come back after the visibility timeout
 * and, past maxReceiveCount, the queue moves them to its DLQ.
 */
export function recordsToDelete(
  records: readonly SQSRecord[],
  result: InvokeResult,
  reportBatchItemFailures: boolean,
): SQSRecord[] {
  if (!result.ok) return [];
  if (!reportBatchItemFailures) return [...records];
  const payload = result.payload as { batchItemFailures?: unknown } | null;
  // Lambda treats a null or empty response, and a null or empty list, as complete success.
  if (payload === null || payload === undefined || payload.batchItemFailures == null) return [...records];
  if (!Array.isArray(payload.batchItemFailures)) return [];
  const failed = new Set<string>();
  for (const failure of payload.batchItemFailures as { itemIdentifier?: unknown }[]) {
    const id = failure?.itemIdentifier;
    if (typeof id !== 'string' || id === '' || !records.some((record) => record.messageId === id)) return [];
    failed.add(id);
  }
  return records.filter((record) => !failed.has(record.messageId));
}

/**
 * Polls one queue for one function like Lambda's event source mapping: up to `maxConcurrency` batches
 * in flight, each of up to `batchSize` records gathered within the batching window, invoked with a
 * real SQSEvent, and deleted according to the function's answer.
 */
export class SqsPoller {
  readonly stats: PollerStats = {
    batches: 0,
    records: 0,
    deleted: 0,
    failedRecords: 0,
    failedInvocations: 0,
  };
  private running = false;
  private loops: Promise<void>[] = [];
  private abort = new AbortController();

  constructor(
    private readonly config: SqsMappingConfig,
    private readonly sqs: SQSClient,
    private readonly invoke: (functionName: string, event: SQSEvent) => Promise<InvokeResult>,
    private readonly region: string,
    private readonly log: LocalLogger,
  ) {}

  get functionName(): string {
    return this.config.functionName;
  }

  get enabled(): boolean {
    return this.running;
  }

  start(): void {
    if (!this.config.enabled || this.running) return;
    this.running = true;
    this.abort = new AbortController();
    this.loops = Array.from({ length: this.config.maxConcurrency }, () => this.loop());
  }

  /**
   * Stops polling. A pause (UpdateEventSourceMapping Enabled=false) lets receives in flight finish and
   * processes what they got, since SQS counts a receive even when nobody reads its answer; a shutdown
   * (`abort`) cuts them off.
   */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.running = false;
    if (options.abort) this.abort.abort();
    await Promise.allSettled(this.loops);
    this.loops = [];
  }

  private async receive(max: number, waitSeconds: number): Promise<Message[]> {
    const result = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.config.queueUrl,
        MaxNumberOfMessages: Math.min(10, max),
        WaitTimeSeconds: waitSeconds,
        // Both names: SQS's current one and the legacy one some emulators still read.
        MessageSystemAttributeNames: ['All'],
        AttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: this.abort.signal },
    );
    return result.Messages ?? [];
  }

  private async loop(): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.receive(this.config.batchSize, 1);
        if (messages.length === 0) continue;
        // A batch received while pausing is still processed (below), never dropped.
        const deadline = Date.now() + this.config.batchingWindowMs;
        while (messages.length < this.config.batchSize && Date.now() < deadline && this.running) {
          const more = await this.receive(
            this.config.batchSize - messages.length,
            Math.min(1, Math.ceil((deadline - Date.now()) / 1000)),
          );
          if (more.length === 0) break;
          messages.push(...more);
        }
        await this.process(messages);
      } catch (error) {
        if (!this.running) return;
        this.log.warn('SQS poller error', { queue: this.config.queueArn, error: (error as Error).message });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private async process(messages: Message[]): Promise<void> {
    const records = messages.map((message) => toRecord(message, this.config.queueArn, this.region));
    this.stats.batches += 1;
    this.stats.records += records.length;
    const result = await this.invoke(this.config.functionName, { Records: records });
    if (!result.ok) this.stats.failedInvocations += 1;
    const deletable = recordsToDelete(records, result, this.config.reportBatchItemFailures);
    this.stats.failedRecords += records.length - deletable.length;
    for (let start = 0; start < deletable.length; start += 10) {
      const chunk = deletable.slice(start, start + 10);
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.config.queueUrl,
          Entries: chunk.map((record, index) => ({ Id: String(index), ReceiptHandle: record.receiptHandle })),
        }),
      );
      this.stats.deleted += chunk.length;
    }
  }
}
