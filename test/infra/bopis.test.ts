import { Match, Template } from 'aws-cdk-lib/assertions';
import { StateMachine } from 'aws-local-stepfunctions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { ENVIRONMENTS } from '#infra/config/environments.ts';
import { matchesPattern } from '#local/eventbridge/pattern.ts';
import { templateApp } from '#test/support/cdk.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
type State = {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  Next?: string;
  Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[];
  Retry?: { ErrorEquals: string[] }[];
  Choices?: { Next: string }[];
  Default?: string;
};

let template: Template;
let resources: Record<string, Resource>;
let machineId: string;
let states: Record<string, State>;

/** The definition string with its Fn::Join parts (ARNs) flattened to placeholders. */
function definitionOf(machine: Resource): { States: Record<string, State>; TimeoutSeconds: number } {
  const definition = machine.Properties.DefinitionString as { 'Fn::Join': [string, unknown[]] } | string;
  const text =
    typeof definition === 'string'
      ? definition
      : definition['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'REF')).join('');
  return JSON.parse(text);
}

const logicalId = (prefix: string, type: string) => {
  const ids = Object.keys(resources).filter((key) => key.startsWith(prefix) && resources[key]?.Type === type);
  if (ids.length !== 1) throw new Error(`${ids.length} resources ${prefix}* ${type}`);
  return ids[0] as string;
};

/** Every action the role of the function `prefix` is granted. */
function actionsOf(prefix: string): string[] {
  const fn = resources[logicalId(prefix, 'AWS::Lambda::Function')] as Resource;
  const role = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
  const actions = new Set<string>();
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
    if (!(policy.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === role)) continue;
    for (const statement of policy.Properties.PolicyDocument.Statement as { Action: string | string[] }[])
      for (const action of [statement.Action].flat()) actions.add(action);
  }
  return [...actions].sort();
}

beforeAll(() => {
  template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
  resources = template.toJSON().Resources;
  machineId = logicalId('BopisWorkflowStateMachine', 'AWS::StepFunctions::StateMachine');
  states = definitionOf(resources[machineId] as Resource).States;
}, 120_000);

