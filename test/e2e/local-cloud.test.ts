import { DynamoDBClient, GetItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeExecutionCommand,
  SendTaskSuccessCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { cachedProbeStack } from '#local/harness/probe-stack.ts';
import { postShopifyWebhook, shopifyOrderBody } from '#local/harness/shopify-webhooks.ts';
import { waitFor } from '#local/services/ports.ts';

/**
 * The whole path through the local cloud, on the synthesized template: API Gateway → webhook function
 * → EventBridge → rule → SQS → consumer (with partial batch failures and redrive to the DLQ), and a
 * state machine waiting on a task token completed through SendTaskSuccess.
 */
const SECRET = 'e2e-shopify-secret';
let cloud: LocalCloud;
let dynamodb: DynamoDBClient;
let sfn: SFNClient;
let sqs: SQSClient;
let probeTable: string;
const bootStatuses: number[] = [];

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

async function deliver(topic: string, body: string, webhookId: string, secret = SECRET) {
  const response = await postShopifyWebhook(cloud.url, { topic, body, webhookId, secret });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function probeRecord(name: string) {
  const result = await dynamodb.send(
    new GetItemCommand({ TableName: probeTable, Key: { pk: { S: `ORDER#${name}` } }, ConsistentRead: true }),
  );
  return result.Item
    ? {
        receives: Number(result.Item.receives?.N ?? 0),
        batches: result.Item.batches?.SS ?? [],
        receiveCounts: (result.Item.receiveCounts?.NS ?? []).map(Number).sort(),
      }
    : undefined;
}

async function queues() {
  return (await (await fetch(`${cloud.url}/_local/queues`)).json()) as {
    name: string;
    visible: number;
    inFlight: number;
    isDlq: boolean;
  }[];
}

beforeAll(async () => {
  const { dir: assemblyDir, stackName } = cachedProbeStack();
  // Probe health while booting: every answer must come (503 until ready), never a hanging socket. A
  // request held until the boot ends would wait it out; 15 s tells that from a busy machine's slow 503.
  let booted = false;
  let polling: Promise<void> = Promise.resolve();
  const booting = startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    env: { OMNIHUB_SHOPIFY_SECRET: SECRET },
    onListening: (url) => {
      polling = (async () => {
        while (!booted) {
          const status = await fetch(`${url}/_local/health`, { signal: AbortSignal.timeout(15_000) }).then(
            (response) => response.status,
            (error: Error) => (error.name === 'TimeoutError' ? -1 : 0),
          );
          bootStatuses.push(status);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
    },
  });
  cloud = await booting;
  booted = true;
  await polling;
  dynamodb = new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials });
  sfn = new SFNClient({ endpoint: cloud.endpoints.aws, region: 'us-east-1', credentials });
  sqs = new SQSClient({ endpoint: cloud.endpoints.sqs, region: 'us-east-1', credentials });
  probeTable =
    cloud.template.ofType('AWS::DynamoDB::Table').find((table) => table.logicalId.startsWith('ProbeTable'))
      ?.name ?? '';
}, 180_000);

afterAll(async () => {
  dynamodb?.destroy();
  sfn?.destroy();
  sqs?.destroy();
  await cloud?.stop();
});

describe('local cloud (e2e): the synthesized template runs as AWS would, from a signed webhook to a consumer, with partial-batch retries, DLQ redrive and task-token callbacks', () => {
  it('answers 503 while booting and never leaves a request hanging', () => {
    expect(bootStatuses).not.toContain(-1);
    expect(bootStatuses).toContain(503);
  });

  it('is healthy and lists what the template declares', async () => {
    const response = await fetch(`${cloud.url}/_local/health`);
    expect(response.status).toBe(200);
    const health = (await response.json()) as Record<string, unknown>;
    expect(health).toMatchObject({ status: 'ok', stack: 'Omnihub-dev' });
    expect([...(health.routes as string[])].sort()).toEqual(['POST /webhooks/pos', 'POST /webhooks/shopify']);
    expect((health.queues as string[]).filter((name) => name.includes('Probe'))).toHaveLength(2);
  });

  it('carries a signed webhook to the bus, through the rule and the queue, to the consumer', async () => {
    const response = await deliver('orders/create', shopifyOrderBody(1001, '#OK-1001'), 'e2e-1');
    expect(response.status).toBe(200);
    expect(response.body.status).toBe('published');

    const events = (await (
      await fetch(`${cloud.url}/_local/events?detail-type=OrderCreated&source=omnihub.shopify`)
    ).json()) as {
      'detail-type': string;
      detail: { data: { source: { orderId: string } } };
    }[];
    expect(events.map((event) => event.detail.data.source.orderId)).toContain('1001');

    await waitFor(async () => (await probeRecord('#OK-1001'))?.receives === 1, {
      timeoutMs: 20_000,
      what: 'the probe to consume #OK-1001',
    });
  });

  it('answers 401 to a badly signed webhook and puts nothing on the bus', async () => {
    const before = ((await (await fetch(`${cloud.url}/_local/events`)).json()) as unknown[]).length;
    const response = await deliver(
      'orders/create',
      shopifyOrderBody(1002, '#BAD-1002'),
      'e2e-2',
      'wrong-secret',
    );
    expect(response.status).toBe(401);
    const after = ((await (await fetch(`${cloud.url}/_local/events`)).json()) as unknown[]).length;
    expect(after).toBe(before);
  });

  it('re-delivers only the failed record of a partially failed batch, and it then succeeds', async () => {
    // Both wait in the queue while the mapping is paused, so one receive takes them as one batch.
    const probe =
      cloud.template.ofType('AWS::Lambda::Function').find((fn) => fn.logicalId.startsWith('ProbeFunction'))
        ?.name ?? '';
    await cloud.setEventSourceMappingsEnabled(probe, false);
    await deliver('orders/create', shopifyOrderBody(2001, '#OK-2001'), 'e2e-3');
    await deliver('orders/create', shopifyOrderBody(2002, '#RETRY-2002'), 'e2e-4');
    await waitFor(
      async () =>
        (await queues()).some((queue) => queue.name.includes('Probe') && !queue.isDlq && queue.visible === 2),
      {
        timeoutMs: 10_000,
        what: 'both in the queue',
      },
    );
    await cloud.setEventSourceMappingsEnabled(probe, true);
    await waitFor(async () => (await probeRecord('#RETRY-2002'))?.receives === 2, {
      timeoutMs: 30_000,
      what: 'the retried record',
    });
    const ok = await probeRecord('#OK-2001');
    const retried = await probeRecord('#RETRY-2002');
    expect(ok?.receives).toBe(1);
    expect(retried?.receiveCounts).toEqual([1, 2]);
    expect(retried?.batches).toHaveLength(2);
    expect(retried?.batches).toEqual(expect.arrayContaining(ok?.batches ?? ['missing']));
  });

  it('moves a record that keeps failing to the DLQ after maxReceiveCount, and only that one', async () => {
    const probeDlq = async () =>
      (await queues()).filter((queue) => queue.isDlq && queue.name.includes('Probe'));
    expect((await probeDlq()).map((queue) => queue.visible)).toEqual([0]);
    await deliver('orders/create', shopifyOrderBody(3001, '#FAIL-3001'), 'e2e-5');
    await waitFor(async () => (await probeDlq()).some((queue) => queue.visible === 1), {
      timeoutMs: 30_000,
      what: 'the poison record in the DLQ',
    });
    expect(await probeRecord('#FAIL-3001')).toMatchObject({ receives: 2, receiveCounts: [1, 2] });
    const dlq = cloud.template
      .ofType('AWS::SQS::Queue')
      .find((queue) => queue.logicalId.startsWith('ProbeDeadLetter'));
    const parked = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq?.physicalId,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 30,
      }),
    );
    expect(
      parked.Messages?.map((message) => JSON.parse(message.Body ?? '{}').detail.data.source.name),
    ).toEqual(['#FAIL-3001']);
  });

  it('completes a state machine waiting on a task token through SendTaskSuccess', async () => {
    const machine = cloud.template
      .ofType('AWS::StepFunctions::StateMachine')
      .find((resource) => resource.logicalId.startsWith('ProbeWorkflow'));
    const { executionArn } = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine?.arn,
        name: 'approval-1',
        input: JSON.stringify({ id: 'approval-1' }),
      }),
    );
    let token = '';
    await waitFor(
      async () => {
        const item = await dynamodb.send(
          new GetItemCommand({
            TableName: probeTable,
            Key: { pk: { S: 'TOKEN#approval-1' } },
            ConsistentRead: true,
          }),
        );
        token = item.Item?.token?.S ?? '';
        return token !== '';
      },
      { timeoutMs: 20_000, what: 'the task token' },
    );
    expect((await sfn.send(new DescribeExecutionCommand({ executionArn }))).status).toBe('RUNNING');

    await sfn.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approved: true }) }),
    );
    await waitFor(
      async () => (await sfn.send(new DescribeExecutionCommand({ executionArn }))).status === 'SUCCEEDED',
      {
        timeoutMs: 10_000,
        what: 'the execution to succeed',
      },
    );
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(described.output ?? '{}')).toEqual({ id: 'approval-1', approval: { approved: true } });
  });

  it('counts one cold start per environment and reuses warm ones', async () => {
    const stats = (await (await fetch(`${cloud.url}/_local/functions`)).json()) as Record<
      string,
      { invocations: number; coldStarts: number }
    >;
    const webhook = Object.entries(stats).find(([name]) => name.includes('ShopifyWebhook'))?.[1];
    expect(webhook?.invocations).toBeGreaterThanOrEqual(5);
    expect(webhook?.coldStarts).toBeLessThan(webhook?.invocations ?? 0);
  });

  it('keeps one completed de-duplication record per accepted delivery (none for the rejected one)', async () => {
    const table = cloud.template
      .ofType('AWS::DynamoDB::Table')
      .find((candidate) => candidate.logicalId.startsWith('IdempotencyTable'))?.name;
    const items = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
    const deliveries = (items.Items ?? []).filter((item) => item.id?.S?.startsWith('shopify-webhook#'));
    expect(deliveries.map((item) => item.status?.S)).toEqual([
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
      'COMPLETED',
    ]);
  });
});
