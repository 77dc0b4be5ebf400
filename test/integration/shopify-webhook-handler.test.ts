import { gunzipSync } from 'node:zlib';
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { AwsStub } from '#test/support/aws-stubs.ts';
import { createPkSkTable } from '#test/support/dynamodb.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

/**
 * The real handler module (middy, Powertools, SDK clients) against DynamoDB Local: de-duplication is
 * Powertools idempotency with real conditional writes, so these tests prove the behaviour the unit
 * tests assume of the port.
 */
const suffix = Date.now().toString(36);
const IDEMPOTENCY_TABLE = `idempotency-${suffix}`;
let EXCEPTIONS_TABLE = '';
const SECRET_ID = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:shopify-webhook';

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const stub = new AwsStub();
let handler: Handler;
let dynamodb: DynamoDBClient;
let deliveries = 0;

function context(): Context {
  const deadline = Date.now() + 5_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'shopify-webhook',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shopify-webhook',
    memoryLimitInMB: '512',
    awsRequestId: `req-${++deliveries}`,
    logGroupName: '/aws/lambda/shopify-webhook',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function request(
  topic: string,
  body: string,
  webhookId: string,
  secret = 'current-secret',
): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/shopify',
    rawPath: '/webhooks/shopify',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, secret),
      'x-shopify-shop-domain': 'acme.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': webhookId,
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    requestContext: {} as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded: false,
  };
}

async function scan(table: string) {
  const result = await dynamodb.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  return (result.Items ?? []).map((item) => unmarshall(item));
}

beforeAll(async () => {
  const endpoint = inject('dynamodbEndpoint');
  const stubUrl = await stub.start();
  stub.secrets.set(
    SECRET_ID,
    JSON.stringify({
      current: 'current-secret',
      previous: 'previous-secret',
      previousUntil: new Date(Date.now() + 3600_000).toISOString(),
    }),
  );
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_EVENTBRIDGE: stubUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stubUrl,
    AWS_LAMBDA_FUNCTION_NAME: 'shopify-webhook',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    EVENT_BUS_NAME: 'omnihub-test',
    IDEMPOTENCY_TABLE_NAME: IDEMPOTENCY_TABLE,
    SHOPIFY_WEBHOOK_SECRET_ID: SECRET_ID,
    SHOPIFY_SHOPS: JSON.stringify([{ domain: 'acme.myshopify.com', currency: 'USD' }]),
    MAX_BODY_BYTES: String(1024 * 1024),
  });
  dynamodb = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await dynamodb.send(
    new CreateTableCommand({
      TableName: IDEMPOTENCY_TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  EXCEPTIONS_TABLE = await createPkSkTable(dynamodb, 'exceptions');
  process.env.EXCEPTIONS_TABLE_NAME = EXCEPTIONS_TABLE;
  ({ handler } = (await import('../../functions/shopify-webhook/handler.ts')) as { handler: Handler });
});

afterAll(async () => {
  await stub.stop();
});

beforeEach(() => {
  stub.failNextPutEvents = 0;
  stub.putEventsDelayMs = 0;
});

const status = (response: APIGatewayProxyStructuredResultV2) => response.statusCode;
const bodyOf = (response: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(String(response.body)) as Record<string, unknown>;

describe('shopify-webhook handler (DynamoDB Local)', () => {
  it('publishes a signed delivery once, however often it is retried', async () => {
    const body = shopifyWebhookBody('orders/create');
    const before = stub.entries.length;

    const first = await handler(request('orders/create', body, 'delivery-1'), context());
    const second = await handler(request('orders/create', body, 'delivery-1'), context());
    const third = await handler(request('orders/create', body, 'delivery-1'), context());

    expect([status(first), status(second), status(third)]).toEqual([200, 200, 200]);
    expect(bodyOf(second)).toMatchObject({ status: 'published', duplicate: true });
    expect(stub.entries.length - before).toBe(1);
    const [entry] = stub.entries.slice(before);
    expect(entry).toMatchObject({
      Source: 'omnihub.shopify',
      DetailType: 'OrderCreated',
      EventBusName: 'omnihub-test',
    });
    expect(JSON.parse(entry?.Detail ?? '{}').data.source.orderId).toBe('820982911946154508');

    const records = (await scan(IDEMPOTENCY_TABLE)).filter((record) =>
      String(record.id).startsWith('shopify-webhook#'),
    );
    expect(records.some((record) => record.status === 'COMPLETED')).toBe(true);
    expect(Number(records[0]?.expiration)).toBeGreaterThan(Date.now() / 1000 + 24 * 3600);
  });

  it('answers 503 when PutEvents rejects the entry and publishes when Shopify retries', async () => {
    const body = shopifyWebhookBody('orders/updated');
    const before = stub.entries.length;
    stub.failNextPutEvents = 1;

    const failed = await handler(request('orders/updated', body, 'delivery-2'), context());
    expect(status(failed)).toBe(503);
    expect(stub.entries.length).toBe(before);

    const retried = await handler(request('orders/updated', body, 'delivery-2'), context());
    expect(status(retried)).toBe(200);
    expect(bodyOf(retried).duplicate).toBeUndefined();
    expect(stub.entries.length - before).toBe(1);
  });

  it('lets only one of two concurrent copies of a delivery through (409 for the other)', async () => {
    const body = shopifyWebhookBody('orders/cancelled');
    const before = stub.entries.length;
    stub.putEventsDelayMs = 400;

    const responses = await Promise.all([
      handler(request('orders/cancelled', body, 'delivery-3'), context()),
      handler(request('orders/cancelled', body, 'delivery-3'), context()),
    ]);

    expect(responses.map(status).sort()).toEqual([200, 409]);
    expect(stub.entries.length - before).toBe(1);
  });

  it('parks an unmappable payload in the exceptions table, once, with its reason and body', async () => {
    const body = JSON.stringify({ id: 42, currency: 'USD', line_items: [{ id: 1 }] });
    const first = await handler(request('orders/create', body, 'delivery-4'), context());
    const retry = await handler(request('orders/create', body, 'delivery-4'), context());

    expect(status(first)).toBe(200);
    expect(bodyOf(first)).toMatchObject({ status: 'parked' });
    expect(bodyOf(retry)).toMatchObject({ status: 'parked', duplicate: true });
    const parked = (await scan(EXCEPTIONS_TABLE)).filter((item) => item.inputId === 'delivery-4');
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({
      pk: 'EXC#shopify-webhook',
      sk: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T[\d:.]+Z#delivery-4$/),
      status: 'PARKED',
      code: 'MAPPING_FAILED',
      attributes: {
        topic: 'orders/create',
        shopDomain: 'acme.myshopify.com',
        apiVersion: '2026-10',
        webhookId: 'delivery-4',
      },
    });
    expect(String(parked[0]?.reason)).toMatch(/line_items/);
    expect(gunzipSync(parked[0]?.payload as Uint8Array).toString()).toBe(body);
  });

  it('accepts a delivery signed with the previous secret during a rotation, rejects any other', async () => {
    const body = shopifyWebhookBody('products/update');
    expect(
      status(await handler(request('products/update', body, 'delivery-5', 'previous-secret'), context())),
    ).toBe(200);
    expect(
      status(await handler(request('products/update', body, 'delivery-6', 'some-other-secret'), context())),
    ).toBe(401);
  });
});
