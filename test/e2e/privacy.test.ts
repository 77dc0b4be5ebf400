import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { type LocalCloud, startLocalCloud } from '#local/cloud.ts';
import { cachedDevStack } from '#local/harness/probe-stack.ts';
import { DEV_SHOP } from '#local/harness/shopify-webhooks.ts';
import { waitFor } from '#local/services/ports.ts';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import { type PrivacyRequestRecord, PrivacyRequestStore } from '#shared/repositories/privacy-requests.ts';
import { shopifyFixture } from '#test/support/fixtures.ts';

/**
 * Customer data through the local cloud, on the synthesized dev stack: an order whose buyer has an
 * email, a phone and addresses is delivered twice — once it maps (OrderCreated), once it is parked
 * (an amount in another currency) — then Shopify's compliance webhooks arrive, signed as Shopify signs
 * them. No email, phone or address may reach the bus, the event archive or any function log; the data
 * request is recorded without values; the redaction strips the parked order's contact data (it stays
 * an order that can be replayed); the shop redaction deletes what is parked for the shop.
 */
const SECRET = 'e2e-privacy-shopify-secret';
const SHOP = DEV_SHOP;
const CONTACT = {
  email: 'privacy-e2e-buyer@example.com',
  phone: '+1-555-0100-417',
  firstName: 'Privadia',
  lastName: 'Redactson',
  address: '417 Redaction Row',
  zip: '98417',
};
const CONTACT_VALUES = Object.values(CONTACT);
const CUSTOMER_ID = '7004170041';
const PARKED_ORDER_ID = '7004170099';

let cloud: LocalCloud;
let root: string;
let dynamo: DynamoDBClient;
let exceptions: DynamoExceptionStore;
let requests: PrivacyRequestStore;
const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

/** The documented order sample, as `orderId`, bought by our customer, shipped and billed to them. */
function order(orderId: string, options: { parkable?: boolean; customerId?: string } = {}): string {
  const customerId = options.customerId ?? CUSTOMER_ID;
  const body = shopifyFixture('orders/create') as Record<string, unknown> & {
    line_items: { price_set: { shop_money: { currency_code: string } } }[];
  };
  const address = {
    first_name: CONTACT.firstName,
    last_name: CONTACT.lastName,
    name: `${CONTACT.firstName} ${CONTACT.lastName}`,
    address1: CONTACT.address,
    city: 'Ottawa',
    zip: CONTACT.zip,
    phone: CONTACT.phone,
    country_code: 'CA',
  };
  const [line] = body.line_items;
  // A line priced in another currency than the order's: the mapper refuses it, the ingress parks it.
  if (options.parkable && line) line.price_set.shop_money.currency_code = 'EUR';
  return JSON.stringify({
    ...body,
    id: Number(orderId),
    admin_graphql_api_id: `gid://shopify/Order/${orderId}`,
    name: `#P-${orderId.slice(-4)}`,
    email: CONTACT.email,
    contact_email: CONTACT.email,
    phone: CONTACT.phone,
    billing_address: address,
    shipping_address: address,
    customer: {
      id: Number(customerId),
      admin_graphql_api_id: `gid://shopify/Customer/${customerId}`,
      email: CONTACT.email,
      phone: CONTACT.phone,
      first_name: CONTACT.firstName,
      last_name: CONTACT.lastName,
      default_address: address,
    },
  });
}

/** A compliance body as Shopify documents it (shopify.dev sample), for our shop and customer. */
function compliance(topic: string, extra: Record<string, unknown> = {}): string {
  const sample = shopifyFixture(topic);
  const customer = { id: Number(CUSTOMER_ID), email: CONTACT.email, phone: CONTACT.phone };
  return JSON.stringify({
    ...sample,
    shop_domain: SHOP,
    ...('customer' in sample ? { customer } : {}),
    ...extra,
  });
}

