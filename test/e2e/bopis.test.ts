import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';
import type { ShopifySandbox } from '#sandbox/shopify/index.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { InventoryRepository } from '#shared/repositories/inventory.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';

/**
 * BOPIS end to end (issue #14) through the synthesized `Bopis` state machine in the local cloud, chaos on
 * (duplicated and reordered SQS and EventBridge deliveries, failed PutEvents entries): the sandbox store
 * places online pick-up orders; Shopify's orders/create → OrderCreated → bopis-start → one execution per
 * order (named after it) → the workflow's tasks against the Shopify, Square and NetSuite sandboxes.
 *
 * Covered here: **stock unavailable** — the stores hold no stock in the projection yet (no ERP change
 * feed has run), so the reservation is refused and the compensations run: nothing is held, no POS
 * pick-up exists, the order is cancelled and refunded in Shopify, its sales order is closed in the ERP,
 * `PickupCancelled` is published, and the execution SUCCEEDS (a business outcome, not a failure).
 * **Collected** — the store has stock (written into the projection while the order's webhook is held
 * back), the pick-up is held, handed to Square, prepared and collected by the staff scenario: Shopify is
 * told it is ready and fulfilled, the ERP books one item fulfillment, the hold becomes a sale.
 * **Window expired** — prepared, never collected: the (shortened) pick-up window times the wait out.
 * **Cancelled while waiting** — the merchant cancels the Shopify order while the pick-up waits for the
 * customer. **ERP failure with compensation** — the store cancels the pick-up in the POS while the ERP
 * answers 503 to every sales-order call: the compensation's CloseInErp is retried until the ERP is back.
 * After each of these three: the execution's final status, the hold released, the Square pick-up
 * CANCELED, the Shopify order cancelled with one refund, the sales order closed, and the store's POS
 * count back to what it was before the hold.
 */

let pipeline: OrderPipeline;
let shopify: ShopifySandbox;

interface Execution {
  readonly stateMachine: string;
  readonly name: string;
  readonly status: string;
}

/** The pick-up window synthesized into the stack for this file (dev: 72 h): "window expired" waits it out. */
const PICKUP_WINDOW_SECONDS = 30;

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 41,
    chaos: { ...DEFAULT_CHAOS, seed: 43 },
    bopisWindows: { prepareWindowSeconds: 24 * 3600, pickupWindowSeconds: PICKUP_WINDOW_SECONDS },
  });
  shopify = pipeline.sandboxes.apps.find((app) => app.name === 'shopify') as unknown as ShopifySandbox;
}, 180_000);

afterAll(async () => {
  await pipeline?.stop();
});

/** A failed execution's history, printed: what the test reports when a branch went wrong. */
async function explainFailures(list: readonly (Execution & { executionArn?: string })[]): Promise<void> {
  const { SFNClient, GetExecutionHistoryCommand } = await import('@aws-sdk/client-sfn');
  const sfn = new SFNClient({
    endpoint: pipeline.cloud.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  for (const execution of list.filter((e) => e.status !== 'SUCCEEDED' && e.executionArn)) {
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn }));
    const failures = (history.events ?? []).filter((e) => /Failed|TimedOut/.test(e.type ?? ''));
    console.error(execution.name, JSON.stringify(failures.slice(-4), null, 1));
  }
}

interface SquareOrder {
  readonly id: string;
  readonly state: string;
  readonly metadata?: Record<string, string>;
  readonly fulfillments?: { state: string }[];
}
const squareOrders = () =>
  pipeline.all<SquareOrder>('square', 'view=orders', (state) => state.records as never);

async function executions(): Promise<Execution[]> {
  const response = await fetch(`${pipeline.url}/_local/executions`);
  const all = (await response.json()) as Execution[];
  return all.filter((e) => e.stateMachine.includes('Bopis'));
}

