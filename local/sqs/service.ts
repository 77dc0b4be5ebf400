import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createRequestHandler } from 'local-aws-sqs';
import type { Chaos } from '../chaos.ts';
import { readRequestBody } from '../http.ts';
import { type Refusal, sqsGuard } from '../iam/guards.ts';
import type { LocalIam } from '../iam/local-iam.ts';
import type { EmulatorService } from '../state/queues.ts';
import type { LocalTemplate } from '../template.ts';
import type { SendMessageOptions } from '../types.ts';
import { SqsChaos } from './chaos.ts';
import { decodeSqsCall, runHandler, type SqsAnswer } from './protocol.ts';

export interface QueueState {
  readonly name: string;
  readonly visible: number;
  readonly inFlight: number;
  readonly isDlq: boolean;
}

/** CreateQueue attributes that the template may set (CloudFormation property → SQS attribute). */
const ATTRIBUTES = [
  'VisibilityTimeout',
  'MessageRetentionPeriod',
  'DelaySeconds',
  'ReceiveMessageWaitTimeSeconds',
  'MaximumMessageSize',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
] as const;

/** What the SQS front end enforces besides the emulator's own semantics. */
export interface LocalSqsOptions {
  /** Evaluates every call against the caller's role and the queue policy; omitted = no IAM (unit tests). */
  readonly iam?: LocalIam;
  /** Duplicates and reordering on standard queues. */
  readonly chaos?: Chaos;
}

/** SQS's largest request (a 1 MiB message, or a batch of them, plus the envelope). */
const MAX_REQUEST_BYTES = 2 * 1024 * 1024;

/**
 * SQS for the local cloud: the `local-aws-sqs` emulator (SQS JSON and Query protocols, redrive to a
 * DLQ after `maxReceiveCount`, visibility timeouts) with the template's queues and redrive policies,
 * behind a front end that evaluates IAM (the caller's role and the queue policy) and, when asked,
 * adds SQS's duplicates and reordering. Messages live in memory.
 */
