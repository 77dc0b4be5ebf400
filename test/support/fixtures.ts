import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../fixtures/', import.meta.url));

/** Raw bytes of a vendor fixture, e.g. `shopify/webhooks/orders__create.json`. */
export function fixtureText(path: string): string {
  return readFileSync(`${root}${path}`, 'utf8');
}

/** A Shopify webhook body as Shopify would send it: compact JSON of the documented sample. */
export function shopifyWebhookBody(topic: string): string {
  return JSON.stringify(JSON.parse(fixtureText(`shopify/webhooks/${topic.replace('/', '__')}.json`)));
}

/** Parsed Shopify sample payload (numbers as JSON.parse reads them). */
export function shopifyFixture(topic: string): Record<string, unknown> {
  return JSON.parse(fixtureText(`shopify/webhooks/${topic.replace('/', '__')}.json`)) as Record<
    string,
    unknown
  >;
}