describe('BOPIS through the local cloud', () => {
  it('stock unavailable: refuses the reservation, then undoes the order in Shopify and the ERP, one execution per order', async () => {
    const placed = await pipeline.control<{ orders: { ids: string[]; pickup: number } }>(
      'shopify',
      '/_control/scenario',
      { seed: 5, orders: 2, pickupShare: 1, wait: true },
    );
    expect(placed.orders.pickup).toBe(2);
    const orderIds = placed.orders.ids.map((id) => id.replace(/^gid:\/\/shopify\/Order\//, ''));
    const names = orderIds.map((id) => `omnihub-dev-${id}`);

    await waitFor(
      async () => {
        const mine = (await executions()).filter((e) => names.includes(e.name));
        return mine.length === names.length && mine.every((e) => e.status !== 'RUNNING');
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'the BOPIS executions to end' },
    );
    const mine = (await executions()).filter((e) => names.includes(e.name));
    await explainFailures(mine);
    // One execution per pick-up order (chaos duplicates the OrderCreated deliveries), each SUCCEEDED.
    expect(mine.map((e) => [e.name, e.status]).sort()).toEqual(names.map((n) => [n, 'SUCCEEDED']).sort());

    // Shopify: each order cancelled (with its refund), its reason INVENTORY.
    for (const id of orderIds) {
      const order = shopify.store.orderById.get(id);
      expect(order?.cancelledAt, `order ${id}`).not.toBeNull();
      expect(order?.cancelReason).toBe('INVENTORY');
    }

    // The ERP: each sales order written with every line closed (order capture books it, the
    // compensation and the OrderCancelled both close it: whichever comes last finds it closed).
    await waitFor(
      async () => {
        const orders = await pipeline.erpDocuments('salesOrder');
        return orderIds.every((id) =>
          orders.some(
            (o) =>
              o.externalId === `shopify-omnihub-dev.myshopify.com-${id}` &&
              (o.body.item?.items ?? []).every((line) => line.isClosed === true),
          ),
        );
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the sales orders closed in the ERP' },
    );

    // The POS: no pick-up order was created for them.
    const hubMade = (await squareOrders()).filter((o) =>
      orderIds.some((id) => o.metadata?.omnihub_origin?.endsWith(`:${id}`)),
    );
    expect(hubMade).toEqual([]);

    // PickupCancelled on the bus, once per order (its event id is deterministic), with the reason.
    const events = (await (
      await fetch(`${pipeline.url}/_local/events?detail-type=PickupCancelled`)
    ).json()) as { detail: { data: { orderId: string; reason: string } } }[];
    for (const id of orderIds)
      expect(events.filter((e) => e.detail.data.orderId === id).map((e) => e.detail.data.reason)).toContain(
        'STOCK_UNAVAILABLE',
      );

    // Nothing in a dead-letter queue.
    const queues = await pipeline.queues();
    expect(queues.filter((q) => q.isDlq && q.visible + q.inFlight > 0)).toEqual([]);
  }, 300_000);

  it('collected: holds the lines, hands the pick-up to the store, tells the customer, fulfils and books it once collected', async () => {
    // The orders/create webhook is held back 10 s: time to give the store stock in the projection (as
    // the ERP change feed would) for exactly the lines the order will need.
    await pipeline.control('shopify', '/_control/faults', {
      webhooks: { delayMs: { min: 10_000, max: 10_000 } },
    });
    const placed = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
      seed: 8,
      orders: 1,
      pickupShare: 1,
    });
    await pipeline.control('shopify', '/_control/faults', {});
    const id = (placed.orders.ids[0] ?? '').replace(/^gid:\/\/shopify\/Order\//, '');
    const order = shopify.store.orderById.get(id);
    const fo = shopify.store.fulfillmentOrderById.get(order?.fulfillmentOrderIds[0] ?? '');
    if (!order || !fo) throw new Error(`no pick-up order ${id}`);
    const documents = DynamoDBDocumentClient.from(pipeline.dynamodb);
    const tableOf = (prefix: string) =>
      pipeline.cloud.template.ofType('AWS::DynamoDB::Table').find((t) => t.logicalId.startsWith(prefix))
        ?.name ?? '';
    const mappings = new MappingRepository(documents, tableOf('MappingsTable'));
    const location = await mappings.lookup('location', 'shopify', fo.locationId.replace(/\D/g, ''));
    if (!location) throw new Error(`no ERP location for Shopify location ${fo.locationId}`);
    const inventory = new InventoryRepository(documents, tableOf('InventoryTable'));
    const lines = order.lineItems.map((l) => ({ sku: String(l.sku), quantity: l.quantity }));
    for (const line of lines)
      await inventory.apply(
        { sku: line.sku, location },
        { kind: 'erp-count', sequence: Date.now(), quantity: 40 },
      );

    // The store: the hub's pick-up order appears in Square; staff prepare it.
    const origin = `shopify:omnihub-dev.myshopify.com:${id}`;
    let pickup: SquareOrder | undefined;
    await waitFor(
      async () => {
        pickup = (await squareOrders()).find((o) => o.metadata?.omnihub_origin === origin);
        return pickup !== undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: 'the Square pick-up order' },
    );
    for (const line of lines)
      expect((await inventory.get({ sku: line.sku, location })).reserved).toBe(line.quantity);
    await pipeline.control('square', '/_control/scenario', {
      staff: { prepare: 1, collect: 0, orderIds: [pickup?.id] },
    });
    // Shopify tells the customer it is ready (prepared for pick-up).
    await waitFor(async () => fo.preparedForPickupAt !== null, {
      timeoutMs: 90_000,
      intervalMs: 500,
      what: 'Shopify prepared-for-pickup',
    }).catch(async (error) => {
      const updates = await (await fetch(`${pipeline.url}/_local/events?detail-type=PickupUpdated`)).json();
      console.error('PickupUpdated events', JSON.stringify(updates).slice(0, 600));
      console.error(
        'IAM',
        JSON.stringify(await (await fetch(`${pipeline.url}/_local/iam`)).json()).slice(0, 1500),
      );
      console.error(
        'queues',
        JSON.stringify((await pipeline.queues()).filter((q) => /Bopis/.test(JSON.stringify(q)))).slice(
          0,
          1500,
        ),
      );
      const { ScanCommand } = await import('@aws-sdk/lib-dynamodb');
      const items = await documents.send(new ScanCommand({ TableName: tableOf('PickupsTable') }));
      console.error('pickups', JSON.stringify(items.Items).slice(0, 1500));
      await explainFailures((await executions()).map((e) => ({ ...e, status: 'CHECK' })));
      throw error;
    });
    await pipeline.control('square', '/_control/scenario', {
      staff: { prepare: 0, collect: 1, orderIds: [pickup?.id] },
    });

    const name = `omnihub-dev-${id}`;
    await waitFor(async () => (await executions()).some((e) => e.name === name && e.status !== 'RUNNING'), {
      timeoutMs: 120_000,
      intervalMs: 500,
      what: 'the BOPIS execution to end',
    });
    const mine = (await executions()).filter((e) => e.name === name);
    await explainFailures(mine);
    expect(mine.map((e) => e.status)).toEqual(['SUCCEEDED']);

    // Shopify fulfilled, the POS completed, the ERP's item fulfillment booked once, the hold became a sale.
    expect(fo.status).toBe('CLOSED');
    expect((await squareOrders()).find((o) => o.id === pickup?.id)?.state).toBe('COMPLETED');
    const fulfilments = await pipeline.all<{ externalId: string | null }>(
      'netsuite',
      'type=itemFulfillment&full=1',
      (state) => state.records as never,
    );
    expect(
      fulfilments.filter((f) => f.externalId === `bopis-shopify-omnihub-dev.myshopify.com-${id}`),
    ).toHaveLength(1);
    for (const line of lines) expect((await inventory.get({ sku: line.sku, location })).reserved).toBe(0);
  }, 300_000);
});

// ── The compensation branches: helpers shared by the cases below ──

const ORDER_GID = /^gid:\/\/shopify\/Order\//;
const tableNamed = (prefix: string) =>
  pipeline.cloud.template.ofType('AWS::DynamoDB::Table').find((t) => t.logicalId.startsWith(prefix))?.name ??
  '';

interface StockedPickup {
  readonly id: string;
  readonly name: string;
  readonly origin: string;
  readonly location: string;
  readonly lines: readonly { sku: string; quantity: number }[];
  readonly squareOrderId: string;
  readonly squareLocationId: string;
  readonly inventory: InventoryRepository;
}

/** Units the test gives the store in the projection for each line of its pick-up (as an ERP count would). */
const STOCK = 40;

/**
 * One online pick-up order whose store has the stock (written while its orders/create webhook is held
 * back), followed until its Square pick-up order exists: the workflow then waits for the store.
 */
async function placeStockedPickup(seed: number): Promise<StockedPickup> {
  await pipeline.control('shopify', '/_control/faults', {
    webhooks: { delayMs: { min: 5_000, max: 5_000 } },
  });
  const placed = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
    seed,
    orders: 1,
    pickupShare: 1,
  });
  await pipeline.control('shopify', '/_control/faults', {});
  const id = (placed.orders.ids[0] ?? '').replace(ORDER_GID, '');
  const order = shopify.store.orderById.get(id);
  const fo = shopify.store.fulfillmentOrderById.get(order?.fulfillmentOrderIds[0] ?? '');
  if (!order || !fo) throw new Error(`no pick-up order ${id}`);
  const documents = DynamoDBDocumentClient.from(pipeline.dynamodb);
  const mappings = new MappingRepository(documents, tableNamed('MappingsTable'));
  const location = await mappings.lookup('location', 'shopify', fo.locationId.replace(/\D/g, ''));
  if (!location) throw new Error(`no ERP location for Shopify location ${fo.locationId}`);
  const inventory = new InventoryRepository(documents, tableNamed('InventoryTable'));
  const lines = order.lineItems.map((l) => ({ sku: String(l.sku), quantity: l.quantity }));
  for (const line of lines)
    await inventory.apply(
      { sku: line.sku, location },
      { kind: 'erp-count', sequence: Date.now(), quantity: STOCK },
    );
  const origin = `shopify:omnihub-dev.myshopify.com:${id}`;
  let pickup: SquareOrder | undefined;
  await waitFor(
    async () => {
      pickup = (await squareOrders()).find((o) => o.metadata?.omnihub_origin === origin);
      return pickup !== undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `the Square pick-up order of ${id}` },
  );
  for (const line of lines)
    expect((await inventory.get({ sku: line.sku, location })).reserved, line.sku).toBe(line.quantity);
  const squareOrder = pickup as SquareOrder & { location_id: string };
  return {
    id,
    name: `omnihub-dev-${id}`,
    origin,
    location,
    lines,
    squareOrderId: squareOrder.id,
    squareLocationId: squareOrder.location_id,
    inventory,
  };
}

