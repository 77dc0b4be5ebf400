import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { netSuiteErp } from '../connectors/netsuite/adapter.ts';
import { NetSuiteCredentialsSchema } from '../connectors/netsuite/auth.ts';
import { NetSuiteMappingConfigSchema } from '../connectors/netsuite/mapper.ts';
import { traceRecorder } from '../ops/trace.ts';
import { mappingLookupFrom } from '../ports/erp.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { LedgerRepository } from '../repositories/ledger.ts';
import { MappingRepository } from '../repositories/mappings.ts';
import { jsonVariable } from '../runtime/env.ts';
import { powertoolsBusinessKeyIdempotency } from '../runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '../runtime/key-prefixes.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerJson } from '../runtime/secrets.ts';
import { VisibilityBackoff } from '../runtime/sqs-retry.ts';
import { syncOrder } from './order-sync.ts';
import { type ErpBusEvent, OrderSyncBatch, throwParked } from './order-sync-batch.ts';
import { syncPosRefund } from './refund-sync.ts';

const name = z.string().min(1);
const count = z.coerce.number().int().positive();

/** The erp-order-sync function's environment, as the OrderCapture flow sets it. */
export const OrderSyncEnvSchema = z.object({
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
  /** Trace checkpoints (infra/constructs/trace.ts); unset: none are written. */
  TRACE_TABLE_NAME: name.optional(),
});
export type OrderSyncEnv = z.infer<typeof OrderSyncEnvSchema>;

/**
 * The ERP order consumer wired from its environment and the clients the handler built (traced there):
 * NetSuite, the ledger, the mappings, parking, business-key idempotency that never remembers a parked
 * outcome, and the visibility backoff for failed records.
 */
export function orderSyncConsumer(
  env: OrderSyncEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly sqs: SQSClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
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
    // Counted for the ERP throttling alarm (infra/constructs/hub-monitoring.ts).
    onEvent: (event) => {
      if (event.type === 'throttled') observability.telemetry.count('ErpThrottled');
    },
    mappings: mappingLookupFrom(mappings),
    config: env.NETSUITE_MAPPING_CONFIG,
  });
  const syncDeps = {
    erp,
    ledger: new LedgerRepository(documents, env.LEDGER_TABLE_NAME),
    // The order lease (90 s) outlives the 60 s timeout: a timed-out holder's write never lands after the next one's.
    leaseMs: 90_000,
    exceptions,
    ...observability,
  };
  // Idempotent on the business key (a producer sending twice is harmless); parked outcomes are not remembered.
  // POS refunds share the queue, the pacing and the idempotency of orders: one cash refund per refund.
  const refundDeps = { erp, ledger: syncDeps.ledger, exceptions, ...observability };
  const idempotency = powertoolsBusinessKeyIdempotency(
    throwParked((event: ErpBusEvent) =>
      event['detail-type'] === 'RefundCreated'
        ? syncPosRefund(event, refundDeps)
        : syncOrder(event, syncDeps),
    ),
    {
      tableName: env.IDEMPOTENCY_TABLE_NAME,
      client: clients.dynamo,
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
    backoff: new VisibilityBackoff(clients.sqs, retry, observability.log),
    prefetchMappings: (keys) => mappings.prefetch(keys),
    log: observability.log,
    trace: traceRecorder({
      documents,
      tableName: env.TRACE_TABLE_NAME,
      service: 'erp-order-sync',
      ...observability,
    }),
  });
  return { batch, registerLambdaContext: idempotency.registerLambdaContext };
}
