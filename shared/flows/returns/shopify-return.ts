import { HubError } from '../../errors.ts';
import { toDecimalString } from '../../events/money.ts';
import { type ShopifyGraphql, ShopifyUnavailableError } from '../../inventory/shopify-publisher.ts';
import { type ReturnState, ReturnStepFailed, type ShopifyOutcome, stepError } from './steps.ts';

/**
 * Step 2 of the omnichannel-return workflow for a return Shopify does not hold yet (an online order
 * returned at a store): Shopify `returnCreate`, then `returnProcess` with the refund, so the customer
 * sees it at once. `returnProcess` is the pinned version's mutation for processing a return and issuing
 * its refund (`financialTransfer.issueRefund`); `returnRefund` is deprecated in its favour
 * (https://shopify.dev/docs/api/admin-graphql/latest/mutations/returnProcess,
 * https://shopify.dev/docs/api/admin-graphql/2026-07/mutations/returnRefund "Deprecated. Use
 * returnProcess instead"). Stock dispositions are not sent: the hub's projection books the restock
 * (step 4) and publishes availability to Shopify itself.
 *
 * Idempotency per call: the Shopify return carries the hub's return id in its lines' `returnReasonNote`,
 * and an existing one is found before creating (a retried step never opens a second return); the refund
 * goes out with `@idempotent(key: <returnId>)`, so a retried `returnProcess` answers the refund it already
 * made — never a second refund.
 */

export class ShopifyReturnRefused extends HubError {
  readonly code = 'SHOPIFY_RETURN_REFUSED';
  readonly retryable = false;
}

const gid = (type: string, id: string) => (id.startsWith('gid://') ? id : `gid://shopify/${type}/${id}`);
const numeric = (id: string | null | undefined) => (id ? (id.split('/').pop() ?? id) : null);

export const RETURNABLE_QUERY = /* GraphQL */ `
  query ReturnableOrder($id: ID!) {
    order(id: $id) {
      id
      transactions(first: 10) {
        id
        kind
        status
        amountSet {
          shopMoney {
            amount
            currencyCode
          }
        }
      }
      fulfillments(first: 5) {
        fulfillmentLineItems(first: 20) {
          nodes {
            id
            quantity
            lineItem {
              id
            }
          }
        }
      }
      returns(first: 5) {
        nodes {
          id
          status
          returnLineItems(first: 20) {
            nodes {
              id
              quantity
              ... on ReturnLineItem {
                returnReasonNote
                fulfillmentLineItem {
                  lineItem {
                    id
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`;