describe('Bopis flow (prod template)', () => {
  it('is a Standard workflow that logs every event, traces, and alarms on failed, timed-out and aborted executions', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineType: 'STANDARD',
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: { Level: 'ALL', IncludeExecutionData: false, Destinations: Match.anyValue() },
    });
    for (const metric of ['ExecutionsFailed', 'ExecutionsTimedOut', 'ExecutionsAborted']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'AWS/States',
        MetricName: metric,
        Dimensions: [{ Name: 'StateMachineArn', Value: { Ref: machineId } }],
      });
    }
  });

  it('waits on task tokens stored on the pick-up item, for the configured windows', () => {
    const { prepareWindowSeconds, pickupWindowSeconds } = ENVIRONMENTS.prod.bopis;
    for (const [name, timeout] of [
      ['WaitPrepared', prepareWindowSeconds],
      ['WaitCollected', pickupWindowSeconds],
    ] as const) {
      expect(states[name]).toMatchObject({
        Type: 'Task',
        Resource: expect.stringMatching(/:states:::aws-sdk:dynamodb:updateItem\.waitForTaskToken$/),
        TimeoutSeconds: timeout,
      });
      const errors = states[name]?.Catch?.flatMap((c) => c.ErrorEquals);
      expect(errors).toEqual(
        expect.arrayContaining([
          'States.Timeout',
          'Bopis.OrderCancelled',
          'Bopis.PickupCancelled',
          'DynamoDb.ConditionalCheckFailedException',
        ]),
      );
    }
    expect(pickupWindowSeconds).toBe(72 * 3600);
  });

  it('undoes everything before the collection and nothing after it', () => {
    // Every path into the compensations goes through the release, then the POS, Shopify and ERP, then notify.
    const chain: string[] = [];
    let name: string | undefined = 'ReleaseReservation';
    while (name && states[name]?.Type === 'Task') {
      chain.push(name);
      name = states[name]?.Next;
    }
    expect(chain).toEqual([
      'ReleaseReservation',
      'CancelPosPickup',
      'CancelOrderInShopify',
      'CloseInErp',
      'NotifyPickupCancelled',
    ]);
    for (const reason of ['StockUnavailable', 'WindowExpired', 'OrderCancelled', 'StepFailed'])
      expect(states[reason]?.Next).toBe('ReleaseReservation');
    for (const step of ['Reserve', 'CreatePosPickup', 'MarkPrepared'])
      expect(states[step]?.Catch?.[0]).toEqual(
        expect.objectContaining({ ErrorEquals: ['States.ALL'], Next: 'StepFailed' }),
      );
    // A failed CreatePosPickup leaves its error in $.pos: CancelPosPickup looks for an order Square made anyway.
    expect(states.CreatePosPickup?.Catch?.[0]).toMatchObject({ ResultPath: '$.pos' });
    // After the collection: retried, never compensated.
    for (const step of ['FulfilInShopify', 'ConvertToSale', 'BookInErp']) {
      expect(states[step]?.Catch).toBeUndefined();
      expect(states[step]?.Retry?.flatMap((r) => r.ErrorEquals)).toContain('BopisTransientError');
    }
    // Every compensation is retried.
    for (const step of chain) expect(states[step]?.Retry?.length ?? 0).toBeGreaterThan(0);
  });

  it('starts on online pick-up orders only, and answers tokens from POS pick-up states and cancellations', () => {
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map(
      (rule) => rule.Properties.EventPattern as Record<string, unknown>,
    );
    const event = (source: string, detailType: string, data: Record<string, unknown>) => ({
      version: '0',
      id: 'e',
      account: '123456789012',
      time: '2026-12-01T00:00:00Z',
      region: 'us-east-1',
      resources: [],
      source,
      'detail-type': detailType,
      detail: { data },
    });
    const matching = (e: ReturnType<typeof event>) => rules.filter((p) => matchesPattern(p, e)).length;
    const start = rules.find(
      (p) => JSON.stringify(p).includes('"pickup"') && JSON.stringify(p).includes('OrderCreated'),
    );
    expect(start).toBeDefined();
    const pickup = event('omnihub.shopify', 'OrderCreated', {
      channel: 'online',
      fulfilmentMethod: 'pickup',
    });
    const shipped = event('omnihub.shopify', 'OrderCreated', { channel: 'online', fulfilmentMethod: 'ship' });
    expect(matchesPattern(start as Record<string, unknown>, pickup)).toBe(true);
    expect(matchesPattern(start as Record<string, unknown>, shipped)).toBe(false);
    expect(matching(event('omnihub.pos', 'PickupUpdated', { state: 'PREPARED' }))).toBe(1);
  });

  it('grants each function only what its code calls', () => {
    expect(actionsOf('BopisStartFunction')).toEqual([
      'kms:Decrypt',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'states:StartExecution',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(actionsOf('BopisCallbacksFunction')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
      'kms:Decrypt',
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
      'states:SendTaskFailure',
      'states:SendTaskSuccess',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    expect(actionsOf('BopisTasksFunction')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
      'events:PutEvents',
      'kms:Decrypt',
      'kms:GenerateDataKey',
      'secretsmanager:DescribeSecret',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  /**
   * Runs the routing after `Inspect` (the Choice states from WhereIsThePickup on, as synthesized) with the
   * interpreter the local cloud uses, every other state replaced by a Pass that names itself: where an
   * inspected pick-up item leads.
   */
  async function routeOf(item: Record<string, unknown>): Promise<string> {
    const choices = new Set<string>();
    const visit = (name: string) => {
      const state = states[name];
      if (choices.has(name) || state?.Type !== 'Choice') return;
      choices.add(name);
      for (const next of [...(state.Choices ?? []).map((c) => c.Next), state.Default ?? '']) visit(next);
    };
    visit('WhereIsThePickup');
    const targets = new Set(
      [...choices].flatMap((name) => [
        ...(states[name]?.Choices ?? []).map((c) => c.Next),
        states[name]?.Default ?? '',
      ]),
    );
    const definition = {
      StartAt: 'WhereIsThePickup',
      States: {
        ...Object.fromEntries([...choices].map((name) => [name, states[name]])),
        ...Object.fromEntries(
          [...targets]
            .filter((name) => name !== '' && !choices.has(name))
            .map((name) => [name, { Type: 'Pass', Result: name, End: true }]),
        ),
      },
    };
    const machine = new StateMachine(definition as never, { validationOptions: { noValidate: true } });
    return (await machine.run({ inspected: { item } } as never).result) as unknown as string;
  }

  it('after a refused wait, routes what the pick-up item says — a cancellation before any POS state included', async () => {
    const pk = { S: 'PICKUP#shopify:shop:1' };
    // Cancelled on Shopify before the POS reported anything: no posState on the item. A comparison on the
    // absent path failed the execution (States.Runtime) before its compensations: the hold stayed.
    expect(await routeOf({ pk, cancelled: { BOOL: true } })).toBe('OrderCancelled');
    expect(await routeOf({ pk, posState: { S: 'CANCELED' } })).toBe('OrderCancelled');
    expect(await routeOf({ pk, posState: { S: 'PREPARED' } })).toBe('MarkPrepared');
    expect(await routeOf({ pk, posState: { S: 'PREPARED' }, cancelled: { BOOL: true } })).toBe(
      'OrderCancelled',
    );
    // Collected first: the goods are gone, a late cancellation is not undone.
    expect(await routeOf({ pk, posState: { S: 'COMPLETED' }, cancelled: { BOOL: true } })).toBe(
      'FulfilInShopify',
    );
    expect(await routeOf({ pk })).toBe('StepFailed');
  });
});
