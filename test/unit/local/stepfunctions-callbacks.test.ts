import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  GetExecutionHistoryCommand,
  InvalidToken,
  ListExecutionsCommand,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
  StartSyncExecutionCommand,
  StateMachineTypeNotSupported,
  StopExecutionCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { Duration } from 'aws-cdk-lib';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '#local/stepfunctions/service.ts';
import type { LocalTemplate } from '#local/template.ts';
import { eventually, FakeRuntime, fn, machineArn, serve, synthesize } from './stepfunctions-helpers.ts';

let template: LocalTemplate;
let cleanup: () => void;
let runtime: FakeRuntime;
let service: LocalStepFunctions;
let client: SFNClient;
let close: () => Promise<void>;

/**
 * Heartbeat 4 s and timeout 20 s, × timeoutScale 0.1: 400 ms and 2 s — wide enough that a test which
 * answers a task in time does not race its heartbeat on a busy machine.
 */
const TIMEOUT_SCALE = 0.1;

beforeAll(async () => {
  ({ template, cleanup } = synthesize('SfnCallbacks', (stack) => {
    const approve = new tasks.LambdaInvoke(stack, 'RequestApproval', {
      lambdaFunction: fn(stack, 'request-approval'),
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        token: sfn.JsonPath.taskToken,
        orderId: sfn.JsonPath.stringAt('$.orderId'),
      }),
      heartbeatTimeout: sfn.Timeout.duration(Duration.seconds(4)),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(20)),
      resultPath: '$.approval',
    });
    approve.addCatch(new sfn.Pass(stack, 'Rejected'), { errors: ['Rejected'], resultPath: '$.error' });
    approve.addCatch(new sfn.Pass(stack, 'NoAnswer'), {
      errors: ['States.HeartbeatTimeout', 'States.Timeout'],
      resultPath: '$.error',
    });
    new sfn.StateMachine(stack, 'Approval', {
      definitionBody: sfn.DefinitionBody.fromChainable(approve.next(new sfn.Pass(stack, 'Approved'))),
    });

    // No heartbeat: only TimeoutSeconds applies; States.TaskFailed must not catch States.Timeout.
    const slow = new tasks.LambdaInvoke(stack, 'WaitForPartner', {
      lambdaFunction: fn(stack, 'notify-partner'),
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
      taskTimeout: sfn.Timeout.duration(Duration.seconds(4)),
    });
    const caughtBy = (id: string, by: string) =>
      new sfn.Pass(stack, id, { result: sfn.Result.fromString(by), resultPath: '$.caughtBy' });
    slow.addCatch(caughtBy('PartnerFailed', 'TaskFailed'), {
      errors: ['States.TaskFailed'],
      resultPath: '$.error',
    });
    slow.addCatch(caughtBy('PartnerTimedOut', 'Timeout'), {
      errors: ['States.Timeout'],
      resultPath: '$.error',
    });
    new sfn.StateMachine(stack, 'Partner', { definitionBody: sfn.DefinitionBody.fromChainable(slow) });

    // The callback through SQS: the token travels in the message body.
    const queue = new sqs.Queue(stack, 'Work', { queueName: 'work' });
    new sfn.StateMachine(stack, 'Queued', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.SqsSendMessage(stack, 'Enqueue', {
          queue,
          integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
          messageBody: sfn.TaskInput.fromObject({
            token: sfn.JsonPath.taskToken,
            job: sfn.JsonPath.stringAt('$.job'),
          }),
        }),
      ),
    });

    new sfn.StateMachine(stack, 'Quick', {
      stateMachineType: sfn.StateMachineType.EXPRESS,
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Pass(stack, 'Echo', {
          parameters: { 'echo.$': '$.value', 'execution.$': '$$.Execution.Name' },
        }),
      ),
    });
  }));
  runtime = new FakeRuntime(template);
  service = new LocalStepFunctions(template, runtime, { waitTimeScale: 0.001, timeoutScale: TIMEOUT_SCALE });
  runtime.sfn = service;
  ({ client, close } = await serve(service));
}, 60_000);

afterAll(async () => {
  await close();
  cleanup();
});

/** The task token the function received in its `index`-th (1-based) call. */
async function tokenOf(functionName: string, index: number): Promise<string> {
  const payload = await eventually(
    () => runtime.calls(functionName)[index - 1] as { token: string } | undefined,
    `call ${index} of ${functionName}`,
  );
  return payload.token;
}

async function start(machine: string, input: unknown, name?: string): Promise<string> {
  const started = await client.send(
    new StartExecutionCommand({
      stateMachineArn: machineArn(template, machine),
      input: JSON.stringify(input),
      name,
    }),
  );
  expect(started.startDate).toBeInstanceOf(Date);
  return started.executionArn ?? '';
}

