import type { Server } from 'node:http';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { createSqsServer } from 'local-aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#local/services/ports.ts';
import { retryDelaySeconds, retryHorizonSeconds, VisibilityBackoff } from '#shared/runtime/sqs-retry.ts';

const ACCOUNT = '123456789012';
const policy = { baseSeconds: 5, capSeconds: 300 };

describe('retryDelaySeconds', () => {
  it('doubles from the base per receive, capped, with jitter in [d/2, d]', () => {
    const lowest = (n: number) => retryDelaySeconds(n, policy, () => 0);
    const highest = (n: number) => retryDelaySeconds(n, policy, () => 1);
    expect([1, 2, 3, 4, 5, 6, 7, 8].map(highest)).toEqual([5, 10, 20, 40, 80, 160, 300, 300]);
    expect([1, 2, 3, 7].map(lowest)).toEqual([3, 5, 10, 150]);
    expect(highest(0)).toBe(5);
    expect(highest(1_000)).toBe(300);
  });

  it('sums the delays at the jitter lower bound: the least time before redrive', () => {
    expect(retryHorizonSeconds(12, policy)).toBe((5 + 10 + 20 + 40 + 80 + 160 + 5 * 300) / 2);
    expect(retryHorizonSeconds(1, policy)).toBe(0);
  });
});

describe('VisibilityBackoff on the SQS emulator', () => {
  let server: Server;
  let sqs: SQSClient;
  let queueUrl: string;
  const warnings: unknown[] = [];

  beforeAll(async () => {
    const port = await freePort();
    server = await createSqsServer({
      port,
      hostname: '127.0.0.1',
      region: 'us-east-1',
      accountId: ACCOUNT,
      queues: [{ QueueName: 'orders', Attributes: { VisibilityTimeout: '30' } }],
    });
    sqs = new SQSClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    queueUrl = `http://127.0.0.1:${port}/${ACCOUNT}/orders`;
  });

  afterAll(async () => {
    sqs.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  async function receive(): Promise<SQSRecord | undefined> {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 1,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
        AttributeNames: ['All'],
      }),
    );
    const message = out.Messages?.[0];
    if (!message) return undefined;
    return {
      messageId: message.MessageId ?? '',
      receiptHandle: message.ReceiptHandle ?? '',
      body: message.Body ?? '',
      attributes: {
        ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
      } as SQSRecord['attributes'],
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders`,
      awsRegion: 'us-east-1',
    };
  }

  async function receiveWithin(ms: number): Promise<SQSRecord | undefined> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const record = await receive();
      if (record) return record;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  it('brings a failed record back after its backoff instead of the queue visibility timeout', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'order-1' }));
    const first = await receive();
    expect(first?.body).toBe('order-1');
    const backoff = new VisibilityBackoff(sqs, policy, { warn: (...args) => warnings.push(args) });

    // As in SQS: a received message is in flight, not available (the emulator is patched for this).
    const attributes = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attributes.Attributes).toMatchObject({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '1',
    });
    expect(await backoff.delay(first as SQSRecord, 1)).toBe(1);
    const again = await receiveWithin(3_000);
    expect(again?.body).toBe('order-1');
    expect(again?.attributes.ApproximateReceiveCount).toBe('2');

    // Without a backoff the record stays hidden for the queue's 30 s.
    expect(await receiveWithin(1_500)).toBeUndefined();
    expect(warnings).toEqual([]);
  });

  it('logs and answers undefined when the visibility cannot be changed (the queue timeout applies)', async () => {
    const backoff = new VisibilityBackoff(sqs, policy, { warn: (...args) => warnings.push(args) });
    const record = {
      ...((await receive()) ?? ({} as SQSRecord)),
      receiptHandle: 'not-a-receipt-handle',
      eventSourceARN: `arn:aws:sqs:us-east-1:${ACCOUNT}:orders`,
      attributes: { ApproximateReceiveCount: '3' } as SQSRecord['attributes'],
    } as SQSRecord;
    expect(await backoff.delay(record)).toBeUndefined();
    expect(warnings).toHaveLength(1);
  });
});
