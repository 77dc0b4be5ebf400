import {
  constants,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto';
import { HttpError } from '../core/http.ts';

/** Path of NetSuite's OAuth 2.0 token endpoint. */
export const TOKEN_PATH = '/services/rest/auth/oauth2/v1/token';
/** `client_assertion_type` for the client credentials (M2M) flow. */
export const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** Algorithms NetSuite lists for the client assertion ("The Request Token Structure"). */
export const ASSERTION_ALGS = ['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'] as const;

/** One OAuth 2.0 client credentials (M2M) mapping: integration client id + certificate. */
export interface NsCredentials {
  accountId: string;
  clientId: string;
  /** The certificate id NetSuite shows after uploading the public certificate; the JWT `kid`. */
  certificateId: string;
  publicKeyPem: string;
  /** Only present for the sandbox's own generated key, so demos and tests can sign assertions. */
  privateKeyPem?: string;
}

/**
 * Deterministic credentials for a seed: an EC P-256 key whose private scalar
 * is derived from the seed, so the local cloud and tests can rebuild the same
 * key without reading it from the sandbox. A published test key, not a secret.
 */
export function defaultCredentials(seed: number, accountId = 'TSTDRV1234567'): NsCredentials {
  const d = createHash('sha256').update(`omnihub-netsuite-sandbox-key|${seed}`).digest();
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey(undefined, 'uncompressed');
  const jwk = {
    kty: 'EC',
    crv: 'P-256',
    d: d.toString('base64url'),
    x: pub.subarray(1, 33).toString('base64url'),
    y: pub.subarray(33, 65).toString('base64url'),
  };
  const priv = createPrivateKey({ key: jwk, format: 'jwk' });
  const hex = createHash('sha256').update(`client|${seed}`).digest('hex');
  return {
    accountId,
    clientId: hex.slice(0, 64),
    certificateId: `cert-${hex.slice(0, 20)}`,
    publicKeyPem: createPublicKey(priv).export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: priv.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/**
 * Signs a client assertion the way an integration does for NetSuite's
 * client credentials flow (ES256 with the mapped certificate's key). For
 * demos and tools; the contract tests sign independently.
 */
export function createClientAssertion(
  creds: NsCredentials,
  tokenUrl: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string {
  if (!creds.privateKeyPem) throw new Error('credentials have no private key');
  const header = b64json({ typ: 'JWT', alg: 'ES256', kid: creds.certificateId });
  const payload = b64json({
    iss: creds.clientId,
    scope: ['rest_webservices'],
    aud: tokenUrl,
    iat: nowSeconds,
    exp: nowSeconds + 3000,
  });
  const sig = sign('sha256', Buffer.from(`${header}.${payload}`), {
    key: creds.privateKeyPem,
    dsaEncoding: 'ieee-p1363',
  });
  return `${header}.${payload}.${sig.toString('base64url')}`;
}

const b64json = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** RFC 6749 §5.2 error answer of the token endpoint. */
export const oauthError = (status: number, error: string, description: string): HttpError =>
  new HttpError(status, { error, error_description: description });

interface IssuedToken {
  clientId: string;
  expiresAt: number;
}

/**
 * Issues and validates bearer tokens. Access tokens are HS256 JWTs signed
 * with a per-instance secret and valid `ttlSeconds` (NetSuite: 60 minutes);
 * `revokeAll` (reset) invalidates every issued token.
 */
export class TokenService {
  private secret: Buffer;
  private issued = new Map<string, IssuedToken>();
  private keys = new Map<string, { creds: NsCredentials; key: KeyObject }>();
  counters = { issued: 0, rejectedAssertions: 0, rejectedTokens: 0 };

  constructor(
    credentials: readonly NsCredentials[],
    private readonly clock: () => number,
    public ttlSeconds = 3600,
  ) {
    this.secret = createHash('sha256')
      .update(`tokens|${credentials.map((c) => c.clientId).join(',')}`)
      .digest();
    for (const c of credentials)
      this.keys.set(c.clientId, { creds: c, key: createPublicKey(c.publicKeyPem) });
  }

  /** Registers (or replaces) a client credentials mapping. */
  register(creds: NsCredentials): void {
    this.keys.set(creds.clientId, { creds, key: createPublicKey(creds.publicKeyPem) });
  }

  /** Handles the form body of a token request; returns the token response or throws an OAuth error. */
  exchange(form: URLSearchParams): { access_token: string; expires_in: string; token_type: 'Bearer' } {
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    }
    if (form.get('client_assertion_type') !== JWT_BEARER) {
      throw oauthError(400, 'invalid_request', `client_assertion_type must be ${JWT_BEARER}`);
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw oauthError(400, 'invalid_request', 'client_assertion is required');
    const clientId = this.verifyAssertion(assertion);
    const now = this.clock();
    const exp = Math.floor(now / 1000) + this.ttlSeconds;
    const token = this.mint({
      sub: clientId,
      scope: ['rest_webservices'],
      iat: Math.floor(now / 1000),
      exp,
      jti: `${++this.counters.issued}`,
    });
    this.issued.set(token, { clientId, expiresAt: exp * 1000 });
    // NetSuite documents expires_in as always 3600; it is sent as a string here (unconfirmed: coerce either way).
    return { access_token: token, expires_in: String(this.ttlSeconds), token_type: 'Bearer' };
  }

  /** True when `authorization` carries a bearer token this service issued and that has not expired. */
  validate(authorization: string | undefined): boolean {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    const token = m?.[1];
    const rec = token ? this.issued.get(token) : undefined;
    if (!token || !rec || rec.expiresAt <= this.clock() || !this.checkMac(token)) {
      this.counters.rejectedTokens++;
      return false;
    }
    return true;
  }

  /** Number of tokens still valid. */
  activeTokens(): number {
    const now = this.clock();
    let n = 0;
    for (const t of this.issued.values()) if (t.expiresAt > now) n++;
    return n;
  }

  /** Invalidates every issued token. */
  revokeAll(): void {
    this.issued.clear();
    this.counters = { issued: 0, rejectedAssertions: 0, rejectedTokens: 0 };
  }

  private verifyAssertion(jwt: string): string {
    const fail = (why: string): never => {
      this.counters.rejectedAssertions++;
      throw oauthError(400, 'invalid_grant', why);
    };
    const parts = jwt.split('.');
    if (parts.length !== 3) fail('client_assertion is not a JWT');
    const [h, p, s] = parts as [string, string, string];
    let header: Record<string, unknown> = {};
    let payload: Record<string, unknown> = {};
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as Record<string, unknown>;
      payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    } catch {
      fail('client_assertion is not valid JSON');
    }
    const alg = String(header.alg ?? '');
    if (!(ASSERTION_ALGS as readonly string[]).includes(alg))
      fail(`unsupported alg ${alg}; use one of ${ASSERTION_ALGS.join(', ')}`);
    const entry = this.keys.get(String(payload.iss ?? ''));
    if (!entry) fail('unknown client (iss)');
    const { creds, key } = entry as { creds: NsCredentials; key: KeyObject };
    if (header.kid !== creds.certificateId)
      fail('kid does not match the certificate id mapped to this client');
    const scope = Array.isArray(payload.scope)
      ? payload.scope.map(String)
      : String(payload.scope ?? '').split(/[ ,]+/);
    if (!scope.includes('rest_webservices')) fail('scope must include rest_webservices');
    const aud = String(payload.aud ?? '');
    if (!aud.endsWith(TOKEN_PATH)) fail(`aud must be the token endpoint URL (…${TOKEN_PATH})`);
    const now = Math.floor(this.clock() / 1000);
    const iat = Number(payload.iat);
    const exp = Number(payload.exp);
    if (!Number.isFinite(iat) || !Number.isFinite(exp)) fail('iat and exp are required');
    if (exp <= now) fail('client_assertion has expired');
    if (iat > now + 60) fail('iat is in the future');
    if (exp - iat > 3600) fail('exp must be less than 60 minutes after iat');
    const hash = `sha${alg.slice(2)}`;
    const data = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s, 'base64url');
    const ok = alg.startsWith('PS')
      ? verify(
          hash,
          data,
          { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 },
          sig,
        )
      : verify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
    if (!ok) fail('client_assertion signature does not verify with the mapped certificate');
    return creds.clientId;
  }

  private mint(payload: Record<string, unknown>): string {
    const head = b64json({ typ: 'JWT', alg: 'HS256', kid: 'sandbox' });
    const body = b64json(payload);
    const mac = createHmac('sha256', this.secret).update(`${head}.${body}`).digest('base64url');
    return `${head}.${body}.${mac}`;
  }

  private checkMac(token: string): boolean {
    const [head, body, mac] = token.split('.');
    if (!head || !body || !mac) return false;
    const want = createHmac('sha256', this.secret).update(`${head}.${body}`).digest();
    const got = Buffer.from(mac, 'base64url');
    return got.length === want.length && timingSafeEqual(got, want);
  }
}
