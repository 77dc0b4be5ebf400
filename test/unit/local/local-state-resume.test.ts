import { describe, expect, it } from 'vitest';
import { Chaos } from '#local/chaos.ts';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { LocalStepFunctions } from '#local/stepfunctions/service.ts';
import { FakeRuntime, queueArn, templateOf } from './eventbridge-fixtures.ts';
import { FakeRuntime as SfnRuntime } from './stepfunctions-helpers.ts';

/** What the local state keeps of the bus and of Step Functions across a restart (local/state/store.ts). */
describe('EventBridge deliveries across a restart', () => {
  const template = templateOf({
    Sink: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'sink' } },
    Rule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['shop'] },
        Targets: [{ Id: 'sink', Arn: queueArn('sink'), RetryPolicy: { MaximumRetryAttempts: 5 } }],
      },
    },
  });

  it('goes on with a delivery that was waiting for a retry, keeping its retry count, and delivers it once', async () => {
    const runtime = new FakeRuntime(template);
    const before = new LocalEventBridge(template, runtime, { retryBaseDelayMs: 60_000 });
    runtime.failAlways(queueArn('sink'));
    before.putEvents([{ Source: 'shop', DetailType: 'OrderCreated', Detail: '{"id":1}' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    before.stop();
    // The final snapshot comes after the rest of the local cloud has stopped.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const saved = JSON.parse(JSON.stringify(before.unfinishedDeliveries()));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({
      retries: 0,
      target: { arn: queueArn('sink'), maximumRetryAttempts: 5 },
    });

    const afterRuntime = new FakeRuntime(template);
    const after = new LocalEventBridge(template, afterRuntime, { retryBaseDelayMs: 1 });
    after.resumeDeliveries(saved);
    await after.idle();
    expect(afterRuntime.calls.map((call) => call.target)).toEqual([queueArn('sink')]);
    expect(JSON.parse((afterRuntime.calls[0] as { body: string }).body).detail).toEqual({ id: 1 });
    expect(after.unfinishedDeliveries()).toEqual([]);
  });

  it('keeps a delivery that chaos holds back (reordering) when the bus stops, and delivers it after the restart', async () => {
    // PutEvents accepted the event (the webhook was answered 200): stopping the bus must not lose its delivery.
    const runtime = new FakeRuntime(template);
    const before = new LocalEventBridge(template, runtime, {
      chaos: new Chaos({ reorderRate: 1, seed: 7 }),
    });
    before.putEvents([{ Source: 'shop', DetailType: 'OrderCreated', Detail: '{"id":2}' }]);
    // Held back 50–1000 ms: a periodic snapshot taken now holds it already.
    expect(before.unfinishedDeliveries()).toHaveLength(1);
    before.stop();
    await before.idle();
    expect(runtime.calls).toEqual([]);
    const saved = JSON.parse(JSON.stringify(before.unfinishedDeliveries()));
    expect(saved).toHaveLength(1);
    expect(saved[0]).toMatchObject({ retries: 0, target: { arn: queueArn('sink') } });

    const afterRuntime = new FakeRuntime(template);
    const after = new LocalEventBridge(template, afterRuntime, { retryBaseDelayMs: 1 });
    after.resumeDeliveries(saved);
    await after.idle();
    expect(afterRuntime.calls.map((call) => call.target)).toEqual([queueArn('sink')]);
    expect(JSON.parse((afterRuntime.calls[0] as { body: string }).body).detail).toEqual({ id: 2 });
    expect(after.unfinishedDeliveries()).toEqual([]);
  });

  it('counts each copy of a duplicated delivery on its own: one delivered copy does not forget the other', async () => {
    const runtime = new FakeRuntime(template);
    // Every delivery is made twice, every copy held back (with this seed 979 and 545 ms).
    const bus = new LocalEventBridge(template, runtime, {
      chaos: new Chaos({ duplicateRate: 1, reorderRate: 1, seed: 7 }),
    });
    // What a snapshot would keep at the moment each copy reaches the queue.
    const unfinishedAtSend: number[] = [];
    const send = runtime.sendMessage.bind(runtime);
    runtime.sendMessage = (...args: Parameters<typeof send>) => {
      unfinishedAtSend.push(bus.unfinishedDeliveries().length);
      return send(...args);
    };
    bus.putEvents([{ Source: 'shop', DetailType: 'OrderCreated', Detail: '{"id":3}' }]);
    expect(bus.unfinishedDeliveries()).toHaveLength(2);
    await bus.idle();
    expect(runtime.calls).toHaveLength(2);
    // The first copy to land is still unfinished while it sends; the other one is still held back.
    expect(unfinishedAtSend).toEqual([2, 1]);
    expect(bus.unfinishedDeliveries()).toEqual([]);
  });
});

describe('Step Functions executions across a restart', () => {
  const template = templateOf({
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: 'flow',
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        DefinitionString: JSON.stringify({
          StartAt: 'Work',
          States: {
            Work: {
              Type: 'Task',
              Resource: 'arn:aws:lambda:us-east-1:000000000000:function:work',
              End: true,
            },
          },
        }),
      },
    },
  });
  const arn = 'arn:aws:states:us-east-1:000000000000:stateMachine:flow';

  it('restarts a running execution from its input under the same ARN and keeps closed ones (names stay taken)', async () => {
    const runtime = new SfnRuntime(template);
    const before = new LocalStepFunctions(template, runtime);
    runtime.sfn = before;
    runtime.functions.set('work', async (input) => input);
    const done = await before.startExecution(arn, '{"n":1}', 'done');
    await before.idle();
    let release: () => void = () => {};
    runtime.functions.set('work', () => new Promise((resolve) => (release = () => resolve({ n: 2 }))));
    const running = await before.startExecution(arn, '{"n":2}', 'running');
    const saved = JSON.parse(JSON.stringify(before.snapshot()));
    release();
    await before.idle();

    const afterRuntime = new SfnRuntime(template);
    const after = new LocalStepFunctions(template, afterRuntime);
    afterRuntime.sfn = after;
    afterRuntime.functions.set('work', async (input) => ({ ...(input as object), again: true }));
    expect(after.restore(saved).restarted).toEqual([running.executionArn]);
    await after.idle();
    expect(await after.handle('DescribeExecution', { executionArn: running.executionArn })).toMatchObject({
      status: 'SUCCEEDED',
      output: '{"n":2,"again":true}',
    });
    expect(await after.handle('DescribeExecution', { executionArn: done.executionArn })).toMatchObject({
      status: 'SUCCEEDED',
      name: 'done',
    });
    await expect(
      after.handle('StartExecution', { stateMachineArn: arn, name: 'done', input: '{"other":1}' }),
    ).rejects.toMatchObject({
      type: 'ExecutionAlreadyExists',
    });
  });
});
