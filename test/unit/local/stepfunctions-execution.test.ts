import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsServiceError } from '#local/aws/json-protocol.ts';
import { type ExecutionView, LocalStepFunctions } from '#local/stepfunctions/service.ts';
import type { LocalTemplate } from '#local/template.ts';
import {
  eventually,
  FakeRuntime,
  FunctionError,
  fn,
  machineArn,
  synthesize,
} from './stepfunctions-helpers.ts';

let template: LocalTemplate;
let cleanup: () => void;
let runtime: FakeRuntime;
let service: LocalStepFunctions;

beforeAll(() => {
  ({ template, cleanup } = synthesize('SfnExecution', (stack) => {
    // Plain function ARN (payloadResponseOnly) and the wrapped lambda:invoke integration.
    const greet = new tasks.LambdaInvoke(stack, 'Greet', {
      lambdaFunction: fn(stack, 'greet'),
      payloadResponseOnly: true,
    });
    new sfn.StateMachine(stack, 'Greeter', { definitionBody: sfn.DefinitionBody.fromChainable(greet) });
    const wrapped = new tasks.LambdaInvoke(stack, 'GreetWrapped', {
      lambdaFunction: fn(stack, 'greet-wrapped'),
      resultPath: '$.raw',
    });
    new sfn.StateMachine(stack, 'Wrapped', { definitionBody: sfn.DefinitionBody.fromChainable(wrapped) });

    // Retry on a custom error, then Catch whatever is left.
    const flaky = new tasks.LambdaInvoke(stack, 'CallFlaky', {
      lambdaFunction: fn(stack, 'flaky'),
      payloadResponseOnly: true,
      resultPath: '$.result',
    });
    flaky.addRetry({
      errors: ['TransientError'],
      interval: Duration.seconds(1),
      maxAttempts: 2,
      backoffRate: 2,
    });
    flaky.addCatch(new sfn.Pass(stack, 'Fallback'), { errors: ['States.ALL'], resultPath: '$.error' });
    new sfn.StateMachine(stack, 'Flaky', { definitionBody: sfn.DefinitionBody.fromChainable(flaky) });

    // CDK's default retry on Lambda service errors, then a States.TaskFailed catch.
    const charge = new tasks.LambdaInvoke(stack, 'ChargeCard', {
      lambdaFunction: fn(stack, 'unreachable'),
      resultPath: '$.charge',
    });
    charge.addCatch(new sfn.Pass(stack, 'ChargeFailed'), {
      errors: ['States.TaskFailed'],
      resultPath: '$.error',
    });
    new sfn.StateMachine(stack, 'Throttled', { definitionBody: sfn.DefinitionBody.fromChainable(charge) });

    // Saga: compensations first, a catch on each forward step, retries on the compensation.
    const failOrder = new sfn.Fail(stack, 'OrderFailed', { error: 'OrderFailed', cause: 'payment declined' });
    const release = new tasks.LambdaInvoke(stack, 'ReleaseStock', {
      lambdaFunction: fn(stack, 'release-stock'),
      resultPath: sfn.JsonPath.DISCARD,
    });
    release.addRetry({ errors: ['States.ALL'], interval: Duration.seconds(1), maxAttempts: 3 });
    release.next(failOrder);
    const reserve = new tasks.LambdaInvoke(stack, 'ReserveStock', {
      lambdaFunction: fn(stack, 'reserve-stock'),
      resultPath: '$.reservation',
      payloadResponseOnly: true,
    });
    const pay = new tasks.LambdaInvoke(stack, 'TakePayment', {
      lambdaFunction: fn(stack, 'take-payment'),
      resultPath: '$.payment',
      payloadResponseOnly: true,
    });
    pay.addCatch(release, { resultPath: '$.error' });
    new sfn.StateMachine(stack, 'Saga', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        reserve.next(pay).next(new sfn.Succeed(stack, 'OrderPlaced')),
      ),
    });

    // Choice, Map (ItemSelector with the context object), intrinsic functions, Parallel, Pass quirks.
    const map = new sfn.Map(stack, 'DoubleEach', {
      itemsPath: '$.items',
      itemSelector: {
        value: sfn.JsonPath.stringAt('$$.Map.Item.Value'),
        index: sfn.JsonPath.stringAt('$$.Map.Item.Index'),
      },
      resultPath: '$.doubled',
    });
    map.itemProcessor(
      new sfn.Pass(stack, 'Double', {
        parameters: { 'sum.$': 'States.MathAdd($.value, $.value)', 'index.$': '$.index' },
      }),
    );
    const parallel = new sfn.Parallel(stack, 'Both', { resultPath: '$.both' });
    parallel.branch(new sfn.Pass(stack, 'Zero', { result: sfn.Result.fromNumber(0) }));
    parallel.branch(
      new sfn.Pass(stack, 'Same', { resultPath: '$', result: sfn.Result.fromObject({ same: true }) }),
    );
    const choice = new sfn.Choice(stack, 'Kind')
      .when(sfn.Condition.stringEquals('$.kind', 'batch'), map.next(parallel))
      .otherwise(
        new sfn.Pass(stack, 'Single', { result: sfn.Result.fromString('single'), resultPath: '$.mode' }),
      );
    new sfn.StateMachine(stack, 'Flow', { definitionBody: sfn.DefinitionBody.fromChainable(choice) });

    // Waits: a fixed one and one read from the input; a long one for stop, names and timeouts.
    const waitFixed = new sfn.Wait(stack, 'WaitMinute', {
      time: sfn.WaitTime.duration(Duration.seconds(60)),
    });
    const waitPath = new sfn.Wait(stack, 'WaitFromInput', { time: sfn.WaitTime.secondsPath('$.seconds') });
    new sfn.StateMachine(stack, 'Waiter', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        waitFixed
          .next(waitPath)
          .next(
            new sfn.Pass(stack, 'Waited', { result: sfn.Result.fromBoolean(true), resultPath: '$.waited' }),
          ),
      ),
    });
    const longWait = new sfn.Wait(stack, 'WaitLong', { time: sfn.WaitTime.duration(Duration.hours(1)) });
    new sfn.StateMachine(stack, 'Sleeper', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        longWait.next(
          new tasks.LambdaInvoke(stack, 'AfterSleep', { lambdaFunction: fn(stack, 'after-sleep') }),
        ),
      ),
    });
    new sfn.StateMachine(stack, 'Bounded', {
      timeout: Duration.seconds(2),
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Wait(stack, 'WaitTooLong', { time: sfn.WaitTime.duration(Duration.hours(1)) }),
      ),
    });

    // Substitutions (definitions the local runner cannot run: stepfunctions-refusals.test.ts).
    new sfn.StateMachine(stack, 'Substituted', {
      definitionBody: sfn.DefinitionBody.fromString(
        JSON.stringify({
          StartAt: 'Say',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a DefinitionSubstitutions placeholder
          States: { Say: { Type: 'Pass', Result: { greeting: '${greeting}' }, End: true } },
        }),
      ),
      definitionSubstitutions: { greeting: 'hello "world"' },
    });
    const aslFile = join(mkdtempSync(join(tmpdir(), 'omnihub-asl-')), 'machine.asl.json');
    writeFileSync(
      aslFile,
      JSON.stringify({
        StartAt: 'FromFile',
        States: { FromFile: { Type: 'Pass', Result: 'file', End: true } },
      }),
    );
    new sfn.StateMachine(stack, 'FromFile', { definitionBody: sfn.DefinitionBody.fromFile(aslFile) });
  }));
  runtime = new FakeRuntime(template);
  service = new LocalStepFunctions(template, runtime, { waitTimeScale: 0.001, timeoutScale: 0.05 });
  runtime.sfn = service;
}, 60_000);

