import { describe, expect, it } from 'vitest';
import type { Refund } from '#shared/events/refund.ts';
import { type RefundBusEvent, SALE_WAIT_MS, syncPosRefund } from '#shared/flows/refund-sync.ts';
import type { ErpRecordRef, ErpRefundPort } from '#shared/ports/erp.ts';
import { UnknownMappingError } from '#shared/ports/erp-errors.ts';
import type { LedgerEntry } from '#shared/repositories/ledger.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';

const usd = (amount: number) => ({ amount, currency: 'USD' });
const refund: Refund = {
  source: { system: 'pos', account: 'M1', refundId: 'P1_r1', orderId: 'SALE1' },
  currency: 'USD',
  note: null,
  restock: false,
  lines: [],
  shipping: usd(0),
  adjustments: [],
  transactions: [],
  total: usd(1350),
  createdAt: '2026-11-27T11:00:00.000Z',
  processedAt: '2026-11-27T11:00:02.000Z',
};
const event: RefundBusEvent = {
  id: 'e1',
  'detail-type': 'RefundCreated',
  source: 'omnihub.pos',
  detail: {
    metadata: {
      eventId: '00000000-0000-4000-8000-000000000001',
      schemaVersion: '1.0',
      transactionId: '00000000-0000-4000-8000-000000000002',
      idempotencyKey: 'pos:M1:refund:P1_r1',
      occurredAt: '2026-11-27T11:00:02.000Z',
      receivedAt: '2026-11-27T11:00:03.000Z',
      origin: { system: 'pos', account: 'M1', topic: 'refund.updated' },
    },
    data: refund,
  },
};
const cashSale: LedgerEntry = {
  orderKey: 'ORDER#pos#M1#SALE1',
  erpInternalId: '501',
  externalId: 'pos-M1-SALE1',
  recordType: 'cashSale',
  version: 1,
  status: 'closed',
  syncedAt: '2026-11-27T10:15:05.000Z',
  transactionId: 't',
  staleIgnored: 0,
};

function deps(entry: LedgerEntry | undefined, now: string, fail?: Error) {
  const calls: [Refund, ErpRecordRef][] = [];
  const erp: ErpRefundPort = {
    recordCashRefund: async (r, sale) => {
      calls.push([r, sale]);
      if (fail) throw fail;
      return { internalId: '900', externalId: 'posrefund-M1-P1_r1', recordType: 'cashRefund' };
    },
  };
  const exceptions = new RecordingExceptions();
  return {
    calls,
    exceptions,
    deps: {
      erp,
      ledger: { get: async (key: string) => (key === cashSale.orderKey ? entry : undefined) },
      exceptions,
      telemetry: { count: () => {} },
      log: { info: () => {}, warn: () => {}, error: () => {} },
      now: () => new Date(now),
    },
  };
}

describe('POS refund sync: one cash refund against the booked cash sale', () => {
  it('books the refund against the cash sale the ledger holds for its sale', async () => {
    const { deps: d, calls } = deps(cashSale, '2026-11-27T11:00:05.000Z');
    const outcome = await syncPosRefund(event, d);
    expect(outcome).toMatchObject({ status: 'synced', erp: { recordType: 'cashRefund' } });
    expect(calls[0]?.[1]).toEqual({ internalId: '501', externalId: 'pos-M1-SALE1', recordType: 'cashSale' });
  });

  it('retries while the sale is not booked yet (its event may still be queued), then parks the refund', async () => {
    const early = deps(undefined, '2026-11-27T11:01:00.000Z');
    await expect(syncPosRefund(event, early.deps)).rejects.toMatchObject({
      code: 'POS_REFUND_SALE_NOT_BOOKED',
      retryable: true,
    });
    expect(early.calls).toHaveLength(0);
    const late = deps(
      undefined,
      new Date(Date.parse('2026-11-27T11:00:03.000Z') + SALE_WAIT_MS + 1).toISOString(),
    );
    expect(await syncPosRefund(event, late.deps)).toMatchObject({
      status: 'parked',
      code: 'POS_REFUND_SALE_NOT_BOOKED',
    });
    expect(late.exceptions.parked[0]).toMatchObject({
      kind: 'erp-order',
      inputId: 'pos:M1:refund:P1_r1',
      attributes: { externalId: 'posrefund-M1-P1_r1' },
    });
  });

  it('parks a permanent ERP failure with its reason', async () => {
    const { deps: d, exceptions } = deps(
      cashSale,
      '2026-11-27T11:00:05.000Z',
      new UnknownMappingError([{ kind: 'item', key: 'SKU-X' }]),
    );
    expect(await syncPosRefund(event, d)).toMatchObject({ status: 'parked', code: 'UNKNOWN_MAPPING' });
    expect(exceptions.parked).toHaveLength(1);
  });
});
