import { describe, expect, it } from 'vitest';
import { HUB_BUNDLING } from '#infra/constructs/bundling.ts';
import { PosUnavailableError } from '#shared/connectors/square/errors.ts';
import {
  CANCEL_MUTATION,
  FULFIL_MUTATION,
  PICKUP_QUERY,
  PREPARED_MUTATION,
  RECIPIENT_QUERY,
  ShopifyPickupAdapter,
} from '#shared/flows/bopis/shopify.ts';
import {
  asTaskError,
  BopisPermanentError,
  type BopisTaskDeps,
  BopisTransientError,
  runBopisTask,
  type TaskInput,
} from '#shared/flows/bopis/tasks.ts';
import {
  executionNameOf,
  handleCallback,
  type PickupItem,
  pickupInputOf,
} from '#shared/flows/bopis/triggers.ts';
import { BOPIS_ERRORS } from '#state-machines/bopis/bopis-state-machine.ts';
import { validateAgainstShopify } from '#test/support/shopify-schema.ts';

const order = {
  system: 'shopify' as const,
  shop: 'omnihub-dev.myshopify.com',
  orderId: '6100000000017',
  name: '#1001',
};
const lines = [
  { sku: 'SKU-1', quantity: 2, title: 'Mug', unitPrice: { amount: 1200, currency: 'USD' } },
  { sku: 'SKU-2', quantity: 1, title: 'Tea', unitPrice: { amount: 800, currency: 'USD' } },
];
const pickup = {
  key: 'PICKUP#shopify:omnihub-dev.myshopify.com:6100000000017',
  origin: 'shopify:omnihub-dev.myshopify.com:6100000000017',
  fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/9',
  shopifyLocationId: '77',
  location: '12',
  squareLocationId: 'LSQ',
};
const input = (task: TaskInput['task'], extra: Partial<TaskInput> = {}): TaskInput => ({
  task,
  order,
  lines,
  pickup,
  pos: { squareOrderId: 'SQ1' },
  outcome: null,
  ...extra,
});

function fakes() {
  const calls: string[] = [];
  const republished: string[] = [];
  /** Records a call and answers `answer`. */
  const note = <T>(call: string, answer: T): T => {
    calls.push(call);
    return answer;
  };
  const deps: BopisTaskDeps = {
    shopify: {
      pickup: async () => ({
        cancelled: false,
        fulfillmentOrder: { id: pickup.fulfillmentOrderId, status: 'OPEN', locationId: '77' },
      }),
      recipient: async () => ({ displayName: 'Ada L.', phone: '+15550100' }),
      markPrepared: async (id) => note(`prepared ${id}`, 'done' as const),
      fulfil: async (id) => note(`fulfil ${id}`, 'done' as const),
      cancel: async (id, reason) => note(`cancel ${id} ${reason}`, 'done' as const),
    },
    pos: {
      create: async (request) =>
        note(`square create ${request.idempotencyKey} ${request.recipient.phone}`, { squareOrderId: 'SQ1' }),
      cancel: async (id) => note(`square cancel ${id}`, 'done' as const),
    },
    erp: {
      bookFulfilment: async (request) =>
        note(`erp fulfil ${request.externalId} at ${request.location}`, 'done' as const),
      close: async (id) => note(`erp close ${id}`, 'done' as const),
    },
    reservations: {
      reserve: async () => ({ status: 'reserved' }),
      release: async () => 'done',
      convertToSale: async (_id, _location, _lines, booking) =>
        note(`sale booked as ${booking}`, 'done' as const),
    },
    locations: {
      hubLocation: async (id) => (id === '77' ? '12' : undefined),
      posLocation: async (l) => (l === '12' ? 'LSQ' : undefined),
    },
    republish: async (keys) => void republished.push(...keys.map((k) => `${k.sku}@${k.location}`)),
    notify: async (o, reason) => void calls.push(`notify ${o.orderId} ${reason}`),
    pickupWindowSeconds: 3600,
    log: { info: () => undefined },
  };
  return { deps, calls, republished };
}

