import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { HubFlow } from '#infra/flows/hub-flow.ts';
import { logicalIdOf } from '#infra/stacks/logical-ids.ts';
import { templateApp } from '#test/support/cdk.ts';

/**
 * The logical ids the stateful resources were first deployed with (before flows were constructs).
 * CloudFormation replaces a resource whose logical id changes: a RETAIN table would be orphaned with
 * its data and a new empty one created. Change an entry here only with a migration plan.
 */
const DEPLOYED_STATEFUL_IDS = {
  'AWS::DynamoDB::Table': [
    'CatalogTableF8EA09BD',
    'ExceptionsTable607612EC',
    'IdempotencyTable22A5A209',
    'InventoryTableFD135387',
    'LedgerTable38A58B60',
    'MappingsTableC26BA654',
    'OpsAuditTable366086C5',
    'TraceTable228F2B96',
    'ReconciliationTable0F9E5DFB',
  ],
  'AWS::SQS::Queue': [
    'ErpOrdersDeadLetterQueue28DF3A0D',
    'ErpOrdersQueueE8EC9F42',
    'InventoryEventsDeadLetterQueue35D04FE1',
    'InventoryEventsQueue0437E83B',
    'PriceEventsDeadLetterQueue8A8639A2',
    'PriceEventsQueueF4F0C2F9',
  ],
  'AWS::SecretsManager::Secret': [
    'NetSuiteCredentials23D2FCDE',
    'ShopifyWebhookSecret9817FB19',
    'SquareAccessToken5B893FA2',
    'SquareSignatureKey27CA59FD',
  ],
  'AWS::Events::EventBus': ['BusEA82B648'],
  'AWS::Events::Archive': ['BusArchiveD76499E2'],
  'AWS::Logs::LogGroup': [
    'ErpOrderSyncFunctionLogs20CDF6E5',
    'PosWebhookFunctionLogs1BE55EEC',
    'ShopifyWebhookFunctionLogsE0EB5DAB',
    'WebhookApiAccessLogs7F990121',
  ],
};

describe('logicalIdOf', () => {
  it('computes the ids CDK allocates, for plain, nested, Default and Resource paths', () => {
    const stack = new Stack(new App(), 'Ids');
    const nested = new Construct(new Construct(stack, 'Outer'), 'Inner-Scope');
    const elements = [
      new Queue(stack, 'Top'),
      new Queue(nested, 'Queue'),
      new Queue(new Construct(stack, 'Default'), 'Hidden'),
      new Queue(stack, 'OrdersOrders'),
      new Queue(new Construct(stack, 'Orders'), 'Orders'),
    ].map((queue) => queue.node.defaultChild as CfnElement);
    for (const element of elements) {
      const path = element.node.scopes.slice(2).map((scope) => scope.node.id);
      expect(logicalIdOf(path)).toBe(stack.getLogicalId(element));
    }
  });
});

describe('flows in the construct tree', () => {
  let ids: Record<string, string[]>;

  beforeAll(() => {
    const template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
    ids = Object.fromEntries(
      Object.keys(DEPLOYED_STATEFUL_IDS).map((type) => [
        type,
        Object.keys(template.findResources(type)).sort(),
      ]),
    );
  }, 120_000);

  it('keep every stateful resource at the logical id it was deployed with', () => {
    for (const [type, deployed] of Object.entries(DEPLOYED_STATEFUL_IDS)) {
      expect(ids[type], type).toEqual(expect.arrayContaining(deployed));
    }
  });

  it('cannot give two resources of different flows the same id (synthesis fails)', () => {
    class FlowA extends HubFlow {}
    class FlowB extends HubFlow {}
    const stack = new (class extends Stack {
      protected override allocateLogicalId(element: CfnElement): string {
        return logicalIdOf(
          element.node.scopes
            .slice(2)
            .filter((scope) => !(scope instanceof HubFlow))
            .map((scope) => scope.node.id),
        );
      }
    })(new App(), 'Clash');
    new Queue(new FlowA(stack, 'A'), 'Jobs');
    new Queue(new FlowB(stack, 'B'), 'Jobs');
    expect(() => Template.fromStack(stack)).toThrow(/already contains/);
  });
});
