import { PosAuthError, PosUnavailableError } from '../connectors/square/errors.ts';
import { isHubMadeOrder, orderVersionOf, parseSquareOrder } from '../connectors/square/mapper.ts';
import { type SquareOrder, SquareRefundSchema } from '../connectors/square/payloads.ts';
import { MappingError } from '../errors.ts';
import {
  type CaptureContext,
  captureOrder,
  captureRefund,
  isReturnOrder,
  type PosCaptureDeps,
  type PosOrderSource,
  refundMarkerKey,
} from '../ingress/pos-capture.ts';
import type { DeliveryOutcome } from '../ingress/webhook.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import type { SweepCursorStore } from '../repositories/pos-sweep-cursor.ts';

/**
 * The scheduled POS sweep: what webhooks missed (a delivery Square gave up on, an outage longer than its
 * 72 hours of retries, a subscription that was off) is found with `SearchOrders` and fed through the same
 * capture path, so it is booked once whatever found it first.
 *
 * Per run: the seller's locations (`ListLocations`), then `SearchOrders` over them ten at a time (Square's
 * maximum of `location_ids`), COMPLETED orders whose `updated_at` lies in [cursor − overlap, now] — the
 * range is inclusive at both ends and the sort field must be the filtered field (SearchOrdersDateTimeFilter
 * and SearchOrdersSort, Square API reference) — page by page. A sale is captured as its webhook would
 * capture it; a return order's refunds (`refunds[].id`) are read (`GetPaymentRefund`) and captured as
 * refunds. What the webhooks already published or parked is skipped (`capturedVersion` in the registry), so
 * the overlap costs reads, not events. The cursor moves to this run's `now` only after every page is done:
 * a failed run is covered by the next. The overlap absorbs clock skew and Square's search index lag.
 * Throttling (429) and 5xx are retried with exponential backoff and jitter inside the run.
 */

export interface PosSweepSource extends PosOrderSource {
  listLocations(): Promise<readonly { id: string; merchant_id: string | null; status: string | null }[]>;
  searchOrders(request: Readonly<Record<string, unknown>>): Promise<{ orders: unknown[]; cursor?: string }>;
  retrieveRefund(refundId: string): Promise<unknown>;
}

export interface PosSweepDeps extends PosCaptureDeps {
  readonly square: PosSweepSource;
  readonly cursors: SweepCursorStore;
  readonly exceptions: ExceptionStore;
  /** Merchants this environment serves; another merchant's token is refused (nothing swept). */
  readonly merchants?: ReadonlySet<string>;
  /** How far each run reaches back before the cursor. */
  readonly overlapSeconds: number;
  /** How far the first run (no cursor yet) reaches back. */
  readonly initialLookbackSeconds: number;
  readonly now?: () => Date;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Attempts of one Square call on 429/5xx. @default 5 */
  readonly maxAttempts?: number;
}

export interface SweepSummary {
  readonly merchantId?: string;
  readonly from?: string;
  readonly until?: string;
  readonly locations: number;
  readonly orders: number;
  readonly skipped: number;
  readonly published: number;
  readonly parked: number;
  readonly ignored: number;
}

/** Square allows at most 10 `location_ids` per SearchOrders call. */
export const SEARCH_LOCATIONS_PER_CALL = 10;
const PAGE_LIMIT = 500;

