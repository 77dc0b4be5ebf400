import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { ComplianceBusEventSchema, handleComplianceRequest } from '#shared/flows/redaction.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { LedgerRepository } from '#shared/repositories/ledger.ts';
import { PrivacyRequestStore } from '#shared/repositories/privacy-requests.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const name = z.string().min(1);
const env = readEnv(
  z.object({ EXCEPTIONS_TABLE_NAME: name, LEDGER_TABLE_NAME: name, PRIVACY_REQUESTS_TABLE_NAME: name }),
);

const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const deps = {
  exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
  ledger: new LedgerRepository(documents, env.LEDGER_TABLE_NAME),
  audit: new PrivacyRequestStore(documents, env.PRIVACY_REQUESTS_TABLE_NAME),
  telemetry: powertoolsTelemetry,
  log: logger,
};
const processor = new BatchProcessor(EventType.SQS);

/** One compliance event per record; a record that fails (malformed, conflict, DynamoDB) comes back alone. */
const record = (sqsRecord: SQSRecord) =>
  handleComplianceRequest(ComplianceBusEventSchema.parse(JSON.parse(sqsRecord.body)), deps);

/** SQS `PrivacyRequests` → redaction of what the hub holds, with partial batch responses. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler((event, context) => processPartialResponse(event, record, processor, { context }));
