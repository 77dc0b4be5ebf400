import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cbor } from '@smithy/core/cbor';
import { describe, expect, it } from 'vitest';
import { handleCloudWatchHttp } from '#local/cloudwatch/api.ts';
import { parseEmf } from '#local/cloudwatch/emf.ts';
import { LocalCloudWatch, type MetricSources } from '#local/cloudwatch/service.ts';
import { templateOf } from './eventbridge-fixtures.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** A Powertools-style EMF line. */
function emf(namespace: string, metric: string, value: number, timestamp = Date.now()): string {
  return JSON.stringify({
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        { Namespace: namespace, Dimensions: [['service']], Metrics: [{ Name: metric, Unit: 'Count' }] },
      ],
    },
    service: 'erp-order-sync',
    [metric]: value,
  });
}

function alarm(properties: Record<string, unknown>) {
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      Period: 60,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Sum',
      ...properties,
    },
  };
}

function cloudWatchOf(
  resources: Record<string, unknown>,
  sources: Partial<MetricSources> = {},
  now?: () => number,
) {
  return new LocalCloudWatch(
    templateOf(resources),
    {
      queues: async () => [],
      functions: () => ({}),
      executions: () => [],
      ...sources,
    },
    { alarmTimeScale: 1, log: silent, ...(now ? { now } : {}) },
  );
}

describe('embedded metric format', () => {
  it('extracts every metric of every directive with its dimensions, unit and timestamp', () => {
    const result = parseEmf(emf('Omnihub', 'OrdersSynced', 2, 1_000));
    expect(result).toEqual({
      kind: 'metrics',
      datums: [
        {
          namespace: 'Omnihub',
          name: 'OrdersSynced',
          dimensions: { service: 'erp-order-sync' },
          value: 2,
          timestamp: 1_000,
          unit: 'Count',
        },
      ],
    });
  });

  it('extracts nothing from a document that breaks the specification', () => {
    const line = JSON.parse(emf('Omnihub', 'OrdersSynced', 2)) as Record<string, unknown>;
    expect(parseEmf(JSON.stringify({ ...line, OrdersSynced: 'two' }))).toMatchObject({ kind: 'invalid' });
    expect(parseEmf(JSON.stringify({ ...line, service: 7 }))).toMatchObject({ kind: 'invalid' });
    expect(parseEmf(JSON.stringify({ ...line, _aws: { CloudWatchMetrics: [] } }))).toMatchObject({
      kind: 'invalid',
      reason: expect.stringContaining('Timestamp'),
    });
    // Text around the JSON: not an EMF log event at all.
    expect(parseEmf(`INFO ${emf('Omnihub', 'OrdersSynced', 2)}`)).toEqual({ kind: 'not-emf' });
    expect(parseEmf('{"message":"hello"}')).toEqual({ kind: 'not-emf' });
  });
});

