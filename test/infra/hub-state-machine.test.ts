import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Pass, QueryLanguage, StateMachineType, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { HubKey } from '#infra/constructs/hub-key.ts';
import { HubStateMachine, type HubStateMachineProps } from '#state-machines/hub-state-machine.ts';

const newApp = () => new App({ outdir: mkdtempSync(join(tmpdir(), 'omnihub-sfn-')) });

function workflow(stack: Stack, overrides: Partial<HubStateMachineProps> = {}): HubStateMachine {
  return new HubStateMachine(stack, 'Workflow', {
    definition: new Pass(stack, 'Reserve', { resultPath: '$.reserved' }).next(new Succeed(stack, 'Done')),
    type: StateMachineType.STANDARD,
    description: 'test workflow',
    timeout: Duration.hours(1),
    logRetention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.RETAIN,
    ...overrides,
  });
}

describe('HubStateMachine', () => {
  it('logs every event to its own log group with retention, traces, and keeps the chosen type', () => {
    const stack = new Stack(newApp(), 'Sfn');
    workflow(stack, { type: StateMachineType.EXPRESS, timeout: Duration.minutes(5) });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'EXPRESS',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: false,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: Match.anyValue() } }],
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    const definition = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(definition).toContain('\\"QueryLanguage\\":\\"JSONPath\\"');
    expect(definition).toContain('\\"TimeoutSeconds\\":300');
  });

  it('alarms on failed, timed-out and aborted executions', () => {
    const stack = new Stack(newApp(), 'Sfn');
    workflow(stack);
    const template = Template.fromStack(stack);
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        Dimensions: [{ Name: 'StateMachineArn', Value: Match.anyValue() }],
      });
    }
    template.resourceCountIs('AWS::CloudWatch::Alarm', 3);
  });

  it("encrypts its data and logs with the stack's hub key when there is one", () => {
    const stack = new Stack(newApp(), 'Sfn');
    new HubKey(stack, { alias: 'alias/omnihub-test', removalPolicy: RemovalPolicy.DESTROY });
    workflow(stack);
    const template = Template.fromStack(stack);
    const key = { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubKey'), 'Arn'] };
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: { Type: 'CUSTOMER_MANAGED_KMS_KEY', KmsKeyId: key },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: key });
    // Without a hub key: keys AWS owns (no EncryptionConfiguration, no KmsKeyId).
    const plain = new Stack(newApp(), 'Plain');
    workflow(plain);
    const plainTemplate = Template.fromStack(plain);
    plainTemplate.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      EncryptionConfiguration: Match.absent(),
    });
    plainTemplate.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.absent() });
  });

  it('refuses an Express workflow longer than 5 minutes', () => {
    const stack = new Stack(newApp(), 'Sfn');
    expect(() => workflow(stack, { type: StateMachineType.EXPRESS, timeout: Duration.minutes(6) })).toThrow(
      /at most 5 minutes/,
    );
  });

  it('refuses JSONata and variables, which the local runner cannot run', () => {
    const stack = new Stack(newApp(), 'Sfn');
    new HubStateMachine(stack, 'Workflow', {
      definition: new Pass(stack, 'Remember', {
        queryLanguage: QueryLanguage.JSONATA,
        outputs: { total: '{% $states.input.total %}' },
      }),
      type: StateMachineType.STANDARD,
      description: 'uses JSONata',
      timeout: Duration.hours(1),
      logRetention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    expect(() => Template.fromStack(stack)).toThrow(
      /JSONata is not supported by the local Step Functions runner/,
    );
  });

  it('is cdk-nag AwsSolutions clean with only the documented wildcard acknowledged', () => {
    const app = newApp();
    workflow(new Stack(app, 'Sfn'));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    app.synth();
    const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { violations: unknown[] }[];
    };
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });
});
