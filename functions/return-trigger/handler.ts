import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/bus/publisher.ts';
import { startFromShopifyRefund } from '#shared/flows/returns/start.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const name = z.string().min(1);
const env = readEnv(z.object({ EVENT_BUS_NAME: name, STATE_MACHINE_ARN: name }));
const sfn = tracer.captureAWSv3Client(new SFNClient({}));
const deps = {
  publisher: new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    env.EVENT_BUS_NAME,
  ),
  startExecution: async (executionName: string, input: string) => {
    try {
      await sfn.send(
        new StartExecutionCommand({ stateMachineArn: env.STATE_MACHINE_ARN, name: executionName, input }),
      );
      return true;
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return false;
      throw error;
    }
  },
  telemetry: powertoolsTelemetry,
  log: logger,
};
const processor = new BatchProcessor(EventType.SQS);

const record = (sqsRecord: SQSRecord) => startFromShopifyRefund(JSON.parse(sqsRecord.body), deps);

/** SQS `ReturnTriggers` → one execution of the omnichannel-return workflow per return (shared/flows/returns). */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => processPartialResponse(event, record, processor, { context }));
