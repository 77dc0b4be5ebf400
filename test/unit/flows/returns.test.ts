import { describe, expect, it } from 'vitest';
import type { Refund } from '#shared/events/refund.ts';
import { startFromShopifyRefund } from '#shared/flows/returns/start.ts';
import { runReturnStep } from '#shared/flows/returns/step-runner.ts';
import {
  bookCreditMemo,
  matchReturn,
  type ReturnState,
  ReturnStepFailed,
  ReturnStepRetryable,
} from '#shared/flows/returns/steps.ts';
import { returnFromShopifyRefund } from '#shared/flows/returns/trigger.ts';
import type { ErpReturnPort } from '#shared/ports/erp.ts';
import { ErpUnavailableError, UnknownMappingError } from '#shared/ports/erp-errors.ts';
import type { LedgerEntry } from '#shared/repositories/ledger.ts';
import { RecordingExceptions, RecordingPublisher } from '#test/support/ingress-fakes.ts';

const usd = (amount: number) => ({ amount, currency: 'USD' });
const SHOP = 'acme.myshopify.com';
const refund = (lines: Partial<Refund['lines'][number]>[], returnId: string | null = null): Refund => ({
  source: { system: 'shopify', account: SHOP, refundId: '900', orderId: '500' },
  returnId,
  currency: 'USD',
  note: null,
  restock: true,
  lines: lines.map((line, index) => ({
    lineId: `rl${index}`,
    orderLineId: `ol${index}`,
    sku: `SKU-${index}`,
    quantity: 1,
    restockType: 'return',
    locationId: '77',
    subtotal: usd(1000),
    tax: usd(80),
    ...line,
  })),
  shipping: usd(0),
  adjustments: [],
  transactions: [],
  total: usd(1080 * lines.length),
  createdAt: '2026-11-28T10:00:00.000Z',
  processedAt: null,
});
const silent = { count: () => {} };
const log = { info: () => {}, warn: () => {}, error: () => {} };

const requestOf = (r: Refund) => {
  const decision = returnFromShopifyRefund(r);
  if (decision.kind !== 'return') throw new Error(decision.reason);
  return decision.request;
};

describe('return triggers (Shopify refunds)', () => {
  it('turns a refund that restocks returned units into a return Shopify already refunded, keyed by the refund', () => {
    const request = requestOf(refund([{}, { restockType: 'no_restock', locationId: null }], '4242'));
    expect(request).toMatchObject({
      returnId: `shopify-${SHOP}-900`,
      trigger: { system: 'shopify', id: '900', shopifyReturnId: '4242' },
      order: { orderId: '500' },
      location: { system: 'shopify', id: '77' },
      shopifyRefunded: true,
      total: usd(2160),
    });
    expect(request.lines.map((line) => line.disposition)).toEqual(['restock', 'damaged']);
    // A return's refund records no restock: the location on a no_restock line is the RESTOCKED disposition's.
    const processed = requestOf(
      refund([{ restockType: 'no_restock' }, { restockType: 'no_restock', locationId: null }], '1'),
    );
    expect(processed.lines.map((line) => line.disposition)).toEqual(['restock', 'damaged']);
  });

  it('ignores refunds that return nothing: cancellations and goodwill refunds', () => {
    expect(returnFromShopifyRefund(refund([{ restockType: 'cancel' }])).kind).toBe('ignored');
    expect(returnFromShopifyRefund(refund([{ restockType: 'no_restock' }])).kind).toBe('ignored');
    expect(returnFromShopifyRefund(refund([])).kind).toBe('ignored');
    // …but a refund that processes a Shopify return is one, whatever its restock types.
    expect(returnFromShopifyRefund(refund([{ restockType: 'no_restock' }], '1')).kind).toBe('return');
  });

  it('starts one execution per return id and publishes ReturnRequested; a repeated trigger starts nothing new', async () => {
    const publisher = new RecordingPublisher();
    const names = new Set<string>();
    const deps = {
      publisher,
      startExecution: async (name: string) => !names.has(name) && Boolean(names.add(name)),
      telemetry: silent,
      log,
    };
    const body = {
      id: 'e',
      'detail-type': 'RefundCreated',
      source: 'omnihub.shopify',
      detail: {
        metadata: {
          eventId: '00000000-0000-4000-8000-000000000001',
          schemaVersion: '1.1',
          transactionId: 'tx',
          idempotencyKey: 'k',
          occurredAt: '2026-11-28T10:00:00.000Z',
          receivedAt: '2026-11-28T10:00:01.000Z',
          origin: { system: 'shopify', account: SHOP },
        },
        data: refund([{}]),
      },
    };
    expect(await startFromShopifyRefund(body, deps)).toEqual({
      status: 'started',
      returnId: `shopify-${SHOP}-900`,
    });
    expect(await startFromShopifyRefund(body, deps)).toMatchObject({ status: 'duplicate' });
    expect(names.size).toBe(1);
    // The same event id both times: consumers of ReturnRequested see one event.
    expect(new Set(publisher.published.map((e) => e.detail.metadata.eventId)).size).toBe(1);
    expect(publisher.published[0]?.detailType).toBe('ReturnRequested');
  });
});

