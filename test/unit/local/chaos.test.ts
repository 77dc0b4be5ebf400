import {
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { Chaos, type ChaosOptions, DEFAULT_CHAOS } from '#local/chaos.ts';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { freePort, waitFor } from '#local/services/ports.ts';
import { LocalSqs } from '#local/sqs/service.ts';
import { writeAssembly } from '#test/support/local-template.ts';
import { FakeRuntime, queue, queueArn, rule, templateOf } from './eventbridge-fixtures.ts';

/**
 * Chaos: what AWS's delivery guarantees allow — SQS and EventBridge deliver at least once and out of order, and
 * PutEvents may fail entries with retryable errors — made to happen at a chosen rate, reproducibly by seed.
 */
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const SEED = 42;
let sqs: LocalSqs | undefined;
let client: SQSClient | undefined;

afterEach(async () => {
  client?.destroy();
  await sqs?.close();
  sqs = undefined;
  client = undefined;
});

async function queueWithChaos(options: ChaosOptions, attributes: Record<string, unknown> = {}) {
  const port = await freePort();
  const template = writeAssembly({
    Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs', VisibilityTimeout: 5, ...attributes } },
  }).load({ sqsEndpoint: `http://127.0.0.1:${port}` });
  const chaos = new Chaos({ seed: SEED, ...options });
  sqs = await LocalSqs.start(template, port, { chaos });
  client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials });
  return { chaos, url: sqs.queueUrl(String(attributes.QueueName ?? 'jobs')), client };
}

/** Receives until `count` messages arrived or the deadline passed, deleting each one. */
async function drain(
  sqsClient: SQSClient,
  url: string,
  count: number,
  timeoutMs: number,
): Promise<Message[]> {
  const received: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    const { Messages = [] } = await sqsClient.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const message of Messages) {
      received.push(message);
      await sqsClient.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }));
    }
  }
  return received;
}