/** The store staff prepare the pick-up; resolves once Shopify has told the customer it is ready. */
async function prepare(pickup: StockedPickup): Promise<void> {
  await pipeline.control('square', '/_control/scenario', {
    staff: { prepare: 1, collect: 0, orderIds: [pickup.squareOrderId] },
  });
  const order = shopify.store.orderById.get(pickup.id);
  const fo = shopify.store.fulfillmentOrderById.get(order?.fulfillmentOrderIds[0] ?? '');
  await waitFor(async () => fo?.preparedForPickupAt != null, {
    timeoutMs: 90_000,
    intervalMs: 500,
    what: `Shopify prepared-for-pickup of ${pickup.id}`,
  });
}

/** Waits for the pick-up's one execution to end; asserts its final status. */
async function expectExecution(pickup: StockedPickup, status: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(
    async () => (await executions()).some((e) => e.name === pickup.name && e.status !== 'RUNNING'),
    { timeoutMs, intervalMs: 500, what: `the BOPIS execution ${pickup.name} to end` },
  );
  const mine = (await executions()).filter((e) => e.name === pickup.name);
  await explainFailures(mine);
  expect(mine.map((e) => e.status)).toEqual([status]);
}

/**
 * Shopify, the POS, the ERP and the projection agree that the pick-up was undone: the order cancelled
 * with one refund, the Square pick-up CANCELED, the sales order's lines closed, nothing held, the store's
 * POS count back to the stock it had before the hold, PickupCancelled published with the reason.
 */
