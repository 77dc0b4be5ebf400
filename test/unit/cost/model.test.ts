import { describe, expect, it } from 'vitest';
import { DEFAULT_ASSUMPTIONS, estimateCost, type RawTemplate } from '../../../scripts/cost/model.ts';
import { PRICES } from '../../../scripts/cost/prices.ts';
import type { Workload } from '../../../scripts/cost/workload.ts';

/** 1,000 online orders a day and nothing else, over 10 active hours, no redeliveries. */
const WORKLOAD: Workload = {
  ordersPerDay: 1_000,
  editsPerDay: 0,
  cancellationsPerDay: 0,
  posSalesPerDay: 0,
  movementsPerDay: 0,
  returnsPerDay: 0,
  posRefundsPerDay: 0,
  pickupsPerDay: 0,
  priceChangesPerDay: 0,
  duplicateShare: 0,
  activeHours: 10,
};

const path = (p: string) => ({ 'aws:cdk:path': p });

/**
 * A webhook route → function A (1 GB arm64, INFO logs kept 7 days, an idempotency table it writes);
 * a rule sending shopify OrderCreated to a queue drained by function B (batch 10, no window); a rule
 * sending shopify OrderUpdated to a 3-state standard state machine.
 */
const TEMPLATE: RawTemplate = {
  Resources: {
    Bus: { Type: 'AWS::Events::EventBus', Metadata: path('S/Bus/Resource') },
    Api: { Type: 'AWS::ApiGatewayV2::Api', Metadata: path('S/Api/Resource') },
    Integration: {
      Type: 'AWS::ApiGatewayV2::Integration',
      Properties: { IntegrationUri: { 'Fn::GetAtt': ['FnA', 'Arn'] } },
    },
    Route: {
      Type: 'AWS::ApiGatewayV2::Route',
      Properties: {
        RouteKey: 'POST /webhooks/shopify',
        Target: { 'Fn::Join': ['', ['integrations/', { Ref: 'Integration' }]] },
      },
    },
    Table: { Type: 'AWS::DynamoDB::Table', Metadata: path('S/Table/Resource') },
    LogsA: { Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 7 } },
    RoleA: { Type: 'AWS::IAM::Role' },
    PolicyA: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'RoleA' }],
        PolicyDocument: {
          Statement: [
            { Effect: 'Allow', Action: ['dynamodb:PutItem'], Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } },
          ],
        },
      },
    },
    FnA: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        MemorySize: 1024,
        Architectures: ['arm64'],
        Role: { 'Fn::GetAtt': ['RoleA', 'Arn'] },
        LoggingConfig: { LogGroup: { Ref: 'LogsA' } },
        Environment: {
          Variables: { POWERTOOLS_LOG_LEVEL: 'INFO', IDEMPOTENCY_TABLE_NAME: { Ref: 'Table' } },
        },
      },
      Metadata: path('S/Ingress/FnA/Resource'),
    },
    Queue: { Type: 'AWS::SQS::Queue', Metadata: path('S/Capture/Queue/Resource') },
    Rule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['omnihub.shopify'], 'detail-type': ['OrderCreated'] },
        Targets: [{ Arn: { 'Fn::GetAtt': ['Queue', 'Arn'] }, Id: 'q' }],
      },
    },
    FnB: {
      Type: 'AWS::Lambda::Function',
      Properties: { MemorySize: 512, Architectures: ['arm64'] },
      Metadata: path('S/Capture/FnB/Resource'),
    },
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        BatchSize: 10,
        EventSourceArn: { 'Fn::GetAtt': ['Queue', 'Arn'] },
        FunctionName: { Ref: 'FnB' },
      },
    },
    Machine: {
      Type: 'AWS::StepFunctions::StateMachine',
      Properties: {
        StateMachineType: 'STANDARD',
        DefinitionString:
          '{"StartAt":"A","States":{"A":{"Type":"Task","Next":"B"},"B":{"Type":"Choice"},"C":{"Type":"Succeed"}}}',
      },
      Metadata: path('S/Returns/Machine/Resource'),
    },
    MachineRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        EventPattern: { source: ['omnihub.shopify'], 'detail-type': ['OrderUpdated'] },
        Targets: [{ Arn: { Ref: 'Machine' }, Id: 'm' }],
      },
    },
  },
};

