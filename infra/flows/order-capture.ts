import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { ORDER_KEY_PREFIX } from '#shared/repositories/ledger.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { erpPacing, orderCaptureLimit } from '../config/erp-pacing.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantIdempotency, grantPartitions } from '../constructs/hub-table.ts';
import { markLocalRole } from '../constructs/local-role.ts';
import { enableTrace } from '../constructs/trace.ts';
import { VendorSecret } from '../constructs/vendor-secret.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * Retries of the ERP order queue: backoff base and cap (s) applied by the consumer, and receives before
 * the DLQ. The first retries come within seconds (a short outage ends with the backlog moving at once),
 * then every 1–2 minutes; 125 receives wait out at least 2 hours of ERP outage (counted at the jitter's
 * lower bound) before a record is redriven — the DLQ is for what an outage cannot explain.
 */
export const ERP_RETRY = { baseSeconds: 5, capSeconds: 120, maxReceiveCount: 125 } as const;

/**
 * Order capture: OrderCreated/Updated/Cancelled (Shopify and POS) and RefundCreated (POS) → queue →
 * erp-order-sync → ERP (sales orders, cash sales, cash refunds).
 * Paced to the ERP's concurrency governance: instances × calls per instance = the account limit.
 */
export class OrderCapture extends HubFlow {
  readonly syncFunction: HubFunction;
  readonly queue: BufferedConsumer;
  /** The NetSuite M2M credentials (other flows that call the ERP read the same secret). */
  readonly credentials: VendorSecret;

  constructor(scope: Construct, id: string, hub: HubResources) {
    super(scope, id);
    const { config, tables } = hub;
    const credentials = new VendorSecret(this, 'NetSuiteCredentials', {
      description:
        'NetSuite OAuth 2.0 M2M credentials: {"accountId","clientId","certificateId","privateKeyPem"}',
      placeholderKey: 'placeholder',
      template: { accountId: config.erp.accountId },
      rotatedBy:
        'An M2M certificate key pair issued in NetSuite: rotated by uploading a new certificate there, then stored here.',
      localRole: 'netsuite-credentials',
      removalPolicy: config.removalPolicy,
    });
    this.credentials = credentials;

    // The account's limit less the inventory change feed's slot (erp-pacing.ts): together never above it.
    const pacing = erpPacing(orderCaptureLimit(config.erp.concurrencyLimit));
    this.syncFunction = new HubFunction(this, 'ErpOrderSyncFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('erp-order-sync'),
      description: 'Upserts orders into the ERP exactly once, paced to its concurrency governance',
      serviceName: 'erp-order-sync',
      timeout: Duration.seconds(60),
      reservedConcurrentExecutions: pacing.instances,
      environment: {
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        IDEMPOTENCY_TABLE_NAME: tables.idempotency.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: credentials.secretArn,
        ERP_MAX_CONCURRENCY: String(pacing.callsPerInstance),
        RETRY_BASE_SECONDS: String(ERP_RETRY.baseSeconds),
        RETRY_CAP_SECONDS: String(ERP_RETRY.capSeconds),
        NETSUITE_MAPPING_CONFIG: JSON.stringify(config.erp.mapping),
      },
    });
    // Single-item access only: the ledger reads and conditionally updates (leases, syncs) one order at a time;
    // mappings are read by key (a batch's keys at once).
    grantPartitions(
      tables.ledger,
      this.syncFunction,
      [ORDER_KEY_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    );
    tables.mappings.grant(this.syncFunction, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    // Parking is one PutItem per item (a large payload in parts); nothing is read back.
    tables.exceptions.grant(this.syncFunction, 'dynamodb:PutItem');
    grantIdempotency(tables.idempotency, this.syncFunction, IDEMPOTENCY_KEY_PREFIXES.erpOrderSync);
    credentials.grantRead(this.syncFunction);
    enableTrace(this.syncFunction, tables.trace);

    this.queue = new BufferedConsumer(this, 'ErpOrders', {
      handler: this.syncFunction,
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
    markLocalRole(this.queue.queue, 'erp-order-queue');
    this.queue.subscribe(hub.bus, 'OrdersToErp', {
      source: [EVENT_SOURCES.shopify, EVENT_SOURCES.pos],
      detailType: ['OrderCreated', 'OrderUpdated', 'OrderCancelled'],
    });
    // Refunds of POS sales become cash refunds against their cash sale, in the same paced pipeline; refunds of
    // online orders are the returns workflow's (Shopify's RefundCreated does not match).
    this.queue.subscribe(hub.bus, 'PosRefundsToErp', {
      source: [EVENT_SOURCES.pos],
      detailType: ['RefundCreated'],
    });

    new CfnOutput(this, 'NetSuiteCredentialsSecretArn', {
      value: credentials.secretArn,
      description:
        'Store the NetSuite M2M credentials here: {"accountId","clientId","certificateId","privateKeyPem"}',
    });
  }
}
