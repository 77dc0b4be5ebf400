import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { NETSUITE_TOKEN_PATH, NetSuiteAuth, NetSuiteCredentialsSchema } from '../connectors/netsuite/auth.ts';
import { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { upsertJournalEntry } from '../connectors/netsuite/journal.ts';
import { NetSuiteMappingConfigSchema } from '../connectors/netsuite/mapper.ts';
import { SquareClient } from '../connectors/square/client.ts';
import { shopifyGraphql } from '../inventory/shopify-publisher.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { FinancePostingRepository } from '../repositories/finance-postings.ts';
import { LedgerRepository, orderKey } from '../repositories/ledger.ts';
import { jsonVariable } from '../runtime/env.ts';
import { powertoolsBusinessKeyIdempotency } from '../runtime/idempotency.ts';
import { IDEMPOTENCY_KEY_PREFIXES } from '../runtime/key-prefixes.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerJson } from '../runtime/secrets.ts';
import { VisibilityBackoff } from '../runtime/sqs-retry.ts';
import type { FinanceCollectorDeps } from './collector.ts';
import { FinanceAccountsSchema } from './journal.ts';
import type { BookedOrder } from './payout-check.ts';
import {
  type FinanceBusEvent,
  FinanceBusEventSchema,
  PayoutAwaitingBookingsError,
  type PostingOutcome,
  postFinanceEvent,
} from './poster.ts';

const name = z.string().min(1);
const count = z.coerce.number().int().positive();

/** The finance-collector function's environment, as the Finance flow sets it. */
export const FinanceCollectorEnvSchema = z.object({
  EVENT_BUS_NAME: name,
  /** `[{"domain","baseUrl","tokenSecretId"}]`: the shops whose payouts are read. */
  FINANCE_SHOPS: jsonVariable(z.array(z.object({ domain: name, baseUrl: z.url(), tokenSecretId: name }))),
  SQUARE_ACCESS_TOKEN_SECRET_ID: name,
  SQUARE_BASE_URL: z.url(),
  SQUARE_API_VERSION: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  SQUARE_MERCHANT_IDS: jsonVariable(z.array(name).min(1)).optional(),
  PAYOUT_LOOKBACK_DAYS: count,
  TAKINGS_LOOKBACK_DAYS: count,
  CLOSE_GRACE_MINUTES: z.coerce.number().int().min(0),
});
export type FinanceCollectorEnv = z.infer<typeof FinanceCollectorEnvSchema>;

export function financeCollectorDeps(
  env: FinanceCollectorEnv,
  clients: { readonly eventBridge: EventBridgeClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
): FinanceCollectorDeps {
  const square = new SquareClient({
    baseUrl: env.SQUARE_BASE_URL,
    apiVersion: env.SQUARE_API_VERSION,
    token: secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID),
  });
  return {
    shops: env.FINANCE_SHOPS.map((shop) => {
      const token = secretsManagerAccessToken(shop.tokenSecretId);
      return {
        domain: shop.domain,
        graphql: async (document, variables) =>
          shopifyGraphql({ baseUrl: shop.baseUrl, accessToken: await token.token() })(document, variables),
      };
    }),
    square: {
      listLocationZones: () => square.listLocationZones(),
      listPayments: (q) => square.listPayments(q),
      listPaymentRefunds: (q) => square.listPaymentRefunds(q),
      retrievePayment: (id) => square.retrievePayment(id),
    },
    publisher: new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME),
    payoutLookbackDays: env.PAYOUT_LOOKBACK_DAYS,
    takingsLookbackDays: env.TAKINGS_LOOKBACK_DAYS,
    closeGraceMinutes: env.CLOSE_GRACE_MINUTES,
    ...(env.SQUARE_MERCHANT_IDS ? { merchants: new Set(env.SQUARE_MERCHANT_IDS) } : {}),
    ...observability,
  };
}

/** The finance-poster function's environment, as the Finance flow sets it. */
export const FinancePosterEnvSchema = z.object({
  LEDGER_TABLE_NAME: name,
  EXCEPTIONS_TABLE_NAME: name,
  IDEMPOTENCY_TABLE_NAME: name,
  NETSUITE_ACCOUNT_ID: name,
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_CREDENTIALS_SECRET_ID: name,
  ERP_MAX_CONCURRENCY: count,
  RETRY_BASE_SECONDS: count,
  RETRY_CAP_SECONDS: count,
  NETSUITE_MAPPING_CONFIG: jsonVariable(NetSuiteMappingConfigSchema),
  FINANCE_ACCOUNTS: jsonVariable(FinanceAccountsSchema),
  BOOKING_GRACE_SECONDS: z.coerce.number().int().min(0),
});
export type FinancePosterEnv = z.infer<typeof FinancePosterEnvSchema>;

class ParkedOutcomeError extends Error {
  constructor(readonly outcome: PostingOutcome) {
    super('finance document parked');
  }
}

