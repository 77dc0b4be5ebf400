import { GetExecutionHistoryCommand, SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';
import type { ShopifySandbox } from '#sandbox/shopify/index.ts';
import { lineTax } from '#sandbox/shopify/orders.ts';
import { type ShopifyGraphql, shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';

/**
 * Omnichannel returns end to end (issue #14) through the synthesized `OmnichannelReturn` state machine in
 * the local cloud, chaos on (duplicated and reordered SQS and EventBridge deliveries, failed PutEvents
 * entries). Online orders are placed and shipped in the Shopify sandbox and booked in the NetSuite sandbox
 * by order capture; the merchant then returns units in Shopify (returnCreate + returnProcess with the
 * refund), which reaches the hub as refunds/create. After each case: one execution per return with its
 * final status, one credit memo in the ERP for the refunded amount, Shopify's refunds unchanged by the hub,
 * and the restocked units on the bus for the projection (movement id = return + line).
 */

const SHOP = 'omnihub-dev.myshopify.com';
let pipeline: OrderPipeline;
let shopify: ShopifySandbox;
let gql: ShopifyGraphql;
const orderIds: string[] = [];

interface Execution {
  stateMachine: string;
  name: string;
  status: string;
  executionArn: string;
}
interface BusEvent {
  'detail-type': string;
  source: string;
  detail: { data: Record<string, unknown> };
}

const call = async <T>(document: string, variables: Record<string, unknown>): Promise<T> => {
  const answer = await gql(document, variables);
  if (answer.errors.length > 0) throw new Error(answer.errors.map((e) => e.message).join('; '));
  return answer.data as T;
};

const executions = async (): Promise<Execution[]> =>
  (await (await fetch(`${pipeline.url}/_local/executions`)).json()) as Execution[];
const returnExecutions = async () =>
  (await executions()).filter((execution) => /OmnichannelReturn/.test(execution.stateMachine));
const busEvents = async (detailType: string): Promise<BusEvent[]> =>
  (await (await fetch(`${pipeline.url}/_local/events?detail-type=${detailType}`)).json()) as BusEvent[];
const creditMemos = async () =>
  (
    await pipeline.all<{ externalId: string | null; total?: number }>(
      'netsuite',
      'type=creditMemo&full=1',
      (state) => state.records as never,
    )
  ).filter((memo) => memo.externalId?.startsWith('return-'));

/** The merchant returns `quantity` units of the order's first line in Shopify and refunds them. */
async function merchantReturn(orderId: string, quantity: number, disposition: 'RESTOCKED' | 'NOT_RESTOCKED') {
  const id = `gid://shopify/Order/${orderId}`;
  const order = await call<{
    order: {
      transactions: { id: string; kind: string }[];
      fulfillments: {
        fulfillmentLineItems: { nodes: { id: string; quantity: number; lineItem: { id: string } }[] };
      }[];
    };
  }>(
    `query($id: ID!) { order(id: $id) { transactions(first: 10) { id kind }
      fulfillments(first: 5) { fulfillmentLineItems(first: 10) { nodes { id quantity lineItem { id } } } } } }`,
    { id },
  );
  const line = order.order.fulfillments[0]?.fulfillmentLineItems.nodes[0];
  if (!line) throw new Error(`order ${orderId} has no fulfilled line`);
  const created = await call<{
    returnCreate: {
      return: { id: string; returnLineItems: { nodes: { id: string }[] } } | null;
      userErrors: { message: string }[];
    };
  }>(
    `mutation($input: ReturnInput!) { returnCreate(returnInput: $input) {
      return { id returnLineItems(first: 5) { nodes { id } } } userErrors { message } } }`,
    { input: { orderId: id, returnLineItems: [{ fulfillmentLineItemId: line.id, quantity }] } },
  );
  const ret = created.returnCreate.return;
  if (!ret) throw new Error(created.returnCreate.userErrors.map((e) => e.message).join('; '));
  const reverse = await call<{
    return: { reverseFulfillmentOrders: { nodes: { lineItems: { nodes: { id: string }[] } }[] } };
  }>(
    `query($id: ID!) { return(id: $id) { reverseFulfillmentOrders(first: 1) { nodes { lineItems(first: 5) { nodes { id } } } } } }`,
    {
      id: ret.id,
    },
  );
  const reverseLine = reverse.return.reverseFulfillmentOrders.nodes[0]?.lineItems.nodes[0]?.id;
  const warehouse = shopify.store.locations.find((location) => location.code === 'WH-01');
  const sale = order.order.transactions.find((t) => t.kind === 'SALE');
  const record = shopify.store.orderById.get(orderId);
  const unit = record?.lineItems.find((l) => line.lineItem.id.endsWith(`/${l.id}`));
  if (!reverseLine || !warehouse || !sale || !record || !unit) throw new Error('return not processable');
  // The units' price and tax, as the merchant's admin suggests the refund.
  const amount = ((unit.priceMinor * quantity + lineTax(record, unit, quantity)) / 100).toFixed(2);
  const processed = await call<{ returnProcess: { userErrors: { message: string }[] } }>(
    `mutation($input: ReturnProcessInput!) { returnProcess(input: $input) @idempotent(key: "${ret.id}") { userErrors { message } } }`,
    {
      input: {
        returnId: ret.id,
        returnLineItems: [
          {
            id: ret.returnLineItems.nodes[0]?.id,
            quantity,
            dispositions: [
              {
                reverseFulfillmentOrderLineItemId: reverseLine,
                quantity,
                dispositionType: disposition,
                ...(disposition === 'RESTOCKED'
                  ? { locationId: `gid://shopify/Location/${warehouse.id}` }
                  : {}),
              },
            ],
          },
        ],
        financialTransfer: {
          issueRefund: {
            orderTransactions: [{ parentId: sale.id, transactionAmount: { amount, currencyCode: 'USD' } }],
          },
        },
      },
    },
  );
  expect(processed.returnProcess.userErrors).toEqual([]);
  const refunds = shopify.store.orderById.get(orderId)?.refundIds ?? [];
  return { refundId: refunds.at(-1) as string, returnId: ret.id };
}

const returnIdOf = (refundId: string) => `shopify-${SHOP}-${refundId}`;

const sfnClient = () =>
  new SFNClient({
    endpoint: pipeline.cloud.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

/** The failures in an execution's history (task and execution failures), for assertion messages. */
async function failuresOf(executionArn: string): Promise<string> {
  const history = await sfnClient().send(new GetExecutionHistoryCommand({ executionArn, maxResults: 1000 }));
  return JSON.stringify(
    (history.events ?? [])
      .filter((event) => /Failed|TimedOut/.test(event.type ?? ''))
      .map((event) => ({
        type: event.type,
        ...(event.lambdaFunctionFailedEventDetails ??
          event.taskFailedEventDetails ??
          event.executionFailedEventDetails ??
          {}),
      })),
  );
}

async function expectStatus(name: string, status: string): Promise<void> {
  const execution = await finished(name);
  expect(execution.status, execution.status === status ? '' : await failuresOf(execution.executionArn)).toBe(
    status,
  );
}

async function finished(name: string, timeoutMs = 120_000): Promise<Execution> {
  let found: Execution | undefined;
  await waitFor(
    async () => {
      found = (await returnExecutions()).find((execution) => execution.name === name);
      return found !== undefined && found.status !== 'RUNNING';
    },
    { timeoutMs, intervalMs: 250, what: `return execution ${name} to finish` },
  );
  return found as Execution;
}

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 14,
    chaos: { ...DEFAULT_CHAOS, seed: 41 },
    // The ERP step's backoff (5 s … 2 min, 12 tries) in a hundredth of real time.
    stepFunctionsTimeScale: 0.01,
  });
  shopify = pipeline.sandboxes.apps.find((app) => app.name === 'shopify') as unknown as ShopifySandbox;
  gql = shopifyGraphql({
    baseUrl: `${pipeline.url}/_sandbox/shopify`,
    accessToken: shopify.credentials.accessToken,
  });
  const placed = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
    seed: 5,
    orders: 4,
    pickupShare: 0,
    linesPerOrder: { min: 1, max: 1 },
    maxQuantity: 2,
    fulfillments: 4,
    wait: true,
  });
  orderIds.push(...placed.orders.ids);
  await waitFor(async () => (await pipeline.erpDocuments('salesOrder')).length >= orderIds.length, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: 'the online orders booked as sales orders',
  });
}, 300_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('omnichannel returns through the local cloud (chaos on)', () => {
  it('a Shopify-initiated partial return, restocked: credit memo for the refund, stock back through the projection, ReturnCompleted', async () => {
    const orderId = orderIds[0] as string;
    const { refundId } = await merchantReturn(orderId, 1, 'RESTOCKED');
    await expectStatus(returnIdOf(refundId), 'SUCCEEDED');

    const refund = shopify.store.refundById.get(refundId);
    const credited =
      (refund?.lineItems ?? []).reduce((sum, l) => sum + l.subtotalMinor + l.taxMinor, 0) +
      (refund?.shippingMinor ?? 0);
    const memo = (await creditMemos()).filter((m) => m.externalId === `return-${returnIdOf(refundId)}`);
    expect(memo).toHaveLength(1);
    expect(credited).toBeGreaterThan(0);
    expect(Math.round((memo[0]?.total ?? 0) * 100)).toBe(credited);
    const adjusted = (await busEvents('InventoryAdjusted')).filter((e) =>
      String(e.detail.data.movementId).startsWith(`return:${returnIdOf(refundId)}:`),
    );
    const execution = (await returnExecutions()).find((e) => e.name === returnIdOf(refundId));
    const completedLines = (await busEvents('ReturnCompleted')).map((e) => e.detail.data.lines);
    expect(
      adjusted.map((e) => [e.source, e.detail.data.delta, e.detail.data.reason]),
      `${await failuresOf(execution?.executionArn ?? '')} ${JSON.stringify(completedLines)}`,
    ).toEqual([['omnihub.hub', 1, 'return']]);
    const completed = (await busEvents('ReturnCompleted')).filter(
      (e) => e.detail.data.returnId === returnIdOf(refundId),
    );
    expect(completed.length).toBeGreaterThanOrEqual(1);
    expect(new Set(completed.map((e) => JSON.stringify(e.detail.data.erp))).size).toBe(1);
    // The hub refunded nothing itself: the order has the merchant's one refund.
    expect(shopify.store.orderById.get(orderId)?.refundIds).toEqual([refundId]);
  }, 180_000);

  it('a damaged return: credited in the ERP, nothing put back in sellable stock', async () => {
    const orderId = orderIds[1] as string;
    const { refundId } = await merchantReturn(orderId, 1, 'NOT_RESTOCKED');
    await expectStatus(returnIdOf(refundId), 'SUCCEEDED');
    expect(
      (await creditMemos()).filter((m) => m.externalId === `return-${returnIdOf(refundId)}`),
    ).toHaveLength(1);
    const adjusted = (await busEvents('InventoryAdjusted')).filter((e) =>
      String(e.detail.data.movementId).includes(returnIdOf(refundId)),
    );
    expect(adjusted).toEqual([]);
  }, 180_000);

  it('the ERP failing after the Shopify refund: retried forward, parked on a task token, replayed — one refund, one credit memo', async () => {
    const orderId = orderIds[2] as string;
    // Every credit memo call answers 503 (order capture's sales orders are not affected).
    await pipeline.control('netsuite', '/_control/faults', {
      errorRate: 1,
      errorStatuses: [503],
      paths: ['/services/rest/record/v1/creditMemo'],
      seed: 7,
    });
    const { refundId } = await merchantReturn(orderId, 1, 'RESTOCKED');
    const name = returnIdOf(refundId);
    let parked: Awaited<ReturnType<OrderPipeline['exceptions']>>[number] | undefined;
    await waitFor(
      async () => {
        parked = (await pipeline.exceptions()).find(
          (e) => e.kind === 'return' && e.attributes.returnId === name,
        );
        return parked !== undefined;
      },
      { timeoutMs: 150_000, intervalMs: 500, what: 'the return parked after the ERP retries' },
    );
    expect(parked, JSON.stringify(await returnExecutions())).toMatchObject({
      code: 'RETURN_ERP_FAILED',
      status: 'PARKED',
    });
    expect(parked?.reason).toMatch(/ERP_UNAVAILABLE|503/);
    // Parked, not failed: the execution waits for its replay; nothing booked, nothing refunded twice.
    expect((await returnExecutions()).find((e) => e.name === name)?.status).toBe('RUNNING');
    expect((await creditMemos()).filter((m) => m.externalId === `return-${name}`)).toEqual([]);

    // The ERP is back; the operator replays the parked return (its task token).
    await pipeline.control('netsuite', '/_control/faults', { errorRate: 0 });
    await sfnClient().send(
      new SendTaskSuccessCommand({ taskToken: parked?.attributes.taskToken, output: '{"replayed":true}' }),
    );
    await expectStatus(name, 'SUCCEEDED');
    expect((await creditMemos()).filter((m) => m.externalId === `return-${name}`)).toHaveLength(1);
    expect(shopify.store.orderById.get(orderId)?.refundIds).toEqual([refundId]);
  }, 240_000);

  it('a repeated trigger is harmless: one execution per return, whatever the deliveries', async () => {
    // Chaos duplicated some deliveries already; every return so far has exactly one execution.
    const names = (await returnExecutions()).map((e) => e.name);
    expect(names.length).toBeGreaterThanOrEqual(3);
    expect(new Set(names).size).toBe(names.length);
    // The same Shopify refund published again (a redelivery the ingress could not tell apart).
    const [refundEvent] = (await busEvents('RefundCreated')).filter((e) => e.source === 'omnihub.shopify');
    expect(refundEvent).toBeDefined();
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    const bus = new EventBridgeClient({
      endpoint: pipeline.cloud.endpoints.aws,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    const before = (await returnExecutions()).length;
    const memosBefore = (await creditMemos()).length;
    await bus.send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: `omnihub-dev`,
            Source: 'omnihub.shopify',
            DetailType: 'RefundCreated',
            Detail: JSON.stringify(refundEvent?.detail),
          },
        ],
      }),
    );
    await pipeline.drained(60_000);
    // Nothing new may start: wait a moment for the trigger queue to drain, then compare.
    await waitFor(
      async () =>
        (await pipeline.queues()).every(
          (q) => !/ReturnTriggers/.test(q.name) || (q.visible === 0 && q.inFlight === 0),
        ),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the return trigger queue drained' },
    );
    expect((await returnExecutions()).length).toBe(before);
    expect((await creditMemos()).length).toBe(memosBefore);
  }, 180_000);

  it('a return of an order the ERP never booked is parked with its reason', async () => {
    const { postShopifyWebhook } = await import('#local/harness/shopify-webhooks.ts');
    const { readFileSync } = await import('node:fs');
    const sample = JSON.parse(
      readFileSync('test/fixtures/shopify/webhooks/refunds__create.json', 'utf8'),
    ) as Record<string, unknown> & {
      refund_line_items: Record<string, unknown>[];
    };
    const body = JSON.stringify({
      ...sample,
      id: 990000000777,
      admin_graphql_api_id: 'gid://shopify/Refund/990000000777',
      order_id: 990000000555,
      return: { id: 990000000666, admin_graphql_api_id: 'gid://shopify/Return/990000000666' },
    });
    const res = await postShopifyWebhook(pipeline.url, {
      topic: 'refunds/create',
      body,
      webhookId: 'returns-e2e-unbooked',
      secret: 'pipeline-shopify-secret',
    });
    expect(res.status).toBe(200);
    const name = returnIdOf('990000000777');
    await expectStatus(name, 'FAILED');
    const parked = (await pipeline.exceptions()).find(
      (e) => e.kind === 'return' && e.attributes.returnId === name,
    );
    expect(parked).toMatchObject({ code: 'RETURN_ORDER_NOT_BOOKED', status: 'PARKED' });
    expect((await creditMemos()).filter((m) => m.externalId === `return-${name}`)).toEqual([]);
  }, 120_000);
});

