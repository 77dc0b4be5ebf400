import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { type LocalTemplate, loadTemplate } from '#local/template.ts';
import { templateApp } from '#test/support/cdk.ts';
import { writeAssembly } from '#test/support/local-template.ts';

describe('loadTemplate', () => {
  describe('the synthesized dev stack', () => {
    let template: LocalTemplate;

    beforeAll(() => {
      const { app } = buildApp(templateApp({ env: 'dev' }));
      app.synth();
      template = loadTemplate(app.outdir, 'Omnihub-dev', {
        sqsEndpoint: 'http://127.0.0.1:9324',
        apiEndpoint: 'http://127.0.0.1:3000',
      });
    }, 120_000);

    it('resolves the webhook function environment to local names and ARNs', () => {
      const [fn] = template.ofType('AWS::Lambda::Function');
      const variables =
        (fn?.properties.Environment as { Variables: Record<string, string> } | undefined)?.Variables ?? {};
      const tables = template.ofType('AWS::DynamoDB::Table').map((table) => table.name);
      const [secret] = template.ofType('AWS::SecretsManager::Secret');
      expect(variables.EVENT_BUS_NAME).toBe('omnihub-dev');
      expect(tables).toContain(variables.IDEMPOTENCY_TABLE_NAME);
      expect(tables).toContain(variables.EXCEPTIONS_TABLE_NAME);
      expect(variables.SHOPIFY_WEBHOOK_SECRET_ID).toBe(secret?.arn);
      expect(secret?.arn).toMatch(
        /^arn:aws:secretsmanager:us-east-1:000000000000:secret:Omnihub-dev-ShopifyWebhookSecret/,
      );
    });

    it('binds the route to its integration and the output URL to the local API', () => {
      const [route] = template.ofType('AWS::ApiGatewayV2::Route');
      const integration = template
        .ofType('AWS::ApiGatewayV2::Integration')
        .find((candidate) => `integrations/${candidate.name}` === route?.properties.Target);
      expect(integration?.properties.IntegrationUri).toBe(template.ofType('AWS::Lambda::Function')[0]?.arn);
      expect(template.outputs.ShopifyWebhookUrl).toBe('http://127.0.0.1:3000/webhooks/shopify');
    });
  });

  it('resolves Ref, GetAtt, Join, Sub, Select and Split, and queue Refs to local URLs', () => {
    const template = writeAssembly({
      Dlq: { Type: 'AWS::SQS::Queue' },
      Queue: {
        Type: 'AWS::SQS::Queue',
        Properties: {
          RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': ['Dlq', 'Arn'] }, maxReceiveCount: 3 },
        },
      },
      Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'omnihub-test' } },
      Thing: {
        Type: 'AWS::Custom::Thing',
        Properties: {
          url: { Ref: 'Queue' },
          joined: { 'Fn::Join': ['/', [{ Ref: 'AWS::Region' }, { Ref: 'Bus' }]] },
          sub: {
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
            'Fn::Sub': 'arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/${Bus}',
          },
          // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
          subAtt: { 'Fn::Sub': ['${Name}-${Dlq.QueueName}', { Name: 'x' }] },
          selected: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
        },
      },
    }).load();
    expect(template.resources.get('Queue')?.properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:Test-Dlq',
      maxReceiveCount: 3,
    });
    expect(template.resources.get('Thing')?.properties).toEqual({
      url: 'http://127.0.0.1:9324/000000000000/Test-Queue',
      joined: 'us-east-1/omnihub-test',
      sub: 'arn:aws:events:us-east-1:000000000000:event-bus/omnihub-test',
      subAtt: 'x-Test-Dlq',
      selected: 'b',
    });
  });

  it('refuses a condition the template does not define instead of guessing', () => {
    const assembly = writeAssembly({
      Thing: { Type: 'AWS::Custom::Thing', Properties: { a: { 'Fn::If': ['C', 1, 2] } } },
    });
    expect(() => assembly.load()).toThrow(/condition C is not defined/);
  });

  describe('strict resolution', () => {
    it('refuses an attribute Fn::GetAtt cannot resolve, naming resource and attribute', () => {
      const assembly = writeAssembly({
        Queue: { Type: 'AWS::SQS::Queue' },
        Thing: { Type: 'AWS::Custom::Thing', Properties: { a: { 'Fn::GetAtt': ['Queue', 'QueueArn'] } } },
      });
      expect(() => assembly.load()).toThrow(
        /Fn::GetAtt Queue\.QueueArn: AWS::SQS::Queue has no attribute QueueArn/,
      );
    });

    it('refuses an attribute in Fn::Sub as it does in Fn::GetAtt', () => {
      const assembly = writeAssembly({
        Bus: { Type: 'AWS::Events::EventBus', Properties: { Name: 'b' } },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax
        Thing: { Type: 'AWS::Custom::Thing', Properties: { a: { 'Fn::Sub': '${Bus.Nmae}' } } },
      });
      expect(() => assembly.load()).toThrow(/Fn::GetAtt Bus\.Nmae/);
    });

    it('refuses an intrinsic function it does not implement instead of keeping the object', () => {
      const assembly = writeAssembly({
        Thing: { Type: 'AWS::Custom::Thing', Properties: { a: { 'Fn::ImportValue': 'SharedBus' } } },
      });
      expect(() => assembly.load()).toThrow(/Fn::ImportValue is not supported/);
    });

    it('removes a property or list item that is AWS::NoValue', () => {
      const template = writeAssembly({
        Thing: {
          Type: 'AWS::Custom::Thing',
          Properties: {
            kept: 'yes',
            dropped: { Ref: 'AWS::NoValue' },
            list: ['a', { Ref: 'AWS::NoValue' }, 'b'],
            chosen: { 'Fn::If': ['IsProd', 'prod', { Ref: 'AWS::NoValue' }] },
          },
        },
      });
      const raw = JSON.parse(readFileSync(join(template.dir, 'Test.template.json'), 'utf8'));
      raw.Conditions = { IsProd: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'eu-west-1'] } };
      writeFileSync(join(template.dir, 'Test.template.json'), JSON.stringify(raw));
      expect(template.load().resources.get('Thing')?.properties).toEqual({ kept: 'yes', list: ['a', 'b'] });
    });

    it('does not create a resource whose Condition is false', () => {
      const assembly = writeAssembly({
        Queue: { Type: 'AWS::SQS::Queue', Condition: 'Never' } as never,
      });
      const raw = JSON.parse(readFileSync(join(assembly.dir, 'Test.template.json'), 'utf8'));
      raw.Conditions = { Never: { 'Fn::Equals': ['a', 'b'] } };
      writeFileSync(join(assembly.dir, 'Test.template.json'), JSON.stringify(raw));
      expect(assembly.load().resources.has('Queue')).toBe(false);
    });
  });
});