afterAll(() => cleanup());

/** Starts an execution and waits for it to close. */
async function run(machine: string, input: unknown, name?: string): Promise<ExecutionView> {
  const { executionArn } = await service.startExecution(
    machineArn(template, machine),
    JSON.stringify(input),
    name,
  );
  return eventually(
    () =>
      service
        .executions()
        .find((execution) => execution.executionArn === executionArn && execution.status !== 'RUNNING'),
    `execution ${executionArn} to close`,
  );
}

function describeExecution(executionArn: string) {
  return service.handle('DescribeExecution', { executionArn }) as Promise<Record<string, unknown>>;
}

describe('LocalStepFunctions', () => {
  describe('Lambda tasks', () => {
    it('invokes a function ARN resource with the state input and returns its result unwrapped', async () => {
      runtime.functions.set('greet', (payload) => ({
        greeting: `hello ${(payload as { name: string }).name}`,
      }));

      const execution = await run('Greeter', { name: 'Ada' });

      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({ greeting: 'hello Ada' });
      expect(runtime.calls('greet')).toEqual([{ name: 'Ada' }]);
    });

    it('wraps the lambda:invoke result as AWS does (Payload, StatusCode, ExecutedVersion)', async () => {
      runtime.functions.set('greet-wrapped', () => ({ ok: 1 }));

      const execution = await run('Wrapped', { id: 'x' });

      const output = JSON.parse(execution.output ?? '') as { id: string; raw: Record<string, unknown> };
      expect(output.id).toBe('x');
      expect(output.raw).toMatchObject({ ExecutedVersion: '$LATEST', Payload: { ok: 1 }, StatusCode: 200 });
      expect(output.raw.SdkResponseMetadata).toHaveProperty('RequestId');
      expect(runtime.calls('greet-wrapped')).toEqual([{ id: 'x' }]);
    });

    it('retries a custom error name until the function succeeds', async () => {
      runtime.functions.set('flaky', (_payload, call) => {
        if (call <= 2) throw new FunctionError('TransientError', `attempt ${call}`);
        return 'done';
      });

      const execution = await run('Flaky', { id: 'retry' });

      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({ id: 'retry', result: 'done' });
      expect(runtime.calls('flaky')).toHaveLength(3);
    });

    it('catches the error once retries are exhausted, with the function error as Error and Cause', async () => {
      runtime.functions.set('flaky', () => {
        throw new FunctionError('TransientError', 'still down');
      });
      const before = runtime.calls('flaky').length;

      const execution = await run('Flaky', { id: 'catch' });

      expect(execution.status).toBe('SUCCEEDED');
      const output = JSON.parse(execution.output ?? '') as { error: { Error: string; Cause: string } };
      expect(output.error.Error).toBe('TransientError');
      expect(JSON.parse(output.error.Cause)).toMatchObject({
        errorType: 'TransientError',
        errorMessage: 'still down',
      });
      expect(runtime.calls('flaky').length - before).toBe(3); // first attempt + MaxAttempts 2
    });

    it('maps a failing Lambda service to Lambda.ServiceException-style errors, retried by CDK defaults', async () => {
      // 'unreachable' has no behaviour: the runtime throws ResourceNotFoundException (not retried by default).
      const execution = await run('Throttled', { order: 1 });

      expect(execution.status).toBe('SUCCEEDED');
      const output = JSON.parse(execution.output ?? '') as { error: { Error: string } };
      expect(output.error.Error).toBe('Lambda.ResourceNotFoundException');

      let calls = 0;
      runtime.functions.set('unreachable', () => {
        calls++;
        const error = new Error('Rate exceeded');
        error.name = 'ServiceException';
        throw error;
      });
      const retried = await run('Throttled', { order: 2 });
      const retriedOutput = JSON.parse(retried.output ?? '') as { error: { Error: string } };
      expect(retriedOutput.error.Error).toBe('Lambda.ServiceException');
      expect(calls).toBe(7); // CDK's default retry: 6 attempts after the first
    });
  });

  describe('saga', () => {
    it('runs the compensation and fails the order when a forward step fails', async () => {
      runtime.functions.set('reserve-stock', () => ({ reservationId: 'r-1' }));
      runtime.functions.set('take-payment', () => {
        throw new FunctionError('PaymentDeclined', 'card declined');
      });
      let releases = 0;
      runtime.functions.set('release-stock', (payload) => {
        releases++;
        if (releases === 1) throw new FunctionError('Unavailable', 'try again');
        return {
          released: (payload as { reservation: { reservationId: string } }).reservation.reservationId,
        };
      });

      const execution = await run('Saga', { orderId: 'o-1' });

      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('OrderFailed');
      expect(execution.cause).toBe('payment declined');
      const released = runtime.calls('release-stock') as { orderId: string; error: { Error: string } }[];
      expect(released).toHaveLength(2); // the compensation was retried
      expect(released[0]).toMatchObject({ orderId: 'o-1', error: { Error: 'PaymentDeclined' } });
    });

    it('does not compensate when every step succeeds', async () => {
      runtime.functions.set('take-payment', () => ({ paymentId: 'p-1' }));
      const releasesBefore = runtime.calls('release-stock').length;

      const execution = await run('Saga', { orderId: 'o-2' });

      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({
        orderId: 'o-2',
        reservation: { reservationId: 'r-1' },
        payment: { paymentId: 'p-1' },
      });
      expect(runtime.calls('release-stock')).toHaveLength(releasesBefore);
    });
  });

  describe('flow states', () => {
    it('runs Choice → Map with ItemSelector and intrinsics → Parallel, keeping falsy results and ResultPath "$"', async () => {
      const execution = await run('Flow', { kind: 'batch', items: [1, 2, 5] });

      expect(execution.status).toBe('SUCCEEDED');
      const output = JSON.parse(execution.output ?? '') as Record<string, unknown>;
      expect(output.doubled).toEqual([
        { sum: 2, index: 0 },
        { sum: 4, index: 1 },
        { sum: 10, index: 2 },
      ]);
      expect(output.both).toEqual([0, { same: true }]);
    });

    it('takes the Choice default branch', async () => {
      const execution = await run('Flow', { kind: 'one' });

      expect(JSON.parse(execution.output ?? '')).toEqual({ kind: 'one', mode: 'single' });
    });
  });

  describe('Wait', () => {
    it('runs Seconds and SecondsPath waits scaled by waitTimeScale', async () => {
      const started = Date.now();

      const execution = await run('Waiter', { seconds: 100 });

      const elapsed = Date.now() - started;
      expect(execution.status).toBe('SUCCEEDED');
      expect(JSON.parse(execution.output ?? '')).toEqual({ seconds: 100, waited: true });
      expect(elapsed).toBeGreaterThanOrEqual(150); // (60 s + 100 s) × 0.001
      expect(elapsed).toBeLessThan(16_000); // a tenth of the unscaled 160 s: the scale was applied
    });

    it('fails with States.Runtime when SecondsPath points at nothing', async () => {
      const execution = await run('Waiter', {});

      expect(execution.status).toBe('FAILED');
      expect(execution.error).toBe('States.Runtime');
      expect(execution.cause).toContain('$.seconds');
    });
  });

  describe('executions', () => {
    it('describes RUNNING, then ABORTED after StopExecution, and never runs the states after the stop', async () => {
      runtime.functions.set('after-sleep', () => 'woke');
      const { executionArn } = await service.startExecution(machineArn(template, 'Sleeper'), '{"n":1}');

      const running = await describeExecution(executionArn);
      expect(running).toMatchObject({ status: 'RUNNING', input: '{"n":1}', name: expect.any(String) });
      expect(running.stopDate).toBeUndefined();
      expect(typeof running.startDate).toBe('number');

      const stopped = (await service.handle('StopExecution', {
        executionArn,
        error: 'Manual',
        cause: 'operator',
      })) as {
        stopDate: number;
      };
      await service.idle();

      const described = await describeExecution(executionArn);
      expect(described).toMatchObject({
        status: 'ABORTED',
        error: 'Manual',
        cause: 'operator',
        stopDate: stopped.stopDate,
      });
      expect(described.output).toBeUndefined();
      expect(runtime.calls('after-sleep')).toHaveLength(0);
    });

    it('times out an execution past the machine TimeoutSeconds (scaled) as TIMED_OUT / States.Timeout', async () => {
      const execution = await run('Bounded', {});

      expect(execution.status).toBe('TIMED_OUT');
      expect(execution.error).toBe('States.Timeout');
      expect(execution.stopDate?.getTime()).toBeGreaterThan(execution.startDate.getTime());
    });

    it('describes SUCCEEDED with output and FAILED with error and cause', async () => {
      runtime.functions.set('take-payment', () => {
        throw new FunctionError('PaymentDeclined', 'card declined');
      });
      const succeeded = await run('Flow', { kind: 'one' });
      const declined = await run('Saga', { orderId: 'o-4' });

      await expect(describeExecution(succeeded.executionArn)).resolves.toMatchObject({
        status: 'SUCCEEDED',
        output: '{"kind":"one","mode":"single"}',
        outputDetails: { included: true },
      });
      const failed = await describeExecution(declined.executionArn);
      expect(failed).toMatchObject({ status: 'FAILED', error: 'OrderFailed', cause: 'payment declined' });
      expect(failed.output).toBeUndefined();
      await service.idle();
      const history = (await service.handle('GetExecutionHistory', {
        executionArn: declined.executionArn,
        reverseOrder: true,
        maxResults: 1,
      })) as { events: Record<string, unknown>[] };
      expect(history.events).toEqual([
        expect.objectContaining({
          type: 'ExecutionFailed',
          executionFailedEventDetails: { error: 'OrderFailed', cause: 'payment declined' },
        }),
      ]);
    });

    it('treats StartExecution with the same name and input as the running execution (idempotent)', async () => {
      const arn = machineArn(template, 'Sleeper');
      const first = await service.handle('StartExecution', {
        stateMachineArn: arn,
        name: 'order-42',
        input: '{"a":1}',
      });
      const again = await service.handle('StartExecution', {
        stateMachineArn: arn,
        name: 'order-42',
        input: '{"a":1}',
      });

      expect(again).toEqual(first);
      expect(service.executions(arn).filter((execution) => execution.name === 'order-42')).toHaveLength(1);
      await expect(
        service.handle('StartExecution', { stateMachineArn: arn, name: 'order-42', input: '{"a":2}' }),
      ).rejects.toMatchObject({ type: 'ExecutionAlreadyExists' });

      await service.handle('StopExecution', {
        executionArn: (first as { executionArn: string }).executionArn,
      });
      // Closed: even the same input is refused (AWS: idempotent only while RUNNING).
      await expect(
        service.handle('StartExecution', { stateMachineArn: arn, name: 'order-42', input: '{"a":1}' }),
      ).rejects.toMatchObject({ type: 'ExecutionAlreadyExists' });
    });

    it('rejects bad names, bad input and unknown machines with the AWS error types', async () => {
      const arn = machineArn(template, 'Greeter');
      const attempts = [
        service.handle('StartExecution', { stateMachineArn: arn, name: 'has space' }),
        service.handle('StartExecution', { stateMachineArn: arn, input: '{not json' }),
        service.handle('StartExecution', { stateMachineArn: `${arn}-missing` }),
        service.handle('StartExecution', { stateMachineArn: 'nope' }),
        service.handle('DescribeExecution', {
          executionArn: arn.replace(':stateMachine:', ':execution:').concat(':none'),
        }),
      ];
      const results = await Promise.allSettled(attempts);

      expect(
        results.map((result) =>
          result.status === 'rejected' ? (result.reason as AwsServiceError).type : 'ok',
        ),
      ).toEqual([
        'InvalidName',
        'InvalidExecutionInput',
        'StateMachineDoesNotExist',
        'InvalidArn',
        'ExecutionDoesNotExist',
      ]);
    });

    it('lists executions newest first, filtered by status', async () => {
      const arn = machineArn(template, 'Flow');
      const page = (await service.handle('ListExecutions', {
        stateMachineArn: arn,
        statusFilter: 'SUCCEEDED',
        maxResults: 2,
      })) as {
        executions: { status: string; startDate: number }[];
        nextToken?: string;
      };

      expect(page.executions).toHaveLength(2);
      expect(page.executions.every((execution) => execution.status === 'SUCCEEDED')).toBe(true);
      expect(page.executions[0]?.startDate).toBeGreaterThanOrEqual(page.executions[1]?.startDate ?? Infinity);
      expect(page.nextToken).toBeDefined();
    });
  });

  describe('definitions', () => {
    it('reads a DefinitionBody.fromFile definition from the staged asset (DefinitionS3Location)', async () => {
      const execution = await run('FromFile', {});

      expect(execution.status).toBe('SUCCEEDED');
      expect(execution.output).toBe('"file"');
    });

    it('applies DefinitionSubstitutions', async () => {
      const execution = await run('Substituted', {});

      expect(JSON.parse(execution.output ?? '')).toEqual({ greeting: 'hello "world"' });
    });
  });

  it('idle() resolves once nothing runs', async () => {
    await service.startExecution(machineArn(template, 'Waiter'), '{"seconds":1}');
    expect(service.executions().some((execution) => execution.status === 'RUNNING')).toBe(true);

    await service.idle();

    expect(service.executions().filter((execution) => execution.status === 'RUNNING')).toEqual([]);
  });
});
