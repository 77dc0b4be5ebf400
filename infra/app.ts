import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { type EnvironmentConfig, resolveEnvironment } from './config/environments.ts';
import { withErpConcurrencyLimit } from './config/erp-pacing.ts';
import { withPosOverrides } from './config/pos.ts';
import { HubStack } from './stacks/hub-stack.ts';

/**
 * `cdk synth|deploy -c env=<dev|staging|prod>`: one stack per environment, checked by cdk-nag's
 * AWS Solutions rules on every synth.
 */
export function buildApp(app: App = new App()): { app: App; stack: HubStack; config: EnvironmentConfig } {
  const config = withPosOverrides(
    withErpConcurrencyLimit(
      resolveEnvironment(
        app.node.tryGetContext('env'),
        app.node.tryGetContext('shops'),
        app.node.tryGetContext('netsuiteBaseUrl'),
      ),
      app.node.tryGetContext('erpConcurrencyLimit'),
    ),
    app.node.tryGetContext('squareBaseUrl'),
    app.node.tryGetContext('squareNotificationUrl'),
  );
  const stack = new HubStack(app, `Omnihub-${config.name}`, {
    config,
    description: `Omnihub integration hub (${config.name})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    tags: { project: 'omnihub', environment: config.name },
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack, config };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  buildApp().app.synth();
}
