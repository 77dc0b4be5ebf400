import { Duration, type RemovalPolicy } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  Fail,
  IntegrationPattern,
  JsonPath,
  StateMachineType,
  Succeed,
  TaskInput,
  Timeout,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { HubStateMachine } from '../hub-state-machine.ts';

/** Lambda's own transient failures: worth a retry whatever the task. */
const LAMBDA_TRANSIENT = [
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.TooManyRequestsException',
];

/**
 * How the ERP step waits out an outage before it parks: 5 s, 10 s, 20 s … capped at 2 minutes, 12 tries —
 * about 17 minutes of ERP outage (plus each attempt's own client retries) ridden out in place; past that
 * the return is parked and waits (for days) for a replay. Never a failure of the return: the Shopify
 * refund before it cannot be undone.
 */
export const ERP_STEP_RETRY = { intervalSeconds: 5, backoffRate: 2, maxDelaySeconds: 120, maxAttempts: 12 };

/** `fn` as a task target whose invoke grant is its unqualified ARN only (everything else delegates to `fn`). */
function unqualified(fn: IFunction): IFunction {
  return Object.create(fn, { resourceArnsForGrantInvoke: { value: [fn.functionArn] } }) as IFunction;
}

/** How long a parked return waits for its replay (`SendTaskSuccess` of its task token) before it fails. */
export const PARK_WAIT = Duration.days(14);

