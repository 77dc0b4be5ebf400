import { type CfnElement, CfnOutput, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Archive } from 'aws-cdk-lib/aws-events';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { BufferedConsumer } from '../constructs/buffered-consumer.ts';
import { functionEntry, HubFunction } from '../constructs/hub-function.ts';
import { HubTable } from '../constructs/hub-table.ts';
import { markLocalRole } from '../constructs/local-role.ts';
import { HubFlow, type HubResources } from './hub-flow.ts';

export interface OperationsProps {
  /** The queue each kind of parked exception is replayed to (`erp-order` → the ERP order queue). */
  readonly exceptionQueues: Readonly<Record<string, Queue>>;
}

/**
 * The operators' side of the hub: the ops replay function (`functions/ops-replay`: DLQ redrive, archive
 * replay, parked-exception retry, execution redrive, each audited) and its audit table.
 *
 * It walks the stack for what it may replay — every {@link BufferedConsumer}'s queue and DLQ, the bus
 * archive, every Standard state machine — so it is added after the flows (the stack's last flow line), and a
 * flow added later is covered without a change here.
 */
export class Operations extends HubFlow {
  readonly replayFunction: HubFunction;
  readonly auditTable: HubTable;

  constructor(scope: Construct, id: string, hub: HubResources, props: OperationsProps) {
    super(scope, id);
    const { config, tables } = hub;
    const stack = Stack.of(this);
    this.auditTable = new HubTable(this, 'OpsAuditTable', {
      localRole: 'audit-table',
      partitionKey: 'pk',
      sortKey: 'sk',
      // Audit rows are evidence: kept with point-in-time recovery wherever the environment has it.
      pointInTimeRecovery: config.pointInTimeRecovery,
      removalPolicy: config.removalPolicy,
    });

    const consumers = stack.node
      .findAll()
      .filter((node): node is BufferedConsumer => node instanceof BufferedConsumer);
    const archives = stack.node.findAll().filter((node): node is Archive => node instanceof Archive);
    const machines = stack.node
      .findAll()
      .filter((node): node is StateMachine => node instanceof StateMachine)
      // RedriveExecution is for Standard workflows only (an Express execution cannot be redriven).
      .filter((machine) => machine.stateMachineType !== StateMachineType.EXPRESS);
    const archive = archives[0];
    if (!archive || archives.length > 1)
      throw new Error(`${id}: expected one bus archive, found ${archives.length}`);

    this.replayFunction = new HubFunction(this, 'OpsReplayFunction', {
      ...hub.functionDefaults,
      entry: functionEntry('ops-replay'),
      description:
        'Operator replays: DLQ redrive, archive replay, parked-exception retry, execution redrive (audited)',
      serviceName: 'ops-replay',
      // A redrive of thousands of messages runs in slices of this; the command says when to run it again.
      timeout: Duration.minutes(5),
      // One replay at a time: two redrives of one DLQ would fight over its messages.
      reservedConcurrentExecutions: 1,
      environment: {
        AUDIT_TABLE_NAME: this.auditTable.tableName,
        EXCEPTIONS_TABLE_NAME: tables.exceptions.tableName,
        TRACE_TABLE_NAME: tables.trace.tableName,
        REPLAY_QUEUES: stack.toJsonString(
          consumers.map((consumer) => ({
            name: consumer.node.id,
            queueUrl: consumer.queue.queueUrl,
            dlqUrl: consumer.deadLetterQueue.queueUrl,
          })),
        ),
        EXCEPTION_QUEUES: stack.toJsonString(
          Object.fromEntries(
            Object.entries(props.exceptionQueues).map(([kind, queue]) => [kind, queue.queueUrl]),
          ),
        ),
        ARCHIVE_ARN: archive.archiveArn,
        EVENT_BUS_ARN: hub.bus.eventBusArn,
        STATE_MACHINE_ARNS: stack.toJsonString(machines.map((machine) => machine.stateMachineArn)),
        RESOLVED_RETENTION_DAYS: String(config.resolvedExceptionRetentionDays),
      },
    });
    markLocalRole(this.replayFunction, 'ops-replay-function');
    const fn = this.replayFunction;

    this.auditTable.grant(fn, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    tables.trace.grant(fn, 'dynamodb:BatchWriteItem');
    // exceptions-retry: the parked items are listed per kind (Query) and marked replayed (UpdateItem).
    tables.exceptions.grant(fn, 'dynamodb:Query', 'dynamodb:UpdateItem', 'dynamodb:GetItem');
    // SQS with a customer managed key: a receiver needs kms:Decrypt, a sender kms:GenerateDataKey and
    // kms:Decrypt (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html).
    const send = (queue: Queue) => {
      queue.grant(fn, 'sqs:SendMessage', 'sqs:GetQueueAttributes');
      queue.encryptionMasterKey?.grant(fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    };
    for (const consumer of consumers) {
      // Receive, release (ChangeMessageVisibility) and delete from the DLQ; send to its queue; depths of both.
      consumer.deadLetterQueue.grant(
        fn,
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      );
      consumer.deadLetterQueue.encryptionMasterKey?.grantDecrypt(fn);
      send(consumer.queue);
    }
    for (const queue of Object.values(props.exceptionQueues)) send(queue);
    // StartReplay's resource is the archive; EventBridge itself puts the replayed events on the bus.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['events:StartReplay'],
        resources: [archive.archiveArn],
      }),
    );
    for (const machine of machines) {
      machine.grant(fn, 'states:ListExecutions');
      machine.grantExecution(fn, 'states:RedriveExecution');
      // grantExecution names the machine's executions (`execution:<machine name>:*`): which one fails is
      // known only when an operator redrives it, and the grant stays on this one state machine.
      const stack = Stack.of(this);
      const logicalId = stack.getLogicalId(machine.node.defaultChild as CfnElement);
      // cdk-nag names the region and account as the template holds them: literal when the stack has them.
      const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
      const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
      if (fn.role)
        Validations.of(fn.role).acknowledge({
          id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:${region}:${account}:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId}"}]}]}:*]`,
          reason:
            "RedriveExecution of a failed execution of this one Standard state machine: the execution's name is known only when an operator redrives it.",
        });
    }

    new CfnOutput(this, 'OpsReplayFunctionName', {
      value: fn.functionName,
      description: 'The ops replay function (npm run -s ops -- … --env <env> invokes it)',
    });
    new CfnOutput(this, 'TraceTableName', {
      value: tables.trace.tableName,
      description: 'Trace checkpoints by transaction (npm run -s ops -- trace <id> --env <env>)',
    });
    new CfnOutput(this, 'ExceptionsTableName', {
      value: tables.exceptions.tableName,
      description: 'Parked inputs (npm run -s ops -- exceptions list --env <env>)',
    });
    new CfnOutput(this, 'OpsAuditTableName', {
      value: this.auditTable.tableName,
      description: 'Audit of every replay',
    });
  }
}