describe('alarms', () => {
  it('go from INSUFFICIENT_DATA to ALARM on EMF metrics, then OK, recording history and SNS notifications', async () => {
    let now = 1_000_000;
    const cloudWatch = cloudWatchOf(
      {
        Topic: { Type: 'AWS::SNS::Topic', Properties: { TopicName: 'ops' } },
        Failures: alarm({
          AlarmName: 'erp-failures',
          Namespace: 'Omnihub',
          MetricName: 'ErpFailures',
          Dimensions: [{ Name: 'service', Value: 'erp-order-sync' }],
          AlarmActions: [{ Ref: 'Topic' }],
          OKActions: [{ Ref: 'Topic' }],
        }),
      },
      {},
      () => now,
    );
    const [status] = cloudWatch.alarms;
    expect(status?.state).toBe('INSUFFICIENT_DATA');
    cloudWatch.ingestLog('erp', emf('Omnihub', 'ErpFailures', 3, now - 1000));
    await cloudWatch.tick();
    expect(status?.state).toBe('ALARM');
    expect(status?.reason).toMatch(/^Threshold Crossed: 1 out of the last 1 datapoints \[3\]/);
    now += 61_000;
    cloudWatch.ingestLog('erp', emf('Omnihub', 'ErpFailures', 0, now - 1000));
    await cloudWatch.tick();
    expect(status?.state).toBe('OK');
    expect(status?.history.map((item) => item.newState)).toEqual(['ALARM', 'OK']);
    expect(
      cloudWatch.notifications.map((notification) => [notification.action, notification.newState]),
    ).toEqual([
      ['arn:aws:sns:us-east-1:000000000000:ops', 'ALARM'],
      ['arn:aws:sns:us-east-1:000000000000:ops', 'OK'],
    ]);
    expect(cloudWatch.notifications[0]?.message).toMatchObject({
      AlarmName: 'erp-failures',
      NewStateValue: 'ALARM',
      OldStateValue: 'INSUFFICIENT_DATA',
      Trigger: { MetricName: 'ErpFailures', Namespace: 'Omnihub', Threshold: 1 },
    });
  });

  it('treat missing data as the alarm says', async () => {
    const missing = (treat: string) =>
      alarm({ AlarmName: `a-${treat}`, Namespace: 'N', MetricName: 'M', TreatMissingData: treat });
    const cloudWatch = cloudWatchOf({
      Missing: missing('missing'),
      Breaching: missing('breaching'),
      NotBreaching: missing('notBreaching'),
      Ignore: missing('ignore'),
    });
    await cloudWatch.tick();
    expect(
      Object.fromEntries(cloudWatch.alarms.map((status) => [status.definition.name, status.state])),
    ).toEqual({
      'a-missing': 'INSUFFICIENT_DATA',
      'a-breaching': 'ALARM',
      'a-notBreaching': 'OK',
      'a-ignore': 'INSUFFICIENT_DATA',
    });
  });

  it('need DatapointsToAlarm breaching periods out of EvaluationPeriods', async () => {
    let now = 10_000_000;
    const cloudWatch = cloudWatchOf(
      {
        TwoOfThree: alarm({
          AlarmName: 'two-of-three',
          Namespace: 'N',
          MetricName: 'M',
          EvaluationPeriods: 3,
          DatapointsToAlarm: 2,
          Statistic: 'Maximum',
          TreatMissingData: 'notBreaching',
        }),
      },
      {},
      () => now,
    );
    const put = (value: number) =>
      cloudWatch.ingestLog(
        'f',
        JSON.stringify({
          _aws: {
            Timestamp: now - 1,
            CloudWatchMetrics: [{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'M' }] }],
          },
          M: value,
        }),
      );
    put(5);
    await cloudWatch.tick();
    expect(cloudWatch.alarms[0]?.state).toBe('OK');
    now += 60_000;
    put(5);
    await cloudWatch.tick();
    expect(cloudWatch.alarms[0]?.state).toBe('ALARM');
  });

  it('count the services: a queue depth, Lambda errors and failed executions', async () => {
    let now = 5_000_000;
    let errors = 0;
    const cloudWatch = cloudWatchOf(
      {
        Dlq: alarm({
          AlarmName: 'dlq',
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: 'dlq' }],
          Statistic: 'Maximum',
          TreatMissingData: 'notBreaching',
        }),
        Errors: alarm({
          AlarmName: 'errors',
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: 'sync' }],
          TreatMissingData: 'notBreaching',
        }),
        Failed: alarm({
          AlarmName: 'failed',
          Namespace: 'AWS/States',
          MetricName: 'ExecutionsFailed',
          Dimensions: [{ Name: 'StateMachineArn', Value: 'arn:sm' }],
          TreatMissingData: 'notBreaching',
        }),
      },
      {
        queues: async () => [{ name: 'dlq', visible: 1, inFlight: 0 }],
        functions: () => ({ sync: { invocations: errors + 1, errors } }),
        executions: () => [
          {
            stateMachineArn: 'arn:sm',
            status: 'FAILED',
            startDate: new Date(now - 10),
            stopDate: new Date(now - 5),
          },
        ],
      },
      () => now,
    );
    now += 10;
    errors = 2;
    await cloudWatch.tick();
    expect(
      Object.fromEntries(cloudWatch.alarms.map((status) => [status.definition.name, status.state])),
    ).toEqual({
      dlq: 'ALARM',
      errors: 'ALARM',
      failed: 'ALARM',
    });
  });

  it('refuse to load what the local cloud does not evaluate', () => {
    expect(() =>
      cloudWatchOf({
        Math: {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: { Metrics: [], EvaluationPeriods: 1, ComparisonOperator: 'GreaterThanThreshold' },
        },
      }),
    ).toThrow(/AWS::CloudWatch::Alarm Math: metric math/);
    expect(() =>
      cloudWatchOf({
        Odd: alarm({ Namespace: 'N', MetricName: 'M', Statistic: undefined, ExtendedStatistic: 'tm99' }),
      }),
    ).toThrow(/only percentiles/);
    expect(() =>
      cloudWatchOf({
        Band: alarm({
          Namespace: 'N',
          MetricName: 'M',
          ComparisonOperator: 'LessThanLowerOrGreaterThanUpperThreshold',
        }),
      }),
    ).toThrow(/AWS::CloudWatch::Alarm Band/);
  });
});

