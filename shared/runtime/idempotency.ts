import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  IdempotencyValidationError,
  makeIdempotent,
} from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import {
  DELIVERY_RECORD_TTL_SECONDS,
  DeliveryConflictError,
  type DeliveryDeduplicator,
  DeliveryInProgressError,
  type DeliveryOutcome,
} from '../ingress/webhook.ts';

export { DELIVERY_RECORD_TTL_SECONDS };

export interface PowertoolsDeduplicator {
  readonly deduplicate: DeliveryDeduplicator;
  /** Registers the invocation so that an in-progress record expires with the Lambda's remaining time. */
  registerLambdaContext(context: Context): void;
}

/**
 * Delivery de-duplication on Powertools idempotency (DynamoDB layout: key `id`, TTL `expiration`).
 * The key is the delivery id; the body hash is validated so that a reused id with another body is a
 * conflict, not a silent duplicate. A failed delivery leaves no record (Powertools deletes it on
 * error), so the sender's retry is processed again.
 */
export function powertoolsDeduplicator(options: {
  readonly tableName: string;
  readonly client: DynamoDBClient;
  readonly keyPrefix: string;
  /** How long a delivery is remembered. @default {@link DELIVERY_RECORD_TTL_SECONDS} */
  readonly expiresAfterSeconds?: number;
}): PowertoolsDeduplicator {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: 'key',
    payloadValidationJmesPath: 'bodyHash',
    expiresAfterSeconds: options.expiresAfterSeconds ?? DELIVERY_RECORD_TTL_SECONDS,
    throwOnNoIdempotencyKey: true,
    responseHook: (response) => ({ ...(response as object), duplicate: true }),
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
  });
  const run = makeIdempotent(
    async (_delivery: { key: string; bodyHash: string }, work: () => Promise<DeliveryOutcome>) => work(),
    { persistenceStore, config, keyPrefix: options.keyPrefix },
  );
  return {
    registerLambdaContext: (context) => config.registerLambdaContext(context),
    deduplicate: async (delivery, work) => {
      try {
        return (await run({ key: delivery.key, bodyHash: delivery.bodyHash }, work)) as DeliveryOutcome;
      } catch (error) {
        if (error instanceof IdempotencyAlreadyInProgressError)
          throw new DeliveryInProgressError(error.message);
        if (error instanceof IdempotencyValidationError) throw new DeliveryConflictError(error.message);
        throw error;
      }
    },
  };
}

export interface BusinessKeyIdempotency<T, R> {
  /** `work`, run at most once per business key while the record lives; a failure leaves no record. */
  readonly run: (event: T) => Promise<R>;
  registerLambdaContext(context: Context): void;
  /** True when another invocation holds the same key right now (retry soon). */
  isInProgress(error: unknown): boolean;
}

/**
 * Consumer idempotency on a business key read from the event (`eventKeyJmesPath`), on Powertools'
 * DynamoDB layout: a producer sending the same change twice is harmless, whatever the message id.
 */
export function powertoolsBusinessKeyIdempotency<T, R>(
  work: (event: T) => Promise<R>,
  options: {
    readonly tableName: string;
    readonly client: DynamoDBClient;
    readonly keyPrefix: string;
    readonly eventKeyJmesPath: string;
    readonly expiresAfterSeconds: number;
  },
): BusinessKeyIdempotency<T, R> {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: options.eventKeyJmesPath,
    expiresAfterSeconds: options.expiresAfterSeconds,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
  });
  return {
    run: makeIdempotent(work, { persistenceStore, config, keyPrefix: options.keyPrefix }),
    registerLambdaContext: (context) => config.registerLambdaContext(context),
    isInProgress: (error) => error instanceof IdempotencyAlreadyInProgressError,
  };
}
