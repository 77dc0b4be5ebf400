import { describe, expect, it } from 'vitest';
import {
  RETURN_CANCEL,
  RETURN_CREATE,
  RETURN_DISPOSITIONS_QUERY,
  RETURN_PROCESS,
  RETURN_REFUNDS_QUERY,
  RETURNABLE_QUERY,
  readShopifyDispositions,
  returnNote,
} from '#shared/flows/returns/shopify-return.ts';
import { assertShopifyDocument } from '#test/sandbox/shopify-helpers.ts';

/** The returns workflow's Shopify documents are valid against Shopify's schema at the pinned version. */
describe('omnichannel-return Shopify documents', () => {
  it.each([
    ['order query', RETURNABLE_QUERY],
    ['returnCreate', RETURN_CREATE],
    ['returnProcess', RETURN_PROCESS('shopify-acme.myshopify.com-1')],
    ['returnCancel', RETURN_CANCEL],
    ['return refunds', RETURN_REFUNDS_QUERY],
    ['return dispositions', RETURN_DISPOSITIONS_QUERY],
  ])('%s', (_name, document) => {
    expect(() => assertShopifyDocument(document)).not.toThrow();
  });
});

describe('reading the dispositions of a Shopify return', () => {
  const state = (shopifyReturnId: string) =>
    ({
      request: {
        returnId: 'shopify-acme.myshopify.com-77',
        trigger: { system: 'shopify', account: 'acme.myshopify.com', id: '77', shopifyReturnId },
        order: { system: 'shopify', account: 'acme.myshopify.com', orderId: '5', name: null },
        location: null,
        currency: 'USD',
        lines: [],
        shipping: { amount: 0, currency: 'USD' },
        total: { amount: 0, currency: 'USD' },
        shopifyRefunded: true,
        requestedAt: '2026-12-03T10:00:00.000Z',
      },
    }) as never;
  const answering = (notes: string[]) => async () => ({
    errors: [],
    data: {
      return: {
        returnLineItems: { nodes: notes.map((returnReasonNote) => ({ returnReasonNote })) },
        reverseFulfillmentOrders: {
          nodes: [
            {
              lineItems: {
                nodes: [
                  {
                    fulfillmentLineItem: { lineItem: { id: 'gid://shopify/LineItem/9' } },
                    dispositions: [{ quantity: 1, type: 'NOT_RESTOCKED', location: null }],
                  },
                ],
              },
            },
          ],
        },
      },
    },
  });

  it("recognises the echo of the hub's own return (its lines carry the hub's note): nothing to book", async () => {
    const echo = await readShopifyDispositions(state('31'), answering([returnNote('pos-M-instore-1')]));
    expect(echo).toMatchObject({ madeByHub: 'pos-M-instore-1' });
    const merchant = await readShopifyDispositions(state('32'), answering(['Too small']));
    expect(merchant.madeByHub).toBeUndefined();
    expect(merchant.dispositions).toEqual([{ orderLineId: '9', disposition: 'damaged', locationId: null }]);
  });
});
