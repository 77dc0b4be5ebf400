import * as z from 'zod';
import { HubError } from '../../errors.ts';
import type { CanonicalEvent } from '../../events/catalog.ts';
import { buildEvent } from '../../events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '../../events/envelope.ts';
import { type ReturnRequested, ReturnRequestedSchema } from '../../events/return.ts';
import type { ErpRecordRef, ErpReturnPort } from '../../ports/erp.ts';
import { ErpAuthError } from '../../ports/erp-errors.ts';
import type { ExceptionStore } from '../../repositories/exceptions.ts';
import { type LedgerEntry, orderKey } from '../../repositories/ledger.ts';

/**
 * The steps of the omnichannel-return workflow (state-machines/omnichannel-return): each a pure function
 * of the execution's state and its ports, run by a thin Lambda task. The state machine passes the whole
 * state and puts each step's result under its own key (`ResultPath`), so a later step — or a redrive —
 * sees what the earlier ones did.
 *
 * Errors a task throws are named for the state machine's `Retry`/`Catch`: {@link ReturnStepRetryable}
 * (throttling, outage: retried with backoff) and {@link ReturnStepFailed} (retrying cannot help).
 */

/** Thrown for the state machine to retry (its name is the `ErrorEquals` of the `Retry`). */
export class ReturnStepRetryable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReturnStepRetryable';
  }
}

/** Thrown for the state machine's `Catch`: the step failed in a way retrying cannot fix. */
export class ReturnStepFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'ReturnStepFailed';
  }
}

/** A hub error → the step error the state machine routes on. */
export function stepError(error: unknown): Error {
  if (error instanceof HubError) {
    // An auth failure is an operator's fix (a rotated certificate), not an outage: not retried blindly.
    return error.retryable && !(error instanceof ErpAuthError)
      ? new ReturnStepRetryable(`${error.code}: ${error.message}`)
      : new ReturnStepFailed(error.code, error.message);
  }
  return error instanceof Error ? error : new Error(String(error));
}

export const MatchSchema = z.discriminatedUnion('matched', [
  z.object({
    matched: z.literal(true),
    salesOrder: z.object({
      internalId: z.string(),
      externalId: z.string(),
      recordType: z.literal('salesOrder'),
    }),
  }),
  z.object({ matched: z.literal(false), code: z.string(), reason: z.string() }),
]);
export type Match = z.infer<typeof MatchSchema>;

export const ShopifyOutcomeSchema = z.object({
  skipped: z.boolean().describe('Shopify already held the return and its refund (it triggered)'),
  returnId: z.string().nullable(),
  refundId: z.string().nullable(),
  /**
   * What Shopify's return says happened to each returned order line (its reverse fulfillment order's
   * dispositions: RESTOCKED at a location, or not): the refund of a return does not say it.
   */
  dispositions: z
    .array(
      z.object({
        orderLineId: z.string(),
        disposition: z.enum(['restock', 'damaged']),
        locationId: z.string().nullable(),
      }),
    )
    .optional(),
  /** The hub's own return this Shopify return is (its lines carry the hub's note): an echo, booked already. */
  madeByHub: z.string().optional(),
});
export type ShopifyOutcome = z.infer<typeof ShopifyOutcomeSchema>;

export const ErpOutcomeSchema = z.object({ internalId: z.string(), externalId: z.string() });

/** The execution's state as the tasks receive it. */
export const ReturnStateSchema = z.object({
  request: ReturnRequestedSchema,
  match: MatchSchema.optional(),
  shopify: ShopifyOutcomeSchema.optional(),
  erp: ErpOutcomeSchema.optional(),
  /** What the last `Catch` caught (`{Error, Cause}`), for parking with its reason. */
  failure: z.object({ Error: z.string(), Cause: z.string().optional() }).optional(),
});
export type ReturnState = z.infer<typeof ReturnStateSchema>;