/** A fulfilled online order of its own (one line, one unit), booked by order capture. */
async function bookedOrder(seed: number) {
  const placed = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
    seed,
    orders: 1,
    pickupShare: 0,
    linesPerOrder: { min: 1, max: 1 },
    maxQuantity: 1,
    fulfillments: 1,
    wait: true,
  });
  const orderId = placed.orders.ids[0] as string;
  await waitFor(
    async () =>
      (await pipeline.erpDocuments('salesOrder')).some((o) => o.externalId === `shopify-${SHOP}-${orderId}`),
    { timeoutMs: 120_000, intervalMs: 500, what: `the sales order of ${orderId}` },
  );
  const order = shopify.store.orderById.get(orderId);
  const line = order?.lineItems[0];
  if (!order || !line) throw new Error(`no order ${orderId}`);
  const paid = order.transactions.reduce((sum, t) => sum + (t.kind === 'SALE' ? t.amountMinor : 0), 0);
  return { orderId, order, line, paid };
}

/**
 * Starts a return execution with a request the hub must refund in Shopify (`refundedBy` unset: no store
 * refund). Started directly: the store-return trigger (last describe) always hands over `refundedBy: pos`.
 */
async function startInStoreReturn(
  booked: Awaited<ReturnType<typeof bookedOrder>>,
  returnId: string,
  amountMinor: number,
) {
  const asked = { amount: amountMinor, currency: 'USD' };
  const request = {
    returnId,
    trigger: { system: 'pos', account: 'e2e-merchant', id: returnId, shopifyReturnId: null },
    order: { system: 'shopify', account: SHOP, orderId: booked.orderId, name: booked.order.name },
    location: null,
    currency: 'USD',
    lines: [
      {
        lineId: '1',
        orderLineId: booked.line.id,
        sku: booked.line.sku,
        quantity: 1,
        subtotal: asked,
        tax: { amount: 0, currency: 'USD' },
        disposition: 'damaged',
      },
    ],
    shipping: { amount: 0, currency: 'USD' },
    total: asked,
    shopifyRefunded: false,
    requestedAt: new Date().toISOString(),
  };
  const { ListStateMachinesCommand, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
  const machines = await sfnClient().send(new ListStateMachinesCommand({}));
  const arn = machines.stateMachines?.find((m) => /OmnichannelReturn/.test(m.name ?? ''))?.stateMachineArn;
  await sfnClient().send(
    new StartExecutionCommand({ stateMachineArn: arn, name: returnId, input: JSON.stringify({ request }) }),
  );
}

describe('omnichannel returns: a return the hub makes in Shopify', () => {
  it('the hub returns and refunds in Shopify, credits the ERP once; the echo of its own refund books nothing', async () => {
    const booked = await bookedOrder(78);
    const returnId = `pos-e2e-merchant-instore-${booked.orderId}`;
    await startInStoreReturn(booked, returnId, booked.paid);
    await expectStatus(returnId, 'SUCCEEDED');
    const refunds = shopify.store.orderById.get(booked.orderId)?.refundIds ?? [];
    expect(refunds).toHaveLength(1);
    // Shopify's refunds/create for the hub's own refund reaches the return trigger like any other.
    await pipeline.drained(60_000);
    await waitFor(
      async () =>
        (await pipeline.queues()).every(
          (q) => !/ReturnTriggers/.test(q.name) || (q.visible === 0 && q.inFlight === 0),
        ),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the return trigger queue drained' },
    );
    await waitFor(async () => (await returnExecutions()).every((e) => e.status !== 'RUNNING'), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: 'no return execution running',
    });
    // The echo may start an execution (the trigger cannot tell it apart), which recognises the hub's own
    // return and ends without booking anything.
    const echoes = (await returnExecutions()).filter((e) => e.name === returnIdOf(refunds[0] as string));
    for (const echo of echoes) {
      expect(echo.status).toBe('SUCCEEDED');
      const history = await sfnClient().send(
        new GetExecutionHistoryCommand({ executionArn: echo.executionArn, maxResults: 1000 }),
      );
      expect((history.events ?? []).map((e) => e.stateEnteredEventDetails?.name).filter(Boolean)).toContain(
        'EchoOfHubReturn',
      );
    }
    const memos = (await creditMemos()).filter(
      (m) =>
        m.externalId === `return-${returnId}` ||
        m.externalId === `return-${returnIdOf(refunds[0] as string)}`,
    );
    expect(memos.map((m) => m.externalId)).toEqual([`return-${returnId}`]);
  }, 240_000);
});

