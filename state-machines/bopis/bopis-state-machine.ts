import { type CfnElement, Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Errors,
  Fail,
  IntegrationPattern,
  JsonPath,
  Pass,
  Result,
  StateMachineType,
  Succeed,
  TaskInput,
  type TaskStateBase,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import {
  CallAwsService,
  DynamoAttributeValue,
  DynamoGetItem,
  LambdaInvoke,
} from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { HubStateMachine } from '../hub-state-machine.ts';

/**
 * The error names of the task Lambda (shared/flows/bopis/tasks.ts): a transient one is retried here, a
 * permanent one is not (it goes straight to the catch), and the callbacks' task failures.
 */
export const BOPIS_ERRORS = {
  transient: 'BopisTransientError',
  permanent: 'BopisPermanentError',
  /** SendTaskFailure from bopis-callbacks: the Shopify order was cancelled while the pick-up waited. */
  orderCancelled: 'Bopis.OrderCancelled',
  /** SendTaskFailure from bopis-callbacks: the store cancelled the pick-up in the POS. */
  pickupCancelled: 'Bopis.PickupCancelled',
} as const;

/** Why a pick-up was compensated: the `outcome.reason` of the execution's output. */
export type CompensationReason = 'STOCK_UNAVAILABLE' | 'WINDOW_EXPIRED' | 'ORDER_CANCELLED' | 'STEP_FAILED';

export interface BopisStateMachineProps {
  /** The task Lambda (`functions/bopis-tasks`): `{task, ...}` → the task's result. */
  readonly tasks: IFunction;
  /** The pick-up table: one item per pick-up (`pk = PICKUP#<origin>`) with the waiting task token. */
  readonly pickups: ITable;
  /** How long the store has to prepare the pick-up once it is handed over. */
  readonly prepareWindow: Duration;
  /** How long the customer has to collect once it is ready (the pick-up window; default 72 h in config). */
  readonly pickupWindow: Duration;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * Buy online, pick up in store (issue #14): **Standard** — an execution waits hours to days for people
 * (the store preparing, the customer collecting) on task tokens, which Express does not offer, and each
 * step runs exactly once, which the reservation and the vendor writes rely on.
 *
 * ```
 * Locate → Reserve ─(short)──────────────────────────────┐
 *            └→ CreatePosPickup → WaitPrepared* → MarkPrepared → WaitCollected* ─┐      │
 *   Fulfil ← (COMPLETED) ←──────────────────────────────────────────────────┘      │
 *   Fulfil → ConvertToSale → BookErp → Collected                                    ▼
 *   (expired / cancelled / failed) → Release → CancelPosPickup → CancelOrder → CloseErp → Notify
 * ```
 * `*` a wait stores its task token on the pick-up item (`UpdateItem.waitForTaskToken`, a direct SDK
 * integration: no Lambda only to store a token); its condition refuses to wait when the POS already moved
 * past the stage or the order was cancelled (the callback came first), and `Inspect` then routes on
 * what the item says. Everything before the collection is undone by the compensations, each retried and
 * idempotent; after the collection the goods have left the store, so nothing is undone: the remaining
 * steps retry, and an execution that still fails stays FAILED (alarm) for a redrive from that step.
 */
export class BopisStateMachine extends Construct {
  readonly workflow: HubStateMachine;

  constructor(scope: Construct, id: string, props: BopisStateMachineProps) {
    super(scope, id);
    const task = (
      stateId: string,
      name: string,
      resultPath: string | undefined,
      comment: string,
      afterCollection = false,
    ) => {
      const invoke = new LambdaInvoke(this, stateId, {
        lambdaFunction: props.tasks,
        comment,
        payload: TaskInput.fromObject({
          task: name,
          order: JsonPath.objectAt('$.order'),
          lines: JsonPath.listAt('$.lines'),
          pickup: JsonPath.objectAt('$.pickup'),
          pos: JsonPath.objectAt('$.pos'),
          outcome: JsonPath.objectAt('$.outcome'),
        }),
        payloadResponseOnly: true,
        resultPath: resultPath ?? JsonPath.DISCARD,
        retryOnServiceExceptions: true,
      });
      invoke.addRetry(
        afterCollection
          ? // After the collection nothing is undone: retry long enough to ride out an ERP outage.
            {
              errors: [BOPIS_ERRORS.transient, 'Lambda.Unknown'],
              interval: Duration.seconds(30),
              backoffRate: 2,
              maxAttempts: 8,
              maxDelay: Duration.minutes(30),
            }
          : {
              errors: [BOPIS_ERRORS.transient, 'Lambda.Unknown'],
              interval: Duration.seconds(2),
              backoffRate: 2,
              maxAttempts: 6,
              maxDelay: Duration.minutes(1),
            },
      );
      return invoke;
    };

    // Optional fields a task payload names ($.pickup, $.pos, $.outcome) exist from the start (empty),
    // so a path never fails on a field a later step sets.
    const init = new Pass(this, 'Start', {
      comment: 'Names the fields later steps set, so every task payload path resolves',
      parameters: {
        'order.$': '$.order',
        'lines.$': '$.lines',
        pickup: {},
        pos: {},
        outcome: {},
      },
    });
    const locate = task(
      'Locate',
      'locate',
      '$.pickup',
      "The order's pick-up fulfillment order and store (Shopify, mappings)",
    );
    const reserve = task('Reserve', 'reserve', '$.reservation', 'Holds every line at the store, all or none');
    const createPosPickup = task(
      'CreatePosPickup',
      'createPosPickup',
      '$.pos',
      'Square pick-up order (PICKUP fulfilment, recipient read from Shopify now, idempotency key)',
    );
    const markPrepared = task(
      'MarkPrepared',
      'markPrepared',
      undefined,
      'Shopify fulfillmentOrderLineItemsPreparedForPickup: the customer is told it is ready',
    );
    const fulfil = task(
      'FulfilInShopify',
      'fulfil',
      undefined,
      'Shopify fulfillmentCreate for the pick-up',
      true,
    );
    const convert = task(
      'ConvertToSale',
      'convertToSale',
      undefined,
      'The held units become a pending sale',
      true,
    );
    const bookErp = task(
      'BookInErp',
      'bookErp',
      undefined,
      "NetSuite item fulfilment of the order's sales order",
      true,
    );
    const release = task('ReleaseReservation', 'release', undefined, 'Gives the held units back');
    const cancelPos = task(
      'CancelPosPickup',
      'cancelPosPickup',
      undefined,
      'Cancels the Square pick-up order',
    );
    const cancelOrder = task(
      'CancelOrderInShopify',
      'cancelOrder',
      undefined,
      'Shopify orderCancel with refund and restock (skipped when already cancelled)',
    );
    const closeErp = task('CloseInErp', 'closeErp', undefined, "Closes the sales order's lines in NetSuite");

    const wait = (stateId: string, stage: 'PREPARED' | 'COMPLETED', timeout: Duration) =>
      new CallAwsService(this, stateId, {
        comment: `Stores the task token and waits for the POS to report ${stage} (or a cancellation)`,
        service: 'dynamodb',
        action: 'updateItem',
        integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
        iamResources: [props.pickups.tableArn],
        iamAction: 'dynamodb:UpdateItem',
        parameters: {
          TableName: props.pickups.tableName,
          Key: { pk: { 'S.$': '$.pickup.key' } },
          UpdateExpression: 'SET #token = :token, stage = :stage, squareOrderId = :square',
          // The POS already past this stage, or the order cancelled: the callback came first; Inspect.
          ConditionExpression:
            'attribute_not_exists(cancelled) AND (attribute_not_exists(posRank) OR posRank < :rank)',
          ExpressionAttributeNames: { '#token': 'token' },
          ExpressionAttributeValues: {
            ':token': { S: JsonPath.taskToken },
            ':stage': { S: stage },
            ':square': { 'S.$': '$.pos.squareOrderId' },
            ':rank': { N: stage === 'PREPARED' ? '3' : '4' },
          },
        },
        taskTimeout: Timeout.duration(timeout),
        resultPath: stage === 'PREPARED' ? '$.prepared' : '$.collected',
      });
    const waitPrepared = wait('WaitPrepared', 'PREPARED', props.prepareWindow);
    const waitCollected = wait('WaitCollected', 'COMPLETED', props.pickupWindow);

    const inspect = new DynamoGetItem(this, 'Inspect', {
      comment: 'A wait refused to start: read what the POS or the order did meanwhile',
      table: props.pickups,
      key: { pk: DynamoAttributeValue.fromString(JsonPath.stringAt('$.pickup.key')) },
      consistentRead: true,
      resultSelector: { 'item.$': '$.Item' },
      resultPath: '$.inspected',
    });

    const outcome = (stateId: string, reason: CompensationReason) =>
      new Pass(this, stateId, {
        result: Result.fromObject({ reason }),
        resultPath: '$.outcome',
      });
    const unavailable = outcome('StockUnavailable', 'STOCK_UNAVAILABLE');
    const expired = outcome('WindowExpired', 'WINDOW_EXPIRED');
    const cancelled = outcome('OrderCancelled', 'ORDER_CANCELLED');
    const failed = outcome('StepFailed', 'STEP_FAILED');

    // A Lambda, not a direct PutEvents: the event is a canonical, versioned one (envelope, ids, schema).
    const notify = task(
      'NotifyPickupCancelled',
      'notify',
      undefined,
      'Publishes PickupCancelled with the reason',
    );
    const compensated = new Choice(this, 'Compensated')
      .when(
        Condition.stringEquals('$.outcome.reason', 'STEP_FAILED'),
        new Fail(this, 'PickupFailed', {
          error: 'Bopis.Compensated',
          cause:
            'A step failed; the pick-up was undone (reservation released, POS and Shopify order cancelled)',
        }),
      )
      .otherwise(new Succeed(this, 'PickupCancelledDone', { comment: 'Uncollected, undone' }));
    release.next(cancelPos).next(cancelOrder).next(closeErp).next(notify).next(compensated);
    // A compensation that still fails after its retries fails the execution (alarm, then a redrive runs
    // the remaining compensations from there: each is idempotent).
    for (const reason of [unavailable, expired, cancelled, failed]) reason.next(release);

    const catchInto = (state: TaskStateBase, errors: string[], target: Pass) =>
      state.addCatch(target, { errors, resultPath: '$.failure' });
    for (const step of [reserve, markPrepared]) catchInto(step, [Errors.ALL], failed);
    // The error goes to $.pos: CancelPosPickup then looks for an order Square made before the failure.
    createPosPickup.addCatch(failed, { errors: [Errors.ALL], resultPath: '$.pos' });
    for (const waiting of [waitPrepared, waitCollected]) {
      catchInto(waiting, [Errors.TIMEOUT], expired);
      catchInto(waiting, [BOPIS_ERRORS.orderCancelled, BOPIS_ERRORS.pickupCancelled], cancelled);
      waiting.addCatch(inspect, {
        errors: ['DynamoDb.ConditionalCheckFailedException'],
        resultPath: '$.failure',
      });
      catchInto(waiting, [Errors.ALL], failed);
    }
    inspect.addCatch(failed, { errors: [Errors.ALL], resultPath: '$.failure' });

    const collected = new Succeed(this, 'Collected');
    const afterCollection = fulfil.next(convert).next(bookErp).next(collected);
    const byPosState = new Choice(this, 'WhereIsThePosPickup')
      // Collected first: an order cancelled after the customer took the goods is not undone here (the
      // goods are gone; releasing the hold and cancelling a COMPLETED Square order would fail half way).
      .when(Condition.stringEquals('$.inspected.item.posState.S', 'COMPLETED'), afterCollection)
      .when(Condition.isPresent('$.inspected.item.cancelled'), cancelled)
      .when(Condition.stringEquals('$.inspected.item.posState.S', 'CANCELED'), cancelled)
      .when(Condition.stringEquals('$.inspected.item.posState.S', 'PREPARED'), markPrepared)
      .otherwise(failed);
    // A comparison on a path the input does not have is not false: it fails the execution with
    // States.Runtime (https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html, IsPresent).
    // The POS state is absent when the order was cancelled before the POS reported anything (a Shopify
    // cancellation right after the pick-up was created): without this guard that execution failed
    // there, before its compensations, and the reservation stayed held for good.
    const route = new Choice(this, 'WhereIsThePickup')
      .when(Condition.isPresent('$.inspected.item.posState.S'), byPosState)
      .when(Condition.isPresent('$.inspected.item.cancelled'), cancelled)
      .otherwise(failed);
    inspect.next(route);

    const reserved = new Choice(this, 'Reserved')
      .when(
        Condition.or(
          Condition.stringEquals('$.reservation.status', 'reserved'),
          Condition.stringEquals('$.reservation.status', 'already-reserved'),
        ),
        createPosPickup,
      )
      .otherwise(unavailable);
    markPrepared.next(waitCollected);
    waitCollected.next(afterCollection);
    waitPrepared.next(markPrepared);
    createPosPickup.next(waitPrepared);
    const definition = init.next(locate).next(reserve).next(reserved);

    this.workflow = new HubStateMachine(this, 'Workflow', {
      definition,
      type: StateMachineType.STANDARD,
      description:
        'Buy online, pick up in store: reserve, hand to the store, wait for preparation and collection, fulfil and book; undo on expiry, cancellation or failure',
      // The two windows, plus room for the retried steps around them.
      timeout: props.prepareWindow.plus(props.pickupWindow).plus(Duration.days(1)),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
    // LambdaInvoke grants the function and its versions (`<arn>:*`): the qualified ARNs of the one function.
    const fn = props.tasks.node.defaultChild as CfnElement;
    Validations.of(this.workflow.stateMachine.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(fn)}.Arn>:*]`,
      reason:
        "Step Functions' Lambda integration may invoke the task function's versions and aliases: that one function only.",
    });
  }
}
