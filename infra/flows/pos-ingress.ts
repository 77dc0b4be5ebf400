import { CfnOutput, Duration } from 'aws-cdk-lib';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnSchedule } from 'aws-cdk-lib/aws-scheduler';
import type { Construct } from 'constructs';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { POS_MARKER_PREFIX } from '#shared/repositories/pos-orders.ts';
import { POS_SWEEP_PREFIX } from '#shared/repositories/pos-sweep-cursor.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantIdempotency, grantPartitions } from '../constructs/hub-table.ts';
import { enableTrace } from '../constructs/trace.ts';
import { VendorSecret } from '../constructs/vendor-secret.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * POS ingress: Square webhooks (payments, refunds, orders made through the API) → pos-webhook →
 * OrderCreated/Updated/Cancelled and RefundCreated (source omnihub.pos), and the scheduled sweep
 * (EventBridge Scheduler → pos-sweep: SearchOrders for what webhooks missed, through the same capture
 * path). Square's events carry no lines, so both read orders (and the SKUs of their variations) from the
 * Square API with an access token kept in Secrets Manager, and mark in the ledger what they captured
 * (single-item reads and updates in their own partitions only).
 */
export class PosIngress extends HubFlow {
  readonly webhookFunction: HubFunction;
  readonly sweepFunction: HubFunction;
  /** The Square access token (the reconciler reads orders with it; BOPIS creates and cancels pick-up orders; the inventory flow's POS publisher writes store counts). */
  readonly accessToken: VendorSecret;

  constructor(scope: Construct, id: string, hub: HubResources) {
    super(scope, id);
    const { config, tables } = hub;
    const signatureKey = new VendorSecret(this, 'SquareSignatureKey', {
      description: 'Square webhook subscription signature key: {"current": "...", "previous": "..."}',
      placeholderKey: 'current',
      placeholderLength: 64,
      rotatedBy:
        'Issued by Square per webhook subscription: rotated in the Developer Console, then stored here as "current" with the old one as "previous".',
      localRole: 'square-signature-key',
      removalPolicy: config.removalPolicy,
    });
    const accessToken = new VendorSecret(this, 'SquareAccessToken', {
      description: 'Square access token the hub reads orders and the catalog with: {"accessToken": "..."}',
      placeholderKey: 'accessToken',
      placeholderLength: 64,
      rotatedBy:
        'Issued by Square (access token of the seller account): replaced in the Developer Console or by its OAuth flow, then stored here.',
      localRole: 'square-access-token',
      removalPolicy: config.removalPolicy,
    });
    this.accessToken = accessToken;

    this.webhookFunction = new HubFunction(this, 'PosWebhookFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('pos-webhook'),
      description:
        'Verifies Square webhooks, reads the order and publishes canonical order and refund events',
      serviceName: 'pos-webhook',
      // Square waits 10 s for an answer; a slower delivery is retried by Square anyway.
      timeout: Duration.seconds(10),
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        IDEMPOTENCY_TABLE_NAME: tables.idempotency.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        SQUARE_SIGNATURE_KEY_SECRET_ID: signatureKey.secretArn,
        SQUARE_ACCESS_TOKEN_SECRET_ID: accessToken.secretArn,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        ...(config.pos?.notificationUrl ? { SQUARE_NOTIFICATION_URL: config.pos.notificationUrl } : {}),
        ...(config.pos?.merchantIds ? { SQUARE_MERCHANT_IDS: JSON.stringify(config.pos.merchantIds) } : {}),
        MAX_BODY_BYTES: String(config.maxWebhookBodyBytes),
      },
    });
    hub.grantPublish(this.webhookFunction, EVENT_SOURCES.pos);
    grantIdempotency(tables.idempotency, this.webhookFunction, IDEMPOTENCY_KEY_PREFIXES.posWebhook);
    // Parking is one PutItem per item (a large payload in parts); nothing is read back.
    tables.exceptions.grant(this.webhookFunction, 'dynamodb:PutItem');
    // The first-completion marker is one UpdateItem per order, in its own partitions: never an ERP lease.
    grantPartitions(tables.ledger, this.webhookFunction, [POS_MARKER_PREFIX], 'dynamodb:UpdateItem');
    signatureKey.grantRead(this.webhookFunction);
    accessToken.grantRead(this.webhookFunction);
    enableTrace(this.webhookFunction, tables.trace);
    hub.webhookApi.addWebhookRoute('/webhooks/pos', this.webhookFunction);

    this.sweepFunction = new HubFunction(this, 'PosSweepFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('pos-sweep'),
      description: 'Finds POS sales and refunds the webhooks missed (Square SearchOrders) and captures them',
      serviceName: 'pos-sweep',
      timeout: Duration.seconds(120),
      // One sweep at a time: two would read the same range and race on the cursor.
      reservedConcurrentExecutions: 1,
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        SQUARE_ACCESS_TOKEN_SECRET_ID: accessToken.secretArn,
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        ...(config.pos?.merchantIds ? { SQUARE_MERCHANT_IDS: JSON.stringify(config.pos.merchantIds) } : {}),
        SWEEP_OVERLAP_SECONDS: String(config.posSweep.overlapSeconds),
        SWEEP_INITIAL_LOOKBACK_SECONDS: String(config.posSweep.initialLookbackSeconds),
      },
    });
    // A failed run is covered by the next one (the cursor only moves after a complete run): no retries.
    this.sweepFunction.configureAsyncInvoke({ retryAttempts: 0 });
    hub.grantPublish(this.sweepFunction, EVENT_SOURCES.pos);
    tables.exceptions.grant(this.sweepFunction, 'dynamodb:PutItem');
    // The capture markers (read to skip what webhooks captured, raised after a capture) and the cursor.
    grantPartitions(
      tables.ledger,
      this.sweepFunction,
      [POS_MARKER_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:UpdateItem',
    );
    grantPartitions(
      tables.ledger,
      this.sweepFunction,
      [POS_SWEEP_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:PutItem',
    );
    accessToken.grantRead(this.sweepFunction);

    // EventBridge Scheduler invokes the sweep with a role that may invoke this function and nothing else.
    const schedulerRole = new Role(this, 'PosSweepSchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler: invokes the POS sweep',
    });
    schedulerRole.addToPolicy(
      new PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.sweepFunction.functionArn],
      }),
    );
    new CfnSchedule(this, 'PosSweepSchedule', {
      description: 'Runs the POS sweep (Square SearchOrders for sales and refunds the webhooks missed)',
      scheduleExpression: config.posSweep.schedule,
      flexibleTimeWindow: { mode: 'OFF' },
      target: {
        arn: this.sweepFunction.functionArn,
        roleArn: schedulerRole.roleArn,
        retryPolicy: { maximumRetryAttempts: 0 },
      },
    });

    new CfnOutput(this, 'PosWebhookUrl', {
      value: hub.webhookApi.url('/webhooks/pos'),
      description:
        'Register this URL for the Square webhook subscription (payment.created, payment.updated, refund.created, refund.updated, order.created, order.updated, order.fulfillment.updated, inventory.count.updated)',
    });
    new CfnOutput(this, 'SquareSignatureKeySecretArn', {
      value: signatureKey.secretArn,
      description: 'Store the signature key of the Square subscription here: {"current":"..."}',
    });
    new CfnOutput(this, 'SquareBaseUrl', {
      value: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
      description: 'The Square API this stack calls (production or the Square sandbox)',
    });
    new CfnOutput(this, 'SquareAccessTokenSecretArn', {
      value: accessToken.secretArn,
      description: 'Store the Square access token here: {"accessToken":"..."}',
    });
  }
}
