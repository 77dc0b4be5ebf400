import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeReplayCommand,
  EventBridgeClient,
  ListArchivesCommand,
  ListEventBusesCommand,
  PutEventsCommand,
  StartReplayCommand,
  TestEventPatternCommand,
} from '@aws-sdk/client-eventbridge';
import { InvokeCommand, LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  DescribeExecutionCommand,
  ListExecutionsCommand,
  ListStateMachinesCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  ListDeadLetterSourceQueuesCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { cachedProbeStack } from '#local/harness/probe-stack.ts';

/**
 * Operating the hub locally, on the e2e fixture stack (the dev stack plus a probe consumer behind a queue
 * with a DLQ alarm, and a probe workflow): a message that lands in the DLQ turns its alarm to ALARM within the
 * alarm's evaluation period (periods shortened by `alarmTimeScale`) and the real AWS CLI sees it; the
 * functions' tracing reaches the local X-Ray daemon; executions are listed; the bus archive replays.
 */
const ALARM_TIME_SCALE = 0.05;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const run = promisify(execFile);

let cloud: LocalCloud;
let assemblyDir: string;
let orderPlacedAt = 0;

interface LocalAlarm {
  name: string;
  state: string;
  metric: { dimensions: Record<string, string>; localPeriodMs: number };
  evaluationPeriods: number;
  history: { newState: string; timestamp: string }[];
}

async function local<T>(path: string): Promise<T> {
  return (await (await fetch(`${cloud.url}${path}`)).json()) as T;
}

async function until<T>(timeoutMs: number, check: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The AWS CLI against the local AWS endpoint, or undefined when it is not installed. */
async function aws(...args: string[]): Promise<Record<string, unknown> | undefined> {
  try {
    const { stdout } = await run(
      'aws',
      [...args, '--endpoint-url', cloud.endpoints.aws, '--output', 'json'],
      {
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: 'local',
          AWS_SECRET_ACCESS_KEY: 'local',
          AWS_DEFAULT_REGION: 'us-east-1',
          AWS_REGION: 'us-east-1',
        },
      },
    );
    return JSON.parse(stdout) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** An OrderCreated from the Shopify ingress, straight onto the hub bus (the probe consumer reads its name). */
async function publishOrder(name: string) {
  const eventBridge = new EventBridgeClient({
    endpoint: cloud.endpoints.aws,
    region: 'us-east-1',
    credentials,
  });
  const bus = cloud.template.ofType('AWS::Events::EventBus')[0]?.name;
  const result = await eventBridge.send(
    new PutEventsCommand({
      Entries: [
        {
          EventBusName: bus,
          Source: 'omnihub.shopify',
          DetailType: 'OrderCreated',
          Detail: JSON.stringify({ data: { source: { name } } }),
        },
      ],
    }),
  );
  eventBridge.destroy();
  expect(result.FailedEntryCount).toBe(0);
}

beforeAll(async () => {
  const probe = cachedProbeStack();
  assemblyDir = probe.dir;
  const { stackName } = probe;
  cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    alarmTimeScale: ALARM_TIME_SCALE,
  });
  orderPlacedAt = Date.now();
  // The probe consumer always fails an order named #FAIL…: after maxReceiveCount receives, the DLQ.
  await publishOrder('#FAIL-ops');
  // A webhook the hub refuses (bad signature): the traced webhook function still runs.
  const refused = await fetch(`${cloud.url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-hmac-sha256': 'bad',
      'x-shopify-topic': 'orders/create',
    },
    body: '{}',
  });
  expect(refused.status).toBe(401);
}, 180_000);

afterAll(async () => {
  await cloud?.stop();
  rmSync(assemblyDir, { recursive: true, force: true });
});

describe('local cloud operations (e2e)', () => {
  it("turns the DLQ's alarm to ALARM within its evaluation period once a message lands there", async () => {
    const dlq = cloud.template
      .ofType('AWS::SQS::Queue')
      .find((queue) => queue.logicalId.startsWith('ProbeDeadLetterQueue'))?.name;
    const alarmOf = async () =>
      (await local<LocalAlarm[]>('/_local/alarms')).find(
        (alarm) => alarm.metric.dimensions.QueueName === dlq,
      );
    const before = await alarmOf();
    expect(before?.state).not.toBe('ALARM');
    const landed = await until(
      60_000,
      async () => {
        const queues = await local<{ name: string; visible: number }[]>('/_local/queues');
        return (queues.find((queue) => queue.name === dlq)?.visible ?? 0) > 0 ? Date.now() : undefined;
      },
      'a message in the DLQ',
    );
    const alarmed = await until(
      30_000,
      async () => ((await alarmOf())?.state === 'ALARM' ? Date.now() : undefined),
      'the DLQ alarm in ALARM',
    );
    const alarm = (await alarmOf()) as LocalAlarm;
    const window = alarm.metric.localPeriodMs * alarm.evaluationPeriods;
    console.info(
      `DLQ alarm: ALARM ${alarmed - landed} ms after the message landed (evaluation period ${window} ms), order placed ${landed - orderPlacedAt} ms before`,
    );
    expect(alarmed - landed).toBeLessThanOrEqual(window);
    expect(alarm.history.at(-1)?.newState).toBe('ALARM');

    const cli = await aws('cloudwatch', 'describe-alarms', '--alarm-names', alarm.name);
    if (cli === undefined) {
      console.warn('aws CLI not installed: DescribeAlarms through the CLI not checked');
      return;
    }
    expect(cli.MetricAlarms).toEqual([
      expect.objectContaining({ AlarmName: alarm.name, StateValue: 'ALARM', Namespace: 'AWS/SQS' }),
    ]);
  }, 120_000);

  it('receives the functions’ traces at the local X-Ray daemon, all well formed', async () => {
    const xray = await until(
      10_000,
      async () => {
        const health = await local<{
          xray: {
            daemonAddress: string;
            segments: number;
            subsegments: number;
            traces: number;
            malformed: number;
          };
        }>('/_local/health');
        return health.xray.subsegments > 0 ? health.xray : undefined;
      },
      'segments at the X-Ray daemon',
    );
    expect(xray.daemonAddress).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(xray.traces).toBeGreaterThan(0);
    expect(xray.malformed).toBe(0);
  });

  it('lists executions at /_local/executions, by state machine', async () => {
    const machine = cloud.template
      .ofType('AWS::StepFunctions::StateMachine')
      .find((resource) => resource.logicalId.startsWith('ProbeWorkflow'));
    const sfn = new SFNClient({ endpoint: cloud.endpoints.aws, region: 'us-east-1', credentials });
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: machine?.arn,
        name: 'ops-listed',
        input: '{"id":"ops-listed"}',
      }),
    );
    sfn.destroy();
    const listed = await local<{ stateMachine: string; name: string; status: string; startDate: string }[]>(
      `/_local/executions?stateMachine=${machine?.name}`,
    );
    expect(listed).toEqual([
      expect.objectContaining({ stateMachine: machine?.name, name: 'ops-listed', status: 'RUNNING' }),
    ]);
    expect(Date.parse(listed[0]?.startDate ?? '')).toBeGreaterThan(0);
    expect((await fetch(`${cloud.url}/_local/executions?stateMachine=nope`)).status).toBe(404);
  });

  it("replays the bus archive's events to the bus with replay-name, and the CLI describes the archive", async () => {
    const archive = cloud.template.ofType('AWS::Events::Archive')[0];
    const bus = cloud.template.ofType('AWS::Events::EventBus')[0];
    const cli = await aws('events', 'describe-archive', '--archive-name', archive?.name ?? '');
    if (cli !== undefined) expect(cli).toMatchObject({ ArchiveName: archive?.name, State: 'ENABLED' });
    const eventBridge = new EventBridgeClient({
      endpoint: cloud.endpoints.aws,
      region: 'us-east-1',
      credentials,
    });
    await eventBridge.send(
      new StartReplayCommand({
        ReplayName: 'ops-replay',
        EventSourceArn: archive?.arn,
        EventStartTime: new Date(orderPlacedAt - 120_000),
        EventEndTime: new Date(),
        Destination: { Arn: bus?.arn },
      }),
    );
    const described = await until(
      10_000,
      async () => {
        const replay = await eventBridge.send(new DescribeReplayCommand({ ReplayName: 'ops-replay' }));
        return replay.State === 'COMPLETED' ? replay : undefined;
      },
      'the replay to complete',
    );
    eventBridge.destroy();
    expect(described.EventLastReplayedTime).toBeDefined();
    const events = await local<Record<string, unknown>[]>('/_local/events?detail-type=OrderCreated');
    expect(events.filter((event) => event['replay-name'] === 'ops-replay').length).toBeGreaterThan(0);
  });

  it('answers the AWS CLI for the operations the README lists', async () => {
    const buses = await aws('events', 'list-event-buses');
    if (buses === undefined) {
      console.warn('aws CLI not installed: CLI commands not checked');
      return;
    }
    const bus = cloud.template.ofType('AWS::Events::EventBus')[0]?.name ?? '';
    expect((buses.EventBuses as { Name: string }[]).map((entry) => entry.Name)).toContain(bus);
    expect(await aws('events', 'describe-event-bus', '--name', bus)).toMatchObject({ Name: bus });
    expect(
      ((await aws('events', 'list-rules', '--event-bus-name', bus))?.Rules as unknown[] | undefined)?.length,
    ).toBeGreaterThan(0);
    expect(((await aws('events', 'list-archives'))?.Archives as unknown[] | undefined)?.length).toBe(1);
    const machine = cloud.template.ofType('AWS::StepFunctions::StateMachine')[0]?.arn ?? '';
    expect(await aws('stepfunctions', 'list-executions', '--state-machine-arn', machine)).toHaveProperty(
      'executions',
    );
    expect(
      ((await aws('secretsmanager', 'list-secrets'))?.SecretList as unknown[] | undefined)?.length,
    ).toBeGreaterThan(0);
  });

  // Last: it moves the DLQ's messages back to their source queue.
  it('answers the AWS SDK v3 client of each service for the operations the README lists', async () => {
    const config = { endpoint: cloud.endpoints.aws, region: 'us-east-1', credentials };
    const lambda = new LambdaClient(config);
    const eventBridge = new EventBridgeClient(config);
    const sfn = new SFNClient(config);
    const cloudWatch = new CloudWatchClient(config);
    const secrets = new SecretsManagerClient(config);
    const sqs = new SQSClient({ ...config, endpoint: cloud.endpoints.sqs });
    const dynamodb = new DynamoDBClient({ ...config, endpoint: cloud.endpoints.dynamodb });
    try {
      // Lambda: list, then a synchronous invoke of the probe as a Step Functions task would call it.
      const probe = cloud.template
        .ofType('AWS::Lambda::Function')
        .find((fn) => fn.logicalId.startsWith('ProbeFunction'))?.name;
      const functions = await lambda.send(new ListFunctionsCommand({}));
      expect(functions.Functions?.map((fn) => fn.FunctionName)).toContain(probe);
      const invoked = await lambda.send(
        new InvokeCommand({
          FunctionName: probe,
          Payload: JSON.stringify({ kind: 'task-token', token: 'sdk-token', input: { id: 'sdk' } }),
        }),
      );
      expect(invoked.StatusCode).toBe(200);
      expect(invoked.FunctionError).toBeUndefined();
      expect(JSON.parse(new TextDecoder().decode(invoked.Payload))).toEqual({ stored: true });
      // DynamoDB: the invocation's write, read back with a scan.
      const probeTable = cloud.template
        .ofType('AWS::DynamoDB::Table')
        .find((table) => table.logicalId.startsWith('ProbeTable'))?.name;
      const scanned = await dynamodb.send(new ScanCommand({ TableName: probeTable }));
      expect(scanned.Items?.map((item) => item.pk?.S)).toContain('TOKEN#sdk');

      // EventBridge.
      const bus = cloud.template.ofType('AWS::Events::EventBus')[0]?.name;
      const buses = await eventBridge.send(new ListEventBusesCommand({}));
      expect(buses.EventBuses?.map((entry) => entry.Name)).toEqual(expect.arrayContaining(['default', bus]));
      const archives = await eventBridge.send(new ListArchivesCommand({}));
      expect(archives.Archives).toHaveLength(1);
      const tested = await eventBridge.send(
        new TestEventPatternCommand({
          EventPattern: JSON.stringify({
            source: ['omnihub.shopify'],
            detail: { n: [{ numeric: ['>', 5] }] },
          }),
          Event: JSON.stringify({
            id: '1',
            account: '000000000000',
            source: 'omnihub.shopify',
            time: new Date().toISOString(),
            region: 'us-east-1',
            resources: [],
            'detail-type': 'OrderCreated',
            detail: { n: 6 },
          }),
        }),
      );
      expect(tested.Result).toBe(true);

      // Step Functions: an execution started, listed and described.
      const machine = cloud.template
        .ofType('AWS::StepFunctions::StateMachine')
        .find((resource) => resource.logicalId.startsWith('ProbeWorkflow'));
      const machines = await sfn.send(new ListStateMachinesCommand({}));
      expect(machines.stateMachines?.map((entry) => entry.stateMachineArn)).toContain(machine?.arn);
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machine?.arn,
          name: 'sdk-listed',
          input: '{"id":"sdk"}',
        }),
      );
      const executions = await sfn.send(new ListExecutionsCommand({ stateMachineArn: machine?.arn }));
      const execution = executions.executions?.find((entry) => entry.name === 'sdk-listed');
      const described = await sfn.send(
        new DescribeExecutionCommand({ executionArn: execution?.executionArn }),
      );
      expect(described).toMatchObject({ name: 'sdk-listed', status: 'RUNNING', input: '{"id":"sdk"}' });

      // CloudWatch: the DLQ alarm (the order published before all tests ends in the DLQ).
      const alarms = await until(
        60_000,
        async () => {
          const answer = await cloudWatch.send(new DescribeAlarmsCommand({ StateValue: 'ALARM' }));
          return answer.MetricAlarms?.length ? answer.MetricAlarms : undefined;
        },
        'an alarm in ALARM through DescribeAlarms',
      );
      expect(alarms.map((alarm) => alarm.Namespace)).toContain('AWS/SQS');

      // Secrets Manager: every secret of the template is readable by the admin.
      const secret = cloud.template.ofType('AWS::SecretsManager::Secret')[0];
      const value = await secrets.send(new GetSecretValueCommand({ SecretId: secret?.arn }));
      expect(value.ARN).toBe(secret?.arn);

      // SQS: the DLQ's source queue, a receive, and a redrive back to the source.
      const queues = await sqs.send(new ListQueuesCommand({}));
      const dlqUrl = queues.QueueUrls?.find((url) => /ProbeDeadLetterQueue/.test(url));
      expect(dlqUrl).toBeDefined();
      const sources = await sqs.send(new ListDeadLetterSourceQueuesCommand({ QueueUrl: dlqUrl }));
      expect(sources.queueUrls).toHaveLength(1);
      const received = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: dlqUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }),
      );
      expect(received.Messages?.length).toBeGreaterThan(0);
      const dlq = cloud.template
        .ofType('AWS::SQS::Queue')
        .find((queue) => queue.logicalId.startsWith('ProbeDeadLetterQueue'));
      const moved = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: dlq?.arn }));
      expect(moved.TaskHandle).toBeTruthy();
      await until(
        20_000,
        async () => {
          const listed = await local<{ name: string; visible: number; inFlight: number }[]>('/_local/queues');
          const entry = listed.find((queue) => queue.name === dlq?.name);
          // Moved out of the DLQ (the probe fails them again, so they come back later: only "left" counts).
          return entry && entry.visible + entry.inFlight === 0 ? true : undefined;
        },
        'the DLQ emptied by StartMessageMoveTask',
      );
    } finally {
      for (const client of [lambda, eventBridge, sfn, cloudWatch, secrets, sqs, dynamodb]) client.destroy();
    }
  });
});
