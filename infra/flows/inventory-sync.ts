import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import {
  FEED_KEY_PREFIX,
  INVENTORY_KEY_PREFIX,
  SHOPIFY_ITEM_KEY_PREFIX,
} from '#shared/repositories/inventory.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantPartitions, HubTable } from '../constructs/hub-table.ts';
import { VendorSecret } from '../constructs/vendor-secret.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/** Partition of the location mappings (`MAP#location`), the only one the publisher queries. */
const LOCATION_MAPPINGS_PARTITION = 'MAP#location';

/** `acme-eu.myshopify.com` → `AcmeEu`: a shop's part of its resources' ids. */
const shopIdPart = (domain: string) =>
  domain
    .replace(/\.myshopify\.com$/, '')
    .split(/[^a-zA-Z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join('');

/**
 * Inventory availability (issue #13): ERP change feed → projection → Shopify.
 *
 * - `inventory-erp-changes` (EventBridge Scheduler, reserved concurrency 1): polls NetSuite's outbox
 *   `customrecord_oh_change` through SuiteQL with an id cursor (`FEED#` items of the inventory table) and
 *   publishes `InventoryCounted` (source omnihub.erp).
 * - `inventory-projector` (SQS `InventoryEvents`, fed by a rule on `InventoryCounted` / `InventoryAdjusted`):
 *   applies them to the projection (`SKU#` items of the inventory table) and sends the positions to
 *   publish to every shop's availability queue.
 * - `shopify-inventory-publisher-<shop>` (one per shop, reserved concurrency 1 so one cost pacer sees every
 *   call to that shop; SQS with a large batch and a batching window so a burst coalesces): publishes
 *   availability with `inventorySetQuantities` (compare-and-set, idempotent, paced).
 * - `square-inventory-publisher` (reserved concurrency 1, SQS `PosAvailability` batched the same way):
 *   publishes each store's count to Square (`batch-create` PHYSICAL_COUNT, idempotent, paced).
 */
export class InventorySync extends HubFlow {
  readonly table: HubTable;
  readonly pollFunction: HubFunction;
  readonly projectorFunction: HubFunction;
  readonly publisherFunctions: HubFunction[] = [];
  /** Per shop: its Admin API token and availability queue (the reconciler reads and heals through them). */
  readonly shops: {
    readonly domain: string;
    readonly token: VendorSecret;
    readonly queue: BufferedConsumer;
  }[] = [];
  /** Every shop's availability queue: a producer sends position keys to republish (BOPIS reservations). */
  readonly availabilityQueues: BufferedConsumer[] = [];
  /** Every shop's Admin API access token, by shop domain (BOPIS and the returns workflow read and write orders with it; the catalog flow's price publisher too). */
  readonly shopTokens = new Map<string, VendorSecret>();
  readonly squarePublisherFunction: HubFunction;

  constructor(
    scope: Construct,
    id: string,
    hub: HubResources,
    /**
     * The NetSuite M2M credentials OrderCapture keeps and the Square access token PosIngress keeps (one
     * secret each for the operator to store).
     */
    erp: { readonly credentials: ISecret; readonly squareToken: ISecret },
  ) {
    super(scope, id);
    const { credentials, squareToken } = erp;
    const { config, tables } = hub;
    this.table = new HubTable(this, 'InventoryTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      // Movement markers expire once no redelivery can bring their movement back (shared/repositories/inventory.ts).
      timeToLiveAttribute: 'expiresAt',
      localRole: 'inventory-table',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });

    // ── The ERP change-feed poller ──
    const poll = config.inventory.erpPoll;
    this.pollFunction = new HubFunction(this, 'InventoryErpChangesFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('inventory-erp-changes'),
      description: 'Polls the ERP inventory change feed (SuiteQL, id cursor) and publishes InventoryCounted',
      serviceName: 'inventory-erp-changes',
      // A run polls for `windowSeconds`, then ends well before the next scheduled run.
      timeout: Duration.seconds(poll.windowSeconds + 30),
      // One run at a time: the cursor has one writer, and the feed is read in order.
      reservedConcurrentExecutions: 1,
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        INVENTORY_TABLE_NAME: this.table.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: credentials.secretArn,
        POLL_WINDOW_SECONDS: String(poll.windowSeconds),
        POLL_INTERVAL_MS: String(poll.intervalMs),
      },
    });
    // A failed or throttled run is covered by the next one (the cursor only moves after a publish): no retries.
    this.pollFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    hub.grantPublish(this.pollFunction, EVENT_SOURCES.erp);
    grantPartitions(
      this.table,
      this.pollFunction,
      [FEED_KEY_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    );
    credentials.grantRead(this.pollFunction);

    const schedulerRole = new Role(this, 'InventoryErpChangesSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invokes the ERP inventory change-feed poller',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.pollFunction.functionArn] }),
    );
    new CfnSchedule(this, 'InventoryErpChangesSchedule', {
      description: 'Starts a run of the ERP inventory change-feed poller',
      scheduleExpression: poll.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.pollFunction.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });

    // ── The publishers, one per shop (created first: the projector sends to their queues) ──
    const queues: BufferedConsumer[] = [];
    for (const shop of config.shops) {
      const part = shopIdPart(shop.domain);
      const token = new VendorSecret(this, `ShopifyAdminToken${part}`, {
        description: `Shopify Admin API access token of ${shop.domain} (the app's offline token): {"accessToken": "..."}`,
        placeholderKey: 'accessToken',
        placeholderLength: 64,
        rotatedBy:
          "Issued by Shopify when the shop installs the app (offline access token): replaced by the app's OAuth flow or a reinstall, then stored here.",
        localRole: 'shopify-admin-token',
        removalPolicy: config.removalPolicy,
      });
      this.shopTokens.set(shop.domain, token);
      const publisher = new HubFunction(this, `ShopifyInventoryPublisher${part}Function`, {
        ...hub.functionDefaults,
        entry: functionEntry('shopify-inventory-publisher'),
        description: `Publishes online availability to ${shop.domain} (coalesced, compare-and-set, paced)`,
        serviceName: 'shopify-inventory-publisher',
        timeout: Duration.seconds(60),
        // One instance per shop: its cost pacer sees every call to the shop's bucket.
        reservedConcurrentExecutions: 1,
        environment: {
          INVENTORY_TABLE_NAME: this.table.tableName,
          MAPPINGS_TABLE_NAME: tables.mappings.tableName,
          SHOPIFY_SHOP: shop.domain,
          SHOPIFY_ADMIN_BASE_URL: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
          SHOPIFY_ACCESS_TOKEN_SECRET_ID: token.secretArn,
          INVENTORY_POLICY: JSON.stringify(config.inventory.policy),
        },
      });
      // Positions (BatchGetItem) and what was written or read (read in one TransactGetItems → GetItem,
      // written in one TransactWriteItems Put → PutItem).
      grantPartitions(
        this.table,
        publisher,
        [INVENTORY_KEY_PREFIX],
        'dynamodb:BatchGetItem',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
      );
      // Hub location → Shopify location: one Query of the location mappings' partition.
      grantPartitions(tables.mappings, publisher, [LOCATION_MAPPINGS_PARTITION], 'dynamodb:Query');
      // Inventory item → SKU pairs it resolves, for the projector to read inventory_levels/update.
      grantPartitions(this.table, publisher, [SHOPIFY_ITEM_KEY_PREFIX], 'dynamodb:PutItem');
      token.grantRead(publisher);
      const queue = new BufferedConsumer(this, `ShopifyAvailability${part}`, {
        handler: publisher,
        // Coalescing: everything that arrived within the window is one publish (≤ 250 quantities a call).
        batchSize: 1000,
        maxBatchingWindow: Duration.seconds(2),
        // Lambda's least; reserved concurrency 1 throttles the second poller, whose batch comes back.
        maxConcurrency: 2,
        // Throttled batches come back too (not a failure of theirs): a generous count before the DLQ.
        maxReceiveCount: 50,
        visibilityTimeout: Duration.seconds(60),
        removalPolicy: config.removalPolicy,
      });
      queues.push(queue);
      this.availabilityQueues.push(queue);
      this.shopTokens.set(shop.domain, token);
      this.publisherFunctions.push(publisher);
      this.shops.push({ domain: shop.domain, token, queue });
      new CfnOutput(this, `ShopifyAdminToken${part}SecretArn`, {
        value: token.secretArn,
        description: `Store the Admin API access token of ${shop.domain} here: {"accessToken":"..."}`,
      });
    }

    // What `ops register-webhooks --env` needs of each shop (its Admin API and the secret of its token).
    new CfnOutput(this, 'ShopifyShops', {
      value: Stack.of(this).toJsonString(
        config.shops.map((shop) => ({
          domain: shop.domain,
          adminBaseUrl: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
          tokenSecretArn: this.shopTokens.get(shop.domain)?.secretArn,
        })),
      ),
      description:
        "The shops this stack serves: domain, Admin API base URL, and the secret of the app's token",
    });

    // ── The POS publisher (one Square merchant: one function, one pacing) ──
    this.squarePublisherFunction = new HubFunction(this, 'SquareInventoryPublisherFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('square-inventory-publisher'),
      description: 'Publishes each store count to Square (PHYSICAL_COUNT, ≤ 100 a call, idempotent, paced)',
      serviceName: 'square-inventory-publisher',
      timeout: Duration.seconds(60),
      // One instance: its pacing sees every inventory write to the merchant.
      reservedConcurrentExecutions: 1,
      environment: {
        INVENTORY_TABLE_NAME: this.table.tableName,
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_ACCESS_TOKEN_SECRET_ID: squareToken.secretArn,
        INVENTORY_POLICY: JSON.stringify(config.inventory.policy),
      },
    });
    grantPartitions(
      this.table,
      this.squarePublisherFunction,
      [INVENTORY_KEY_PREFIX],
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    );
    grantPartitions(
      tables.mappings,
      this.squarePublisherFunction,
      [LOCATION_MAPPINGS_PARTITION],
      'dynamodb:Query',
    );
    squareToken.grantRead(this.squarePublisherFunction);
    queues.push(
      new BufferedConsumer(this, 'PosAvailability', {
        handler: this.squarePublisherFunction,
        batchSize: 1000,
        maxBatchingWindow: Duration.seconds(2),
        maxConcurrency: 2,
        maxReceiveCount: 50,
        visibilityTimeout: Duration.seconds(60),
        removalPolicy: config.removalPolicy,
      }),
    );

    // ── The projector ──
    this.projectorFunction = new HubFunction(this, 'InventoryProjectorFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('inventory-projector'),
      description: 'Applies inventory events to the projection and queues the positions to publish',
      serviceName: 'inventory-projector',
      timeout: Duration.seconds(30),
      environment: {
        INVENTORY_TABLE_NAME: this.table.tableName,
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        AVAILABILITY_QUEUE_URLS: JSON.stringify(queues.map((q) => q.queue.queueUrl)),
      },
    });
    // Positions and movement markers: TransactGetItems (GetItem per item) and TransactWriteItems (PutItem
    // per item), in the SKU partitions only.
    grantPartitions(
      this.table,
      this.projectorFunction,
      [INVENTORY_KEY_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    );
    // A SKU's positions with Shopify committed stock (refreshCommitted, on Shopify order events).
    grantPartitions(this.table, this.projectorFunction, [INVENTORY_KEY_PREFIX], 'dynamodb:Query');
    grantPartitions(this.table, this.projectorFunction, [SHOPIFY_ITEM_KEY_PREFIX], 'dynamodb:GetItem');
    tables.mappings.grant(this.projectorFunction, 'dynamodb:GetItem');
    tables.exceptions.grant(this.projectorFunction, 'dynamodb:PutItem');
    for (const { queue } of queues) {
      // SendMessageBatch is authorized as sqs:SendMessage. With the hub key, a producer needs
      // kms:GenerateDataKey and kms:Decrypt, nothing more (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html#send-to-encrypted-queue);
      // CDK's grantSendMessages adds kms:Encrypt and the kms:ReEncrypt*/GenerateDataKey* wildcards.
      queue.grant(this.projectorFunction, 'sqs:SendMessage');
      queue.encryptionMasterKey?.grant(this.projectorFunction, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    const events = new BufferedConsumer(this, 'InventoryEvents', {
      handler: this.projectorFunction,
      batchSize: 100,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: 4,
      maxReceiveCount: 20,
      removalPolicy: config.removalPolicy,
    });
    // omnihub.shopify's InventoryCounted (inventory_levels/update) names the inventory item: the projector
    // resolves it to the SKU through the pairs the Shopify publishers record (SHOPIFYITEM#).
    events.subscribe(hub.bus, 'InventoryToProjection', {
      source: [EVENT_SOURCES.erp, EVENT_SOURCES.pos, EVENT_SOURCES.hub, EVENT_SOURCES.shopify],
      detailType: ['InventoryCounted', 'InventoryAdjusted'],
    });
    // Committed stock: Shopify's order events re-read the SKUs' committed levels (fulfilments leave
    // `available` alone, so no inventory_levels/update says committed went down).
    events.subscribe(hub.bus, 'ShopifyOrdersToProjection', {
      source: [EVENT_SOURCES.shopify],
      detailType: ['OrderCreated', 'OrderUpdated', 'OrderCancelled'],
    });

    new CfnOutput(this, 'InventoryTableName', { value: this.table.tableName });
  }
}
