import * as z from 'zod';
import { HubError } from '../../errors.ts';
import { MoneySchema } from '../../events/money.ts';
import { orderExternalId } from '../../ports/erp.ts';
import type { ReservationLine, ReserveResult, SettleResult } from '../../repositories/reservations.ts';

/**
 * The BOPIS workflow's task logic (state-machines/bopis): one function per task state, every one
 * idempotent on the order (the workflow retries them, and a redrive runs one again), vendor-free (the
 * ports below; functions/bopis-tasks wires the real clients).
 *
 * Personal data never travels through the workflow: the recipient's name and phone the POS needs are
 * read from Shopify inside `createPosPickup` and go straight to Square.
 */

/*
 * Their `name` is the `errorType` Lambda reports, which the state machine's Retry and Catch match
 * (BOPIS_ERRORS in state-machines/bopis): spelled out, because the bundles are minified and HubError's
 * default (the class name) becomes a mangled one there — "Uo" — that no Retry matches, so a single Shopify
 * 503 failed a compensation for good.
 */

/** A task the workflow may retry as it is (an outage, throttling, a conflict). */
export class BopisTransientError extends HubError {
  override readonly name = 'BopisTransientError';
  readonly code = 'BOPIS_TRANSIENT';
  readonly retryable = true;
}

/** A task that will fail again as it is (a refusal, a missing mapping): the workflow's catch decides. */
export class BopisPermanentError extends HubError {
  override readonly name = 'BopisPermanentError';
  readonly code = 'BOPIS_PERMANENT';
  readonly retryable = false;
}

/** Any error as the workflow must see it: its name is the state machine's `Error` (retry or catch). */
export function asTaskError(error: unknown): BopisTransientError | BopisPermanentError {
  if (error instanceof BopisTransientError || error instanceof BopisPermanentError) return error;
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  if (error instanceof HubError && !error.retryable)
    return new BopisPermanentError(message, { cause: error });
  // Unknown errors (a network failure, an SDK error) and retryable hub errors: retry.
  return new BopisTransientError(message, { cause: error });
}

export const PickupLineSchema = z.object({
  sku: z.string().min(1),
  quantity: z.number().int().positive(),
  title: z.string(),
  unitPrice: MoneySchema,
});
export type PickupLine = z.infer<typeof PickupLineSchema>;

/** The execution's input (bopis-start) — ids, SKUs and money only, no personal data. */
export const PickupOrderSchema = z.object({
  system: z.literal('shopify'),
  shop: z.string().min(1),
  orderId: z.string().min(1),
  name: z.string().nullable(),
});
export type PickupOrder = z.infer<typeof PickupOrderSchema>;

export const PickupSchema = z.object({
  /** The pick-up table's key: `PICKUP#<origin>`. */
  key: z.string(),
  origin: z.string(),
  fulfillmentOrderId: z.string(),
  shopifyLocationId: z.string(),
  /** The hub's (ERP) location: where the reservation is held. */
  location: z.string(),
  squareLocationId: z.string(),
});
export type Pickup = z.infer<typeof PickupSchema>;

/** A field the workflow has not set yet is `{}` (the Start state names it): read as null. */
const notYet = <S extends z.ZodType>(schema: S) =>
  z.preprocess(
    (value) =>
      value === null || (typeof value === 'object' && Object.keys(value as object).length === 0)
        ? null
        : value,
    schema.nullable(),
  );

export const TaskInputSchema = z.object({
  task: z.enum([
    'locate',
    'reserve',
    'createPosPickup',
    'markPrepared',
    'fulfil',
    'convertToSale',
    'bookErp',
    'release',
    'cancelPosPickup',
    'cancelOrder',
    'closeErp',
    'notify',
  ]),
  order: PickupOrderSchema,
  lines: z.array(PickupLineSchema).min(1),
  pickup: notYet(PickupSchema),
  pos: notYet(z.object({ squareOrderId: z.string() })),
  outcome: notYet(z.object({ reason: z.string() })),
});
export type TaskInput = z.infer<typeof TaskInputSchema>;
export type TaskName = TaskInput['task'];

/** The order's pick-up as Shopify holds it (fulfillment orders with `deliveryMethod.methodType PICK_UP`). */
export interface ShopifyPickupState {
  readonly cancelled: boolean;
  readonly fulfillmentOrder: {
    readonly id: string;
    /** `FulfillmentOrderStatus`: OPEN, IN_PROGRESS, CLOSED, CANCELLED, … */
    readonly status: string;
    /** The assigned location (numeric id). */
    readonly locationId: string;
  } | null;
}

