import * as z from 'zod';
import type { SquareClient } from '../../connectors/square/client.ts';
import { HUB_ORIGIN_METADATA_KEY } from '../../connectors/square/mapper.ts';
import { BopisPermanentError, type PosPickupPort } from './tasks.ts';

/**
 * The store's side of a pick-up: a Square order with a `PICKUP` fulfilment, made through the Orders API
 * (https://developer.squareup.com/docs/orders-api/create-orders, `CreateOrder` with an
 * `idempotency_key`: the same key returns the same order, so a retried task creates one order) and
 * cancelled with `UpdateOrder` (https://developer.squareup.com/reference/square/orders-api/update-order:
 * the order's current `version`, the fulfilment and the order set to `CANCELED`).
 *
 * - The recipient's `display_name` and `phone_number` are required for a fulfilment
 *   (https://developer.squareup.com/reference/square/objects/FulfillmentRecipient); they come from
 *   Shopify when the task runs and go nowhere else.
 * - The order carries `metadata.omnihub_origin` (the online order): the POS ingress recognises its own
 *   order (never booked as a POS sale), and its `order.fulfillment.updated` notifications become
 *   `PickupUpdated` for this workflow.
 * - Lines are ad hoc (name, quantity, a zero price, the SKU in the note): the customer paid online, so
 *   the register has nothing to charge, and a catalog line would make Square count the units out a
 *   second time (the hub's reservation already lowers the store's count).
 */

const OrderSchema = z.looseObject({
  id: z.string(),
  location_id: z.string(),
  state: z.string(),
  version: z.number().int().optional(),
  fulfillments: z
    .array(z.looseObject({ uid: z.string().optional(), state: z.string().optional() }))
    .optional(),
});

export class SquarePickupAdapter implements PosPickupPort {
  constructor(private readonly client: () => Promise<Pick<SquareClient, 'write' | 'retrieveOrder'>>) {}

  async create(input: Parameters<PosPickupPort['create']>[0]) {
    if (!input.recipient.phone)
      throw new BopisPermanentError('the order has no phone number, which a Square pick-up requires');
    const client = await this.client();
    const body = {
      idempotency_key: input.idempotencyKey,
      order: {
        location_id: input.locationId,
        reference_id: input.referenceId.slice(0, 40),
        source: { name: 'Omnihub' },
        metadata: { [HUB_ORIGIN_METADATA_KEY]: input.origin },
        line_items: input.lines.map((line) => ({
          name: (line.sku === null ? line.title : `${line.title} (${line.sku})`).slice(0, 512),
          quantity: String(line.quantity),
          note:
            line.sku === null ? 'No SKU (not held by Omnihub), paid online' : `SKU ${line.sku}, paid online`,
          base_price_money: { amount: 0, currency: line.unitPrice.currency },
        })),
        fulfillments: [
          {
            type: 'PICKUP',
            state: 'PROPOSED',
            pickup_details: {
              recipient: { display_name: input.recipient.displayName, phone_number: input.recipient.phone },
              schedule_type: 'ASAP',
              pickup_window_duration: `PT${Math.round(input.pickupWindowSeconds)}S`,
              note: `Online order ${input.referenceId}: paid online`,
            },
          },
        ],
      },
    };
    const answer = await client.write('POST', '/v2/orders', 'pick-up order', body);
    const order = OrderSchema.parse((answer as { order?: unknown }).order);
    return { squareOrderId: order.id };
  }

  async cancel(squareOrderId: string): Promise<'done' | 'already'> {
    const client = await this.client();
    const order = OrderSchema.parse(await client.retrieveOrder(squareOrderId));
    if (order.state === 'CANCELED') return 'already';
    if (order.state === 'COMPLETED')
      throw new BopisPermanentError(
        `Square pick-up ${squareOrderId} is already collected: it cannot be cancelled`,
      );
    await client.write('PUT', `/v2/orders/${encodeURIComponent(squareOrderId)}`, 'pick-up cancellation', {
      idempotency_key: `bopis-cancel-${squareOrderId}-${order.version ?? 0}`,
      order: {
        location_id: order.location_id,
        version: order.version,
        state: 'CANCELED',
        fulfillments: (order.fulfillments ?? [])
          .filter((f) => f.uid && f.state !== 'CANCELED')
          .map((f) => ({ uid: f.uid, state: 'CANCELED' })),
      },
    });
    return 'done';
  }
}
