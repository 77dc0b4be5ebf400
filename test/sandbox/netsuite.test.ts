import { sign } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import type { NsErrorBody } from '#sandbox/netsuite/errors.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import { json, type Page, postJson, start, until } from './helpers.ts';

interface NsState {
  credentials: Creds;
  plan: { concurrencyLimit: number };
  counters: Record<string, number>;
  faults: { counters: Record<string, number> };
  records: Page<{ id: string; externalId: string | null; total?: number }>;
}
type NsRecordJson = Record<string, unknown> & { id: string; memo?: string; item: { items: unknown[] } };
const code = (b: NsErrorBody) => b['o:errorDetails'][0]?.['o:errorCode'];

/** Independent implementation of NetSuite's client credentials assertion (ES256 JWT). */
function assertion(opts: {
  clientId: string;
  kid: string;
  privateKeyPem: string;
  aud: string;
  now?: number;
  alg?: string;
  scope?: string[];
}): string {
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const enc = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
  const h = enc({ typ: 'JWT', alg: opts.alg ?? 'ES256', kid: opts.kid });
  const p = enc({
    iss: opts.clientId,
    scope: opts.scope ?? ['restlets', 'rest_webservices'],
    aud: opts.aud,
    iat: now,
    exp: now + 1800,
  });
  const s = sign('sha256', Buffer.from(`${h}.${p}`), {
    key: opts.privateKeyPem,
    dsaEncoding: 'ieee-p1363',
  }).toString('base64url');
  return `${h}.${p}.${s}`;
}

interface Creds {
  clientId: string;
  certificateId: string;
  privateKeyPem: string;
}

let skew = 0;
const app = new NetSuiteSandbox({ seed: 7, items: 300, stores: 6, clock: () => Date.now() + skew });
let server: StartedServer;
let base: string;
let creds: Creds;
let token = '';

async function getToken(
  a = assertion({
    clientId: creds.clientId,
    kid: creds.certificateId,
    privateKeyPem: creds.privateKeyPem,
    aud: `${base}/services/rest/auth/oauth2/v1/token`,
  }),
) {
  const res = await fetch(`${base}/services/rest/auth/oauth2/v1/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: a,
    }),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

const api = (path: string, init: RequestInit = {}) =>
  fetch(`${base}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
const rec = (type: string, id = '') => `/services/rest/record/v1/${type}${id ? `/${id}` : ''}`;
const suiteql = async (q: string, params = '') => {
  const res = await api(`/services/rest/query/v1/suiteql${params}`, {
    method: 'POST',
    headers: { prefer: 'transient' },
    body: JSON.stringify({ q }),
  });
  return {
    status: res.status,
    json: (await res.json()) as Record<string, unknown> & { items: Array<Record<string, string>> },
  };
};
const state = async (qs = '') => json<NsState>(fetch(`${base}/_control/state${qs}`));
const order = (eid: string, qty = 1) => ({
  externalId: eid,
  entity: { id: '42' },
  location: { externalId: 'ST-001' },
  item: { items: [{ item: { externalId: 'SKU-000001' }, quantity: qty, rate: 19.5 }] },
});

beforeAll(async () => {
  ({ server, url: base } = await start(app));
  creds = (await state()).credentials as Creds;
});
afterAll(() => server.close());
beforeEach(async () => {
  skew = 0;
  await fetch(`${base}/_control/reset`, { method: 'POST' });
  token = String((await getToken()).json.access_token);
});

describe('netsuite sandbox: OAuth 2.0 client credentials', () => {
  it('issues a bearer token for a valid ES256 client assertion', async () => {
    const { status, json } = await getToken();
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: 'Bearer', expires_in: '3600' });
    expect(String(json.access_token).split('.')).toHaveLength(3);
  });

  it('rejects assertions with a bad signature, wrong kid or wrong scope', async () => {
    const aud = `${base}/services/rest/auth/oauth2/v1/token`;
    const good = assertion({
      clientId: creds.clientId,
      kid: creds.certificateId,
      privateKeyPem: creds.privateKeyPem,
      aud,
    });
    const tampered = `${good.slice(0, -4)}AAAA`;
    expect((await getToken(tampered)).json.error).toBe('invalid_grant');
    const wrongKid = assertion({
      clientId: creds.clientId,
      kid: 'other',
      privateKeyPem: creds.privateKeyPem,
      aud,
    });
    expect(await getToken(wrongKid)).toMatchObject({ status: 400, json: { error: 'invalid_grant' } });
    const noScope = assertion({
      clientId: creds.clientId,
      kid: creds.certificateId,
      privateKeyPem: creds.privateKeyPem,
      aud,
      scope: ['restlets'],
    });
    expect((await getToken(noScope)).status).toBe(400);
  });

  it('answers 401 INVALID_LOGIN without, with a forged or with an expired token', async () => {
    for (const auth of ['', 'Bearer nope', `Bearer ${token}x`]) {
      const res = await fetch(`${base}${rec('salesOrder', '1')}`, {
        headers: auth ? { authorization: auth } : {},
      });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({
        status: 401,
        title: 'Unauthorized',
        'o:errorDetails': [{ 'o:errorCode': 'INVALID_LOGIN' }],
      });
    }
    skew += 3601_000;
    expect((await api(rec('salesOrder', '1'))).status).toBe(401);
    expect((await state()).counters.unauthorized).toBe(4);
  });
});