export class LocalSqs {
  readonly client: SQSClient;
  private readonly urls = new Map<string, string>();
  private readonly dlqArns = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly endpoint: string,
    template: LocalTemplate,
    /** The emulator's queues, for the local state (`local/state/queues.ts`) to follow their messages. */
    readonly service: EmulatorService,
    private readonly iam: LocalIam | undefined,
  ) {
    this.client = new SQSClient({
      endpoint,
      region: template.region,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    for (const queue of template.ofType('AWS::SQS::Queue')) {
      this.urls.set(queue.arn, queue.physicalId);
      this.urls.set(queue.physicalId, queue.physicalId);
      this.urls.set(queue.name, queue.physicalId);
      const redrive = queue.properties.RedrivePolicy as { deadLetterTargetArn?: string } | undefined;
      if (redrive?.deadLetterTargetArn) this.dlqArns.add(redrive.deadLetterTargetArn);
    }
    this.arnsByUrl = new Map(
      template.ofType('AWS::SQS::Queue').map((queue) => [queue.physicalId, queue.arn]),
    );
  }

  private readonly arnsByUrl: Map<string, string>;

  /** Starts the emulator on `port` with every queue of the template (dead-letter queues first). */
  static async start(
    template: LocalTemplate,
    port: number,
    options: LocalSqsOptions = {},
  ): Promise<LocalSqs> {
    const queues = template.ofType('AWS::SQS::Queue');
    const hasRedrive = (queue: (typeof queues)[number]) => Boolean(queue.properties.RedrivePolicy);
    const ordered = [...queues.filter((queue) => !hasRedrive(queue)), ...queues.filter(hasRedrive)];
    const definitions = ordered.map((queue) => {
      const attributes: Record<string, string> = {};
      for (const attribute of ATTRIBUTES) {
        const value = queue.properties[attribute];
        if (value !== undefined) attributes[attribute] = String(value);
      }
      const redrive = queue.properties.RedrivePolicy as
        | { deadLetterTargetArn: string; maxReceiveCount: number }
        | undefined;
      if (redrive) {
        attributes.RedrivePolicy = JSON.stringify({
          deadLetterTargetArn: redrive.deadLetterTargetArn,
          maxReceiveCount: Number(redrive.maxReceiveCount),
        });
      }
      const name =
        queue.properties.FifoQueue && !queue.name.endsWith('.fifo') ? `${queue.name}.fifo` : queue.name;
      return { QueueName: name, Attributes: attributes };
    });
    // createSqsServer without its listen, so the service (its queues) is at hand.
    const { service, requestHandler } = createRequestHandler({
      port,
      hostname: '127.0.0.1',
      region: template.region,
      accountId: template.accountId,
      validateDlqDestination: true,
      emulateQueueCreationLifecycle: false,
      emulateLazyQueues: false,
      queues: definitions,
    });
    const byName = new Map(queues.map((queue) => [queue.arn.split(':').pop() ?? queue.name, queue]));
    const chaos =
      options.chaos &&
      new SqsChaos(options.chaos, {
        nameOf: (url) => url.split('/').pop() ?? '',
        isFifo: (name) => name.endsWith('.fifo'),
        delaySeconds: (name) => Number(byName.get(name)?.properties.DelaySeconds ?? 0),
        visibilityTimeout: (name) => Number(byName.get(name)?.properties.VisibilityTimeout ?? 30),
      });
    const serve = async (req: IncomingMessage, res: ServerResponse) => {
      const body = await readRequestBody(req, MAX_REQUEST_BYTES);
      const call = decodeSqsCall(req, body);
      const refusal: Refusal | undefined = options.iam && sqsGuard(options.iam, req, call);
      if (refusal) {
        res.writeHead(refusal.status, refusal.headers);
        res.end(refusal.body);
        return;
      }
      const step = chaos?.step(call) ?? {};
      let answer: SqsAnswer =
        step.answer ??
        (await runHandler(requestHandler, req, step.input ? Buffer.from(JSON.stringify(step.input)) : body));
      if (!step.answer && step.after) answer = step.after(answer);
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    };
    const server = createServer((req, res) => {
      serve(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'InternalFailure', message: (error as Error).message }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new LocalSqs(
      server,
      `http://127.0.0.1:${port}`,
      template,
      service as unknown as EmulatorService,
      options.iam,
    );
  }

  /** A queue's URL from its ARN, URL or name. */
  queueUrl(queue: string): string {
    const url = this.urls.get(queue);
    if (!url) {
      throw Object.assign(new Error(`The specified queue does not exist: ${queue}`), {
        name: 'ResourceNotFoundException',
      });
    }
    return url;
  }

  queueArn(url: string): string | undefined {
    return this.arnsByUrl.get(url);
  }

  /**
   * Sends one message as the local services do. With `options.caller` (EventBridge delivering for a rule, a
   * function's destination) the call is first evaluated by IAM: the queue policy for a service principal, the
   * role and the queue policy for a role.
   *
   * @throws AccessDeniedError when IAM refuses the caller.
   */
  async send(queue: string, body: string, options: SendMessageOptions = {}): Promise<{ messageId: string }> {
    const url = this.queueUrl(queue);
    if (options.caller && this.iam) {
      this.iam.assertAllowed(options.caller, [
        { action: 'sqs:SendMessage', resource: this.queueArn(url) ?? queue },
      ]);
    }
    const result = await this.client.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: body,
        ...(options.messageGroupId ? { MessageGroupId: options.messageGroupId } : {}),
        ...(options.messageDeduplicationId ? { MessageDeduplicationId: options.messageDeduplicationId } : {}),
        ...(options.delaySeconds !== undefined ? { DelaySeconds: options.delaySeconds } : {}),
        ...(options.messageAttributes ? { MessageAttributes: options.messageAttributes } : {}),
      }),
    );
    return { messageId: result.MessageId ?? '' };
  }

  /** `GET /_local/queues`: what is waiting and in flight in every queue. */
  async describe(): Promise<QueueState[]> {
    const states: QueueState[] = [];
    for (const [url, arn] of this.arnsByUrl) {
      const result = await this.client.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      );
      states.push({
        name: url.slice(url.lastIndexOf('/') + 1),
        visible: Number(result.Attributes?.ApproximateNumberOfMessages ?? 0),
        inFlight: Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
        isDlq: this.dlqArns.has(arn),
      });
    }
    return states.sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    this.client.destroy();
    await new Promise<void>((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}
