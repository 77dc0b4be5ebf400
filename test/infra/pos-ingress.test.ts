import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { resolveEnvironment } from '#infra/config/environments.ts';
import { withPosOverrides } from '#infra/config/pos.ts';
import { templateApp } from '#test/support/cdk.ts';

interface Statement {
  Action: string | string[];
  Resource: unknown;
}

/** The logical id of the one resource of `type` whose logical id starts with `prefix`. */
function logicalId(template: Template, type: string, prefix: string): string {
  const ids = Object.keys(template.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids, `${type} ${prefix}*`).toHaveLength(1);
  return ids[0] as string;
}

/** The properties of the one function whose logical id starts with `prefix`. */
function propertiesOf(template: Template, prefix: string): Record<string, unknown> {
  const id = logicalId(template, 'AWS::Lambda::Function', prefix);
  return (template.findResources('AWS::Lambda::Function')[id]?.Properties ?? {}) as Record<string, unknown>;
}

/** Every statement of the policies attached to a function's role. */
function statementsOf(template: Template, functionPrefix: string): Statement[] {
  const role = (propertiesOf(template, functionPrefix).Role as { 'Fn::GetAtt': [string, string] })[
    'Fn::GetAtt'
  ][0];
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((policy) => JSON.stringify(policy.Properties.Roles).includes(role))
    .flatMap((policy) => policy.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOn = (statements: Statement[], resource: string) =>
  [
    ...new Set(
      statements
        .filter((statement) => JSON.stringify(statement.Resource).includes(resource))
        .flatMap((statement) => [statement.Action].flat()),
    ),
  ].sort();

describe('POS ingress (HubStack)', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(buildApp(templateApp({ env: 'prod' })).stack);
  }, 120_000);

  it('routes POST /webhooks/pos to the pos-webhook function (payload 2.0)', () => {
    const fn = logicalId(template, 'AWS::Lambda::Function', 'PosWebhookFunction');
    const integrations = template.findResources('AWS::ApiGatewayV2::Integration');
    const [integrationId] = Object.entries(integrations)
      .filter(([, integration]) => JSON.stringify(integration.Properties.IntegrationUri).includes(fn))
      .map(([id]) => id);
    expect(integrationId).toBeDefined();
    expect(integrations[integrationId as string]?.Properties).toMatchObject({
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: 'POST /webhooks/pos',
      Target: { 'Fn::Join': ['', ['integrations/', { Ref: integrationId }]] },
    });
  });

  it('configures the function from the template: bus, tables, secrets, Square API, no notification URL', () => {
    const properties = propertiesOf(template, 'PosWebhookFunction');
    expect(properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 10,
      Environment: {
        Variables: {
          EVENT_BUS_NAME: { Ref: logicalId(template, 'AWS::Events::EventBus', 'Bus') },
          IDEMPOTENCY_TABLE_NAME: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'IdempotencyTable') },
          EXCEPTIONS_TABLE_NAME: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'ExceptionsTable') },
          LEDGER_TABLE_NAME: { Ref: logicalId(template, 'AWS::DynamoDB::Table', 'LedgerTable') },
          SQUARE_SIGNATURE_KEY_SECRET_ID: {
            Ref: logicalId(template, 'AWS::SecretsManager::Secret', 'SquareSignatureKey'),
          },
          SQUARE_ACCESS_TOKEN_SECRET_ID: {
            Ref: logicalId(template, 'AWS::SecretsManager::Secret', 'SquareAccessToken'),
          },
          SQUARE_BASE_URL: 'https://connect.squareup.com',
          SQUARE_API_VERSION: '2025-08-20',
          MAX_BODY_BYTES: '1048576',
          POWERTOOLS_SERVICE_NAME: 'pos-webhook',
        },
      },
    });
    const variables = (properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // The signed URL comes from the operator's config, not from the request's headers.
    expect(variables.SQUARE_NOTIFICATION_URL).toBe('https://hooks.example.com/omnihub-prod/webhooks/pos');
  });

  it('keeps the Square secrets out of the template, generated placeholders in the documented shape', () => {
    expect(JSON.stringify(template.toJSON())).not.toMatch(/"SecretString"\s*:/);
    for (const [prefix, key] of [
      ['SquareSignatureKey', 'current'],
      ['SquareAccessToken', 'accessToken'],
    ] as const) {
      const secret = template.findResources('AWS::SecretsManager::Secret')[
        logicalId(template, 'AWS::SecretsManager::Secret', prefix)
      ];
      expect(secret?.Properties?.GenerateSecretString).toMatchObject({ GenerateStringKey: key });
      expect(secret?.DeletionPolicy).toBe('Retain');
    }
  });

  it('grants least privilege: PutEvents on the bus, single items, its own secrets only', () => {
    const statements = statementsOf(template, 'PosWebhookFunction');
    expect(actionsOn(statements, 'Bus')).toEqual(['events:PutEvents']);
    expect(actionsOn(statements, 'IdempotencyTable')).toEqual([
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
    ]);
    expect(actionsOn(statements, 'LedgerTable')).toEqual(['dynamodb:UpdateItem']);
    expect(actionsOn(statements, 'ExceptionsTable')).toEqual(['dynamodb:PutItem']);
    expect(actionsOn(statements, 'SquareSignatureKey')).toContain('secretsmanager:GetSecretValue');
    expect(actionsOn(statements, 'SquareAccessToken')).toContain('secretsmanager:GetSecretValue');
    expect(actionsOn(statements, 'ShopifyWebhookSecret')).toEqual([]);
    expect(actionsOn(statements, 'NetSuiteCredentials')).toEqual([]);
    expect(actionsOn(statements, 'MappingsTable')).toEqual([]);
  });

  it('outputs the URL to register with Square and where to store its key and token', () => {
    expect(Object.keys(template.findOutputs('*'))).toEqual(
      expect.arrayContaining(['PosWebhookUrl', 'SquareSignatureKeySecretArn', 'SquareAccessTokenSecretArn']),
    );
    expect(JSON.stringify(template.findOutputs('PosWebhookUrl'))).toContain('/webhooks/pos');
  });

  it('takes the Square base URL and the notification URL from -c (the local cloud points at its sandbox)', () => {
    const local = Template.fromStack(
      buildApp(
        templateApp({
          env: 'dev',
          squareBaseUrl: 'http://127.0.0.1:3000/_sandbox/square',
          squareNotificationUrl: 'https://hooks.example.com/pos',
        }),
      ).stack,
    );
    local.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({
          SQUARE_BASE_URL: 'http://127.0.0.1:3000/_sandbox/square',
          SQUARE_NOTIFICATION_URL: 'https://hooks.example.com/pos',
          POWERTOOLS_SERVICE_NAME: 'pos-webhook',
        }),
      },
    });
  });
});

describe('withPosOverrides', () => {
  const dev = resolveEnvironment('dev');

  it('leaves an environment alone without overrides', () => {
    expect(withPosOverrides(dev, undefined, '')).toBe(dev);
  });

  it('refuses anything but an http(s) URL, naming the option', () => {
    expect(() => withPosOverrides(dev, 'connect.squareup.com', undefined)).toThrow(/-c squareBaseUrl/);
    expect(() => withPosOverrides(dev, undefined, 42)).toThrow(/-c squareNotificationUrl/);
  });
});
