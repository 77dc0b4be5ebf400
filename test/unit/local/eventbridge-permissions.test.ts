import { afterEach, describe, expect, it } from 'vitest';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { LocalIam } from '#local/iam/local-iam.ts';
import { AsyncInvoker, asyncInvokeConfigs } from '#local/lambda/async.ts';
import { LambdaRuntime } from '#local/lambda/runtime.ts';
import { LocalLambda } from '#local/lambda/service.ts';
import type { LocalTemplate } from '#local/template.ts';
import type { Caller, SendMessageOptions } from '#local/types.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { ACCOUNT, FakeRuntime, functionArn, queueArn } from './eventbridge-fixtures.ts';
import { lambdaRole, rolePolicy } from './iam-fixtures.ts';

/**
 * EventBridge delivers to targets as AWS does: a rule reaches a Lambda function through the function's
 * `AWS::Lambda::Permission` and invokes it asynchronously (Lambda's own retries and destinations follow); it
 * reaches a queue, and its dead-letter queue, through the queue policy.
 */
const RULE = 'to-worker';
const RULE_ARN = `arn:aws:events:us-east-1:${ACCOUNT}:rule/${RULE}`;
const CODE = {
  failing: `export const handler = async () => { throw new Error('cannot book'); };`,
};

/** The FakeRuntime with the real Lambda service and IAM behind `invokeFunctionAsync`, and IAM on `sendMessage`. */
class IamRuntime extends FakeRuntime {
  readonly iam: LocalIam;
  readonly lambda: LocalLambda;
  readonly functions: LambdaRuntime;

  constructor(template: LocalTemplate) {
    super(template);
    this.iam = new LocalIam(template, { log: this.log });
    this.functions = new LambdaRuntime(template, { baseEnvironment: {}, log: this.log });
    const functions = this.functions;
    this.lambda = new LocalLambda(
      functions,
      new AsyncInvoker({
        invoke: (name, payload) => functions.invoke(name, payload),
        functionArn: (name) => functionArn(name),
        configs: asyncInvokeConfigs(template),
        destinations: {
          sendMessage: (arn, body, options) => this.sendMessage(arn, body, options),
          invokeAsync: async () => ({}),
          putEvent: async () => ({}),
        },
        log: this.log,
        delayScale: 0.0005,
      }),
      this.iam,
    );
  }

  invokeFunctionAsync = async (arn: string, payload: unknown, caller: Caller) => ({
    requestId: this.lambda.invokeAsync(arn, payload, caller),
  });

  authorize = (caller: Caller, action: string, resource: string) =>
    this.iam.assertAllowed(caller, [{ action, resource }]);

  override async sendMessage(queue: string, body: string, options?: SendMessageOptions) {
    if (options?.caller)
      this.iam.assertAllowed(options.caller, [{ action: 'sqs:SendMessage', resource: queue }]);
    return super.sendMessage(queue, body, options);
  }
}

function queuePolicy(queue: string, sourceArn = RULE_ARN) {
  return {
    Type: 'AWS::SQS::QueuePolicy',
    Properties: {
      Queues: [{ Ref: queue }],
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: { 'Fn::GetAtt': [queue, 'Arn'] },
            Condition: { ArnEquals: { 'aws:SourceArn': sourceArn } },
          },
        ],
      },
    },
  };
}

/** A rule sending every `omnihub.test` event to `target`, with `RuleDlq` as its target's dead-letter queue. */
function stack(target: unknown, extra: Record<string, unknown> = {}) {
  return {
    WorkerRole: lambdaRole(),
    WorkerPolicy: rolePolicy([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': ['WorkerFailures', 'Arn'] } },
    ]),
    Worker: lambdaResource('failing', {
      FunctionName: 'worker',
      Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
    }),
    WorkerFailures: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'worker-failures' } },
    WorkerAsync: {
      Type: 'AWS::Lambda::EventInvokeConfig',
      Properties: {
        FunctionName: { Ref: 'Worker' },
        Qualifier: '$LATEST',
        MaximumRetryAttempts: 1,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['WorkerFailures', 'Arn'] } } },
      },
    },
    Orders: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'orders' } },
    RuleDlq: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'rule-dlq' } },
    Rule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Name: RULE,
        EventPattern: { source: ['omnihub.test'] },
        Targets: [{ Id: 't', Arn: target, DeadLetterConfig: { Arn: queueArn('rule-dlq') } }],
      },
    },
    ...extra,
  };
}

const LAMBDA_PERMISSION = {
  Type: 'AWS::Lambda::Permission',
  Properties: {
    Action: 'lambda:InvokeFunction',
    FunctionName: { 'Fn::GetAtt': ['Worker', 'Arn'] },
    Principal: 'events.amazonaws.com',
    SourceArn: RULE_ARN,
  },
};

let runtime: IamRuntime | undefined;
afterEach(async () => {
  await runtime?.functions.close();
  runtime = undefined;
});

function setup(resources: Record<string, unknown>) {
  runtime = new IamRuntime(
    writeAssembly(resources as Parameters<typeof writeAssembly>[0], CODE, 'Test').load({
      sqsEndpoint: 'http://127.0.0.1:9',
    }),
  );
  const bus = new LocalEventBridge(runtime.template, runtime, { retryBaseDelayMs: 1 });
  return { bus, runtime };
}