export async function sweepPosOrders(deps: PosSweepDeps): Promise<SweepSummary> {
  const now = deps.now?.() ?? new Date();
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const attempts = deps.maxAttempts ?? 5;
  /** A Square call, retried on throttling and 5xx with exponential backoff (0.5 s, 1 s, 2 s … with jitter). */
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await fn();
      } catch (error) {
        if (!(error instanceof PosUnavailableError) || attempt >= attempts) throw error;
        deps.telemetry.count(error.status === 429 ? 'PosSweepThrottled' : 'PosSweepRetried');
        const delay = 500 * 2 ** (attempt - 1) * (0.5 + Math.random());
        deps.log.warn('Square call failed; backing off', { what, status: error.status, attempt, delay });
        await sleep(delay);
      }
    }
  };

  const locations = (await call('ListLocations', () => deps.square.listLocations())).filter(
    (location) => !location.status || location.status === 'ACTIVE',
  );
  const merchantId = locations.find((location) => location.merchant_id)?.merchant_id ?? undefined;
  const counts = { locations: locations.length, orders: 0, skipped: 0, published: 0, parked: 0, ignored: 0 };
  if (!merchantId) return counts;
  if (deps.merchants && !deps.merchants.has(merchantId)) {
    deps.log.error('the Square token belongs to a merchant this environment does not serve: nothing swept', {
      merchantId,
    });
    return { merchantId, ...counts };
  }
  const cursor = await deps.cursors.get(merchantId);
  const from = new Date(
    cursor
      ? Date.parse(cursor) - deps.overlapSeconds * 1000
      : now.getTime() - deps.initialLookbackSeconds * 1000,
  ).toISOString();
  const until = now.toISOString();
  const runId = `sweep-${merchantId}-${until}`;
  const receivedAt = until;

  const count = (outcome: DeliveryOutcome) => {
    if (outcome.status === 'published') counts.published += 1;
    else if (outcome.status === 'parked') counts.parked += 1;
    else counts.ignored += 1;
  };
  const contextFor = (inputId: string, at: string, payload: unknown): CaptureContext => ({
    merchantId,
    receivedAt,
    topic: 'pos.sweep',
    deliveryId: runId,
    log: { merchantId, runId, inputId },
    park: async (error, transactionId, extra) => {
      const reason = error instanceof Error ? error.message : String(error);
      const { exceptionId } = await deps.exceptions.park({
        kind: 'pos-sweep',
        inputId: `${merchantId}#${inputId}`,
        at,
        code: (error as { code?: string }).code ?? 'MAPPING_FAILED',
        reason,
        issues: error instanceof MappingError ? error.issues : [],
        transactionId,
        attributes: { merchantId, runId, ...extra },
        payload: Buffer.from(JSON.stringify(payload)),
        subjects: { system: 'pos', account: merchantId, orderIds: extra.orderId ? [extra.orderId] : [] },
      });
      deps.telemetry.count('PosSweepParked');
      deps.log.warn('POS sweep parked an order', { merchantId, inputId, exceptionId, reason });
      return { status: 'parked', exceptionId };
    },
  });

  /**
   * One order or refund the sweep cannot take (Square answers 404 or 400 for it, or it cannot be mapped) is
   * parked with its reason and the sweep goes on: only an outage or a refused token stops the run (and keeps
   * the cursor), otherwise a single unreadable refund would stop every later run at the same place.
   */
  const isolated = async (
    inputId: string,
    at: string,
    payload: unknown,
    extra: Record<string, string>,
    work: () => Promise<void>,
  ) => {
    try {
      await work();
    } catch (error) {
      if (error instanceof PosUnavailableError || error instanceof PosAuthError) throw error;
      count(await contextFor(inputId, at, payload).park(error, runId, extra));
    }
  };

  const sweepRefunds = async (order: SquareOrder, raw: unknown) => {
    const refunds = Array.isArray((raw as { refunds?: unknown }).refunds)
      ? ((raw as { refunds: { id?: unknown }[] }).refunds
          .map((r) => r.id)
          .filter((id) => typeof id === 'string') as string[])
      : [];
    for (const refundId of refunds) {
      if ((await deps.registry.capturedVersion?.(merchantId, refundMarkerKey(refundId))) !== undefined) {
        counts.skipped += 1;
        continue;
      }
      await isolated(
        refundMarkerKey(refundId),
        order.updated_at,
        { refundId, orderId: order.id },
        { refundId },
        async () => {
          const rawRefund = await call('GetPaymentRefund', () => deps.square.retrieveRefund(refundId));
          const ctx = contextFor(refundMarkerKey(refundId), order.updated_at, rawRefund);
          const parsed = SquareRefundSchema.safeParse(rawRefund);
          if (!parsed.success) {
            count(
              await ctx.park(new MappingError(`refund ${refundId} is not readable`), runId, { refundId }),
            );
            return;
          }
          count(await captureRefund(parsed.data, ctx, { ...deps, square: retrying(deps.square, call) }));
        },
      );
    }
  };

  for (let start = 0; start < locations.length; start += SEARCH_LOCATIONS_PER_CALL) {
    const locationIds = locations
      .slice(start, start + SEARCH_LOCATIONS_PER_CALL)
      .map((location) => location.id);
    let page: string | undefined;
    do {
      const request = {
        location_ids: locationIds,
        limit: PAGE_LIMIT,
        ...(page ? { cursor: page } : {}),
        query: {
          filter: {
            state_filter: { states: ['COMPLETED'] },
            date_time_filter: { updated_at: { start_at: from, end_at: until } },
          },
          sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
        },
      };
      const result = await call('SearchOrders', () => deps.square.searchOrders(request));
      for (const raw of result.orders) {
        counts.orders += 1;
        let order: SquareOrder;
        try {
          order = parseSquareOrder(raw);
        } catch (error) {
          const id = String((raw as { id?: unknown }).id ?? 'unknown');
          const at = String((raw as { updated_at?: unknown }).updated_at ?? until);
          count(await contextFor(id, at, raw).park(error, runId, { orderId: id }));
          continue;
        }
        if (isReturnOrder(order)) {
          await sweepRefunds(order, raw);
          continue;
        }
        const version = orderVersionOf(order);
        const captured = await deps.registry.capturedVersion?.(merchantId, order.id);
        if ((captured !== undefined && captured >= version) || isHubMadeOrder(order)) {
          counts.skipped += 1;
          continue;
        }
        await isolated(`${order.id}#${version}`, order.updated_at, raw, { orderId: order.id }, async () => {
          count(
            await captureOrder(order, contextFor(`${order.id}#${version}`, order.updated_at, raw), {
              ...deps,
              square: retrying(deps.square, call),
            }),
          );
        });
      }
      page = result.cursor;
    } while (page);
  }
  await deps.cursors.put(merchantId, until);
  deps.log.info('POS sweep done', { merchantId, from, until, ...counts });
  return { merchantId, from, until, ...counts };
}

/** The capture path's reads with the sweep's backoff around them. */
function retrying(
  square: PosSweepSource,
  call: <T>(what: string, fn: () => Promise<T>) => Promise<T>,
): PosOrderSource {
  return {
    retrieveOrder: (id) => call('RetrieveOrder', () => square.retrieveOrder(id)),
    variations: (refs) => call('RetrieveCatalogObject', () => square.variations(refs)),
  };
}
