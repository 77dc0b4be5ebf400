import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { RUNBOOK_DIR, RUNBOOKS } from '#infra/constructs/hub-monitoring.ts';
import { templateApp } from '#test/support/cdk.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

const ref = (value: unknown): string | undefined => {
  const object = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
  return object?.Ref ?? object?.['Fn::GetAtt']?.[0];
};

/** The alarms of a synthesized environment, with what they watch. */
function alarmsOf(resources: Resources) {
  return Object.entries(resources)
    .filter(([, resource]) => resource.Type === 'AWS::CloudWatch::Alarm')
    .map(([id, resource]) => {
      const props = resource.Properties as {
        MetricName: string;
        Namespace: string;
        Dimensions?: { Name: string; Value: unknown }[];
        AlarmActions?: unknown[];
        AlarmDescription?: string;
      };
      return { id, ...props, dimensions: new Map((props.Dimensions ?? []).map((d) => [d.Name, d.Value])) };
    });
}

describe.each(['dev', 'prod'])('monitoring (%s template)', (env) => {
  let resources: Resources;
  let alarms: ReturnType<typeof alarmsOf>;
  let topicId: string;

  beforeAll(() => {
    const template = Template.fromStack(buildApp(templateApp({ env })).stack);
    resources = template.toJSON().Resources as Resources;
    alarms = alarmsOf(resources);
    const topics = Object.entries(resources).filter(
      ([, resource]) =>
        resource.Type === 'AWS::SNS::Topic' && resource.Properties.TopicName === `omnihub-${env}-alarms`,
    );
    expect(topics).toHaveLength(1);
    topicId = (topics[0] as [string, unknown])[0];
  }, 120_000);

  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);

  it('every alarm notifies the alarm topic', () => {
    expect(alarms.length).toBeGreaterThan(10);
    const without = alarms.filter(
      (alarm) => !(alarm.AlarmActions ?? []).some((action) => ref(action) === topicId),
    );
    expect(without.map((alarm) => alarm.id)).toEqual([]);
  });

  it('every queue with a DLQ has an alarm on the DLQ, and an oldest-message-age alarm', () => {
    const withDlq = ofType('AWS::SQS::Queue').filter(([, queue]) => queue.Properties.RedrivePolicy);
    expect(withDlq.length).toBeGreaterThan(0);
    for (const [queueId, queue] of withDlq) {
      const dlq = ref(
        (queue.Properties.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn,
      );
      const onDlq = alarms.filter(
        (alarm) =>
          alarm.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          ref(alarm.dimensions.get('QueueName')) === dlq &&
          alarm.Namespace === 'AWS/SQS',
      );
      expect(onDlq, `${queueId}'s DLQ ${dlq}`).toHaveLength(1);
      const age = alarms.filter(
        (alarm) =>
          alarm.MetricName === 'ApproximateAgeOfOldestMessage' &&
          ref(alarm.dimensions.get('QueueName')) === queueId,
      );
      expect(age, queueId).toHaveLength(1);
    }
  });

  it('every function has errors and throttles alarms', () => {
    for (const [functionId] of ofType('AWS::Lambda::Function')) {
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarms.filter(
          (alarm) => alarm.MetricName === metric && ref(alarm.dimensions.get('FunctionName')) === functionId,
        );
        expect(found, `${functionId} ${metric}`).toHaveLength(1);
      }
    }
  });

  it('every async consumer has an on-failure path: a DLQ on its queue, or an on-failure destination', () => {
    for (const [id, mapping] of ofType('AWS::Lambda::EventSourceMapping')) {
      const source = ref(mapping.Properties.EventSourceArn);
      const queue = source ? resources[source] : undefined;
      const hasPath =
        (queue?.Type === 'AWS::SQS::Queue' && queue.Properties.RedrivePolicy !== undefined) ||
        (mapping.Properties.DestinationConfig as { OnFailure?: unknown } | undefined)?.OnFailure !==
          undefined;
      expect(hasPath, id).toBe(true);
    }
    for (const [id, rule] of ofType('AWS::Events::Rule')) {
      for (const target of (rule.Properties.Targets as { DeadLetterConfig?: unknown; Arn: unknown }[]) ??
        []) {
        // A rule delivering to a queue or a function needs a DLQ for what it cannot deliver.
        expect(target.DeadLetterConfig, `${id} → ${JSON.stringify(target.Arn)}`).toBeDefined();
      }
    }
  });

  it('every state machine has failed and timed-out alarms', () => {
    for (const [machineId] of ofType('AWS::StepFunctions::StateMachine')) {
      for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut']) {
        const found = alarms.filter(
          (alarm) =>
            alarm.MetricName === metric && ref(alarm.dimensions.get('StateMachineArn')) === machineId,
        );
        expect(found.length, `${machineId} ${metric}`).toBeGreaterThanOrEqual(1);
      }
    }
  });

  it('has the API, vendor throttling and drift alarms', () => {
    const metrics = alarms.map((alarm) => `${alarm.Namespace} ${alarm.MetricName}`);
    for (const metric of [
      'AWS/ApiGateway 5xx',
      'AWS/ApiGateway Latency',
      'Omnihub ErpThrottled',
      'Omnihub ShopifyThrottled',
      'Omnihub ReconciliationDrift',
    ]) {
      expect(metrics).toContain(metric);
    }
  });

  it('has the dashboard', () => {
    const dashboards = ofType('AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]?.[1].Properties.DashboardName).toBe(`omnihub-${env}`);
  });

  it('every alarm links a runbook that exists', () => {
    const runbooks = new Set(readdirSync(RUNBOOK_DIR).filter((file) => file.endsWith('.md')));
    for (const alarm of alarms) {
      const link = /docs\/runbooks\/([\w-]+\.md)/.exec(alarm.AlarmDescription ?? '')?.[1];
      expect(link, `${alarm.id} links no runbook`).toBeDefined();
      expect(runbooks.has(link as string), `${alarm.id}: ${link} does not exist`).toBe(true);
    }
  });
});

describe('runbooks', () => {
  it('exist for every kind of alarm, and each says what it means, how to look and how to replay', () => {
    for (const file of new Set(Object.values(RUNBOOKS))) {
      const path = `${RUNBOOK_DIR}/${file}`;
      expect(existsSync(path), path).toBe(true);
      const text = readFileSync(path, 'utf8');
      for (const heading of ['## What it means', '## How to look', '## How to replay']) {
        expect(text, `${path}: ${heading}`).toContain(heading);
      }
    }
  });
});
