import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { NetSuiteErpAdapter } from '#shared/connectors/netsuite/adapter.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import {
  type OrderBusEvent,
  OrderBusEventSchema,
  OrderBusyError,
  type OrderSyncOutcome,
  syncOrder,
} from '#shared/flows/order-sync.ts';
import { mappingKeysOf, mappingLookupFrom } from '#shared/ports/erp.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { LedgerRepository } from '#shared/repositories/ledger.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, powertoolsTelemetry, tracer } from '#shared/runtime/observability.ts';
import { VisibilityBackoff } from '#shared/runtime/sqs-retry.ts';

const json = <S extends z.ZodType>(schema: S) =>
  z.string().transform((text, ctx) => {
    try {
      return schema.parse(JSON.parse(text)) as z.infer<S>;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
      return z.NEVER;
    }
  });

const env = readEnv(
  z.object({
    LEDGER_TABLE_NAME: z.string().min(1),
    MAPPINGS_TABLE_NAME: z.string().min(1),
    EXCEPTIONS_TABLE_NAME: z.string().min(1),
    IDEMPOTENCY_TABLE_NAME: z.string().min(1),
    NETSUITE_ACCOUNT_ID: z.string().min(1),
    NETSUITE_BASE_URL: z.url(),
    NETSUITE_CREDENTIALS_SECRET_ID: z.string().min(1),
    ERP_MAX_CONCURRENCY: z.coerce.number().int().positive(),
    RETRY_BASE_SECONDS: z.coerce.number().int().positive(),
    RETRY_CAP_SECONDS: z.coerce.number().int().positive(),
    NETSUITE_MAPPING_CONFIG: json(
      z.object({
        customers: z.object({ online: z.string(), pos: z.string() }),
        items: z.object({
          discount: z.string(),
          shipping: z.string(),
          tax: z.string(),
          giftCard: z.string(),
        }),
        currencies: z.record(z.string(), z.string()),
        onlineLocationId: z.string().optional(),
        timeZone: z.string().optional(),
      }),
    ),
  }),
);

const dynamo = tracer.captureAWSv3Client(new DynamoDBClient({}));
const documents = DynamoDBDocumentClient.from(dynamo);
const exceptions = new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME);
const auth = new NetSuiteAuth({
  tokenUrl: `${env.NETSUITE_BASE_URL}${NETSUITE_TOKEN_PATH}`,
  // Read when a token is first needed and cached by Powertools; never logged.
  credentials: async () =>
    NetSuiteCredentialsSchema.parse(
      await getSecret(env.NETSUITE_CREDENTIALS_SECRET_ID, { transform: 'json', maxAge: 300 }),
    ),
});
const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
const deps = {
  erp: new NetSuiteErpAdapter({
    client: new NetSuiteClient({
      baseUrl: env.NETSUITE_BASE_URL,
      accountId: env.NETSUITE_ACCOUNT_ID,
      auth,
      maxConcurrency: env.ERP_MAX_CONCURRENCY,
    }),
    mappings: mappingLookupFrom(mappings),
    config: env.NETSUITE_MAPPING_CONFIG,
  }),
  ledger: new LedgerRepository(documents, env.LEDGER_TABLE_NAME),
  // An order's lease outlives the function's 60 s timeout, so a timed-out holder's write can never
  // land after the next holder's.
  leaseMs: 90_000,
  exceptions,
  telemetry: powertoolsTelemetry,
  log: logger,
};

/** A producer sending the same change twice is harmless: the business key, not the message id, decides. */
const idempotency = new IdempotencyConfig({
  eventKeyJmesPath: 'detail.metadata.idempotencyKey',
  expiresAfterSeconds: 7 * 24 * 3600,
});
/** Failed records come back after a backoff on their receive count, not the queue's 2-minute timeout. */
const backoff = new VisibilityBackoff(
  tracer.captureAWSv3Client(new SQSClient({})),
  { baseSeconds: env.RETRY_BASE_SECONDS, capSeconds: env.RETRY_CAP_SECONDS },
  logger,
);

