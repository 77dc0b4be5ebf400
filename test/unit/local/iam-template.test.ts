import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AwsServiceError } from '#local/aws/json-protocol.ts';
import { dynamodbRequests, sqsRequests } from '#local/iam/actions.ts';
import { jsonProtocolGuard } from '#local/iam/guards.ts';
import { LocalIam, UnrecognizedClientError } from '#local/iam/local-iam.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { lambdaRole, rolePolicy } from './iam-fixtures.ts';

const silent = { info: () => {}, warn: () => {}, error: () => {} };
const ACCOUNT = '000000000000';

type Resources = Parameters<typeof writeAssembly>[0];

/** A worker function with its role, two tables and a queue; `statements` are the role's grants. */
function stack(statements: unknown[], extra: Resources = {}): Resources {
  return {
    WorkerRole: lambdaRole({
      ManagedPolicyArns: ['arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    }),
    WorkerPolicy: rolePolicy(statements),
    Worker: lambdaResource('worker', {
      FunctionName: 'worker',
      Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
    }),
    Orders: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { TableName: 'orders', KeySchema: [{ AttributeName: 'shop', KeyType: 'HASH' }] },
    },
    Ledger: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { TableName: 'ledger', KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] },
    },
    Jobs: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs' } },
    ...extra,
  };
}

function iamFor(resources: Resources) {
  return new LocalIam(writeAssembly(resources, { worker: 'export const handler = async () => 1;' }).load(), {
    log: silent,
  });
}

const worker = { kind: 'function', functionName: 'worker' } as const;
const table = (name: string) => `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${name}`;