describe('BOPIS tasks', () => {
  it('locates the pick-up: the fulfillment order, the ERP store and its Square location', async () => {
    const { deps } = fakes();
    expect(await runBopisTask(input('locate', { pickup: null }), deps)).toEqual(pickup);
    deps.locations.hubLocation = async () => undefined;
    await expect(runBopisTask(input('locate', { pickup: null }), deps)).rejects.toThrow(
      /no ERP location for Shopify location 77/,
    );
  });

  it('republishes the store positions when a reservation is taken, released or sold', async () => {
    const { deps, republished } = fakes();
    await runBopisTask(input('reserve'), deps);
    await runBopisTask(input('release'), deps);
    await runBopisTask(input('convertToSale'), deps);
    expect(republished).toEqual(['SKU-1@12', 'SKU-2@12', 'SKU-1@12', 'SKU-2@12', 'SKU-1@12', 'SKU-2@12']);
    // Nothing held, nothing to republish; an unavailable reservation changes nothing either.
    republished.length = 0;
    deps.reservations.release = async () => 'nothing-held';
    deps.reservations.reserve = async () => ({ status: 'unavailable', shortages: [] });
    await runBopisTask(input('release'), deps);
    expect(await runBopisTask(input('reserve'), deps)).toEqual({ status: 'unavailable', shortages: [] });
    expect(republished).toEqual([]);
  });

  it('creates the Square pick-up with one idempotency key per order and the recipient read from Shopify', async () => {
    const { deps, calls } = fakes();
    await runBopisTask(input('createPosPickup'), deps);
    await runBopisTask(input('createPosPickup'), deps);
    expect(calls).toEqual([
      'square create bopis-shopify:omnihub-dev.myshopify.com:6100000000017 +15550100',
      'square create bopis-shopify:omnihub-dev.myshopify.com:6100000000017 +15550100',
    ]);
  });

  it('books the collection under one ERP external id, which also names the pending sale', async () => {
    const { deps, calls } = fakes();
    await runBopisTask(input('convertToSale'), deps);
    await runBopisTask(input('bookErp'), deps);
    const id = 'bopis-shopify-omnihub-dev.myshopify.com-6100000000017';
    expect(calls).toEqual([`sale booked as ${id}`, `erp fulfil ${id} at 12`]);
  });

  it('compensates what exists: no Square order or pick-up means nothing to cancel or release', async () => {
    const { deps, calls } = fakes();
    expect(await runBopisTask(input('cancelPosPickup', { pos: null }), deps)).toEqual({
      result: 'nothing-created',
    });
    expect(await runBopisTask(input('release', { pickup: null }), deps)).toEqual({ result: 'nothing-held' });
    await runBopisTask(input('cancelOrder', { outcome: { reason: 'WINDOW_EXPIRED' } }), deps);
    await runBopisTask(input('closeErp'), deps);
    await runBopisTask(input('notify', { outcome: { reason: 'WINDOW_EXPIRED' } }), deps);
    expect(calls).toEqual([
      'cancel 6100000000017 WINDOW_EXPIRED',
      'erp close shopify-omnihub-dev.myshopify.com-6100000000017',
      'notify 6100000000017 WINDOW_EXPIRED',
    ]);
  });

  it('cancels the pick-up Square made although CreatePosPickup failed: the same idempotency key finds it', async () => {
    const failed = { pos: { Error: BOPIS_ERRORS.transient, Cause: 'socket hang up' } };
    const { deps, calls } = fakes();
    expect(await runBopisTask(input('cancelPosPickup', failed), deps)).toEqual({ result: 'done' });
    const key = 'bopis-shopify:omnihub-dev.myshopify.com:6100000000017';
    // The replay carries the key CreatePosPickup used, so Square answers the order it made then.
    await runBopisTask(input('createPosPickup'), deps);
    expect(calls).toEqual([
      `square create ${key} +15550100`,
      'square cancel SQ1',
      `square create ${key} +15550100`,
    ]);

    // Square refuses the request (or it cannot be made): no order exists under the key.
    deps.pos.create = async () => {
      throw new BopisPermanentError('Square refused: INVALID_VALUE');
    };
    expect(await runBopisTask(input('cancelPosPickup', failed), deps)).toEqual({ result: 'nothing-created' });
    // Square unreachable: retried, never taken for "nothing made".
    deps.pos.create = async () => {
      throw new PosUnavailableError('down');
    };
    await expect(runBopisTask(input('cancelPosPickup', failed), deps)).rejects.toBeInstanceOf(
      PosUnavailableError,
    );
  });

  it('holds the lines with a SKU and hands the ones without (custom items) to the store unheld', async () => {
    const { deps, calls, republished } = fakes();
    const custom = {
      sku: null,
      quantity: 1,
      title: 'Engraving',
      unitPrice: { amount: 500, currency: 'USD' },
    };
    const held: string[] = [];
    deps.reservations.reserve = async (_id, _location, wanted) => {
      held.push(...wanted.map((l) => `${l.sku}×${l.quantity}`));
      return { status: 'reserved' };
    };
    const mixed = [...lines, custom];
    expect(await runBopisTask(input('reserve', { lines: mixed }), deps)).toEqual({ status: 'reserved' });
    expect(held).toEqual(['SKU-1×2', 'SKU-2×1']);
    expect(republished).toEqual(['SKU-1@12', 'SKU-2@12']);
    // Only custom lines: nothing to hold, the pick-up goes ahead; nothing to release or sell after.
    held.length = 0;
    expect(await runBopisTask(input('reserve', { lines: [custom] }), deps)).toEqual({ status: 'reserved' });
    expect(held).toEqual([]);
    expect(await runBopisTask(input('release', { lines: [custom] }), deps)).toEqual({
      result: 'nothing-held',
    });
    expect(await runBopisTask(input('convertToSale', { lines: [custom] }), deps)).toEqual({
      result: 'nothing-held',
    });
    expect(calls).toEqual([]);
  });

  it('fails as the workflow retries (transient) or catches (permanent), by error name', () => {
    expect(asTaskError(new PosUnavailableError('down'))).toBeInstanceOf(BopisTransientError);
    expect(asTaskError(new Error('socket hang up'))).toBeInstanceOf(BopisTransientError);
    expect(asTaskError(new BopisPermanentError('refused'))).toBeInstanceOf(BopisPermanentError);
    expect(new BopisTransientError('x').name).toBe(BOPIS_ERRORS.transient);
    expect(new BopisPermanentError('x').name).toBe(BOPIS_ERRORS.permanent);
  });

  it('keeps the error names the workflow retries and catches on through the minified bundle', async () => {
    // Bundled as the functions deploy (minified: class names are mangled, so HubError's class-derived
    // name would not survive; Lambda reports error.name as the errorType the state machine matches).
    const { build } = await import('esbuild');
    const out = await build({
      stdin: {
        contents:
          "import { BopisTransientError, BopisPermanentError } from './shared/flows/bopis/tasks.ts';\n" +
          "export const names = [new BopisTransientError('x').name, new BopisPermanentError('x').name];",
        resolveDir: process.cwd(),
        loader: 'ts',
      },
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: HUB_BUNDLING.target,
      minify: HUB_BUNDLING.minify,
      write: false,
    });
    const code = out.outputFiles[0]?.text ?? '';
    const bundled = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as {
      names: string[];
    };
    expect(bundled.names).toEqual([BOPIS_ERRORS.transient, BOPIS_ERRORS.permanent]);
  });

  it("a retried orderCancel refused while the first call's job runs: done once cancelled, else retried", async () => {
    // The order reads as not cancelled (the first call's job still running), then orderCancel is refused.
    let cancelledAt: string | null = null;
    const sent: string[] = [];
    const adapter = new ShopifyPickupAdapter(async () => async (document) => {
      sent.push(document.includes('orderCancel(') ? 'orderCancel' : 'read');
      if (document.includes('orderCancel(')) {
        cancelledAt = '2026-12-03T10:00:00Z'; // the first call's job finishes meanwhile
        return {
          errors: [],
          data: { orderCancel: { job: null, orderCancelUserErrors: [{ message: 'busy', code: 'INVALID' }] } },
        };
      }
      return { errors: [], data: { order: { cancelledAt, fulfillmentOrders: { nodes: [] } } } };
    });
    expect(await adapter.cancel('1', 'WINDOW_EXPIRED')).toBe('already');
    expect(sent).toEqual(['read', 'orderCancel', 'read']);
    // Still not cancelled after the refusal: retried (transient), not a refusal that ends the compensation.
    const refusing = new ShopifyPickupAdapter(
      async () => async (document) =>
        document.includes('orderCancel(')
          ? {
              errors: [],
              data: {
                orderCancel: { job: null, orderCancelUserErrors: [{ message: 'no', code: 'INVALID' }] },
              },
            }
          : { errors: [], data: { order: { cancelledAt: null, fulfillmentOrders: { nodes: [] } } } },
    );
    await expect(refusing.cancel('1', 'WINDOW_EXPIRED')).rejects.toBeInstanceOf(BopisTransientError);
  });

  it('sends Shopify documents that are valid against the pinned Admin schema', () => {
    for (const document of [
      PICKUP_QUERY,
      RECIPIENT_QUERY,
      PREPARED_MUTATION,
      FULFIL_MUTATION,
      CANCEL_MUTATION,
    ])
      expect(validateAgainstShopify(document).map((e) => e.message)).toEqual([]);
  });
});

