import { describe, expect, it } from 'vitest';
import { PosAuthError, PosNotFoundError, PosUnavailableError } from '#shared/connectors/square/errors.ts';
import { signSquareBody } from '#shared/connectors/square/webhook-signature.ts';
import { detailSchema } from '#shared/events/catalog.ts';
import { OrderBusEventSchema } from '#shared/flows/order-sync.ts';
import { handlePosWebhook, type PosWebhookRequest } from '#shared/ingress/pos-webhook.ts';
import { DeliveryInProgressError, requestUrl } from '#shared/ingress/webhook.ts';
import { posIngressDeps, staticSecrets } from '#test/support/ingress-fakes.ts';
import { orderWebhookBody, squareSale, squareWebhookFixture } from '#test/support/square.ts';

const KEY = 'square-signature-key';
const URL = 'https://hooks.example.com/webhooks/pos';
const MERCHANT = 'MERCHANT00001';

function delivery(
  body: string,
  options: { key?: string; url?: string; signedUrl?: string; base64?: boolean } = {},
): PosWebhookRequest {
  return {
    headers: {
      'content-type': 'application/json',
      'x-square-hmacsha256-signature': signSquareBody(
        body,
        options.signedUrl ?? options.url ?? URL,
        options.key ?? KEY,
      ),
    },
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    notificationUrl: options.url ?? URL,
  };
}

const parse = (body: string) => JSON.parse(body) as Record<string, unknown>;

/** Deps whose Square holds `order` (a sandbox-shaped sale unless given). */
function withOrder(order: Record<string, unknown> = squareSale()) {
  const fakes = posIngressDeps();
  fakes.square.orders.set(String(order.id), order);
  return { ...fakes, order };
}

