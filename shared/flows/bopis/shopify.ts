import type { ShopifyGraphql } from '../../inventory/shopify-publisher.ts';
import {
  BopisPermanentError,
  BopisTransientError,
  type ShopifyPickupPort,
  type ShopifyPickupState,
} from './tasks.ts';

/**
 * The Shopify side of a pick-up, on the pinned Admin GraphQL version (2025-04; documents checked against
 * its schema in test/unit/bopis-shopify.test.ts):
 * - the pick-up fulfillment order: `order.fulfillmentOrders` with `deliveryMethod.methodType PICK_UP` and
 *   its `assignedLocation` (https://shopify.dev/docs/apps/build/orders-fulfillment/order-management-apps/build-pickup-fulfillment);
 * - `fulfillmentOrderLineItemsPreparedForPickup` (https://shopify.dev/docs/api/admin-graphql/2025-04/mutations/fulfillmentOrderLineItemsPreparedForPickup):
 *   the customer is notified that the order is ready;
 * - `fulfillmentCreate` (https://shopify.dev/docs/api/admin-graphql/2025-04/mutations/fulfillmentCreate) once collected;
 * - `orderCancel` with `refund` and `restock` (https://shopify.dev/docs/api/admin-graphql/2025-04/mutations/orderCancel):
 *   asynchronous (a Job); a cancelled order is recognised by `cancelledAt`.
 * Every write is checked first, so a retried task never writes twice.
 */

export const PICKUP_QUERY = `query BopisPickup($id: ID!) {
  order(id: $id) {
    id
    cancelledAt
    fulfillmentOrders(first: 20) {
      nodes {
        id
        status
        deliveryMethod { methodType }
        assignedLocation { location { legacyResourceId } }
      }
    }
  }
}`;

export const RECIPIENT_QUERY = `query BopisRecipient($id: ID!) {
  order(id: $id) {
    phone
    customer { displayName }
    shippingAddress { name phone }
    billingAddress { name phone }
  }
}`;

export const PREPARED_MUTATION = `mutation BopisPrepared($input: FulfillmentOrderLineItemsPreparedForPickupInput!) {
  fulfillmentOrderLineItemsPreparedForPickup(input: $input) {
    userErrors { field message code }
  }
}`;

export const FULFIL_MUTATION = `mutation BopisFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id }
    userErrors { field message }
  }
}`;

export const CANCEL_MUTATION = `mutation BopisCancel($orderId: ID!, $reason: OrderCancelReason!, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refund: true, restock: true, notifyCustomer: true, staffNote: $staffNote) {
    job { id }
    orderCancelUserErrors { field message code }
  }
}`;

const orderGid = (orderId: string) =>
  orderId.startsWith('gid://') ? orderId : `gid://shopify/Order/${orderId}`;

interface FoNode {
  id: string;
  status: string;
  deliveryMethod: { methodType: string } | null;
  assignedLocation: { location: { legacyResourceId: string } | null } | null;
}

export class ShopifyPickupAdapter implements ShopifyPickupPort {
  constructor(private readonly graphql: () => Promise<ShopifyGraphql>) {}

  private async call(document: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
    const answer = await (await this.graphql())(document, variables);
    if (answer.errors.some((e) => e.code === 'THROTTLED'))
      throw new BopisTransientError('Shopify throttled the request');
    if (answer.errors.length > 0 || !answer.data)
      throw new BopisPermanentError(
        `Shopify refused the request: ${answer.errors.map((e) => e.message).join('; ')}`,
      );
    return answer.data;
  }

  async pickup(orderId: string): Promise<ShopifyPickupState> {
    const data = await this.call(PICKUP_QUERY, { id: orderGid(orderId) });
    const order = data.order as { cancelledAt: string | null; fulfillmentOrders: { nodes: FoNode[] } } | null;
    if (!order) throw new BopisPermanentError(`Shopify has no order ${orderId}`);
    const fo = order.fulfillmentOrders.nodes.find((n) => n.deliveryMethod?.methodType === 'PICK_UP');
    const locationId = fo?.assignedLocation?.location?.legacyResourceId;
    return {
      cancelled: order.cancelledAt !== null,
      fulfillmentOrder:
        fo && locationId ? { id: fo.id, status: fo.status, locationId: String(locationId) } : null,
    };
  }

