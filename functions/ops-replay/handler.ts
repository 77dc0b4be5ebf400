import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { AuditLog } from '#shared/ops/audit.ts';
import { handleOpsCommand, type OpsAnswer, OpsReplayEnvSchema } from '#shared/ops/ops-handler.ts';
import { TraceWriter } from '#shared/ops/trace.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';

const env = readEnv(OpsReplayEnvSchema);
const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const clients = {
  sqs: tracer.captureAWSv3Client(new SQSClient({})),
  events: tracer.captureAWSv3Client(new EventBridgeClient({})),
  sfn: tracer.captureAWSv3Client(new SFNClient({})),
};
const shared = {
  ...clients,
  exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
  trace: new TraceWriter({
    documents,
    tableName: env.TRACE_TABLE_NAME,
    service: 'ops-replay',
    log: logger,
    telemetry: powertoolsTelemetry,
  }),
  audit: new AuditLog(documents, env.AUDIT_TABLE_NAME),
  log: logger,
  targets: {
    queues: env.REPLAY_QUEUES,
    exceptionQueues: env.EXCEPTION_QUEUES,
    archiveArn: env.ARCHIVE_ARN,
    busArn: env.EVENT_BUS_ARN,
    stateMachineArns: env.STATE_MACHINE_ARNS,
    resolvedRetentionDays: env.RESOLVED_RETENTION_DAYS,
  },
};

/** Invoked by operators (`npm run -s ops -- …`, `aws lambda invoke`) — thin glue: the work is in shared/ops/. */
export const handler = middy<unknown, OpsAnswer, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) =>
    handleOpsCommand(event, {
      ...shared,
      requestId: context.awsRequestId,
      remainingMs: () => context.getRemainingTimeInMillis(),
    }),
  );