export const RETURN_CREATE = /* GraphQL */ `
  mutation HubReturnCreate($returnInput: ReturnInput!) {
    returnCreate(returnInput: $returnInput) {
      return {
        id
        status
        returnLineItems(first: 50) {
          nodes {
            id
            quantity
          }
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

export const RETURN_PROCESS = (key: string) => /* GraphQL */ `
  mutation HubReturnProcess($input: ReturnProcessInput!) {
    returnProcess(input: $input) @idempotent(key: ${JSON.stringify(key)}) {
      return {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

export const RETURN_DISPOSITIONS_QUERY = /* GraphQL */ `
  query ReturnDispositions($id: ID!) {
    return(id: $id) {
      id
      returnLineItems(first: 20) {
        nodes {
          ... on ReturnLineItem {
            returnReasonNote
          }
        }
      }
      reverseFulfillmentOrders(first: 1) {
        nodes {
          lineItems(first: 20) {
            nodes {
              fulfillmentLineItem {
                lineItem {
                  id
                }
              }
              dispositions {
                quantity
                type
                location {
                  id
                }
              }
            }
          }
        }
      }
    }
  }
`;

export const RETURN_CANCEL = /* GraphQL */ `
  mutation HubReturnCancel($id: ID!) {
    returnCancel(id: $id) {
      return {
        id
        status
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`;

export const RETURN_REFUNDS_QUERY = /* GraphQL */ `
  query ReturnRefunds($id: ID!) {
    return(id: $id) {
      id
      status
      refunds(first: 5) {
        nodes {
          id
        }
      }
    }
  }
`;

interface Node<T> {
  readonly nodes: readonly T[];
}
interface OrderAnswer {
  readonly order: {
    readonly transactions: readonly {
      id: string;
      kind: string;
      status: string;
      amountSet: { shopMoney: { amount: string; currencyCode: string } };
    }[];
    readonly fulfillments: readonly {
      fulfillmentLineItems: Node<{ id: string; quantity: number; lineItem: { id: string } }>;
    }[];
    readonly returns: Node<{
      id: string;
      status: string;
      returnLineItems: Node<{ id: string; quantity: number; returnReasonNote?: string | null }>;
    }>;
  } | null;
}
interface UserError {
  readonly field?: readonly string[] | null;
  readonly message: string;
  readonly code?: string | null;
}

/** The note that ties a Shopify return to the hub's return (found again before creating). */
export const returnNote = (returnId: string) => `omnihub return ${returnId}`;

async function call<T>(graphql: ShopifyGraphql, document: string, variables: Record<string, unknown>) {
  const answer = await graphql(document, variables);
  if (answer.errors.length > 0) {
    const throttled = answer.errors.some((error) => error.code === 'THROTTLED');
    if (throttled) throw stepError(new ShopifyUnavailableError('Shopify throttled the request'));
    throw new ReturnStepFailed(
      'SHOPIFY_REQUEST_FAILED',
      answer.errors.map((error) => error.message).join('; '),
    );
  }
  return answer.data as T;
}

const refused = (what: string, errors: readonly UserError[]) =>
  new ReturnStepFailed(
    'SHOPIFY_RETURN_REFUSED',
    `${what}: ${errors.map((error) => `${(error.field ?? []).join('.')} ${error.message}`.trim()).join('; ')}`,
  );

/**
 * Opens (or finds) the Shopify return of `request` and processes it with its refund, once — or, for a
 * return the store already paid back (`refundedBy: 'pos'`), processes it without a refund.
 */
export async function refundInShopify(state: ReturnState, graphql: ShopifyGraphql): Promise<ShopifyOutcome> {
  const { request } = state;
  if (request.shopifyRefunded) {
    return { skipped: true, returnId: request.trigger.shopifyReturnId, refundId: request.trigger.id };
  }
  try {
    const orderId = gid('Order', request.order.orderId ?? '');
    const data = await call<OrderAnswer>(graphql, RETURNABLE_QUERY, { id: orderId });
    if (!data.order) throw new ReturnStepFailed('SHOPIFY_ORDER_NOT_FOUND', `Shopify has no order ${orderId}`);
    const note = returnNote(request.returnId);
    let shopifyReturn = data.order.returns.nodes.find(
      (candidate) =>
        candidate.status !== 'CANCELED' &&
        candidate.returnLineItems.nodes.some((line) => line.returnReasonNote === note),
    );
    if (!shopifyReturn) {
      const fulfilled = data.order.fulfillments.flatMap((f) => f.fulfillmentLineItems.nodes);
      const returnLineItems = request.lines.map((line) => {
        const fulfilledLine = fulfilled.find((f) => numeric(f.lineItem.id) === numeric(line.orderLineId));
        if (!fulfilledLine) {
          throw new ReturnStepFailed(
            'SHOPIFY_LINE_NOT_FULFILLED',
            `order line ${line.orderLineId} was never fulfilled`,
          );
        }
        return {
          fulfillmentLineItemId: fulfilledLine.id,
          quantity: line.quantity,
          returnReasonNote: note,
        };
      });
      const created = await call<{
        returnCreate: {
          return: {
            id: string;
            status: string;
            returnLineItems: Node<{ id: string; quantity: number }>;
          } | null;
          userErrors: UserError[];
        };
      }>(graphql, RETURN_CREATE, {
        returnInput: { orderId, returnLineItems, requestedAt: request.requestedAt },
      });
      if (!created.returnCreate.return || created.returnCreate.userErrors.length > 0) {
        throw refused('returnCreate', created.returnCreate.userErrors);
      }
      shopifyReturn = created.returnCreate.return;
    }
    // Paid back at the store (the POS refund): Shopify records the return as processed, with no financial
    // transfer — `financialTransfer` is optional in ReturnProcessInput, and without it no refund is issued —
    // so the customer is never refunded twice. Otherwise the refund goes back to the order's payment.
    const paidAtStore = request.refundedBy === 'pos';
    const sale = data.order.transactions.find(
      (t) => (t.kind === 'SALE' || t.kind === 'CAPTURE') && t.status === 'SUCCESS',
    );
    if (!sale && !paidAtStore)
      throw new ReturnStepFailed(
        'SHOPIFY_NO_PAYMENT',
        `order ${orderId} has no successful payment to refund`,
      );
    const processed = await call<{
      returnProcess: { return: { id: string; status: string } | null; userErrors: UserError[] };
    }>(graphql, RETURN_PROCESS(request.returnId), {
      input: {
        returnId: shopifyReturn.id,
        returnLineItems: shopifyReturn.returnLineItems.nodes.map((line) => ({
          id: line.id,
          quantity: line.quantity,
        })),
        ...(paidAtStore || !sale
          ? {}
          : {
              financialTransfer: {
                issueRefund: {
                  orderTransactions: [
                    {
                      parentId: sale.id,
                      transactionAmount: {
                        amount: toDecimalString(request.total),
                        currencyCode: request.currency,
                      },
                    },
                  ],
                },
              },
            }),
        notifyCustomer: !paidAtStore,
      },
    });
    if (processed.returnProcess.userErrors.length > 0)
      throw refused('returnProcess', processed.returnProcess.userErrors);
    if (paidAtStore) return { skipped: false, returnId: numeric(shopifyReturn.id), refundId: null };
    const refunds = await call<{ return: { refunds: Node<{ id: string }> } | null }>(
      graphql,
      RETURN_REFUNDS_QUERY,
      {
        id: shopifyReturn.id,
      },
    );
    return {
      skipped: false,
      returnId: numeric(shopifyReturn.id),
      refundId: numeric(refunds.return?.refunds.nodes[0]?.id),
    };
  } catch (error) {
    throw error instanceof ReturnStepFailed ? error : stepError(error);
  }
}

interface DispositionsAnswer {
  readonly return: {
    readonly returnLineItems?: Node<{ returnReasonNote?: string | null }>;
    readonly reverseFulfillmentOrders: Node<{
      lineItems: Node<{
        fulfillmentLineItem: { lineItem: { id: string } } | null;
        dispositions: readonly { quantity: number; type: string; location: { id: string } | null }[];
      }>;
    }>;
  } | null;
}

/**
 * For a return Shopify processed itself: where each returned line went, from the return's reverse
 * fulfillment order (`RESTOCKED` at a location, or `NOT_RESTOCKED`/`MISSING`/`PROCESSING_REQUIRED`), since
 * the refund of a return records no restock. A line with no disposition keeps the request's.
 */
export async function readShopifyDispositions(
  state: ReturnState,
  graphql: ShopifyGraphql,
): Promise<ShopifyOutcome> {
  const { request } = state;
  const outcome = { skipped: true, returnId: request.trigger.shopifyReturnId, refundId: request.trigger.id };
  if (request.trigger.shopifyReturnId === null) return outcome;
  try {
    const data = await call<DispositionsAnswer>(graphql, RETURN_DISPOSITIONS_QUERY, {
      id: gid('Return', request.trigger.shopifyReturnId),
    });
    // A return the hub made itself (an in-store return it processed in Shopify): its lines carry the hub's
    // note. Its refund's refunds/create is the echo of the hub's own refund, already credited by the
    // execution that made it: this one must book nothing.
    const hubNote = (data.return?.returnLineItems?.nodes ?? [])
      .map((line) => line.returnReasonNote ?? '')
      .find((note) => note.startsWith(returnNote('')));
    if (hubNote) return { ...outcome, madeByHub: hubNote.slice(returnNote('').length) };
    const lines = (data.return?.reverseFulfillmentOrders.nodes ?? []).flatMap(
      (order) => order.lineItems.nodes,
    );
    const dispositions = lines.flatMap((line) => {
      const orderLineId = numeric(line.fulfillmentLineItem?.lineItem.id);
      if (orderLineId === null || line.dispositions.length === 0) return [];
      const restocked = line.dispositions.find((d) => d.type === 'RESTOCKED');
      return [
        {
          orderLineId,
          disposition: restocked ? ('restock' as const) : ('damaged' as const),
          locationId: numeric(restocked?.location?.id),
        },
      ];
    });
    return { ...outcome, dispositions };
  } catch (error) {
    throw error instanceof ReturnStepFailed ? error : stepError(error);
  }
}

/** Compensation of step 2: the Shopify return opened by the hub is cancelled (nothing was refunded). */
export async function cancelShopifyReturn(
  state: ReturnState,
  graphql: ShopifyGraphql,
): Promise<{ cancelled: string[] }> {
  const { request } = state;
  if (request.shopifyRefunded || request.order.orderId === null) return { cancelled: [] };
  try {
    const data = await call<OrderAnswer>(graphql, RETURNABLE_QUERY, {
      id: gid('Order', request.order.orderId),
    });
    const note = returnNote(request.returnId);
    const open = (data.order?.returns.nodes ?? []).filter(
      (candidate) =>
        candidate.status === 'OPEN' &&
        candidate.returnLineItems.nodes.some((line) => line.returnReasonNote === note),
    );
    for (const candidate of open) {
      const answer = await call<{ returnCancel: { userErrors: UserError[] } }>(graphql, RETURN_CANCEL, {
        id: candidate.id,
      });
      if (answer.returnCancel.userErrors.length > 0)
        throw refused('returnCancel', answer.returnCancel.userErrors);
    }
    return { cancelled: open.map((candidate) => candidate.id) };
  } catch (error) {
    throw error instanceof ReturnStepFailed ? error : stepError(error);
  }
}
