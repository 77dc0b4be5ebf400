import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { type Router, sendJson } from '../core/http.ts';
import { canonicalJson } from '../core/json.ts';
import { createRng, type Rng } from '../core/rng.ts';
import type { Order } from './model.ts';
import type { SquareSession } from './session.ts';
import { squareId } from './store.ts';
import { invalidRequest, notFound, readSquareJson, sqError } from './validation.ts';

/**
 * Pick-up orders made through the Orders API (the hub's BOPIS hand-off) and the store staff who work them:
 * - `POST /v2/orders` (CreateOrder, https://developer.squareup.com/reference/square/orders-api/create-order):
 *   idempotent on `idempotency_key` (the same key and body answer the first order; another body is
 *   `IDEMPOTENCY_KEY_REUSED`), a PICKUP fulfilment needs a recipient `display_name` and `phone_number`
 *   (https://developer.squareup.com/reference/square/objects/FulfillmentRecipient: both "required"),
 *   the location must exist; `order.created` is published (API-made orders publish order events).
 * - `PUT /v2/orders/{id}` (UpdateOrder, https://developer.squareup.com/reference/square/orders-api/update-order):
 *   the request's `version` must be the order's current one (else `VERSION_MISMATCH`), fulfilment states
 *   move only forward (PROPOSED → RESERVED → PREPARED → COMPLETED, or CANCELED before COMPLETED), a
 *   completed or cancelled order is closed to updates; `order.updated` and, for a fulfilment change,
 *   `order.fulfillment.updated` are published.
 * - staff (`POST _control/scenario` `staff`): moves open pick-ups PREPARED, then COMPLETED after
 *   `collectAfterMs`, each pick-up by the given shares (seeded), as a store would.
 */

const STATES = ['PROPOSED', 'RESERVED', 'PREPARED', 'COMPLETED', 'CANCELED', 'FAILED'] as const;
type FulfillmentState = (typeof STATES)[number];
const RANK: Record<FulfillmentState, number> = {
  PROPOSED: 1,
  RESERVED: 2,
  PREPARED: 3,
  COMPLETED: 4,
  CANCELED: 5,
  FAILED: 5,
};

const MoneySchema = z.object({ amount: z.number().int().min(0), currency: z.string().regex(/^[A-Z]{3}$/) });

const CreateOrderSchema = z.object({
  idempotency_key: z.string().min(1).max(192),
  order: z.object({
    location_id: z.string().min(1),
    reference_id: z.string().max(40).optional(),
    source: z.object({ name: z.string() }).optional(),
    metadata: z.record(z.string(), z.string()).optional(),
    line_items: z
      .array(
        z.object({
          name: z.string().min(1).max(512),
          quantity: z.string().regex(/^\d+$/),
          note: z.string().max(2000).optional(),
          base_price_money: MoneySchema,
        }),
      )
      .min(1),
    fulfillments: z
      .array(
        z.object({
          type: z.literal('PICKUP'),
          state: z.enum(STATES).optional(),
          pickup_details: z.object({
            recipient: z.object({
              display_name: z.string().min(1).max(255),
              phone_number: z.string().min(1).max(17),
              email_address: z.string().optional(),
            }),
            schedule_type: z.enum(['SCHEDULED', 'ASAP']).optional(),
            pickup_at: z.string().optional(),
            pickup_window_duration: z.string().optional(),
            note: z.string().max(500).optional(),
          }),
        }),
      )
      .length(1),
  }),
});

const UpdateOrderSchema = z.object({
  idempotency_key: z.string().min(1).max(192).optional(),
  order: z.object({
    location_id: z.string().optional(),
    version: z.number().int(),
    state: z.enum(['OPEN', 'COMPLETED', 'CANCELED']).optional(),
    fulfillments: z.array(z.object({ uid: z.string(), state: z.enum(STATES) })).optional(),
  }),
  fields_to_clear: z.array(z.string()).optional(),
});

type PickupOrder = Order & { fulfillments: NonNullable<Order['fulfillments']> };

export interface PickupContext {
  session: () => SquareSession;
  clock: () => number;
}

/** Installs CreateOrder and UpdateOrder. */
export function installPickupRoutes(router: Router, ctx: PickupContext): void {
  router.on('POST', '/v2/orders', ({ req, res }) => createOrder(ctx, req, res));
  router.on('PUT', '/v2/orders/:id', ({ req, res, params }) => updateOrder(ctx, req, res, params.id ?? ''));
}

const zero = (currency: string) => ({ amount: 0, currency });