const EVENT = { Source: 'omnihub.test', DetailType: 'OrderCreated', Detail: '{"id":1}' };

describe('EventBridge target permissions', () => {
  it('invokes a Lambda target asynchronously through its permission; Lambda retries and sends the failure on', async () => {
    const { bus, runtime } = setup(
      stack(functionArn('worker'), { Permission: LAMBDA_PERMISSION, DlqPolicy: queuePolicy('RuleDlq') }),
    );
    bus.putEvents([EVENT]);
    await bus.idle();
    await runtime.lambda.events.idle();
    // EventBridge's part ends when Lambda queued the event; the function error is Lambda's to retry.
    expect(bus.counters).toMatchObject({ delivered: 1, retries: 0, deadLettered: 0 });
    expect(runtime.functions.statistics().worker?.invocations).toBe(2);
    const [record] = runtime.sqs(queueArn('worker-failures'));
    expect(JSON.parse(record?.body ?? '{}')).toMatchObject({
      requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 2 },
      requestPayload: { source: 'omnihub.test', 'detail-type': 'OrderCreated' },
    });
    expect(runtime.iam.report().denials).toEqual([]);
  });

  it('cannot invoke a function without an AWS::Lambda::Permission: NO_PERMISSIONS, straight to the DLQ', async () => {
    const { bus, runtime } = setup(stack(functionArn('worker'), { DlqPolicy: queuePolicy('RuleDlq') }));
    bus.putEvents([EVENT]);
    await bus.idle();
    expect(runtime.functions.statistics().worker?.invocations).toBe(0);
    const [parked] = runtime.sqs(queueArn('rule-dlq'));
    expect(parked?.options?.messageAttributes).toMatchObject({
      ERROR_CODE: { StringValue: 'NO_PERMISSIONS' },
      RULE_ARN: { StringValue: RULE_ARN },
    });
    expect(runtime.iam.report().denials).toEqual([
      expect.objectContaining({
        principal: 'events.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: functionArn('worker'),
      }),
    ]);
  });

  it('cannot send to a queue without a queue policy for the rule, nor dead-letter without one on the DLQ', async () => {
    const { bus, runtime } = setup(stack(queueArn('orders'), { DlqPolicy: queuePolicy('RuleDlq') }));
    bus.putEvents([EVENT]);
    await bus.idle();
    expect(runtime.sqs(queueArn('orders'))).toEqual([]);
    expect(runtime.sqs(queueArn('rule-dlq'))[0]?.options?.messageAttributes).toMatchObject({
      ERROR_CODE: { StringValue: 'NO_PERMISSIONS' },
    });

    const unguarded = setup(
      stack(queueArn('orders'), { OrdersPolicy: queuePolicy('Orders', `${RULE_ARN}-other`) }),
    );
    unguarded.bus.putEvents([EVENT]);
    await unguarded.bus.idle();
    expect(unguarded.bus.counters).toMatchObject({ delivered: 0, deadLettered: 0, deadLetterFailed: 1 });
  });

  it('starts a state machine only through the target role, which must allow states:StartExecution', async () => {
    const machine = 'arn:aws:states:us-east-1:000000000000:stateMachine:flow';
    const target = (roleArn?: string) => ({
      Flow: {
        Type: 'AWS::StepFunctions::StateMachine',
        Properties: { StateMachineName: 'flow', DefinitionString: '{}' },
      },
      EventsRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          AssumeRolePolicyDocument: {
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          },
        },
      },
      EventsPolicy: rolePolicy(
        [{ Effect: 'Allow', Action: 'states:StartExecution', Resource: machine }],
        ['EventsRole'],
      ),
      Rule: {
        Type: 'AWS::Events::Rule',
        Properties: {
          Name: RULE,
          EventPattern: { source: ['omnihub.test'] },
          Targets: [{ Id: 't', Arn: machine, ...(roleArn ? { RoleArn: roleArn } : {}) }],
        },
      },
    });
    const allowed = setup({ ...stack(machine), ...target('arn:aws:iam::000000000000:role/Test-EventsRole') });
    allowed.bus.putEvents([EVENT]);
    await allowed.bus.idle();
    expect(allowed.runtime.calls.filter((call) => call.kind === 'states')).toHaveLength(1);

    const roleless = setup({ ...stack(machine), ...target() });
    roleless.bus.putEvents([EVENT]);
    await roleless.bus.idle();
    expect(roleless.runtime.calls.filter((call) => call.kind === 'states')).toEqual([]);
    expect(roleless.bus.counters).toMatchObject({ delivered: 0, dropped: 1 });

    const wrongRole = setup({
      ...stack(machine),
      ...target('arn:aws:iam::000000000000:role/Test-WorkerRole'),
    });
    wrongRole.bus.putEvents([EVENT]);
    await wrongRole.bus.idle();
    expect(wrongRole.runtime.iam.report().denials).toEqual([
      expect.objectContaining({ action: 'states:StartExecution', resource: machine }),
    ]);
  });

  it('delivers to a queue whose policy allows the rule', async () => {
    const { bus, runtime } = setup(stack(queueArn('orders'), { OrdersPolicy: queuePolicy('Orders') }));
    bus.putEvents([EVENT]);
    await bus.idle();
    expect(runtime.sqs(queueArn('orders'))).toHaveLength(1);
  });
});