describe('BOPIS triggers', () => {
  it('starts only online pick-up orders, with ids, SKUs and money only, under a name per order', () => {
    const base = {
      source: { system: 'shopify', account: order.shop, orderId: order.orderId, name: '#1001' },
      channel: 'online',
      fulfilmentMethod: 'pickup',
      status: 'open',
      lines: [
        {
          lineId: '1',
          sku: 'SKU-1',
          currentQuantity: 2,
          title: 'Mug',
          unitPrice: { amount: 1200, currency: 'USD' },
          isGiftCard: false,
        },
        {
          lineId: '2',
          sku: null,
          currentQuantity: 1,
          title: 'Card',
          unitPrice: { amount: 500, currency: 'USD' },
          isGiftCard: true,
        },
      ],
    } as never;
    expect(pickupInputOf(base)).toEqual({
      order,
      lines: [{ sku: 'SKU-1', quantity: 2, title: 'Mug', unitPrice: { amount: 1200, currency: 'USD' } }],
    });
    // A line without a SKU (not a gift card) is kept, SKU null: handed to the store, not held.
    const custom = {
      lineId: '3',
      sku: null,
      currentQuantity: 1,
      title: 'Engraving',
      unitPrice: { amount: 500, currency: 'USD' },
      isGiftCard: false,
    };
    const withCustom = {
      ...(base as { lines: unknown[] }),
      lines: [...(base as { lines: unknown[] }).lines, custom],
    };
    expect((pickupInputOf(withCustom as never) as { lines: unknown[] }).lines).toContainEqual({
      sku: null,
      quantity: 1,
      title: 'Engraving',
      unitPrice: { amount: 500, currency: 'USD' },
    });
    expect(pickupInputOf({ ...(base as object), fulfilmentMethod: 'ship' } as never)).toEqual({
      skip: 'not a pick-up order',
    });
    expect(executionNameOf(order)).toBe('omnihub-dev-6100000000017');
    expect(executionNameOf({ ...order, shop: `${'x'.repeat(90)}.myshopify.com` })).toHaveLength(80);
  });

  const event = (detailType: string, data: Record<string, unknown>) => ({
    'detail-type': detailType,
    source: detailType === 'PickupUpdated' ? 'omnihub.pos' : 'omnihub.shopify',
    detail: {
      metadata: {
        eventId: '2b1b5c1e-0000-8000-8000-000000000000',
        schemaVersion: '1.0',
        transactionId: 't',
        idempotencyKey: 'k',
        occurredAt: '2026-12-01T00:00:00.000Z',
        receivedAt: '2026-12-01T00:00:00.000Z',
        origin: { system: 'pos', account: 'M' },
      },
      data,
    },
  });
  const updated = (state: string) =>
    event('PickupUpdated', {
      origin: pickup.origin,
      posOrderId: 'SQ1',
      posLocationId: 'LSQ',
      state,
      version: 3,
      updatedAt: '2026-12-01T00:00:00.000Z',
    });

  function callbackFakes(item: PickupItem) {
    const answers: string[] = [];
    let held = { ...item };
    return {
      answers,
      deps: {
        record: async (_key: string, change: { kind: string; state?: string }) => {
          held = change.kind === 'pos' ? { ...held, posState: change.state } : { ...held, cancelled: true };
          return held;
        },
        succeed: async (token: string, output: string) => void answers.push(`success ${token} ${output}`),
        fail: async (token: string, error: string) => void answers.push(`failure ${token} ${error}`),
        log: { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined },
      },
    };
  }

  it('answers the wait for PREPARED with PREPARED or COMPLETED, and never a wait for a later stage too early', async () => {
    const preparing = callbackFakes({ token: 'T1', stage: 'PREPARED' });
    expect(await handleCallback(updated('PREPARED'), preparing.deps as never)).toBe('answered PREPARED');
    const collecting = callbackFakes({ token: 'T2', stage: 'COMPLETED' });
    expect(await handleCallback(updated('PREPARED'), collecting.deps as never)).toBe('recorded');
    expect(await handleCallback(updated('COMPLETED'), collecting.deps as never)).toBe('answered COMPLETED');
    expect([...preparing.answers, ...collecting.answers]).toEqual([
      'success T1 {"state":"PREPARED"}',
      'success T2 {"state":"COMPLETED"}',
    ]);
  });

  it('fails the wait when the store cancels the pick-up', async () => {
    const store = callbackFakes({ token: 'T1', stage: 'COMPLETED' });
    await handleCallback(updated('CANCELED'), store.deps as never);
    expect(store.answers).toEqual(['failure T1 Bopis.PickupCancelled']);
  });
});