describe('chaos', () => {
  it('has documented defaults and refuses rates outside 0..1', () => {
    expect(DEFAULT_CHAOS).toEqual({ duplicateRate: 0.02, reorderRate: 0.05, putEventsFailureRate: 0.01 });
    expect(() => new Chaos({ duplicateRate: 2 })).toThrow(/duplicateRate must be a rate between 0 and 1/);
    const first = new Chaos({ seed: 7 });
    const second = new Chaos({ seed: 7 });
    expect([first.random(), first.random()]).toEqual([second.random(), second.random()]);
  });

  describe('SQS', () => {
    it('delivers a message again after it was deleted: same MessageId and body, another receipt handle', async () => {
      const { chaos, url, client: sqsClient } = await queueWithChaos({ duplicateRate: 1 });
      const { MessageId } = await sqsClient.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: 'order-1' }),
      );
      const received = await drain(sqsClient, url, 2, 10_000);
      expect(received.map((message) => [message.MessageId, message.Body])).toEqual([
        [MessageId, 'order-1'],
        [MessageId, 'order-1'],
      ]);
      expect(received[0]?.ReceiptHandle).not.toBe(received[1]?.ReceiptHandle);
      expect(chaos.counters.sqsDuplicates).toBe(1);
      // The deleted duplicate does not come back.
      expect(await drain(sqsClient, url, 1, 1_500)).toEqual([]);
    });

    it('brings a duplicate back after the visibility timeout while nobody deletes it', async () => {
      const { url, client: sqsClient } = await queueWithChaos({ duplicateRate: 1 }, { VisibilityTimeout: 1 });
      await sqsClient.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'order-2' }));
      const seen: string[] = [];
      await waitFor(
        async () => {
          const { Messages = [] } = await sqsClient.send(
            new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
          );
          for (const message of Messages) {
            // Only the first copy is deleted; the duplicate stays in flight.
            if (!message.ReceiptHandle?.startsWith('chaos-duplicate-')) {
              await sqsClient.send(
                new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: message.ReceiptHandle }),
              );
            }
            seen.push(message.ReceiptHandle?.startsWith('chaos-duplicate-') ? 'duplicate' : 'original');
          }
          return seen.filter((kind) => kind === 'duplicate').length >= 2;
        },
        { timeoutMs: 15_000, what: 'the duplicate to come back after its visibility timeout' },
      );
      expect(seen[0]).toBe('original');
    });

    it('reorders a standard queue: later messages overtake held-back ones', async () => {
      const { chaos, url, client: sqsClient } = await queueWithChaos({ reorderRate: 1 });
      const sent = Array.from({ length: 8 }, (_, index) => `m${index}`);
      for (const body of sent)
        await sqsClient.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
      // Held back: none is visible at once.
      const early = await sqsClient.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10 }),
      );
      expect(early.Messages ?? []).toEqual([]);
      const received = await drain(sqsClient, url, sent.length, 15_000);
      expect(received.map((message) => message.Body).sort()).toEqual([...sent].sort());
      expect(received.map((message) => message.Body)).not.toEqual(sent);
      expect(chaos.counters.sqsReorders).toBeGreaterThan(0);
    });

    it('leaves FIFO queues alone', async () => {
      const {
        chaos,
        url,
        client: sqsClient,
      } = await queueWithChaos(
        { duplicateRate: 1, reorderRate: 1 },
        { QueueName: 'jobs.fifo', FifoQueue: true, ContentBasedDeduplication: true },
      );
      for (const body of ['a', 'b', 'c'])
        await sqsClient.send(
          new SendMessageCommand({ QueueUrl: url, MessageBody: body, MessageGroupId: 'g' }),
        );
      const received = await drain(sqsClient, url, 3, 4_000);
      expect(received.map((message) => message.Body)).toEqual(['a', 'b', 'c']);
      expect(await drain(sqsClient, url, 1, 1_500)).toEqual([]);
      expect(chaos.counters).toMatchObject({ sqsDuplicates: 0, sqsReorders: 0 });
    });
  });

  describe('EventBridge', () => {
    function bus(options: ChaosOptions) {
      const runtime = new FakeRuntime(
        templateOf({
          Jobs: queue('jobs'),
          All: rule('all', {
            EventPattern: { source: ['omnihub.test'] },
            Targets: [{ Id: 'q', Arn: queueArn('jobs') }],
          }),
        }),
      );
      const chaos = new Chaos({ seed: SEED, ...options });
      return { bus: new LocalEventBridge(runtime.template, runtime, { chaos }), runtime, chaos };
    }
    const entry = (id: number) => ({
      Source: 'omnihub.test',
      DetailType: 'Tick',
      Detail: JSON.stringify({ id }),
    });

    it('may deliver an event to a target twice (same event id)', async () => {
      const { bus: eventBus, runtime, chaos } = bus({ duplicateRate: 1 });
      eventBus.putEvents([entry(1)]);
      await eventBus.idle();
      const bodies = runtime.sqs(queueArn('jobs')).map((call) => JSON.parse(call.body) as { id: string });
      expect(bodies).toHaveLength(2);
      expect(bodies[0]?.id).toBe(bodies[1]?.id);
      expect(chaos.counters.eventDuplicates).toBe(1);
    });

    it('may deliver events in another order than they were put', async () => {
      const { bus: eventBus, runtime } = bus({ reorderRate: 1 });
      for (let id = 0; id < 8; id += 1) eventBus.putEvents([entry(id)]);
      await eventBus.idle();
      const order = runtime
        .sqs(queueArn('jobs'))
        .map((call) => (JSON.parse(call.body) as { detail: { id: number } }).detail.id);
      expect([...order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      expect(order).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    });

    it('fails PutEvents entries with InternalFailure or ThrottlingException, counted in FailedEntryCount', () => {
      const { bus: eventBus, chaos } = bus({ putEventsFailureRate: 1 });
      const result = eventBus.putEvents([entry(1), entry(2), entry(3)]);
      expect(result.FailedEntryCount).toBe(3);
      for (const failed of result.Entries) {
        expect(failed).toEqual({
          ErrorCode: expect.stringMatching(/^(InternalFailure|ThrottlingException)$/),
          ErrorMessage: expect.any(String),
        });
      }
      expect(eventBus.events()).toEqual([]);
      expect(chaos.counters.putEventsFailures).toBe(3);
    });
  });
});
