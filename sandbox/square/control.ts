import { paginate } from '../core/control.ts';
import type { FaultInjector } from '../core/faults.ts';
import { queryOf, type Router, sendJson } from '../core/http.ts';
import type { WebhookDispatcher } from '../core/webhooks.ts';
import { SQUARE_VERSION } from './model.ts';
import type { SquareSession } from './session.ts';

/** What the state dump reports besides the session's records. */
export interface StateSources {
  accessToken: string;
  clock: () => number;
  webhooks: WebhookDispatcher;
  faults: FaultInjector;
}

/**
 * `GET _control/state`. `view` = orders (default) | payments | refunds |
 * inventory | catalog | locations | registers | events | changes; filters
 * `location_id`, `sku`, `type`; paging `offset`/`limit`.
 */
export function squareState(session: SquareSession, q: URLSearchParams, sources: StateSources): unknown {
  const { store, counters } = session;
  const view = q.get('view') ?? 'orders';
  const loc = q.get('location_id');
  const sku = q.get('sku');
  const now = new Date(sources.clock()).toISOString();
  let list: unknown[];
  switch (view) {
    case 'payments':
      list = [...store.payments.values()].filter((p) => !loc || p.location_id === loc);
      break;
    case 'refunds':
      list = [...store.refunds.values()].filter((p) => !loc || p.location_id === loc);
      break;
    case 'inventory': {
      const v = sku ? store.variationBySku.get(sku) : undefined;
      const keys = v ? store.locations.map((l) => `${v.id}|${l.id}`) : store.touchedKeys();
      list = keys
        .map((k) => k.split('|') as [string, string])
        .filter(([, l]) => !loc || l === loc)
        .map(([vid, l]) => ({
          sku: store.variations.get(vid)?.item_variation_data.sku,
          location_code: store.codeByLocationId.get(l),
          ...store.count(vid, l, now),
        }));
      break;
    }
    case 'catalog':
      list = [...store.variations.values()]
        .filter((v) => !sku || v.item_variation_data.sku === sku)
        .map((v) => ({
          id: v.id,
          item_id: v.item_variation_data.item_id,
          sku: v.item_variation_data.sku,
          name: v.item_variation_data.name,
          price_money: v.item_variation_data.price_money,
        }));
      break;
    case 'locations':
      list = store.locations.map((l) => ({
        id: l.id,
        code: l.description,
        name: l.name,
        timezone: l.timezone,
      }));
      break;
    case 'registers':
      list = store.registers.filter((r) => !loc || r.location_id === loc);
      break;
    case 'events':
      list = store.events.filter((e) => !q.get('type') || e.type === q.get('type'));
      break;
    case 'changes':
      list = store.changes;
      break;
    default:
      list = [...store.orders.values()].filter((o) => !loc || o.location_id === loc);
  }
  return {
    system: 'square',
    merchantId: store.merchantId,
    squareVersion: SQUARE_VERSION,
    credentials: { accessToken: sources.accessToken, authorization: `Bearer ${sources.accessToken}` },
    limits: {
      batchChangeInventoryMaxChanges: 100,
      batchRetrieveOrdersMaxIds: 100,
      idempotencyKeyMaxLength: 128,
    },
    subscriptions: session.emitter.subscriptions,
    counters: { ...counters, byStatus: { ...counters.byStatus } },
    webhooks: sources.webhooks.counters,
    faults: sources.faults.snapshot(),
    summary: {
      locations: store.locations.length,
      registers: store.registers.length,
      items: store.items.length,
      variations: store.variations.size,
      orders: store.orders.size,
      payments: store.payments.size,
      refunds: store.refunds.size,
      inventoryChanges: store.changes.length,
      events: store.events.length,
    },
    view,
    records: paginate(list, q),
  };
}

/** Square-only control routes: `GET _control/events` (emitted events, filter `type`, paged). */
export function installControlRoutes(router: Router, session: () => SquareSession): void {
  router.on('GET', '/_control/events', ({ req, res }) => {
    const q = queryOf(req);
    const type = q.get('type');
    sendJson(
      res,
      200,
      paginate(
        session().store.events.filter((e) => !type || e.type === type),
        q,
      ),
    );
  });
}