describe('omnichannel returns: Shopify refusing the refund', () => {
  it('Shopify refuses the refund of a return the hub processes: its return cancelled, parked, nothing booked in the ERP, no refund', async () => {
    // A fulfilled online order of its own, booked by order capture.
    const placed = await pipeline.control<{ orders: { ids: string[]; names: string[] } }>(
      'shopify',
      '/_control/scenario',
      {
        seed: 77,
        orders: 1,
        pickupShare: 0,
        linesPerOrder: { min: 1, max: 1 },
        maxQuantity: 1,
        fulfillments: 1,
        wait: true,
      },
    );
    const orderId = placed.orders.ids[0] as string;
    await waitFor(
      async () =>
        (await pipeline.erpDocuments('salesOrder')).some(
          (o) => o.externalId === `shopify-${SHOP}-${orderId}`,
        ),
      { timeoutMs: 120_000, intervalMs: 500, what: `the sales order of ${orderId}` },
    );
    const order = shopify.store.orderById.get(orderId);
    const line = order?.lineItems[0];
    if (!order || !line) throw new Error(`no order ${orderId}`);
    const paid = order.transactions.reduce((s, t) => s + (t.kind === 'SALE' ? t.amountMinor : 0), 0);
    // The return as the hub's in-store trigger hands it to the workflow (Shopify has not refunded it), for
    // more money than the customer paid online (e.g. the store's shelf price): Shopify refuses the refund.
    // The execution is started directly (a hub-refunded request: the store trigger's say `refundedBy: pos`).
    const returnId = `pos-e2e-merchant-refused-${orderId}`;
    const asked = { amount: paid + 1_000, currency: 'USD' };
    const request = {
      returnId,
      trigger: { system: 'pos', account: 'e2e-merchant', id: `refused-${orderId}`, shopifyReturnId: null },
      order: { system: 'shopify', account: SHOP, orderId, name: order.name },
      location: null,
      currency: 'USD',
      lines: [
        {
          lineId: '1',
          orderLineId: line.id,
          sku: line.sku,
          quantity: 1,
          subtotal: asked,
          tax: { amount: 0, currency: 'USD' },
          disposition: 'damaged',
        },
      ],
      shipping: { amount: 0, currency: 'USD' },
      total: asked,
      shopifyRefunded: false,
      requestedAt: new Date().toISOString(),
    };
    const { ListStateMachinesCommand, StartExecutionCommand } = await import('@aws-sdk/client-sfn');
    const machines = await sfnClient().send(new ListStateMachinesCommand({}));
    const arn = machines.stateMachines?.find((m) => /OmnichannelReturn/.test(m.name ?? ''))?.stateMachineArn;
    await sfnClient().send(
      new StartExecutionCommand({ stateMachineArn: arn, name: returnId, input: JSON.stringify({ request }) }),
    );
    await expectStatus(returnId, 'FAILED');
    const execution = await finished(returnId);
    expect(await failuresOf(execution.executionArn)).toMatch(/ShopifyRefundFailed/);

    // Parked with Shopify's reason; nothing booked in the ERP; no refund; the hub's Shopify return cancelled.
    const parked = (await pipeline.exceptions()).find(
      (e) => e.kind === 'return' && e.attributes.returnId === returnId,
    );
    expect(parked).toMatchObject({ code: 'RETURN_SHOPIFY_FAILED', status: 'PARKED' });
    expect(parked?.reason).toMatch(/exceeds the refundable amount/);
    expect((await creditMemos()).filter((m) => m.externalId === `return-${returnId}`)).toEqual([]);
    expect(shopify.store.orderById.get(orderId)?.refundIds).toEqual([]);
    const returns = await call<{ order: { returns: { nodes: { status: string }[] } } }>(
      `query($id: ID!) { order(id: $id) { returns(first: 5) { nodes { status } } } }`,
      { id: `gid://shopify/Order/${orderId}` },
    );
    expect(returns.order.returns.nodes.map((r) => r.status)).toEqual(['CANCELED']);
    expect((await busEvents('ReturnCompleted')).filter((e) => e.detail.data.returnId === returnId)).toEqual(
      [],
    );
  }, 240_000);
});

