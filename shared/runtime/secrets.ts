import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import type { AccessTokenSource } from '../connectors/square/client.ts';
import type { WebhookSecrets } from '../ingress/webhook.ts';

/**
 * The webhook signing secret as stored in Secrets Manager: `{"current": "...", "previous": "..."}`.
 * A plain string is accepted too and taken as the current secret, so an operator can paste Shopify's
 * client secret as it is.
 */
const StoredSecretSchema = z.union([
  z.object({ current: z.string().min(1), previous: z.string().min(1).optional() }),
  z
    .string()
    .min(1)
    .transform((current) => ({ current, previous: undefined })),
]);

const CACHE_SECONDS = 300;
const MIN_REFRESH_INTERVAL_MS = 30_000;

/** Reads one secret with Powertools parameters (cached 5 minutes; re-read on demand at most every 30 s). */
export function secretsManagerWebhookSecrets(secretId: string): WebhookSecrets {
  let lastRefresh = 0;
  const load = async (forceFetch: boolean) => {
    const raw = await getSecret(secretId, { maxAge: CACHE_SECONDS, forceFetch });
    if (typeof raw !== 'string') throw new Error(`secret ${secretId} has no string value`);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string secret
    }
    const parsed = StoredSecretSchema.safeParse(value);
    if (!parsed.success) throw new Error(`secret ${secretId} is not {"current","previous"} or a string`);
    return [parsed.data.current, ...(parsed.data.previous ? [parsed.data.previous] : [])];
  };
  return {
    candidates: () => load(false),
    refresh: async () => {
      if (Date.now() - lastRefresh < MIN_REFRESH_INTERVAL_MS) return undefined;
      lastRefresh = Date.now();
      return load(true);
    },
  };
}

/** A vendor access token as stored in Secrets Manager: `{"accessToken": "..."}`, or the plain token. */
const StoredTokenSchema = z.union([
  z.object({ accessToken: z.string().min(1) }).transform((value) => value.accessToken),
  z.string().min(1),
]);

/**
 * Reads an API access token with Powertools parameters (cached 5 minutes). After a 401 the caller asks
 * for a fresh read, at most every 30 s, so a rotated token is picked up without a redeploy and a wrong
 * one does not hammer Secrets Manager.
 */
export function secretsManagerAccessToken(secretId: string): AccessTokenSource {
  let lastRefresh = 0;
  const load = async (forceFetch: boolean) => {
    const raw = await getSecret(secretId, { maxAge: CACHE_SECONDS, forceFetch });
    if (typeof raw !== 'string') throw new Error(`secret ${secretId} has no string value`);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain token
    }
    const parsed = StoredTokenSchema.safeParse(value);
    if (!parsed.success) throw new Error(`secret ${secretId} is not {"accessToken"} or a string`);
    return parsed.data;
  };
  return {
    token: () => load(false),
    refresh: async () => {
      if (Date.now() - lastRefresh < MIN_REFRESH_INTERVAL_MS) return undefined;
      lastRefresh = Date.now();
      return load(true);
    },
  };
}
