import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';
import type { ShopifySandbox } from '#sandbox/shopify/index.ts';
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
 * Not covered yet: window expired, cancelled while waiting, ERP failure with compensation.
 */

let pipeline: OrderPipeline;
let shopify: ShopifySandbox;

interface Execution {
  readonly stateMachine: string;
  readonly name: string;
  readonly status: string;
}

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 41,
    chaos: { ...DEFAULT_CHAOS, seed: 43 },
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
