/**
 * `npm run -s ops -- <command>`: operator tools for the local cloud.
 *
 *   test-pattern                      reads JSON lines {"pattern": …, "event": …} on stdin and prints
 *                                     true or false per line — the local `aws events test-event-pattern`,
 *                                     with the same matcher as the local bus
 *   send-shopify <topic> <file.json>  signs the payload with the local Shopify secret and posts it to the
 *                                     local webhook route; prints the status and the response
 *                                     (--webhook-id <id> to repeat a delivery, --secret <s> to sign otherwise)
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { compilePattern } from '#local/eventbridge/pattern.ts';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';

const [command, ...args] = process.argv.slice(2);

function option(name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

async function testPattern(): Promise<number> {
  let failures = 0;
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    try {
      const { pattern, event } = JSON.parse(line) as { pattern: unknown; event: unknown };
      const compiled = compilePattern(
        typeof pattern === 'string' ? pattern : (pattern as Record<string, unknown>),
      );
      console.log(String(compiled(event)));
    } catch (error) {
      failures += 1;
      console.log(`error: ${(error as Error).message}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

async function sendShopify(): Promise<number> {
  const [topic, file] = args.filter(
    (arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'),
  );
  if (!topic || !file) {
    console.error(
      'usage: npm run -s ops -- send-shopify <topic> <payload.json> [--webhook-id <id>] [--secret <secret>]',
    );
    return 2;
  }
  const body = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
  const secret = option('secret') ?? process.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret';
  const url = `${process.env.OMNIHUB_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`}/webhooks/shopify`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, secret),
      'x-shopify-shop-domain': process.env.OMNIHUB_SHOP_DOMAIN ?? 'omnihub-dev.myshopify.com',
      'x-shopify-api-version': SHOPIFY_API_VERSION,
      'x-shopify-webhook-id': option('webhook-id') ?? randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body,
  });
  console.log(response.status);
  console.log(await response.text());
  return response.ok ? 0 : 1;
}

const commands: Record<string, () => Promise<number>> = {
  'test-pattern': testPattern,
  'send-shopify': sendShopify,
};
const run = command ? commands[command] : undefined;
if (!run) {
  console.error(`usage: npm run -s ops -- <${Object.keys(commands).join('|')}> …`);
  process.exit(2);
}
process.exit(await run());
