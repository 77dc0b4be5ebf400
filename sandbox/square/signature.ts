import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header carrying Square's webhook signature. */
export const SQUARE_SIGNATURE_HEADER = 'x-square-hmacsha256-signature';

/**
 * Square's webhook signature: base64(HMAC-SHA256(key = signature key,
 * message = notification URL + raw body)), as implemented by Square's SDK
 * `WebhooksHelper` and documented for `x-square-hmacsha256-signature`.
 */
export function squareSignature(signatureKey: string, notificationUrl: string, rawBody: string): string {
  return createHmac('sha256', signatureKey)
    .update(notificationUrl + rawBody, 'utf8')
    .digest('base64');
}

/** Constant-time check of a received signature (for tools; the hub has its own verifier). */
export function isValidSquareSignature(
  signatureKey: string,
  notificationUrl: string,
  rawBody: string,
  signature: string,
): boolean {
  const want = Buffer.from(squareSignature(signatureKey, notificationUrl, rawBody));
  const got = Buffer.from(signature);
  return want.length === got.length && timingSafeEqual(want, got);
}
