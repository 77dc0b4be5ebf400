import { randomBytes } from 'node:crypto';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { HubTable } from '#infra/constructs/hub-table.ts';
import { withSubjectIndex } from '#infra/flows/privacy.ts';
import { createTableInput } from '#local/dynamodb/tables.ts';
import { redactContactData, shopifyPayloadSubjects } from '#shared/connectors/shopify/contact-data.ts';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { ComplianceBusEventSchema, handleComplianceRequest } from '#shared/flows/redaction.ts';
import { replayParkedOrders } from '#shared/ops/replay-orders.ts';
import {
  DEFAULT_RESOLVED_RETENTION_DAYS,
  DynamoExceptionStore,
  type ParkedInput,
} from '#shared/repositories/exceptions.ts';
import { LedgerRepository } from '#shared/repositories/ledger.ts';
import { PrivacyRequestStore } from '#shared/repositories/privacy-requests.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

/**
 * The exceptions table as the stack declares it (keys, TTL and the subject index taken from the
 * synthesized resource), in DynamoDB Local: finding parked inputs by subject, redacting and deleting
 * them, and the expiry a resolution sets.
 */
const { client, document } = localDynamo();
const SHOP = 'acme.myshopify.com';
const ORDER_BODY = shopifyWebhookBody('orders/create');
let exceptionsTable: string;
let requestsTable: string;
let ledgerTable: string;