async function expectUndone(pickup: StockedPickup, reason: string): Promise<void> {
  const order = shopify.store.orderById.get(pickup.id);
  expect(order?.cancelledAt, `order ${pickup.id} cancelled`).not.toBeNull();
  expect(order?.refundIds, 'one refund: the cancellation').toHaveLength(1);
  const square = (await squareOrders()).find((o) => o.id === pickup.squareOrderId);
  expect(square?.state).toBe('CANCELED');
  expect(square?.fulfillments?.map((f) => f.state)).toEqual(['CANCELED']);
  await waitFor(
    async () =>
      (await pipeline.erpDocuments('salesOrder')).some(
        (o) =>
          o.externalId === `shopify-omnihub-dev.myshopify.com-${pickup.id}` &&
          (o.body.item?.items ?? []).length > 0 &&
          (o.body.item?.items ?? []).every((line) => line.isClosed === true),
      ),
    { timeoutMs: 90_000, intervalMs: 500, what: `the sales order of ${pickup.id} closed in the ERP` },
  );
  for (const line of pickup.lines) {
    const position = await pickup.inventory.get({ sku: line.sku, location: pickup.location });
    expect([line.sku, position.reserved, position.onHand]).toEqual([line.sku, 0, STOCK]);
  }
  // The release republished the store's positions: Square counts what the shelf holds again.
  await waitFor(
    async () => {
      for (const line of pickup.lines) {
        const state = await pipeline.control<{ records: { items: { quantity: string }[] } }>(
          'square',
          `/_control/state?view=inventory&sku=${encodeURIComponent(line.sku)}&location_id=${pickup.squareLocationId}`,
        );
        if (state.records.items[0]?.quantity !== String(STOCK)) return false;
      }
      return true;
    },
    { timeoutMs: 90_000, intervalMs: 500, what: `the POS count of ${pickup.id}'s lines back to ${STOCK}` },
  );
  const events = (await (
    await fetch(`${pipeline.url}/_local/events?detail-type=PickupCancelled`)
  ).json()) as { detail: { data: { orderId: string; reason: string } } }[];
  expect(
    new Set(events.filter((e) => e.detail.data.orderId === pickup.id).map((e) => e.detail.data.reason)),
  ).toEqual(new Set([reason]));
}

