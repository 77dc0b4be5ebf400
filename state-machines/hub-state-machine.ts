import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, type Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  CustomerManagedEncryptionConfiguration,
  DefinitionBody,
  type IChainable,
  LogLevel,
  QueryLanguage,
  StateMachine,
  StateMachineType,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { HubKey } from '../infra/constructs/hub-key.ts';

/** Express workflows run at most 5 minutes (AWS Step Functions quotas). */
export const EXPRESS_MAX_DURATION = Duration.minutes(5);

/**
 * What the local runner (`aws-local-stepfunctions`) cannot run, and so no hub workflow may use: JSONata
 * and the fields that exist only with it or with variables.
 */
const UNSUPPORTED_LOCALLY = ['"QueryLanguage":"JSONata"', '"Assign":', '"Arguments":', '"Output":'];

export interface HubStateMachineProps {
  /** The workflow's first state, chained (`a.next(b)`), with its compensations wired by `addCatch`. */
  readonly definition: IChainable;
  /**
   * Standard (up to a year, exactly-once steps, task tokens, redrive) or Express (≤ 5 minutes,
   * at-least-once, priced per request and duration): no default, a workflow chooses and says why.
   */
  readonly type: StateMachineType;
  readonly description: string;
  /** Longest an execution may run before it fails as timed out; for Express at most 5 minutes. */
  readonly timeout: Duration;
  readonly logRetention: RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /**
   * Log each state's input and output too. Off by default: payloads can carry personal data, and
   * Standard executions keep their history for operators anyway. @default false
   */
  readonly includeExecutionData?: boolean;
  /**
   * Key of the execution history, state data and logs.
   * @default the stack's `HubKey` (customer-managed environments), else keys AWS owns
   */
  readonly encryptionKey?: IKey;
}

/**
 * Every Step Functions workflow of the hub: the type chosen explicitly, JSONPath only (what the local
 * cloud runs), all events logged to an explicit log group with retention, X-Ray tracing, and one alarm
 * each for failed, timed-out and aborted executions.
 */
export class HubStateMachine extends Construct {
  readonly stateMachine: StateMachine;
  readonly logGroup: LogGroup;
  readonly failedAlarm: Alarm;
  readonly timedOutAlarm: Alarm;
  readonly abortedAlarm: Alarm;

  constructor(scope: Construct, id: string, props: HubStateMachineProps) {
    super(scope, id);
    if (
      props.type === StateMachineType.EXPRESS &&
      props.timeout.toSeconds() > EXPRESS_MAX_DURATION.toSeconds()
    ) {
      throw new Error(
        `${id}: an Express workflow runs at most 5 minutes, not ${props.timeout.toHumanString()}`,
      );
    }
    const encryptionKey = props.encryptionKey ?? HubKey.of(this);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: props.removalPolicy,
      ...(encryptionKey ? { encryptionKey } : {}),
    });
    this.stateMachine = new StateMachine(this, 'StateMachine', {
      definitionBody: DefinitionBody.fromChainable(props.definition),
      stateMachineType: props.type,
      queryLanguage: QueryLanguage.JSON_PATH,
      comment: props.description,
      timeout: props.timeout,
      tracingEnabled: true,
      // With the hub key, CDK grants the role kms:Decrypt/GenerateDataKey in the state machine's encryption
      // context and the key policy what log delivery needs, as AWS documents
      // (https://docs.aws.amazon.com/step-functions/latest/dg/encryption-at-rest.html).
      ...(encryptionKey
        ? { encryptionConfiguration: new CustomerManagedEncryptionConfiguration(encryptionKey) }
        : {}),
      logs: {
        destination: this.logGroup,
        level: LogLevel.ALL,
        includeExecutionData: props.includeExecutionData ?? false,
      },
    });
    this.node.addValidation({ validate: () => this.unsupportedLocally() });

    const alarm = (alarmId: string, metric: Metric, what: string) =>
      new Alarm(this, alarmId, {
        alarmDescription: `${what} executions of ${id}: read the execution's history, fix, then redrive`,
        metric: metric.with({ period: Duration.minutes(1), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    this.failedAlarm = alarm('FailedAlarm', this.stateMachine.metricFailed(), 'Failed');
    this.timedOutAlarm = alarm('TimedOutAlarm', this.stateMachine.metricTimedOut(), 'Timed-out');
    this.abortedAlarm = alarm('AbortedAlarm', this.stateMachine.metricAborted(), 'Aborted');

    Validations.of(this.stateMachine.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Step Functions log delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray (PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) support no resource-level permissions.',
    });
  }

  /** The rendered definition's constructs that the local runner cannot execute (JSONPath only, no variables). */
  private unsupportedLocally(): string[] {
    const definition = JSON.stringify(
      Stack.of(this).resolve(
        (this.stateMachine.node.defaultChild as { definitionString?: unknown }).definitionString,
      ),
    ).replace(/\\"/g, '"');
    return UNSUPPORTED_LOCALLY.filter((marker) => definition.includes(marker)).map(
      (marker) =>
        `${this.node.path}: ${marker.replace(/[":]/g, '')} is not supported by the local Step Functions runner (JSONPath only)`,
    );
  }
}
