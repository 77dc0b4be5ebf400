import { DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type DynamoDbProxy, startDynamoDbProxy } from '#local/aws/dynamodb-proxy.ts';
import { LocalIam } from '#local/iam/local-iam.ts';
import { freePort } from '#local/services/ports.ts';
import { LocalSqs } from '#local/sqs/service.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { lambdaRole, rolePolicy } from './iam-fixtures.ts';

/**
 * The SQS and DynamoDB endpoints evaluate each call against the calling function's role and answer a refusal in
 * their own protocol, as the SDK expects it.
 */
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const admin = { accessKeyId: 'local', secretAccessKey: 'local' };

let sqs: LocalSqs;
let proxy: DynamoDbProxy;
let iam: LocalIam;
let table: string;
let queueUrl: string;
const clients: { destroy(): void }[] = [];

function template(port: number, tableName: string) {
  return writeAssembly(
    {
      WorkerRole: lambdaRole(),
      WorkerPolicy: rolePolicy([
        { Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: { 'Fn::GetAtt': ['Jobs', 'Arn'] } },
        { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: { 'Fn::GetAtt': ['Table', 'Arn'] } },
      ]),
      Worker: lambdaResource('worker', {
        FunctionName: 'worker',
        Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
      }),
      Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs' } },
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: { TableName: tableName, KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] },
      },
    },
    { worker: 'export const handler = async () => 1;' },
  ).load({ sqsEndpoint: `http://127.0.0.1:${port}` });
}

function asWorker<T extends { destroy(): void }>(
  make: (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }) => T,
): T {
  const { accessKeyId, secretAccessKey, sessionToken } = iam.credentialsFor('worker');
  const client = make({ accessKeyId, secretAccessKey, sessionToken });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  const { client } = localDynamo();
  table = await createPkSkTable(client, 'iam-front');
  client.destroy();
  const port = await freePort();
  const loaded = template(port, table);
  iam = new LocalIam(loaded, { log: silent });
  sqs = await LocalSqs.start(loaded, port, { iam });
  queueUrl = sqs.queueUrl('jobs');
  proxy = await startDynamoDbProxy({ port: 0, upstream: inject('dynamodbEndpoint'), iam });
});

afterAll(async () => {
  for (const client of clients) client.destroy();
  await sqs?.close();
  await proxy?.close();
});

describe('SQS front end with IAM', () => {
  it('lets the function do what its role allows', async () => {
    const client = asWorker(
      (credentials) => new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials }),
    );
    const received = await client.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
    expect(received.$metadata.httpStatusCode).toBe(200);
  });

  it('refuses SendMessage without a grant: AccessDenied (403) in the JSON protocol, recorded with action and queue', async () => {
    const client = asWorker(
      (credentials) => new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials }),
    );
    const error = await client
      .send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: expect.stringMatching(/^AccessDenied/),
      $metadata: { httpStatusCode: 403 },
      message: expect.stringContaining(
        'is not authorized to perform: sqs:SendMessage on resource: arn:aws:sqs:us-east-1:000000000000:jobs',
      ),
    });
    expect(iam.report().denials.at(-1)).toMatchObject({ functionName: 'worker', action: 'sqs:SendMessage' });
  });

  it('answers the query protocol with its XML ErrorResponse', async () => {
    const { accessKeyId, sessionToken } = iam.credentialsFor('worker');
    const response = await fetch(sqs.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/sqs/aws4_request, Signature=0`,
        'x-amz-security-token': sessionToken,
      },
      body: new URLSearchParams({ Action: 'SendMessage', QueueUrl: queueUrl, MessageBody: 'x' }),
    });
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/<Code>AccessDenied<\/Code>.*sqs:SendMessage/s);
  });

  it('treats other credentials (tests, tools) as the admin', async () => {
    const client = new SQSClient({ endpoint: sqs.endpoint, region: 'us-east-1', credentials: admin });
    clients.push(client);
    expect(
      (await client.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x' }))).MessageId,
    ).toBeTruthy();
  });
});

describe('DynamoDB front end with IAM', () => {
  it('forwards an allowed call to DynamoDB Local and refuses PutItem with DynamoDB AccessDeniedException (400)', async () => {
    const client = asWorker(
      (credentials) => new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', credentials }),
    );
    const item = { pk: { S: 'a' }, sk: { S: 'b' } };
    await expect(client.send(new GetItemCommand({ TableName: table, Key: item }))).resolves.toMatchObject({
      $metadata: { httpStatusCode: 200 },
    });
    const error = await client
      .send(new PutItemCommand({ TableName: table, Item: item }))
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringContaining(
        `dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:000000000000:table/${table}`,
      ),
    });
  });
});
