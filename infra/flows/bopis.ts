import { CfnOutput, Duration, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { netSuiteBaseUrl } from '#shared/connectors/netsuite/auth.ts';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from '#shared/connectors/square/api-version.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { INVENTORY_KEY_PREFIX } from '#shared/repositories/inventory.ts';
import { BopisStateMachine } from '../../state-machines/bopis/bopis-state-machine.ts';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { grantPartitions, HubTable } from '../constructs/hub-table.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

/** Partition of the location mappings (`MAP#location`): the tasks translate Shopify → ERP → Square locations. */
const LOCATION_MAPPINGS_PARTITION = 'MAP#location';

/** What BOPIS uses of the other flows: the inventory table and its availability queues, and the vendor secrets. */
export interface BopisDependencies {
  readonly inventoryTable: HubTable;
  readonly availabilityQueues: readonly BufferedConsumer[];
  readonly shopTokens: ReadonlyMap<string, ISecret>;
  readonly squareAccessToken: ISecret;
  readonly erpCredentials: ISecret;
}

/**
 * Buy online, pick up in store (issue #14): `OrderCreated` (online, pick-up) → `BopisOrders` queue →
 * `bopis-start` (one execution per order, named after it) → the `Bopis` Standard workflow
 * (state-machines/bopis) whose tasks are `bopis-tasks`; the POS's `PickupUpdated` and Shopify's
 * `OrderCancelled` → `BopisCallbacks` queue → `bopis-callbacks`, which answers the waiting task tokens
 * stored on the `Pickups` table.
 */
export class Bopis extends HubFlow {
  readonly workflow: BopisStateMachine;
  readonly pickups: HubTable;
  readonly tasksFunction: HubFunction;
  readonly startFunction: HubFunction;
  readonly callbacksFunction: HubFunction;

  constructor(scope: Construct, id: string, hub: HubResources, deps: BopisDependencies) {
    super(scope, id);
    const { config, tables } = hub;

    this.pickups = new HubTable(this, 'PickupsTable', {
      partitionKey: 'pk',
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });

    // ── The task function: every task state of the workflow ──
    this.tasksFunction = new HubFunction(this, 'BopisTasksFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('bopis-tasks'),
      description:
        'BOPIS workflow tasks: reserve, Square pick-up, Shopify fulfilment, ERP booking, compensations',
      serviceName: 'bopis-tasks',
      timeout: Duration.seconds(60),
      environment: {
        EVENT_BUS_NAME: hub.bus.eventBusName,
        INVENTORY_TABLE_NAME: deps.inventoryTable.tableName,
        MAPPINGS_TABLE_NAME: tables.mappings.tableName,
        SHOPIFY_SHOPS: JSON.stringify(
          Object.fromEntries(
            config.shops.map((shop) => [
              shop.domain,
              {
                baseUrl: config.shopifyAdminBaseUrl ?? `https://${shop.domain}`,
                tokenSecretId: deps.shopTokens.get(shop.domain)?.secretArn,
              },
            ]),
          ),
        ),
        SQUARE_BASE_URL: config.pos?.squareBaseUrl ?? SQUARE_PRODUCTION_BASE_URL,
        SQUARE_API_VERSION,
        SQUARE_ACCESS_TOKEN_SECRET_ID: deps.squareAccessToken.secretArn,
        NETSUITE_ACCOUNT_ID: config.erp.accountId,
        NETSUITE_BASE_URL: config.erp.baseUrl ?? netSuiteBaseUrl(config.erp.accountId),
        NETSUITE_CREDENTIALS_SECRET_ID: deps.erpCredentials.secretArn,
        NETSUITE_MAPPING_CONFIG: JSON.stringify(config.erp.mapping),
        AVAILABILITY_QUEUE_URLS: JSON.stringify(deps.availabilityQueues.map((q) => q.queue.queueUrl)),
        PICKUP_WINDOW_SECONDS: String(config.bopis.pickupWindowSeconds),
      },
    });
    const tasks = this.tasksFunction;
    // Reservations: TransactGetItems (GetItem per item) and TransactWriteItems (UpdateItem on positions, PutItem
    // on markers, ConditionCheckItem), in the SKU partitions only.
    grantPartitions(
      deps.inventoryTable,
      tasks,
      [INVENTORY_KEY_PREFIX],
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:ConditionCheckItem',
    );
    grantPartitions(
      tables.mappings,
      tasks,
      [LOCATION_MAPPINGS_PARTITION],
      'dynamodb:GetItem',
      'dynamodb:Query',
    );
    for (const { queue } of deps.availabilityQueues) {
      // SendMessageBatch is authorized as sqs:SendMessage; an SSE-KMS producer needs GenerateDataKey and Decrypt.
      queue.grant(tasks, 'sqs:SendMessage');
      queue.encryptionMasterKey?.grant(tasks, 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    hub.grantPublish(tasks, EVENT_SOURCES.hub);
    for (const secret of [...deps.shopTokens.values(), deps.squareAccessToken, deps.erpCredentials])
      secret.grantRead(tasks);

    // ── The workflow ──
    this.workflow = new BopisStateMachine(this, 'Bopis', {
      tasks,
      pickups: this.pickups,
      prepareWindow: Duration.seconds(config.bopis.prepareWindowSeconds),
      pickupWindow: Duration.seconds(config.bopis.pickupWindowSeconds),
      logRetention: config.logRetention,
      removalPolicy: config.removalPolicy,
    });
    const stateMachine = this.workflow.workflow.stateMachine;

    // ── Start: one execution per online pick-up order ──
    this.startFunction = new HubFunction(this, 'BopisStartFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('bopis-start'),
      description: 'Starts one BOPIS workflow per online pick-up order (execution name = the order)',
      serviceName: 'bopis-start',
      timeout: Duration.seconds(30),
      environment: { STATE_MACHINE_ARN: stateMachine.stateMachineArn },
    });
    stateMachine.grantStartExecution(this.startFunction);
    const orders = new BufferedConsumer(this, 'BopisOrders', {
      handler: this.startFunction,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: 2,
      maxReceiveCount: 10,
      removalPolicy: config.removalPolicy,
    });
    orders.subscribe(hub.bus, 'PickupOrdersToBopis', {
      source: [EVENT_SOURCES.shopify],
      detailType: ['OrderCreated'],
      detail: { data: { channel: ['online'], fulfilmentMethod: ['pickup'] } },
    });

    // ── Callbacks: the POS's pick-up states and Shopify cancellations answer the waiting tokens ──
    this.callbacksFunction = new HubFunction(this, 'BopisCallbacksFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('bopis-callbacks'),
      description: 'Answers the BOPIS task tokens from the POS pick-up states and order cancellations',
      serviceName: 'bopis-callbacks',
      timeout: Duration.seconds(30),
      environment: { PICKUPS_TABLE_NAME: this.pickups.tableName },
    });
    this.pickups.grant(this.callbacksFunction, 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    // SendTaskSuccess/SendTaskFailure support no resource-level permissions ("Resource types" empty in
    // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsstepfunctions.html): "*",
    // and only these two (no heartbeat: the waits have none).
    this.callbacksFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ['states:SendTaskSuccess', 'states:SendTaskFailure'],
        resources: ['*'],
      }),
    );
    Validations.of(this.callbacksFunction.role as Construct).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'states:SendTaskSuccess and states:SendTaskFailure support no resource-level permissions (AWS Service Authorization Reference): the task token is the authorization.',
    });
    const callbacks = new BufferedConsumer(this, 'BopisCallbacks', {
      handler: this.callbacksFunction,
      batchSize: 10,
      maxBatchingWindow: Duration.seconds(1),
      maxConcurrency: 2,
      maxReceiveCount: 10,
      removalPolicy: config.removalPolicy,
    });
    callbacks.subscribe(hub.bus, 'PickupUpdatesToBopis', {
      source: [EVENT_SOURCES.pos],
      detailType: ['PickupUpdated'],
    });
    callbacks.subscribe(hub.bus, 'PickupCancellationsToBopis', {
      source: [EVENT_SOURCES.shopify],
      detailType: ['OrderCancelled'],
      detail: { data: { fulfilmentMethod: ['pickup'] } },
    });

    new CfnOutput(this, 'BopisStateMachineArn', { value: stateMachine.stateMachineArn });
  }
}
