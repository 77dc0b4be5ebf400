import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { resolveEnvironment } from '#infra/config/environments.ts';
import { ERP_RETRY } from '#infra/flows/order-capture.ts';
import { retryHorizonSeconds } from '#shared/runtime/sqs-retry.ts';
import { operatorConfigFor, templateApp } from '#test/support/cdk.ts';

interface ValidationReport {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
}

/** Synthesizes an app with its validation plugins; returns the violations cdk-nag reported. */
function synthWithNag(app: App): { violations: string[]; error?: unknown } {
  let error: unknown;
  try {
    app.synth();
  } catch (caught) {
    error = caught;
  }
  const report = JSON.parse(
    readFileSync(join(app.outdir, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  const violations = report.pluginReports.flatMap((plugin) =>
    plugin.violations.flatMap((violation) =>
      violation.violatingConstructs.map((construct) => `${violation.ruleName} ${construct.constructPath}`),
    ),
  );
  return { violations, error };
}

interface Synthesized {
  readonly stack: Stack;
  readonly violations: string[];
  readonly error?: unknown;
}

const synthesized = new Map<string, Synthesized>();

/**
 * The app of one environment, as `cdk synth -c env=<env>` builds it (cdk-nag on, Lambda code not
 * bundled), synthesized once for this file: the template and cdk-nag checks of an environment read one
 * synth.
 */
function synth(env: string): Synthesized {
  let result = synthesized.get(env);
  if (!result) {
    const { app, stack } = buildApp(templateApp({ env }));
    result = { stack, ...synthWithNag(app) };
    synthesized.set(env, result);
  }
  return result;
}

describe('HubStack', () => {
  let template: Template;

  beforeAll(() => {
    template = Template.fromStack(synth('prod').stack);
  }, 120_000);

  describe('functions', () => {
    it('run Node.js 24 on arm64 with active tracing and JSON logs', () => {
      template.allResourcesProperties('AWS::Lambda::Function', {
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
        LoggingConfig: Match.objectLike({ LogFormat: 'JSON' }),
      });
    });

    it('configure the webhook function from the template (bus, tables, secret, shops, API version)', () => {
      template.hasResourceProperties('AWS::Lambda::Function', {
        Handler: 'index.handler',
        Timeout: 5,
        Environment: {
          Variables: Match.objectLike({
            EVENT_BUS_NAME: Match.anyValue(),
            IDEMPOTENCY_TABLE_NAME: Match.anyValue(),
            EXCEPTIONS_TABLE_NAME: Match.anyValue(),
            SHOPIFY_WEBHOOK_SECRET_ID: Match.anyValue(),
            SHOPIFY_SHOPS: JSON.stringify([
              { domain: 'example-retailer-prod.myshopify.com', currency: 'USD' },
              { domain: 'example-retailer-prod-eu.myshopify.com', currency: 'EUR' },
            ]),
            SHOPIFY_API_VERSION: '2026-10',
            MAX_BODY_BYTES: '1048576',
            POWERTOOLS_SERVICE_NAME: 'shopify-webhook',
          }),
        },
      });
    });

    it('never put a secret value in the template', () => {
      const text = JSON.stringify(template.toJSON());
      expect(text).not.toMatch(/"SecretString"\s*:/);
      template.hasResourceProperties('AWS::SecretsManager::Secret', {
        GenerateSecretString: Match.objectLike({ GenerateStringKey: 'current' }),
      });
    });

    it('write to log groups with the environment retention', () => {
      const groups = template.findResources('AWS::Logs::LogGroup');
      expect(Object.keys(groups).length).toBeGreaterThanOrEqual(2);
      template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    });
  });

  describe('webhook API', () => {
    it('routes POST /webhooks/shopify to the webhook function', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: 'POST /webhooks/shopify' });
      template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
        IntegrationType: 'AWS_PROXY',
        PayloadFormatVersion: '2.0',
      });
    });

    it('access-logs only variables HTTP APIs define', () => {
      const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage'))[0];
      const format = String(stage?.Properties?.AccessLogSettings?.Format);
      const variables = format.match(/\$context\.[\w.]+/g) ?? [];
      expect(variables.length).toBeGreaterThan(5);
      expect(variables).not.toContain('$context.resourcePath');
      expect(variables).toContain('$context.routeKey');
    });

    it('throttles and access-logs the stage', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
        AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
      });
    });

    it('outputs the webhook URL and the bus name', () => {
      const outputs = template.findOutputs('*');
      expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ShopifyWebhookUrl', 'EventBusName']));
    });

    it('outputs what `ops register-webhooks --env` reads: both webhook URLs, every shop with its token secret, the Square API and secrets', () => {
      const outputs = template.findOutputs('*');
      expect(Object.keys(outputs)).toEqual(
        expect.arrayContaining([
          'ShopifyWebhookUrl',
          'PosWebhookUrl',
          'ShopifyShops',
          'SquareBaseUrl',
          'SquareAccessTokenSecretArn',
          'SquareSignatureKeySecretArn',
        ]),
      );
      // The shops list is JSON built at deploy time (Fn::Join around the token secrets' Refs).
      const shops = JSON.stringify(outputs.ShopifyShops?.Value);
      expect(shops).toContain('tokenSecretArn');
      expect(shops).toMatch(/"Ref":"ShopifyAdminToken\w+"/);
      expect(outputs.SquareBaseUrl?.Value).toMatch(/^https:\/\//);
    });
  });

  describe('order capture', () => {
    it('routes order events from Shopify and POS to the ERP queue', () => {
      template.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: {
          source: ['omnihub.shopify', 'omnihub.pos'],
          'detail-type': ['OrderCreated', 'OrderUpdated', 'OrderCancelled'],
        },
        Targets: [
          Match.objectLike({
            DeadLetterConfig: Match.anyValue(),
            RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
          }),
        ],
      });
    });

    it('paces the consumer to the ERP limit less the change feed’s and the returns’ slots: instances × calls per instance = 13 of 15, partial batch responses', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ScalingConfig: { MaximumConcurrency: 13 },
        BatchSize: 10,
      });
      template.hasResourceProperties('AWS::Lambda::Function', {
        ReservedConcurrentExecutions: 13,
        Environment: {
          Variables: Match.objectLike({
            ERP_MAX_CONCURRENCY: '1',
            RETRY_BASE_SECONDS: '5',
            RETRY_CAP_SECONDS: '120',
            NETSUITE_BASE_URL: 'https://0000000-example.suitetalk.api.netsuite.com',
          }),
        },
      });
    });

    it('redrives to a DLQ only after 2 hours of retries and alarms on the first parked message', () => {
      expect(retryHorizonSeconds(ERP_RETRY.maxReceiveCount, ERP_RETRY)).toBeGreaterThanOrEqual(2 * 3600);
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: Match.objectLike({ maxReceiveCount: 125 }),
        VisibilityTimeout: 120,
        KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^HubKey'), 'Arn'] },
      });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    });

    it('takes the NetSuite base URL from -c netsuiteBaseUrl (the local cloud points it at the sandbox)', () => {
      const app = templateApp({ env: 'dev', netsuiteBaseUrl: 'http://127.0.0.1:3000/_sandbox/netsuite' });
      Template.fromStack(buildApp(app).stack).hasResourceProperties('AWS::Lambda::Function', {
        Environment: {
          Variables: Match.objectLike({ NETSUITE_BASE_URL: 'http://127.0.0.1:3000/_sandbox/netsuite' }),
        },
      });
    });
  });

  describe('bus', () => {
    it('is the custom bus omnihub-<env> with an archive', () => {
      template.hasResourceProperties('AWS::Events::EventBus', { Name: 'omnihub-prod' });
      template.hasResourceProperties('AWS::Events::Archive', { RetentionDays: 90 });
    });
  });

  describe('tables', () => {
    it('are encrypted, on demand, with point-in-time recovery in prod and retained', () => {
      // + the BOPIS pick-ups table (task tokens) and the catalog table.
      template.resourceCountIs('AWS::DynamoDB::Table', 11);
      template.allResourcesProperties('AWS::DynamoDB::Table', {
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      });
      for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
        expect(table.DeletionPolicy).toBe('Retain');
      }
    });

    it('expire idempotency records by TTL', () => {
      template.hasResourceProperties('AWS::DynamoDB::Table', {
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        TimeToLiveSpecification: { AttributeName: 'expiration', Enabled: true },
      });
    });

    it('have no point-in-time recovery and are destroyed with a dev stack', () => {
      const dev = Template.fromStack(synth('dev').stack);
      dev.allResourcesProperties('AWS::DynamoDB::Table', {
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false },
      });
      for (const table of Object.values(dev.findResources('AWS::DynamoDB::Table'))) {
        expect(table.DeletionPolicy).toBe('Delete');
      }
    });
  });

  describe('least privilege', () => {
    it('grants the order-sync function single-item access to the ledger and read-by-key to mappings', () => {
      const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
        (policy) =>
          policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
      const actionsOn = (table: string) =>
        [
          ...new Set(
            statements
              .filter((statement) => JSON.stringify(statement.Resource).includes(table))
              .flatMap((statement) => [statement.Action].flat()),
          ),
        ].sort();
      // PutItem is the POS sweep's cursor only (POSSWEEP#…, pinned in least-privilege.test.ts).
      expect(actionsOn('LedgerTable')).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      // Query is the inventory publishers' read of the location mappings only (MAP#location, pinned in
      // least-privilege.test.ts).
      expect(actionsOn('MappingsTable')).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:Query',
      ]);
    });

    it('grants the idempotency table single-item access only (no scans, queries or batches)', () => {
      const policies = Object.values(template.findResources('AWS::IAM::Policy'));
      const statements = policies.flatMap(
        (policy) =>
          policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[],
      );
      const idempotency = statements.filter((statement) =>
        JSON.stringify(statement.Resource).includes('IdempotencyTable'),
      );
      const actions = idempotency.flatMap((statement) => [statement.Action].flat());
      expect([...new Set(actions)].sort()).toEqual([
        'dynamodb:DeleteItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
    });

    it('grants the webhook function PutEvents on its bus only', () => {
      template.hasResourceProperties('AWS::IAM::Policy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 'events:PutEvents',
              Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Bus'), 'Arn'] },
            }),
          ]),
        },
      });
    });
  });
});

