import { constants, createPrivateKey, type KeyObject, sign } from 'node:crypto';
import * as z from 'zod';
import { ErpAuthError, ErpThrottledError, ErpUnavailableError } from '../../ports/erp-errors.ts';

/** Path of NetSuite's OAuth 2.0 token endpoint (client credentials flow). */
export const NETSUITE_TOKEN_PATH = '/services/rest/auth/oauth2/v1/token';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Algorithms NetSuite accepts for the client assertion ("The Request Token Structure"; RS256 is not one). */
export type AssertionAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512';

/**
 * OAuth 2.0 client credentials (M2M) for one NetSuite integration record, as kept in Secrets Manager:
 * the integration's client id, the certificate id NetSuite shows after the public certificate was
 * mapped (the JWT `kid`), and the private key of that certificate.
 */
export interface NetSuiteCredentials {
  readonly accountId: string;
  readonly clientId: string;
  readonly certificateId: string;
  readonly privateKeyPem: string;
  /** Defaults from the key: EC P-256/384/521 → ES256/384/512, RSA → PS256. */
  readonly algorithm?: AssertionAlgorithm;
  /** Scopes as a list or NetSuite's comma-separated form. @default 'rest_webservices' */
  readonly scope?: readonly string[] | string;
}

/**
 * The secret as stored (e.g. Secrets Manager JSON); parse it at cold start so that a malformed secret
 * fails the init with the field named — never with the value in the message.
 */
export const NetSuiteCredentialsSchema = z.object({
  accountId: z.string().min(1),
  clientId: z.string().min(1),
  certificateId: z.string().min(1),
  privateKeyPem: z.string().includes('PRIVATE KEY'),
  algorithm: z.enum(['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512']).optional(),
  scope: z.union([z.array(z.string().min(1)), z.string().min(1)]).optional(),
});

/** Credentials, or a loader that reads them (e.g. from Secrets Manager) when a token is first needed. */
export type CredentialsSource = NetSuiteCredentials | (() => Promise<NetSuiteCredentials>);

/** Where to get tokens and how long to keep them. */
export interface NetSuiteAuthOptions {
  /** Full token endpoint URL; it is also the assertion's `aud`. */
  readonly tokenUrl: string;
  readonly credentials: CredentialsSource;
  readonly fetch?: typeof fetch;
  /** Clock in ms (tests). @default Date.now */
  readonly now?: () => number;
  /** Refresh this long before the token expires, so no request goes out with a token about to lapse. @default 60_000 */
  readonly refreshBeforeExpiryMs?: number;
  /** Lifetime of each client assertion; NetSuite requires exp < iat + 60 min. @default 300 */
  readonly assertionTtlSeconds?: number;
  /** @default 10_000 */
  readonly timeoutMs?: number;
}

/** A loaded signing key with the claims it signs for. */
export interface SigningKey {
  readonly clientId: string;
  readonly certificateId: string;
  readonly scope: string;
  readonly alg: AssertionAlgorithm;
  readonly key: KeyObject;
}

interface CachedToken {
  readonly value: string;
  readonly refreshAt: number;
}

const b64json = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function algorithmFor(key: KeyObject, requested: AssertionAlgorithm | undefined): AssertionAlgorithm {
  if (requested) return requested;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'secp384r1') return 'ES384';
    if (curve === 'secp521r1') return 'ES512';
    return 'ES256';
  }
  if (key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss') return 'PS256';
  throw new ErpAuthError(
    `unsupported key type ${key.asymmetricKeyType} for a NetSuite client assertion`,
    undefined,
    undefined,
  );
}

/**
 * Signs a JWT client assertion as NetSuite documents it: header `{typ: JWT, alg, kid: certificateId}`,
 * payload `{iss: clientId, scope, aud: tokenUrl, iat, exp}`; ES* signatures in JOSE (r‖s) form,
 * PS* with RSA-PSS and a salt as long as the hash (RFC 7518 §3.5).
 */
export function signClientAssertion(
  key: SigningKey,
  tokenUrl: string,
  nowSeconds: number,
  ttlSeconds: number,
): string {
  const header = b64json({ typ: 'JWT', alg: key.alg, kid: key.certificateId });
  const payload = b64json({
    iss: key.clientId,
    scope: key.scope,
    aud: tokenUrl,
    iat: nowSeconds,
    exp: nowSeconds + ttlSeconds,
  });
  const bits = Number(key.alg.slice(2));
  const data = Buffer.from(`${header}.${payload}`);
  const signature = key.alg.startsWith('ES')
    ? sign(`sha${bits}`, data, { key: key.key, dsaEncoding: 'ieee-p1363' })
    : sign(`sha${bits}`, data, {
        key: key.key,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: bits / 8,
      });
  return `${header}.${payload}.${signature.toString('base64url')}`;
}

/**
 * Access tokens for NetSuite's OAuth 2.0 client credentials flow. A token is cached until shortly
 * before it expires; concurrent callers share one refresh in flight, so a burst of requests costs one
 * token call. The private key is turned into a `KeyObject` on first use and the credentials are never
 * logged, put in an error message, or serialised (`toJSON` and `inspect` show nothing secret).
 */
