import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantIdempotency } from '../constructs/hub-table.ts';
import { enableTrace } from '../constructs/trace.ts';
import { VendorSecret } from '../constructs/vendor-secret.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * Shopify ingress: `POST /webhooks/shopify` → shopify-webhook (verify the HMAC, de-duplicate, map) →
 * canonical events on the bus (source omnihub.shopify); what cannot be mapped is parked.
 */
export class ShopifyIngress extends HubFlow {
  readonly webhookFunction: HubFunction;
  readonly webhookSecret: VendorSecret;

  constructor(scope: Construct, id: string, hub: HubResources) {
    super(scope, id);
    const { config, tables } = hub;
    this.webhookSecret = new VendorSecret(this, 'ShopifyWebhookSecret', {
      description: 'Shopify app client secret used to verify webhooks: {"current": "...", "previous": "..."}',
      placeholderKey: 'current',
      placeholderLength: 64,
      rotatedBy:
        'Issued by Shopify: rotated in the Partner Dashboard, then stored here as "current" with the old one as "previous".',
      localRole: 'shopify-webhook-secret',
      removalPolicy: config.removalPolicy,
    });

    this.webhookFunction = new HubFunction(this, 'ShopifyWebhookFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('shopify-webhook'),
      description: 'Verifies, de-duplicates and maps Shopify webhooks to canonical events',
      serviceName: 'shopify-webhook',
      // Shopify waits 5 s for an answer; anything slower is a failed delivery anyway.
      timeout: Duration.seconds(5),
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        IDEMPOTENCY_TABLE_NAME: tables.idempotency.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        SHOPIFY_WEBHOOK_SECRET_ID: this.webhookSecret.secretArn,
        SHOPIFY_SHOPS: JSON.stringify(config.shops),
        SHOPIFY_API_VERSION,
        MAX_BODY_BYTES: String(config.maxWebhookBodyBytes),
      },
    });
    hub.grantPublish(this.webhookFunction, EVENT_SOURCES.shopify);
    grantIdempotency(tables.idempotency, this.webhookFunction, IDEMPOTENCY_KEY_PREFIXES.shopifyWebhook);
    // Parking is one PutItem per item (a large payload in parts); nothing is read back.
    tables.exceptions.grant(this.webhookFunction, 'dynamodb:PutItem');
    this.webhookSecret.grantRead(this.webhookFunction);
    enableTrace(this.webhookFunction, tables.trace);
    hub.webhookApi.addWebhookRoute('/webhooks/shopify', this.webhookFunction);

    new CfnOutput(this, 'ShopifyWebhookUrl', {
      value: hub.webhookApi.url('/webhooks/shopify'),
      description: 'Register this URL for the Shopify webhook subscriptions',
    });
    new CfnOutput(this, 'ShopifyWebhookSecretArn', {
      value: this.webhookSecret.secretArn,
      description: 'Store the Shopify app client secret here: {"current":"..."}',
    });
  }
}