describe('Lambda bundles', () => {
  it('are self-contained ESM (AWS SDK included) and stay well under 1 MB', () => {
    const app = new App({
      outdir: mkdtempSync(join(tmpdir(), 'omnihub-cdk-')),
      context: { env: 'prod', ...operatorConfigFor('prod') },
    });
    const { stack } = buildApp(app);
    const assembly = app.synth();
    const functions = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'));
    expect(functions.length).toBeGreaterThan(0);
    for (const fn of functions) {
      const key = String((fn.Properties?.Code as { S3Key?: string } | undefined)?.S3Key).replace(
        /\.zip$/,
        '',
      );
      const bundle = join(assembly.directory, `asset.${key}`, 'index.mjs');
      const code = readFileSync(bundle, 'utf8');
      expect(statSync(bundle).size).toBeLessThan(800 * 1024);
      // No bare import of the SDK left for the runtime to provide: the tested version is the shipped one.
      expect(code).not.toMatch(/from\s*"@aws-sdk\//);
    }
  }, 120_000);
});

describe('environments', () => {
  it('fails fast on an unknown environment, naming the known ones', () => {
    expect(() => resolveEnvironment('qa')).toThrow(/dev\|staging\|prod/);
    expect(() => resolveEnvironment(undefined)).toThrow(/-c env=/);
  });

  it('accepts a shops override and rejects a malformed one', () => {
    expect(resolveEnvironment('dev', { shops: 'a.myshopify.com:EUR,b.myshopify.com:GBP' }).shops).toEqual([
      { domain: 'a.myshopify.com', currency: 'EUR' },
      { domain: 'b.myshopify.com', currency: 'GBP' },
    ]);
    expect(() => resolveEnvironment('dev', { shops: 'example.com:USD' })).toThrow(/myshopify/);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it.each(['dev', 'staging', 'prod'])(
    'reports no unacknowledged finding for %s',
    (env) => {
      const { violations, error } = synth(env);
      expect(violations).toEqual([]);
      expect(error).toBeUndefined();
    },
    120_000,
  );

  it('does report findings on a non-compliant stack (the check can fail)', () => {
    const app = templateApp({ env: 'dev' });
    new Queue(new Stack(app, 'Bad'), 'Queue');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const { violations, error } = synthWithNag(app);
    expect(violations).toEqual(
      expect.arrayContaining([
        'AwsSolutions-SQS3 Bad/Queue/Resource',
        'AwsSolutions-SQS4 Bad/Queue/Resource',
      ]),
    );
    expect(error).toBeDefined();
  });
});