/** Posts a body signed with the local secret, as `ops send-shopify` does. */
async function deliver(topic: string, body: string) {
  const response = await fetch(`${cloud.url}/webhooks/shopify`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, SECRET),
      'x-shopify-shop-domain': SHOP,
      'x-shopify-api-version': SHOPIFY_API_VERSION,
      'x-shopify-webhook-id': randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const busEvents = async () =>
  (await (await fetch(`${cloud.url}/_local/events`)).json()) as { 'detail-type': string; detail: unknown }[];

/** The audit record of the one request of `detailType` once `done` holds for it. */
async function request(
  detailType: string,
  done: (record: PrivacyRequestRecord) => boolean = () => true,
): Promise<PrivacyRequestRecord> {
  let found: PrivacyRequestRecord | undefined;
  await waitFor(
    async () => {
      found = (await requests.list('shopify', SHOP)).find(
        (record) => record.detailType === detailType && done(record),
      );
      return found !== undefined;
    },
    { timeoutMs: 30_000, what: `the privacy audit to record ${detailType}` },
  );
  return found as PrivacyRequestRecord;
}

const tableName = (prefix: string) => {
  const table = cloud.template
    .ofType('AWS::DynamoDB::Table')
    .find((candidate) => candidate.logicalId.startsWith(prefix));
  if (!table) throw new Error(`no table ${prefix}`);
  return table.name;
};

let parkedExceptionId = '';

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'omnihub-e2e-privacy-'));
  const logDir = join(root, 'logs');
  mkdirSync(logDir, { recursive: true });
  // The dev stack as `npm start` synthesizes it; vendor APIs point at a closed loopback port.
  const { dir: assemblyDir, stackName } = cachedDevStack();
  cloud = await startLocalCloud({
    assemblyDir,
    stackName,
    port: 0,
    stateDir: join(root, 'state'),
    env: { OMNIHUB_SHOPIFY_SECRET: SECRET },
    chaos: { ...DEFAULT_CHAOS, seed: 31 },
    // As `npm start` does: each function's output in .local/logs/<function>.log.
    onFunctionLog: (name, line) => appendFileSync(join(logDir, `${name}.log`), `${line}\n`),
  });
  dynamo = new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials });
  const documents = DynamoDBDocumentClient.from(dynamo);
  exceptions = new DynamoExceptionStore(documents, tableName('ExceptionsTable'));
  requests = new PrivacyRequestStore(documents, tableName('PrivacyRequestsTable'));

  // Another buyer's order (same contact values, so the bus and log checks see them): it is published, and the
  // order sync parks it (no mappings here) — held for the shop, not for our customer.
  expect(await deliver('orders/create', order('7004170001', { customerId: '7004170002' }))).toMatchObject({
    status: 200,
    body: { status: 'published' },
  });
  const parked = await deliver('orders/create', order(PARKED_ORDER_ID, { parkable: true }));
  expect(parked).toMatchObject({ status: 200, body: { status: 'parked' } });
  parkedExceptionId = String(parked.body.exceptionId);
  // The published order reaches the order sync, which parks it too (no mappings here): wait for that, so the
  // redactions below meet everything the hub will hold (on a loaded machine it can take seconds).
  await waitFor(
    async () => (await exceptions.findBySubject('shopify', SHOP)).some((ref) => ref.kind === 'erp-order'),
    { timeoutMs: 60_000, what: 'the order sync to park the published order' },
  );
}, 240_000);

afterAll(async () => {
  dynamo?.destroy();
  await cloud?.stop();
});

