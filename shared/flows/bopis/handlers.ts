import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  ExecutionAlreadyExists,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import type { LogSink } from '../../runtime/observability.ts';
import { type CallbackDeps, handleCallback, type PickupItem, startPickups } from './triggers.ts';

/**
 * The AWS side of the BOPIS edges (functions/bopis-start, functions/bopis-callbacks): StartExecution,
 * the pick-up table and SendTask*. The logic is in triggers.ts.
 */

export const BopisStartEnvSchema = z.object({ STATE_MACHINE_ARN: z.string().min(1) });
export const BopisCallbacksEnvSchema = z.object({ PICKUPS_TABLE_NAME: z.string().min(1) });

export function bopisStarter(env: z.infer<typeof BopisStartEnvSchema>, sfn: SFNClient, log: LogSink) {
  return (event: SQSEvent) =>
    startPickups(event, {
      start: async (name, input) => {
        try {
          await sfn.send(new StartExecutionCommand({ stateMachineArn: env.STATE_MACHINE_ARN, name, input }));
          return 'started';
        } catch (error) {
          // The order's execution exists (a redelivered OrderCreated): nothing to start.
          if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists')
            return 'exists';
          throw error;
        }
      },
      log,
    });
}

/** A token answered already, or from an execution that closed: the workflow has moved on. */
const isGone = (error: unknown) =>
  ['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken'].includes((error as Error).name);

export function bopisCallbacks(
  env: z.infer<typeof BopisCallbacksEnvSchema>,
  clients: { readonly dynamo: DynamoDBClient; readonly sfn: SFNClient },
  log: LogSink,
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const table = env.PICKUPS_TABLE_NAME;
  const answered = async (send: () => Promise<unknown>) => {
    try {
      await send();
    } catch (error) {
      if (!isGone(error)) throw error;
      log.info('task token no longer waiting: the workflow moved on', { error: (error as Error).name });
    }
  };
  const deps: CallbackDeps = {
    record: async (key, change) => {
      try {
        const result = await documents.send(
          change.kind === 'pos'
            ? new UpdateCommand({
                TableName: table,
                Key: { pk: key },
                UpdateExpression: 'SET posState = :state, posRank = :rank',
                ConditionExpression: 'attribute_not_exists(posRank) OR posRank < :rank',
                ExpressionAttributeValues: { ':state': change.state, ':rank': change.rank },
                ReturnValues: 'ALL_NEW',
              })
            : new UpdateCommand({
                TableName: table,
                Key: { pk: key },
                UpdateExpression: 'SET cancelled = :yes, cancelledBy = if_not_exists(cancelledBy, :by)',
                ExpressionAttributeValues: { ':yes': true, ':by': change.by },
                ReturnValues: 'ALL_NEW',
              }),
        );
        return (result.Attributes ?? {}) as PickupItem;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        // An older POS state than the one held: nothing changes.
        const held = await documents.send(
          new GetCommand({ TableName: table, Key: { pk: key }, ConsistentRead: true }),
        );
        return { ...((held.Item ?? {}) as PickupItem), token: undefined } as PickupItem;
      }
    },
    succeed: (token, output) =>
      answered(() => clients.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output }))),
    fail: (token, error, cause) =>
      answered(() => clients.sfn.send(new SendTaskFailureCommand({ taskToken: token, error, cause }))),
    log,
  };
  return async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const outcome = await handleCallback(JSON.parse(record.body), deps);
        log.info('pick-up callback', { messageId: record.messageId, outcome });
      } catch (error) {
        if (error instanceof z.ZodError || error instanceof SyntaxError) {
          log.error('unreadable pick-up callback dropped', {
            messageId: record.messageId,
            error: error as Error,
          });
          continue;
        }
        log.warn('pick-up callback failed; retried', { messageId: record.messageId, error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures: failures };
  };
}
