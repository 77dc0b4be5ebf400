import { describe, expect, it } from 'vitest';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { signSquareBody } from '#shared/connectors/square/webhook-signature.ts';
import { handlePosWebhook, type PosWebhookRequest } from '#shared/ingress/pos-webhook.ts';
import { handleShopifyWebhook } from '#shared/ingress/shopify-webhook.ts';
import type { WebhookRequest } from '#shared/ingress/webhook.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';
import { ingressDeps, posIngressDeps } from '#test/support/ingress-fakes.ts';
import { orderWebhookBody, squareSale } from '#test/support/square.ts';

/**
 * Shopify signs the body alone and Square the notification URL and the body: everything else a
 * request says is a claim. Each case is what an attacker holding one captured, correctly signed
 * delivery (or none) could try.
 */
const NOW = new Date('2026-11-27T12:00:00.000Z');
const SHOPIFY_SECRET = 's3cret';
const SQUARE_KEY = 'square-signature-key';
const SQUARE_URL = 'https://hooks.example.com/webhooks/pos';
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 24 * 3600 * 1000).toISOString();
const parse = (body: string) => JSON.parse(body) as Record<string, unknown>;

function shopify(topic: string, body: string, headers: Record<string, string> = {}): WebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, SHOPIFY_SECRET),
      'x-shopify-shop-domain': 'acme.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
      'x-shopify-triggered-at': '2026-11-27T11:59:58.123Z',
      ...headers,
    },
    body,
    isBase64Encoded: false,
  };
}

function square(body: string, headers: Record<string, string> = {}): PosWebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-square-hmacsha256-signature': signSquareBody(body, SQUARE_URL, SQUARE_KEY),
      ...headers,
    },
    body,
    isBase64Encoded: false,
    notificationUrl: SQUARE_URL,
  };
}

const deeplyNested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

describe('Shopify ingress against a hostile sender', () => {
  it('does not publish a captured delivery again under a new webhook id', async () => {
    const { deps, publisher } = ingressDeps();
    const body = shopifyWebhookBody('orders/create');
    await handleShopifyWebhook(shopify('orders/create', body), deps);
    const replay = await handleShopifyWebhook(
      shopify('orders/create', body, { 'x-shopify-webhook-id': '0f1e2d3c-4b5a-4697-8877-665544332211' }),
      deps,
    );
    expect(parse(replay.body)).toMatchObject({ duplicate: true });
    expect(publisher.published).toHaveLength(1);
  });

  it('ignores (200, counted) a replay triggered 30 days ago, and one from the future', async () => {
    const { deps, publisher, counts } = ingressDeps({ now: () => NOW });
    const body = shopifyWebhookBody('orders/create');
    const old = await handleShopifyWebhook(
      shopify('orders/create', body, { 'x-shopify-triggered-at': daysAgo(30) }),
      deps,
    );
    const future = await handleShopifyWebhook(
      shopify('orders/create', body, { 'x-shopify-triggered-at': daysAgo(-1) }),
      deps,
    );
    expect([old.statusCode, future.statusCode]).toEqual([200, 200]);
    expect(parse(old.body)).toMatchObject({ status: 'ignored' });
    expect(parse(future.body)).toMatchObject({ status: 'ignored' });
    expect(counts.get('WebhookRejectedStale')).toBe(2);
    expect(publisher.published).toHaveLength(0);
  });

  it('never drops a compliance request as stale (Shopify sends customers/redact long after the request)', async () => {
    const { deps, publisher } = ingressDeps({ now: () => NOW });
    const body = shopifyWebhookBody('customers/redact').replaceAll(
      '{shop}.myshopify.com',
      'acme.myshopify.com',
    );
    const response = await handleShopifyWebhook(
      shopify('customers/redact', body, { 'x-shopify-triggered-at': daysAgo(30) }),
      deps,
    );
    expect(parse(response.body)).toMatchObject({ status: 'published' });
    expect(publisher.published.map((event) => event.detailType)).toEqual(['CustomerRedactionRequested']);
  });

  it('parks an orders/create body sent as orders/cancelled instead of cancelling the order', async () => {
    const { deps, publisher, exceptions } = ingressDeps();
    // A real orders/create body: not cancelled (Shopify's published sample sets cancelled_at).
    const body = JSON.stringify({ ...parse(shopifyWebhookBody('orders/create')), cancelled_at: null });
    const response = await handleShopifyWebhook(shopify('orders/cancelled', body), deps);
    expect(parse(response.body)).toMatchObject({ status: 'parked' });
    expect(exceptions.parked[0]).toMatchObject({ code: 'TOPIC_PAYLOAD_MISMATCH' });
    expect(publisher.published).toHaveLength(0);
  });

  it("parks a compliance body presented under another configured shop's header", async () => {
    const { deps, publisher, exceptions } = ingressDeps({
      shops: new Map([
        ['acme.myshopify.com', { currency: 'USD' }],
        ['other.myshopify.com', { currency: 'EUR' }],
      ]),
    });
    const body = shopifyWebhookBody('customers/redact').replaceAll(
      '{shop}.myshopify.com',
      'acme.myshopify.com',
    );
    const response = await handleShopifyWebhook(
      shopify('customers/redact', body, { 'x-shopify-shop-domain': 'other.myshopify.com' }),
      deps,
    );
    expect(parse(response.body)).toMatchObject({ status: 'parked' });
    expect(exceptions.parked[0]).toMatchObject({ code: 'SHOP_MISMATCH' });
    expect(publisher.published).toHaveLength(0);
  });

  it('refuses a comma-joined (repeated) signature header with 401', async () => {
    const { deps } = ingressDeps();
    const body = shopifyWebhookBody('orders/create');
    const signature = signShopifyBody(body, SHOPIFY_SECRET);
    const response = await handleShopifyWebhook(
      shopify('orders/create', body, { 'x-shopify-hmac-sha256': `${signature}, ${signature}` }),
      deps,
    );
    expect(response.statusCode).toBe(401);
  });

  it('refuses a UTF-8 byte-order mark, a text/plain body and 10,000-deep nesting with 4xx', async () => {
    const { deps, publisher } = ingressDeps();
    const body = shopifyWebhookBody('orders/create');
    const bom = await handleShopifyWebhook(shopify('orders/create', `\uFEFF${body}`), deps);
    const text = await handleShopifyWebhook(
      shopify('orders/create', body, { 'content-type': 'text/plain' }),
      deps,
    );
    const deep = await handleShopifyWebhook(shopify('orders/create', deeplyNested(10_000)), deps);
    expect([bom.statusCode, text.statusCode, deep.statusCode]).toEqual([400, 415, 400]);
    expect(publisher.published).toHaveLength(0);
  });

  it('refuses a 1 KB webhook id (it would become part of a parked item key) with 400', async () => {
    const { deps, exceptions } = ingressDeps();
    const response = await handleShopifyWebhook(
      shopify('orders/create', JSON.stringify({ id: 1, line_items: [{ id: 2 }] }), {
        'x-shopify-webhook-id': 'x'.repeat(1024),
      }),
      deps,
    );
    expect(response.statusCode).toBe(400);
    expect(exceptions.parked).toHaveLength(0);
  });
});

