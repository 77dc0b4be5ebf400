/**
 * One base64 HMAC-SHA256 value, as Shopify (`X-Shopify-Hmac-Sha256`) and Square
 * (`x-square-hmacsha256-signature`) send it: 32 bytes are exactly 44 characters of the standard
 * alphabet with one `=` of padding. Anything else — base64url, missing padding, whitespace inside,
 * junk or trailing garbage (which Node's lenient decoder would skip), two values joined by a comma (a
 * repeated header) — is not a signature, so it never reaches the comparison.
 */
const HMAC_SHA256_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

/** The 32 signature bytes of a header value, or undefined when it is not exactly one HMAC-SHA256. */
export function hmacSha256FromBase64(header: string | undefined): Buffer | undefined {
  // Surrounding whitespace is not part of an HTTP field value (RFC 9110 §5.5): trimmed, as proxies do.
  const value = header?.trim();
  if (value === undefined || !HMAC_SHA256_BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}
