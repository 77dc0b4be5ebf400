import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { ORDER_KEY_PREFIX } from '#shared/repositories/ledger.ts';
import { OmnichannelReturn } from '../../state-machines/omnichannel-return/omnichannel-return.ts';
import { ERP_SLOTS_FOR_RETURNS } from '../config/erp-pacing.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantPartitions } from '../constructs/hub-table.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/**
 * Omnichannel returns (issue #14): a Shopify refund that returns units (`RefundCreated` from
 * omnihub.shopify) or an online order returned at a store (`StoreReturnRecorded` from omnihub.pos) → queue → `return-trigger` (publishes `ReturnRequested`, starts one execution named by
 * the return id) → the `OmnichannelReturn` Standard workflow: match (ledger) → Shopify return + refund
 * (skipped when Shopify triggered) → ERP credit memo (its own slot of the ERP's concurrency limit,
 * retried, then parked on a task token) → disposition (`InventoryAdjusted`) → `ReturnCompleted`.
 */
export class Returns extends HubFlow {
  readonly workflow: OmnichannelReturn;
  readonly triggerFunction: HubFunction;
  readonly stepsFunction: HubFunction;
  readonly erpFunction: HubFunction;
  readonly shopifyFunction: HubFunction;

  constructor(
    scope: Construct,
    id: string,
    hub: HubResources,
    deps: {
      /** The NetSuite M2M credentials OrderCapture keeps. */
      readonly credentials: ISecret;
      /** Each shop's Admin API token (InventorySync keeps them), by shop domain. */
      readonly shopifyTokens: ReadonlyMap<string, ISecret>;
    },
  ) {
    super(scope, id);
    const { config, tables } = hub;

    this.stepsFunction = new HubFunction(this, 'ReturnStepsFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('return-steps'),
      description: 'Omnichannel return: match the order, park, disposition, ReturnCompleted',
      serviceName: 'return-steps',
      timeout: Duration.seconds(30),
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        LEDGER_TABLE_NAME: tables.ledger.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
      },
    });
    // Reads the order's sync entry (one item); parks (one PutItem per item); publishes as the hub.
    grantPartitions(tables.ledger, this.stepsFunction, [ORDER_KEY_PREFIX], 'dynamodb:GetItem');
    tables.exceptions.grant(this.stepsFunction, 'dynamodb:PutItem');
    hub.grantPublish(this.stepsFunction, EVENT_SOURCES.hub);

    this.erpFunction = new HubFunction(this, 'ReturnErpFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('return-erp'),
      description: 'Omnichannel return: the ERP credit memo (return authorization → credit memo), once',
      serviceName: 'return-erp',
      timeout: Duration.seconds(60),
      // Its slot of the account's concurrency limit (erp-pacing.ts): one instance, one call at a time.
      reservedConcurrentExecutions: ERP_SLOTS_FOR_RETURNS,
      environment: {
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: deps.credentials.secretArn,
        ERP_MAX_CONCURRENCY: '1',
        NETSUITE_MAPPING_CONFIG: JSON.stringify(config.erp.mapping),
      },
    });
    tables.mappings.grant(this.erpFunction, 'dynamodb:GetItem');
    deps.credentials.grantRead(this.erpFunction);

    const shops = config.shops.map((shop) => {
      const token = deps.shopifyTokens.get(shop.domain);
      if (!token) throw new Error(`Returns: no Shopify Admin token for ${shop.domain}`);
      return {
        domain: shop.domain,
        baseUrl: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
        tokenSecretId: token.secretArn,
        token,
      };
    });
    this.shopifyFunction = new HubFunction(this, 'ReturnShopifyFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('return-shopify'),
      description: 'Omnichannel return: Shopify returnCreate + returnProcess with the refund, or its cancel',
      serviceName: 'return-shopify',
      timeout: Duration.seconds(30),
      environment: {
        SHOPIFY_SHOPS: JSON.stringify(shops.map(({ token: _token, ...shop }) => shop)),
      },
    });
    for (const shop of shops) shop.token.grantRead(this.shopifyFunction);

    this.workflow = new OmnichannelReturn(this, 'OmnichannelReturn', {
      steps: this.stepsFunction,
      erp: this.erpFunction,
      shopify: this.shopifyFunction,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const { stateMachine } = this.workflow.workflow;

    this.triggerFunction = new HubFunction(this, 'ReturnTriggerFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('return-trigger'),
      description: 'Starts one omnichannel-return execution per return (named by the return id)',
      serviceName: 'return-trigger',
      timeout: Duration.seconds(30),
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        STATE_MACHINE_ARN: stateMachine.stateMachineArn,
        // A store return names its online order by number: the trigger looks it up (read only).
        SHOPIFY_SHOPS: JSON.stringify(shops.map(({ token: _token, ...shop }) => shop)),
      },
    });
    hub.grantPublish(this.triggerFunction, EVENT_SOURCES.hub);
    stateMachine.grantStartExecution(this.triggerFunction);
    for (const shop of shops) shop.token.grantRead(this.triggerFunction);

    const triggers = new BufferedConsumer(this, 'ReturnTriggers', {
      handler: this.triggerFunction,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: 2,
      maxReceiveCount: 10,
      visibilityTimeout: Duration.seconds(60),
      removalPolicy: config.removalPolicy,
    });
    // Refunds of online orders (Shopify's): the workflow decides whether one is a return. POS refunds of POS
    // sales are order capture's (cash refunds).
    triggers.subscribe(hub.bus, 'ShopifyRefundsToReturns', {
      source: [EVENT_SOURCES.shopify],
      detailType: ['RefundCreated'],
    });
    // Online orders returned and refunded at a store (the POS ingress's unlinked refunds of unlinked returns).
    triggers.subscribe(hub.bus, 'StoreReturnsToReturns', {
      source: [EVENT_SOURCES.pos],
      detailType: ['StoreReturnRecorded'],
    });

    new CfnOutput(this, 'OmnichannelReturnStateMachineArn', { value: stateMachine.stateMachineArn });
  }
}