describe('personal data through the local cloud (e2e)', () => {
  it('parks the unmappable order with its contact data, findable by its customer', async () => {
    const [ref] = await exceptions.findBySubject('shopify', SHOP, { customerIds: [CUSTOMER_ID] });
    expect(ref?.exceptionId).toBe(parkedExceptionId);
    const parked = await exceptions.get(ref?.kind ?? '', ref?.sk ?? '');
    expect(parked?.payload.toString()).toContain(CONTACT.email);
  });

  it('records a data request: what the hub holds, which fields, never their values', async () => {
    const body = compliance('customers/data_request', { orders_requested: [Number(PARKED_ORDER_ID)] });
    expect((await deliver('customers/data_request', body)).body).toMatchObject({ status: 'published' });

    const record = await request('CustomerDataRequested');
    expect(record.subject).toMatchObject({ customerId: CUSTOMER_ID, orderIds: [PARKED_ORDER_ID] });
    expect(record.held?.exceptions).toEqual([
      expect.objectContaining({ exceptionId: parkedExceptionId, status: 'PARKED', code: 'MAPPING_FAILED' }),
    ]);
    expect(record.held?.exceptions[0]?.contactFields).toEqual(
      expect.arrayContaining(['$.email', '$.billing_address', '$.customer.email']),
    );
    expect(JSON.stringify(record)).not.toContain(CONTACT.email);
  });

  it("redacts the parked order's contact data and keeps it an order that can be replayed", async () => {
    const body = compliance('customers/redact', { orders_to_redact: [Number(PARKED_ORDER_ID)] });
    expect((await deliver('customers/redact', body)).body).toMatchObject({ status: 'published' });

    const record = await request('CustomerRedactionRequested', (candidate) => candidate.redacted.length > 0);
    expect(record.redacted).toEqual([parkedExceptionId]);
    const [ref] = await exceptions.findBySubject('shopify', SHOP, { orderIds: [PARKED_ORDER_ID] });
    const payload = (await exceptions.get(ref?.kind ?? '', ref?.sk ?? ''))?.payload.toString() ?? '';
    for (const value of CONTACT_VALUES) expect(payload).not.toContain(value);
    expect(parseShopifyJson(payload)).toMatchObject({
      id: PARKED_ORDER_ID,
      customer: { id: CUSTOMER_ID },
      line_items: expect.arrayContaining([expect.objectContaining({ sku: 'SKU2006-001' })]),
    });
  });

  it('puts the compliance events on the bus with ids only, and keeps them out of the archive pattern', async () => {
    const events = await busEvents();
    const types = new Set(events.map((event) => event['detail-type']));
    expect(types).toEqual(new Set(['OrderCreated', 'CustomerDataRequested', 'CustomerRedactionRequested']));
    const redaction = events.find((event) => event['detail-type'] === 'CustomerRedactionRequested');
    expect(redaction?.detail).toMatchObject({
      metadata: { schemaVersion: '2.0' },
      data: { customer: { id: CUSTOMER_ID }, orderIds: [PARKED_ORDER_ID] },
    });

    // The deployed archive's pattern, asked of the local EventBridge's TestEventPattern.
    const [archive] = cloud.template.ofType('AWS::Events::Archive');
    const pattern = { ...(archive?.properties.EventPattern as object), account: ['000000000000'] };
    const eventBridge = new EventBridgeClient({
      endpoint: cloud.endpoints.aws,
      region: 'us-east-1',
      credentials,
    });
    const archived = async (detailType: string) =>
      (
        await eventBridge.send(
          new TestEventPatternCommand({
            EventPattern: JSON.stringify(pattern),
            Event: JSON.stringify({
              id: '1',
              account: '000000000000',
              source: 'omnihub.shopify',
              time: '2026-11-27T12:00:00Z',
              region: 'us-east-1',
              resources: [],
              'detail-type': detailType,
              detail: {},
            }),
          }),
        )
      ).Result;
    expect(await archived('CustomerRedactionRequested')).toBe(false);
    expect(await archived('OrderCreated')).toBe(true);
    eventBridge.destroy();
  });

  it("deletes the shop's parked inputs on shop/redact", async () => {
    expect((await deliver('shop/redact', compliance('shop/redact'))).body).toMatchObject({
      status: 'published',
    });
    const record = await request('ShopRedactionRequested');
    expect(record.deleted).toContain(parkedExceptionId);
    expect(await exceptions.findBySubject('shopify', SHOP)).toEqual([]);
  });

  it('let no email, phone or address reach the bus, the event archive or a function log', async () => {
    await cloud.idle();
    const bus = JSON.stringify(await busEvents());
    const archive = readFileSync(join(root, 'state', 'events.jsonl'), 'utf8');
    const logs = readdirSync(join(root, 'logs')).map((file) =>
      readFileSync(join(root, 'logs', file), 'utf8'),
    );
    // The places looked at hold what they should: every event, and the functions' own lines.
    expect(archive.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(4);
    expect(logs.join('\n')).toContain('privacy request applied');
    for (const value of CONTACT_VALUES) {
      expect(bus).not.toContain(value);
      expect(archive).not.toContain(value);
      for (const log of logs) expect(log).not.toContain(value);
    }
    const queues = (await (await fetch(`${cloud.url}/_local/queues`)).json()) as {
      name: string;
      visible: number;
      isDlq: boolean;
    }[];
    expect(
      queues.filter((queue) => queue.isDlq && queue.name.includes('Privacy') && queue.visible > 0),
    ).toEqual([]);
  });
});