describe('netsuite sandbox: records', () => {
  it('creates with 204 + Location and reads by id and by eid, sublists as links unless expanded', async () => {
    const res = await api(rec('salesOrder'), { method: 'POST', body: JSON.stringify(order('SHOP-1001', 2)) });
    expect(res.status).toBe(204);
    const location = res.headers.get('location') ?? '';
    expect(location).toMatch(new RegExp(`^${base}/services/rest/record/v1/salesOrder/\\d+$`));
    const id = location.split('/').at(-1) ?? '';
    const byId = await json<NsRecordJson>(api(rec('salesOrder', id)));
    expect(byId).toMatchObject({ id, externalId: 'SHOP-1001', total: 39, entity: { id: '42' } });
    expect(byId.item).toEqual({ links: [{ rel: 'self', href: `${location}/item` }] });
    const byEid = await json<NsRecordJson>(
      api(`${rec('salesOrder', 'eid:SHOP-1001')}?expandSubResources=true`),
    );
    expect(byEid.id).toBe(id);
    expect(byEid.item.items[0]).toMatchObject({ quantity: 2, amount: 39, item: { refName: 'SKU-000001' } });
  });

  it('PUT eid: upserts — creates, then replaces the same record, never a second one', async () => {
    const put = (qty: number) =>
      api(rec('salesOrder', 'eid:SHOP-2001'), {
        method: 'PUT',
        body: JSON.stringify({ ...order('SHOP-2001', qty), externalId: undefined }),
      });
    const first = await put(1);
    const second = await put(3);
    expect(first.status).toBe(204);
    expect(second.status).toBe(204);
    expect(second.headers.get('location')).toBe(first.headers.get('location'));
    const s = await state('?externalId=SHOP-2001');
    expect(s.records.total).toBe(1);
    expect(s.records.items[0]?.total).toBe(58.5);
  });

  it('concurrent PUTs of one external id produce exactly one record', async () => {
    await postJson(`${base}/_control/plan`, { concurrencyLimit: 50 });
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        api(rec('cashSale', 'eid:POS-ST001-77'), {
          method: 'PUT',
          body: JSON.stringify({ ...order('x', i + 1), externalId: undefined }),
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(25).fill(204));
    expect(new Set(results.map((r) => r.headers.get('location'))).size).toBe(1);
    expect((await state('?externalId=POS-ST001-77')).records.total).toBe(1);
  });

  it('rejects PUT by internal id, unknown items and duplicate external ids with NetSuite error bodies', async () => {
    const byId = await api(rec('salesOrder', '5001'), { method: 'PUT', body: JSON.stringify(order('A')) });
    expect(byId.status).toBe(400);
    const bad = await api(rec('salesOrder'), {
      method: 'POST',
      body: JSON.stringify({ entity: { id: 1 }, item: { items: [{ item: { id: 9999 }, quantity: 1 }] } }),
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      status: 400,
      'o:errorDetails': [{ 'o:errorCode': 'INVALID_CONTENT', 'o:errorPath': 'item.items[0].item' }],
    });
    expect(
      (await api(rec('salesOrder'), { method: 'POST', body: JSON.stringify(order('DUP')) })).status,
    ).toBe(204);
    const dup = await api(rec('salesOrder'), { method: 'POST', body: JSON.stringify(order('DUP')) });
    expect(dup.status).toBe(400);
    const missing = await api(rec('creditMemo'), {
      method: 'POST',
      body: JSON.stringify({ item: { items: [] } }),
    });
    expect(code(await json<NsErrorBody>(missing))).toBe('USER_ERROR');
  });

  it('PATCH updates and DELETE removes', async () => {
    await api(rec('salesOrder'), { method: 'POST', body: JSON.stringify(order('SHOP-3')) });
    expect(
      (
        await api(rec('salesOrder', 'eid:SHOP-3'), {
          method: 'PATCH',
          body: JSON.stringify({ memo: 'gift' }),
        })
      ).status,
    ).toBe(204);
    expect((await json<NsRecordJson>(api(rec('salesOrder', 'eid:SHOP-3')))).memo).toBe('gift');
    expect((await api(rec('salesOrder', 'eid:SHOP-3'), { method: 'DELETE' })).status).toBe(204);
    const gone = await api(rec('salesOrder', 'eid:SHOP-3'));
    expect(gone.status).toBe(404);
    expect(code(await json<NsErrorBody>(gone))).toBe('NONEXISTENT_ID');
  });
});

describe('netsuite sandbox: booking items and payment methods', () => {
  const bookingLines = [
    { item: { externalId: 'SKU-000001' }, quantity: 2, rate: 19.5 },
    { item: { externalId: 'OH-DISCOUNT' }, quantity: 1, rate: -5 },
    { item: { id: '2' }, quantity: 1, rate: 6.99 },
    { item: { id: '3' }, quantity: 1, rate: 2.65 },
    { item: { externalId: 'OH-GIFTCARD' }, quantity: 1, rate: 25 },
  ];

  it('seeds the booking items at internal ids 1-4, readable by id and external id', async () => {
    const discount = await json<Record<string, unknown>>(api(rec('discountItem', '1')));
    expect(discount).toMatchObject({ id: '1', externalId: 'OH-DISCOUNT', itemId: 'OH-DISCOUNT' });
    const byEid = await json<Record<string, unknown>>(api(rec('otherChargeSaleItem', 'eid:OH-TAX')));
    expect(byEid).toMatchObject({ id: '3', itemId: 'OH-TAX' });
    const list = await json<{ items: Array<{ id: string }> }>(api(rec('otherChargeSaleItem')));
    expect(list.items.map((i) => i.id)).toEqual(['2', '3', '4']);
    // Not inventory items: the item master still starts at 100.
    expect((await api(rec('inventoryItem', '1'))).status).toBe(404);
    const inventory = await json<{ totalResults: number }>(api(rec('inventoryItem', '?limit=1')));
    expect(inventory.totalResults).toBe(300);
  });

  it('books lines on them by id or external id, moving stock and the change feed for products only', async () => {
    const res = await api(rec('cashSale'), {
      method: 'POST',
      body: JSON.stringify({ ...order('POS-BOOK-1'), item: { items: bookingLines } }),
    });
    expect(res.status).toBe(204);
    const id = res.headers.get('location')?.split('/').at(-1) ?? '';
    const sale = await json<NsRecordJson>(api(`${rec('cashSale', id)}?expandSubResources=true`));
    expect(sale.item.items.map((l) => (l as { item: { id: string; refName: string } }).item)).toEqual([
      { links: [], id: '100', refName: 'SKU-000001' },
      { links: [], id: '1', refName: 'OH-DISCOUNT' },
      { links: [], id: '2', refName: 'OH-SHIPPING' },
      { links: [], id: '3', refName: 'OH-TAX' },
      { links: [], id: '4', refName: 'OH-GIFTCARD' },
    ]);
    expect(sale.total).toBe(68.64);
    const feed = await suiteql('SELECT custrecord_oh_item, custrecord_oh_kind FROM customrecord_oh_change');
    expect(feed.json.items).toEqual([{ links: [], custrecord_oh_item: '100', custrecord_oh_kind: 'onhand' }]);
    const stock = await suiteql('SELECT item FROM aggregateitemlocation WHERE item IN (1, 2, 3, 4)');
    expect(stock.json.totalResults).toBe(0);
  });

  it('lists them in SuiteQL item with their itemtype, and seeds payment methods', async () => {
    const items = await suiteql('SELECT id, itemid, itemtype FROM item WHERE id IN (1, 2, 3, 4, 100)');
    expect(items.json.items.map((i) => `${i.id} ${i.itemid} ${i.itemtype}`)).toEqual([
      '1 OH-DISCOUNT Discount',
      '2 OH-SHIPPING OthCharge',
      '3 OH-TAX OthCharge',
      '4 OH-GIFTCARD OthCharge',
      '100 SKU-000001 InvtPart',
    ]);
    const all = await suiteql("SELECT id FROM item WHERE isinactive = 'F'", '?limit=1');
    expect(all.json.totalResults).toBe(304);
    const methods = await suiteql(
      "SELECT id, name FROM paymentmethod WHERE name IN ('Cash', 'Shopify Payments')",
    );
    expect(methods.json.items).toEqual([
      { links: [], id: '1', name: 'Cash' },
      { links: [], id: '7', name: 'Shopify Payments' },
    ]);
  });

  it('numbers new items after the item master, never onto a booking item, even with no catalogue', () => {
    const empty = new NetSuiteSandbox({ seed: 7, items: 0, stores: 1 });
    expect(empty.store.allocateId('inventoryItem')).toBe('100');
  });
});

describe('netsuite sandbox: concurrency governance', () => {
  it('answers 429 SSS_REQUEST_LIMIT_EXCEEDED over the limit and counts it', async () => {
    await postJson(`${base}/_control/plan`, { concurrencyLimit: 3, latencyMs: { min: 150, max: 150 } });
    const res = await Promise.all(Array.from({ length: 8 }, () => api(rec('inventoryItem', '100'))));
    const statuses = res.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    const throttled = res.find((r) => r.status === 429);
    if (!throttled) throw new Error('no 429');
    const body = await json<NsErrorBody>(throttled);
    expect(body).toMatchObject({
      status: 429,
      title: 'Too Many Requests',
      'o:errorDetails': [{ 'o:errorCode': 'SSS_REQUEST_LIMIT_EXCEEDED' }],
    });
    expect(body.type).toMatch(/^https:\/\//);
    const s = await state();
    expect(s.counters).toMatchObject({ throttled: 5, http429: 5, peakConcurrency: 3, inFlight: 0 });
  });

  it('derives the limit from tier and SuiteCloud Plus licences', async () => {
    expect((await state()).plan.concurrencyLimit).toBe(15);
    const r = await postJson(`${base}/_control/plan`, { tier: 'standard', suiteCloudPlusLicenses: 2 });
    expect(r.json).toMatchObject({ concurrencyLimit: 25 });
  });
});

describe('netsuite sandbox: SuiteQL', () => {
  it('finds transactions by recordtype and external ids, with NetSuite paging', async () => {
    for (const e of ['E1', 'E2', 'E3'])
      await api(rec('salesOrder'), { method: 'POST', body: JSON.stringify(order(e)) });
    await api(rec('cashSale'), { method: 'POST', body: JSON.stringify(order('E4')) });
    const q =
      "SELECT id, externalid, tranid, total FROM transaction WHERE recordtype = 'salesorder' AND externalid IN ('E1', 'E3', 'E4')";
    const { status, json } = await suiteql(q);
    expect(status).toBe(200);
    expect(json).toMatchObject({ count: 2, hasMore: false, offset: 0, totalResults: 2 });
    expect(json.items.map((i) => i.externalid)).toEqual(['E1', 'E3']);
    expect(json.items[0]).toMatchObject({ links: [], total: '19.5' });
    const page = await suiteql("SELECT id FROM transaction WHERE type = 'SalesOrd'", '?limit=2&offset=0');
    expect(page.json).toMatchObject({ count: 2, hasMore: true, totalResults: 3 });
    expect((page.json.links as Array<{ rel: string }>).map((l) => l.rel)).toContain('next');
  });

  it('looks up items, locations and on-hand per location', async () => {
    const items = await suiteql(
      "SELECT id, itemid, baseprice FROM item WHERE itemid IN ('SKU-000001', 'SKU-000002')",
    );
    expect(items.json.items.map((i) => i.itemid)).toEqual(['SKU-000001', 'SKU-000002']);
    const locs = await suiteql("SELECT id, externalid FROM location WHERE externalid = 'WH-01'");
    expect(locs.json.items).toEqual([{ links: [], id: '1', externalid: 'WH-01' }]);
    const oh = await suiteql(
      'SELECT item, location, quantityonhand FROM aggregateitemlocation WHERE item = 100 AND location IN (1, 2)',
    );
    expect(oh.json.count).toBe(2);
  });

  it('answers 400 for unsupported SuiteQL and a missing Prefer: transient', async () => {
    for (const q of [
      'SELECT id FROM transaction WHERE id = 1 OR id = 2',
      'SELECT t.id FROM transaction t',
      'SELECT COUNT(*) FROM item',
      'SELECT nope FROM item',
    ]) {
      const r = await suiteql(q);
      expect(r.status, q).toBe(400);
      expect(r.json['o:errorDetails']).toMatchObject([{ 'o:errorCode': 'INVALID_PARAMETER' }]);
    }
    const noPrefer = await api('/services/rest/query/v1/suiteql', {
      method: 'POST',
      body: JSON.stringify({ q: 'SELECT id FROM item' }),
    });
    expect(noPrefer.status).toBe(400);
  });
});

describe('netsuite sandbox: change feed', () => {
  it('records on-hand changes from cash sales and price changes, pollable by id cursor', async () => {
    const before = await suiteql(
      'SELECT quantityonhand FROM aggregateitemlocation WHERE item = 100 AND location = 2',
    );
    await api(rec('cashSale'), { method: 'POST', body: JSON.stringify(order('POS-1', 2)) });
    await api(rec('inventoryItem', 'eid:SKU-000001'), {
      method: 'PATCH',
      body: JSON.stringify({ basePrice: 21.99 }),
    });
    const feed = await suiteql(
      'SELECT id, custrecord_oh_kind, custrecord_oh_sku, custrecord_oh_location_code, custrecord_oh_quantity, custrecord_oh_price FROM customrecord_oh_change WHERE id > 0 ORDER BY id',
    );
    const q0 = Number(before.json.items[0]?.quantityonhand);
    expect(feed.json.items).toEqual([
      {
        links: [],
        id: '1',
        custrecord_oh_kind: 'onhand',
        custrecord_oh_sku: 'SKU-000001',
        custrecord_oh_location_code: 'ST-001',
        custrecord_oh_quantity: String(q0 - 2),
      },
      {
        links: [],
        id: '2',
        custrecord_oh_kind: 'price',
        custrecord_oh_sku: 'SKU-000001',
        custrecord_oh_price: '21.99',
      },
    ]);
    const after = await suiteql('SELECT id FROM customrecord_oh_change WHERE id > 1');
    expect(after.json.items.map((i) => i.id)).toEqual(['2']);
  });

  it('is deterministic: the same scenario and seed yield the same feed', async () => {
    const run = async () => {
      await fetch(`${base}/_control/reset`, { method: 'POST' });
      await postJson(`${base}/_control/scenario`, {
        seed: 99,
        priceChanges: 5,
        receipts: 5,
        adjustments: 5,
        newItems: 2,
      });
      const r = (await (await fetch(`${base}/_control/changes?limit=1000`)).json()) as {
        items: Array<Record<string, unknown>>;
      };
      return r.items.map(({ created: _c, ...rest }) => rest);
    };
    const a = await run();
    const b = await run();
    expect(a.length).toBeGreaterThanOrEqual(17);
    expect(b).toEqual(a);
  });
});

describe('netsuite sandbox: faults', () => {
  it('injects 5xx errors in NetSuite shape and counts them', async () => {
    await postJson(`${base}/_control/faults`, { errorRate: 1, errorStatuses: [503] });
    const r = await api(rec('inventoryItem', '100'));
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({
      status: 503,
      'o:errorDetails': [{ 'o:errorCode': 'UNEXPECTED_ERROR' }],
    });
    expect((await state()).faults.counters.errors).toBe(1);
  });

  it('adds latency and hangs up on timeouts', async () => {
    await postJson(`${base}/_control/faults`, { latencyMs: { distribution: 'fixed', ms: 120 } });
    const t0 = performance.now();
    expect((await api(rec('inventoryItem', '100'))).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(115);
    await postJson(`${base}/_control/faults`, { timeoutRate: 1, timeoutMs: 50 });
    await expect(api(rec('inventoryItem', '100'))).rejects.toThrow();
    expect((await state()).faults.counters.timeouts).toBe(1);
  });

  it('rejects calls during an outage window, then recovers', async () => {
    await postJson(`${base}/_control/faults`, { outage: { durationMs: 300 } });
    const r = await api(rec('inventoryItem', '100'));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBeTruthy();
    await until(async () => (await api(rec('inventoryItem', '100'))).status === 200, 3_000, 50);
    expect((await state()).faults.counters.outageRejections).toBeGreaterThanOrEqual(1);
  });

  it('throttle storms answer 429 with the governance body', async () => {
    await postJson(`${base}/_control/faults`, { throttleStorm: { rate: 1, durationMs: 10_000 } });
    const r = await api(rec('inventoryItem', '100'));
    expect(r.status).toBe(429);
    expect(code(await json<NsErrorBody>(r))).toBe('SSS_REQUEST_LIMIT_EXCEEDED');
  });
});