describe('DescribeAlarms', () => {
  async function serve(cloudWatch: LocalCloudWatch) {
    const server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (!(await handleCloudWatchHttp(cloudWatch, req, res, Buffer.concat(chunks))))
        res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
  }

  it('answers in Smithy RPC v2 CBOR, AWS JSON 1.0 and AWS Query, with the same alarm', async () => {
    const cloudWatch = cloudWatchOf({
      A: alarm({ AlarmName: 'dlq-alarm', Namespace: 'AWS/SQS', MetricName: 'M' }),
    });
    const { url, close } = await serve(cloudWatch);
    try {
      const viaCbor = await fetch(`${url}/service/GraniteServiceVersion20100801/operation/DescribeAlarms`, {
        method: 'POST',
        headers: { 'content-type': 'application/cbor', 'smithy-protocol': 'rpc-v2-cbor' },
        body: Buffer.from(cbor.serialize({ AlarmNamePrefix: 'dlq' })),
      });
      expect(viaCbor.headers.get('smithy-protocol')).toBe('rpc-v2-cbor');
      const decoded = cbor.deserialize(new Uint8Array(await viaCbor.arrayBuffer())) as {
        MetricAlarms: { AlarmName: string; StateValue: string; StateUpdatedTimestamp: { tag: number } }[];
      };
      expect(decoded.MetricAlarms[0]).toMatchObject({
        AlarmName: 'dlq-alarm',
        StateValue: 'INSUFFICIENT_DATA',
      });
      expect(decoded.MetricAlarms[0]?.StateUpdatedTimestamp.tag).toBe(1);

      const viaJson = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'GraniteServiceVersion20100801.DescribeAlarms',
        },
        body: JSON.stringify({ AlarmNames: ['dlq-alarm'] }),
      });
      expect(((await viaJson.json()) as { MetricAlarms: unknown[] }).MetricAlarms).toHaveLength(1);

      const viaQuery = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'Action=DescribeAlarms&Version=2010-08-01&AlarmNames.member.1=dlq-alarm',
      });
      const xml = await viaQuery.text();
      expect(xml).toContain('<AlarmName>dlq-alarm</AlarmName>');
      expect(xml).toContain(
        '<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">',
      );

      const refused = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'GraniteServiceVersion20100801.DescribeAlarms',
        },
        body: JSON.stringify({ AlarmNames: ['a'], AlarmNamePrefix: 'a' }),
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { __type: string }).__type).toBe('InvalidParameterCombination');
    } finally {
      close();
    }
  });
});
