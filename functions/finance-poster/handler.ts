import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { FinancePosterEnvSchema, financePosterConsumer } from '#shared/finance/deps.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(FinancePosterEnvSchema);
const { record, registerLambdaContext } = financePosterConsumer(
  env,
  {
    dynamo: tracer.captureAWSv3Client(new DynamoDBClient({})),
    sqs: tracer.captureAWSv3Client(new SQSClient({})),
  },
  { telemetry: powertoolsTelemetry, log: logger },
);
const processor = new BatchProcessor(EventType.SQS);

/** SQS `finance` → balanced ERP journal entries, with partial batch responses. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    registerLambdaContext(context);
    return processPartialResponse(event, record, processor, { context });
  });