/**
 * The finance queue's consumer: each record a canonical finance event, posted once per business key
 * (Powertools idempotency on `detail.metadata.idempotencyKey`; a parked outcome is not remembered, so a
 * replay after the fix posts), a record that is no finance event parked (`MALFORMED_EVENT`), any other
 * failure retried after the queue's backoff.
 */
export function financePosterConsumer(
  env: FinancePosterEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly sqs: SQSClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const exceptions = new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME);
  const ledger = new LedgerRepository(documents, env.LEDGER_TABLE_NAME);
  const client = new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    accountId: env.NETSUITE_ACCOUNT_ID,
    auth: new NetSuiteAuth({
      tokenUrl: `${env.NETSUITE_BASE_URL}${NETSUITE_TOKEN_PATH}`,
      credentials: secretsManagerJson(
        env.NETSUITE_CREDENTIALS_SECRET_ID,
        NetSuiteCredentialsSchema,
        'NetSuite M2M credentials',
      ),
    }),
    maxConcurrency: env.ERP_MAX_CONCURRENCY,
  });
  const booking = {
    currencies: env.NETSUITE_MAPPING_CONFIG.currencies,
    ...(env.NETSUITE_MAPPING_CONFIG.subsidiaryId !== undefined
      ? { subsidiaryId: env.NETSUITE_MAPPING_CONFIG.subsidiaryId }
      : {}),
  };
  const deps = {
    postJournal: (journal: Parameters<typeof upsertJournalEntry>[1], transactionId: string) =>
      upsertJournalEntry(client, journal, booking, { transactionId }),
    booked: async (shop: string, orderIds: readonly string[]) => {
      const out = new Map<string, BookedOrder>();
      for (const id of orderIds) {
        const entry = await ledger.get(orderKey('shopify', shop, id));
        // A cancelled order was booked and then cancelled: nothing is left to be paid for it.
        const total =
          entry?.status === 'cancelled' ? { amount: 0, currency: entry.total?.currency ?? '' } : entry?.total;
        out.set(id, total ? { total: total.amount, currency: total.currency } : undefined);
      }
      return out;
    },
    postings: new FinancePostingRepository(documents, env.LEDGER_TABLE_NAME),
    exceptions,
    accounts: env.FINANCE_ACCOUNTS,
    bookingGraceMs: env.BOOKING_GRACE_SECONDS * 1000,
    ...observability,
  };
  const idempotency = powertoolsBusinessKeyIdempotency(
    async (event: FinanceBusEvent) => {
      const outcome = await postFinanceEvent(event, deps);
      if (outcome.status === 'parked') throw new ParkedOutcomeError(outcome);
      return outcome;
    },
    {
      tableName: env.IDEMPOTENCY_TABLE_NAME,
      client: clients.dynamo,
      keyPrefix: IDEMPOTENCY_KEY_PREFIXES.financePoster,
      eventKeyJmesPath: 'detail.metadata.idempotencyKey',
      expiresAfterSeconds: 7 * 24 * 3600,
    },
  );
  const backoff = new VisibilityBackoff(
    clients.sqs,
    { baseSeconds: env.RETRY_BASE_SECONDS, capSeconds: env.RETRY_CAP_SECONDS },
    observability.log,
  );
  const record = async (sqsRecord: SQSRecord): Promise<PostingOutcome> => {
    let body: unknown;
    try {
      body = JSON.parse(sqsRecord.body);
    } catch {
      body = undefined;
    }
    const parsed = FinanceBusEventSchema.safeParse(body);
    if (!parsed.success) {
      const { exceptionId } = await exceptions.park({
        kind: 'finance',
        inputId: sqsRecord.messageId,
        at: new Date(Number(sqsRecord.attributes.SentTimestamp)).toISOString(),
        code: 'MALFORMED_EVENT',
        reason: 'not a canonical finance event',
        issues: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`),
        transactionId: sqsRecord.messageId,
        attributes: { queue: sqsRecord.eventSourceARN },
        payload: Buffer.from(sqsRecord.body),
      });
      return { status: 'parked', code: 'MALFORMED_EVENT', exceptionId };
    }
    try {
      return await idempotency.run(parsed.data);
    } catch (error) {
      if (error instanceof ParkedOutcomeError) return error.outcome;
      // A busy key is free again in seconds; a payout waiting for its orders' bookings is looked at again every
      // 30 s (bookings take seconds to minutes), not after an ever longer backoff; anything else backs off.
      const retryInSeconds = await backoff.delay(
        sqsRecord,
        idempotency.isInProgress(error) ? 5 : error instanceof PayoutAwaitingBookingsError ? 30 : undefined,
      );
      observability.log.warn('finance posting failed; the record will be retried', {
        transactionId: parsed.data.detail.metadata.transactionId,
        retryInSeconds,
        error: error as Error,
        code: (error as { code?: string }).code,
      });
      throw error;
    }
  };
  return { record, registerLambdaContext: idempotency.registerLambdaContext };
}