export interface OmnichannelReturnProps {
  /** Hub-side steps: match, park, disposition, complete (functions/return-steps). */
  readonly steps: IFunction;
  /** The ERP credit memo (functions/return-erp), on its own slot of the ERP's concurrency limit. */
  readonly erp: IFunction;
  /** Shopify returnCreate/returnProcess for returns Shopify does not hold yet (functions/return-shopify). */
  readonly shopify: IFunction;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The omnichannel-return workflow (issue #14), **Standard**: an ERP outage must not fail a return, so its
 * ERP step waits (minutes of retries, then days parked on a task token for a replay) — beyond Express's
 * 5 minutes, and Express has neither task tokens nor redrive. Standard also runs each step exactly once
 * (Express is at-least-once), which a refund needs. See docs/workflows-omnichannel-return.md.
 *
 * 1. Match the original order and lines (ledger) — no match: parked with its reason, `ReturnNotMatched`.
 * 2. Shopify return and refund (`returnCreate` + `returnProcess`); when Shopify triggered it, only its
 *    dispositions are read (where the units went: the refund does not say); a
 *    refused refund is compensated (the Shopify return cancelled), parked, `ShopifyRefundFailed` —
 *    nothing is booked in the ERP.
 * 3. ERP credit memo (return authorization → credit memo, tax reversed): the refund cannot be undone, so
 *    this is recovered forward — retried, then parked with a task token until replayed; never a second
 *    refund.
 * 4. Disposition (restock → `InventoryAdjusted`, damaged → nothing sellable), 5. `ReturnCompleted`.
 * A failure after the ERP step (publishing) fails the execution for a redrive from that step.
 */
export class OmnichannelReturn extends Construct {
  readonly workflow: HubStateMachine;

  constructor(scope: Construct, id: string, functions: OmnichannelReturnProps) {
    super(scope, id);
    // The tasks invoke each function's unqualified ARN: the role may invoke exactly that, not every version
    // and alias (`<arn>:*`, which LambdaInvoke grants from `resourceArnsForGrantInvoke`).
    const props = {
      ...functions,
      steps: unqualified(functions.steps),
      erp: unqualified(functions.erp),
      shopify: unqualified(functions.shopify),
    };
    const hubStep = (stateId: string, action: string, resultPath: string, extra: object = {}) =>
      new LambdaInvoke(this, stateId, {
        lambdaFunction: props.steps,
        payload: TaskInput.fromObject({ action, state: JsonPath.entirePayload, ...extra }),
        payloadResponseOnly: true,
        resultPath,
        retryOnServiceExceptions: false,
      }).addRetry({
        errors: ['ReturnStepRetryable', ...LAMBDA_TRANSIENT],
        interval: Duration.seconds(2),
        backoffRate: 2,
        maxAttempts: 6,
      });
    const executionArn = { executionArn: JsonPath.stringAt('$$.Execution.Id') };

    const match = hubStep('MatchOrder', 'match', '$.match');
    const parkNotMatched = hubStep('ParkNotMatched', 'park', '$.parked', {
      why: 'NOT_MATCHED',
      ...executionArn,
    });
    const notMatched = new Fail(this, 'ReturnNotMatched', {
      error: 'ReturnNotMatched',
      cause: 'No booked order or line matches the return: parked (exceptions kind "return") with the reason',
    });

    const shopifyRefund = new LambdaInvoke(this, 'ShopifyReturnAndRefund', {
      lambdaFunction: props.shopify,
      payload: TaskInput.fromObject({
        action: 'refund',
        state: JsonPath.entirePayload,
        transactionId: JsonPath.stringAt('$$.Execution.Name'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.shopify',
      retryOnServiceExceptions: false,
    }).addRetry({
      errors: ['ReturnStepRetryable', ...LAMBDA_TRANSIENT],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 5,
    });
    const cancelShopifyReturn = new LambdaInvoke(this, 'CancelShopifyReturn', {
      lambdaFunction: props.shopify,
      payload: TaskInput.fromObject({
        action: 'cancel',
        state: JsonPath.entirePayload,
        transactionId: JsonPath.stringAt('$$.Execution.Name'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.compensated',
      retryOnServiceExceptions: false,
    }).addRetry({
      errors: ['ReturnStepRetryable', ...LAMBDA_TRANSIENT],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 6,
    });
    // A return Shopify processed: its refund is done; read where Shopify put the units (dispositions). A read
    // that keeps failing falls back to the refund's own view (the units count as not restocked) — the ERP
    // step after it must still run.
    const readDispositions = new LambdaInvoke(this, 'ReadShopifyDispositions', {
      lambdaFunction: props.shopify,
      payload: TaskInput.fromObject({ action: 'dispositions', state: JsonPath.entirePayload }),
      payloadResponseOnly: true,
      resultPath: '$.shopify',
      retryOnServiceExceptions: false,
    }).addRetry({
      errors: ['ReturnStepRetryable', ...LAMBDA_TRANSIENT],
      interval: Duration.seconds(2),
      backoffRate: 2,
      maxAttempts: 5,
    });
    const parkShopify = hubStep('ParkShopifyFailed', 'park', '$.parked', {
      why: 'SHOPIFY_FAILED',
      ...executionArn,
    });
    const shopifyFailed = new Fail(this, 'ShopifyRefundFailed', {
      error: 'ShopifyRefundFailed',
      cause: 'Shopify refused the return or its refund: compensated, parked; nothing was booked in the ERP',
    });

    const erp = new LambdaInvoke(this, 'ErpCreditMemo', {
      lambdaFunction: props.erp,
      payload: TaskInput.fromObject({
        state: JsonPath.entirePayload,
        transactionId: JsonPath.stringAt('$$.Execution.Name'),
      }),
      payloadResponseOnly: true,
      resultPath: '$.erp',
      retryOnServiceExceptions: false,
    }).addRetry({
      errors: ['ReturnStepRetryable', ...LAMBDA_TRANSIENT],
      interval: Duration.seconds(ERP_STEP_RETRY.intervalSeconds),
      backoffRate: ERP_STEP_RETRY.backoffRate,
      maxDelay: Duration.seconds(ERP_STEP_RETRY.maxDelaySeconds),
      maxAttempts: ERP_STEP_RETRY.maxAttempts,
    });
    const parkErp = new LambdaInvoke(this, 'ParkErpUntilReplay', {
      lambdaFunction: props.steps,
      integrationPattern: IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: TaskInput.fromObject({
        action: 'park',
        why: 'ERP_FAILED',
        state: JsonPath.entirePayload,
        taskToken: JsonPath.taskToken,
        ...executionArn,
      }),
      resultPath: '$.replay',
      taskTimeout: Timeout.duration(PARK_WAIT),
      retryOnServiceExceptions: false,
    }).addRetry({ errors: LAMBDA_TRANSIENT, interval: Duration.seconds(2), backoffRate: 2, maxAttempts: 6 });
    const erpAbandoned = new Fail(this, 'ErpCreditAbandoned', {
      error: 'ErpCreditAbandoned',
      cause:
        'The ERP credit memo was parked and not replayed in time: the Shopify refund stands, book it by hand',
    });

    const disposition = hubStep('Disposition', 'disposition', '$.disposition');
    const complete = hubStep('EmitReturnCompleted', 'complete', '$.completed');
    const done = new Succeed(this, 'ReturnDone');

    erp.addCatch(parkErp, { errors: ['States.ALL'], resultPath: '$.failure' });
    parkErp.addCatch(erpAbandoned, { errors: ['States.ALL'], resultPath: '$.failure' });
    parkErp.next(erp);
    erp.next(disposition).next(complete).next(done);

    shopifyRefund.addCatch(cancelShopifyReturn, { errors: ['States.ALL'], resultPath: '$.failure' });
    cancelShopifyReturn.next(parkShopify).next(shopifyFailed);
    shopifyRefund.next(erp);
    readDispositions.addCatch(erp, { errors: ['States.ALL'], resultPath: '$.dispositionsFailure' });
    // The refund of a return the hub made in Shopify (its refunds/create comes back as a Shopify return):
    // the execution that made it credits the ERP; this one ends without booking anything.
    readDispositions.next(
      new Choice(this, 'MadeByTheHub')
        .when(
          Condition.isPresent('$.shopify.madeByHub'),
          new Succeed(this, 'EchoOfHubReturn', {
            comment: "The hub's own return, credited by the execution that made it: nothing to book",
          }),
        )
        .otherwise(erp),
    );

    const definition = match.next(
      new Choice(this, 'OrderMatched')
        .when(Condition.booleanEquals('$.match.matched', false), parkNotMatched.next(notMatched))
        .otherwise(
          new Choice(this, 'RefundedByShopify')
            .when(Condition.booleanEquals('$.request.shopifyRefunded', true), readDispositions)
            .otherwise(shopifyRefund),
        ),
    );

    this.workflow = new HubStateMachine(this, 'Workflow', {
      definition,
      type: StateMachineType.STANDARD,
      description:
        'Omnichannel return: match the online order, Shopify return + refund, ERP credit memo (recovered forward), disposition, ReturnCompleted',
      // A parked ERP step waits up to PARK_WAIT for its replay; the retries before it are minutes.
      timeout: PARK_WAIT.plus(Duration.days(1)),
      logRetention: props.logRetention,
      removalPolicy: props.removalPolicy,
    });
  }
}