async function closed(executionArn: string) {
  return eventually(async () => {
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    return described.status === 'RUNNING' ? undefined : described;
  }, `${executionArn} to close`);
}

describe('LocalStepFunctions callbacks through @aws-sdk/client-sfn', () => {
  it('completes a .waitForTaskToken task with SendTaskSuccess, and refuses the token afterwards', async () => {
    runtime.functions.set('request-approval', () => ({ queued: true }));
    const executionArn = await start('Approval', { orderId: 'o-1' });
    const token = await tokenOf('request-approval', 1);

    const running = await client.send(new DescribeExecutionCommand({ executionArn }));
    expect(running.status).toBe('RUNNING');
    expect(running.stopDate).toBeUndefined();
    expect(runtime.calls('request-approval')[0]).toMatchObject({ orderId: 'o-1' });

    await client.send(
      new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify({ approvedBy: 'ops' }) }),
    );
    const done = await closed(executionArn);

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({ orderId: 'o-1', approval: { approvedBy: 'ops' } });
    expect(done.startDate).toBeInstanceOf(Date);
    expect(done.stopDate?.getTime()).toBeGreaterThanOrEqual(done.startDate?.getTime() ?? Infinity);
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('accepts SendTaskSuccess from the callee before its invocation returns', async () => {
    runtime.functions.set('request-approval', async (payload) => {
      const { token } = payload as { token: string };
      await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '"inline"' }));
      return null;
    });

    const done = await closed(await start('Approval', { orderId: 'o-2' }));

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({ orderId: 'o-2', approval: 'inline' });
  });

  it('routes SendTaskFailure to the matching Catch with its error and cause', async () => {
    runtime.functions.set('request-approval', () => null);
    const executionArn = await start('Approval', { orderId: 'o-3' });
    const calls = runtime.calls('request-approval').length;
    const token = await tokenOf('request-approval', calls);

    await client.send(
      new SendTaskFailureCommand({ taskToken: token, error: 'Rejected', cause: 'over budget' }),
    );
    const done = await closed(executionArn);

    expect(done.status).toBe('SUCCEEDED');
    expect(JSON.parse(done.output ?? '')).toEqual({
      orderId: 'o-3',
      error: { Error: 'Rejected', Cause: 'over budget' },
    });
  });

  it('keeps a task alive with SendTaskHeartbeat past HeartbeatSeconds', async () => {
    runtime.functions.set('request-approval', () => null);
    const executionArn = await start('Approval', { orderId: 'o-4' });
    const token = await tokenOf('request-approval', runtime.calls('request-approval').length);

    // 6 heartbeats 100 ms apart: 600 ms in all, past the 400 ms heartbeat window, within the 2 s timeout.
    for (let beat = 0; beat < 6; beat++) {
      await client.send(new SendTaskHeartbeatCommand({ taskToken: token }));
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{"late":true}' }));
    const done = await closed(executionArn);

    expect(JSON.parse(done.output ?? '')).toEqual({ orderId: 'o-4', approval: { late: true } });
  });

  it('fails a task that misses its heartbeat with States.HeartbeatTimeout and retires its token', async () => {
    runtime.functions.set('request-approval', () => null);
    const started = Date.now();
    const executionArn = await start('Approval', { orderId: 'o-5' });
    const token = await tokenOf('request-approval', runtime.calls('request-approval').length);

    const done = await closed(executionArn);

    const output = JSON.parse(done.output ?? '') as { error: { Error: string } };
    expect(output.error.Error).toBe('States.HeartbeatTimeout');
    expect(Date.now() - started).toBeGreaterThanOrEqual(4_000 * TIMEOUT_SCALE);
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('fails a task past TimeoutSeconds with States.Timeout, which States.TaskFailed does not catch', async () => {
    runtime.functions.set('notify-partner', () => null);
    const executionArn = await start('Partner', {});
    const token = await tokenOf('notify-partner', 1);

    const done = await closed(executionArn);

    const output = JSON.parse(done.output ?? '') as { error: { Error: string }; caughtBy: string };
    expect(output.error.Error).toBe('States.Timeout');
    expect(output.caughtBy).toBe('Timeout');
    await expect(client.send(new SendTaskHeartbeatCommand({ taskToken: token }))).rejects.toBeInstanceOf(
      TaskTimedOut,
    );
  });

  it('fails the task when the integration call itself fails', async () => {
    runtime.functions.set('notify-partner', () => {
      const error = new Error('throttled');
      error.name = 'TooManyRequestsException';
      throw error;
    });

    const done = await closed(await start('Partner', {}));

    const output = JSON.parse(done.output ?? '') as { error: { Error: string }; caughtBy: string };
    expect(output.error.Error).toBe('Lambda.TooManyRequestsException');
    expect(output.caughtBy).toBe('TaskFailed');
  });

  it('stops an execution waiting for a token; the token is then refused', async () => {
    runtime.functions.set('request-approval', () => null);
    const executionArn = await start('Approval', { orderId: 'o-8' });
    const token = await tokenOf('request-approval', runtime.calls('request-approval').length);

    const stopped = await client.send(
      new StopExecutionCommand({ executionArn, error: 'Cancelled', cause: 'order cancelled' }),
    );

    expect(stopped.stopDate).toBeInstanceOf(Date);
    await expect(closed(executionArn)).resolves.toMatchObject({
      status: 'ABORTED',
      error: 'Cancelled',
      cause: 'order cancelled',
    });
    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' })),
    ).rejects.toBeInstanceOf(TaskTimedOut);
  });

  it('answers malformed and unknown tokens as AWS does', async () => {
    const unknown = Buffer.from(
      JSON.stringify({ v: 1, e: 'arn:aws:states:us-east-1:000000000000:execution:x:y', n: 'z' }),
    ).toString('base64');

    await expect(
      client.send(new SendTaskSuccessCommand({ taskToken: 'not-a-token', output: '{}' })),
    ).rejects.toBeInstanceOf(InvalidToken);
    await expect(client.send(new SendTaskFailureCommand({ taskToken: unknown }))).rejects.toBeInstanceOf(
      TaskDoesNotExist,
    );
  });

  it('sends the token in an SQS message for sqs:sendMessage.waitForTaskToken', async () => {
    const executionArn = await start('Queued', { job: 'reindex' });
    const message = await eventually(
      () => runtime.messages.find((sent) => sent.body.includes('reindex')),
      'the message',
    );
    const body = JSON.parse(message.body) as { token: string; job: string };
    expect(message.queue).toBe('http://127.0.0.1:9/000000000000/work');
    expect(body.job).toBe('reindex');

    await client.send(new SendTaskSuccessCommand({ taskToken: body.token, output: '{"indexed":3}' }));

    await expect(closed(executionArn)).resolves.toMatchObject({
      status: 'SUCCEEDED',
      output: '{"indexed":3}',
    });
  });

  it('records the callback in GetExecutionHistory in AWS order', async () => {
    runtime.functions.set('request-approval', () => null);
    const executionArn = await start('Approval', { orderId: 'o-6' });
    const token = await tokenOf('request-approval', runtime.calls('request-approval').length);
    await client.send(new SendTaskSuccessCommand({ taskToken: token, output: '{}' }));
    await closed(executionArn);
    await service.idle();

    const history = await client.send(new GetExecutionHistoryCommand({ executionArn }));

    expect(history.events?.map((event) => event.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    const scheduled = history.events?.find(
      (event) => event.type === 'TaskScheduled',
    )?.taskScheduledEventDetails;
    expect(scheduled).toMatchObject({
      resourceType: 'lambda',
      resource: 'invoke.waitForTaskToken',
      heartbeatInSeconds: 4,
    });
    expect(history.events?.[0]?.timestamp).toBeInstanceOf(Date);
  });

  it('rejects a second start with the same name and other input with ExecutionAlreadyExists', async () => {
    runtime.functions.set('request-approval', () => null);
    const first = await start('Approval', { orderId: 'o-7' }, 'approval-o-7');

    await expect(start('Approval', { orderId: 'o-7' }, 'approval-o-7')).resolves.toBe(first);
    await expect(start('Approval', { orderId: 'other' }, 'approval-o-7')).rejects.toBeInstanceOf(
      ExecutionAlreadyExists,
    );
    const listed = await client.send(
      new ListExecutionsCommand({
        stateMachineArn: machineArn(template, 'Approval'),
        statusFilter: 'RUNNING',
      }),
    );
    expect(listed.executions?.map((execution) => execution.executionArn)).toContain(first);
    await closed(first); // ends on its heartbeat timeout
  });

  it('runs an EXPRESS machine with StartSyncExecution and refuses it for STANDARD', async () => {
    const result = await client.send(
      new StartSyncExecutionCommand({
        stateMachineArn: machineArn(template, 'Quick'),
        input: '{"value":7}',
        name: 'q-1',
      }),
    );

    expect(result.status).toBe('SUCCEEDED');
    expect(JSON.parse(result.output ?? '')).toEqual({ echo: 7, execution: 'q-1' });
    expect(result.executionArn).toMatch(/:express:.*:q-1:/);
    expect(result.stopDate).toBeInstanceOf(Date);
    await expect(
      client.send(new StartSyncExecutionCommand({ stateMachineArn: machineArn(template, 'Approval') })),
    ).rejects.toBeInstanceOf(StateMachineTypeNotSupported);
  });
});
