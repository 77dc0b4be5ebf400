import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type EnvironmentConfig, resolveEnvironment } from './config/environments.ts';
import { withErpConcurrencyLimit } from './config/erp-pacing.ts';
import { withPosOverrides } from './config/pos.ts';
import { HubStack, type HubStackProps } from './stacks/hub-stack.ts';
import { CLOUDFRONT_WAF_REGION, WebhookWafStack } from './stacks/webhook-waf-stack.ts';

/**
 * `cdk synth|deploy -c env=<dev|staging|prod> [-c config=<operator config file>]`: one stack per
 * environment, checked by cdk-nag's AWS Solutions rules on every synth. Settings come from the
 * environment's defaults, then the operator's file, then single `-c` overrides.
 */
export function buildApp(
  app: App = new App(),
  /** Last say over the resolved settings (test harnesses: e.g. a booking id the ERP lacks). */
  adjust: (config: EnvironmentConfig) => EnvironmentConfig = (config) => config,
  /** More resources in the stack, made before the monitoring walks it (test harnesses: the e2e probe). */
  extraFlows?: HubStackProps['extraFlows'],
): { app: App; stack: HubStack; config: EnvironmentConfig; wafStack?: WebhookWafStack } {
  const config = adjust(resolveAppConfig(app));
  const stack = new HubStack(app, `Omnihub-${config.name}`, {
    config,
    description: `Omnihub integration hub (${config.name})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    tags: { project: 'omnihub', environment: config.name },
    ...(extraFlows ? { extraFlows } : {}),
  });
  // AWS WAF for the webhook API: its web ACL lives in us-east-1 (CloudFront scope), in a stack of its own;
  // the hub is fronted by it once its ARN is in the operator config (README, "Deploy").
  const wafStack = config.waf
    ? new WebhookWafStack(app, `Omnihub-${config.name}-waf`, {
        environmentName: config.name,
        waf: config.waf,
        description: `Omnihub AWS WAF web ACL for the webhook API (${config.name})`,
        env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: CLOUDFRONT_WAF_REGION },
        tags: { project: 'omnihub', environment: config.name },
      })
    : undefined;
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config, ...(wafStack ? { wafStack } : {}) };
}

/** The environment's settings as `buildApp` resolves them from the app's `-c` context, before any adjustment. */
export function resolveAppConfig(app: App): EnvironmentConfig {
  const context = (key: string): unknown => app.node.tryGetContext(key);
  return withPosOverrides(
    withErpConcurrencyLimit(
      resolveEnvironment(context('env'), {
        config: context('config'),
        shops: context('shops'),
        netsuiteBaseUrl: context('netsuiteBaseUrl'),
        shopifyBaseUrl: context('shopifyBaseUrl'),
      }),
      context('erpConcurrencyLimit'),
    ),
    context('squareBaseUrl'),
    context('squareNotificationUrl'),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    buildApp().app.synth();
  } catch (error) {
    // A configuration error is the operator's to fix: say what, without a stack trace.
    console.error(`omnihub: ${(error as Error).message}`);
    process.exit(1);
  }
}
