import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { resolveEnvironment } from '#infra/config/environments.ts';
import { IamModel } from '#local/iam/model.ts';
import { loadTemplate } from '#local/template.ts';
import { templateApp } from '#test/support/cdk.ts';

/** What stores data in the hub, by CloudFormation type, with the property that names its KMS key. */
const KEY_PROPERTY: Readonly<Record<string, (properties: Record<string, unknown>) => unknown>> = {
  'AWS::DynamoDB::Table': (p) =>
    (p.SSESpecification as { KMSMasterKeyId?: unknown } | undefined)?.KMSMasterKeyId,
  'AWS::SQS::Queue': (p) => p.KmsMasterKeyId,
  'AWS::Logs::LogGroup': (p) => p.KmsKeyId,
  'AWS::SecretsManager::Secret': (p) => p.KmsKeyId,
  'AWS::Events::EventBus': (p) => p.KmsKeyIdentifier,
  'AWS::Events::Archive': (p) => p.KmsKeyIdentifier || undefined,
};

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: { Service?: unknown; AWS?: unknown };
  Condition?: Record<string, Record<string, unknown>>;
}

const template = (env: string, extra: Record<string, string> = {}) =>
  Template.fromStack(buildApp(templateApp({ env, ...extra })).stack);

function storing(t: Template): [string, string, unknown][] {
  return Object.entries(KEY_PROPERTY).flatMap(([type, keyOf]) =>
    Object.entries(t.findResources(type)).map(
      ([id, resource]) => [type, id, keyOf(resource.Properties ?? {})] as [string, string, unknown],
    ),
  );
}

describe('encryption: aws-managed (dev, and deployed environments by default)', () => {
  let dev: Template;
  beforeAll(() => {
    dev = template('dev');
  }, 120_000);

  it('is the default of every environment, so the local cloud runs dev without a customer managed key', () => {
    expect(resolveEnvironment('dev').encryption).toBe('aws-managed');
    expect(
      resolveEnvironment('staging', { config: 'docs/examples/operator-config.staging.json' }).encryption,
    ).toBe('aws-managed');
  });

  it('creates no key and names none: each service encrypts with its own', () => {
    dev.resourceCountIs('AWS::KMS::Key', 0);
    const stores = storing(dev);
    expect(stores.length).toBeGreaterThan(10);
    expect(stores.filter(([, , key]) => key !== undefined)).toEqual([]);
    dev.allResourcesProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    dev.allResourcesProperties('AWS::DynamoDB::Table', { SSESpecification: { SSEEnabled: true } });
  });
});