async function createExceptionsTable(): Promise<string> {
  const stack = new Stack(new App(), 'PrivacyTables');
  withSubjectIndex(
    new HubTable(stack, 'ExceptionsTable', {
      partitionKey: 'pk',
      sortKey: 'sk',
      timeToLiveAttribute: 'expiresAt',
      pointInTimeRecovery: false,
      removalPolicy: RemovalPolicy.DESTROY,
    }),
  );
  const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::DynamoDB::Table'));
  const name = `exceptions-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
  await client.send(new CreateTableCommand(createTableInput(name, resource?.Properties)));
  return name;
}

beforeAll(async () => {
  exceptionsTable = await createExceptionsTable();
  requestsTable = await createPkSkTable(client, 'privacy-requests');
  ledgerTable = await createPkSkTable(client, 'ledger');
});

const store = () => new DynamoExceptionStore(document, exceptionsTable);

/** A Shopify order parked by the ingress, tagged as the ingress tags it. */
function parkedOrder(inputId: string, shop = SHOP, body = ORDER_BODY): ParkedInput {
  return {
    kind: 'shopify-webhook',
    inputId,
    at: '2026-11-27T12:00:00.000Z',
    code: 'MAPPING_FAILED',
    reason: 'amount in EUR on an order in USD',
    issues: [],
    transactionId: 'tx',
    attributes: { topic: 'orders/create', shopDomain: shop },
    payload: Buffer.from(body),
    subjects: {
      system: 'shopify',
      account: shop,
      ...shopifyPayloadSubjects('orders/create', parseShopifyJson(body)),
    },
  };
}

/** A canonical order event parked by the ERP sync (what `replayParkedOrders` replays). */
const parkedOrderEvent = (inputId: string): ParkedInput => ({
  ...parkedOrder(inputId),
  kind: 'erp-order',
  payload: Buffer.from(JSON.stringify({ detail: { metadata: { idempotencyKey: `k-${inputId}` } } })),
});

const rawItem = async (kind: string, sk: string) =>
  (await document.send(new GetCommand({ TableName: exceptionsTable, Key: { pk: `EXC#${kind}`, sk } }))).Item;

describe('DynamoExceptionStore: subjects (DynamoDB Local)', () => {
  it('finds parked inputs by shop, by order id (numeric or GID) and by customer id, and nothing of another shop', async () => {
    const exceptions = store();
    const shop = `find-${Date.now()}.myshopify.com`;
    const { exceptionId } = await exceptions.park(parkedOrder('find-1', shop));
    await exceptions.park(parkedOrder('find-2', `other-${shop}`));
    await exceptions.park({
      ...parkedOrder('untagged', shop),
      subjects: undefined,
    } as unknown as ParkedInput);

    const ids = async (match?: { orderIds?: string[]; customerIds?: string[] }) =>
      (await exceptions.findBySubject('shopify', shop, match)).map((ref) => ref.exceptionId);
    expect(await ids()).toEqual([exceptionId]);
    expect(await ids({ orderIds: ['820982911946154508'] })).toEqual([exceptionId]);
    expect(await ids({ orderIds: ['820982911946154500'] })).toEqual([exceptionId]);
    expect(await ids({ customerIds: ['115310627314723954'] })).toEqual([exceptionId]);
    expect(await ids({ orderIds: ['1'], customerIds: ['2'] })).toEqual([]);
    expect(await exceptions.findBySubject('pos', shop)).toEqual([]);
  });

  it('keeps the index free of payloads: it projects keys and subject tags only', async () => {
    const exceptions = store();
    const shop = `projection-${Date.now()}.myshopify.com`;
    await exceptions.park(parkedOrder('p-1', shop));
    const page = await document.send(
      new QueryCommand({
        TableName: exceptionsTable,
        IndexName: 'BySubjectAccount',
        KeyConditionExpression: 'subjectAccount = :a',
        ExpressionAttributeValues: { ':a': `shopify#${shop}` },
      }),
    );
    expect(Object.keys(page.Items?.[0] ?? {}).sort()).toEqual(['pk', 'sk', 'subjectAccount', 'subjects']);
  });
});

describe('DynamoExceptionStore: redaction (DynamoDB Local)', () => {
  it('rewrites the payload of the item that was read, keeping its status and reason', async () => {
    const exceptions = store();
    const { exceptionId } = await exceptions.park(parkedOrder('redact-1'));
    const sk = exceptionId.slice('shopify-webhook/'.length);
    const read = await exceptions.get('shopify-webhook', sk);
    if (!read) throw new Error('parked item not found');
    const redacted = Buffer.from(JSON.stringify(redactContactData(parseShopifyJson(ORDER_BODY)).value));

    expect(
      await exceptions.replacePayload(read, redacted, { by: 'event-1', at: '2026-12-01T00:00:00.000Z' }),
    ).toBe(true);

    const after = await exceptions.get('shopify-webhook', sk);
    expect(after?.payload.toString()).not.toContain('jon@example.com');
    expect(after).toMatchObject({ status: 'PARKED', code: 'MAPPING_FAILED', parkedAt: read.parkedAt });
    expect(await rawItem('shopify-webhook', sk)).toMatchObject({ redactedBy: 'event-1' });
  });

  it('refuses to rewrite an item parked again since it was read', async () => {
    const exceptions = store();
    const { exceptionId } = await exceptions.park(parkedOrder('redact-2'));
    const sk = exceptionId.slice('shopify-webhook/'.length);
    const read = await exceptions.get('shopify-webhook', sk);
    if (!read) throw new Error('parked item not found');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await exceptions.park(parkedOrder('redact-2'));

    expect(await exceptions.replacePayload(read, Buffer.from('{}'), { by: 'e', at: 'now' })).toBe(false);
    expect((await exceptions.get('shopify-webhook', sk))?.payload.toString()).toBe(ORDER_BODY);
  });

  it('replaces a payload kept in parts by an inline one, and deletes the parts', async () => {
    const exceptions = store();
    const big = JSON.stringify({ id: '1', filler: randomBytes(600 * 1024).toString('base64') });
    const { exceptionId } = await exceptions.park({
      ...parkedOrder('redact-parts'),
      payload: Buffer.from(big),
    });
    const sk = exceptionId.slice('shopify-webhook/'.length);
    const read = await exceptions.get('shopify-webhook', sk);
    if (!read) throw new Error('parked item not found');
    expect(read.payload.toString()).toBe(big);

    expect(await exceptions.replacePayload(read, Buffer.from('{"id":"1"}'), { by: 'e', at: 'now' })).toBe(
      true,
    );

    expect((await exceptions.get('shopify-webhook', sk))?.payload.toString()).toBe('{"id":"1"}');
    expect(await rawItem('shopify-webhook', `${sk}#part#0`)).toBeUndefined();
    expect((await rawItem('shopify-webhook', sk))?.payloadParts).toBeUndefined();
  });

  it('deletes an item with its parts', async () => {
    const exceptions = store();
    const big = randomBytes(600 * 1024);
    const { exceptionId } = await exceptions.park({ ...parkedOrder('delete-1'), payload: big });
    const sk = exceptionId.slice('shopify-webhook/'.length);
    await exceptions.delete('shopify-webhook', sk);
    expect(await rawItem('shopify-webhook', sk)).toBeUndefined();
    expect(await rawItem('shopify-webhook', `${sk}#part#0`)).toBeUndefined();
  });
});

describe('DynamoExceptionStore: expiry after resolution (DynamoDB Local)', () => {
  const day = 86_400;

  it('keeps a parked item without expiry; a replay sets one 30 days out; a reverted replay removes it', async () => {
    const exceptions = store();
    const at = new Date('2026-12-01T00:00:00.000Z');
    const { exceptionId } = await exceptions.park(parkedOrderEvent('ttl-1'));
    const sk = exceptionId.slice('erp-order/'.length);
    expect((await rawItem('erp-order', sk))?.expiresAt).toBeUndefined();

    const sent: string[] = [];
    const result = await replayParkedOrders(
      { exceptions, send: async (body) => void sent.push(body), now: () => at },
      (exception) => exception.sk === sk,
    );

    expect(result.replayed).toEqual([exceptionId]);
    const replayed = await rawItem('erp-order', sk);
    expect(replayed).toMatchObject({ status: 'REPLAYED' });
    expect(replayed?.expiresAt).toBe(at.getTime() / 1000 + DEFAULT_RESOLVED_RETENTION_DAYS * day);

    expect(await exceptions.markReplayed('erp-order', sk, { revert: true })).toBe(true);
    const reverted = await rawItem('erp-order', sk);
    expect(reverted).toMatchObject({ status: 'PARKED' });
    expect(reverted?.expiresAt).toBeUndefined();
  });

  it('takes the retention from the environment', async () => {
    const exceptions = store();
    const at = new Date('2026-12-01T00:00:00.000Z');
    const { exceptionId } = await exceptions.park(parkedOrderEvent('ttl-2'));
    const sk = exceptionId.slice('erp-order/'.length);
    await replayParkedOrders(
      { exceptions, send: async () => {}, now: () => at, resolvedRetentionDays: 7 },
      (exception) => exception.sk === sk,
    );
    expect((await rawItem('erp-order', sk))?.expiresAt).toBe(at.getTime() / 1000 + 7 * day);
  });

  it('dismisses a parked item once, with its reason and expiry; it is no longer listed as parked', async () => {
    const exceptions = store();
    const { exceptionId } = await exceptions.park({ ...parkedOrder('ttl-3'), kind: 'dismiss-test' });
    const sk = exceptionId.slice('dismiss-test/'.length);
    expect(
      await exceptions.markDismissed('dismiss-test', sk, {
        reason: 'booked by hand',
        expiresAt: 1_800_000_000,
      }),
    ).toBe(true);
    expect(await exceptions.markDismissed('dismiss-test', sk, { reason: 'again', expiresAt: 1 })).toBe(false);
    expect(await rawItem('dismiss-test', sk)).toMatchObject({
      status: 'DISMISSED',
      dismissedReason: 'booked by hand',
      expiresAt: 1_800_000_000,
    });
    expect(await exceptions.listParked('dismiss-test')).toEqual([]);
  });
});

describe('privacy requests end to end on the repositories (DynamoDB Local)', () => {
  const event = (detailType: string, data: Record<string, unknown>, eventId: string) =>
    ComplianceBusEventSchema.parse({
      id: eventId,
      'detail-type': detailType,
      source: 'omnihub.shopify',
      detail: {
        metadata: {
          eventId,
          schemaVersion: '2.0',
          transactionId: 'tx',
          idempotencyKey: 'k',
          occurredAt: '2026-11-30T10:00:00.000Z',
          receivedAt: '2026-11-30T10:00:01.000Z',
          origin: { system: 'shopify', account: data.account },
        },
        data,
      },
    });
  const deps = () => ({
    exceptions: store(),
    ledger: new LedgerRepository(document, ledgerTable),
    audit: new PrivacyRequestStore(document, requestsTable),
    telemetry: { count: () => {} },
    log: { info: () => {}, warn: () => {}, error: () => {} },
  });

  it("redacts a customer's parked order and records the request once, however often it runs", async () => {
    const shop = `e2e-${Date.now()}.myshopify.com`;
    const { exceptionId } = await store().park(parkedOrder('flow-1', shop));
    const redact = event(
      'CustomerRedactionRequested',
      { account: shop, shopId: '1', customer: { id: '115310627314723950' }, orderIds: [] },
      '6f1d1c8e-2a55-8b1e-9f00-0123456789ab',
    );

    await handleComplianceRequest(redact, deps());
    await handleComplianceRequest(redact, deps());

    const sk = exceptionId.slice('shopify-webhook/'.length);
    const payload = (await store().get('shopify-webhook', sk))?.payload.toString() ?? '';
    expect(payload).not.toMatch(/jon@example\.com|john@example\.com|123 Shipping Street|555-555-SHIP/);
    expect(parseShopifyJson(payload)).toMatchObject({ id: '820982911946154500', name: '#9999' });
    const [record, ...more] = await new PrivacyRequestStore(document, requestsTable).list('shopify', shop);
    expect(more).toEqual([]);
    expect(record).toMatchObject({
      detailType: 'CustomerRedactionRequested',
      runs: 2,
      matched: [exceptionId],
      redacted: [exceptionId],
      deleted: [],
      subject: { shopId: '1', customerId: '115310627314723950', orderIds: [] },
    });
    expect(record?.removedFields).toEqual(
      expect.arrayContaining(['$.email', '$.billing_address', '$.customer.email']),
    );
  });

  it("deletes a shop's parked inputs on shop redaction", async () => {
    const shop = `gone-${Date.now()}.myshopify.com`;
    const { exceptionId } = await store().park(parkedOrder('flow-2', shop));
    await handleComplianceRequest(
      event('ShopRedactionRequested', { account: shop, shopId: '2' }, '7f1d1c8e-2a55-8b1e-9f00-0123456789ab'),
      deps(),
    );
    expect(await store().findBySubject('shopify', shop)).toEqual([]);
    expect(
      await store().get('shopify-webhook', exceptionId.slice('shopify-webhook/'.length)),
    ).toBeUndefined();
    const [record] = await new PrivacyRequestStore(document, requestsTable).list('shopify', shop);
    expect(record).toMatchObject({ detailType: 'ShopRedactionRequested', deleted: [exceptionId] });
  });
});
