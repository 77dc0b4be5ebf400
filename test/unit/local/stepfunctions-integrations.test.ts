import { createHash } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type ExecutionView, LocalStepFunctions } from '#local/stepfunctions/service.ts';
import type { LocalTemplate } from '#local/template.ts';
import { eventually, FakeRuntime, machineArn, synthesize } from './stepfunctions-helpers.ts';

const TABLE = `sfn-orders-${process.pid}-${Date.now()}`;

let template: LocalTemplate;
let cleanup: () => void;
let runtime: FakeRuntime;
let service: LocalStepFunctions;
let ddb: DynamoDBClient;

beforeAll(async () => {
  ({ template, cleanup } = synthesize('SfnIntegrations', (stack) => {
    const queue = new sqs.Queue(stack, 'Outbox', { queueName: 'outbox.fifo', fifo: true });
    new sfn.StateMachine(stack, 'Enqueue', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.SqsSendMessage(stack, 'SendOrder', {
          queue,
          messageBody: sfn.TaskInput.fromJsonPathAt('$.order'),
          messageGroupId: 'orders',
          resultPath: '$.sent',
        }),
      ),
    });

    const bus = new events.EventBus(stack, 'Bus', { eventBusName: 'omnihub' });
    const publish = new tasks.EventBridgePutEvents(stack, 'Publish', {
      entries: [
        {
          detail: sfn.TaskInput.fromJsonPathAt('$.order'),
          detailType: 'OrderPlaced',
          source: 'omnihub.orders',
          eventBus: bus,
        },
      ],
      resultPath: '$.published',
    });
    publish.addCatch(new sfn.Pass(stack, 'PublishFailed'), {
      errors: ['EventBridge.FailedEntry'],
      resultPath: '$.error',
    });
    new sfn.StateMachine(stack, 'Publisher', { definitionBody: sfn.DefinitionBody.fromChainable(publish) });

    const table = new dynamodb.Table(stack, 'Orders', {
      tableName: TABLE,
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    });
    const key = { pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.id')) };
    const put = new tasks.DynamoPutItem(stack, 'PutOrder', {
      table,
      item: { ...key, status: tasks.DynamoAttributeValue.fromString('NEW') },
      conditionExpression: 'attribute_not_exists(pk)',
      resultPath: sfn.JsonPath.DISCARD,
    });
    put.addCatch(new sfn.Pass(stack, 'Duplicate'), {
      errors: ['DynamoDB.ConditionalCheckFailedException'],
      resultPath: '$.error',
    });
    const update = new tasks.DynamoUpdateItem(stack, 'MarkPaid', {
      table,
      key,
      updateExpression: 'SET #s = :s',
      expressionAttributeNames: { '#s': 'status' },
      expressionAttributeValues: { ':s': tasks.DynamoAttributeValue.fromString('PAID') },
      returnValues: tasks.DynamoReturnValues.ALL_NEW,
      resultSelector: { 'status.$': '$.Attributes.status.S' },
      resultPath: '$.updated',
    });
    const get = new tasks.DynamoGetItem(stack, 'ReadOrder', {
      table,
      key,
      consistentRead: true,
      resultSelector: { 'status.$': '$.Item.status.S' },
      resultPath: '$.read',
    });
    new sfn.StateMachine(stack, 'Store', {
      definitionBody: sfn.DefinitionBody.fromChainable(put.next(update).next(get)),
    });
    new sfn.StateMachine(stack, 'Forget', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.DynamoDeleteItem(stack, 'DeleteOrder', {
          table,
          key,
          returnValues: tasks.DynamoReturnValues.ALL_OLD,
        }),
      ),
    });

    const sdkPut = new tasks.CallAwsService(stack, 'SdkPut', {
      service: 'dynamodb',
      action: 'putItem',
      parameters: {
        TableName: table.tableName,
        Item: { pk: { 'S.$': '$.id' }, via: { S: 'aws-sdk' } },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
      iamResources: [table.tableArn],
      resultPath: sfn.JsonPath.DISCARD,
    });
    sdkPut.addCatch(new sfn.Pass(stack, 'SdkDuplicate'), {
      errors: ['DynamoDb.ConditionalCheckFailedException'],
      resultPath: '$.error',
    });
    const sdkGet = new tasks.CallAwsService(stack, 'SdkGet', {
      service: 'dynamodb',
      action: 'getItem',
      parameters: { TableName: table.tableName, Key: { pk: { 'S.$': '$.id' } }, ConsistentRead: true },
      iamResources: [table.tableArn],
      resultPath: '$.got',
    });
    new sfn.StateMachine(stack, 'Sdk', {
      definitionBody: sfn.DefinitionBody.fromChainable(sdkPut.next(sdkGet)),
    });

    const child = new sfn.StateMachine(stack, 'Child', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Choice(stack, 'ShouldFail')
          .when(
            sfn.Condition.booleanEquals('$.fail', true),
            new sfn.Fail(stack, 'ChildFailed', { error: 'Boom', cause: 'asked to' }),
          )
          .otherwise(
            new sfn.Pass(stack, 'ChildWork', { parameters: { 'doubled.$': 'States.MathAdd($.n, $.n)' } }),
          ),
      ),
    });
    const runChild = new tasks.StepFunctionsStartExecution(stack, 'RunChild', {
      stateMachine: child,
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      input: sfn.TaskInput.fromObject({ 'n.$': '$.n', 'fail.$': '$.fail' }),
      resultSelector: { 'output.$': '$.Output', 'status.$': '$.Status' },
      resultPath: '$.child',
    });
    runChild.addCatch(new sfn.Pass(stack, 'ChildCaught'), {
      errors: ['States.TaskFailed'],
      resultPath: '$.error',
    });
    new sfn.StateMachine(stack, 'Parent', { definitionBody: sfn.DefinitionBody.fromChainable(runChild) });
    new sfn.StateMachine(stack, 'FireAndForget', {
      definitionBody: sfn.DefinitionBody.fromChainable(
        new tasks.StepFunctionsStartExecution(stack, 'StartChild', {
          stateMachine: child,
          input: sfn.TaskInput.fromObject({ n: 1, fail: false }),
          associateWithParent: true,
        }),
      ),
    });
  }));
  const endpoint = inject('dynamodbEndpoint');
  ddb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ddb.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  runtime = new FakeRuntime(template);
  service = new LocalStepFunctions(template, runtime, {
    waitTimeScale: 0.001,
    endpoints: { dynamodb: endpoint },
  });
  runtime.sfn = service;
}, 120_000);

