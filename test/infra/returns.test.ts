import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { ERP_STEP_RETRY } from '#state-machines/omnichannel-return/omnichannel-return.ts';
import { templateApp } from '#test/support/cdk.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}
interface AslState {
  Type: string;
  Resource?: string;
  Next?: string;
  Retry?: {
    ErrorEquals: string[];
    MaxAttempts?: number;
    IntervalSeconds?: number;
    MaxDelaySeconds?: number;
  }[];
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  TimeoutSeconds?: number;
  Choices?: unknown[];
  Default?: string;
}

/** The omnichannel-return workflow and its functions in the prod template (issue #14). */
describe('returns flow (prod template)', () => {
  let template: Template;
  let states: Record<string, AslState>;
  let machineId: string;
  const statementsOf = (prefix: string): Statement[] => {
    const [, fn] =
      Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(prefix)) ??
      [];
    if (!fn) throw new Error(`no function ${prefix}*`);
    const role = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    return Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) => (policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role))
      .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
  };
  const actionsOf = (prefix: string) =>
    [...new Set(statementsOf(prefix).flatMap((statement) => [statement.Action].flat()))].sort();

  beforeAll(() => {
    template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
    const machines = Object.entries(template.findResources('AWS::StepFunctions::StateMachine')).filter(
      ([id]) => id.startsWith('OmnichannelReturn'),
    );
    expect(machines).toHaveLength(1);
    const [id, machine] = machines[0] as [string, { Properties: { DefinitionString: unknown } }];
    machineId = id;
    // The definition is an Fn::Join of strings and ARNs: the ARNs' tokens become placeholders.
    const parts = (machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const text = parts.map((part) => (typeof part === 'string' ? part : 'arn:token')).join('');
    states = (JSON.parse(text) as { States: Record<string, AslState> }).States;
  }, 120_000);

  it('is a Standard workflow, traced, logging every event, with alarms on failed, timed-out and aborted executions', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Threshold: 1,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId } }],
      });
    }
  });

  it('recovers the ERP step forward: retried with backoff, then parked on a task token that loops back to it', () => {
    const erp = states.ErpCreditMemo;
    expect(erp?.Retry?.[0]).toMatchObject({
      ErrorEquals: expect.arrayContaining(['ReturnStepRetryable', 'Lambda.TooManyRequestsException']),
      MaxAttempts: ERP_STEP_RETRY.maxAttempts,
      MaxDelaySeconds: ERP_STEP_RETRY.maxDelaySeconds,
    });
    expect(erp?.Catch).toEqual([
      { ErrorEquals: ['States.ALL'], Next: 'ParkErpUntilReplay', ResultPath: '$.failure' },
    ]);
    const park = states.ParkErpUntilReplay;
    expect(park?.Resource).toMatch(/:states:::lambda:invoke.waitForTaskToken$/);
    expect(park?.Next).toBe('ErpCreditMemo');
    expect(park?.TimeoutSeconds).toBe(14 * 86_400);
    // Nothing after the Shopify refund compensates with a second refund: no path from the ERP step leads
    // back to the Shopify step.
    const reachable = new Set<string>();
    const walk = (name: string) => {
      if (reachable.has(name)) return;
      reachable.add(name);
      const state = states[name];
      for (const next of [state?.Next, ...(state?.Catch ?? []).map((c) => c.Next)]) if (next) walk(next);
    };
    walk('ErpCreditMemo');
    expect(reachable.has('ShopifyReturnAndRefund')).toBe(false);
    expect([...reachable].sort()).toEqual(
      [
        'Disposition',
        'EmitReturnCompleted',
        'ErpCreditAbandoned',
        'ErpCreditMemo',
        'ParkErpUntilReplay',
        'ReturnDone',
      ].sort(),
    );
  });

  it('compensates a refused Shopify refund (cancel the Shopify return) and parks it before the ERP is touched', () => {
    expect(states.ShopifyReturnAndRefund?.Catch?.[0]?.Next).toBe('CancelShopifyReturn');
    expect(states.CancelShopifyReturn?.Next).toBe('ParkShopifyFailed');
    expect(states.ParkShopifyFailed?.Next).toBe('ShopifyRefundFailed');
    expect(states.ShopifyRefundFailed?.Type).toBe('Fail');
  });

  it("ends the echo of the hub's own return (a Shopify return it made) before the ERP", () => {
    expect(states.ReadShopifyDispositions?.Next).toBe('MadeByTheHub');
    expect(states.MadeByTheHub).toMatchObject({
      Type: 'Choice',
      Choices: [{ Variable: '$.shopify.madeByHub', IsPresent: true, Next: 'EchoOfHubReturn' }],
      Default: 'ErpCreditMemo',
    });
    expect(states.EchoOfHubReturn?.Type).toBe('Succeed');
  });

  it('gives each returns function exactly the actions its code calls', () => {
    // return-steps: ledger read (ORDER# only), parking, PutEvents as the hub, X-Ray; kms for the hub key.
    expect(actionsOf('ReturnStepsFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'events:PutEvents',
      'kms:Decrypt',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    const ledger = statementsOf('ReturnStepsFunction').filter((s) =>
      JSON.stringify(s.Resource).includes('LedgerTable'),
    );
    expect(ledger.map((s) => s.Condition?.['ForAllValues:StringLike']?.['dynamodb:LeadingKeys'])).toEqual([
      ['ORDER#*'],
    ]);
    // return-erp: mappings read, the NetSuite secret; one reserved instance (its slot of the ERP limit).
    expect(actionsOf('ReturnErpFunction')).toEqual([
      'dynamodb:GetItem',
      'kms:Decrypt',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('ERP credit memo'),
      ReservedConcurrentExecutions: 1,
    });
    // return-shopify: the shops' Admin API tokens only.
    expect(actionsOf('ReturnShopifyFunction')).toEqual(
      expect.arrayContaining(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']),
    );
    expect(actionsOf('ReturnShopifyFunction').filter((a) => !/^(secretsmanager|xray|kms):/.test(a))).toEqual(
      [],
    );
    // return-trigger: its queue, PutEvents, StartExecution of this state machine only, and the shops' Admin
    // API tokens (a store return's online order is looked up by its number).
    expect(actionsOf('ReturnTriggerFunction').filter((a) => !/^(sqs|xray|kms):/.test(a))).toEqual([
      'events:PutEvents',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'states:StartExecution',
    ]);
    const start = statementsOf('ReturnTriggerFunction').find((s) =>
      [s.Action].flat().includes('states:StartExecution'),
    );
    expect(start?.Resource).toEqual({ Ref: machineId });
  });

  it('feeds the trigger queue with Shopify refunds and store returns of online orders (POS refunds of POS sales stay with order capture)', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['omnihub.shopify'], 'detail-type': ['RefundCreated'] },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['omnihub.pos'], 'detail-type': ['StoreReturnRecorded'] },
    });
    const posRules = Object.values(template.findResources('AWS::Events::Rule')).filter(
      (rule) =>
        JSON.stringify(rule).includes('"omnihub.pos"') && JSON.stringify(rule).includes('ReturnTriggers'),
    );
    expect(posRules.map((rule) => JSON.stringify(rule.Properties.EventPattern))).toEqual([
      JSON.stringify({ source: ['omnihub.pos'], 'detail-type': ['StoreReturnRecorded'] }),
    ]);
  });
});
