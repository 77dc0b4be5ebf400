import { createHash } from 'node:crypto';
import { HubError } from '../../errors.ts';
import type { ReturnLine, ReturnRequested, StoreReturnRecorded } from '../../events/return.ts';
import { type ShopifyGraphql, ShopifyUnavailableError } from '../../inventory/shopify-publisher.ts';
import { returnIdOf } from './trigger.ts';

/**
 * An online order returned and refunded at a store (`StoreReturnRecorded` from the POS) → the
 * omnichannel-return workflow's request. The store knows the online order only by its number and the
 * returned lines only by SKU, where the workflow matches by the Shopify order id and its line ids: the
 * order is looked up by name (`orders(query: "name:#1001")`, Shopify's order search syntax,
 * https://shopify.dev/docs/api/admin-graphql/latest/queries/orders — `name` filter) and each returned SKU
 * taken from a line of that SKU with enough units still refundable (`LineItem.refundableQuantity`).
 *
 * What cannot be resolved is not dropped: an order number no shop has gives a request without an order id
 * and a SKU the order does not hold a line `unmatched-<sku>`, which the workflow's match step parks with
 * the reason (`RETURN_ORDER_UNKNOWN`, `RETURN_LINE_NOT_IN_ORDER`).
 *
 * The money path: the store paid the customer back (the POS refund), so the request says `refundedBy:
 * 'pos'` — Shopify records the return and refunds nothing; the ERP gets the credit memo for the money the
 * store gave back (`total` = the POS refund).
 */

export const ORDER_BY_NAME_QUERY = /* GraphQL */ `
  query StoreReturnOrder($query: String!) {
    orders(first: 5, query: $query) {
      nodes {
        id
        name
        lineItems(first: 100) {
          nodes {
            id
            sku
            refundableQuantity
          }
        }
      }
    }
  }
`;

interface OrdersAnswer {
  readonly orders: {
    readonly nodes: readonly {
      id: string;
      name: string;
      lineItems: { nodes: readonly { id: string; sku: string | null; refundableQuantity: number }[] };
    }[];
  };
}

/** Shopify refused the lookup in a way a retry cannot fix (a malformed query): not expected in practice. */
export class ShopifyLookupFailed extends HubError {
  readonly code = 'SHOPIFY_LOOKUP_FAILED';
  readonly retryable = false;
}

const numeric = (id: string) => id.split('/').pop() ?? id;

/**
 * `pos-<merchant>-<refundId>`; a refund id too long for an execution name (80 characters) or with other
 * characters is replaced by its SHA-256 prefix — the same refund always gives the same id.
 */
export function storeReturnIdOf(store: StoreReturnRecorded): string {
  const { account, refundId } = store.source;
  try {
    return returnIdOf('pos', account, refundId);
  } catch {
    return returnIdOf('pos', account, `h${createHash('sha256').update(refundId).digest('hex').slice(0, 32)}`);
  }
}

/** `#1001`, `1001`, ` #1001 ` → `#1001`; anything else (spaces, quotes, operators) matches no order. */
export function orderNameOf(reference: string): string | null {
  const trimmed = reference.trim();
  if (!/^#?[A-Za-z0-9_-]{1,64}$/.test(trimmed)) return null;
  return trimmed.startsWith('#') ? trimmed : `#${trimmed}`;
}

/** The shops' orders named `reference` (exact name; the search also matches partial terms). */
async function ordersNamed(
  name: string,
  shops: readonly string[],
  graphqlOf: (shop: string) => Promise<ShopifyGraphql>,
) {
  const found: { shop: string; order: OrdersAnswer['orders']['nodes'][number] }[] = [];
  for (const shop of shops) {
    const graphql = await graphqlOf(shop);
    const answer = await graphql(ORDER_BY_NAME_QUERY, { query: `name:${JSON.stringify(name)}` });
    if (answer.errors.length > 0) {
      const message = answer.errors.map((error) => error.message).join('; ');
      if (answer.errors.some((error) => error.code === 'THROTTLED'))
        throw new ShopifyUnavailableError(message);
      throw new ShopifyLookupFailed(`order lookup in ${shop}: ${message}`);
    }
    for (const order of (answer.data as unknown as OrdersAnswer).orders.nodes) {
      if (order.name === name) found.push({ shop, order });
    }
  }
  return found;
}

/**
 * The store return → the workflow's request, the order and its lines looked up in the configured shops.
 * The return id is the POS refund's (`pos-<merchant>-<refundId>`): every delivery of that refund — the
 * webhooks, the sweep, a redelivery — names the same execution, so one return starts once.
 */
export async function requestFromStoreReturn(
  store: StoreReturnRecorded,
  shops: readonly string[],
  graphqlOf: (shop: string) => Promise<ShopifyGraphql>,
): Promise<ReturnRequested> {
  const name = orderNameOf(store.onlineOrderReference);
  const found = name === null ? [] : await ordersNamed(name, shops, graphqlOf);
  // One order of that name in one shop; none (or the same number in two shops: ambiguous) → unresolved.
  const match = found.length === 1 ? found[0] : undefined;
  const left = new Map(
    (match?.order.lineItems.nodes ?? []).map((line) => [line.id, line.refundableQuantity]),
  );
  const lines: ReturnLine[] = store.lines.map((line) => {
    const orderLine = match?.order.lineItems.nodes.find(
      (candidate) =>
        line.sku !== null && candidate.sku === line.sku && (left.get(candidate.id) ?? 0) >= line.quantity,
    );
    if (orderLine) left.set(orderLine.id, (left.get(orderLine.id) ?? 0) - line.quantity);
    return {
      lineId: line.lineId,
      orderLineId: orderLine ? numeric(orderLine.id) : `unmatched-${line.sku ?? line.lineId}`,
      sku: line.sku,
      quantity: line.quantity,
      subtotal: line.subtotal,
      tax: line.tax,
      // The goods are back at the store: the POS put them into its stock (Square adjusts its own counts).
      disposition: 'restock',
    };
  });
  const shipping = { amount: 0, currency: store.currency };
  return {
    returnId: storeReturnIdOf(store),
    trigger: {
      system: 'pos',
      account: store.source.account,
      id: store.source.refundId,
      shopifyReturnId: null,
    },
    order: {
      system: 'shopify',
      account: match?.shop ?? shops[0] ?? 'unknown-shop',
      orderId: match ? numeric(match.order.id) : null,
      name: name ?? store.onlineOrderReference,
    },
    location: store.location,
    currency: store.currency,
    lines,
    shipping,
    // What the customer got back is what the store refunded (the POS refund), whatever the order said.
    total: store.refunded,
    shopifyRefunded: false,
    refundedBy: 'pos',
    requestedAt: store.refundedAt,
  };
}