describe('POS (Square) ingress against a hostile sender', () => {
  const sale = squareSale();
  const withOrder = (overrides: Parameters<typeof posIngressDeps>[0] = {}) => {
    const fakes = posIngressDeps(overrides);
    fakes.square.orders.set(String(sale.id), sale);
    return fakes;
  };

  it('parks a correctly signed notification for a merchant the environment does not serve', async () => {
    const { deps, publisher, exceptions } = withOrder({ merchants: new Set(['MERCHANT00001']) });
    const body = orderWebhookBody(sale as { id: string }, { merchantId: 'FOREIGNMERCHANT' });
    const response = await handlePosWebhook(square(body), deps);
    expect(parse(response.body)).toMatchObject({ status: 'parked' });
    expect(exceptions.parked[0]).toMatchObject({ code: 'MERCHANT_NOT_SERVED' });
    expect(publisher.published).toHaveLength(0);
  });

  it('ignores (200, counted) a notification created 30 days ago', async () => {
    const { deps, publisher, counts } = withOrder({ now: () => NOW });
    const body = orderWebhookBody(sale as { id: string }, { createdAt: daysAgo(30) });
    const response = await handlePosWebhook(square(body), deps);
    expect(response.statusCode).toBe(200);
    expect(parse(response.body)).toMatchObject({ status: 'ignored' });
    expect(counts.get('WebhookRejectedStale')).toBe(1);
    expect(publisher.published).toHaveLength(0);
  });

  it('does not look data.type up through the prototype (constructor)', async () => {
    const { deps, publisher, exceptions } = withOrder();
    const body = JSON.stringify({
      ...parse(orderWebhookBody(sale as { id: string })),
      data: { type: 'constructor', id: sale.id, object: {} },
    });
    const response = await handlePosWebhook(square(body), deps);
    // `data.object.constructor` is Object.prototype's, not the notification's: the order named by
    // `data.id` is read as for any notification without an object.
    expect(parse(response.body)).toMatchObject({ status: 'published' });
    expect(publisher.published).toHaveLength(1);
    expect(exceptions.parked).toHaveLength(0);
  });

  it('refuses a byte-order mark, a text/plain body and 10,000-deep nesting with 4xx', async () => {
    const { deps, publisher } = withOrder();
    const body = orderWebhookBody(sale as { id: string });
    const bom = await handlePosWebhook(square(`\uFEFF${body}`), deps);
    const text = await handlePosWebhook(square(body, { 'content-type': 'text/plain' }), deps);
    const deep = await handlePosWebhook(square(deeplyNested(10_000)), deps);
    expect([bom.statusCode, text.statusCode, deep.statusCode]).toEqual([400, 415, 400]);
    expect(publisher.published).toHaveLength(0);
  });

  it('refuses a 1 KB event id with 400', async () => {
    const { deps, exceptions } = withOrder();
    const body = orderWebhookBody(sale as { id: string }, { eventId: 'e'.repeat(1024) });
    const response = await handlePosWebhook(square(body), deps);
    expect(response.statusCode).toBe(400);
    expect(exceptions.parked).toHaveLength(0);
  });
});
