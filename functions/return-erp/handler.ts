import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { netSuiteErp } from '#shared/connectors/netsuite/adapter.ts';
import { NetSuiteCredentialsSchema } from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteMappingConfigSchema } from '#shared/connectors/netsuite/mapper.ts';
import { bookCreditMemo, ReturnStateSchema } from '#shared/flows/returns/steps.ts';
import { mappingLookupFrom } from '#shared/ports/erp.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { jsonVariable, readEnv } from '#shared/runtime/env.ts';
import { logger, metrics, tracer } from '#shared/runtime/observability.ts';
import { secretsManagerJson } from '#shared/runtime/secrets.ts';

const name = z.string().min(1);
const env = readEnv(
  z.object({
    MAPPINGS_TABLE_NAME: name,
    NETSUITE_ACCOUNT_ID: name,
    NETSUITE_BASE_URL: z.url(),
    NETSUITE_CREDENTIALS_SECRET_ID: name,
    ERP_MAX_CONCURRENCY: z.coerce.number().int().positive(),
    NETSUITE_MAPPING_CONFIG: jsonVariable(NetSuiteMappingConfigSchema),
  }),
);
const documents = DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({})));
const erp = netSuiteErp({
  baseUrl: env.NETSUITE_BASE_URL,
  accountId: env.NETSUITE_ACCOUNT_ID,
  credentials: secretsManagerJson(
    env.NETSUITE_CREDENTIALS_SECRET_ID,
    NetSuiteCredentialsSchema,
    'NetSuite M2M credentials',
  ),
  // Its own slot of the account's concurrency limit (infra/config/erp-pacing.ts): reserved concurrency 1
  // × this many calls, so returns never push order capture over the limit.
  maxConcurrency: env.ERP_MAX_CONCURRENCY,
  mappings: mappingLookupFrom(new MappingRepository(documents, env.MAPPINGS_TABLE_NAME)),
  config: env.NETSUITE_MAPPING_CONFIG,
});

const InputSchema = z.object({ state: ReturnStateSchema, transactionId: z.string().min(1) });

/**
 * Task `ErpCreditMemo` of the omnichannel-return workflow: the return's credit memo in the ERP, once.
 * Throws `ReturnStepRetryable` (retried by the state machine) or `ReturnStepFailed` (parked).
 */
export const handler = middy<unknown, unknown, Error, Context>()
  .use(captureLambdaHandler(tracer))
  .use(injectLambdaContext(logger, { clearState: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    const { state, transactionId } = InputSchema.parse(event);
    logger.appendKeys({ returnId: state.request.returnId });
    return bookCreditMemo(state, { erp, transactionId });
  });
