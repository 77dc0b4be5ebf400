import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmacSha256FromBase64 } from '../hmac.ts';

/** Header carrying Square's webhook signature. */
export const SQUARE_SIGNATURE_HEADER = 'x-square-hmacsha256-signature';

const digest = (signatureKey: string, notificationUrl: string, rawBody: Buffer): Buffer =>
  createHmac('sha256', signatureKey).update(notificationUrl, 'utf8').update(rawBody).digest();

/**
 * Verifies `x-square-hmacsha256-signature`: base64 HMAC-SHA256 keyed with the subscription's signature
 * key over the notification URL followed by the raw body (Square's `WebhooksHelper`). The URL must be
 * exactly the one registered with Square — a different scheme, host, path or query never verifies.
 * Every candidate key is tried (current, then previous during a rotation); the comparison is
 * constant-time on equal-length digests, and a missing or malformed header never matches.
 *
 * @returns the index of the key that matched, or -1.
 */
export function verifySquareSignature(
  rawBody: Buffer,
  notificationUrl: string,
  header: string | undefined,
  signatureKeys: readonly string[],
): number {
  if (!header || !notificationUrl) return -1;
  const received = hmacSha256FromBase64(header);
  if (!received) return -1;
  for (const [index, key] of signatureKeys.entries()) {
    if (!key) continue;
    if (timingSafeEqual(digest(key, notificationUrl, rawBody), received)) return index;
  }
  return -1;
}

/** Signs a body as Square does (tests and tools that post to the local route). */
export function signSquareBody(
  rawBody: Buffer | string,
  notificationUrl: string,
  signatureKey: string,
): string {
  return digest(signatureKey, notificationUrl, Buffer.from(rawBody)).toString('base64');
}