const report = estimateCost([TEMPLATE], WORKLOAD, PRICES['us-east-1'] ?? (undefined as never));
const line = (resource: string, item: string) => {
  const found = report.lines.find((l) => l.resource === resource && l.item === item);
  if (!found)
    throw new Error(`no line ${resource} ${item}: ${report.lines.map((l) => `${l.resource}/${l.item}`)}`);
  return found;
};

describe('estimateCost on a small template', () => {
  it('prices the route: 3 webhooks per order × 1,000 × 30 days at $1.00/1M', () => {
    expect(line('Api', 'HTTP API requests').monthly).toBeCloseTo(0.09, 10);
  });

  it('prices function A: 90,000 requests and (60 + 25) ms × 1 GB each', () => {
    expect(line('FnA', 'requests').monthly).toBeCloseTo((90_000 * 0.2) / 1e6, 10);
    expect(line('FnA', 'duration').monthly).toBeCloseTo(90_000 * 0.085 * 1 * 0.0000133334, 10);
    expect(line('FnA', 'duration').flow).toBe('Ingress');
    // Cold starts: 2 per active hour × 10 h × 30 days × 250 ms × 1 GB.
    expect(line('FnA', 'init (cold starts)').monthly).toBeCloseTo(600 * 0.25 * 0.0000133334, 10);
    // INFO logs: 1,800 B per invocation at $0.50/GB, kept 7 days at $0.03/GB-month.
    expect(line('FnA', 'ingestion').monthly).toBeCloseTo(((90_000 * 1_800) / 1e9) * 0.5, 10);
    expect(line('FnA', 'storage').monthly).toBeCloseTo(((90_000 * 1_800) / 1e9) * (7 / 30) * 0.03, 10);
  });

  it('prices idempotency writes at 2 units per record', () => {
    expect(line('Table', 'write units from FnA').monthly).toBeCloseTo((180_000 * 0.625) / 1e6, 10);
  });

  it('prices the bus, the rule-fed queue and its consumer', () => {
    // OrderCreated 1,000 + OrderUpdated 2,000 a day.
    expect(line('Bus', 'custom events').monthly).toBeCloseTo((90_000 * 1.0) / 1e6, 10);
    // 30,000 sends + 30,000 batches of 1 × (receive + delete) + 5 pollers × 4,320 polls/day × 30.
    expect(line('Queue', 'requests').monthly).toBeCloseTo(((30_000 + 60_000 + 648_000) * 0.4) / 1e6, 10);
    expect(line('FnB', 'requests').monthly).toBeCloseTo((30_000 * 0.2) / 1e6, 10);
  });

  it('prices the state machine: 60,000 executions × 3 states at $0.025/1k transitions', () => {
    expect(line('Machine', 'state transitions').monthly).toBeCloseTo(4.5, 10);
    expect(line('Machine', 'state transitions').flow).toBe('Returns');
  });

  it('sums per service, per flow and per 1,000 orders', () => {
    const sum = report.lines.reduce((s, l) => s + l.monthly, 0);
    expect(report.total).toBeCloseTo(sum, 10);
    expect(Object.values(report.byService).reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 10);
    expect(Object.values(report.byFlow).reduce((a, b) => a + b, 0)).toBeCloseTo(sum, 10);
    expect(report.byService['Step Functions']).toBeCloseTo(4.5, 10);
    expect(report.per1000Orders).toBeCloseTo((sum / 30_000) * 1000, 10);
  });

  it('says what it could not price', () => {
    const lonely = estimateCost(
      [
        {
          Resources: {
            Route: { Type: 'AWS::ApiGatewayV2::Route', Properties: { RouteKey: 'POST /webhooks/other' } },
          },
        },
      ],
      WORKLOAD,
      PRICES['eu-west-1'] ?? (undefined as never),
      DEFAULT_ASSUMPTIONS,
    );
    expect(lonely.notes.join('\n')).toContain('POST /webhooks/other');
  });
});
