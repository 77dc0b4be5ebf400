import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { ENVIRONMENTS } from '#infra/config/environments.ts';
import { matchesPattern } from '#local/eventbridge/pattern.ts';
import { EVENT_CATALOG } from '#shared/events/catalog.ts';
import { COMPLIANCE_DETAIL_TYPES } from '#shared/events/compliance.ts';
import { templateApp } from '#test/support/cdk.ts';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;

beforeAll(() => {
  template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
  resources = template.toJSON().Resources;
}, 120_000);

/** The logical id of the one resource of `type` whose id starts with `prefix`. */
const logicalId = (prefix: string, type?: string) => {
  const ids = Object.keys(resources).filter(
    (key) => key.startsWith(prefix) && (type === undefined || resources[key]?.Type === type),
  );
  if (ids.length !== 1) throw new Error(`${ids.length} resources ${prefix}* ${type ?? ''}`);
  return ids[0] as string;
};

/** The statements of the role policy attached to the privacy-redaction function. */
function redactionStatements(): Statement[] {
  const policy = Object.entries(template.findResources('AWS::IAM::Policy')).find(([id]) =>
    id.startsWith('PrivacyRedactionFunctionServiceRoleDefaultPolicy'),
  );
  return (policy?.[1].Properties.PolicyDocument.Statement ?? []) as Statement[];
}

const event = (detailType: string) => ({
  version: '0',
  id: 'e',
  account: '123456789012',
  source: 'omnihub.shopify',
  'detail-type': detailType,
  time: '2026-11-27T12:00:00Z',
  region: 'eu-west-1',
  resources: [],
  detail: {},
});

describe('bus archive', () => {
  const archivePattern = () => {
    const [archive] = Object.values(template.findResources('AWS::Events::Archive'));
    // The account is a Ref in the template; the deployed stack resolves it to its own.
    return { ...archive?.Properties.EventPattern, account: ['123456789012'] };
  };

  it('excludes the compliance requests by detail-type', () => {
    template.hasResourceProperties('AWS::Events::Archive', {
      EventPattern: {
        account: [{ Ref: 'AWS::AccountId' }],
        'detail-type': [{ 'anything-but': [...COMPLIANCE_DETAIL_TYPES] }],
      },
    });
  });

  it.each(COMPLIANCE_DETAIL_TYPES)('does not archive %s (EventBridge pattern semantics)', (detailType) => {
    expect(matchesPattern(archivePattern(), event(detailType))).toBe(false);
  });

  it('keeps archiving every other event of the catalog', () => {
    const others = Object.keys(EVENT_CATALOG).filter(
      (detailType) => !(COMPLIANCE_DETAIL_TYPES as readonly string[]).includes(detailType),
    );
    expect(others.length).toBeGreaterThan(5);
    for (const detailType of others) expect(matchesPattern(archivePattern(), event(detailType))).toBe(true);
  });
});

describe('Privacy flow', () => {
  it('routes the three compliance events from Shopify to its queue', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { source: ['omnihub.shopify'], 'detail-type': [...COMPLIANCE_DETAIL_TYPES] },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [logicalId('PrivacyRequestsQueue', 'AWS::SQS::Queue'), 'Arn'] },
          DeadLetterConfig: {
            Arn: { 'Fn::GetAtt': [logicalId('PrivacyRequestsDeadLetterQueue', 'AWS::SQS::Queue'), 'Arn'] },
          },
        }),
      ],
    });
  });

  it('consumes the queue one request at a time with partial batch responses, redriving to an alarmed DLQ', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [logicalId('PrivacyRequestsQueue', 'AWS::SQS::Queue'), 'Arn'] },
      FunctionName: { Ref: logicalId('PrivacyRedactionFunction', 'AWS::Lambda::Function') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: {
        deadLetterTargetArn: {
          'Fn::GetAtt': [logicalId('PrivacyRequestsDeadLetterQueue', 'AWS::SQS::Queue'), 'Arn'],
        },
        maxReceiveCount: 5,
      },
      // prod's example config encrypts with the hub key (test/infra/encryption.test.ts covers both modes)
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubKey'), 'Arn'] },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Dimensions: [
        {
          Name: 'QueueName',
          Value: {
            'Fn::GetAtt': [logicalId('PrivacyRequestsDeadLetterQueue', 'AWS::SQS::Queue'), 'QueueName'],
          },
        },
      ],
      Threshold: 1,
    });
  });

  it('gives the function its tables by name', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          POWERTOOLS_SERVICE_NAME: 'privacy-redaction',
          EXCEPTIONS_TABLE_NAME: { Ref: logicalId('ExceptionsTable', 'AWS::DynamoDB::Table') },
          LEDGER_TABLE_NAME: { Ref: logicalId('LedgerTable', 'AWS::DynamoDB::Table') },
          PRIVACY_REQUESTS_TABLE_NAME: { Ref: logicalId('PrivacyRequestsTable', 'AWS::DynamoDB::Table') },
        }),
      },
    });
  });

  it('grants exact actions: the subject index by name, single items of the exceptions table, ledger reads, audit updates', () => {
    const dynamo = redactionStatements()
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('dynamodb:')))
      .map((statement) => ({
        actions: [statement.Action].flat().sort(),
        resource: JSON.stringify(statement.Resource),
      }));
    expect(dynamo).toEqual([
      {
        actions: ['dynamodb:Query'],
        resource: expect.stringMatching(/ExceptionsTable.*"\/index\/BySubjectAccount"/),
      },
      {
        actions: ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
        resource: expect.stringMatching(/^\[\{"Fn::GetAtt":\["ExceptionsTable\w+","Arn"\]\}\]$/),
      },
      {
        actions: ['dynamodb:GetItem'],
        resource: expect.stringMatching(/^\[\{"Fn::GetAtt":\["LedgerTable\w+","Arn"\]\}\]$/),
      },
      {
        actions: ['dynamodb:UpdateItem'],
        resource: expect.stringMatching(/^\[\{"Fn::GetAtt":\["PrivacyRequestsTable\w+","Arn"\]\}\]$/),
      },
    ]);
  });

  it('leaves every other grant on the exceptions table without an index wildcard', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('/index/*');
  });

  it('keeps its audit table like every table: encrypted, point-in-time recovery in prod, retained', () => {
    const audit =
      template.findResources('AWS::DynamoDB::Table')[
        logicalId('PrivacyRequestsTable', 'AWS::DynamoDB::Table')
      ];
    expect(audit?.DeletionPolicy).toBe('Retain');
    expect(audit?.Properties).toMatchObject({
      SSESpecification: { SSEEnabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('exceptions table', () => {
  it('expires resolved items by TTL on expiresAt and indexes them by subject account, without payloads', () => {
    const table = resources[logicalId('ExceptionsTable', 'AWS::DynamoDB::Table')]?.Properties;
    expect(table).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      GlobalSecondaryIndexes: [
        {
          IndexName: 'BySubjectAccount',
          KeySchema: [{ AttributeName: 'subjectAccount', KeyType: 'HASH' }],
          Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['subjects'] },
        },
      ],
    });
  });

  it('keeps resolved exceptions 30 days by default, in every environment', () => {
    for (const config of Object.values(ENVIRONMENTS)) expect(config.resolvedExceptionRetentionDays).toBe(30);
  });
});
