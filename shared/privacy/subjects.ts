import * as z from 'zod';
import type { Order } from '../events/order.ts';
import type { ParkedSubjects } from '../repositories/exceptions.ts';

/** Whose data a canonical order is: its source account, the order and (if any) the customer. */
export function orderSubjects(order: {
  readonly source: Pick<Order['source'], 'system' | 'account' | 'orderId'>;
  readonly customerRef: { readonly id: string } | null;
}): ParkedSubjects {
  return {
    system: order.source.system,
    account: order.source.account,
    orderIds: [order.source.orderId],
    customerIds: order.customerRef ? [order.customerRef.id] : [],
  };
}

/** Only the parts of an order event that name its subjects, read leniently. */
const SubjectsOfEventSchema = z.object({
  detail: z.object({
    data: z.object({
      source: z.object({
        system: z.enum(['shopify', 'pos']),
        account: z.string().min(1),
        orderId: z.string().min(1),
      }),
      customerRef: z
        .object({ id: z.string().min(1) })
        .nullable()
        .optional(),
    }),
  }),
});

/**
 * The subjects of a queue message that should be an order event but failed its schema: whatever of the
 * source account, order and customer it still names; undefined when it names no account.
 */
export function orderEventSubjects(body: string): ParkedSubjects | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  const parsed = SubjectsOfEventSchema.safeParse(value);
  if (!parsed.success) return undefined;
  const { source, customerRef } = parsed.data.detail.data;
  return orderSubjects({ source, customerRef: customerRef ?? null });
}
