import { describe, expect, it } from 'vitest';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { handleShopifyWebhook } from '#shared/ingress/shopify-webhook.ts';
import { orderEventSubjects, orderSubjects } from '#shared/privacy/subjects.ts';
import { shopifyFixture } from '#test/support/fixtures.ts';
import { ingressDeps } from '#test/support/ingress-fakes.ts';

/** Parked inputs carry whose data they are, so that a redaction request finds them (see the privacy flow). */
describe('subjects of parked inputs', () => {
  it('tags a parked Shopify order with its shop, order ids and customer ids', async () => {
    const { deps, exceptions } = ingressDeps();
    const order = shopifyFixture('orders/create') as {
      line_items: { price_set: { shop_money: { currency_code: string } } }[];
    };
    const [line] = order.line_items;
    if (line) line.price_set.shop_money.currency_code = 'EUR';
    const body = JSON.stringify(order);
    const response = await handleShopifyWebhook(
      {
        headers: {
          'content-type': 'application/json',
          'x-shopify-topic': 'orders/create',
          'x-shopify-hmac-sha256': signShopifyBody(body, 's3cret'),
          'x-shopify-shop-domain': 'acme.myshopify.com',
          'x-shopify-webhook-id': 'w-subjects',
        },
        body,
      },
      deps,
    );
    expect(JSON.parse(response.body)).toMatchObject({ status: 'parked' });
    expect(exceptions.parked[0]?.subjects).toEqual({
      system: 'shopify',
      account: 'acme.myshopify.com',
      orderIds: expect.arrayContaining(['820982911946154508']),
      customerIds: expect.arrayContaining(['115310627314723954']),
    });
  });

  it('tags a canonical order with its source account, order and customer', () => {
    expect(
      orderSubjects({
        source: { system: 'pos', account: 'M1', orderId: 'o-1' },
        customerRef: { id: 'c-1' },
      }),
    ).toEqual({ system: 'pos', account: 'M1', orderIds: ['o-1'], customerIds: ['c-1'] });
  });

  it('reads what a malformed order event still names, and nothing from what names no account', () => {
    const malformed = JSON.stringify({
      detail: {
        data: { source: { system: 'shopify', account: 'acme.myshopify.com', orderId: '5' }, lines: 'x' },
      },
    });
    expect(orderEventSubjects(malformed)).toEqual({
      system: 'shopify',
      account: 'acme.myshopify.com',
      orderIds: ['5'],
      customerIds: [],
    });
    expect(orderEventSubjects('not json')).toBeUndefined();
    expect(orderEventSubjects('{"detail":{}}')).toBeUndefined();
  });
});
