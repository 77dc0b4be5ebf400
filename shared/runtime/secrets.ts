import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';
import type { AccessTokenSource } from '../connectors/square/client.ts';
import type { WebhookSecrets } from '../ingress/webhook.ts';

/**
 * The webhook signing secret as stored in Secrets Manager:
 * `{"current": "...", "previous": "...", "previousUntil": "<ISO time>"}`. The previous secret verifies
 * only until `previousUntil` (Shopify signs with the old secret for up to an hour after a rotation), so
 * a forgotten `previous` — or a leaked old secret — stops verifying by itself; without `previousUntil`
 * it never verifies. A plain string is accepted too and taken as the current secret, so an operator
 * can paste Shopify's client secret as it is.
 */
const StoredSecretSchema = z.union([
  z.object({
    current: z.string().min(1),
    previous: z.string().min(1).optional(),
    previousUntil: z.iso.datetime({ offset: true }).optional(),
  }),
  z
    .string()
    .min(1)
    .transform((current) => ({ current, previous: undefined, previousUntil: undefined })),
]);

/** The secrets a signature may be checked against now: current, then previous while it is still valid. */
export function signingCandidates(
  value: z.output<typeof StoredSecretSchema>,
  now: Date = new Date(),
): readonly string[] {
  const previousValid =
    value.previous !== undefined &&
    value.previousUntil !== undefined &&
    Date.parse(value.previousUntil) > now.getTime();
  return previousValid ? [value.current, value.previous as string] : [value.current];
}

const CACHE_SECONDS = 300;
const MIN_REFRESH_INTERVAL_MS = 30_000;

/**
 * One secret read with Powertools parameters (cached 5 minutes), a JSON object or a plain string,
 * parsed with `schema`; `refresh` re-reads it on demand (after a failed signature check or a 401) at
 * most every 30 s, so a rotation needs no redeploy and a wrong value does not hammer Secrets Manager.
 */
function cachedSecret<T>(secretId: string, schema: z.ZodType<T>, shape: string) {
  let lastRefresh = 0;
  const load = async (forceFetch: boolean): Promise<T> => {
    const raw = await getSecret(secretId, { maxAge: CACHE_SECONDS, forceFetch });
    if (typeof raw !== 'string') throw new Error(`secret ${secretId} has no string value`);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string secret
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new Error(`secret ${secretId} is not ${shape} or a string`);
    return parsed.data;
  };
  return {
    read: () => load(false),
    refresh: async (): Promise<T | undefined> => {
      if (Date.now() - lastRefresh < MIN_REFRESH_INTERVAL_MS) return undefined;
      lastRefresh = Date.now();
      return load(true);
    },
  };
}

/** The webhook signing secrets: current, then previous during a rotation. */
export function secretsManagerWebhookSecrets(secretId: string): WebhookSecrets {
  const secret = cachedSecret(secretId, StoredSecretSchema, '{"current","previous"}');
  const candidates = (value: z.output<typeof StoredSecretSchema>) => signingCandidates(value);
  return {
    candidates: async () => candidates(await secret.read()),
    refresh: async () => {
      const value = await secret.refresh();
      return value === undefined ? undefined : candidates(value);
    },
  };
}

/** A vendor access token as stored in Secrets Manager: `{"accessToken": "..."}`, or the plain token. */
const StoredTokenSchema = z.union([
  z.object({ accessToken: z.string().min(1) }).transform((value) => value.accessToken),
  z.string().min(1),
]);

/** Reads an API access token (cached 5 minutes; re-read after a 401 at most every 30 s). */
export function secretsManagerAccessToken(secretId: string): AccessTokenSource {
  const secret = cachedSecret(secretId, StoredTokenSchema, '{"accessToken"}');
  return { token: secret.read, refresh: secret.refresh };
}

/**
 * A JSON secret read when first needed (cached 5 minutes) and checked against `schema`. A malformed
 * value fails with the secret's id and the expected shape, never with its content.
 */
export function secretsManagerJson<T>(
  secretId: string,
  schema: z.ZodType<T>,
  shape: string,
): () => Promise<T> {
  return cachedSecret(secretId, schema, shape).read;
}