  async recipient(orderId: string) {
    const data = await this.call(RECIPIENT_QUERY, { id: orderGid(orderId) });
    const order = data.order as {
      phone: string | null;
      customer: { displayName: string } | null;
      shippingAddress: { name: string | null; phone: string | null } | null;
      billingAddress: { name: string | null; phone: string | null } | null;
    } | null;
    if (!order) throw new BopisPermanentError(`Shopify has no order ${orderId}`);
    const displayName =
      order.customer?.displayName ?? order.billingAddress?.name ?? order.shippingAddress?.name ?? null;
    const phone = order.phone ?? order.billingAddress?.phone ?? order.shippingAddress?.phone ?? null;
    if (!displayName) throw new BopisPermanentError(`order ${orderId} has no customer name for the pick-up`);
    return { displayName, phone };
  }

  async markPrepared(fulfillmentOrderId: string): Promise<'done' | 'already'> {
    const data = await this.call(PREPARED_MUTATION, {
      input: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId }] },
    });
    const errors = (
      data.fulfillmentOrderLineItemsPreparedForPickup as {
        userErrors: { message: string; code: string | null }[];
      }
    ).userErrors;
    if (errors.length === 0) return 'done';
    // Already prepared (a retried task): Shopify has nothing left to prepare.
    if (errors.every((e) => e.code === 'NO_LINE_ITEMS_TO_PREPARE_FOR_FULFILLMENT_ORDER')) return 'already';
    throw new BopisPermanentError(
      `Shopify refused preparing ${fulfillmentOrderId}: ${errors.map((e) => e.message).join('; ')}`,
    );
  }

  async fulfil(fulfillmentOrderId: string): Promise<'done' | 'already'> {
    const data = await this.call(
      `query BopisFulfillmentOrder($id: ID!) { fulfillmentOrder(id: $id) { status } }`,
      { id: fulfillmentOrderId },
    );
    const status = (data.fulfillmentOrder as { status: string } | null)?.status;
    if (status === 'CLOSED') return 'already';
    const created = await this.call(FULFIL_MUTATION, {
      fulfillment: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId }], notifyCustomer: false },
    });
    const errors = (created.fulfillmentCreate as { userErrors: { message: string }[] }).userErrors;
    if (errors.length > 0)
      throw new BopisPermanentError(
        `Shopify refused fulfilling ${fulfillmentOrderId}: ${errors.map((e) => e.message).join('; ')}`,
      );
    return 'done';
  }

  async cancel(orderId: string, reason: string): Promise<'done' | 'already'> {
    const state = await this.pickup(orderId);
    if (state.cancelled) return 'already';
    const data = await this.call(CANCEL_MUTATION, {
      orderId: orderGid(orderId),
      reason:
        reason === 'STOCK_UNAVAILABLE' ? 'INVENTORY' : reason === 'ORDER_CANCELLED' ? 'CUSTOMER' : 'OTHER',
      staffNote: `Omnihub pick-up: ${reason}`,
    });
    const errors = (data.orderCancel as { orderCancelUserErrors: { message: string; code: string | null }[] })
      .orderCancelUserErrors;
    if (errors.length === 0) return 'done';
    // orderCancel runs as a Job: a retried task can find the order not cancelled yet while the first call's
    // job runs, and its second orderCancel is refused. Cancelled by now: done. Otherwise retried (the task's
    // Retry), so a cancellation in progress is not taken for a refusal that stops the compensation; a real
    // refusal fails the same way once the retries are spent.
    if ((await this.pickup(orderId)).cancelled) return 'already';
    throw new BopisTransientError(
      `Shopify refused cancelling order ${orderId} (not cancelled yet): ${errors.map((e) => e.message).join('; ')}`,
    );
  }
}