describe('BOPIS compensations through the local cloud', () => {
  it('window expired: prepared but never collected, the shortened pick-up window undoes it', async () => {
    const pickup = await placeStockedPickup(21);
    await prepare(pickup);
    // Nobody collects: WaitCollected times out after the pick-up window.
    await expectExecution(pickup, 'SUCCEEDED', (PICKUP_WINDOW_SECONDS + 120) * 1000);
    await expectUndone(pickup, 'WINDOW_EXPIRED');
    expect(shopify.store.orderById.get(pickup.id)?.cancelReason).toBe('OTHER');
  }, 300_000);

  it('cancelled while waiting: the merchant cancels the Shopify order while the pick-up waits for the customer', async () => {
    const pickup = await placeStockedPickup(22);
    await prepare(pickup);
    const gql = shopifyGraphql({
      baseUrl: `${pipeline.url}/_sandbox/shopify`,
      accessToken: shopify.credentials.accessToken,
    });
    const answer = await gql(
      `mutation($id: ID!) { orderCancel(orderId: $id, reason: CUSTOMER, refund: true, restock: true, notifyCustomer: false) {
        orderCancelUserErrors { message } } }`,
      { id: `gid://shopify/Order/${pickup.id}` },
    );
    expect(answer.errors).toEqual([]);
    expect(answer.data).toEqual({ orderCancel: { orderCancelUserErrors: [] } });
    await expectExecution(pickup, 'SUCCEEDED');
    await expectUndone(pickup, 'ORDER_CANCELLED');
    // The merchant's cancellation stands (the hub's compensation found the order cancelled already).
    expect(shopify.store.orderById.get(pickup.id)?.cancelReason).toBe('CUSTOMER');
  }, 300_000);

  it('ERP failure with compensation: the store cancels the pick-up while the ERP is down; closing the sales order is retried until it is back', async () => {
    const pickup = await placeStockedPickup(23);
    const externalId = `shopify-omnihub-dev.myshopify.com-${pickup.id}`;
    await waitFor(
      async () => (await pipeline.erpDocuments('salesOrder')).some((o) => o.externalId === externalId),
      { timeoutMs: 90_000, intervalMs: 500, what: `the sales order of ${pickup.id} booked` },
    );
    // Every sales-order call answers 503 from now on (Square, Shopify and the other ERP records work).
    await pipeline.control('netsuite', '/_control/faults', {
      errorRate: 1,
      errorStatuses: [503],
      paths: ['/services/rest/record/v1/salesOrder'],
      seed: 11,
    });
    try {
      await pipeline.control('square', '/_control/scenario', {
        staff: { prepare: 0, collect: 0, cancel: 1, orderIds: [pickup.squareOrderId] },
      });
      // The compensation reaches CloseInErp and fails there, retried: the execution keeps running.
      const execution = async () => (await executions()).find((e) => e.name === pickup.name);
      await waitFor(async () => (await failedAttempts(pickup.name, 'CloseInErp')) >= 1, {
        timeoutMs: 120_000,
        intervalMs: 500,
        what: `a failed CloseInErp attempt of ${pickup.name}`,
      });
      expect((await execution())?.status, await historyFailures(pickup.name)).toBe('RUNNING');
      // Everything before CloseInErp is done already.
      expect(shopify.store.orderById.get(pickup.id)?.cancelledAt).not.toBeNull();
      expect((await squareOrders()).find((o) => o.id === pickup.squareOrderId)?.state).toBe('CANCELED');
    } finally {
      await pipeline.control('netsuite', '/_control/faults', {});
    }
    await expectExecution(pickup, 'SUCCEEDED');
    await expectUndone(pickup, 'ORDER_CANCELLED');
  }, 300_000);
});

