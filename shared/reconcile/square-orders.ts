import { isHubMadeOrder, parseSquareOrder } from '../connectors/square/mapper.ts';
import type { SquareOrder } from '../connectors/square/payloads.ts';
import { SEARCH_LOCATIONS_PER_CALL } from '../flows/pos-sweep.ts';
import { isReturnOrder } from '../ingress/pos-capture.ts';
import type { ChannelOrder } from './compare.ts';

/**
 * The POS side of the reconciliation: Square `SearchOrders` over the seller's active locations, ten
 * `location_ids` per call (Square's maximum), COMPLETED orders (what the hub books) whose `updated_at` is in the
 * window, sorted by the filtered field as Square requires (SearchOrdersDateTimeFilter / SearchOrdersSort:
 * https://developer.squareup.com/reference/square/orders-api/search-orders), page by page with its cursor.
 *
 * A sale is booked by the hub as a cash sale (external id `pos-<merchant>-<order>`); a return order
 * (returns and no line items) is booked through its refunds (`posrefund-<merchant>-<refund>`, completed
 * refunds only); orders the hub created in Square itself (pick-ups, `metadata.omnihub_origin`) are not POS
 * sales and are left out, as the ingress leaves them out.
 */

export interface SquareSearchSource {
  listLocations(): Promise<readonly { id: string; merchant_id: string | null; status: string | null }[]>;
  searchOrders(request: Readonly<Record<string, unknown>>): Promise<{ orders: unknown[]; cursor?: string }>;
}

export interface SquareOrdersRead {
  readonly merchantId: string | undefined;
  readonly orders: ChannelOrder[];
  /** Parsed orders by id, for healing. */
  readonly raw: Map<string, SquareOrder>;
  readonly calls: number;
  /** Orders Square returned that the hub cannot read (they are parked by the ingress; counted here). */
  readonly unreadable: number;
}

const PAGE_LIMIT = 500;

export async function readSquareOrders(
  square: SquareSearchSource,
  window: { readonly since: string; readonly until: string },
  call: <T>(what: string, fn: () => Promise<T>) => Promise<T> = (_what, fn) => fn(),
): Promise<SquareOrdersRead> {
  const locations = (await call('ListLocations', () => square.listLocations())).filter(
    (location) => !location.status || location.status === 'ACTIVE',
  );
  const merchantId = locations.find((location) => location.merchant_id)?.merchant_id ?? undefined;
  const orders: ChannelOrder[] = [];
  const raw = new Map<string, SquareOrder>();
  let calls = 1;
  let unreadable = 0;
  if (!merchantId) return { merchantId, orders, raw, calls, unreadable };
  for (let start = 0; start < locations.length; start += SEARCH_LOCATIONS_PER_CALL) {
    const locationIds = locations.slice(start, start + SEARCH_LOCATIONS_PER_CALL).map((l) => l.id);
    let cursor: string | undefined;
    do {
      const request = {
        location_ids: locationIds,
        limit: PAGE_LIMIT,
        ...(cursor ? { cursor } : {}),
        query: {
          filter: {
            state_filter: { states: ['COMPLETED'] },
            date_time_filter: { updated_at: { start_at: window.since, end_at: window.until } },
          },
          sort: { sort_field: 'UPDATED_AT', sort_order: 'ASC' },
        },
      };
      const page = await call('SearchOrders', () => square.searchOrders(request));
      calls += 1;
      for (const item of page.orders) {
        let order: SquareOrder;
        try {
          order = parseSquareOrder(item);
        } catch {
          unreadable += 1;
          continue;
        }
        if (isHubMadeOrder(order)) continue;
        if (isReturnOrder(order)) {
          const refundIds = order.refunds.filter((r) => r.status === 'COMPLETED').map((r) => r.id);
          if (refundIds.length === 0) continue;
          // The return's own document is its refunds' cash refunds: no order document to compare.
          orders.push({
            system: 'pos',
            account: merchantId,
            orderId: order.id,
            total: { amount: order.total_money.amount, currency: order.total_money.currency },
            status: 'open',
            refundIds,
            returnOnly: true,
          });
          continue;
        }
        raw.set(order.id, order);
        orders.push({
          system: 'pos',
          account: merchantId,
          orderId: order.id,
          total: { amount: order.total_money.amount, currency: order.total_money.currency },
          status: 'open',
          refundIds: order.refunds.filter((r) => r.status === 'COMPLETED').map((r) => r.id),
        });
      }
      cursor = page.cursor;
    } while (cursor);
  }
  return { merchantId, orders, raw, calls, unreadable };
}