/**
 * Step 1: the original order and its lines. The order is matched through the sync ledger (the sales
 * order the hub booked for it) and every returned line through the ledger's line keys (`line-<id>`:
 * the ERP line that booked it). No match → the workflow parks the return with this reason.
 */
export async function matchReturn(
  request: ReturnRequested,
  deps: { readonly ledger: { get(key: string): Promise<LedgerEntry | undefined> } },
): Promise<Match> {
  const { order } = request;
  if (order.orderId === null) {
    return {
      matched: false,
      code: 'RETURN_ORDER_UNKNOWN',
      reason: `no online order of ${order.account} is named ${order.name ?? '(no reference)'}`,
    };
  }
  const entry = await deps.ledger.get(orderKey('shopify', order.account, order.orderId));
  if (entry === undefined || entry.recordType !== 'salesOrder') {
    return {
      matched: false,
      code: 'RETURN_ORDER_NOT_BOOKED',
      reason: `Shopify order ${order.orderId} of ${order.account} has no sales order in the ERP (not booked, or parked): replay once it is booked`,
    };
  }
  const missing = request.lines.filter(
    (line) => entry.erpLines !== undefined && entry.erpLines[`line-${line.orderLineId}`] === undefined,
  );
  if (missing.length > 0) {
    return {
      matched: false,
      code: 'RETURN_LINE_NOT_IN_ORDER',
      reason: `order ${order.orderId} has no line ${missing.map((line) => line.orderLineId).join(', ')}`,
    };
  }
  return {
    matched: true,
    salesOrder: { internalId: entry.erpInternalId, externalId: entry.externalId, recordType: 'salesOrder' },
  };
}

/**
 * Step 3: the ERP's financial reversal, once (the credit memo is keyed by the return id). Runs after the
 * Shopify refund, which cannot be undone: a failure here is retried (the state machine's backoff), then
 * parked for a replay — never compensated by a second refund.
 */
export async function bookCreditMemo(
  state: ReturnState,
  deps: { readonly erp: ErpReturnPort; readonly transactionId: string },
): Promise<z.infer<typeof ErpOutcomeSchema>> {
  if (state.match?.matched !== true) {
    throw new ReturnStepFailed('RETURN_NOT_MATCHED', 'the credit memo step ran without a matched order');
  }
  const salesOrder: ErpRecordRef = state.match.salesOrder;
  try {
    const memo = await deps.erp.recordReturnCreditMemo(state.request, salesOrder, {
      transactionId: deps.transactionId,
    });
    return { internalId: memo.internalId, externalId: memo.externalId };
  } catch (error) {
    throw stepError(error);
  }
}

/** The stock movement id of a returned line: the return id and the line, so a replay applies it once. */
export const returnMovementId = (returnId: string, lineId: string) => `return:${returnId}:${lineId}`;

const metadataFor = (request: ReturnRequested, kind: string, key: string, now: string) => ({
  eventId: deterministicUuid('hub', 'return', request.returnId, kind, key),
  transactionId: deterministicUuid('hub', 'return', request.returnId),
  idempotencyKey: key,
  occurredAt: now,
  receivedAt: now,
  origin: {
    system: 'hub' as const,
    account: request.order.account,
    resourceId: request.returnId,
  },
});

/**
 * Step 4: disposition. Restocked lines become `InventoryAdjusted` (+quantity, reason `return`) at the
 * returning location with movement id {@link returnMovementId}, so the projection counts them once and
 * republishes the location's availability; damaged lines move nothing sellable (not available).
 */
export function dispositionEvents(state: ReturnState, now: string): CanonicalEvent[] {
  const { request } = state;
  return dispositioned(state)
    .filter((line) => line.disposition === 'restock' && line.sku !== null && line.location !== null)
    .map((line) => {
      const location = line.location as NonNullable<typeof line.location>;
      const movementId = returnMovementId(request.returnId, line.lineId);
      return buildEvent(
        'InventoryAdjusted',
        EVENT_SOURCES.hub,
        metadataFor(request, 'InventoryAdjusted', movementId, now),
        {
          item: { sku: line.sku },
          location,
          delta: line.quantity,
          movementId,
          reason: 'return',
          occurredAt: request.requestedAt,
        },
      );
    });
}