/**
 * A parked outcome must not be remembered by the idempotency record: once the cause is fixed, the same
 * event (a replay from the exceptions table or the bus archive) has to post. Thrown out of the
 * idempotent function — Powertools then deletes its record — and turned back into the outcome below.
 */
class ParkedOutcome extends Error {
  constructor(readonly outcome: OrderSyncOutcome) {
    super('order parked');
  }
}

const syncOnce = makeIdempotent(
  async (event: OrderBusEvent) => {
    const outcome = await syncOrder(event, deps);
    if (outcome.status === 'parked') throw new ParkedOutcome(outcome);
    return outcome;
  },
  {
    persistenceStore: new DynamoDBPersistenceLayer({
      tableName: env.IDEMPOTENCY_TABLE_NAME,
      awsSdkV3Client: dynamo,
    }),
    config: idempotency,
    keyPrefix: 'erp-order-sync',
  },
);

/** Each record is parsed once per invocation (the mapping prefetch reads the same events). */
const parsedRecords = new WeakMap<SQSRecord, ReturnType<typeof OrderBusEventSchema.safeParse>>();
function parse(sqsRecord: SQSRecord) {
  let parsed = parsedRecords.get(sqsRecord);
  if (!parsed) {
    parsed = OrderBusEventSchema.safeParse(JSON.parse(sqsRecord.body));
    parsedRecords.set(sqsRecord, parsed);
  }
  return parsed;
}

async function record(sqsRecord: SQSRecord) {
  const parsed = parse(sqsRecord);
  if (!parsed.success) {
    // Not an order event this consumer can read: never retried forever, kept for a fix and a replay.
    await exceptions.park({
      kind: 'erp-order',
      inputId: sqsRecord.messageId,
      at: new Date(Number(sqsRecord.attributes.SentTimestamp)).toISOString(),
      code: 'MALFORMED_EVENT',
      reason: 'order event does not match the canonical schema',
      issues: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`),
      transactionId: sqsRecord.messageId,
      attributes: { queue: sqsRecord.eventSourceARN },
      payload: Buffer.from(sqsRecord.body),
    });
    return { status: 'parked' };
  }
  try {
    return await syncOnce(parsed.data);
  } catch (error) {
    if (error instanceof ParkedOutcome) return error.outcome;
    // The record goes back to the queue after a backoff; say why, so retries and their cause are visible.
    const { metadata } = parsed.data.detail;
    // An order busy in another consumer is free again within a lease: retry it soon (not so soon that a
    // crashed holder's lease burns the receives an outage needs).
    const retryInSeconds = await backoff.delay(
      sqsRecord,
      error instanceof OrderBusyError || error instanceof IdempotencyAlreadyInProgressError ? 5 : undefined,
    );
    logger.warn('order sync failed; the record will be retried', {
      transactionId: metadata.transactionId,
      idempotencyKey: metadata.idempotencyKey,
      receiveCount: sqsRecord.attributes.ApproximateReceiveCount,
      retryInSeconds,
      error: error as Error,
      code: (error as { code?: string }).code,
      retryable: (error as { retryable?: boolean }).retryable,
    });
    throw error;
  }
}

const processor = new BatchProcessor(EventType.SQS);

/**
 * Fetches the mappings the whole batch needs in one BatchGetItem instead of a GetItem per order line.
 * Best effort: on failure each lookup reads its own key as before.
 */
async function prefetchMappings(event: SQSEvent): Promise<void> {
  try {
    const keys = event.Records.flatMap((sqsRecord) => {
      const parsed = parse(sqsRecord);
      return parsed.success ? mappingKeysOf(parsed.data.detail.data) : [];
    });
    await mappings.prefetch(keys);
  } catch (error) {
    logger.warn('could not prefetch the batch mappings; looking them up one by one', {
      error: error as Error,
    });
  }
}

/** SQS `erp-orders` → ERP, with partial batch responses: only failed records come back. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    idempotency.registerLambdaContext(context);
    await prefetchMappings(event);
    return processPartialResponse(event, record, processor, { context });
  });
