import { CfnOutput, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Policy, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnSchedule, CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { ERP_PRICE_FEED_NAME } from '#shared/flows/catalog-prices.ts';
import { FEED_KEY_PREFIX } from '#shared/repositories/inventory.ts';
import { PRICE_BOOK_PREFIX, PRICE_DUE_PREFIX } from '#shared/repositories/price-books.ts';
import { PRICE_LEASE_PREFIX } from '#shared/repositories/price-publish-lease.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantPartitions, HubTable } from '../constructs/hub-table.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * Prices and promotions (issue #16, part 1): ERP price feed and `PriceChanged` → price books → Shopify,
 * on time through EventBridge Scheduler one-time schedules.
 *
 * - `catalog-price-feed` (EventBridge Scheduler, reserved concurrency 1): polls the ERP change feed's
 *   `price` entries with its own cursor (`FEED#erp-price` in the catalog table) and publishes
 *   `PriceChanged` (source omnihub.erp).
 * - `catalog-prices` (SQS `PriceEvents`, fed by a rule on `PriceChanged` and by the price schedules):
 *   applies changes to the price books (`PRICEBOOK#`/`PRICEDUE#` items of the catalog table), creates and
 *   deletes one-time schedules in the flow's schedule group, and publishes the prices in effect to every
 *   shop (`productVariantsBulkUpdate`, paced by a cost pacer per shop). Its concurrency is limited the way
 *   AWS recommends for SQS event sources, by the mapping's `ScalingConfig.MaximumConcurrency` (2, Lambda's
 *   least), not by a reserved concurrency below it: the mapping does not count reserved concurrency, so a
 *   poller over it gets its batches throttled, and they come back only after the visibility timeout
 *   ("Configuring maximum concurrency for Amazon SQS event sources",
 *   https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-scaling.html;
 *   https://aws.amazon.com/blogs/compute/introducing-maximum-concurrency-of-aws-lambda-functions-when-using-amazon-sqs-as-an-event-source/). The two instances publish one at a time
 *   under a DynamoDB lease (`PRICELEASE#` in the catalog table, expiring with the holder's invocation):
 *   one price writer per shop at a time, the last write computed from the freshest books.
 * - The schedules' execution role may only send to the price queue; the function may pass that role
 *   and no other (`iam:PassRole`), and manage schedules of its group only.
 */
export class Catalog extends HubFlow {
  readonly table: HubTable;
  readonly pricesFunction: HubFunction;
  readonly priceFeedFunction: HubFunction;
  readonly priceEvents: BufferedConsumer;
  readonly scheduleGroupName: string;
  readonly schedulerRole: Role;

  constructor(
    scope: Construct,
    id: string,
    hub: HubResources,
    deps: {
      /** The NetSuite M2M credentials OrderCapture keeps. */
      readonly erpCredentials: ISecret;
      /** Each shop's Admin API token secret (InventorySync's), by domain. */
      readonly shopTokens: ReadonlyMap<string, ISecret>;
    },
  ) {
    super(scope, id);
    const { config, tables } = hub;
    const stack = Stack.of(this);
    this.table = new HubTable(this, 'CatalogTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      localRole: 'catalog-table',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });

    // ── The schedule group (its own, so the function's Scheduler permissions are scoped to it) ──
    // Names: ^[0-9a-zA-Z-_.]+$, 1–64 (Scheduler API Reference, CreateScheduleGroup).
    this.scheduleGroupName = `${stack.stackName}-prices`.replace(/[^0-9a-zA-Z\-_.]/g, '-').slice(0, 64);
    const group = new CfnScheduleGroup(this, 'PriceScheduleGroup', { name: this.scheduleGroupName });

    // ── The price function and its queue ──
    const shops = config.shops.map((shop) => {
      const token = deps.shopTokens.get(shop.domain);
      if (!token) throw new Error(`no Admin API token secret for ${shop.domain}`);
      return { shop, token };
    });
    this.pricesFunction = new HubFunction(this, 'CatalogPricesFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('catalog-prices'),
      description:
        'Applies PriceChanged to the price books, schedules transitions, publishes prices in effect',
      serviceName: 'catalog-prices',
      timeout: Duration.seconds(120),
      // No reserved concurrency: the event source mapping's MaximumConcurrency bounds it (below).
      environment: {
        CATALOG_TABLE_NAME: this.table.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        SCHEDULE_GROUP_NAME: this.scheduleGroupName,
        SCHEDULE_PREFIX: 'price',
        PRICE_SHOPS: JSON.stringify(
          shops.map(({ shop, token }) => ({
            domain: shop.domain,
            adminBaseUrl: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
            tokenSecretId: token.secretArn,
            currency: shop.currency,
          })),
        ),
      },
    });
    this.priceEvents = new BufferedConsumer(this, 'PriceEvents', {
      handler: this.pricesFunction,
      // A promotion of 500 SKUs is 500 events: one batch applies them together (schedules shared per instant).
      batchSize: 1000,
      maxBatchingWindow: Duration.seconds(2),
      // Two instances at most (Lambda's least MaximumConcurrency); they take turns publishing (the lease).
      maxConcurrency: 2,
      // Records come back when a due is early, the lease stays taken past an invocation's budget, or Shopify
      // or Scheduler is down: 50 receives of 120 s ride out over an hour and a half of a vendor outage.
      maxReceiveCount: 50,
      visibilityTimeout: Duration.seconds(120),
      removalPolicy: config.removalPolicy,
    });
    this.pricesFunction.addEnvironment('PRICE_QUEUE_ARN', this.priceEvents.queue.queueArn);
    this.priceEvents.subscribe(hub.bus, 'PriceChangedToPrices', {
      source: [EVENT_SOURCES.erp, EVENT_SOURCES.hub],
      detailType: ['PriceChanged'],
    });

    // The schedules' execution role: sends the due message to the price queue, nothing else
    // (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
    this.schedulerRole = new Role(this, 'PriceSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: sends price-due messages to the price queue',
    });
    this.priceEvents.queue.grant(this.schedulerRole, 'sqs:SendMessage');
    this.priceEvents.queue.encryptionMasterKey?.grant(
      this.schedulerRole,
      'kms:GenerateDataKey',
      'kms:Decrypt',
    );
    this.pricesFunction.addEnvironment('SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn);

    // The function: price books and due lists, schedules of its group, the role to pass, the tokens.
    grantPartitions(
      this.table,
      this.pricesFunction,
      [PRICE_BOOK_PREFIX, PRICE_DUE_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:BatchWriteItem',
    );
    // The publish lease: taken (conditional PutItem) and given back (conditional DeleteItem).
    grantPartitions(
      this.table,
      this.pricesFunction,
      [PRICE_LEASE_PREFIX],
      'dynamodb:PutItem',
      'dynamodb:DeleteItem',
    );
    tables.exceptions.grant(this.pricesFunction, 'dynamodb:PutItem');
    // Schedules of the flow's group only (their names are the function's: one per transition instant).
    const schedulesPolicy = new Policy(this, 'CatalogPricesSchedules', {
      statements: [
        new PolicyStatement({
          actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
          resources: [
            stack.formatArn({
              service: 'scheduler',
              resource: 'schedule',
              resourceName: `${this.scheduleGroupName}/*`,
            }),
          ],
        }),
      ],
    });
    this.pricesFunction.role?.attachInlinePolicy(schedulesPolicy);
    const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
    Validations.of(schedulesPolicy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:${region}:<AWS::AccountId>:schedule/${this.scheduleGroupName}/*]`,
      reason:
        'The price function names its schedules by transition instant at run time; the wildcard is limited to its own schedule group.',
    });
    this.schedulerRole.grantPassRole(this.pricesFunction.grantPrincipal);
    for (const { token } of shops) token.grantRead(this.pricesFunction);
    // The function calls Scheduler from its first invocation: its group and permission exist before it.
    const cfnPrices = this.pricesFunction.node.defaultChild as CfnFunction;
    cfnPrices.addResourceDependency(group);
    cfnPrices.node.addDependency(schedulesPolicy);

    // ── The ERP price feed poller (its own cursor; the on-hand poller's schedule settings) ──
    const poll = config.inventory.erpPoll;
    const erpCurrency = config.shops[0]?.currency ?? 'USD';
    this.priceFeedFunction = new HubFunction(this, 'CatalogPriceFeedFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('catalog-price-feed'),
      description: 'Polls the ERP price change feed (SuiteQL, own cursor) and publishes PriceChanged',
      serviceName: 'catalog-price-feed',
      timeout: Duration.seconds(poll.windowSeconds + 30),
      reservedConcurrentExecutions: 1,
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        CATALOG_TABLE_NAME: this.table.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: deps.erpCredentials.secretArn,
        // The ERP's base currency is taken as the first shop's (one market per currency for now).
        ERP_CURRENCY: erpCurrency,
        POLL_WINDOW_SECONDS: String(poll.windowSeconds),
        POLL_INTERVAL_MS: String(poll.intervalMs),
      },
    });
    this.priceFeedFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.seconds(60) });
    hub.grantPublish(this.priceFeedFunction, EVENT_SOURCES.erp);
    grantPartitions(
      this.table,
      this.priceFeedFunction,
      [`${FEED_KEY_PREFIX}${ERP_PRICE_FEED_NAME}`],
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    );
    deps.erpCredentials.grantRead(this.priceFeedFunction);
    const feedRole = new Role(this, 'CatalogPriceFeedSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invokes the ERP price-feed poller',
    });
    feedRole.addToPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.priceFeedFunction.functionArn],
      }),
    );
    new CfnSchedule(this, 'CatalogPriceFeedSchedule', {
      description: 'Starts a run of the ERP price-feed poller',
      scheduleExpression: poll.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.priceFeedFunction.functionArn,
        roleArn: feedRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });

    new CfnOutput(this, 'CatalogTableName', { value: this.table.tableName });
    new CfnOutput(this, 'PriceScheduleGroupName', { value: this.scheduleGroupName });
  }
}