describe('encryption: customer-managed (the prod example)', () => {
  let prod: Template;
  let keyId: string;
  let keyStatements: Statement[];

  beforeAll(() => {
    prod = template('prod');
    const keys = prod.findResources('AWS::KMS::Key');
    expect(Object.keys(keys)).toHaveLength(1);
    keyId = Object.keys(keys)[0] as string;
    keyStatements = (keys[keyId]?.Properties.KeyPolicy.Statement ?? []) as Statement[];
  }, 120_000);

  it('lets EventBridge deliver to a queue only from the rules that feed it, though the Allow is by account', () => {
    const policies = Object.values(prod.findResources('AWS::SQS::QueuePolicy'));
    const fromEvents = (statement: Statement) =>
      JSON.stringify(statement.Principal).includes('events.amazonaws.com');
    let accountWide = 0;
    for (const policy of policies) {
      const statements = policy.Properties.PolicyDocument.Statement as Statement[];
      const allows = statements.filter((st) => st.Effect === 'Allow' && fromEvents(st));
      if (!allows.some((st) => JSON.stringify(st.Condition ?? {}).includes('aws:SourceAccount'))) continue;
      accountWide += 1;
      // The Deny names every rule targeting the queue, and nothing else.
      const deny = statements.find((st) => st.Effect === 'Deny' && fromEvents(st));
      const arns = deny?.Condition?.ArnNotEquals?.['aws:SourceArn'] as unknown[] | undefined;
      const queue = (policy.Properties.Queues as unknown[])[0];
      const rules = Object.values(prod.findResources('AWS::Events::Rule')).filter((rule) =>
        (rule.Properties.Targets as { Arn: unknown }[]).some(
          (target) =>
            JSON.stringify(target.Arn) ===
            JSON.stringify({ 'Fn::GetAtt': [(queue as { Ref: string }).Ref, 'Arn'] }),
        ),
      );
      expect(rules.length).toBeGreaterThan(0);
      expect(arns).toHaveLength(rules.length);
    }
    // The ERP order queue and the privacy queue at least are fed by rules.
    expect(accountWide).toBeGreaterThanOrEqual(2);
  });

  it('is one rotated key per environment, retained in prod, with an alias', () => {
    expect(resolveEnvironment('prod', { config: 'docs/examples/operator-config.prod.json' }).encryption).toBe(
      'customer-managed',
    );
    prod.hasResource('AWS::KMS::Key', {
      Properties: Match.objectLike({ EnableKeyRotation: true, PendingWindowInDays: 30 }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    prod.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/omnihub-prod' });
  });

  it('encrypts every table, queue, DLQ, log group, secret, the bus and its archive with it', () => {
    const stores = storing(prod);
    expect(stores.length).toBeGreaterThan(10);
    const notHubKey = stores.filter(
      ([, , key]) => JSON.stringify(key) !== JSON.stringify({ 'Fn::GetAtt': [keyId, 'Arn'] }),
    );
    expect(notHubKey).toEqual([]);
    prod.allResourcesProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: Match.anyValue() },
    });
  });

  it('lets CloudWatch Logs use it only in the encryption context of this account and region', () => {
    const logs = keyStatements.filter((statement) => JSON.stringify(statement.Principal).includes('logs.'));
    expect(logs).toHaveLength(1);
    const arn = JSON.stringify(logs[0]?.Condition?.ArnLike?.['kms:EncryptionContext:aws:logs:arn']);
    expect(arn).toContain(':log-group:*');
    expect(arn).toContain('AWS::AccountId');
    expect(arn).toContain('AWS::Region');
  });

  it('lets EventBridge use it only for the hub bus, its archive, and deliveries from rules of this account', () => {
    const events = keyStatements.filter(
      (statement) =>
        JSON.stringify(statement.Principal) === JSON.stringify({ Service: 'events.amazonaws.com' }),
    );
    expect(events.length).toBeGreaterThanOrEqual(4);
    for (const statement of events) {
      const actions = [statement.Action].flat();
      if (actions.length === 1 && actions[0] === 'kms:DescribeKey') continue; // metadata only, as AWS documents
      const condition = JSON.stringify(statement.Condition ?? {});
      expect(
        condition.includes('event-bus/omnihub-prod') || condition.includes('aws:SourceAccount'),
        `unconditioned EventBridge key use: ${JSON.stringify(statement)}`,
      ).toBe(true);
    }
  });

  it('grants functions kms:Decrypt on the hub key and no other key action', () => {
    const policies = Object.values(prod.findResources('AWS::IAM::Policy'));
    const kms = policies.flatMap((policy) =>
      (policy.Properties.PolicyDocument.Statement as Statement[]).filter((statement) =>
        JSON.stringify(statement.Action).includes('kms:'),
      ),
    );
    expect(kms.length).toBeGreaterThanOrEqual(4);
    // The exceptions: the inventory projector sends to the (encrypted) availability queues and the price
    // schedules' execution role to the price queue, and an SSE-KMS producer needs kms:GenerateDataKey
    // besides kms:Decrypt (SQS Developer Guide, key management).
    const producers = kms.filter((statement) => JSON.stringify(statement.Action).includes('GenerateDataKey'));
    expect(producers.map((statement) => statement.Action)).toEqual([
      ['kms:GenerateDataKey', 'kms:Decrypt'],
      ['kms:GenerateDataKey', 'kms:Decrypt'],
    ]);
    for (const statement of kms) {
      if (!producers.includes(statement)) expect(statement.Action).toBe('kms:Decrypt');
      expect(statement.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    }
    // Secrets are decrypted through Secrets Manager only (kms:ViaService in the key policy).
    const viaSecrets = keyStatements.filter(
      (statement) =>
        JSON.stringify(statement.Principal).includes('FunctionServiceRole') &&
        JSON.stringify(statement.Condition).includes('kms:ViaService'),
    );
    // shopify-webhook, pos-webhook, pos-sweep, erp-order-sync, inventory-erp-changes, the two shops' inventory
    // publishers and (behind WAF) origin-verify read a secret each; catalog-price-feed reads the NetSuite
    // credentials and catalog-prices the shops' Admin tokens (one key-policy statement for both).
    expect(viaSecrets.map((statement) => statement.Action)).toEqual([
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
      'kms:Decrypt',
    ]);
  });
});

describe('the local cloud and a customer-managed template', () => {
  it('loads it and evaluates its IAM (KMS grants carry no condition key the local cloud refuses)', () => {
    // The local cloud runs dev (aws-managed); someone running a customer-managed template must not be
    // stopped at boot. Key policies are not evaluated locally (there is no local KMS); role policies are.
    // Without the WAF edge: CloudFront and WAF have no local emulation (dev has no edge either).
    const dir = mkdtempSync(join(tmpdir(), 'omnihub-cmk-'));
    const { edge: _edge, ...operator } = JSON.parse(
      readFileSync('docs/examples/operator-config.prod.json', 'utf8'),
    ) as Record<string, unknown>;
    expect(operator.encryption).toBe('customer-managed');
    writeFileSync(join(dir, 'config.json'), JSON.stringify(operator));
    const cmk = template('prod', { config: join(dir, 'config.json') });
    writeFileSync(join(dir, 'Cmk.template.json'), JSON.stringify(cmk.toJSON()));
    const local = loadTemplate(dir, 'Cmk', {
      sqsEndpoint: 'http://127.0.0.1:9324',
      apiEndpoint: 'http://127.0.0.1:3000',
    });
    expect(local.ofType('AWS::KMS::Key')).toHaveLength(1);
    expect(() => new IamModel(local)).not.toThrow();
  }, 120_000);
});
