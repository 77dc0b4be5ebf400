import { CfnOutput, Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { POS_MARKER_PREFIX } from '#shared/repositories/pos-orders.ts';
import { PRICE_BOOK_PREFIX } from '#shared/repositories/price-books.ts';
import type { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantPartitions, HubTable } from '../constructs/hub-table.ts';
import { markLocalRole } from '../constructs/local-role.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/** The location mappings' partition (shared/repositories/mappings.ts keys `MAP#<kind>`). */
const LOCATION_MAPPINGS_PARTITION = 'MAP#location';

/** What the reconciler reads with: the other flows' secrets, the inventory table and queues. */
export interface ReconciliationInputs {
  /** NetSuite M2M credentials (OrderCapture). */
  readonly erpCredentials: ISecret;
  /** Square access token (PosIngress). */
  readonly squareAccessToken: ISecret;
  /** The projection and, per shop, its Admin API token and availability queue (InventorySync). */
  readonly inventory: {
    readonly table: HubTable;
    readonly shops: readonly {
      readonly domain: string;
      readonly token: ISecret;
      readonly queue: BufferedConsumer;
    }[];
  };
  /** The price books (Catalog): each shop's variant prices are compared with them. */
  readonly catalog?: { readonly table: HubTable };
}

/**
 * Reconciliation (issue #15): EventBridge Scheduler (the environment's rate) or an operator (Lambda
 * Invoke, `npm run -s ops -- reconcile`) → reconciler, which compares ERP vs Shopify vs POS vs the
 * projection for a time window (and each shop's variant prices against the price books), stores the run and its discrepancies in its table, emits
 * `ReconciliationDrift`, and on request (never in a dry-run environment) re-publishes missing orders
 * and re-enqueues drifted availability. Reads only, except: publishing as the ingresses (`omnihub.shopify`,
 * `omnihub.pos`), the POS capture markers (as the sweep), and the availability queues.
 */
export class Reconciliation extends HubFlow {
  readonly table: HubTable;
  readonly reconcilerFunction: HubFunction;

  constructor(scope: Construct, id: string, hub: HubResources, inputs: ReconciliationInputs) {
    super(scope, id);
    const { config, tables } = hub;
    const settings = config.reconciliation;
    this.table = new HubTable(this, 'ReconciliationTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      timeToLiveAttribute: 'expiresAt',
      localRole: 'reconciliation-table',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });
    const shops = config.shops.flatMap((shop) => {
      const found = inputs.inventory.shops.find((s) => s.domain === shop.domain);
      return found ? [{ ...shop, ...found }] : [];
    });

    this.reconcilerFunction = new HubFunction(this, 'ReconcilerFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('reconciler'),
      description: 'Compares ERP vs Shopify vs POS vs the projection, stores discrepancies, heals on request',
      serviceName: 'reconciler',
      // A day of orders at Shopify's and NetSuite's paces; an operator's run answers within Lambda Invoke's wait.
      timeout: Duration.minutes(10),
      memorySize: 512,
      // One run at a time: two would read and heal the same window.
      reservedConcurrentExecutions: 1,
      environment: {
        RECONCILIATION_TABLE_NAME: this.table.tableName,
        RECONCILIATION_RETENTION_DAYS: String(settings.retentionDays),
        EVENT_BUS_NAME: hub.bus.eventBusName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        INVENTORY_TABLE_NAME: inputs.inventory.table.tableName,
        ...(inputs.catalog ? { CATALOG_TABLE_NAME: inputs.catalog.table.tableName } : {}),
        SHOPIFY_SHOPS: JSON.stringify(
          shops.map((shop) => ({
            domain: shop.domain,
            currency: shop.currency,
            tokenSecretId: shop.token.secretArn,
          })),
        ),
        ...(config.shopifyAdminBaseUrl ? { SHOPIFY_ADMIN_BASE_URL: config.shopifyAdminBaseUrl } : {}),
        SQUARE_ACCESS_TOKEN_SECRET_ID: inputs.squareAccessToken.secretArn,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: inputs.erpCredentials.secretArn,
        AVAILABILITY_QUEUE_URLS: JSON.stringify(shops.map((shop) => shop.queue.queue.queueUrl)),
        INVENTORY_POLICY: JSON.stringify(config.inventory.policy),
        HEAL_ALLOWED: String(settings.heal === 'on-request'),
        LOOKBACK_MINUTES: String(settings.lookbackMinutes),
        SETTLE_MINUTES: String(settings.settleMinutes),
      },
    });
    markLocalRole(this.reconcilerFunction, 'reconciler-function');
    const fn = this.reconcilerFunction;
    // A failed scheduled run is covered by the next one: no retries of the asynchronous invocation.
    fn.configureAsyncInvoke({ retryAttempts: 0 });

    // Runs and discrepancies: written in batches, read back by the ops tools.
    this.table.grant(fn, 'dynamodb:PutItem', 'dynamodb:BatchWriteItem');
    // Parked order events (to tell a parked order from a dropped one): one Query of the erp-order partition.
    grantPartitions(tables.exceptions, fn, ['EXC#erp-order'], 'dynamodb:Query');
    // Heal through the POS capture path: its first-completion markers, as the sweep uses them.
    grantPartitions(tables.ledger, fn, [POS_MARKER_PREFIX], 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // Hub location → Shopify location (availability), one Query of the location mappings.
    grantPartitions(tables.mappings, fn, [LOCATION_MAPPINGS_PARTITION], 'dynamodb:Query');
    // The projection: every position (a Scan, filtered to the SKU partitions).
    inputs.inventory.table.grant(fn, 'dynamodb:Scan');
    // The price books of the SKUs the shops show: BatchGetItem of the book partitions only.
    if (inputs.catalog)
      grantPartitions(inputs.catalog.table, fn, [PRICE_BOOK_PREFIX], 'dynamodb:BatchGetItem');
    hub.grantPublish(fn, EVENT_SOURCES.shopify);
    hub.grantPublish(fn, EVENT_SOURCES.pos);
    for (const shop of shops) {
      shop.token.grantRead(fn);
      // SendMessageBatch is authorized as sqs:SendMessage (with the hub key: GenerateDataKey and Decrypt).
      shop.queue.queue.grant(fn, 'sqs:SendMessage');
      shop.queue.queue.encryptionMasterKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    inputs.squareAccessToken.grantRead(fn);
    inputs.erpCredentials.grantRead(fn);

    const schedulerRole = new Role(this, 'ReconcilerSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invokes the reconciler',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] }),
    );
    new CfnSchedule(this, 'ReconcilerSchedule', {
      description: 'Runs the reconciliation of ERP vs Shopify vs POS vs the projection',
      scheduleExpression: settings.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: fn.functionArn,
        roleArn: schedulerRole.roleArn,
        input: JSON.stringify({ heal: settings.scheduledHeal }),
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });

    new CfnOutput(this, 'ReconcilerFunctionName', {
      value: fn.functionName,
      description: 'Invoke with {"since","until","heal"} (npm run -s ops -- reconcile --env <env>)',
    });
    new CfnOutput(this, 'ReconciliationTableName', { value: this.table.tableName });
  }
}