export interface ShopifyPickupPort {
  pickup(orderId: string): Promise<ShopifyPickupState>;
  /** Who collects: read at task time, handed to the POS, never stored or logged. */
  recipient(orderId: string): Promise<{ readonly displayName: string; readonly phone: string | null }>;
  /** `fulfillmentOrderLineItemsPreparedForPickup`; `already` when Shopify has nothing left to prepare. */
  markPrepared(fulfillmentOrderId: string): Promise<'done' | 'already'>;
  /** `fulfillmentCreate` of the whole pick-up fulfillment order; `already` when it is closed. */
  fulfil(fulfillmentOrderId: string): Promise<'done' | 'already'>;
  /** `orderCancel` with refund and restock; `already` when the order is cancelled. */
  cancel(orderId: string, reason: string): Promise<'done' | 'already'>;
}

export interface PosPickupPort {
  /** Square `CreateOrder` with a PICKUP fulfilment; the idempotency key makes a retry return the same order. */
  create(input: {
    readonly idempotencyKey: string;
    readonly locationId: string;
    readonly origin: string;
    readonly referenceId: string;
    readonly lines: readonly PickupLine[];
    readonly recipient: { readonly displayName: string; readonly phone: string | null };
    readonly pickupWindowSeconds: number;
  }): Promise<{ readonly squareOrderId: string }>;
  /** Cancels the order's pick-up (fulfilment and order CANCELED); `already` when it is. */
  cancel(squareOrderId: string): Promise<'done' | 'already'>;
}

export interface ErpPickupPort {
  /** The item fulfilment of the order's sales order at the store, keyed by `externalId`. */
  bookFulfilment(input: {
    readonly salesOrderExternalId: string;
    readonly externalId: string;
    readonly location: string;
  }): Promise<'done' | 'already'>;
  /** Closes the sales order's lines (nothing to close when it is not booked yet: order capture writes it cancelled). */
  close(salesOrderExternalId: string): Promise<'done' | 'not-found'>;
}

export interface BopisTaskDeps {
  readonly shopify: ShopifyPickupPort;
  readonly pos: PosPickupPort;
  readonly erp: ErpPickupPort;
  readonly reservations: {
    reserve(id: string, location: string, lines: readonly ReservationLine[]): Promise<ReserveResult>;
    release(id: string, location: string, lines: readonly ReservationLine[]): Promise<SettleResult>;
    convertToSale(
      id: string,
      location: string,
      lines: readonly ReservationLine[],
      bookingExternalId: string,
    ): Promise<SettleResult>;
  };
  /** Shopify location → hub (ERP) location, and hub location → Square location (mappings). */
  readonly locations: {
    hubLocation(shopifyLocationId: string): Promise<string | undefined>;
    posLocation(hubLocation: string): Promise<string | undefined>;
  };
  /** Queues the positions for a republish of their availability (the POS count drops or rises). */
  readonly republish: (keys: readonly { sku: string; location: string }[]) => Promise<void>;
  /** Publishes `PickupCancelled`. */
  readonly notify: (order: PickupOrder, reason: string) => Promise<void>;
  readonly pickupWindowSeconds: number;
  readonly log: { info(message: string, extra?: Record<string, unknown>): void };
}

/** The origin the hub writes on its Square orders and keys the pick-up item by (HUB_ORIGIN_METADATA_KEY). */
export const originOf = (order: PickupOrder) => `${order.system}:${order.shop}:${order.orderId}`;
export const pickupKeyOf = (origin: string) => `PICKUP#${origin}`;
const salesOrderExternalIdOf = (order: PickupOrder) =>
  orderExternalId({ system: 'shopify', account: order.shop, orderId: order.orderId });
/** The ERP item fulfilment's external id; also names the pending sale the ERP's booking books. */
export const fulfilmentExternalIdOf = (order: PickupOrder) => `bopis-${salesOrderExternalIdOf(order)}`;
/** The reservation id: one per online order. */
const reservationIdOf = (order: PickupOrder) => originOf(order);
const reservationLines = (lines: readonly PickupLine[]) =>
  lines.map(({ sku, quantity }) => ({ sku, quantity }));

function need<T>(value: T | null, what: string): T {
  if (value === null) throw new BopisPermanentError(`the workflow reached this task without ${what}`);
  return value;
}

