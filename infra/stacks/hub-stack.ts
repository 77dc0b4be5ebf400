import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { EventBus } from 'aws-cdk-lib/aws-events';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import type { EnvironmentConfig } from '../config/environments.ts';
import { erpPacing } from '../config/erp-pacing.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { HubFunction } from '../constructs/hub-function.ts';
import { HubTable } from '../constructs/hub-table.ts';
import { WebhookApi } from '../constructs/webhook-api.ts';

export interface HubStackProps extends StackProps {
  readonly config: EnvironmentConfig;
}

/**
 * Retries of the ERP order queue: backoff base and cap (s) applied by the consumer, and receives before
 * the DLQ. The first retries come within seconds (a short outage ends with the backlog moving at once),
 * then every 1–2 minutes; 125 receives wait out at least 2 hours of ERP outage (counted at the jitter's
 * lower bound) before a record is redriven — the DLQ is for what an outage cannot explain.
 */
export const ERP_RETRY = { baseSeconds: 5, capSeconds: 120, maxReceiveCount: 125 } as const;

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

    const ledgerTable = this.addOrderCapture(config, idempotencyTable, exceptionsTable);
    this.addPosIngress(config, { idempotencyTable, exceptionsTable, ledgerTable });

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

  /**
   * Order capture: OrderCreated/Updated/Cancelled (Shopify and POS) → queue → erp-order-sync → ERP.
   * Paced to the ERP's concurrency governance: instances × calls per instance = the account limit.
   */
  private addOrderCapture(
    config: EnvironmentConfig,
    idempotencyTable: HubTable,
    exceptionsTable: HubTable,
  ): HubTable {
    const ledgerTable = new HubTable(this, 'LedgerTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });
    const mappingsTable = new HubTable(this, 'MappingsTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });
    const netsuiteCredentials = new Secret(this, 'NetSuiteCredentials', {
      description:
        'NetSuite OAuth 2.0 M2M credentials: {"accountId","clientId","certificateId","privateKeyPem"}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ accountId: config.erp.accountId }),
        generateStringKey: 'placeholder',
        excludePunctuation: true,
      },
      removalPolicy: config.removalPolicy,
    });
    Validations.of(netsuiteCredentials).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'An M2M certificate key pair issued in NetSuite: rotated by uploading a new certificate there, then stored here.',
    });

    const pacing = erpPacing(config.erp.concurrencyLimit);
    const erpOrderSync = new HubFunction(this, 'ErpOrderSyncFunction', {
      entry: entry('erp-order-sync'),
      description: 'Upserts orders into the ERP exactly once, paced to its concurrency governance',
      serviceName: 'erp-order-sync',
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      logLevel: config.logLevel,
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: pacing.instances,
      environment: {
        LEDGER_TABLE_NAME: ledgerTable.tableName,
        MAPPINGS_TABLE_NAME: mappingsTable.tableName,
        EXCEPTIONS_TABLE_NAME: exceptionsTable.tableName,
        IDEMPOTENCY_TABLE_NAME: idempotencyTable.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: netsuiteCredentials.secretArn,
        ERP_MAX_CONCURRENCY: String(pacing.callsPerInstance),
        RETRY_BASE_SECONDS: String(ERP_RETRY.baseSeconds),
        RETRY_CAP_SECONDS: String(ERP_RETRY.capSeconds),
        NETSUITE_MAPPING_CONFIG: JSON.stringify(config.erp.mapping),
      },
    });
    // Single-item access only: the ledger reads and conditionally updates (leases, syncs) one order at a time;
    // mappings are read by key (a batch's keys at once).
    ledgerTable.grant(erpOrderSync, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    mappingsTable.grant(erpOrderSync, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    exceptionsTable.grantWriteData(erpOrderSync);
    idempotencyTable.grant(
      erpOrderSync,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    netsuiteCredentials.grantRead(erpOrderSync);

    const erpOrders = new BufferedConsumer(this, 'ErpOrders', {
      handler: erpOrderSync,
      batchSize: pacing.batchSize,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: pacing.instances,
      // Failed records come back after 5 s, 10 s, 20 s … capped at 2 minutes (set by the consumer), so
      // a short outage clears at once and a long one is waited out for 2 hours before the DLQ.
      maxReceiveCount: ERP_RETRY.maxReceiveCount,
      // Above the function timeout, as Lambda requires; the backoff replaces it for failed records.
      visibilityTimeout: Duration.seconds(120),
      removalPolicy: config.removalPolicy,
    });
    erpOrders.subscribe(this.bus, 'OrdersToErp', {
      source: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
      detailType: ['OrderCreated', 'OrderUpdated', 'OrderCancelled'],
    });
    return ledgerTable;
  }

  /**
   * POS ingress: Square webhooks → pos-webhook → OrderCreated/Updated/Cancelled (source omnihub.pos).
   * Square's order events carry no lines, so the function reads each order (and the SKUs of its
   * variations) from the Square API with an access token kept in Secrets Manager, and marks the first
   * completed version of each order in the ledger (single-item updates only).
   */
  private addPosIngress(
    config: EnvironmentConfig,
    tables: { idempotencyTable: HubTable; exceptionsTable: HubTable; ledgerTable: HubTable },
  ): void {
    const signatureKey = new Secret(this, 'SquareSignatureKey', {
      description: 'Square webhook subscription signature key: {"current": "...", "previous": "..."}',
      // A random placeholder: nothing verifies until an operator stores the subscription's real key.
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'current',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: config.removalPolicy,
    });
    Validations.of(signatureKey).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Issued by Square per webhook subscription: rotated in the Developer Console, then stored here as "current" with the old one as "previous".',
    });
    const accessToken = new Secret(this, 'SquareAccessToken', {
      description: 'Square access token the hub reads orders and the catalog with: {"accessToken": "..."}',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({}),
        generateStringKey: 'accessToken',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: config.removalPolicy,
    });
    Validations.of(accessToken).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Issued by Square (access token of the seller account): replaced in the Developer Console or by its OAuth flow, then stored here.',
    });

    const posWebhook = new HubFunction(this, 'PosWebhookFunction', {
      entry: entry('pos-webhook'),
      description: 'Verifies Square webhooks, reads the order and publishes canonical order events',
      serviceName: 'pos-webhook',
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      logLevel: config.logLevel,
      // Square waits 10 s for an answer; a slower delivery is retried by Square anyway.
      timeout: Duration.seconds(10),
      environment: {
        EVENT_BUS_NAME: this.bus.eventBusName,
        IDEMPOTENCY_TABLE_NAME: tables.idempotencyTable.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptionsTable.tableName,
        LEDGER_TABLE_NAME: tables.ledgerTable.tableName,
        SQUARE_SIGNATURE_KEY_SECRET_ID: signatureKey.secretArn,
        SQUARE_ACCESS_TOKEN_SECRET_ID: accessToken.secretArn,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        ...(config.pos?.notificationUrl ? { SQUARE_NOTIFICATION_URL: config.pos.notificationUrl } : {}),
        MAX_BODY_BYTES: String(config.maxWebhookBodyBytes),
      },
    });
    this.bus.grantPutEventsTo(posWebhook);
    tables.idempotencyTable.grant(
      posWebhook,
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
    );
    tables.exceptionsTable.grantWriteData(posWebhook);
    // The first-completion marker is one UpdateItem per order; nothing else of the ledger is touched.
    tables.ledgerTable.grant(posWebhook, 'dynamodb:UpdateItem');
    signatureKey.grantRead(posWebhook);
    accessToken.grantRead(posWebhook);
    this.webhookApi.addWebhookRoute('/webhooks/pos', posWebhook);

    new CfnOutput(this, 'PosWebhookUrl', {
      value: this.webhookApi.url('/webhooks/pos'),
      description:
        'Register this URL for the Square webhook subscription (order.created, order.updated, order.fulfillment.updated)',
    });
    new CfnOutput(this, 'SquareSignatureKeySecretArn', {
      value: signatureKey.secretArn,
      description: 'Store the signature key of the Square subscription here: {"current":"..."}',
    });
    new CfnOutput(this, 'SquareAccessTokenSecretArn', {
      value: accessToken.secretArn,
      description: 'Store the Square access token here: {"accessToken":"..."}',
    });
  }
}
