import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import type { Order } from '#shared/events/order.ts';
import { type OrderBusEvent, OrderBusyError, type OrderSyncOutcome } from '#shared/flows/order-sync.ts';
import {
  BUSY_RETRY_SECONDS,
  type ErpBusEvent,
  OrderSyncBatch,
  throwParked,
} from '#shared/flows/order-sync-batch.ts';
import { ErpThrottledError } from '#shared/ports/erp-errors.ts';
import { powertoolsBusinessKeyIdempotency } from '#shared/runtime/idempotency.ts';
import { localDynamo } from '#test/support/dynamodb.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';

/**
 * The ERP order consumer's batch logic with real Powertools idempotency on DynamoDB Local: what is
 * parked, what is remembered, what is retried and after how long.
 */
const order = shopifyTopicMapper('orders/updated')?.(parseShopifyJson(shopifyWebhookBody('orders/updated')), {
  shopDomain: 'acme.myshopify.com',
  currency: 'USD',
})[0]?.data as Order;

let sequence = 0;
function orderEvent(): OrderBusEvent {
  sequence += 1;
  return {
    id: `ev-${sequence}`,
    'detail-type': 'OrderUpdated',
    source: 'omnihub.shopify',
    detail: {
      metadata: {
        eventId: `00000000-0000-8000-8000-${String(sequence).padStart(12, '0')}`,
        schemaVersion: '1.0',
        transactionId: `tx-${sequence}`,
        idempotencyKey: `batch-test-${Date.now()}-${sequence}`,
        occurredAt: order.updatedAt,
        receivedAt: order.updatedAt,
        origin: { system: 'shopify', account: 'acme.myshopify.com' },
      },
      data: order,
    },
  };
}

function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  sequence += 1;
  return {
    messageId: `msg-${sequence}`,
    receiptHandle: 'handle',
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: '1764720000000',
      SenderId: 'events',
      ApproximateFirstReceiveTimestamp: '1764720000000',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:erp-orders',
    awsRegion: 'us-east-1',
  };
}

const silentLog = { info: () => {}, warn: () => {}, error: () => {} };

describe('OrderSyncBatch', () => {
  const { client } = localDynamo();
  const tableName = `order-batch-idempotency-${Date.now().toString(36)}`;
  beforeAll(async () => {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  });

  /** A batch whose sync answers `outcomes` in turn (an Error is thrown), wrapped as the handler wraps it. */
  function batchWith(outcomes: (OrderSyncOutcome | Error)[]) {
    const calls: string[] = [];
    const delays: (number | undefined)[] = [];
    const exceptions = new RecordingExceptions();
    const idempotency = powertoolsBusinessKeyIdempotency(
      throwParked(async (event: ErpBusEvent) => {
        calls.push(event.detail.metadata.idempotencyKey);
        const next = outcomes.shift();
        if (!next) throw new Error('no more outcomes');
        if (next instanceof Error) throw next;
        return next;
      }),
      {
        tableName,
        client,
        keyPrefix: 'erp-order-sync',
        eventKeyJmesPath: 'detail.metadata.idempotencyKey',
        expiresAfterSeconds: 3600,
      },
    );
    const prefetched: number[] = [];
    const batch = new OrderSyncBatch({
      syncOnce: idempotency.run,
      isBusy: idempotency.isInProgress,
      exceptions,
      backoff: {
        delay: async (_record, seconds) => {
          delays.push(seconds);
          return seconds ?? 10;
        },
      },
      prefetchMappings: async (keys) => {
        prefetched.push(keys.length);
      },
      log: silentLog,
    });
    return { batch, calls, delays, exceptions, prefetched };
  }

  it('parks a record that is not JSON or not a canonical order event, with the issues, and does not retry it', async () => {
    const { batch, calls, exceptions } = batchWith([]);
    const notJson = await batch.record(sqsRecord('{"detail": '));
    const wrongShape = await batch.record(
      sqsRecord(JSON.stringify({ ...orderEvent(), 'detail-type': 'OrderShipped' })),
    );
    expect(notJson).toMatchObject({ status: 'parked', code: 'MALFORMED_EVENT' });
    expect(wrongShape).toMatchObject({ status: 'parked', code: 'MALFORMED_EVENT' });
    expect(calls).toEqual([]);
    expect(exceptions.parked.map((parked) => parked.code)).toEqual(['MALFORMED_EVENT', 'MALFORMED_EVENT']);
    expect(exceptions.parked[1]?.issues.join('\n')).toContain('detail-type');
    expect(exceptions.parked[1]?.payload.toString()).toContain('OrderShipped');
    // What the malformed event still names, so that a redaction request finds it; nothing when not JSON.
    expect(exceptions.parked[0]?.subjects).toBeUndefined();
    expect(exceptions.parked[1]?.subjects).toMatchObject({ orderIds: [expect.any(String)] });
  });

  it('does not remember a parked outcome: the same event posts after the fix, then is remembered', async () => {
    const synced: OrderSyncOutcome = {
      status: 'synced',
      version: 1,
      erp: { internalId: '7', externalId: 'shopify-acme-1', recordType: 'salesOrder' },
    };
    const { batch, calls } = batchWith([
      { status: 'parked', code: 'UNKNOWN_MAPPING', exceptionId: 'e-1' },
      synced,
    ]);
    const body = JSON.stringify(orderEvent());
    await expect(batch.record(sqsRecord(body))).resolves.toMatchObject({ status: 'parked' });
    await expect(batch.record(sqsRecord(body))).resolves.toMatchObject({ status: 'synced' });
    await expect(batch.record(sqsRecord(body))).resolves.toMatchObject({ status: 'synced' });
    expect(calls).toHaveLength(2);
  });

  it('fails a record whose sync failed, after the backoff of its receive count; a busy order after 5 s', async () => {
    const { batch, delays } = batchWith([
      new ErpThrottledError('slow down', 429, 'SSS_REQUEST_LIMIT_EXCEEDED'),
      new OrderBusyError('another consumer holds it'),
    ]);
    await expect(batch.record(sqsRecord(JSON.stringify(orderEvent()), 3))).rejects.toBeInstanceOf(
      ErpThrottledError,
    );
    await expect(batch.record(sqsRecord(JSON.stringify(orderEvent())))).rejects.toBeInstanceOf(
      OrderBusyError,
    );
    expect(delays).toEqual([undefined, BUSY_RETRY_SECONDS]);
  });

  it('prefetches the mappings of every readable record at once, and goes on when that fails', async () => {
    const { batch, prefetched } = batchWith([]);
    const event = { Records: [sqsRecord(JSON.stringify(orderEvent())), sqsRecord('not json')] } as SQSEvent;
    await batch.prefetch(event);
    expect(prefetched).toHaveLength(1);
    expect(prefetched[0]).toBeGreaterThan(0);

    const failing = new OrderSyncBatch({
      syncOnce: async () => ({ status: 'skipped', reason: 'test' }),
      exceptions: new RecordingExceptions(),
      backoff: { delay: async () => undefined },
      prefetchMappings: async () => {
        throw new Error('DynamoDB unavailable');
      },
      log: silentLog,
    });
    await expect(failing.prefetch(event)).resolves.toBeUndefined();
    await expect(failing.record(event.Records[0] as SQSRecord)).resolves.toMatchObject({ status: 'skipped' });
  });
});
