import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import type { EnvironmentConfig } from '../config/environments.ts';
import { HubFunction } from '../constructs/hub-function.ts';
import { HubTable } from '../constructs/hub-table.ts';
import { WebhookApi } from '../constructs/webhook-api.ts';

export interface HubStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

const entry = (name: string) => fileURLToPath(new URL(`../../functions/${name}/handler.ts`, import.meta.url));

/** One Omnihub environment: ingress, bus, tables and the functions that connect them. */
export class HubStack extends Stack {
  readonly bus: EventBus;
  readonly webhookApi: WebhookApi;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.bus = new EventBus(this, 'Bus', { eventBusName: `omnihub-${config.name}` });
    this.bus.archive('Archive', {
      archiveName: `omnihub-${config.name}-all`,
      description: 'Every event on the bus, for replay',
      eventPattern: { account: [this.account] },
      retention: Duration.days(config.archiveRetentionDays),
    });

    const idempotencyTable = new HubTable(this, 'IdempotencyTable', {
      partitionKey: 'id',
      timeToLiveAttribute: 'expiration',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });
    const exceptionsTable = new HubTable(this, 'ExceptionsTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });

    const shopifySecret = new Secret(this, 'ShopifyWebhookSecret', {
      description: 'Shopify app client secret used to verify webhooks: {"current": "...", "previous": "..."}',
      // A random placeholder: nothing verifies until an operator stores the real client secret.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'current',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: config.removalPolicy,
    });
    Validations.of(shopifySecret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Issued by Shopify: rotated in the Partner Dashboard, then stored here as "current" with the old one as "previous".',
    });

    this.webhookApi = new WebhookApi(this, 'WebhookApi', {
      throttle: config.webhookThrottle,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });

    const shopifyWebhook = new HubFunction(this, 'ShopifyWebhookFunction', {
      entry: entry('shopify-webhook'),
      description: 'Verifies, de-duplicates and maps Shopify webhooks to canonical events',
      serviceName: 'shopify-webhook',
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      logLevel: config.logLevel,
      // Shopify waits 5 s for an answer; anything slower is a failed delivery anyway.
      timeout: Duration.seconds(5),
      environment: {
        EVENT_BUS_NAME: this.bus.eventBusName,
        IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
        EXCEPTIONS_TABLE_NAME: exceptionsTable.tableName,
        SHOPIFY_WEBHOOK_SECRET_ID: shopifySecret.secretArn,
        SHOPIFY_SHOPS: JSON.stringify(config.shops),
        SHOPIFY_API_VERSION,
        MAX_BODY_BYTES: String(config.maxWebhookBodyBytes),
      },
    });
    this.bus.grantPutEventsTo(shopifyWebhook);
    // Powertools idempotency reads, writes, updates and deletes single records; nothing else.
    idempotencyTable.grant(
      shopifyWebhook,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    exceptionsTable.grantWriteData(shopifyWebhook);
    shopifySecret.grantRead(shopifyWebhook);
    this.webhookApi.addWebhookRoute('/webhooks/shopify', shopifyWebhook);

    new CfnOutput(this, 'ShopifyWebhookUrl', {
      value: this.webhookApi.url('/webhooks/shopify'),
      description: 'Register this URL for the Shopify webhook subscriptions',
    });
    new CfnOutput(this, 'EventBusName', { value: this.bus.eventBusName });
    new CfnOutput(this, 'ShopifyWebhookSecretArn', {
      value: shopifySecret.secretArn,
      description: 'Store the Shopify app client secret here: {"current":"..."}',
    });
  }
}
