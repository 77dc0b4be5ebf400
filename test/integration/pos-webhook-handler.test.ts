import { gunzipSync } from 'node:zlib';
import {
  CreateTableCommand,
  type DynamoDBClient,
  GetItemCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { SquareSandbox } from '#sandbox/square/index.ts';
import { signSquareBody } from '#shared/connectors/square/webhook-signature.ts';
import { start } from '#test/sandbox/helpers.ts';
import { AwsStub } from '#test/support/aws-stubs.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';
import { orderWebhookBody } from '#test/support/square.ts';

/**
 * The real pos-webhook handler module (middy, Powertools, SDK clients, the Square client) against
 * DynamoDB Local, a stub EventBridge/Secrets Manager and the Square sandbox over HTTP: de-duplication
 * is Powertools idempotency with real conditional writes, the first-completion marker a real
 * UpdateItem, the order and catalog real HTTP calls.
 */
const suffix = Date.now().toString(36);
const IDEMPOTENCY_TABLE = `pos-idempotency-${suffix}`;
const SIGNATURE_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:square-signature-key';
const TOKEN_SECRET = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:square-access-token';
const KEY = 'integration-square-key';
const DOMAIN = 'pos.hooks.example.com';
const NOTIFICATION_URL = `https://${DOMAIN}/webhooks/pos`;

type Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2>;

const stub = new AwsStub();
let handler: Handler;
let dynamodb: DynamoDBClient;
let ledgerTable = '';
let exceptionsTable = '';
let sandbox: SquareSandbox;
let server: StartedServer;
let invocations = 0;

function context(): Context {
  const deadline = Date.now() + 10_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'pos-webhook',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:pos-webhook',
    memoryLimitInMB: '512',
    awsRequestId: `req-${++invocations}`,
    logGroupName: '/aws/lambda/pos-webhook',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The event API Gateway hands the function for a delivery signed for `signedFor`. */
function request(body: string, signedFor = NOTIFICATION_URL): APIGatewayProxyEventV2 {
  return {
    version: '2.0',
    routeKey: 'POST /webhooks/pos',
    rawPath: '/webhooks/pos',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: DOMAIN,
      'x-forwarded-proto': 'https',
      'x-forwarded-port': '443',
      'x-square-hmacsha256-signature': signSquareBody(body, signedFor, KEY),
    },
    requestContext: { domainName: DOMAIN } as APIGatewayProxyEventV2['requestContext'],
    body,
    isBase64Encoded: false,
  };
}

/**
 * One sale in the sandbox and the body that announces it: for a register sale the COMPLETED payment
 * event (Square publishes no order event for it), for an API-made order (`api`) its `order.updated`.
 */
async function sale(
  seed: number,
  kind: 'register' | 'api' = 'register',
): Promise<{ orderId: string; body: string }> {
  const { sales } = (await sandbox.scenario(kind === 'api' ? { apiSales: 1, seed } : { sales: 1, seed })) as {
    sales: string[];
  };
  const orderId = sales[0] ?? '';
  const event = sandbox.store.events.find((e) =>
    kind === 'api'
      ? e.type === 'order.updated' && e.data.id === orderId
      : e.type.startsWith('payment.') &&
        (e.data.object.payment as { order_id: string; status: string }).order_id === orderId &&
        (e.data.object.payment as { status: string }).status === 'COMPLETED',
  );
  if (!event) throw new Error(`no ${kind} event for sale ${orderId}`);
  return { orderId, body: JSON.stringify(event) };
}

const status = (response: APIGatewayProxyStructuredResultV2) => response.statusCode;
const bodyOf = (response: APIGatewayProxyStructuredResultV2) =>
  JSON.parse(String(response.body)) as Record<string, unknown>;
/** The order events put on the bus since entry `index`. */
const orderEntriesSince = (index: number) =>
  stub.entries.slice(index).filter((entry) => String(entry.DetailType).startsWith('Order'));
const detailOf = (index: number) =>
  JSON.parse(stub.entries[index]?.Detail ?? '{}') as {
    metadata: { idempotencyKey: string };
    data: { source: { orderId: string; account: string }; lines: { sku: string | null }[] };
  };

beforeAll(async () => {
  sandbox = new SquareSandbox({ seed: 21, items: 80, stores: 3 });
  ({ server } = await start(sandbox));
  const stubUrl = await stub.start();
  stub.secrets.set(SIGNATURE_SECRET, JSON.stringify({ current: KEY, previous: 'older-key' }));
  stub.secrets.set(TOKEN_SECRET, JSON.stringify({ accessToken: sandbox.accessToken }));
  ({ client: dynamodb } = localDynamo());
  await dynamodb.send(
    new CreateTableCommand({
      TableName: IDEMPOTENCY_TABLE,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  ledgerTable = await createPkSkTable(dynamodb, 'pos-ledger');
  exceptionsTable = await createPkSkTable(dynamodb, 'pos-exceptions');
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
    AWS_ENDPOINT_URL_EVENTBRIDGE: stubUrl,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: stubUrl,
    AWS_LAMBDA_FUNCTION_NAME: 'pos-webhook',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_TRACE_ENABLED: 'false',
    EVENT_BUS_NAME: 'omnihub-test',
    IDEMPOTENCY_TABLE_NAME: IDEMPOTENCY_TABLE,
    EXCEPTIONS_TABLE_NAME: exceptionsTable,
    LEDGER_TABLE_NAME: ledgerTable,
    SQUARE_SIGNATURE_KEY_SECRET_ID: SIGNATURE_SECRET,
    SQUARE_ACCESS_TOKEN_SECRET_ID: TOKEN_SECRET,
    SQUARE_BASE_URL: server.urlOf('square'),
    SQUARE_API_VERSION: '2025-08-20',
    MAX_BODY_BYTES: String(1024 * 1024),
  });
  ({ handler } = (await import('../../functions/pos-webhook/handler.ts')) as { handler: Handler });
});

afterAll(async () => {
  await stub.stop();
  await server?.close();
});

beforeEach(() => {
  stub.failNextPutEvents = 0;
  sandbox.faults.configure({});
});

describe('pos-webhook handler (DynamoDB Local, Square sandbox)', () => {
  it('publishes a register sale from its payment event once, with its catalog SKUs, however often Square redelivers it', async () => {
    const { orderId, body } = await sale(1);
    const before = stub.entries.length;

    const responses = [];
    for (let attempt = 0; attempt < 3; attempt += 1) responses.push(await handler(request(body), context()));

    expect(responses.map(status)).toEqual([200, 200, 200]);
    expect(bodyOf(responses[1] as APIGatewayProxyStructuredResultV2)).toMatchObject({
      status: 'published',
      duplicate: true,
    });
    // Order events (a sale also publishes the stock it moved: InventoryAdjusted, checked in the unit tests).
    expect(orderEntriesSince(before)).toHaveLength(1);
    expect(stub.entries[before]).toMatchObject({
      Source: 'omnihub.pos',
      DetailType: 'OrderCreated',
      EventBusName: 'omnihub-test',
    });
    const detail = detailOf(before);
    expect(detail.data.source).toMatchObject({ orderId, account: sandbox.store.merchantId });
    const order = sandbox.store.orders.get(orderId);
    expect(detail.data.lines.map((line) => line.sku)).toEqual(
      order?.line_items?.map(
        (line) => sandbox.store.variations.get(line.catalog_object_id)?.item_variation_data.sku,
      ),
    );

    const records = (
      await dynamodb.send(new ScanCommand({ TableName: IDEMPOTENCY_TABLE, ConsistentRead: true }))
    ).Items?.map((item) => unmarshall(item)).filter((record) => String(record.id).startsWith('pos-webhook#'));
    expect(records?.some((record) => record.status === 'COMPLETED')).toBe(true);
    // Square retries for 72 hours: the record outlives them.
    expect(Number(records?.[0]?.expiration)).toBeGreaterThan(Date.now() / 1000 + 3 * 24 * 3600);

    const marker = await dynamodb.send(
      new GetItemCommand({
        TableName: ledgerTable,
        Key: { pk: { S: `POSORDER#${sandbox.store.merchantId}#${orderId}` }, sk: { S: 'FIRST_COMPLETION' } },
        ConsistentRead: true,
      }),
    );
    // A register order has no version: its updated_at (ms) stands in.
    expect(marker.Item?.firstCompletedVersion?.N).toBe(String(Date.parse(order?.updated_at ?? '')));
    const captured = await dynamodb.send(
      new GetItemCommand({
        TableName: ledgerTable,
        Key: { pk: { S: `POSORDER#${sandbox.store.merchantId}#${orderId}` }, sk: { S: 'CAPTURED' } },
        ConsistentRead: true,
      }),
    );
    expect(captured.Item?.capturedVersion?.N).toBe(marker.Item?.firstCompletedVersion?.N);
  });

  it('publishes a later version of the order as OrderUpdated under its own key', async () => {
    const { orderId } = await sale(2, 'api');
    const first = orderWebhookBody(
      { id: orderId },
      {
        createdAt: new Date().toISOString(),
        merchantId: sandbox.store.merchantId,
        eventId: `${orderId}-v4`,
        version: 4,
      },
    );
    const order = sandbox.store.orders.get(orderId);
    if (!order) throw new Error('sale missing');
    const before = stub.entries.length;
    expect(status(await handler(request(first), context()))).toBe(200);

    order.version = 5;
    order.updated_at = new Date(Date.parse(order.updated_at) + 60_000).toISOString();
    const second = orderWebhookBody(
      { id: orderId },
      {
        createdAt: new Date().toISOString(),
        merchantId: sandbox.store.merchantId,
        eventId: `${orderId}-v5`,
        version: 5,
      },
    );
    expect(status(await handler(request(second), context()))).toBe(200);

    expect(orderEntriesSince(before).map((entry) => entry.DetailType)).toEqual([
      'OrderCreated',
      'OrderUpdated',
    ]);
    const updated = orderEntriesSince(before)[1];
    expect(JSON.parse(updated?.Detail ?? '{}').metadata.idempotencyKey).toBe(
      `pos:${sandbox.store.merchantId}:order:${orderId}:OrderUpdated:5`,
    );
  });

  it('verifies against the URL API Gateway reports: a delivery signed for another URL is refused', async () => {
    const { body } = await sale(3);
    const before = stub.entries.length;
    const response = await handler(request(body, `http://${DOMAIN}/webhooks/pos`), context());
    expect(status(response)).toBe(401);
    expect(stub.entries.length).toBe(before);
  });

  it('answers 503 while Square is down and publishes when Square redelivers after the outage', async () => {
    const { body } = await sale(4);
    const before = stub.entries.length;
    sandbox.faults.configure({ outage: { durationMs: 60_000 } });
    expect(status(await handler(request(body), context()))).toBe(503);
    expect(stub.entries.length).toBe(before);

    sandbox.faults.configure({});
    const retried = await handler(request(body), context());
    expect(status(retried)).toBe(200);
    expect(bodyOf(retried)).toMatchObject({ status: 'published' });
    expect(orderEntriesSince(before)).toHaveLength(1);
  });

  it('parks a notification for an order Square does not have, once, with its body', async () => {
    const body = orderWebhookBody(
      { id: 'NOSUCHORDER000000000000000000' },
      {
        createdAt: new Date().toISOString(),
        merchantId: sandbox.store.merchantId,
        eventId: 'evt-missing-order',
      },
    );
    const first = await handler(request(body), context());
    const retry = await handler(request(body), context());
    expect(status(first)).toBe(200);
    expect(bodyOf(first)).toMatchObject({ status: 'parked' });
    expect(bodyOf(retry)).toMatchObject({ status: 'parked', duplicate: true });

    const parked = (
      await dynamodb.send(new ScanCommand({ TableName: exceptionsTable, ConsistentRead: true }))
    ).Items?.map((item) => unmarshall(item)).filter((item) => item.inputId === 'evt-missing-order');
    expect(parked).toHaveLength(1);
    expect(parked?.[0]).toMatchObject({
      pk: 'EXC#pos-webhook',
      status: 'PARKED',
      code: 'POS_NOT_FOUND',
      attributes: { orderId: 'NOSUCHORDER000000000000000000', notificationUrl: NOTIFICATION_URL },
    });
    expect(gunzipSync(parked?.[0]?.payload as Uint8Array).toString()).toBe(body);
  });
});