async function createOrder(ctx: PickupContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = (await readSquareJson(req)) ?? {};
  const session = ctx.session();
  const key = (raw as { idempotency_key?: unknown }).idempotency_key;
  if (typeof key !== 'string' || key === '')
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'MISSING_REQUIRED_PARAMETER',
      'Field must be set',
      'idempotency_key',
    );
  const seen = session.idempotency.get(`orders:${key}`);
  const canonical = canonicalJson(raw);
  if (seen) {
    if (seen.canonical !== canonical)
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'IDEMPOTENCY_KEY_REUSED',
        'The provided idempotency key has already been used.',
        'idempotency_key',
      );
    sendJson(res, 200, seen.body);
    return;
  }
  const parsed = CreateOrderSchema.safeParse(raw);
  if (!parsed.success) throw invalidRequest(parsed.error);
  const input = parsed.data.order;
  if (!session.store.locations.some((l) => l.id === input.location_id))
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'NOT_FOUND',
      `Location \`${input.location_id}\` not found.`,
      'order.location_id',
    );
  const rng = createRng(session.store.orders.size + 7919 * (session.scenarioRuns + 1));
  const at = new Date(ctx.clock()).toISOString();
  const currency = input.line_items[0]?.base_price_money.currency ?? 'USD';
  const total = input.line_items.reduce((sum, l) => sum + l.base_price_money.amount * Number(l.quantity), 0);
  const money = { amount: total, currency };
  const [fulfillment] = input.fulfillments;
  const order = {
    id: squareId(rng, 29, 'b62'),
    location_id: input.location_id,
    ...(input.reference_id ? { reference_id: input.reference_id } : {}),
    source: input.source ?? { name: 'Sandbox app' },
    ...(input.metadata ? { metadata: input.metadata } : {}),
    line_items: input.line_items.map((line) => ({
      uid: squareId(rng, 22, 'b62'),
      name: line.name,
      quantity: line.quantity,
      ...(line.note ? { note: line.note } : {}),
      item_type: 'ITEM',
      base_price_money: line.base_price_money,
      gross_sales_money: { amount: line.base_price_money.amount * Number(line.quantity), currency },
      total_tax_money: zero(currency),
      total_discount_money: zero(currency),
      total_money: { amount: line.base_price_money.amount * Number(line.quantity), currency },
    })),
    fulfillments: [
      {
        uid: squareId(rng, 22, 'b62'),
        type: 'PICKUP' as const,
        state: fulfillment?.state ?? 'PROPOSED',
        pickup_details: { ...fulfillment?.pickup_details, placed_at: at },
      },
    ],
    net_amounts: {
      total_money: money,
      tax_money: zero(currency),
      discount_money: zero(currency),
      tip_money: zero(currency),
      service_charge_money: zero(currency),
    },
    created_at: at,
    updated_at: at,
    state: 'OPEN' as const,
    version: 1,
    total_money: money,
    total_tax_money: zero(currency),
    total_discount_money: zero(currency),
    total_tip_money: zero(currency),
    total_service_charge_money: zero(currency),
  } as unknown as PickupOrder;
  session.store.orders.set(order.id, order);
  const body = { order };
  session.idempotency.set(`orders:${key}`, { canonical, body: structuredClone(body) });
  session.emitter.emit(
    'order.created',
    'order_created',
    order.id,
    {
      order_created: {
        created_at: at,
        location_id: order.location_id,
        order_id: order.id,
        state: 'OPEN',
        version: 1,
      },
    },
    at,
    rng,
  );
  sendJson(res, 200, body);
}

async function updateOrder(
  ctx: PickupContext,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  const parsed = UpdateOrderSchema.safeParse((await readSquareJson(req)) ?? {});
  if (!parsed.success) throw invalidRequest(parsed.error);
  const session = ctx.session();
  const order = session.store.orders.get(id) as PickupOrder | undefined;
  if (!order) throw notFound(`Order \`${id}\` not found.`, 'order_id');
  const update = parsed.data.order;
  if (update.version !== order.version)
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'VERSION_MISMATCH',
      `Version mismatch: the order is at version ${order.version}, the request names ${update.version}.`,
      'order.version',
    );
  if (order.state !== 'OPEN')
    throw sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'BAD_REQUEST',
      `An order in state ${order.state} cannot be updated.`,
      'order.state',
    );
  const rng = createRng(order.version * 104729 + session.store.orders.size);
  applyUpdate(
    session,
    order,
    update.fulfillments ?? [],
    update.state,
    new Date(ctx.clock()).toISOString(),
    rng,
  );
  sendJson(res, 200, { order });
}