/**
 * The returned lines with where each went: Shopify's return dispositions when the workflow read them (a
 * return Shopify processed), else the request's own (the refund's restock types, the POS's choice).
 */
export function dispositioned(state: ReturnState) {
  const { request } = state;
  const fromShopify = new Map((state.shopify?.dispositions ?? []).map((d) => [d.orderLineId, d]));
  return request.lines.map((line) => {
    const shopify = fromShopify.get(line.orderLineId);
    if (shopify === undefined) return { ...line, location: request.location };
    return {
      ...line,
      disposition: shopify.disposition,
      location: shopify.locationId === null ? null : { system: 'shopify' as const, id: shopify.locationId },
    };
  });
}

/** Step 5: `ReturnCompleted`, once per return (its event id derives from the return id). */
export function completedEvent(state: ReturnState, now: string): CanonicalEvent {
  const { request, erp, shopify } = state;
  if (erp === undefined) throw new ReturnStepFailed('RETURN_NOT_CREDITED', 'no credit memo in the state');
  return buildEvent(
    'ReturnCompleted',
    EVENT_SOURCES.hub,
    metadataFor(request, 'ReturnCompleted', `return:${request.returnId}`, now),
    {
      returnId: request.returnId,
      order: request.order,
      shopify: { returnId: shopify?.returnId ?? null, refundId: shopify?.refundId ?? null },
      erp: { creditMemoInternalId: erp.internalId, creditMemoExternalId: erp.externalId },
      lines: dispositioned(state).map(({ location: _location, ...line }) => line),
      total: request.total,
      completedAt: now,
    },
  );
}

/** Why a return is parked, by the state it stopped in. */
export const PARK_REASONS = ['NOT_MATCHED', 'SHOPIFY_FAILED', 'ERP_FAILED'] as const;
export type ParkReason = (typeof PARK_REASONS)[number];

/**
 * Parks a return with its reason (exceptions table, kind `return`), keyed by the return and the reason so
 * a retried park overwrites. With a task token (the ERP step after the Shopify refund), the execution
 * waits on it: the replay sends the token back (`SendTaskSuccess`) and the credit memo is tried again.
 */
export async function parkReturn(
  state: ReturnState,
  why: ParkReason,
  deps: {
    readonly exceptions: ExceptionStore;
    readonly executionArn: string;
    readonly taskToken?: string;
    readonly now: string;
  },
): Promise<{ exceptionId: string; code: string }> {
  const { request } = state;
  const code = why === 'NOT_MATCHED' && state.match?.matched === false ? state.match.code : `RETURN_${why}`;
  const reason =
    why === 'NOT_MATCHED' && state.match?.matched === false
      ? state.match.reason
      : (state.failure?.Cause ?? state.failure?.Error ?? why);
  const { exceptionId } = await deps.exceptions.park({
    kind: 'return',
    inputId: `${request.returnId}#${why}`,
    at: request.requestedAt,
    code,
    reason: reason.slice(0, 2000),
    issues: [],
    transactionId: deterministicUuid('hub', 'return', request.returnId),
    attributes: {
      returnId: request.returnId,
      executionArn: deps.executionArn,
      replay:
        deps.taskToken === undefined
          ? 'start the workflow again once the cause is fixed (a new execution name)'
          : 'send the task token back (SendTaskSuccess) to try the ERP step again',
      ...(deps.taskToken === undefined ? {} : { taskToken: deps.taskToken }),
    },
    payload: Buffer.from(JSON.stringify(state)),
    subjects: {
      system: 'shopify',
      account: request.order.account,
      ...(request.order.orderId === null ? {} : { orderIds: [request.order.orderId] }),
    },
  });
  return { exceptionId, code };
}