describe('omnichannel returns: an online order returned and refunded at a store (Square)', () => {
  it('the store refund starts one execution: Shopify records the return without refunding, the ERP one credit memo, stock back at the store; an unknown order number is parked', async () => {
    const booked = await bookedOrder(79);
    const sku = booked.line.sku as string;
    // The store takes the unit back and pays the customer in cash (an unlinked Square refund of an unlinked
    // return naming the online order's number), and a second return names an order no shop has.
    const run = await pipeline.control<{ onlineReturns: string[]; refunds: string[] }>(
      'square',
      '/_control/scenario',
      {
        seed: 80,
        spacingSeconds: { min: 0, max: 1 },
        onlineReturns: [
          { reference: booked.order.name, location: 'ST-001', lines: [{ sku, quantity: 1 }] },
          { reference: '#990001', location: 'ST-001', lines: [{ sku, quantity: 1 }] },
        ],
      },
    );
    expect(run.refunds).toHaveLength(2);
    const square = await pipeline.control<{ merchantId: string }>('square', '/_control/state?view=locations');
    const refunds = await pipeline.all<{
      id: string;
      order_id: string;
      status: string;
      unlinked?: boolean;
      amount_money: { amount: number };
    }>('square', 'view=refunds', (state) => state.records as never);
    const refundOf = (orderId: string) => refunds.find((r) => r.order_id === orderId);
    const known = refundOf(run.onlineReturns[0] as string);
    const unknown = refundOf(run.onlineReturns[1] as string);
    expect(known).toMatchObject({ status: 'COMPLETED', unlinked: true });
    const knownId = `pos-${square.merchantId}-${known?.id}`;
    const unknownId = `pos-${square.merchantId}-${unknown?.id}`;

    await expectStatus(knownId, 'SUCCEEDED');
    await expectStatus(unknownId, 'FAILED');
    // Webhooks refund.created, refund.updated (and chaos's duplicates) name one execution per refund.
    const names = (await returnExecutions()).map((e) => e.name);
    expect(names.filter((n) => n === knownId || n === unknownId).sort()).toEqual([knownId, unknownId].sort());

    // The unknown order number: parked with its reason, nothing booked.
    const parked = (await pipeline.exceptions()).find(
      (e) => e.kind === 'return' && e.attributes.returnId === unknownId,
    );
    expect(parked).toMatchObject({ code: 'RETURN_ORDER_UNKNOWN', status: 'PARKED' });
    expect(parked?.reason).toMatch(/#990001/);

    // Shopify: the return recorded and closed, no refund (the store paid the customer back).
    const order = await call<{
      order: { returns: { nodes: { status: string }[] }; refunds: { id: string }[] };
    }>(`query($id: ID!) { order(id: $id) { returns(first: 5) { nodes { status } } refunds { id } } }`, {
      id: `gid://shopify/Order/${booked.orderId}`,
    });
    expect(order.order.returns.nodes.map((r) => r.status)).toEqual(['CLOSED']);
    expect(order.order.refunds).toEqual([]);
    expect(shopify.store.orderById.get(booked.orderId)?.refundIds).toEqual([]);
    // ERP: one credit memo, for what the store refunded (Square's refund).
    const memos = (await creditMemos()).filter((m) => m.externalId === `return-${knownId}`);
    expect(memos).toHaveLength(1);
    expect(Math.round((memos[0]?.total ?? 0) * 100)).toBe(known?.amount_money.amount);
    expect((await creditMemos()).filter((m) => m.externalId === `return-${unknownId}`)).toEqual([]);
    // Projection: the unit back in stock at the store, once (movement id = return + line).
    const adjusted = (await busEvents('InventoryAdjusted')).filter((e) =>
      String(e.detail.data.movementId).startsWith(`return:${knownId}:`),
    );
    expect(
      adjusted.map((e) => [e.source, e.detail.data.delta, e.detail.data.reason, e.detail.data.location]),
    ).toEqual([['omnihub.hub', 1, 'return', { system: 'pos', id: (await squareLocation('ST-001')).id }]]);

    // The same store return published again (the POS sweep finding it, a redelivery): nothing new.
    const [storeEvent] = (await busEvents('StoreReturnRecorded')).filter(
      (e) => (e.detail.data.source as { refundId: string }).refundId === known?.id,
    );
    expect(storeEvent).toBeDefined();
    const { EventBridgeClient, PutEventsCommand } = await import('@aws-sdk/client-eventbridge');
    await new EventBridgeClient({
      endpoint: pipeline.cloud.endpoints.aws,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    }).send(
      new PutEventsCommand({
        Entries: [
          {
            EventBusName: 'omnihub-dev',
            Source: 'omnihub.pos',
            DetailType: 'StoreReturnRecorded',
            Detail: JSON.stringify(storeEvent?.detail),
          },
        ],
      }),
    );
    await pipeline.drained(60_000);
    await waitFor(
      async () =>
        (await pipeline.queues()).every(
          (q) => !/ReturnTriggers/.test(q.name) || (q.visible === 0 && q.inFlight === 0),
        ),
      { timeoutMs: 60_000, intervalMs: 250, what: 'the return trigger queue drained' },
    );
    expect((await returnExecutions()).filter((e) => e.name === knownId)).toHaveLength(1);
    expect((await creditMemos()).filter((m) => m.externalId === `return-${knownId}`)).toHaveLength(1);
    expect(shopify.store.orderById.get(booked.orderId)?.refundIds).toEqual([]);
  }, 240_000);
});

async function squareLocation(code: string): Promise<{ id: string }> {
  const locations = await pipeline.all<{ id: string; code: string }>(
    'square',
    'view=locations',
    (state) => state.records as never,
  );
  const location = locations.find((l) => l.code === code);
  if (!location) throw new Error(`no Square location ${code}`);
  return location;
}