afterAll(() => {
  ddb?.destroy();
  cleanup?.();
});

async function run(
  machine: string,
  input: unknown,
): Promise<ExecutionView & { result: Record<string, unknown> }> {
  const { executionArn } = await service.startExecution(machineArn(template, machine), JSON.stringify(input));
  const execution = await eventually(
    () =>
      service.executions().find((view) => view.executionArn === executionArn && view.status !== 'RUNNING'),
    `${executionArn} to close`,
  );
  return { ...execution, result: JSON.parse(execution.output ?? 'null') as Record<string, unknown> };
}

describe('LocalStepFunctions service integrations', () => {
  it('sqs:sendMessage sends the serialized body with its FIFO group through the runtime', async () => {
    const execution = await run('Enqueue', { order: { id: 'o-1', total: 12.5 } });

    expect(execution.status).toBe('SUCCEEDED');
    expect(runtime.messages).toEqual([
      {
        queue: 'http://127.0.0.1:9/000000000000/outbox.fifo',
        body: '{"id":"o-1","total":12.5}',
        options: { messageGroupId: 'orders' },
      },
    ]);
    expect(execution.result.sent).toMatchObject({
      MessageId: 'message-1',
      MD5OfMessageBody: createHash('md5').update('{"id":"o-1","total":12.5}').digest('hex'),
    });
  });

  it('events:putEvents publishes the detail as JSON text and fails with EventBridge.FailedEntry on a failed entry', async () => {
    const published = await run('Publisher', { order: { id: 'o-2' } });
    runtime.failEntries = 1;
    const failed = await run('Publisher', { order: { id: 'o-3' } });

    expect(
      runtime.events.map((event) => [event.Source, event.DetailType, event.Detail, event.EventBusName]),
    ).toEqual([
      [
        'omnihub.orders',
        'OrderPlaced',
        '{"id":"o-2"}',
        'arn:aws:events:us-east-1:000000000000:event-bus/omnihub',
      ],
      [
        'omnihub.orders',
        'OrderPlaced',
        '{"id":"o-3"}',
        'arn:aws:events:us-east-1:000000000000:event-bus/omnihub',
      ],
    ]);
    expect(published.result.published).toEqual({ Entries: [{ EventId: 'event-1-0' }], FailedEntryCount: 0 });
    expect(failed.result.error).toMatchObject({ Error: 'EventBridge.FailedEntry' });
  });

  it('dynamodb putItem/updateItem/getItem/deleteItem run against DynamoDB Local', async () => {
    const stored = await run('Store', { id: 'o-4' });

    expect(stored.status).toBe('SUCCEEDED');
    expect(stored.result).toEqual({ id: 'o-4', updated: { status: 'PAID' }, read: { status: 'PAID' } });
    const item = await ddb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'o-4' } }, ConsistentRead: true }),
    );
    expect(item.Item?.status).toEqual({ S: 'PAID' });

    const forgotten = await run('Forget', { id: 'o-4' });
    expect(forgotten.result).toMatchObject({ Attributes: { pk: { S: 'o-4' }, status: { S: 'PAID' } } });
    const gone = await ddb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'o-4' } }, ConsistentRead: true }),
    );
    expect(gone.Item).toBeUndefined();
  });

  it('a failed DynamoDB condition is caught as DynamoDB.ConditionalCheckFailedException', async () => {
    await run('Store', { id: 'o-5' });

    const duplicate = await run('Store', { id: 'o-5' });

    expect(duplicate.status).toBe('SUCCEEDED');
    expect(duplicate.result.error).toMatchObject({ Error: 'DynamoDB.ConditionalCheckFailedException' });
    expect(String((duplicate.result.error as { Cause: string }).Cause)).toContain(
      'Error Code: ConditionalCheckFailedException',
    );
  });

  it('aws-sdk:dynamodb calls return the API response as is and fail with DynamoDb.<Exception>', async () => {
    const first = await run('Sdk', { id: 'o-6' });
    const second = await run('Sdk', { id: 'o-6' });

    expect(first.result).toEqual({ id: 'o-6', got: { Item: { pk: { S: 'o-6' }, via: { S: 'aws-sdk' } } } });
    expect(second.result.error).toMatchObject({ Error: 'DynamoDb.ConditionalCheckFailedException' });
  });

  it('states:startExecution.sync:2 returns the child output as JSON, and a failed child as States.TaskFailed', async () => {
    const ok = await run('Parent', { n: 21, fail: false });
    const failed = await run('Parent', { n: 1, fail: true });

    expect(ok.result.child).toEqual({ output: { doubled: 42 }, status: 'SUCCEEDED' });
    const error = failed.result.error as { Error: string; Cause: string };
    expect(error.Error).toBe('States.TaskFailed');
    expect(JSON.parse(error.Cause)).toMatchObject({ Status: 'FAILED', Error: 'Boom', Cause: 'asked to' });
  });

  it('states:startExecution (request/response) returns at once with the child ARN, passing the parent id', async () => {
    const parent = await run('FireAndForget', {});

    const childArn = (parent.result as { ExecutionArn: string }).ExecutionArn;
    expect(childArn).toMatch(/^arn:aws:states:us-east-1:000000000000:execution:SfnIntegrations-Child/);
    await service.idle();
    const child = service.executions().find((view) => view.executionArn === childArn);
    expect(child?.status).toBe('SUCCEEDED');
    expect(JSON.parse(child?.input ?? '{}')).toEqual({
      n: 1,
      fail: false,
      AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: parent.executionArn,
    });
  });
});