/** Runs one task. */
export async function runBopisTask(input: TaskInput, deps: BopisTaskDeps): Promise<unknown> {
  const { order, lines } = input;
  const log = { order: originOf(order), task: input.task };
  switch (input.task) {
    case 'locate': {
      const state = await deps.shopify.pickup(order.orderId);
      const fo = state.fulfillmentOrder;
      if (!fo) throw new BopisPermanentError(`order ${order.orderId} has no pick-up fulfillment order`);
      const location = await deps.locations.hubLocation(fo.locationId);
      if (!location)
        throw new BopisPermanentError(
          `no ERP location for Shopify location ${fo.locationId} (load the mappings, then redrive)`,
        );
      const squareLocationId = await deps.locations.posLocation(location);
      if (!squareLocationId)
        throw new BopisPermanentError(
          `no Square location for ERP location ${location} (load the mappings, then redrive)`,
        );
      const origin = originOf(order);
      return {
        key: pickupKeyOf(origin),
        origin,
        fulfillmentOrderId: fo.id,
        shopifyLocationId: fo.locationId,
        location,
        squareLocationId,
      } satisfies Pickup;
    }
    case 'reserve': {
      const pickup = need(input.pickup, 'a pick-up');
      const result = await deps.reservations.reserve(
        reservationIdOf(order),
        pickup.location,
        reservationLines(lines),
      );
      if (result.status === 'reserved') await deps.republish(positions(lines, pickup.location));
      deps.log.info('reservation', { ...log, status: result.status });
      return result;
    }
    case 'createPosPickup': {
      const pickup = need(input.pickup, 'a pick-up');
      const recipient = await deps.shopify.recipient(order.orderId);
      return deps.pos.create({
        idempotencyKey: `bopis-${pickup.origin}`.slice(0, 192),
        locationId: pickup.squareLocationId,
        origin: pickup.origin,
        referenceId: order.name ?? order.orderId,
        lines,
        recipient,
        pickupWindowSeconds: deps.pickupWindowSeconds,
      });
    }
    case 'markPrepared': {
      const pickup = need(input.pickup, 'a pick-up');
      return { result: await deps.shopify.markPrepared(pickup.fulfillmentOrderId) };
    }
    case 'fulfil': {
      const pickup = need(input.pickup, 'a pick-up');
      return { result: await deps.shopify.fulfil(pickup.fulfillmentOrderId) };
    }
    case 'convertToSale': {
      const pickup = need(input.pickup, 'a pick-up');
      const result = await deps.reservations.convertToSale(
        reservationIdOf(order),
        pickup.location,
        reservationLines(lines),
        fulfilmentExternalIdOf(order),
      );
      await deps.republish(positions(lines, pickup.location));
      return { result };
    }
    case 'bookErp': {
      const pickup = need(input.pickup, 'a pick-up');
      const salesOrderExternalId = orderExternalId({
        system: 'shopify',
        account: order.shop,
        orderId: order.orderId,
      });
      return {
        result: await deps.erp.bookFulfilment({
          salesOrderExternalId,
          externalId: `bopis-${salesOrderExternalId}`,
          location: pickup.location,
        }),
      };
    }
    case 'release': {
      // Without a pick-up (Locate failed) nothing was reserved.
      if (input.pickup === null) return { result: 'nothing-held' };
      const result = await deps.reservations.release(
        reservationIdOf(order),
        input.pickup.location,
        reservationLines(lines),
      );
      if (result === 'done') await deps.republish(positions(lines, input.pickup.location));
      return { result };
    }
    case 'cancelPosPickup': {
      // No Square order id: CreatePosPickup never answered, and its failure was permanent (Square refused
      // it), so Square has no order under that idempotency key.
      if (input.pos === null) return { result: 'nothing-created' };
      return { result: await deps.pos.cancel(input.pos.squareOrderId) };
    }
    case 'cancelOrder': {
      const reason = input.outcome?.reason ?? 'STEP_FAILED';
      return { result: await deps.shopify.cancel(order.orderId, reason) };
    }
    case 'closeErp': {
      const salesOrderExternalId = orderExternalId({
        system: 'shopify',
        account: order.shop,
        orderId: order.orderId,
      });
      return { result: await deps.erp.close(salesOrderExternalId) };
    }
    case 'notify': {
      await deps.notify(order, input.outcome?.reason ?? 'STEP_FAILED');
      return { result: 'notified' };
    }
  }
}

const positions = (lines: readonly PickupLine[], location: string) =>
  [...new Set(lines.map((l) => l.sku))].map((sku) => ({ sku, location }));
