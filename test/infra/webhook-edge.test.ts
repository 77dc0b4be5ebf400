import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/app.ts';
import { resolveEnvironment } from '#infra/config/environments.ts';
import { CLOUDFRONT_WAF_REGION } from '#infra/stacks/webhook-waf-stack.ts';
import { templateApp } from '#test/support/cdk.ts';

const PROD_EXAMPLE = 'docs/examples/operator-config.prod.json';

describe('webhook edge: AWS WAF on (the prod example)', () => {
  let hub: Template;
  let waf: Template;
  let wafRegion: string | undefined;

  beforeAll(() => {
    const built = buildApp(templateApp({ env: 'prod' }));
    hub = Template.fromStack(built.stack);
    if (!built.wafStack) throw new Error('no WAF stack for prod');
    waf = Template.fromStack(built.wafStack);
    wafRegion = built.wafStack.region;
  }, 120_000);

  it('puts a rate-based rule per IP (limit from config) in a CLOUDFRONT web ACL in us-east-1', () => {
    const limit = resolveEnvironment('prod', { config: PROD_EXAMPLE }).waf?.rateLimitPer5Minutes;
    expect(limit).toBe(3000);
    expect(wafRegion).toBe(CLOUDFRONT_WAF_REGION);
    waf.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'CLOUDFRONT',
      DefaultAction: { Allow: {} },
      Rules: Match.arrayWith([
        Match.objectLike({
          Statement: {
            RateBasedStatement: { Limit: limit, AggregateKeyType: 'IP', EvaluationWindowSec: 300 },
          },
          Action: { Block: { CustomResponse: Match.objectLike({ ResponseCode: 429 }) } },
        }),
      ]),
    });
    waf.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/WAFV2',
      MetricName: 'BlockedRequests',
      Dimensions: Match.arrayWith([{ Name: 'Rule', Value: 'ALL' }]),
    });
    expect(Object.keys(waf.findOutputs('*'))).toContain('WebAclArn');
  });

  it('fronts the API with CloudFront and the configured web ACL, uncached, HTTPS only, all viewer headers', () => {
    hub.resourceCountIs('AWS::CloudFront::Distribution', 1);
    hub.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        WebACLId: resolveEnvironment('prod', { config: PROD_EXAMPLE }).waf?.webAclArn,
        DefaultCacheBehavior: Match.objectLike({
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: Match.arrayWith(['POST']),
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
          OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // AllViewerExceptHostHeader
        }),
        Origins: [
          Match.objectLike({
            CustomOriginConfig: Match.objectLike({
              OriginProtocolPolicy: 'https-only',
              OriginSSLProtocols: ['TLSv1.2'],
            }),
          }),
        ],
      }),
    });
  });

  it('sends the origin secret as a dynamic reference, never a value in the template', () => {
    const [distribution] = Object.values(hub.findResources('AWS::CloudFront::Distribution'));
    const headers = JSON.stringify(
      distribution?.Properties.DistributionConfig.Origins[0].OriginCustomHeaders,
    );
    expect(headers).toContain('x-origin-verify');
    expect(headers).toContain('{{resolve:secretsmanager:');
    expect(headers).toContain('OriginVerifySecret');
    expect(headers).toContain(':SecretString:current::}}');
    hub.hasResourceProperties('AWS::SecretsManager::Secret', {
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'current', PasswordLength: 64 }),
    });
  });

  it('refuses requests that bypass CloudFront: every webhook route has the origin-verify authorizer', () => {
    hub.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'REQUEST',
      IdentitySource: ['$request.header.x-origin-verify'],
      EnableSimpleResponses: true,
      AuthorizerResultTtlInSeconds: 300,
    });
    const routes = Object.values(hub.findResources('AWS::ApiGatewayV2::Route'));
    expect(routes.length).toBe(2);
    for (const route of routes) {
      expect(route.Properties.AuthorizationType).toBe('CUSTOM');
      expect(route.Properties.AuthorizerId).toBeDefined();
    }
  });

  it('gives vendors the CloudFront URLs and keeps the per-route throttles and the 4xx alarm', () => {
    const outputs = hub.findOutputs('*');
    for (const name of ['ShopifyWebhookUrl', 'PosWebhookUrl']) {
      const value = JSON.stringify(outputs[name]?.Value);
      expect(value).toContain('DomainName');
      expect(value).not.toContain('ApiEndpoint');
    }
    hub.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      RouteSettings: Match.objectLike({ 'POST /webhooks/shopify': Match.anyValue() }),
    });
    hub.hasResourceProperties('AWS::CloudWatch::Alarm', { Namespace: 'AWS/ApiGateway', MetricName: '4xx' });
  });
});

describe('webhook edge: off', () => {
  it('has no CloudFront, authorizer or WAF stack in dev (what the local cloud runs)', () => {
    const built = buildApp(templateApp({ env: 'dev' }));
    expect(built.wafStack).toBeUndefined();
    const dev = Template.fromStack(built.stack);
    dev.resourceCountIs('AWS::CloudFront::Distribution', 0);
    dev.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 0);
    expect(JSON.stringify(dev.findOutputs('ShopifyWebhookUrl'))).toContain('ApiEndpoint');
  }, 120_000);

  it('builds the web ACL stack but no CloudFront until its ARN is configured (first deploy)', () => {
    const built = buildApp(templateApp({ env: 'staging', config: stagingWithWaf() }));
    expect(built.wafStack).toBeDefined();
    Template.fromStack(built.stack).resourceCountIs('AWS::CloudFront::Distribution', 0);
  }, 120_000);
});

function stagingWithWaf(): string {
  const config = JSON.parse(readFileSync('docs/examples/operator-config.staging.json', 'utf8'));
  const path = join(mkdtempSync(join(tmpdir(), 'omnihub-waf-')), 'staging.json');
  writeFileSync(path, JSON.stringify({ ...config, edge: { waf: { rateLimitPer5Minutes: 500 } } }));
  return path;
}
