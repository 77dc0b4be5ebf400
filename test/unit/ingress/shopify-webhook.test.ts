import { describe, expect, it } from 'vitest';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { detailSchema } from '#shared/events/catalog.ts';
import { handleShopifyWebhook } from '#shared/ingress/shopify-webhook.ts';
import { DeliveryInProgressError, type WebhookRequest } from '#shared/ingress/webhook.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';
import { ingressDeps, staticSecrets } from '#test/support/ingress-fakes.ts';

const SECRET = 's3cret';

function delivery(
  topic: string,
  body: string,
  options: {
    secret?: string;
    webhookId?: string;
    shop?: string;
    base64?: boolean;
    headers?: Record<string, string>;
  } = {},
): WebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, options.secret ?? SECRET),
      'x-shopify-shop-domain': options.shop ?? 'acme.myshopify.com',
      'x-shopify-api-version': '2026-10',
      'x-shopify-webhook-id': options.webhookId ?? 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
      'x-shopify-event-id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
      'x-shopify-triggered-at': '2026-11-27T11:59:58.123456Z',
      ...options.headers,
    },
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
  };
}

const parse = (body: string) => JSON.parse(body) as Record<string, unknown>;

describe('Shopify webhook ingress', () => {
  describe('accepted deliveries', () => {
    it('publishes one canonical OrderCreated with full metadata', async () => {
      const { deps, publisher } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create')),
        deps,
      );

      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'published' });
      expect(publisher.published).toHaveLength(1);
      const [event] = publisher.published;
      expect(event?.source).toBe('omnihub.shopify');
      expect(event?.detailType).toBe('OrderCreated');
      const detail = detailSchema('OrderCreated').parse(event?.detail);
      expect(detail.metadata).toMatchObject({
        schemaVersion: '1.0',
        occurredAt: '2022-01-01T00:00:00.000Z',
        receivedAt: '2026-11-27T12:00:00.000Z',
        origin: {
          system: 'shopify',
          account: 'acme.myshopify.com',
          topic: 'orders/create',
          apiVersion: '2026-10',
          deliveryId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
          sourceEventId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
          resourceId: '820982911946154508',
          triggeredAt: '2026-11-27T11:59:58.123Z',
        },
      });
      expect(detail.data.source.orderId).toBe('820982911946154508');
    });

    it('keeps an order id above 2^53 exact when the body carries it as raw digits (no GID to fall back on)', async () => {
      const { deps, publisher } = ingressDeps();
      const sample = JSON.parse(shopifyWebhookBody('orders/create')) as Record<string, unknown>;
      const { admin_graphql_api_id: _gid, ...withoutGid } = sample;
      const body = JSON.stringify({ ...withoutGid, id: 0 }).replace('"id":0', '"id":820982911946154508');
      const response = await handleShopifyWebhook(delivery('orders/create', body), deps);
      expect(response.statusCode).toBe(200);
      expect(publisher.published[0]?.detail.data).toMatchObject({
        source: { orderId: '820982911946154508' },
      });
    });

    it('decodes a base64-encoded body before verifying it', async () => {
      const { deps, publisher } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create'), { base64: true }),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(publisher.published).toHaveLength(1);
    });

    it.each([
      ['orders/updated', 'OrderUpdated'],
      ['orders/cancelled', 'OrderCancelled'],
      ['refunds/create', 'RefundCreated'],
      ['inventory_levels/update', 'InventoryCounted'],
      ['products/update', 'ProductChanged'],
      ['customers/data_request', 'CustomerDataRequested'],
      ['customers/redact', 'CustomerRedactionRequested'],
      ['shop/redact', 'ShopRedactionRequested'],
    ])('publishes %s as %s', async (topic, detailType) => {
      const { deps, publisher } = ingressDeps();
      const body = shopifyWebhookBody(topic).replaceAll('{shop}.myshopify.com', 'acme.myshopify.com');
      const response = await handleShopifyWebhook(delivery(topic, body), deps);
      expect(response.statusCode).toBe(200);
      const events = [...publisher.published, ...publisher.stock];
      expect(events.map((event) => event.detailType)).toEqual([detailType]);
    });

    it('answers 200 to an unknown topic, counts it and publishes nothing', async () => {
      const { deps, publisher, counts } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('fulfillments/create', shopifyWebhookBody('fulfillments/create')),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toEqual({ status: 'ignored', topic: 'fulfillments/create' });
      expect(publisher.published).toHaveLength(0);
      expect(counts.get('WebhookIgnoredTopic')).toBe(1);
    });
  });

  describe('authentication', () => {
    it('rejects a bad signature with 401 and publishes nothing', async () => {
      const { deps, publisher, counts } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create'), { secret: 'wrong' }),
        deps,
      );
      expect(response.statusCode).toBe(401);
      expect(publisher.published).toHaveLength(0);
      expect(counts.get('WebhookRejectedSignature')).toBe(1);
    });

    it('rejects a missing signature with 401', async () => {
      const { deps } = ingressDeps();
      const request = delivery('orders/create', '{}');
      const { 'x-shopify-hmac-sha256': _removed, ...headers } = request.headers;
      const response = await handleShopifyWebhook({ ...request, headers }, deps);
      expect(response.statusCode).toBe(401);
    });

    it('rejects a validly signed delivery from an unconfigured shop with 401', async () => {
      const { deps, publisher } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create'), { shop: 'evil.myshopify.com' }),
        deps,
      );
      expect(response.statusCode).toBe(401);
      expect(publisher.published).toHaveLength(0);
    });

    it('accepts the previous secret during a rotation and counts it', async () => {
      const { deps, publisher, counts } = ingressDeps({ secrets: staticSecrets(['new-secret', SECRET]) });
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create')),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(publisher.published).toHaveLength(1);
      expect(counts.get('WebhookSignedWithPreviousSecret')).toBe(1);
    });

    it('re-reads a secret rotated since it was cached before refusing', async () => {
      const secrets = staticSecrets(['stale-secret'], ['rotated-secret']);
      const { deps } = ingressDeps({ secrets });
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create'), { secret: 'rotated-secret' }),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(secrets.refreshes).toBe(1);
    });

    it('checks the signature before reading the body (malformed JSON with a bad signature is 401)', async () => {
      const { deps } = ingressDeps();
      const response = await handleShopifyWebhook(
        delivery('orders/create', '{not json', { secret: 'wrong' }),
        deps,
      );
      expect(response.statusCode).toBe(401);
    });
  });

  describe('bad input', () => {
    it('answers 400 to malformed JSON', async () => {
      const { deps, publisher } = ingressDeps();
      const response = await handleShopifyWebhook(delivery('orders/create', '{"id": 1,'), deps);
      expect(response.statusCode).toBe(400);
      expect(parse(response.body).message).toMatch(/JSON/);
      expect(publisher.published).toHaveLength(0);
    });

    it('answers 400 to JSON that is not an object', async () => {
      const { deps } = ingressDeps();
      expect((await handleShopifyWebhook(delivery('orders/create', '[1,2]'), deps)).statusCode).toBe(400);
    });

    it('answers 400 without topic or webhook id headers', async () => {
      const { deps } = ingressDeps();
      const request = delivery('orders/create', '{}');
      const { 'x-shopify-webhook-id': _removed, ...headers } = request.headers;
      expect((await handleShopifyWebhook({ ...request, headers }, deps)).statusCode).toBe(400);
    });

    it('answers 413 to a body over the limit without verifying or parsing it', async () => {
      const { deps, publisher } = ingressDeps({ maxBodyBytes: 1000 });
      const body = JSON.stringify({ note: 'x'.repeat(2000) });
      const response = await handleShopifyWebhook(delivery('orders/create', body), deps);
      expect(response.statusCode).toBe(413);
      expect(publisher.published).toHaveLength(0);
    });

    it('parks an unmappable payload with its reason and answers 200, so Shopify does not retry forever', async () => {
      const { deps, publisher, exceptions } = ingressDeps();
      const body = JSON.stringify({ id: 1, currency: 'USD', line_items: [{ id: 2 }] });
      const response = await handleShopifyWebhook(delivery('orders/create', body), deps);

      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'parked' });
      expect(publisher.published).toHaveLength(0);
      expect(exceptions.parked).toHaveLength(1);
      const [parked] = exceptions.parked;
      expect(parked).toMatchObject({
        kind: 'shopify-webhook',
        inputId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
        code: 'MAPPING_FAILED',
        attributes: { topic: 'orders/create', shopDomain: 'acme.myshopify.com', apiVersion: '2026-10' },
      });
      expect(parked?.reason).toMatch(/line_items/);
      expect(parked?.payload.toString()).toBe(body);
    });

    it('parks the same unmappable delivery once when Shopify retries it', async () => {
      const { deps, exceptions } = ingressDeps();
      const body = JSON.stringify({ id: 1 });
      await handleShopifyWebhook(delivery('orders/create', body), deps);
      const retry = await handleShopifyWebhook(delivery('orders/create', body), deps);
      expect(parse(retry.body)).toMatchObject({ status: 'parked', duplicate: true });
      expect(exceptions.parked).toHaveLength(1);
    });
  });

  describe('de-duplication', () => {
    it('publishes a delivery retried with the same webhook id once', async () => {
      const { deps, publisher, counts } = ingressDeps();
      const body = shopifyWebhookBody('orders/create');
      const first = await handleShopifyWebhook(delivery('orders/create', body), deps);
      const second = await handleShopifyWebhook(delivery('orders/create', body), deps);

      expect(first.statusCode).toBe(200);
      expect(second.statusCode).toBe(200);
      expect(parse(second.body)).toMatchObject({ status: 'published', duplicate: true });
      expect(publisher.published).toHaveLength(1);
      expect(counts.get('WebhookDuplicate')).toBe(1);
    });

    it('treats a delivery re-sent under a fresh webhook id as the duplicate it is (same event id)', async () => {
      const { deps, publisher } = ingressDeps();
      const body = shopifyWebhookBody('orders/updated');
      await handleShopifyWebhook(delivery('orders/updated', body, { webhookId: 'a' }), deps);
      const again = await handleShopifyWebhook(delivery('orders/updated', body, { webhookId: 'b' }), deps);
      expect(parse(again.body)).toMatchObject({ duplicate: true });
      expect(publisher.published).toHaveLength(1);
    });

    it('publishes the same event (same event id, same business key) when every header is forged fresh', async () => {
      const { deps, publisher } = ingressDeps();
      const body = shopifyWebhookBody('orders/updated');
      await handleShopifyWebhook(delivery('orders/updated', body, { webhookId: 'a' }), deps);
      await handleShopifyWebhook(
        delivery('orders/updated', body, {
          webhookId: 'b',
          headers: { 'x-shopify-event-id': '11111111-2222-4333-8444-555555555555' },
        }),
        deps,
      );
      const [first, second] = publisher.published;
      expect(second?.detail.metadata.eventId).toBe(first?.detail.metadata.eventId);
      expect(second?.detail.metadata.idempotencyKey).toBe(first?.detail.metadata.idempotencyKey);
    });

    it('parks (never drops) a body that reuses a processed webhook id, and publishes nothing', async () => {
      const { deps, publisher, exceptions } = ingressDeps();
      await handleShopifyWebhook(delivery('orders/create', shopifyWebhookBody('orders/create')), deps);
      const other = shopifyWebhookBody('orders/updated').replace('"#9999"', '"#9998"');
      const response = await handleShopifyWebhook(delivery('orders/create', other), deps);
      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'parked' });
      expect(publisher.published).toHaveLength(1);
      expect(exceptions.parked).toHaveLength(1);
      expect(exceptions.parked[0]).toMatchObject({ code: 'DELIVERY_CONFLICT' });
      expect(exceptions.parked[0]?.payload.toString()).toBe(other);
    });

    it('answers 409 while the same delivery is still being processed elsewhere', async () => {
      const { deps } = ingressDeps({
        deduplicate: async () => {
          throw new DeliveryInProgressError('in progress');
        },
      });
      const response = await handleShopifyWebhook(
        delivery('orders/create', shopifyWebhookBody('orders/create')),
        deps,
      );
      expect(response.statusCode).toBe(409);
    });
  });

  describe('bus failures', () => {
    it('answers 503 when PutEvents rejects an entry, and the retried delivery then publishes', async () => {
      const { deps, publisher } = ingressDeps();
      publisher.failNext = 1;
      const body = shopifyWebhookBody('orders/create');

      const failed = await handleShopifyWebhook(delivery('orders/create', body), deps);
      expect(failed.statusCode).toBe(503);
      expect(publisher.published).toHaveLength(0);

      const retried = await handleShopifyWebhook(delivery('orders/create', body), deps);
      expect(retried.statusCode).toBe(200);
      expect(parse(retried.body)).toMatchObject({ status: 'published' });
      expect(parse(retried.body).duplicate).toBeUndefined();
      expect(publisher.published).toHaveLength(1);
    });

    it('answers a generic 500 (no internals) when parking fails, so the delivery is retried', async () => {
      const { deps } = ingressDeps({
        exceptions: {
          park: async () => {
            throw new Error('ProvisionedThroughputExceededException: table busy');
          },
        },
      });
      const response = await handleShopifyWebhook(delivery('orders/create', '{"id":1}'), deps);
      expect(response.statusCode).toBe(500);
      expect(response.body).not.toMatch(/Provisioned/);
    });
  });
});
