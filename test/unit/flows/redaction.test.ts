import { describe, expect, it } from 'vitest';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import {
  type ComplianceBusEvent,
  ComplianceBusEventSchema,
  handleComplianceRequest,
  RedactionConflictError,
  type RedactionDeps,
  UnsupportedComplianceEventError,
} from '#shared/flows/redaction.ts';
import type { ExceptionRef, ParkedException, ParkedSubjects } from '#shared/repositories/exceptions.ts';
import type { LedgerEntry } from '#shared/repositories/ledger.ts';
import type { PrivacyRequestRun } from '#shared/repositories/privacy-requests.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';

const SHOP = 'acme.myshopify.com';
const ORDER_BODY = shopifyWebhookBody('orders/create');

type ExceptionsPort = RedactionDeps['exceptions'];

/** Parked exceptions in memory, with the repository's subject matching and conditional rewrite. */
class MemoryExceptions implements ExceptionsPort {
  readonly items = new Map<string, { exception: ParkedException; subjects: ParkedSubjects }>();
  /** Simulates a re-park between the read and the rewrite of this exception id. */
  reparkOnWrite = new Set<string>();

  add(
    kind: string,
    inputId: string,
    payload: string,
    subjects: ParkedSubjects,
    status: ParkedException['status'] = 'PARKED',
  ) {
    const sk = `2026-11-27T12:00:00.000Z#${inputId}`;
    const exception: ParkedException = {
      kind,
      sk,
      exceptionId: `${kind}/${sk}`,
      inputId,
      status,
      code: 'MAPPING_FAILED',
      reason: 'r',
      attributes: {},
      replayCount: 0,
      parkedAt: '2026-11-27T12:00:01.000Z',
      payload: Buffer.from(payload),
    };
    this.items.set(exception.exceptionId, { exception, subjects });
    return exception.exceptionId;
  }

  payload(exceptionId: string): string {
    return this.items.get(exceptionId)?.exception.payload.toString('utf8') ?? '';
  }

  async findBySubject(
    system: ParkedSubjects['system'],
    account: string,
    match?: Pick<ParkedSubjects, 'orderIds' | 'customerIds'>,
  ): Promise<ExceptionRef[]> {
    return [...this.items.values()]
      .filter(({ subjects }) => subjects.system === system && subjects.account === account)
      .filter(
        ({ subjects }) =>
          !match ||
          (subjects.orderIds ?? []).some((id) => match.orderIds?.includes(id)) ||
          (subjects.customerIds ?? []).some((id) => match.customerIds?.includes(id)),
      )
      .map(({ exception: { kind, sk, exceptionId } }) => ({ kind, sk, exceptionId }));
  }

  async get(kind: string, sk: string) {
    return this.items.get(`${kind}/${sk}`)?.exception;
  }

  async replacePayload(exception: ParkedException, payload: Buffer) {
    const stored = this.items.get(exception.exceptionId);
    if (!stored || this.reparkOnWrite.has(exception.exceptionId)) return false;
    stored.exception = { ...stored.exception, payload };
    return true;
  }

  async delete(kind: string, sk: string) {
    this.items.delete(`${kind}/${sk}`);
  }
}

