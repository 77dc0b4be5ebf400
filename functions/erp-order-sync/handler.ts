import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { netSuiteErp } from '#shared/connectors/netsuite/adapter.ts';
import { NetSuiteCredentialsSchema } from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteMappingConfigSchema } from '#shared/connectors/netsuite/mapper.ts';
import { type OrderBusEvent, syncOrder } from '#shared/flows/order-sync.ts';
import { OrderSyncBatch, throwParked } from '#shared/flows/order-sync-batch.ts';
import { mappingLookupFrom } from '#shared/ports/erp.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { LedgerRepository } from '#shared/repositories/ledger.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { jsonVariable, readEnv } from '#shared/runtime/env.ts';
import { powertoolsBusinessKeyIdempotency } from '#shared/runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '#shared/runtime/key-prefixes.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerJson } from '#shared/runtime/secrets.ts';
import { VisibilityBackoff } from '#shared/runtime/sqs-retry.ts';

const name = z.string().min(1);
const count = z.coerce.number().int().positive();
const env = readEnv(
  z.object({
    LEDGER_TABLE_NAME: name,
    MAPPINGS_TABLE_NAME: name,
    EXCEPTIONS_TABLE_NAME: name,
    IDEMPOTENCY_TABLE_NAME: name,
    NETSUITE_ACCOUNT_ID: name,
    NETSUITE_BASE_URL: z.url(),
    NETSUITE_CREDENTIALS_SECRET_ID: name,
    ERP_MAX_CONCURRENCY: count,
    RETRY_BASE_SECONDS: count,
    RETRY_CAP_SECONDS: count,
    NETSUITE_MAPPING_CONFIG: jsonVariable(NetSuiteMappingConfigSchema),
  }),
);

const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const documents = DynamoDBDocumentClient.from(dynamo);
const exceptions = new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME);
const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
const erp = netSuiteErp({
  baseUrl: env.NETSUITE_BASE_URL,
  accountId: env.NETSUITE_ACCOUNT_ID,
  credentials: secretsManagerJson(
    env.NETSUITE_CREDENTIALS_SECRET_ID,
    NetSuiteCredentialsSchema,
    'NetSuite M2M credentials',
  ),
  maxConcurrency: env.ERP_MAX_CONCURRENCY,
  mappings: mappingLookupFrom(mappings),
  config: env.NETSUITE_MAPPING_CONFIG,
});
const ledger = new LedgerRepository(documents, env.LEDGER_TABLE_NAME);
// The order lease (90 s) outlives the 60 s timeout: a timed-out holder's write never lands after the next one's.
const syncDeps = { erp, ledger, leaseMs: 90_000, exceptions, telemetry: powertoolsTelemetry, log: logger };
// Idempotent on the business key (a producer sending twice is harmless); parked outcomes are not remembered.
const idempotency = powertoolsBusinessKeyIdempotency(
  throwParked((event: OrderBusEvent) => syncOrder(event, syncDeps)),
  {
    tableName: env.IDEMPOTENCY_TABLE_NAME,
    client: dynamo,
    keyPrefix: IDEMPOTENCY_KEY_PREFIXES.erpOrderSync,
    eventKeyJmesPath: 'detail.metadata.idempotencyKey',
    expiresAfterSeconds: 7 * 24 * 3600,
  },
);
const retry = { baseSeconds: env.RETRY_BASE_SECONDS, capSeconds: env.RETRY_CAP_SECONDS };
const batch = new OrderSyncBatch({
  syncOnce: idempotency.run,
  isBusy: idempotency.isInProgress,
  exceptions,
  backoff: new VisibilityBackoff(tracer.captureAWSv3Client(new SQSClient({})), retry, logger),
  prefetchMappings: (keys) => mappings.prefetch(keys),
  log: logger,
});
const processor = new BatchProcessor(EventType.SQS);

/** SQS `erp-orders` → ERP, with partial batch responses: only failed records come back. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    idempotency.registerLambdaContext(context);
    await batch.prefetch(event);
    return processPartialResponse(event, batch.record, processor, { context });
  });
