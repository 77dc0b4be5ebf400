import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '#shared/bus/publisher.ts';
import { runReturnStep } from '#shared/flows/returns/step-runner.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { LedgerRepository } from '#shared/repositories/ledger.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const name = z.string().min(1);
const env = readEnv(z.object({ EVENT_BUS_NAME: name, LEDGER_TABLE_NAME: name, EXCEPTIONS_TABLE_NAME: name }));
const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const deps = {
  ledger: new LedgerRepository(documents, env.LEDGER_TABLE_NAME),
  exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
  publisher: new EventBridgePublisher(
    tracer.captureAWSv3Client(new EventBridgeClient({})),
    env.EVENT_BUS_NAME,
  ),
  telemetry: powertoolsTelemetry,
  log: logger,
};

/** The hub-side tasks of the omnichannel-return workflow: match, park, disposition, complete. */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event) => runReturnStep(event, deps));
