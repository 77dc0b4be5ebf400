import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { BopisTasksEnvSchema, bopisTaskDeps } from '#shared/flows/bopis/deps.ts';
import {
  asTaskError,
  BopisPermanentError,
  runBopisTask,
  TaskInputSchema,
} from '#shared/flows/bopis/tasks.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, tracer } from '#shared/runtime/observability.ts';

const depsFor = bopisTaskDeps(
  readEnv(BopisTasksEnvSchema),
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    sqs: tracer.captureAWSv3Client(new SQSClient({})),
    eventBridge: tracer.captureAWSv3Client(new EventBridgeClient({})),
  },
  logger,
);

/**
 * One task of the BOPIS workflow (state-machines/bopis): `{task, order, lines, pickup, pos, outcome}` →
 * the task's result. A failure is thrown as `BopisTransientError` (the workflow retries it) or
 * `BopisPermanentError` (its catch decides), the error's name being the state's `Error`.
 */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .handler(async (event) => {
    const parsed = TaskInputSchema.safeParse(event);
    if (!parsed.success) throw new BopisPermanentError(`invalid task input: ${parsed.error.message}`);
    try {
      return await runBopisTask(parsed.data, depsFor(parsed.data.order.shop));
    } catch (error) {
      const failure = asTaskError(error);
      logger.warn('BOPIS task failed', { task: parsed.data.task, error: failure });
      throw failure;
    }
  });