/** How many attempts of `state` failed in the execution's history so far. */
async function failedAttempts(name: string, state: string): Promise<number> {
  const execution = (await executions()).find((e) => e.name === name) as
    | (Execution & { executionArn?: string })
    | undefined;
  if (!execution?.executionArn) return 0;
  const { SFNClient, GetExecutionHistoryCommand } = await import('@aws-sdk/client-sfn');
  const sfn = new SFNClient({
    endpoint: pipeline.cloud.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const history = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: execution.executionArn, maxResults: 1000 }),
  );
  let current = '';
  let failed = 0;
  for (const event of history.events ?? []) {
    if (event.stateEnteredEventDetails?.name) current = event.stateEnteredEventDetails.name;
    if (current === state && /^(Task|LambdaFunction)Failed$/.test(event.type ?? '')) failed++;
  }
  return failed;
}

/** The failed events of an execution's history with their details, for assertion messages. */
async function historyFailures(name: string): Promise<string> {
  const execution = (await executions()).find((e) => e.name === name) as
    | (Execution & { executionArn?: string })
    | undefined;
  if (!execution?.executionArn) return `no execution ${name}`;
  const { SFNClient, GetExecutionHistoryCommand } = await import('@aws-sdk/client-sfn');
  const sfn = new SFNClient({
    endpoint: pipeline.cloud.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const history = await sfn.send(
    new GetExecutionHistoryCommand({ executionArn: execution.executionArn, maxResults: 1000 }),
  );
  return JSON.stringify(
    (history.events ?? [])
      .filter((e) => /Failed|TimedOut|StateEntered/.test(e.type ?? ''))
      .map((e) => ({
        type: e.type,
        ...(e.stateEnteredEventDetails ? { state: e.stateEnteredEventDetails.name } : {}),
        ...(e.lambdaFunctionFailedEventDetails ??
          e.taskFailedEventDetails ??
          e.executionFailedEventDetails ??
          {}),
      })),
  );
}
