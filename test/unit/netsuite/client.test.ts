import { constants, generateKeyPairSync, verify } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { defaultCredentials } from '#sandbox/netsuite/auth.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  type NetSuiteCredentials,
} from '#shared/connectors/netsuite/auth.ts';
import {
  NetSuiteClient,
  type NetSuiteClientEvent,
  type NetSuiteClientOptions,
} from '#shared/connectors/netsuite/client.ts';
import {
  ErpAuthError,
  ErpReferenceError,
  ErpThrottledError,
  ErpUnavailableError,
  ErpValidationError,
} from '#shared/ports/erp-errors.ts';

const BASE = 'https://tstdrv1234567.suitetalk.api.netsuite.com';
const TOKEN_URL = `${BASE}${NETSUITE_TOKEN_PATH}`;
const sandboxKey = defaultCredentials(11);
const credentials: NetSuiteCredentials = {
  accountId: 'TSTDRV1234567',
  clientId: sandboxKey.clientId,
  certificateId: sandboxKey.certificateId,
  privateKeyPem: sandboxKey.privateKeyPem ?? '',
};

interface Call {
  method: string;
  path: string;
  authorization: string;
  body: string | undefined;
}
type Answer = Response | Promise<Response>;

const nsError = (
  status: number,
  code: string,
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) =>
  new Response(
    JSON.stringify({
      type: 'about:blank',
      title: 'Error',
      status,
      'o:errorDetails': [{ detail: `${code} detail`, 'o:errorCode': code, ...extra }],
    }),
    { status, headers: { 'content-type': 'application/json', ...headers } },
  );
const created = (id = '5001') =>
  new Response(null, {
    status: 204,
    headers: { location: `${BASE}/services/rest/record/v1/salesOrder/${id}` },
  });
const decodeJwt = (jwt: string) => {
  const [h, p, s] = jwt.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>,
    signed: Buffer.from(`${h}.${p}`),
    signature: Buffer.from(s, 'base64url'),
  };
};

/**
 * A fake NetSuite behind `fetch`: a token endpoint that checks the client assertion's claims and issues
 * numbered tokens, and record endpoints answered by `handler`. Counts calls and peak concurrency.
 */
function fakeNetSuite(handler: (call: Call, n: number) => Answer, tokenAnswer?: (n: number) => Answer) {
  const state = {
    calls: [] as Call[],
    tokenCalls: 0,
    assertions: [] as string[],
    inFlight: 0,
    peak: 0,
    validTokens: new Set<string>(),
  };
  const fetchFn = (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (url.pathname === NETSUITE_TOKEN_PATH) {
      state.tokenCalls++;
      const form = new URLSearchParams(String(init.body));
      expect(form.get('grant_type')).toBe('client_credentials');
      expect(form.get('client_assertion_type')).toBe(
        'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      );
      state.assertions.push(form.get('client_assertion') ?? '');
      if (tokenAnswer) return tokenAnswer(state.tokenCalls);
      const token = `tok-${state.tokenCalls}`;
      state.validTokens.add(token);
      return Response.json({ access_token: token, expires_in: '3600', token_type: 'Bearer' });
    }
    const call: Call = {
      method: init.method ?? 'GET',
      path: `${url.pathname}${url.search}`,
      authorization: new Headers(init.headers).get('authorization') ?? '',
      body: typeof init.body === 'string' ? init.body : undefined,
    };
    state.calls.push(call);
    state.inFlight++;
    state.peak = Math.max(state.peak, state.inFlight);
    try {
      const signal = init.signal;
      const answer = Promise.resolve(handler(call, state.calls.length));
      if (!signal) return await answer;
      return await Promise.race([
        answer,
        new Promise<never>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true });
        }),
      ]);
    } finally {
      state.inFlight--;
    }
  }) as typeof fetch;
  return { fetch: fetchFn, state };
}

