import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The header CloudFront adds to every request it forwards to the webhook API (an origin custom header:
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/add-origin-custom-headers.html). Its
 * value is a random secret in Secrets Manager that only CloudFront and the API's authorizer know, so a
 * request sent to the execute-api URL directly — around the WAF — is refused before any work.
 */
export const ORIGIN_VERIFY_HEADER = 'x-origin-verify';

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Whether `presented` is one of the `candidates` (current secret, then previous during a rotation),
 * compared in constant time: both sides are hashed to 32 bytes first, so neither the value nor its length
 * leaks through timing.
 */
export function originVerified(presented: string | undefined, candidates: readonly string[]): boolean {
  if (presented === undefined || presented.length === 0 || presented.length > 1024) return false;
  const given = digest(presented);
  let verified = false;
  for (const candidate of candidates) {
    if (candidate.length > 0 && timingSafeEqual(given, digest(candidate))) verified = true;
  }
  return verified;
}