describe('POS (Square) webhook ingress', () => {
  describe('completed sales', () => {
    it('publishes one OrderCreated (source omnihub.pos, channel pos) that order sync accepts', async () => {
      const { deps, publisher, order } = withOrder();
      const response = await handlePosWebhook(delivery(orderWebhookBody(order as { id: string })), deps);

      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'published' });
      expect(publisher.published).toHaveLength(1);
      const [event] = publisher.published;
      expect(event?.source).toBe('omnihub.pos');
      expect(event?.detailType).toBe('OrderCreated');
      const detail = detailSchema('OrderCreated').parse(event?.detail);
      expect(detail.metadata).toMatchObject({
        schemaVersion: '1.0',
        idempotencyKey: `pos:${MERCHANT}:order:SQORDER0000000000000000000001:OrderCreated:2`,
        occurredAt: '2026-11-27T10:15:00.000Z',
        receivedAt: '2026-11-27T12:00:00.000Z',
        origin: {
          system: 'pos',
          account: MERCHANT,
          topic: 'order.updated',
          apiVersion: '2025-08-20',
          deliveryId: '6b7f4a3e-0d2e-4c55-9a3b-0c8c2a9d1e01',
          resourceId: 'SQORDER0000000000000000000001',
          triggeredAt: '2026-11-27T10:15:01.123Z',
        },
      });
      expect(detail.data).toMatchObject({
        source: { system: 'pos', account: MERCHANT, orderId: 'SQORDER0000000000000000000001' },
        channel: 'pos',
        storeLocationId: 'LOC0000000001',
        status: 'closed',
        paymentGateways: ['card'],
      });
      expect(detail.data.lines.map((line) => line.sku)).toEqual(['SKU-A', 'SKU-B']);
      // What the ERP consumer reads from its queue must parse as an order bus event.
      const onTheBus = {
        id: 'x',
        'detail-type': event?.detailType,
        source: event?.source,
        detail: event?.detail,
      };
      expect(OrderBusEventSchema.safeParse(JSON.parse(JSON.stringify(onTheBus))).success).toBe(true);
    });

    it('gives the same business key to every notification of one order version (order.created, then order.updated)', async () => {
      const { deps, publisher, order, square } = withOrder();
      const created = orderWebhookBody(order as { id: string }, {
        type: 'order.created',
        eventId: 'evt-created',
        state: 'OPEN',
        version: 1,
      });
      const updated = orderWebhookBody(order as { id: string }, { eventId: 'evt-updated' });
      expect((await handlePosWebhook(delivery(created), deps)).statusCode).toBe(200);
      expect((await handlePosWebhook(delivery(updated), deps)).statusCode).toBe(200);

      // The order is read at its current version both times: the same change, the same key.
      expect(square.orderCalls).toBe(2);
      const keys = publisher.published.map((event) => event.detail.metadata.idempotencyKey);
      expect(new Set(keys).size).toBe(1);
      expect(publisher.published.map((event) => event.detailType)).toEqual(['OrderCreated', 'OrderCreated']);
      // Two deliveries are two events (distinct ids) of one transaction.
      const [first, second] = publisher.published;
      expect(first?.detail.metadata.eventId).not.toBe(second?.detail.metadata.eventId);
      expect(first?.detail.metadata.transactionId).toBe(second?.detail.metadata.transactionId);
    });

    it('publishes a later version as OrderUpdated under a new key', async () => {
      const { deps, publisher, order, square } = withOrder();
      await handlePosWebhook(delivery(orderWebhookBody(order as { id: string }, { eventId: 'e1' })), deps);
      square.orders.set(String(order.id), { ...order, version: 3, updated_at: '2026-11-27T11:00:00.000Z' });
      await handlePosWebhook(
        delivery(orderWebhookBody(order as { id: string }, { eventId: 'e2', version: 3 })),
        deps,
      );

      expect(
        publisher.published.map((event) => [event.detailType, event.detail.metadata.idempotencyKey]),
      ).toEqual([
        ['OrderCreated', `pos:${MERCHANT}:order:${order.id}:OrderCreated:2`],
        ['OrderUpdated', `pos:${MERCHANT}:order:${order.id}:OrderUpdated:3`],
      ]);
      expect(publisher.published[1]?.detail.metadata.occurredAt).toBe('2026-11-27T11:00:00.000Z');
    });

    it('publishes a canceled order as OrderCancelled', async () => {
      const { deps, publisher } = withOrder(
        squareSale({ state: 'CANCELED', tenders: [], version: 4, closed_at: '2026-11-27T10:30:00.000Z' }),
      );
      const response = await handlePosWebhook(
        delivery(
          orderWebhookBody({ id: 'SQORDER0000000000000000000001' }, { state: 'CANCELED', version: 4 }),
        ),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(publisher.published.map((event) => event.detailType)).toEqual(['OrderCancelled']);
      expect(publisher.published[0]?.detail.metadata).toMatchObject({
        idempotencyKey: `pos:${MERCHANT}:order:SQORDER0000000000000000000001:OrderCancelled:4`,
        occurredAt: '2026-11-27T10:30:00.000Z',
      });
    });

    it('decodes a base64-encoded body before verifying it', async () => {
      const { deps, publisher, order } = withOrder();
      const response = await handlePosWebhook(
        delivery(orderWebhookBody(order as { id: string }), { base64: true }),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(publisher.published).toHaveLength(1);
    });
  });

  describe('what is acknowledged without publishing', () => {
    it('answers a redelivery of an event id from the de-duplication: nothing published, Square not called', async () => {
      const { deps, publisher, order, square, counts } = withOrder();
      const body = orderWebhookBody(order as { id: string });
      await handlePosWebhook(delivery(body), deps);
      const again = await handlePosWebhook(delivery(body), deps);

      expect(again.statusCode).toBe(200);
      expect(parse(again.body)).toMatchObject({ status: 'published', duplicate: true });
      expect(publisher.published).toHaveLength(1);
      expect(square.orderCalls).toBe(1);
      expect(counts.get('WebhookDuplicate')).toBe(1);
    });

    it.each(['OPEN', 'DRAFT'])('ignores a %s order (200), counting it', async (state) => {
      const { deps, publisher, order, counts } = withOrder(
        squareSale({ state, tenders: [], closed_at: null }),
      );
      const response = await handlePosWebhook(
        delivery(orderWebhookBody(order as { id: string }, { state })),
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({
        status: 'ignored',
        reason: expect.stringContaining(state),
      });
      expect(publisher.published).toEqual([]);
      expect(counts.get('PosOrderIgnoredState')).toBe(1);
    });

    it('ignores event types the hub does not handle without reading the order', async () => {
      const { deps, publisher, square, counts } = posIngressDeps();
      const body = JSON.stringify({
        ...squareWebhookFixture('inventory.count.updated'),
        type: 'customer.created',
      });
      const response = await handlePosWebhook(delivery(body), deps);
      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toEqual({ status: 'ignored', type: 'customer.created' });
      expect(publisher.published).toEqual([]);
      expect(square.orderCalls).toBe(0);
      expect(counts.get('WebhookIgnoredType')).toBe(1);
    });

    it("accepts Square's test notification, signed as in Square's SDK tests", async () => {
      const { deps } = posIngressDeps({ signatureKeys: staticSecrets(['Ibxx_5AKakO-3qeNVR61Dw']) });
      const body =
        '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
      const response = await handlePosWebhook(
        {
          headers: {
            'content-type': 'application/json',
            'x-square-hmacsha256-signature': 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=',
          },
          body,
          notificationUrl: 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9',
        },
        deps,
      );
      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'ignored', type: 'webhooks.test_notification' });
    });
  });

  describe('refused deliveries', () => {
    it('answers 401 to a wrong key, a wrong notification URL, a tampered body or no signature', async () => {
      const { deps, publisher, counts, order } = withOrder();
      const body = orderWebhookBody(order as { id: string });
      const wrongKey = await handlePosWebhook(delivery(body, { key: 'another-key' }), deps);
      const wrongUrl = await handlePosWebhook(
        delivery(body, { signedUrl: 'https://hooks.example.com/other' }),
        deps,
      );
      const tampered = delivery(body);
      const tamperedResponse = await handlePosWebhook(
        { ...tampered, body: body.replace('"2026', '"2025') },
        deps,
      );
      const unsigned = await handlePosWebhook({ ...delivery(body), headers: {} }, deps);

      expect([wrongKey, wrongUrl, tamperedResponse, unsigned].map((r) => r.statusCode)).toEqual([
        401, 401, 401, 401,
      ]);
      expect(publisher.published).toEqual([]);
      expect(counts.get('WebhookRejectedSignature')).toBe(4);
    });

    it('re-reads the key once after a mismatch and accepts a rotated key, and the previous one', async () => {
      const secrets = staticSecrets(['old-key'], ['rotated-key', 'old-key']);
      const { deps, order } = withOrder();
      const rotated = { ...deps, signatureKeys: secrets };
      const body = orderWebhookBody(order as { id: string });
      expect((await handlePosWebhook(delivery(body, { key: 'rotated-key' }), rotated)).statusCode).toBe(200);
      expect(secrets.refreshes).toBe(1);

      const { deps: during, counts } = withOrder();
      const both = { ...during, signatureKeys: staticSecrets(['rotated-key', 'old-key']) };
      expect((await handlePosWebhook(delivery(body, { key: 'old-key' }), both)).statusCode).toBe(200);
      expect(counts.get('WebhookSignedWithPreviousSecret')).toBe(1);
    });

    it('answers 413 above the size limit before verifying anything', async () => {
      const { deps } = posIngressDeps({ maxBodyBytes: 100 });
      const response = await handlePosWebhook(delivery('x'.repeat(101)), deps);
      expect(response.statusCode).toBe(413);
    });

    it.each([
      ['not JSON', 'not json', /not valid JSON/],
      ['not a Square event', JSON.stringify({ merchant_id: 'M', type: 'order.updated' }), /event_id/],
    ])('answers 400 to a signed body that is %s', async (_what, body, message) => {
      const { deps } = posIngressDeps();
      const response = await handlePosWebhook(delivery(body), deps);
      expect(response.statusCode).toBe(400);
      expect(parse(response.body).message).toMatch(message);
    });
  });

  describe('failures a redelivery can fix (503, nothing remembered)', () => {
    it.each([
      ['Square unavailable', new PosUnavailableError('Square answered 503', 503), 'PosApiUnavailable'],
      ['the access token refused', new PosAuthError('Square answered 401', 401), 'PosApiAuthFailed'],
    ])('answers 503 when %s, then publishes on the redelivery', async (_what, failure, metric) => {
      const { deps, publisher, order, square, counts } = withOrder();
      square.failNext.push(failure);
      const body = orderWebhookBody(order as { id: string });
      const failed = await handlePosWebhook(delivery(body), deps);
      expect(failed.statusCode).toBe(503);
      expect(counts.get(metric)).toBe(1);
      expect(publisher.published).toEqual([]);

      const retried = await handlePosWebhook(delivery(body), deps);
      expect(retried.statusCode).toBe(200);
      expect(parse(retried.body)).toMatchObject({ status: 'published' });
      expect(parse(retried.body).duplicate).toBeUndefined();
    });

    it('answers 503 when Square returns an order older than the notified version', async () => {
      const { deps, publisher, order } = withOrder();
      const response = await handlePosWebhook(
        delivery(orderWebhookBody(order as { id: string }, { version: 5 })),
        deps,
      );
      expect(response.statusCode).toBe(503);
      expect(publisher.published).toEqual([]);
    });

    it('answers 503 when the bus rejects the event, then publishes the same event on the redelivery', async () => {
      const { deps, publisher, order } = withOrder();
      publisher.failNext = 1;
      const body = orderWebhookBody(order as { id: string });
      expect((await handlePosWebhook(delivery(body), deps)).statusCode).toBe(503);
      const retried = await handlePosWebhook(delivery(body), deps);
      expect(retried.statusCode).toBe(200);
      expect(publisher.published.map((event) => event.detailType)).toEqual(['OrderCreated']);
    });

    it('answers 409 while the same delivery is being processed', async () => {
      const { deps, order } = withOrder();
      const busy = {
        ...deps,
        deduplicate: async () => {
          throw new DeliveryInProgressError('in progress');
        },
      };
      const response = await handlePosWebhook(delivery(orderWebhookBody(order as { id: string })), busy);
      expect(response.statusCode).toBe(409);
    });
  });

  describe('parked inputs (200, kept with their reason)', () => {
    it('parks an order the canonical model cannot carry, with the reason, the order and the raw body', async () => {
      const { deps, publisher, exceptions, order } = withOrder(
        squareSale({ total_tip_money: { amount: 300, currency: 'USD' } }),
      );
      const body = orderWebhookBody(order as { id: string });
      const response = await handlePosWebhook(delivery(body), deps);

      expect(response.statusCode).toBe(200);
      expect(parse(response.body)).toMatchObject({ status: 'parked' });
      expect(publisher.published).toEqual([]);
      expect(exceptions.parked).toHaveLength(1);
      expect(exceptions.parked[0]).toMatchObject({
        kind: 'pos-webhook',
        inputId: '6b7f4a3e-0d2e-4c55-9a3b-0c8c2a9d1e01',
        at: '2026-11-27T10:15:01.123Z',
        code: 'POS_ORDER_UNSUPPORTED',
        reason: expect.stringMatching(/a tip/),
        attributes: {
          type: 'order.updated',
          merchantId: MERCHANT,
          orderId: 'SQORDER0000000000000000000001',
          version: '2',
          notificationUrl: URL,
        },
      });
      expect(exceptions.parked[0]?.payload.toString()).toBe(body);

      const again = await handlePosWebhook(delivery(body), deps);
      expect(parse(again.body)).toMatchObject({ status: 'parked', duplicate: true });
      expect(exceptions.parked).toHaveLength(1);
    });

    it('parks a notification for an order Square does not have', async () => {
      const { deps, exceptions, square } = posIngressDeps();
      square.failNext.push(new PosNotFoundError('Square answered 404 for order GONE'));
      const response = await handlePosWebhook(delivery(orderWebhookBody({ id: 'GONE' })), deps);
      expect(response.statusCode).toBe(200);
      expect(exceptions.parked[0]).toMatchObject({ code: 'POS_NOT_FOUND', attributes: { orderId: 'GONE' } });
    });

    it('parks an order event that names no order', async () => {
      const { deps, exceptions, square } = posIngressDeps();
      const body = JSON.stringify({
        merchant_id: MERCHANT,
        type: 'order.updated',
        event_id: 'e-x',
        data: {},
      });
      const response = await handlePosWebhook(delivery(body), deps);
      expect(response.statusCode).toBe(200);
      expect(exceptions.parked[0]).toMatchObject({
        code: 'MAPPING_FAILED',
        reason: expect.stringMatching(/order_id/),
      });
      expect(square.orderCalls).toBe(0);
    });

    it('parks a redelivered event id that comes with another body', async () => {
      const { deps, exceptions, order, publisher } = withOrder();
      await handlePosWebhook(delivery(orderWebhookBody(order as { id: string })), deps);
      const changed = orderWebhookBody(order as { id: string }, { merchantId: MERCHANT, state: 'OPEN' });
      const response = await handlePosWebhook(delivery(changed), deps);
      expect(response.statusCode).toBe(200);
      expect(exceptions.parked[0]).toMatchObject({ code: 'DELIVERY_CONFLICT' });
      expect(publisher.published).toHaveLength(1);
    });
  });
});

describe('requestUrl', () => {
  it('rebuilds the URL the sender posted to from what API Gateway hands the function', () => {
    const event = {
      headers: { 'x-forwarded-proto': 'https' },
      rawPath: '/webhooks/pos',
      rawQueryString: '',
      requestContext: { domainName: 'abc123.execute-api.eu-west-1.amazonaws.com' },
    };
    expect(requestUrl(event)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/pos');
    expect(
      requestUrl({
        ...event,
        headers: { 'x-forwarded-proto': 'http' },
        rawQueryString: 'a=1',
        requestContext: { domainName: '127.0.0.1:3000' },
      }),
    ).toBe('http://127.0.0.1:3000/webhooks/pos?a=1');
    expect(requestUrl({ ...event, headers: {} })).toMatch(/^https:\/\//);
  });
});
