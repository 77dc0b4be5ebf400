import * as z from 'zod';
import type { NetSuiteErpAdapter } from '../../connectors/netsuite/adapter.ts';
import type { NetSuiteClient } from '../../connectors/netsuite/client.ts';
import { ErpValidationError } from '../../ports/erp-errors.ts';
import { BopisPermanentError, BopisTransientError, type ErpPickupPort } from './tasks.ts';

/**
 * The ERP side of a pick-up (NetSuite REST web services):
 * - collected → an **item fulfillment** transformed from the order's sales order
 *   (`POST /record/v1/salesOrder/<id>/!transform/itemFulfillment`, "Transforming Records",
 *   https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_157901123882.html: SALES_ORDER →
 *   ITEM_FULFILLMENT is among the supported transforms), every open line fulfilled at the pick-up store
 *   (the line's `location`), keyed by an `externalId` so a retried task books it once;
 * - uncollected → the sales order's lines closed (the order-capture adapter's `cancelSalesOrder`, which
 *   order capture also does when Shopify's `orders/cancelled` arrives: both are idempotent).
 * A sales order not booked yet (order capture behind, or its order parked) is a transient error: the
 * workflow retries, and a redrive after the fix books it.
 */

const RECORD_PATH = '/services/rest/record/v1';
const eidPath = (type: string, externalId: string) =>
  `${RECORD_PATH}/${type}/eid:${encodeURIComponent(externalId)}`;

const SalesOrderSchema = z.looseObject({
  id: z.string(),
  item: z
    .looseObject({
      items: z
        .array(
          z.looseObject({
            line: z.union([z.number(), z.string()]).optional(),
            item: z.looseObject({ id: z.string() }),
            quantity: z.number(),
            isClosed: z.boolean().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});

const isNotFound = (error: unknown) =>
  error instanceof ErpValidationError && error.status === 404 && error.erpCode === 'NONEXISTENT_ID';

export class NetSuitePickupAdapter implements ErpPickupPort {
  constructor(
    private readonly erp: () => Promise<{
      client: NetSuiteClient;
      adapter: Pick<NetSuiteErpAdapter, 'cancelSalesOrder'>;
    }>,
  ) {}

  async bookFulfilment(input: { salesOrderExternalId: string; externalId: string; location: string }) {
    const { client } = await this.erp();
    try {
      await client.request({ method: 'GET', path: eidPath('itemFulfillment', input.externalId) });
      return 'already' as const;
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    let order: z.infer<typeof SalesOrderSchema>;
    try {
      const res = await client.request({
        method: 'GET',
        path: eidPath('salesOrder', input.salesOrderExternalId),
        query: { expandSubResources: 'true' },
      });
      order = SalesOrderSchema.parse(res.body);
    } catch (error) {
      if (isNotFound(error))
        throw new BopisTransientError(`sales order ${input.salesOrderExternalId} is not in the ERP yet`);
      throw error;
    }
    const open = (order.item?.items ?? []).filter((line) => line.isClosed !== true && line.quantity > 0);
    if (open.length === 0)
      throw new BopisPermanentError(`sales order ${input.salesOrderExternalId} has no open line to fulfil`);
    try {
      await client.request({
        method: 'POST',
        path: `${RECORD_PATH}/salesOrder/${order.id}/!transform/itemFulfillment`,
        query: { replace: 'item' },
        body: {
          externalId: input.externalId,
          memo: 'Collected in store (Omnihub pick-up)',
          item: {
            items: open.map((line) => ({
              ...(line.line !== undefined ? { orderLine: Number(line.line) } : {}),
              item: { id: line.item.id },
              quantity: line.quantity,
              location: { id: input.location },
              itemReceive: true,
            })),
          },
        },
      });
    } catch (error) {
      // Booked by an earlier attempt whose answer was lost: the external id is taken.
      if (error instanceof ErpValidationError && error.erpCode === 'DUP_RECORD') return 'already' as const;
      throw error;
    }
    return 'done' as const;
  }

  async close(salesOrderExternalId: string) {
    const { adapter } = await this.erp();
    const ref = await adapter.cancelSalesOrder(salesOrderExternalId, {
      transactionId: `bopis-close-${salesOrderExternalId}`,
    });
    return ref ? ('done' as const) : ('not-found' as const);
  }
}