export class NetSuiteAuth {
  private key: SigningKey | undefined;
  private cached: CachedToken | undefined;
  private inFlight: Promise<CachedToken> | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  /** Token endpoint calls made (observability and tests). */
  tokenRequests = 0;

  constructor(private readonly options: NetSuiteAuthOptions) {
    this.fetchFn = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  /** A valid bearer token, from the cache or from one shared refresh. */
  async token(signal?: AbortSignal): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.refreshAt) return cached.value;
    // The shared refresh is bounded by its own timeout, not by the first caller's signal: one caller
    // giving up must not fail the others waiting on the same refresh.
    this.inFlight ??= this.refresh().finally(() => {
      this.inFlight = undefined;
    });
    if (!signal) return (await this.inFlight).value;
    signal.throwIfAborted();
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    return (await Promise.race([this.inFlight, aborted])).value;
  }

  /**
   * Drops `token` after NetSuite refused it (401), so the next caller fetches a fresh one. Only the
   * token that was refused is dropped: a caller holding an old token cannot throw away a new one.
   */
  invalidate(token: string): void {
    if (this.cached?.value === token) this.cached = undefined;
  }

  toJSON(): Record<string, unknown> {
    return { tokenUrl: this.options.tokenUrl, hasToken: this.cached !== undefined };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `NetSuiteAuth(${this.options.tokenUrl})`;
  }

  private async signingKey(): Promise<SigningKey> {
    if (this.key) return this.key;
    const source = this.options.credentials;
    const creds = typeof source === 'function' ? await source() : source;
    let key: KeyObject;
    try {
      key = createPrivateKey(creds.privateKeyPem);
    } catch {
      // The parser's message is dropped on purpose: it may quote the key.
      throw new ErpAuthError('the NetSuite private key cannot be read', undefined, undefined);
    }
    this.key = {
      clientId: creds.clientId,
      certificateId: creds.certificateId,
      scope: typeof creds.scope === 'string' ? creds.scope : (creds.scope ?? ['rest_webservices']).join(','),
      alg: algorithmFor(key, creds.algorithm),
      key,
    };
    return this.key;
  }

  private async refresh(): Promise<CachedToken> {
    const key = await this.signingKey();
    const issuedAt = this.now();
    const assertion = signClientAssertion(
      key,
      this.options.tokenUrl,
      Math.floor(issuedAt / 1000),
      this.options.assertionTtlSeconds ?? 300,
    );
    const timeout = AbortSignal.timeout(this.options.timeoutMs ?? 10_000);
    this.tokenRequests++;
    let res: Response;
    try {
      res = await this.fetchFn(this.options.tokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({
          grant_type: 'client_credentials',
          client_assertion_type: JWT_BEARER,
          client_assertion: assertion,
        }).toString(),
        signal: timeout,
      });
    } catch (error) {
      throw new ErpUnavailableError(
        'the NetSuite token endpoint could not be reached',
        undefined,
        undefined,
        false,
        undefined,
        {
          cause: error,
        },
      );
    }
    const text = await res.text().catch(() => '');
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // not JSON (a proxy error page): handled by status below
    }
    if (res.status === 429) {
      throw new ErpThrottledError('the NetSuite token endpoint throttled the request', 429, undefined);
    }
    if (res.status >= 500) {
      throw new ErpUnavailableError(
        `the NetSuite token endpoint answered ${res.status}`,
        res.status,
        undefined,
      );
    }
    if (!res.ok) {
      const oauthError = typeof body.error === 'string' ? body.error : undefined;
      const description = typeof body.error_description === 'string' ? `: ${body.error_description}` : '';
      throw new ErpAuthError(
        `NetSuite refused the client credentials (${res.status} ${oauthError ?? 'error'}${description})`,
        res.status,
        oauthError,
      );
    }
    const accessToken = body.access_token;
    // NetSuite documents expires_in as 3600; it may come as a string or a number.
    const expiresIn = Number(body.expires_in ?? 3600);
    if (
      typeof accessToken !== 'string' ||
      accessToken === '' ||
      !Number.isFinite(expiresIn) ||
      expiresIn <= 0
    ) {
      throw new ErpUnavailableError(
        'the NetSuite token endpoint answered without a usable access token',
        res.status,
        undefined,
      );
    }
    const lifetimeMs = expiresIn * 1000;
    const skew = Math.min(this.options.refreshBeforeExpiryMs ?? 60_000, lifetimeMs / 2);
    this.cached = { value: accessToken, refreshAt: issuedAt + lifetimeMs - skew };
    return this.cached;
  }
}

/**
 * The REST base URL of a NetSuite account: `https://<account>.suitetalk.api.netsuite.com`, with the
 * account id lower-cased and `_` turned into `-` (sandbox accounts such as `1234567_SB1`).
 */
export function netSuiteBaseUrl(accountId: string): string {
  return `https://${accountId.toLowerCase().replace(/_/g, '-')}.suitetalk.api.netsuite.com`;
}