const booked: LedgerEntry = {
  orderKey: `ORDER#shopify#${SHOP}#500`,
  erpInternalId: '31',
  externalId: `shopify-${SHOP}-500`,
  recordType: 'salesOrder',
  version: 1,
  status: 'open',
  syncedAt: '2026-11-27T10:00:00.000Z',
  transactionId: 't',
  staleIgnored: 0,
  erpLines: { 'line-ol0': '1', 'line-ol1': '2' },
};
const ledgerWith = (entry?: LedgerEntry) => ({
  get: async (key: string) => (key === entry?.orderKey ? entry : undefined),
});

describe('return steps', () => {
  it('matches the order through its booked sales order and every line through its ERP line key', async () => {
    const request = requestOf(refund([{}, {}]));
    expect(await matchReturn(request, { ledger: ledgerWith(booked) })).toEqual({
      matched: true,
      salesOrder: { internalId: '31', externalId: booked.externalId, recordType: 'salesOrder' },
    });
    expect(await matchReturn(request, { ledger: ledgerWith() })).toMatchObject({
      matched: false,
      code: 'RETURN_ORDER_NOT_BOOKED',
    });
    const stranger = requestOf(refund([{ orderLineId: 'ol9' }]));
    expect(await matchReturn(stranger, { ledger: ledgerWith(booked) })).toMatchObject({
      matched: false,
      code: 'RETURN_LINE_NOT_IN_ORDER',
      reason: expect.stringContaining('ol9'),
    });
    const cashSale = { ...booked, recordType: 'cashSale' };
    expect(await matchReturn(request, { ledger: ledgerWith(cashSale) })).toMatchObject({ matched: false });
  });

  const matchedState = (): ReturnState => ({
    request: requestOf(refund([{}])),
    match: { matched: true, salesOrder: { internalId: '31', externalId: 'x', recordType: 'salesOrder' } },
  });
  const erpThat = (fail?: Error): ErpReturnPort => ({
    recordReturnCreditMemo: async (request) => {
      if (fail) throw fail;
      return { internalId: '9', externalId: `return-${request.returnId}`, recordType: 'creditMemo' };
    },
  });

  it('books the credit memo; an outage is retryable, a missing mapping is not', async () => {
    expect(await bookCreditMemo(matchedState(), { erp: erpThat(), transactionId: 't' })).toEqual({
      internalId: '9',
      externalId: `return-shopify-${SHOP}-900`,
    });
    await expect(
      bookCreditMemo(matchedState(), {
        erp: erpThat(new ErpUnavailableError('down', 503, undefined)),
        transactionId: 't',
      }),
    ).rejects.toBeInstanceOf(ReturnStepRetryable);
    const unmapped = bookCreditMemo(matchedState(), {
      erp: erpThat(new UnknownMappingError([{ kind: 'item', key: 'SKU-0' }])),
      transactionId: 't',
    });
    await expect(unmapped).rejects.toBeInstanceOf(ReturnStepFailed);
    await expect(unmapped).rejects.toThrow(/UNKNOWN_MAPPING/);
    // Lambda reports the error's name as its type: the state machine's Retry/Catch match on it.
    expect(new ReturnStepRetryable('x').name).toBe('ReturnStepRetryable');
  });

  it('restocks returned lines at the returning location once (movement id = return + line); damaged lines move nothing', async () => {
    const publisher = new RecordingPublisher();
    const deps = {
      ledger: ledgerWith(booked),
      exceptions: new RecordingExceptions(),
      publisher,
      telemetry: silent,
      log,
    };
    const state: ReturnState = {
      request: requestOf(refund([{ quantity: 2 }, { restockType: 'no_restock' }])),
    };
    expect(await runReturnStep({ action: 'disposition', state }, deps)).toEqual({ restocked: 1 });
    // The recording publisher keeps stock events apart (`stock`) from the others.
    expect(publisher.published).toEqual([]);
    expect(publisher.stock.map((e) => [e.detailType, e.source, e.detail.data])).toEqual([
      [
        'InventoryAdjusted',
        'omnihub.hub',
        expect.objectContaining({
          item: { sku: 'SKU-0' },
          location: { system: 'shopify', id: '77' },
          delta: 2,
          reason: 'return',
          movementId: `return:shopify-${SHOP}-900:rl0`,
        }),
      ],
    ]);
    await runReturnStep({ action: 'disposition', state }, deps);
    expect(publisher.stock[0]?.detail.metadata.eventId).toBe(publisher.stock[1]?.detail.metadata.eventId);
  });

  it('emits ReturnCompleted with the credit memo, and refuses to without one', async () => {
    const publisher = new RecordingPublisher();
    const deps = {
      ledger: ledgerWith(booked),
      exceptions: new RecordingExceptions(),
      publisher,
      telemetry: silent,
      log,
    };
    const state: ReturnState = { ...matchedState(), erp: { internalId: '9', externalId: 'return-x' } };
    await runReturnStep({ action: 'complete', state }, deps);
    expect(publisher.published[0]).toMatchObject({
      detailType: 'ReturnCompleted',
      detail: { data: { erp: { creditMemoInternalId: '9' }, returnId: `shopify-${SHOP}-900` } },
    });
    await expect(runReturnStep({ action: 'complete', state: matchedState() }, deps)).rejects.toBeInstanceOf(
      ReturnStepFailed,
    );
  });

  it('parks with the reason and, for the ERP step, the task token a replay sends back', async () => {
    const exceptions = new RecordingExceptions();
    const deps = {
      ledger: ledgerWith(),
      exceptions,
      publisher: new RecordingPublisher(),
      telemetry: silent,
      log,
    };
    const state: ReturnState = {
      ...matchedState(),
      failure: { Error: 'ReturnStepRetryable', Cause: '{"errorMessage":"ERP_UNAVAILABLE: down"}' },
    };
    await runReturnStep(
      { action: 'park', why: 'ERP_FAILED', state, executionArn: 'arn:exec', taskToken: 'tok' },
      deps,
    );
    expect(exceptions.parked[0]).toMatchObject({
      kind: 'return',
      code: 'RETURN_ERP_FAILED',
      reason: expect.stringContaining('ERP_UNAVAILABLE'),
      attributes: { taskToken: 'tok', executionArn: 'arn:exec' },
    });
    const unmatched: ReturnState = {
      request: state.request,
      match: { matched: false, code: 'RETURN_ORDER_NOT_BOOKED', reason: 'r' },
    };
    await runReturnStep(
      { action: 'park', why: 'NOT_MATCHED', state: unmatched, executionArn: 'arn:exec' },
      deps,
    );
    expect(exceptions.parked[1]).toMatchObject({ code: 'RETURN_ORDER_NOT_BOOKED', reason: 'r' });
  });
});