function makeClient(
  fake: { fetch: typeof fetch },
  options: Partial<Omit<NetSuiteClientOptions, 'auth'>> & { now?: () => number } = {},
) {
  const events: NetSuiteClientEvent[] = [];
  const { now, ...rest } = options;
  const auth = new NetSuiteAuth({
    tokenUrl: TOKEN_URL,
    credentials,
    fetch: fake.fetch,
    ...(now ? { now } : {}),
  });
  const client = new NetSuiteClient({
    baseUrl: BASE,
    accountId: 'TSTDRV1234567',
    auth,
    fetch: fake.fetch,
    retry: { maxAttempts: 5, initialDelayMs: 2, maxDelayMs: 20 },
    onEvent: (event) => events.push(event),
    ...rest,
  });
  return { client, auth, events };
}

const put = {
  method: 'PUT',
  path: '/services/rest/record/v1/salesOrder/eid:shopify-acme-1',
  body: { memo: 'x' },
} as const;
const get = { method: 'GET', path: '/services/rest/record/v1/salesOrder/eid:shopify-acme-1' } as const;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns true or the deadline passes. */
async function until(probe: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

describe('NetSuiteClient', () => {
  describe('throttling and retries', () => {
    it('retries a 429 SSS_REQUEST_LIMIT_EXCEEDED and then succeeds', async () => {
      const fake = fakeNetSuite((_, n) => (n === 1 ? nsError(429, 'SSS_REQUEST_LIMIT_EXCEEDED') : created()));
      const { client, events } = makeClient(fake);
      const res = await client.request({ ...put, ctx: { transactionId: 'tx-1' } });
      expect(res.status).toBe(204);
      expect(res.headers.get('location')).toMatch(/\/5001$/);
      expect(fake.state.calls).toHaveLength(2);
      expect(client.stats).toMatchObject({ requests: 2, throttled: 1, retries: 1 });
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'throttled', status: 429, transactionId: 'tx-1' }),
      );
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'retry', attempt: 1, transactionId: 'tx-1' }),
      );
    });

    it('treats the RESTlet form (400 SSS_REQUEST_LIMIT_EXCEEDED) as throttling too', async () => {
      const fake = fakeNetSuite((_, n) => (n <= 2 ? nsError(400, 'SSS_REQUEST_LIMIT_EXCEEDED') : created()));
      const { client } = makeClient(fake);
      expect((await client.request(put)).status).toBe(204);
      expect(fake.state.calls).toHaveLength(3);
    });

    it('waits at least the Retry-After the server asks for', async () => {
      const fake = fakeNetSuite((_, n) =>
        n === 1 ? nsError(429, 'SSS_REQUEST_LIMIT_EXCEEDED', {}, { 'retry-after': '0.08' }) : created(),
      );
      const { client, events } = makeClient(fake, {
        random: () => 0,
        retry: { maxAttempts: 2, initialDelayMs: 2, maxDelayMs: 1_000 },
      });
      const t0 = performance.now();
      await client.request(put);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(75);
      expect(events).toContainEqual(expect.objectContaining({ type: 'retry', delayMs: 80 }));
    });

    it('backs off with full jitter: uniform below a bound that doubles per retry', async () => {
      const fake = fakeNetSuite((_, n) => (n <= 4 ? nsError(503, 'UNEXPECTED_ERROR') : created()));
      const { client, events } = makeClient(fake, {
        random: () => 0.5,
        retry: { maxAttempts: 5, initialDelayMs: 4, maxDelayMs: 10 },
      });
      await client.request(put);
      expect(
        events.filter((e) => e.type === 'retry').map((e) => (e.type === 'retry' ? e.delayMs : 0)),
      ).toEqual([2, 4, 5, 5]);
    });

    it('retries 5xx and network errors, then gives up with a retryable error', async () => {
      let n = 0;
      const fake = fakeNetSuite(() => {
        n++;
        if (n % 2 === 0) throw new TypeError('fetch failed');
        return nsError(502, 'UNEXPECTED_ERROR');
      });
      const { client } = makeClient(fake, { retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 2 } });
      const error = await client.request(put).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpUnavailableError);
      expect(error).toMatchObject({ retryable: true, circuitOpen: false });
      expect(fake.state.calls).toHaveLength(4);
    });

    it('never retries a permanent 400 and reports NetSuite code and path', async () => {
      const fake = fakeNetSuite(() => nsError(400, 'USER_ERROR', { 'o:errorPath': 'item.items[0].item' }));
      const { client } = makeClient(fake);
      const error = await client.request(put).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpValidationError);
      expect(error).toMatchObject({
        code: 'ERP_VALIDATION',
        retryable: false,
        status: 400,
        erpCode: 'USER_ERROR',
        path: 'item.items[0].item',
      });
      expect(fake.state.calls).toHaveLength(1);
      expect(client.stats.retries).toBe(0);
    });

    it('classifies INVALID_KEY_OR_REF as a permanent reference error naming the field, never retried', async () => {
      const fake = fakeNetSuite(() => nsError(400, 'INVALID_KEY_OR_REF', { 'o:errorPath': 'currency' }));
      const { client } = makeClient(fake);
      const error = await client.request(put).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpReferenceError);
      expect(error).toMatchObject({
        code: 'ERP_INVALID_REFERENCE',
        retryable: false,
        status: 400,
        erpCode: 'INVALID_KEY_OR_REF',
        path: 'currency',
      });
      expect(fake.state.calls).toHaveLength(1);
    });

    it('turns a request that outlives its timeout into a retryable outage error', async () => {
      const fake = fakeNetSuite((_, n) => (n === 1 ? new Promise<Response>(() => {}) : created()));
      const { client } = makeClient(fake, { requestTimeoutMs: 30 });
      expect((await client.request(put)).status).toBe(204);
      expect(fake.state.calls).toHaveLength(2);
    });

    it('stops retrying when the caller aborts', async () => {
      const controller = new AbortController();
      // The caller gives up while the second attempt is answered: no third attempt may follow.
      const fake = fakeNetSuite((_, n) => {
        if (n === 2) controller.abort();
        return nsError(503, 'UNEXPECTED_ERROR');
      });
      const { client } = makeClient(fake, { retry: { maxAttempts: 50, initialDelayMs: 20, maxDelayMs: 20 } });
      const error = await client
        .request({ ...put, ctx: { transactionId: 't', signal: controller.signal } })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpUnavailableError);
      expect(fake.state.calls).toHaveLength(2);
    });
  });

  describe('circuit breaker', () => {
    it('opens on repeated 5xx, fails fast without calling NetSuite, half-opens later and closes on success', async () => {
      let healthy = false;
      const fake = fakeNetSuite(() => (healthy ? created() : nsError(503, 'SERVICE_UNAVAILABLE')));
      const { client, events } = makeClient(fake, {
        retry: { maxAttempts: 0 },
        circuitBreaker: { consecutiveFailures: 3, halfOpenAfterMs: 150 },
      });
      for (let i = 0; i < 3; i++)
        await expect(client.request(put)).rejects.toBeInstanceOf(ErpUnavailableError);
      expect(client.circuitState).toBe('open');
      const fast = await client.request(put).catch((e: unknown) => e);
      expect(fast).toMatchObject({ code: 'ERP_UNAVAILABLE', retryable: true, circuitOpen: true });
      expect(fake.state.calls).toHaveLength(3);

      healthy = true;
      await until(async () => {
        try {
          await client.request(put);
          return true;
        } catch (error) {
          if (error instanceof ErpUnavailableError && error.circuitOpen) return false;
          throw error;
        }
      });
      expect(client.circuitState).toBe('closed');
      expect(fake.state.calls).toHaveLength(4);
      expect(
        events.filter((e) => e.type === 'circuit').map((e) => (e.type === 'circuit' ? e.state : '')),
      ).toEqual(['open', 'half-open', 'closed']);
      expect(client.stats.circuitOpened).toBe(1);
    });

    it('re-opens when the half-open trial call fails', async () => {
      const fake = fakeNetSuite(() => nsError(500, 'UNEXPECTED_ERROR'));
      const { client } = makeClient(fake, {
        retry: { maxAttempts: 0 },
        circuitBreaker: { consecutiveFailures: 2, halfOpenAfterMs: 40 },
      });
      for (let i = 0; i < 2; i++)
        await expect(client.request(put)).rejects.toBeInstanceOf(ErpUnavailableError);
      await sleep(60);
      await expect(client.request(put)).rejects.toMatchObject({ circuitOpen: false, status: 500 });
      expect(client.circuitState).toBe('open');
      await expect(client.request(put)).rejects.toMatchObject({ circuitOpen: true });
      expect(fake.state.calls).toHaveLength(3);
    });

    it('does not count throttling or permanent errors as an outage', async () => {
      let n = 0;
      const fake = fakeNetSuite(() =>
        ++n % 2 ? nsError(429, 'SSS_REQUEST_LIMIT_EXCEEDED') : nsError(400, 'INVALID_CONTENT'),
      );
      const { client } = makeClient(fake, {
        retry: { maxAttempts: 0 },
        circuitBreaker: { consecutiveFailures: 2 },
      });
      for (let i = 0; i < 6; i++) {
        await expect(client.request(put)).rejects.toSatisfy(
          (e) => e instanceof ErpThrottledError || e instanceof ErpValidationError,
        );
      }
      expect(client.circuitState).toBe('closed');
    });
  });

  describe('concurrency', () => {
    it('never has more requests in flight than maxConcurrency, and uses all of it', async () => {
      const fake = fakeNetSuite(async () => {
        await sleep(5 + Math.floor(Math.random() * 10));
        return created();
      });
      const { client } = makeClient(fake, { maxConcurrency: 4 });
      const results = await Promise.all(Array.from({ length: 40 }, () => client.request(put)));
      expect(results.every((r) => r.status === 204)).toBe(true);
      expect(fake.state.peak).toBe(4);
      expect(client.stats.peakInFlight).toBe(4);
    });

    it('holds no slot while a retry waits, and stays under the limit through 429s', async () => {
      const fake = fakeNetSuite(async (_, n) => {
        await sleep(3);
        return n % 3 === 0 ? nsError(429, 'SSS_REQUEST_LIMIT_EXCEEDED') : created();
      });
      const { client } = makeClient(fake, {
        maxConcurrency: 3,
        retry: { maxAttempts: 20, initialDelayMs: 5, maxDelayMs: 20 },
      });
      await Promise.all(Array.from({ length: 30 }, () => client.request(put)));
      expect(fake.state.peak).toBeLessThanOrEqual(3);
      expect(client.stats.throttled).toBeGreaterThan(0);
    });
  });

  describe('authentication', () => {
    it('signs an ES256 client assertion as NetSuite documents it', async () => {
      const fake = fakeNetSuite(() => created());
      const { client } = makeClient(fake, { now: () => 1_790_000_000_000 });
      await client.request(get);
      const jwt = decodeJwt(fake.state.assertions[0] ?? '');
      expect(jwt.header).toEqual({ typ: 'JWT', alg: 'ES256', kid: credentials.certificateId });
      expect(jwt.payload).toEqual({
        iss: credentials.clientId,
        scope: 'rest_webservices',
        aud: TOKEN_URL,
        iat: 1_790_000_000,
        exp: 1_790_000_300,
      });
      expect(
        verify(
          'sha256',
          jwt.signed,
          { key: sandboxKey.publicKeyPem, dsaEncoding: 'ieee-p1363' },
          jwt.signature,
        ),
      ).toBe(true);
      expect(fake.state.calls[0]?.authorization).toBe('Bearer tok-1');
    });

    it('signs PS256 (RSA-PSS, 32-byte salt) with an RSA certificate key', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
      const fake = fakeNetSuite(() => created());
      const auth = new NetSuiteAuth({
        tokenUrl: TOKEN_URL,
        credentials: async () => ({
          ...credentials,
          privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        }),
        fetch: fake.fetch,
      });
      await auth.token();
      const jwt = decodeJwt(fake.state.assertions[0] ?? '');
      expect(jwt.header.alg).toBe('PS256');
      const ok = verify(
        'sha256',
        jwt.signed,
        { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 },
        jwt.signature,
      );
      expect(ok).toBe(true);
    });

    it('fetches one token for a burst of concurrent requests and reuses it', async () => {
      const fake = fakeNetSuite(async () => {
        await sleep(2);
        return created();
      });
      const { client, auth } = makeClient(fake);
      await Promise.all(Array.from({ length: 30 }, () => client.request(get)));
      await client.request(get);
      expect(fake.state.tokenCalls).toBe(1);
      expect(auth.tokenRequests).toBe(1);
      expect(new Set(fake.state.calls.map((c) => c.authorization))).toEqual(new Set(['Bearer tok-1']));
    });

    it('refreshes once, shortly before expiry, however many requests need the new token', async () => {
      let now = 1_790_000_000_000;
      const fake = fakeNetSuite(async () => {
        await sleep(2);
        return created();
      });
      const { client } = makeClient(fake, { now: () => now });
      await client.request(get);
      now += 3_600_000 - 61_000;
      await client.request(get);
      expect(fake.state.tokenCalls).toBe(1);
      now += 2_000; // inside the 60 s refresh margin of a 3600 s token
      await Promise.all(Array.from({ length: 20 }, () => client.request(get)));
      expect(fake.state.tokenCalls).toBe(2);
      expect(fake.state.calls.at(-1)?.authorization).toBe('Bearer tok-2');
    });

    it('answers a 401 by refreshing the token once, shared by concurrent callers', async () => {
      let revoked = false;
      const fake = fakeNetSuite(async (call) => {
        await sleep(2);
        if (revoked && call.authorization === 'Bearer tok-1') return nsError(401, 'INVALID_LOGIN');
        return created();
      });
      const { client } = makeClient(fake);
      await client.request(get);
      revoked = true;
      const results = await Promise.all(Array.from({ length: 10 }, () => client.request(get)));
      expect(results.every((r) => r.status === 204)).toBe(true);
      expect(fake.state.tokenCalls).toBe(2);
      expect(client.stats.retries).toBe(0);
    });

    it('gives up with a permanent auth error when a fresh token is refused too', async () => {
      const fake = fakeNetSuite(() => nsError(401, 'INVALID_LOGIN'));
      const { client } = makeClient(fake);
      const error = await client.request(get).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpAuthError);
      expect(error).toMatchObject({ retryable: false, status: 401, erpCode: 'INVALID_LOGIN' });
      expect(fake.state.calls).toHaveLength(2);
      expect(fake.state.tokenCalls).toBe(2);
    });

    it('reports refused credentials without leaking the key or the assertion', async () => {
      const fake = fakeNetSuite(
        () => created(),
        () =>
          Response.json({ error: 'invalid_grant', error_description: 'kid does not match' }, { status: 400 }),
      );
      const { client, auth } = makeClient(fake);
      const error = await client.request(get).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ErpAuthError);
      expect(error).toMatchObject({ erpCode: 'invalid_grant', retryable: false });
      const everything = `${String(error)} ${JSON.stringify(error)} ${inspect(error)} ${inspect(auth)} ${JSON.stringify(auth)}`;
      expect(everything).not.toContain('PRIVATE KEY');
      expect(everything).not.toContain(fake.state.assertions[0]);
      expect(fake.state.calls).toHaveLength(0);
    });

    it('treats a throttled or failing token endpoint as transient', async () => {
      const fake = fakeNetSuite(
        () => created(),
        (n) =>
          n === 1
            ? new Response('busy', { status: 429 })
            : n === 2
              ? new Response('<html>', { status: 502 })
              : Response.json({ access_token: 't', expires_in: 3600 }),
      );
      const { client } = makeClient(fake);
      expect((await client.request(get)).status).toBe(204);
      expect(fake.state.tokenCalls).toBe(3);
    });
  });
});
