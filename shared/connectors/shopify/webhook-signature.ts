import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmacSha256FromBase64 } from '../hmac.ts';

/**
 * Verifies `X-Shopify-Hmac-Sha256`: base64 HMAC-SHA256 of the raw body keyed with the app's client
 * secret. Every candidate secret is tried (current, then previous during a rotation — Shopify may keep
 * signing with the old secret for up to an hour). The comparison is constant-time on equal-length
 * digests, and a missing or malformed header never matches.
 *
 * @returns the index of the secret that matched, or -1.
 */
export function verifyShopifyHmac(
  rawBody: Buffer,
  header: string | undefined,
  secrets: readonly string[],
): number {
  if (!header) return -1;
  const received = hmacSha256FromBase64(header);
  if (!received) return -1;
  for (const [index, secret] of secrets.entries()) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(rawBody).digest();
    if (timingSafeEqual(expected, received)) return index;
  }
  return -1;
}

/** Signs a body as Shopify does (used by the sandbox and the ops `send-shopify` tool). */
export function signShopifyBody(rawBody: Buffer | string, secret: string): string {
  return createHmac('sha256', secret).update(rawBody).digest('base64');
}
