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
  entity: { id: '1' },
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
    // 39.00 of a taxable product + 8.875 % SuiteTax at the nexus default code (3.46) = 42.46.
    expect(byId).toMatchObject({
      id,
      externalId: 'SHOP-1001',
      total: 42.46,
      taxTotal: 3.46,
      entity: { id: '1' },
    });
    expect(byId.item).toEqual({ links: [{ rel: 'self', href: `${location}/item` }] });
    const byEid = await json<NsRecordJson>(
      api(`${rec('salesOrder', 'eid:SHOP-1001')}?expandSubResources=true`),
    );
    expect(byEid.id).toBe(id);
    expect(byEid.item.items[0]).toMatchObject({
      line: 1,
      quantity: 2,
      amount: 39,
      item: { refName: 'SKU-000001' },
    });
  });

  it('PUT eid: upserts — creates, then updates the same record, never a second one', async () => {
    const put = (qty: number) =>
      api(`${rec('salesOrder', 'eid:SHOP-2001')}?replace=item`, {
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
    // Under replace=item the unkeyed line replaced the first: 3 × 19.50 + 5.19 tax.
    expect(s.records.items[0]?.total).toBe(63.69);
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
      'o:errorDetails': [{ 'o:errorCode': 'INVALID_KEY_OR_REF', 'o:errorPath': 'item.items[0].item' }],
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
    { item: { externalId: 'OH-GIFTCARD' }, quantity: 1, rate: 25 },
  ];

  it('seeds the booking items at internal ids 1, 2 and 4, readable by id and external id', async () => {
    const discount = await json<Record<string, unknown>>(api(rec('discountItem', '1')));
    expect(discount).toMatchObject({ id: '1', externalId: 'OH-DISCOUNT', itemId: 'OH-DISCOUNT' });
    const byEid = await json<Record<string, unknown>>(api(rec('otherChargeSaleItem', 'eid:OH-GIFTCARD')));
    expect(byEid).toMatchObject({ id: '4', itemId: 'OH-GIFTCARD' });
    // Tax is no item line under SuiteTax: no tax charge item.
    expect((await api(rec('otherChargeSaleItem', 'eid:OH-TAX'))).status).toBe(404);
    const list = await json<{ items: Array<{ id: string }> }>(api(rec('otherChargeSaleItem')));
    expect(list.items.map((i) => i.id)).toEqual(['2', '4']);
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
      { links: [], id: '4', refName: 'OH-GIFTCARD' },
    ]);
    // Lines 65.99; SuiteTax on the product (3.46) and the before-tax discount (−0.44): 69.01.
    expect(sale.total).toBe(69.01);
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
      '4 OH-GIFTCARD OthCharge',
      '100 SKU-000001 InvtPart',
    ]);
    const all = await suiteql("SELECT id FROM item WHERE isinactive = 'F'", '?limit=1');
    expect(all.json.totalResults).toBe(303);
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
    expect(json.items[0]).toMatchObject({ links: [], total: '21.23' });
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

describe('netsuite sandbox: upsert and sublist semantics (line keys, replace)', () => {
  type Line = { line: number; quantity: number; amount: number; isClosed?: boolean; item: { id: string } };
  const read = async (eid: string) =>
    json<Omit<NsRecordJson, 'item'> & { memo?: string; total: number; item: { items: Line[] } }>(
      api(`${rec('salesOrder', `eid:${eid}`)}?expandSubResources=true`),
    );
  const put = (eid: string, body: unknown, replace = '') =>
    api(`${rec('salesOrder', `eid:${eid}`)}${replace ? `?replace=${replace}` : ''}`, {
      method: 'PUT',
      body: JSON.stringify(body),
    });
  const lines = [
    { item: { id: '100' }, quantity: 1, rate: 10 },
    { item: { id: '101' }, quantity: 2, rate: 5 },
  ];

  it('keeps body fields an update does not send, and numbers lines without re-indexing', async () => {
    expect((await put('K-1', { entity: { id: '1' }, memo: 'first', item: { items: lines } })).status).toBe(
      204,
    );
    const created = await read('K-1');
    expect(created.item.items.map((l) => l.line)).toEqual([1, 2]);
    // An update without memo: NetSuite keeps it (the upsert of an existing record is an update).
    expect((await put('K-1', { otherRefNum: '#1' })).status).toBe(204);
    const updated = await read('K-1');
    expect(updated.memo).toBe('first');
    expect(updated).toMatchObject({ otherRefNum: '#1' });
    expect(updated.item.items.map((l) => l.line)).toEqual([1, 2]);
  });

  it('without replace: keyed lines update in place, unkeyed ones are added', async () => {
    await put('K-2', { entity: { id: '1' }, item: { items: lines } });
    await put('K-2', {
      item: {
        items: [
          { line: 2, quantity: 3 },
          { item: { id: '102' }, quantity: 1, rate: 1 },
        ],
      },
    });
    const after = await read('K-2');
    expect(after.item.items.map((l) => [l.line, l.item.id, l.quantity, l.amount])).toEqual([
      [1, '100', 1, 10],
      [2, '101', 3, 15],
      [3, '102', 1, 1],
    ]);
  });

  it('with replace=item: keyed lines update, unsent lines are removed, new ones added with fresh keys', async () => {
    await put('K-3', { entity: { id: '1' }, item: { items: lines } });
    await put(
      'K-3',
      {
        item: {
          items: [
            { line: 2, isClosed: true },
            { item: { id: '103' }, quantity: 1, rate: 2 },
          ],
        },
      },
      'item',
    );
    const after = await read('K-3');
    expect(after.item.items.map((l) => [l.line, l.item.id, l.isClosed === true])).toEqual([
      [2, '101', true],
      [3, '103', false],
    ]);
    // Keys are never reused: line 1 is gone for good, the next new line is 4.
    await put(
      'K-3',
      { item: { items: [{ line: 2 }, { line: 3 }, { item: { id: '104' }, quantity: 1, rate: 1 }] } },
      'item',
    );
    expect((await read('K-3')).item.items.map((l) => l.line)).toEqual([2, 3, 4]);
  });

  it('non-keyed sublists are appended to, or replaced under replace', async () => {
    const override = (amount: number) => ({
      taxDetailsOverride: true,
      taxDetails: {
        items: [{ taxDetailsReference: 'R1', taxType: { id: '1' }, taxCode: { id: '5' }, taxAmount: amount }],
      },
    });
    const body = { entity: { id: '1' }, item: { items: [{ ...lines[0], taxDetailsReference: 'R1' }] } };
    await put('K-4', { ...body, ...override(1) });
    await put('K-4', override(2));
    expect((await read('K-4')).total).toBe(13);
    await put('K-4', override(0.5), 'taxDetails');
    expect((await read('K-4')).total).toBe(10.5);
  });

  it('refuses to remove a fulfilled or billed line, but lets it be closed', async () => {
    await put('K-5', { entity: { id: '1' }, item: { items: lines } });
    await postJson(`${base}/_control/fulfil`, {
      type: 'salesOrder',
      externalId: 'K-5',
      line: 1,
      quantityFulfilled: 1,
    });
    const removed = await put('K-5', { item: { items: [{ line: 2 }] } }, 'item');
    expect(removed.status).toBe(400);
    expect(code(await json<NsErrorBody>(removed))).toBe('USER_ERROR');
    const closed = await put('K-5', { item: { items: [{ line: 1, isClosed: true }, { line: 2 }] } }, 'item');
    expect(closed.status).toBe(204);
    expect((await read('K-5')).item.items.map((l) => [l.line, l.isClosed === true])).toEqual([
      [1, true],
      [2, false],
    ]);
  });
});

describe('netsuite sandbox: SuiteTax', () => {
  const sale = (extra: Record<string, unknown> = {}) => ({
    entity: { id: '1' },
    item: {
      items: [
        { item: { id: '100' }, quantity: 2, rate: 10, taxDetailsReference: 'L1' },
        { item: { id: '2' }, quantity: 1, rate: 5, taxDetailsReference: 'L2' },
      ],
    },
    ...extra,
  });
  const readBack = async (type: string, eid: string) =>
    json<{
      total: number;
      subtotal: number;
      taxTotal: number;
      taxDetails: { items: Array<Record<string, unknown>> };
    }>(api(`${rec(type, `eid:${eid}`)}?expandSubResources=true`));

  it('computes tax on taxable lines from the line tax code or the nexus default', async () => {
    await api(rec('cashSale', 'eid:T-1'), { method: 'PUT', body: JSON.stringify(sale()) });
    // 20.00 of product at 8.875 % = 1.78 (1.775 half up); shipping is not taxable.
    expect(await readBack('cashSale', 'T-1')).toMatchObject({ subtotal: 25, taxTotal: 1.78, total: 26.78 });
    const exempt = sale();
    (exempt.item.items[0] as Record<string, unknown>).taxCode = { id: '6' };
    await api(rec('cashSale', 'eid:T-2'), { method: 'PUT', body: JSON.stringify(exempt) });
    expect(await readBack('cashSale', 'T-2')).toMatchObject({ taxTotal: 0, total: 25 });
  });

  it('books the tax details sent under a tax details override instead of computing them', async () => {
    const details = {
      taxDetailsOverride: true,
      taxDetails: {
        items: [
          {
            taxDetailsReference: 'L1',
            taxType: { id: '1' },
            taxCode: { id: '5' },
            taxBasis: 20,
            taxRate: 6,
            taxAmount: 1.2,
          },
          {
            taxDetailsReference: 'L2',
            taxType: { id: '1' },
            taxCode: { id: '5' },
            taxBasis: 5,
            taxRate: 6,
            taxAmount: 0.3,
          },
        ],
      },
    };
    await api(rec('salesOrder', 'eid:T-3'), { method: 'PUT', body: JSON.stringify(sale(details)) });
    const back = await readBack('salesOrder', 'T-3');
    expect(back).toMatchObject({ subtotal: 25, taxTotal: 1.5, total: 26.5 });
    expect(back.taxDetails.items).toHaveLength(2);
    const dangling = structuredClone(details);
    (dangling.taxDetails.items[1] as Record<string, unknown>).taxDetailsReference = 'NOPE';
    const refused = await api(rec('salesOrder', 'eid:T-4'), {
      method: 'PUT',
      body: JSON.stringify(sale(dangling)),
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({
      'o:errorDetails': [
        { 'o:errorCode': 'INVALID_KEY_OR_REF', 'o:errorPath': 'taxDetails.items[1].taxDetailsReference' },
      ],
    });
  });
});

describe('netsuite sandbox: references are validated', () => {
  const good = {
    entity: { id: '2' },
    currency: { id: '1' },
    subsidiary: { id: '1' },
    location: { id: '2' },
    paymentMethod: { id: '1' },
    item: { items: [{ item: { id: '100' }, quantity: 1, rate: 1, taxCode: { id: '5' } }] },
  };
  const cases: Array<[string, (b: typeof good) => unknown, string]> = [
    ['entity', (b) => ({ ...b, entity: { id: '999' } }), 'entity'],
    ['currency', (b) => ({ ...b, currency: { id: '77' } }), 'currency'],
    ['subsidiary', (b) => ({ ...b, subsidiary: { id: '9' } }), 'subsidiary'],
    ['location', (b) => ({ ...b, location: { id: '9999' } }), 'location'],
    ['paymentMethod', (b) => ({ ...b, paymentMethod: { id: '55' } }), 'paymentMethod'],
    [
      'item',
      (b) => ({ ...b, item: { items: [{ item: { id: '5' }, quantity: 1, rate: 1 }] } }),
      'item.items[0].item',
    ],
    [
      'taxCode',
      (b) => ({
        ...b,
        item: { items: [{ item: { id: '100' }, quantity: 1, rate: 1, taxCode: { id: '100' } }] },
      }),
      'item.items[0].taxCode',
    ],
  ];

  it('accepts the seeded ids', async () => {
    expect(
      (await api(rec('cashSale', 'eid:R-OK'), { method: 'PUT', body: JSON.stringify(good) })).status,
    ).toBe(204);
  });

  it.each(cases)(
    'refuses an unknown %s with 400 INVALID_KEY_OR_REF naming the field',
    async (_name, bad, path) => {
      const res = await api(rec('cashSale', 'eid:R-BAD'), { method: 'PUT', body: JSON.stringify(bad(good)) });
      expect(res.status).toBe(400);
      const body = await json<NsErrorBody>(res);
      expect(body['o:errorDetails'][0]).toMatchObject({
        'o:errorCode': 'INVALID_KEY_OR_REF',
        'o:errorPath': path,
      });
      expect(body['o:errorDetails'][0]?.detail).toMatch(
        /Invalid Field Value \d+ for the following field: \w+/,
      );
      expect((await state('?externalId=R-BAD')).records.total).toBe(0);
    },
  );

  it('lists customers, currencies, subsidiaries, tax types and tax codes in SuiteQL', async () => {
    const ids = async (table: string) =>
      (await suiteql(`SELECT id FROM ${table} WHERE isinactive = 'F'`)).json.items.map((i) => i.id);
    expect(await ids('customer')).toEqual(['1', '2']);
    expect(await ids('currency')).toEqual(['1', '2', '3', '4']);
    expect(await ids('subsidiary')).toEqual(['1']);
    expect(await ids('taxtype')).toEqual(['1']);
    expect(await ids('salestaxitem')).toEqual(['5', '6']);
  });
});