function harness(ledger: Record<string, Partial<LedgerEntry>> = {}) {
  const exceptions = new MemoryExceptions();
  const runs: PrivacyRequestRun[] = [];
  const counts = new Map<string, number>();
  const deps: RedactionDeps = {
    exceptions,
    ledger: { get: async (key) => ledger[key] as LedgerEntry | undefined },
    audit: { record: async (run) => void runs.push(run) },
    telemetry: { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => new Date('2026-12-01T00:00:00.000Z'),
  };
  return { deps, exceptions, runs, counts };
}

const metadata = (schemaVersion = '2.0') => ({
  eventId: '3f1d1c8e-2a55-8b1e-9f00-0123456789ab',
  schemaVersion,
  transactionId: 'tx-1',
  idempotencyKey: 'k',
  occurredAt: '2026-11-30T10:00:00.000Z',
  receivedAt: '2026-11-30T10:00:01.000Z',
  origin: { system: 'shopify', account: SHOP },
});

const busEvent = (
  detailType: string,
  data: Record<string, unknown>,
  schemaVersion?: string,
): ComplianceBusEvent =>
  ComplianceBusEventSchema.parse({
    id: 'eb-1',
    'detail-type': detailType,
    source: 'omnihub.shopify',
    detail: { metadata: metadata(schemaVersion), data },
  });

const redactCustomer = (customerId: string, orderIds: string[]) =>
  busEvent('CustomerRedactionRequested', {
    account: SHOP,
    shopId: '954889',
    customer: { id: customerId },
    orderIds,
  });

const shopSubjects = (orderIds: string[], customerIds: string[]): ParkedSubjects => ({
  system: 'shopify',
  account: SHOP,
  orderIds,
  customerIds,
});

describe('handleComplianceRequest', () => {
  describe('CustomerRedactionRequested', () => {
    it("removes the contact data from the customer's parked orders, resolved or not, and leaves the rest alone", async () => {
      const { deps, exceptions, runs } = harness();
      const byOrder = exceptions.add('shopify-webhook', 'w1', ORDER_BODY, shopSubjects(['500'], []));
      const byCustomer = exceptions.add(
        'shopify-webhook',
        'w2',
        ORDER_BODY,
        shopSubjects([], ['77']),
        'REPLAYED',
      );
      const other = exceptions.add('shopify-webhook', 'w3', ORDER_BODY, shopSubjects(['999'], ['88']));
      const otherShop = exceptions.add('shopify-webhook', 'w4', ORDER_BODY, {
        ...shopSubjects(['500'], ['77']),
        account: 'other.myshopify.com',
      });

      const outcome = await handleComplianceRequest(redactCustomer('77', ['500']), deps);

      expect(outcome).toEqual({
        detailType: 'CustomerRedactionRequested',
        matched: 2,
        redacted: 2,
        deleted: 0,
      });
      for (const id of [byOrder, byCustomer]) {
        expect(exceptions.payload(id)).not.toContain('jon@example.com');
        expect(exceptions.payload(id)).not.toContain('123 Shipping Street');
        // Still the order: what booking reads is there.
        expect(parseShopifyJson(exceptions.payload(id))).toMatchObject({
          name: '#9999',
          line_items: expect.any(Array),
        });
      }
      for (const id of [other, otherShop]) expect(exceptions.payload(id)).toBe(ORDER_BODY);
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({
        detailType: 'CustomerRedactionRequested',
        account: SHOP,
        subject: { shopId: '954889', customerId: '77', orderIds: ['500'] },
        requestedAt: '2026-11-30T10:00:00.000Z',
        processedAt: '2026-12-01T00:00:00.000Z',
        matched: [byOrder, byCustomer],
        redacted: [byOrder, byCustomer],
        deleted: [],
      });
      expect(runs[0]?.removedFields).toEqual(expect.arrayContaining(['$.email', '$.shipping_address']));
    });

    it('is idempotent: run again, it redacts nothing more and records a run that removed nothing', async () => {
      const { deps, exceptions, runs } = harness();
      const id = exceptions.add('shopify-webhook', 'w1', ORDER_BODY, shopSubjects(['500'], []));
      await handleComplianceRequest(redactCustomer('77', ['500']), deps);
      const once = exceptions.payload(id);

      const again = await handleComplianceRequest(redactCustomer('77', ['500']), deps);

      expect(again).toMatchObject({ matched: 1, redacted: 0 });
      expect(exceptions.payload(id)).toBe(once);
      expect(runs[1]).toMatchObject({ matched: [id], redacted: [], removedFields: [] });
    });

    it('fails the record when the exception was parked again meanwhile, so SQS retries it', async () => {
      const { deps, exceptions, runs } = harness();
      const id = exceptions.add('shopify-webhook', 'w1', ORDER_BODY, shopSubjects(['500'], []));
      exceptions.reparkOnWrite.add(id);
      await expect(handleComplianceRequest(redactCustomer('77', ['500']), deps)).rejects.toBeInstanceOf(
        RedactionConflictError,
      );
      expect(runs).toEqual([]);
    });

    it('names a payload that is not JSON instead of guessing, and keeps it', async () => {
      const { deps, exceptions, runs } = harness();
      const id = exceptions.add('pos-webhook', 'p1', 'not json', shopSubjects(['500'], []));
      await handleComplianceRequest(redactCustomer('77', ['500']), deps);
      expect(exceptions.payload(id)).toBe('not json');
      expect(runs[0]).toMatchObject({ unreadable: [id], redacted: [] });
    });
  });

  describe('ShopRedactionRequested', () => {
    it("deletes every parked input of the shop, and only the shop's", async () => {
      const { deps, exceptions, runs, counts } = harness();
      const mine = [
        exceptions.add('shopify-webhook', 'w1', ORDER_BODY, shopSubjects(['1'], ['2'])),
        exceptions.add('erp-order', 'e1', '{}', shopSubjects(['3'], [])),
      ];
      const theirs = exceptions.add('shopify-webhook', 'w2', ORDER_BODY, {
        ...shopSubjects([], []),
        account: 'other.myshopify.com',
      });

      const outcome = await handleComplianceRequest(
        busEvent('ShopRedactionRequested', { account: SHOP, shopId: '954889' }, '1.0'),
        deps,
      );

      expect(outcome).toMatchObject({ matched: 2, deleted: 2 });
      expect([...exceptions.items.keys()]).toEqual([theirs]);
      expect(runs[0]).toMatchObject({ subject: { shopId: '954889' }, deleted: mine, redacted: [] });
      expect(counts.get('ExceptionsDeleted')).toBe(2);
    });
  });

  describe('CustomerDataRequested', () => {
    it('records what the hub holds — which fields, not their values — and the booked orders, changing nothing', async () => {
      const key = `ORDER#shopify#${SHOP}#500`;
      const { deps, exceptions, runs } = harness({
        [key]: {
          recordType: 'salesOrder',
          erpInternalId: '42',
          externalId: 'shopify-x-500',
          syncedAt: '2026-11-28T00:00:00.000Z',
        },
      });
      const id = exceptions.add('shopify-webhook', 'w1', ORDER_BODY, shopSubjects(['500'], []));

      await handleComplianceRequest(
        busEvent('CustomerDataRequested', {
          account: SHOP,
          shopId: '954889',
          requestId: '9999',
          customer: { id: '77' },
          orderIds: ['500', '501'],
        }),
        deps,
      );

      expect(exceptions.payload(id)).toBe(ORDER_BODY);
      const held = runs[0]?.held;
      expect(held?.exceptions).toEqual([
        expect.objectContaining({
          exceptionId: id,
          kind: 'shopify-webhook',
          status: 'PARKED',
          code: 'MAPPING_FAILED',
        }),
      ]);
      expect(held?.exceptions[0]?.contactFields).toEqual(
        expect.arrayContaining(['$.email', '$.billing_address']),
      );
      expect(held?.ledger).toEqual([
        {
          orderId: '500',
          recordType: 'salesOrder',
          erpInternalId: '42',
          externalId: 'shopify-x-500',
          syncedAt: '2026-11-28T00:00:00.000Z',
        },
      ]);
      expect(JSON.stringify(runs[0])).not.toContain('jon@example.com');
      expect(runs[0]?.subject).toEqual({
        shopId: '954889',
        customerId: '77',
        orderIds: ['500', '501'],
        requestId: '9999',
      });
    });
  });

  describe('events', () => {
    it('reads a 1.0 event (email and phone included) as ids only', () => {
      const event = busEvent(
        'CustomerRedactionRequested',
        { account: SHOP, shopId: '1', customer: { id: '77', email: 'a@b.c', phone: '+1' }, orderIds: [] },
        '1.0',
      );
      expect(JSON.stringify(event)).not.toMatch(/a@b\.c/);
    });

    it('refuses a major version it does not know (the record goes to the DLQ, never skipped)', async () => {
      const { deps } = harness();
      await expect(
        handleComplianceRequest(
          busEvent('ShopRedactionRequested', { account: SHOP, shopId: '1' }, '3.0'),
          deps,
        ),
      ).rejects.toBeInstanceOf(UnsupportedComplianceEventError);
    });

    it('refuses an event that is not a compliance event from Shopify', () => {
      const base = { id: 'x', detail: { metadata: metadata(), data: { account: SHOP, shopId: '1' } } };
      expect(
        ComplianceBusEventSchema.safeParse({
          ...base,
          'detail-type': 'OrderCreated',
          source: 'omnihub.shopify',
        }).success,
      ).toBe(false);
      expect(
        ComplianceBusEventSchema.safeParse({
          ...base,
          'detail-type': 'ShopRedactionRequested',
          source: 'omnihub.pos',
        }).success,
      ).toBe(false);
    });
  });
});