/** Moves fulfilments and the order forward, publishing what changed. */
function applyUpdate(
  session: SquareSession,
  order: PickupOrder,
  fulfillments: readonly { uid: string; state: FulfillmentState }[],
  state: 'OPEN' | 'COMPLETED' | 'CANCELED' | undefined,
  at: string,
  rng: Rng,
): void {
  const changes: { fulfillment_uid: string; old_state: string; new_state: string }[] = [];
  for (const change of fulfillments) {
    const target = order.fulfillments.find((f) => f.uid === change.uid);
    if (!target)
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'NOT_FOUND',
        `Fulfillment \`${change.uid}\` not found.`,
        'order.fulfillments',
      );
    if (target.state === change.state) continue;
    const cancelling = change.state === 'CANCELED' || change.state === 'FAILED';
    if (RANK[target.state] >= 4 || (!cancelling && RANK[change.state] < RANK[target.state]))
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_VALUE',
        `A fulfillment cannot move from ${target.state} to ${change.state}.`,
        'order.fulfillments.state',
      );
    changes.push({ fulfillment_uid: target.uid, old_state: target.state, new_state: change.state });
    target.state = change.state;
  }
  const allDone = order.fulfillments.every((f) => f.state === 'COMPLETED');
  const next = state ?? (allDone ? 'COMPLETED' : order.state);
  if (changes.length === 0 && next === order.state) return;
  order.version = (order.version ?? 1) + 1;
  order.updated_at = at;
  if (next !== order.state) {
    order.state = next;
    if (next !== 'OPEN') order.closed_at = at;
  }
  if (changes.length > 0)
    session.emitter.emit(
      'order.fulfillment.updated',
      'order_fulfillment_updated',
      order.id,
      {
        order_fulfillment_updated: {
          created_at: order.created_at,
          fulfillment_update: changes,
          location_id: order.location_id,
          order_id: order.id,
          state: order.state,
          updated_at: at,
          version: order.version,
        },
      },
      at,
      rng,
    );
  session.emitter.emit(
    'order.updated',
    'order_updated',
    order.id,
    {
      order_updated: {
        created_at: order.created_at,
        location_id: order.location_id,
        order_id: order.id,
        state: order.state,
        updated_at: at,
        version: order.version,
      },
    },
    at,
    rng,
  );
}

/** `staff` of a scenario: what the store does with the open pick-ups. */
export const StaffSchema = z.object({
  /** Share of open, unprepared pick-ups marked PREPARED now. @default 1 */
  prepare: z.number().min(0).max(1).default(1),
  /** Share of prepared pick-ups (including those prepared now) collected (COMPLETED). @default 1 */
  collect: z.number().min(0).max(1).default(1),
  /** Share of open pick-ups the store cancels instead (before preparing). @default 0 */
  cancel: z.number().min(0).max(1).default(0),
  /** Wait between preparing and collecting, in ms (collected later, in the background). @default 0 */
  collectAfterMs: z.number().int().min(0).max(600_000).default(0),
  /** Only the pick-ups of these Square order ids. */
  orderIds: z.array(z.string()).optional(),
});

/**
 * The store staff: seeded shares of the open pick-up orders move PREPARED, then COMPLETED (after
 * `collectAfterMs`), or are cancelled. Returns the order ids per action.
 */
export function runStaff(session: () => SquareSession, input: unknown, clock: () => number, seed: number) {
  const staff = StaffSchema.parse(input ?? {});
  const rng = createRng(seed);
  const open = [...session().store.orders.values()].filter(
    (o): o is PickupOrder =>
      o.state === 'OPEN' &&
      (o.fulfillments ?? []).some((f) => f.type === 'PICKUP') &&
      (!staff.orderIds || staff.orderIds.includes(o.id)),
  );
  const summary = { prepared: [] as string[], collected: [] as string[], cancelled: [] as string[] };
  const toCollect: PickupOrder[] = [];
  for (const order of open) {
    const pickup = order.fulfillments.find((f) => f.type === 'PICKUP');
    if (!pickup) continue;
    const at = () => new Date(clock()).toISOString();
    if (RANK[pickup.state] < 3 && rng.chance(staff.cancel)) {
      applyUpdate(session(), order, [{ uid: pickup.uid, state: 'CANCELED' }], 'CANCELED', at(), rng);
      summary.cancelled.push(order.id);
      continue;
    }
    if (RANK[pickup.state] < 3 && rng.chance(staff.prepare)) {
      applyUpdate(session(), order, [{ uid: pickup.uid, state: 'PREPARED' }], undefined, at(), rng);
      summary.prepared.push(order.id);
    }
    if (pickup.state === 'PREPARED' && rng.chance(staff.collect)) {
      toCollect.push(order);
      summary.collected.push(order.id);
    }
  }
  const collect = () => {
    for (const order of toCollect) {
      const pickup = order.fulfillments.find((f) => f.type === 'PICKUP');
      // The hub may have cancelled it meanwhile: a collection only happens to an open, prepared pick-up.
      if (!pickup || order.state !== 'OPEN' || pickup.state !== 'PREPARED') continue;
      applyUpdate(
        session(),
        order,
        [{ uid: pickup.uid, state: 'COMPLETED' }],
        undefined,
        new Date(clock()).toISOString(),
        rng,
      );
    }
  };
  if (staff.collectAfterMs > 0) setTimeout(collect, staff.collectAfterMs).unref();
  else collect();
  return summary;
}
