import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { LogSink } from './observability.ts';

/**
 * Retry pacing for SQS consumers. A record that fails with a retryable error goes back to its queue;
 * by default it becomes visible again only when the queue's visibility timeout ends (minutes, sized
 * above the function timeout), whatever the cause. Instead the consumer sets the record's visibility
 * to an exponential backoff with jitter on its receive count: the first retries come within seconds
 * (a short outage ends with the backlog moving again at once), later ones spread out so a long outage
 * is waited out across `maxReceiveCount` receives before anything reaches the DLQ, and the retries of
 * one burst do not come back in lockstep.
 */
export interface BackoffPolicy {
  /** Delay before the first retry. */
  readonly baseSeconds: number;
  /** Largest delay. */
  readonly capSeconds: number;
}

/** Delay (s) before receive `receiveCount + 1`: `base × 2^(n−1)` capped, "equal jitter" in [d/2, d]. */
export function retryDelaySeconds(receiveCount: number, policy: BackoffPolicy, random = Math.random): number {
  const exponent = Math.min(Math.max(receiveCount, 1) - 1, 30);
  const delay = Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
  return Math.max(0, Math.min(43_200, Math.round(delay / 2 + (delay / 2) * random())));
}

/**
 * The least time a record is retried before redrive: the sum of the delays at the jitter's lower bound
 * (d/2). Size the receive count from the outage the queue must wait out with this, not the upper bound.
 */
export function retryHorizonSeconds(maxReceiveCount: number, policy: BackoffPolicy): number {
  let total = 0;
  for (let receive = 1; receive < maxReceiveCount; receive += 1) {
    total += Math.min(policy.capSeconds, policy.baseSeconds * 2 ** (receive - 1)) / 2;
  }
  return total;
}

/** `arn:aws:sqs:<region>:<account>:<name>` → account and name. */
function queueOf(arn: string): { account: string; name: string } {
  const parts = arn.split(':');
  const name = parts[5];
  const account = parts[4];
  if (parts.length !== 6 || parts[2] !== 'sqs' || !name || !account) {
    throw new Error(`not an SQS queue ARN: ${arn}`);
  }
  return { account, name };
}

/**
 * Sets a failed record's visibility to its backoff delay. Best effort: when the call fails, the queue's
 * own visibility timeout still brings the record back, so a failure here is logged, never thrown.
 */
export class VisibilityBackoff {
  private readonly urls = new Map<string, Promise<string>>();

  constructor(
    private readonly sqs: SQSClient,
    private readonly policy: BackoffPolicy,
    private readonly log: Pick<LogSink, 'warn'>,
    private readonly random: () => number = Math.random,
  ) {}

  /** Returns the delay applied (s), or undefined when the visibility could not be changed. */
  async delay(record: SQSRecord, seconds?: number): Promise<number | undefined> {
    const receiveCount = Number(record.attributes.ApproximateReceiveCount ?? 1);
    const delay = seconds ?? retryDelaySeconds(receiveCount, this.policy, this.random);
    try {
      await this.sqs.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await this.queueUrl(record.eventSourceARN),
          ReceiptHandle: record.receiptHandle,
          VisibilityTimeout: delay,
        }),
      );
      return delay;
    } catch (error) {
      this.log.warn('could not set the retry delay; the queue visibility timeout applies', {
        messageId: record.messageId,
        error: error as Error,
      });
      return undefined;
    }
  }

  private queueUrl(arn: string): Promise<string> {
    let url = this.urls.get(arn);
    if (!url) {
      const { account, name } = queueOf(arn);
      url = this.sqs
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then((out) => {
          if (!out.QueueUrl) throw new Error(`no URL for queue ${name}`);
          return out.QueueUrl;
        });
      // A failed lookup is not cached: the next record tries again.
      url.catch(() => this.urls.delete(arn));
      this.urls.set(arn, url);
    }
    return url;
  }
}
