import { type CfnElement, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { EventBus } from 'aws-cdk-lib/aws-events';
import * as cxapi from 'aws-cdk-lib/cx-api';
import type { Construct } from 'constructs';
import { COMPLIANCE_DETAIL_TYPES } from '#shared/events/compliance.ts';
import type { EnvironmentConfig } from '../config/environments.ts';
import type { LocalRole } from '../config/local-roles.ts';
import { HubBus } from '../constructs/hub-bus.ts';
import { HubKey } from '../constructs/hub-key.ts';
import { HubMonitoring } from '../constructs/hub-monitoring.ts';
import { HubTable } from '../constructs/hub-table.ts';
import { WebhookApi } from '../constructs/webhook-api.ts';
import { Bopis } from '../flows/bopis.ts';
import { Catalog } from '../flows/catalog.ts';
import { Finance } from '../flows/finance.ts';
import { HubFlow, type HubResources } from '../flows/hub-flow.ts';
import { InventorySync } from '../flows/inventory-sync.ts';
import { Operations } from '../flows/operations.ts';
import { OrderCapture } from '../flows/order-capture.ts';
import { PosIngress } from '../flows/pos-ingress.ts';
import { Privacy, withSubjectIndex } from '../flows/privacy.ts';
import { Reconciliation } from '../flows/reconciliation.ts';
import { Returns } from '../flows/returns.ts';
import { ShopifyIngress } from '../flows/shopify-ingress.ts';
import { logicalIdWithout } from './logical-ids.ts';

export interface HubStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  /**
   * More resources, made after the flows and before Operations and the monitoring walk the stack (so they
   * get their alarms): test harnesses only (the e2e probe consumer and workflow).
   */
  readonly extraFlows?: (stack: HubStack, config: EnvironmentConfig) => void;
}

/**
 * One Omnihub environment: the resources every flow shares (bus and archive, webhook API, shared
 * tables), then one line per flow. A new flow is a construct in `infra/flows/` and a line here.
 */
export class HubStack extends Stack {
  readonly hub: HubResources;
  readonly bus: EventBus;
  readonly webhookApi: WebhookApi;

  constructor(scope: Construct, id: string, props: HubStackProps) {
    super(scope, id, props);
    // EventBridge's delivery to a queue encrypted with the hub key: CDK's key grant to events.amazonaws.com
    // is limited to this account (aws:SourceAccount) with this flag, unconditioned without it (a rule ARN
    // would be a cycle). Set on the stack before any construct reads it.
    this.node.setContext(cxapi.EVENTS_TARGET_QUEUE_SAME_ACCOUNT, true);
    const { config } = props;
    // First: the constructs after it find it (`HubKey.of`) and encrypt what they store with it.
    if (config.encryption === 'customer-managed') {
      new HubKey(this, { alias: `alias/omnihub-${config.name}`, removalPolicy: config.removalPolicy });
    }

    const publishing = new HubBus(this, 'Publishing', {
      busName: `omnihub-${config.name}`,
      archiveName: `omnihub-${config.name}-all`,
      archiveRetention: Duration.days(config.archiveRetentionDays),
      // A compliance request is applied once by the privacy flow: the archive neither keeps it nor replays it.
      archiveExcludes: COMPLIANCE_DETAIL_TYPES,
    });
    const { bus } = publishing;
    const table = (
      tableId: string,
      role: LocalRole,
      keys: { partitionKey: string; sortKey?: string; ttl?: string },
    ) =>
      new HubTable(this, tableId, {
        localRole: role,
        partitionKey: keys.partitionKey,
        ...(keys.sortKey ? { sortKey: keys.sortKey } : {}),
        ...(keys.ttl ? { timeToLiveAttribute: keys.ttl } : {}),
        pointInTimeRecovery: config.pointInTimeRecovery,
        removalPolicy: config.removalPolicy,
      });

    this.bus = bus;
    const functionDefaults = {
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      logLevel: config.logLevel,
    };
    this.webhookApi = new WebhookApi(this, 'WebhookApi', {
      throttle: config.webhookThrottle,
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
      ...(config.waf?.webAclArn ? { edge: { webAclArn: config.waf.webAclArn, functionDefaults } } : {}),
    });
    this.hub = {
      config,
      bus,
      grantPublish: (grantee, source) => publishing.grantPublish(grantee, source),
      webhookApi: this.webhookApi,
      tables: {
        idempotency: table('IdempotencyTable', 'idempotency-table', {
          partitionKey: 'id',
          ttl: 'expiration',
        }),
        exceptions: withSubjectIndex(
          table('ExceptionsTable', 'exceptions-table', {
            partitionKey: 'pk',
            sortKey: 'sk',
            ttl: 'expiresAt',
          }),
        ),
        ledger: table('LedgerTable', 'ledger-table', { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' }),
        mappings: table('MappingsTable', 'mappings-table', { partitionKey: 'pk', sortKey: 'sk' }),
        trace: table('TraceTable', 'trace-table', { partitionKey: 'pk', sortKey: 'sk', ttl: 'expiresAt' }),
      },
      functionDefaults,
    };

    new ShopifyIngress(this, 'ShopifyIngress', this.hub);
    const pos = new PosIngress(this, 'PosIngress', this.hub);
    const orders = new OrderCapture(this, 'OrderCapture', this.hub);
    new Privacy(this, 'Privacy', this.hub);
    const inventory = new InventorySync(this, 'InventorySync', this.hub, {
      credentials: orders.credentials,
      squareToken: pos.accessToken,
    });
    const catalog = new Catalog(this, 'Catalog', this.hub, {
      erpCredentials: orders.credentials,
      shopTokens: inventory.shopTokens,
    });
    new Bopis(this, 'Bopis', this.hub, {
      inventoryTable: inventory.table,
      availabilityQueues: inventory.availabilityQueues,
      shopTokens: inventory.shopTokens,
      squareAccessToken: pos.accessToken,
      erpCredentials: orders.credentials,
    });
    new Returns(this, 'Returns', this.hub, {
      credentials: orders.credentials,
      shopifyTokens: inventory.shopTokens,
    });
    new Reconciliation(this, 'Reconciliation', this.hub, {
      erpCredentials: orders.credentials,
      squareAccessToken: pos.accessToken,
      inventory,
      catalog,
    });
    if (config.finance)
      new Finance(this, 'Finance', this.hub, config.finance, { credentials: orders.credentials });
    props.extraFlows?.(this, config);
    // Keep these two last: they walk the flows above (queues, functions, state machines, alarms).
    new Operations(this, 'Operations', this.hub, { exceptionQueues: { 'erp-order': orders.queue.queue } });
    new HubMonitoring(this, 'Monitoring', { config, webhookApi: this.webhookApi });

    new CfnOutput(this, 'EventBusName', { value: bus.eventBusName });
    new CfnOutput(this, 'MappingsTableName', {
      value: this.hub.tables.mappings.tableName,
      description: 'Load the SKU, location and payment-method mappings here (npm run ops -- load-mappings)',
    });
  }

  /** Flows are scopes of the construct tree, not of logical ids (see `HubFlow`). */
  protected override allocateLogicalId(element: CfnElement): string {
    return logicalIdWithout(element, (scope) => scope instanceof HubFlow);
  }
}
