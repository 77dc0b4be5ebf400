import { describe, expect, it } from 'vitest';
import { LocalStepFunctions } from '#local/stepfunctions/service.ts';
import { templateOf } from './eventbridge-fixtures.ts';
import { FakeRuntime, FunctionError } from './stepfunctions-helpers.ts';

const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:work';

/** A template with one state machine of `definition`, EXPRESS or STANDARD. */
function machine(definition: Record<string, unknown>, type: 'STANDARD' | 'EXPRESS' = 'STANDARD') {
  return templateOf({
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineName: 'machine',
        StateMachineType: type,
        RoleArn: 'arn:aws:iam::000000000000:role/r',
        DefinitionString: JSON.stringify(definition),
      },
    },
  });
}

const MACHINE_ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:machine';

function boot(
  definition: Record<string, unknown>,
  type: 'STANDARD' | 'EXPRESS' = 'STANDARD',
  timeoutScale = 1,
) {
  const template = machine(definition, type);
  const runtime = new FakeRuntime(template);
  const service = new LocalStepFunctions(template, runtime, { timeoutScale, waitTimeScale: 1 });
  runtime.sfn = service;
  return { service, runtime };
}

async function closed(service: LocalStepFunctions, executionArn: string) {
  await service.idle();
  return (await service.handle('DescribeExecution', { executionArn })) as Record<string, unknown>;
}

describe('definitions the local runner cannot run refuse to boot, naming the state', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'JSONata',
      {
        QueryLanguage: 'JSONata',
        StartAt: 'P',
        States: { P: { Type: 'Pass', Output: '{% 1 %}', End: true } },
      },
      /Machine \(machine\) cannot run locally: QueryLanguage JSONata/,
    ],
    [
      'Assign',
      { StartAt: 'P', States: { P: { Type: 'Pass', Assign: { x: 1 }, End: true } } },
      /state P uses Assign/,
    ],
    [
      'Arguments',
      { StartAt: 'T', States: { T: { Type: 'Task', Resource: FUNCTION_ARN, Arguments: {}, End: true } } },
      /state T uses Arguments/,
    ],
    [
      'Distributed Map',
      {
        StartAt: 'M',
        States: {
          M: {
            Type: 'Map',
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'I',
              States: { I: { Type: 'Pass', End: true } },
            },
            End: true,
          },
        },
      },
      /state M is a Distributed Map/,
    ],
  ];
  for (const [feature, definition, message] of cases) {
    it(`${feature}`, () => {
      expect(() => boot(definition)).toThrow(message);
    });
  }
});

describe('Express workflows', () => {
  it('refuse .sync and .waitForTaskToken integrations at creation, as CreateStateMachine does', () => {
    for (const resource of [
      'arn:aws:states:::states:startExecution.sync:2',
      'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    ]) {
      expect(() =>
        boot(
          { StartAt: 'T', States: { T: { Type: 'Task', Resource: resource, Parameters: {}, End: true } } },
          'EXPRESS',
        ),
      ).toThrow(
        /InvalidDefinition: Express state machine does not support '\.(sync:2|waitForTaskToken)' .*state T/,
      );
    }
    // The same definition is fine as a Standard workflow.
    expect(() =>
      boot({
        StartAt: 'T',
        States: {
          T: {
            Type: 'Task',
            Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
            Parameters: {},
            End: true,
          },
        },
      }),
    ).not.toThrow();
  });

  it('stop an execution at five minutes (scaled) as TIMED_OUT with States.Timeout, even without TimeoutSeconds', async () => {
    // timeoutScale 0.0005: five minutes take 150 ms; the Wait (scaled like every duration here) never ends first.
    const { service } = boot(
      { StartAt: 'W', States: { W: { Type: 'Wait', Seconds: 3600, End: true } } },
      'EXPRESS',
      0.0005,
    );
    const started = Date.now();
    const { executionArn } = await service.startExecution(MACHINE_ARN, '{}');
    const described = await closed(service, executionArn);
    expect(described).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('RedriveExecution', () => {
  const definition = {
    StartAt: 'First',
    States: {
      First: {
        Type: 'Task',
        Resource: 'arn:aws:lambda:us-east-1:000000000000:function:first',
        Next: 'Second',
      },
      Second: { Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:000000000000:function:second', End: true },
    },
  };

  it('runs a failed Standard execution again from the state that failed, with its input, same ARN', async () => {
    const { service, runtime } = boot(definition);
    runtime.functions.set('first', async (input) => ({ ...(input as object), first: true }));
    let failing = true;
    runtime.functions.set('second', async (input) => {
      if (failing) throw new FunctionError('ErpDown', 'down');
      return { ...(input as object), second: true };
    });
    const { executionArn } = await service.startExecution(MACHINE_ARN, '{"order":1}', 'order-1');
    expect(await closed(service, executionArn)).toMatchObject({
      status: 'FAILED',
      error: 'ErpDown',
      redriveCount: 0,
      redriveStatus: 'REDRIVABLE',
    });

    failing = false;
    const answer = (await service.handle('RedriveExecution', { executionArn })) as { redriveDate: number };
    expect(answer.redriveDate).toBeGreaterThan(0);
    const described = await closed(service, executionArn);
    expect(described).toMatchObject({
      status: 'SUCCEEDED',
      redriveCount: 1,
      redriveStatus: 'NOT_REDRIVABLE',
    });
    expect(JSON.parse(String(described.output))).toEqual({ order: 1, first: true, second: true });
    // First is not run again.
    expect(runtime.calls('first')).toHaveLength(1);
    expect(runtime.calls('second')).toHaveLength(2);
    const history = (await service.handle('GetExecutionHistory', { executionArn, maxResults: 1000 })) as {
      events: { type: string }[];
    };
    expect(history.events.map((event) => event.type)).toContain('ExecutionRedriven');
  });

  it('refuses a succeeded, running or Express execution with ExecutionNotRedrivable', async () => {
    const { service, runtime } = boot(definition);
    runtime.functions.set('first', async (input) => input);
    runtime.functions.set('second', async (input) => input);
    const { executionArn } = await service.startExecution(MACHINE_ARN, '{}');
    await closed(service, executionArn);
    await expect(service.handle('RedriveExecution', { executionArn })).rejects.toMatchObject({
      type: 'ExecutionNotRedrivable',
    });

    const express = boot({ StartAt: 'P', States: { P: { Type: 'Fail', Error: 'X' } } }, 'EXPRESS');
    const started = await express.service.startExecution(MACHINE_ARN, '{}');
    await express.service.idle();
    await expect(
      express.service.handle('RedriveExecution', { executionArn: started.executionArn }),
    ).rejects.toMatchObject({ type: 'ExecutionNotRedrivable', message: expect.stringContaining('Express') });
  });
});