describe('LocalIam on a template', () => {
  describe('loading the roles and policies', () => {
    it('gives a function the grants of its role, and AWSLambdaBasicExecutionRole only concerns logs', () => {
      const iam = iamFor(stack([{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: table('orders') }]));
      expect(
        iam.authorize(worker, [{ action: 'dynamodb:GetItem', resource: table('orders') }]),
      ).toBeUndefined();
      expect(
        iam.authorize(worker, [{ action: 'logs:PutLogEvents', resource: 'arn:aws:logs:x' }]),
      ).toBeUndefined();
      const denial = iam.authorize(worker, [{ action: 'dynamodb:PutItem', resource: table('orders') }]);
      expect(denial?.message).toBe(
        `User: arn:aws:sts::${ACCOUNT}:assumed-role/Test-WorkerRole/worker is not authorized to perform: dynamodb:PutItem on resource: ${table('orders')} because no identity-based policy allows the dynamodb:PutItem action`,
      );
      expect(iam.report().denials).toHaveLength(1);
    });

    it.each([
      [
        'an AWS-managed policy it does not know',
        stack([], {
          WorkerRole: lambdaRole({ ManagedPolicyArns: ['arn:aws:iam::aws:policy/AmazonS3FullAccess'] }),
        }),
        /WorkerRole: managed policy arn:aws:iam::aws:policy\/AmazonS3FullAccess is unknown/,
      ],
      [
        'a condition operator it does not evaluate',
        stack([
          {
            Effect: 'Allow',
            Action: '*',
            Resource: '*',
            Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
          },
        ]),
        /AWS::IAM::Policy WorkerPolicy statement 0: condition operator IpAddress/,
      ],
      [
        'a condition key it does not evaluate, in a queue policy',
        stack([], {
          JobsPolicy: {
            Type: 'AWS::SQS::QueuePolicy',
            Properties: {
              Queues: [{ Ref: 'Jobs' }],
              PolicyDocument: {
                Statement: [
                  {
                    Effect: 'Allow',
                    Principal: '*',
                    Action: 'sqs:SendMessage',
                    Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-1' } },
                  },
                ],
              },
            },
          },
        }),
        /AWS::SQS::QueuePolicy JobsPolicy statement 0: condition key aws:PrincipalOrgID/,
      ],
      [
        'a function role Lambda cannot assume',
        stack([], {
          WorkerRole: lambdaRole({
            AssumeRolePolicyDocument: {
              Statement: [
                { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
              ],
            },
          }),
        }),
        /Worker: InvalidParameterValueException: The role defined for the function cannot be assumed by Lambda/,
      ],
      [
        'a function whose role the template does not define',
        stack([], {
          Worker: lambdaResource('worker', {
            FunctionName: 'worker',
            Role: 'arn:aws:iam::000000000000:role/elsewhere',
          }),
        }),
        /Worker: its role arn:aws:iam::000000000000:role\/elsewhere is not defined/,
      ],
    ])('refuses to boot on %s', (_name, resources, message) => {
      expect(() => iamFor(resources)).toThrow(message);
    });

    it('turns an AWS::Lambda::Permission into the function policy statement (principal, SourceArn)', () => {
      const rule = `arn:aws:events:us-east-1:${ACCOUNT}:rule/hub/r`;
      const iam = iamFor(
        stack([], {
          Invoke: {
            Type: 'AWS::Lambda::Permission',
            Properties: {
              Action: 'lambda:InvokeFunction',
              FunctionName: { 'Fn::GetAtt': ['Worker', 'Arn'] },
              Principal: 'events.amazonaws.com',
              SourceArn: rule,
            },
          },
        }),
      );
      const fn = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:worker`;
      const events = (sourceArn: string) =>
        ({ kind: 'service', service: 'events.amazonaws.com', sourceArn, sourceAccount: ACCOUNT }) as const;
      expect(
        iam.authorize(events(rule), [{ action: 'lambda:InvokeFunction', resource: fn }]),
      ).toBeUndefined();
      expect(
        iam.authorize(events(`${rule}-2`), [{ action: 'lambda:InvokeFunction', resource: fn }])?.message,
      ).toBe(
        `events.amazonaws.com is not authorized to perform: lambda:InvokeFunction on resource: ${fn} because no resource-based policy allows the lambda:InvokeFunction action`,
      );
    });
  });

  describe('identifying callers', () => {
    it('knows a function by its access key id and session token; anything else is the admin', () => {
      const iam = iamFor(stack([]));
      const { accessKeyId, sessionToken } = iam.credentialsFor('worker');
      const signed = (key: string) => ({
        authorization: `AWS4-HMAC-SHA256 Credential=${key}/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0`,
      });
      expect(accessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
      expect(iam.identify({ ...signed(accessKeyId), 'x-amz-security-token': sessionToken })).toEqual(worker);
      expect(iam.identify(signed('local'))).toEqual({ kind: 'admin' });
      expect(iam.identify({})).toEqual({ kind: 'admin' });
      expect(() => iam.identify({ ...signed(accessKeyId), 'x-amz-security-token': 'forged' })).toThrow(
        UnrecognizedClientError,
      );
    });
  });

  describe('mapping requests to actions and resources', () => {
    const iam = iamFor(stack([]));

    it('asks for the DynamoDB action on every table of a batch and per item of a transaction', () => {
      expect(
        dynamodbRequests(
          'BatchGetItem',
          {
            RequestItems: {
              orders: { Keys: [{ shop: { S: 's1' } }] },
              ledger: { Keys: [{ pk: { S: 'p' } }] },
            },
          },
          iam.directory,
        ),
      ).toEqual([
        {
          action: 'dynamodb:BatchGetItem',
          resource: table('orders'),
          context: { 'dynamodb:leadingkeys': ['s1'] },
        },
        {
          action: 'dynamodb:BatchGetItem',
          resource: table('ledger'),
          context: { 'dynamodb:leadingkeys': ['p'] },
        },
      ]);
      expect(
        dynamodbRequests(
          'TransactWriteItems',
          {
            TransactItems: [
              { Put: { TableName: 'orders', Item: { shop: { S: 's1' } } } },
              { ConditionCheck: { TableName: 'ledger', Key: { pk: { S: 'p' } } } },
            ],
          },
          iam.directory,
        ).map(({ action, resource }) => [action, resource]),
      ).toEqual([
        ['dynamodb:PutItem', table('orders')],
        ['dynamodb:ConditionCheckItem', table('ledger')],
      ]);
    });

    it('names the index of a Query, and the partition key value it reads as dynamodb:LeadingKeys', () => {
      expect(
        dynamodbRequests(
          'Query',
          {
            TableName: 'orders',
            KeyConditionExpression: '#s = :shop AND begins_with(sk, :p)',
            ExpressionAttributeNames: { '#s': 'shop' },
            ExpressionAttributeValues: { ':shop': { S: 'omnihub-dev' }, ':p': { S: 'ORDER#' } },
          },
          iam.directory,
        ),
      ).toEqual([
        {
          action: 'dynamodb:Query',
          resource: table('orders'),
          context: { 'dynamodb:leadingkeys': ['omnihub-dev'] },
        },
      ]);
      expect(
        dynamodbRequests('Query', { TableName: 'orders', IndexName: 'bySku' }, iam.directory)[0]?.resource,
      ).toBe(`${table('orders')}/index/bySku`);
    });

    it('asks for the single-message SQS action of a batch, on the queue of the URL', () => {
      expect(
        sqsRequests('DeleteMessageBatch', { QueueUrl: `http://127.0.0.1:1/${ACCOUNT}/jobs` }, iam.directory),
      ).toEqual([{ action: 'sqs:DeleteMessage', resource: `arn:aws:sqs:us-east-1:${ACCOUNT}:jobs` }]);
    });

    it('enforces dynamodb:LeadingKeys from a policy on the request', () => {
      const scoped = iamFor(
        stack([
          {
            Effect: 'Allow',
            Action: ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'],
            Resource: table('orders'),
            Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['omnihub-dev'] } },
          },
        ]),
      );
      const get = (shop: string) =>
        scoped.authorize(
          worker,
          dynamodbRequests('GetItem', { TableName: 'orders', Key: { shop: { S: shop } } }, scoped.directory),
        );
      expect(get('omnihub-dev')).toBeUndefined();
      expect(get('another-shop')?.action).toBe('dynamodb:GetItem');
      // A Scan reads no partition key: ForAllValues over no values holds (the documented pitfall).
      expect(
        scoped.authorize(worker, dynamodbRequests('Scan', { TableName: 'orders' }, scoped.directory)),
      ).toBeUndefined();
    });
  });

  describe('PutEvents, entry by entry', () => {
    const bus = `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/hub`;
    const req = (accessKeyId: string, sessionToken: string) =>
      ({
        headers: {
          authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20260101/us-east-1/events/aws4_request, Signature=0`,
          'x-amz-security-token': sessionToken,
        },
        url: '/',
      }) as unknown as IncomingMessage;
    const entry = (source: string) => ({
      Source: source,
      DetailType: 'OrderCreated',
      Detail: '{}',
      EventBusName: 'hub',
    });

    it('answers NotAuthorizedForSourceException for an entry whose source the role may not publish', async () => {
      const iam = iamFor(
        stack([
          {
            Effect: 'Allow',
            Action: 'events:PutEvents',
            Resource: bus,
            Condition: { StringEquals: { 'events:source': 'omnihub.pos' } },
          },
        ]),
      );
      const { accessKeyId, sessionToken } = iam.credentialsFor('worker');
      const guard = jsonProtocolGuard(iam);
      const forwarded: unknown[] = [];
      const answer = await guard(
        {
          req: req(accessKeyId, sessionToken),
          prefix: 'AWSEvents',
          operation: 'PutEvents',
          input: { Entries: [entry('omnihub.shopify'), entry('omnihub.pos')] },
        },
        async (input) => {
          forwarded.push(...(input.Entries as unknown[]));
          return { FailedEntryCount: 0, Entries: [{ EventId: 'e-2' }] };
        },
      );
      expect(forwarded).toEqual([entry('omnihub.pos')]);
      expect(answer).toEqual({
        FailedEntryCount: 1,
        Entries: [
          {
            ErrorCode: 'NotAuthorizedForSourceException',
            ErrorMessage: expect.stringContaining('events:PutEvents'),
          },
          { EventId: 'e-2' },
        ],
      });
    });

    it('refuses the whole request when nothing allows PutEvents on the bus', async () => {
      const iam = iamFor(stack([]));
      const { accessKeyId, sessionToken } = iam.credentialsFor('worker');
      const call = jsonProtocolGuard(iam)(
        {
          req: req(accessKeyId, sessionToken),
          prefix: 'AWSEvents',
          operation: 'PutEvents',
          input: { Entries: [entry('omnihub.pos')] },
        },
        async () => ({}),
      );
      await expect(call).rejects.toBeInstanceOf(AwsServiceError);
      await expect(call).rejects.toMatchObject({ type: 'AccessDeniedException', statusCode: 400 });
    });
  });
});
