import { readFileSync } from 'node:fs';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';

/** The shop the dev stack accepts webhooks from (`infra/config/environments.ts`, dev). */
export const DEV_SHOP = 'omnihub-dev.myshopify.com';

/**
 * Shopify's documented `orders/create` sample, the one the README's `ops -- send-shopify` example
 * posts. Read as data (its provenance is in that folder's SOURCES.md); nothing here imports test code.
 */
const ORDER_SAMPLE = new URL('../../test/fixtures/shopify/webhooks/orders__create.json', import.meta.url);
let orderSample: Record<string, unknown> | undefined;

/** The documented order sample with its own id and name, so each delivery is a different order. */
export function shopifyOrderBody(id: number, name: string): string {
  orderSample ??= JSON.parse(readFileSync(ORDER_SAMPLE, 'utf8')) as Record<string, unknown>;
  const sample = orderSample;
  return JSON.stringify({ ...sample, id, admin_graphql_api_id: `gid://shopify/Order/${id}`, name });
}

/**
 * POSTs one webhook delivery to the hub's Shopify route as Shopify sends it: the body signed with
 * `secret`, the dev shop's domain and the delivery id Shopify keeps across its retries.
 */
export function postShopifyWebhook(
  hubUrl: string,
  delivery: { topic: string; body: string; webhookId: string; secret: string },
): Promise<Response> {
  return fetch(`${hubUrl}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': delivery.topic,
      'x-shopify-hmac-sha256': signShopifyBody(delivery.body, delivery.secret),
      'x-shopify-shop-domain': DEV_SHOP,
      'x-shopify-api-version': SHOPIFY_API_VERSION,
      'x-shopify-webhook-id': delivery.webhookId,
    },
    body: delivery.body,
  });
}
