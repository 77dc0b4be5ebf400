import { CfnOutput, Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { FINANCE_POSTING_PREFIX } from '#shared/repositories/finance-postings.ts';
import { ORDER_KEY_PREFIX } from '#shared/repositories/ledger.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import type { FinanceConfig } from '../config/environments.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantIdempotency, grantPartitions } from '../constructs/hub-table.ts';
import { VendorSecret } from '../constructs/vendor-secret.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/** `acme.myshopify.com` → `Acme`: a construct id part per shop. */
const shopIdPart = (domain: string) =>
  (domain.split('.')[0] ?? domain)
    .split(/[^A-Za-z0-9]+/)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/**
 * Financial posting (issue #16): EventBridge Scheduler → finance-collector (Shopify Payments payouts of
 * every shop, Square takings per store and business day) → `PayoutReceived` / `StoreTakingsClosed` →
 * queue → finance-poster → NetSuite journal entries, balanced to the cent, one per payout and store-day
 * (upsert by external id), a payout that does not balance against the booked orders parked with the
 * difference. The poster is one instance making one ERP call at a time (a handful of postings a day).
 */
export class Finance extends HubFlow {
  readonly collectorFunction: HubFunction;
  readonly posterFunction: HubFunction;
  readonly queue: BufferedConsumer;

  constructor(
    scope: Construct,
    id: string,
    hub: HubResources,
    finance: FinanceConfig,
    erp: { readonly credentials: ISecret },
  ) {
    super(scope, id);
    const { config, tables } = hub;

    // Own, narrower tokens: payouts need the `read_shopify_payments_payouts` scope, takings Square's PAYMENTS_READ.
    const shops = config.shops.map((shop) => ({
      shop,
      token: new VendorSecret(this, `ShopifyPayoutsToken${shopIdPart(shop.domain)}`, {
        description: `Shopify Admin API token of ${shop.domain} with read_shopify_payments_payouts: {"accessToken": "..."}`,
        placeholderKey: 'accessToken',
        placeholderLength: 64,
        rotatedBy:
          'Issued by Shopify when the shop installs the app (offline access token, read_shopify_payments_payouts scope): replaced by its OAuth flow, then stored here.',
        localRole: 'shopify-admin-token',
        removalPolicy: config.removalPolicy,
      }),
    }));
    const squareToken = new VendorSecret(this, 'SquarePaymentsToken', {
      description:
        'Square access token with PAYMENTS_READ (finance reads payments and refunds): {"accessToken": "..."}',
      placeholderKey: 'accessToken',
      placeholderLength: 64,
      rotatedBy:
        'Issued by Square (access token of the seller account, PAYMENTS_READ): replaced in the Developer Console or by its OAuth flow, then stored here.',
      localRole: 'square-access-token',
      removalPolicy: config.removalPolicy,
    });

    this.collectorFunction = new HubFunction(this, 'FinanceCollectorFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('finance-collector'),
      description: 'Reads Shopify Payments payouts and POS store takings and publishes them for posting',
      serviceName: 'finance-collector',
      timeout: Duration.seconds(300),
      // One run at a time: two would publish the same documents (harmless, but twice the reads).
      reservedConcurrentExecutions: 1,
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        FINANCE_SHOPS: JSON.stringify(
          shops.map(({ shop, token }) => ({
            domain: shop.domain,
            baseUrl: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
            tokenSecretId: token.secretArn,
          })),
        ),
        SQUARE_ACCESS_TOKEN_SECRET_ID: squareToken.secretArn,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        ...(config.pos?.merchantIds ? { SQUARE_MERCHANT_IDS: JSON.stringify(config.pos.merchantIds) } : {}),
        PAYOUT_LOOKBACK_DAYS: String(finance.payoutLookbackDays),
        TAKINGS_LOOKBACK_DAYS: String(finance.takingsLookbackDays),
        CLOSE_GRACE_MINUTES: String(finance.closeGraceMinutes),
      },
    });
    // A failed run is covered by the next one (it republishes its whole window): no retries.
    this.collectorFunction.configureAsyncInvoke({ retryAttempts: 0 });
    hub.grantPublish(this.collectorFunction, EVENT_SOURCES.shopify);
    hub.grantPublish(this.collectorFunction, EVENT_SOURCES.pos);
    for (const { token } of shops) token.grantRead(this.collectorFunction);
    squareToken.grantRead(this.collectorFunction);

    this.posterFunction = new HubFunction(this, 'FinancePosterFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('finance-poster'),
      description: 'Posts payouts and store takings to the ERP as balanced journal entries, once each',
      serviceName: 'finance-poster',
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: 1,
      environment: {
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        IDEMPOTENCY_TABLE_NAME: tables.idempotency.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: erp.credentials.secretArn,
        ERP_MAX_CONCURRENCY: '1',
        RETRY_BASE_SECONDS: '5',
        RETRY_CAP_SECONDS: '300',
        NETSUITE_MAPPING_CONFIG: JSON.stringify(config.erp.mapping),
        FINANCE_ACCOUNTS: JSON.stringify(finance.accounts),
        BOOKING_GRACE_SECONDS: String(finance.bookingGraceSeconds),
      },
    });
    // Booked orders are read one by one (never written); postings are read and conditionally updated.
    grantPartitions(tables.ledger, this.posterFunction, [ORDER_KEY_PREFIX], 'dynamodb:GetItem');
    grantPartitions(
      tables.ledger,
      this.posterFunction,
      [FINANCE_POSTING_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    );
    tables.exceptions.grant(this.posterFunction, 'dynamodb:PutItem');
    grantIdempotency(tables.idempotency, this.posterFunction, IDEMPOTENCY_KEY_PREFIXES.financePoster);
    erp.credentials.grantRead(this.posterFunction);

    this.queue = new BufferedConsumer(this, 'FinancePostings', {
      handler: this.posterFunction,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      // Lambda's least; reserved concurrency 1 keeps one instance (the ERP path is paced to one call).
      maxConcurrency: 2,
      // Retries back off to 5 minutes (the consumer sets the visibility): 60 receives wait out hours of ERP outage
      // and a payout's bookings still on their way.
      maxReceiveCount: 60,
      visibilityTimeout: Duration.seconds(120),
      removalPolicy: config.removalPolicy,
    });
    this.queue.subscribe(hub.bus, 'PayoutsToErp', {
      source: [EVENT_SOURCES.shopify],
      detailType: ['PayoutReceived'],
    });
    this.queue.subscribe(hub.bus, 'StoreTakingsToErp', {
      source: [EVENT_SOURCES.pos],
      detailType: ['StoreTakingsClosed'],
    });

    const schedulerRole = new Role(this, 'FinanceCollectorSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invokes the finance collector',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.collectorFunction.functionArn],
      }),
    );
    new CfnSchedule(this, 'FinanceCollectorSchedule', {
      description: 'Runs the finance collector (Shopify payouts, POS store takings)',
      scheduleExpression: finance.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.collectorFunction.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });

    new CfnOutput(this, 'SquarePaymentsTokenSecretArn', {
      value: squareToken.secretArn,
      description: 'Store the Square access token (PAYMENTS_READ) here: {"accessToken":"..."}',
    });
  }
}
