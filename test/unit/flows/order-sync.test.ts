import { describe, expect, it } from 'vitest';
import { parseShopifyJson } from '#shared/connectors/shopify/json.ts';
import { shopifyTopicMapper } from '#shared/connectors/shopify/mappers.ts';
import type { Order } from '#shared/events/order.ts';
import {
  type OrderBusEvent,
  OrderBusyError,
  type OrderSyncDeps,
  syncOrder,
} from '#shared/flows/order-sync.ts';
import {
  type ErpLineKeys,
  type ErpPort,
  type ErpRecordRef,
  type ErpSyncResult,
  orderExternalId,
} from '#shared/ports/erp.ts';
import {
  ErpAuthError,
  ErpReferenceError,
  ErpThrottledError,
  ErpValidationError,
  TotalsMismatchError,
  UnknownMappingError,
} from '#shared/ports/erp-errors.ts';
import { compareToSynced, type LedgerEntry } from '#shared/repositories/ledger.ts';
import { shopifyWebhookBody } from '#test/support/fixtures.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';

const baseOrder = shopifyTopicMapper('orders/updated')?.(
  parseShopifyJson(shopifyWebhookBody('orders/updated')),
  {
    shopDomain: 'acme.myshopify.com',
    currency: 'USD',
  },
)[0]?.data as Order;

function orderAt(updatedAt: string, patch: Partial<Order> = {}): Order {
  return { ...baseOrder, status: 'open', cancelledAt: null, updatedAt, ...patch };
}

let events = 0;
function busEvent(order: Order, detailType: OrderBusEvent['detail-type'] = 'OrderUpdated'): OrderBusEvent {
  events += 1;
  return {
    id: `ev-${events}`,
    'detail-type': detailType,
    source: order.channel === 'pos' ? 'omnihub.pos' : 'omnihub.shopify',
    detail: {
      metadata: {
        eventId: `00000000-0000-8000-8000-${String(events).padStart(12, '0')}`,
        schemaVersion: '1.0',
        transactionId: `tx-${events}`,
        idempotencyKey: `key-${events}`,
        occurredAt: order.updatedAt,
        receivedAt: order.updatedAt,
        origin: { system: 'shopify', account: 'acme.myshopify.com' },
      },
      data: order,
    },
  };
}

/**
 * The ERP as the hub sees it: documents by external id, each write replacing the whole order; every
 * source line gets a line key (new ones numbered on), and the total read back is the order's plus
 * `extraTax` (an ERP that adds a tax of its own).
 */
class FakeErp implements ErpPort {
  readonly documents = new Map<string, { recordType: string; order: Order }>();
  readonly calls: string[] = [];
  /** The line keys each write was given. */
  readonly knownLines: ErpLineKeys[] = [];
  failWith?: Error;
  extraTax = 0;
  delayFor = new Map<string, number>();
  private nextLine = 1;

  private async write(
    order: Order,
    recordType: 'salesOrder' | 'cashSale',
    known: ErpLineKeys = {},
  ): Promise<ErpSyncResult> {
    this.calls.push(`${recordType}:${order.updatedAt}`);
    this.knownLines.push(known);
    await new Promise((resolve) => setTimeout(resolve, this.delayFor.get(order.updatedAt) ?? 0));
    if (this.failWith) throw this.failWith;
    const externalId = orderExternalId(order.source);
    this.documents.set(externalId, { recordType, order });
    const lines: Record<string, string> = { ...known };
    for (const line of order.lines) lines[`line-${line.lineId}`] ??= String(this.nextLine++);
    return {
      internalId: `ns-${externalId.length}`,
      externalId,
      recordType,
      lines,
      total: { ...order.totals.total, amount: order.totals.total.amount + this.extraTax },
    };
  }
  upsertSalesOrder(order: Order, _ctx: unknown, lines?: ErpLineKeys) {
    return this.write(order, 'salesOrder', lines);
  }
  recordCashSale(order: Order, _ctx: unknown, lines?: ErpLineKeys) {
    return this.write(order, 'cashSale', lines);
  }
  async cancelSalesOrder(): Promise<ErpRecordRef | null> {
    throw new Error('not used');
  }
  async findByExternalId(): Promise<ErpRecordRef | null> {
    return null;
  }
}

/** Same contract as LedgerRepository on DynamoDB: version-conditional writes and an expiring lease. */
class MemoryLedger {
  readonly entries = new Map<string, LedgerEntry>();
  readonly leases = new Map<string, { owner: string; until: number }>();
  /** Line keys recorded without a version (a parked write). */
  readonly parkedLines = new Map<string, ErpLineKeys>();
  async get(key: string) {
    return this.entries.get(key);
  }
  async recordSync(entry: Omit<LedgerEntry, 'staleIgnored' | 'syncedAt'>, leaseOwner?: string) {
    const current = this.entries.get(entry.orderKey);
    if (current && compareToSynced(entry, current) !== 'newer') return false;
    if (leaseOwner !== undefined && this.leases.get(entry.orderKey)?.owner !== leaseOwner) return false;
    this.entries.set(entry.orderKey, { ...entry, syncedAt: 'now', staleIgnored: current?.staleIgnored ?? 0 });
    this.parkedLines.delete(entry.orderKey);
    if (leaseOwner !== undefined) this.leases.delete(entry.orderKey);
    return true;
  }
  async recordStale(key: string) {
    const current = this.entries.get(key);
    if (current) this.entries.set(key, { ...current, staleIgnored: current.staleIgnored + 1 });
  }
  async acquire(key: string, owner: string, ttlMs: number) {
    const lease = this.leases.get(key);
    if (lease && lease.until > Date.now() && lease.owner !== owner) return false as const;
    this.leases.set(key, { owner, until: Date.now() + ttlMs });
    const entry = this.entries.get(key);
    return { entry, erpLines: this.parkedLines.get(key) ?? entry?.erpLines ?? {} };
  }
  async recordLines(key: string, _document: unknown, lines: ErpLineKeys, owner: string) {
    if (this.leases.get(key)?.owner !== owner) return false;
    this.parkedLines.set(key, lines);
    return true;
  }
  async release(key: string, owner: string) {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
  }
}

function setup() {
  const erp = new FakeErp();
  const ledger = new MemoryLedger();
  const exceptions = new RecordingExceptions();
  const counts = new Map<string, number>();
  const deps: OrderSyncDeps = {
    erp,
    ledger,
    exceptions,
    telemetry: { count: (name, value = 1) => counts.set(name, (counts.get(name) ?? 0) + value) },
    log: { info: () => {}, warn: () => {}, error: () => {} },
    leaseAttempts: 50,
  };
  return { erp, ledger, exceptions, counts, deps };
}

describe('syncOrder', () => {
  it('upserts an online order as a sales order and records the version in the ledger', async () => {
    const { erp, ledger, deps } = setup();
    const outcome = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    expect(outcome).toMatchObject({
      status: 'synced',
      erp: { recordType: 'salesOrder', externalId: 'shopify-acme.myshopify.com-820982911946154508' },
    });
    expect([...erp.documents.keys()]).toEqual(['shopify-acme.myshopify.com-820982911946154508']);
    expect([...ledger.entries.values()][0]).toMatchObject({
      version: Date.parse('2026-11-27T10:00:00.000Z'),
      status: 'open',
    });
  });

  it('ignores an update older than the synced version and counts it as stale, without calling the ERP', async () => {
    const { erp, ledger, counts, deps } = setup();
    await syncOrder(busEvent(orderAt('2026-11-27T10:05:00.000Z')), deps);
    const outcome = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    expect(outcome).toMatchObject({ status: 'stale', syncedVersion: Date.parse('2026-11-27T10:05:00.000Z') });
    expect(erp.calls).toEqual(['salesOrder:2026-11-27T10:05:00.000Z']);
    expect([...ledger.entries.values()][0]?.staleIgnored).toBe(1);
    expect(counts.get('OrderSyncStaleIgnored')).toBe(1);
  });

  it('creates the order when an update arrives before the create', async () => {
    const { erp, deps } = setup();
    expect((await syncOrder(busEvent(orderAt('2026-11-27T10:05:00.000Z')), deps)).status).toBe('synced');
    expect(erp.documents.size).toBe(1);
  });

  it('writes a cancellation as the whole order with its cancelled status', async () => {
    const { erp, ledger, deps } = setup();
    await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    await syncOrder(
      busEvent(
        orderAt('2026-11-27T11:00:00.000Z', { status: 'cancelled', cancelledAt: '2026-11-27T11:00:00.000Z' }),
        'OrderCancelled',
      ),
      deps,
    );
    expect([...erp.documents.values()][0]?.order.status).toBe('cancelled');
    expect([...ledger.entries.values()][0]?.status).toBe('cancelled');
  });

  it('records a POS sale as a cash sale, and parks a cancelled POS sale (refunds reverse those)', async () => {
    const { erp, exceptions, deps } = setup();
    const pos = orderAt('2026-11-27T10:00:00.000Z', {
      channel: 'pos',
      storeLocationId: '655441491',
      fulfilmentMethod: 'carry_out',
    });
    expect(await syncOrder(busEvent(pos, 'OrderCreated'), deps)).toMatchObject({
      status: 'synced',
      erp: { recordType: 'cashSale' },
    });
    const cancelled = await syncOrder(
      busEvent({ ...pos, updatedAt: '2026-11-27T10:30:00.000Z', status: 'cancelled' }, 'OrderCancelled'),
      deps,
    );
    expect(cancelled).toMatchObject({ status: 'parked', code: 'POS_SALE_REVERSAL' });
    expect(erp.calls).toHaveLength(1);
    expect(exceptions.parked[0]).toMatchObject({ kind: 'erp-order', code: 'POS_SALE_REVERSAL' });
  });

  it('skips a POS sale voided before it completed: nothing in the ERP, nothing parked', async () => {
    const { erp, exceptions, counts, deps } = setup();
    const voided = orderAt('2026-11-27T10:00:00.000Z', {
      channel: 'pos',
      storeLocationId: '655441491',
      fulfilmentMethod: 'carry_out',
      status: 'cancelled',
    });
    expect(await syncOrder(busEvent(voided, 'OrderCancelled'), deps)).toMatchObject({ status: 'skipped' });
    expect(erp.calls).toEqual([]);
    expect(exceptions.parked).toEqual([]);
    expect(counts.get('PosSaleVoidIgnored')).toBe(1);
  });

  it('keeps a same-second cancellation when the update of that second arrives after it', async () => {
    const { erp, ledger, deps } = setup();
    const second = '2026-11-27T10:00:00.000Z';
    await syncOrder(
      busEvent(orderAt(second, { status: 'cancelled', cancelledAt: second }), 'OrderCancelled'),
      deps,
    );
    const late = await syncOrder(busEvent(orderAt(second), 'OrderUpdated'), deps);
    expect(late).toMatchObject({ status: 'stale' });
    expect(erp.calls).toHaveLength(1);
    expect([...erp.documents.values()][0]?.order.status).toBe('cancelled');
    expect([...ledger.entries.values()][0]?.status).toBe('cancelled');
  });

  it('writes a same-second change with other content, and skips the very same change sent twice', async () => {
    const { erp, counts, deps } = setup();
    const second = '2026-11-27T10:00:00.000Z';
    await syncOrder(busEvent(orderAt(second), 'OrderCreated'), deps);
    const edited = orderAt(second, { paymentGateways: ['manual'] });
    expect(await syncOrder(busEvent(edited), deps)).toMatchObject({ status: 'synced' });
    expect(await syncOrder(busEvent(edited), deps)).toMatchObject({ status: 'duplicate' });
    expect(erp.calls).toHaveLength(2);
    expect([...erp.documents.values()][0]?.order.paymentGateways).toEqual(['manual']);
    expect(counts.get('OrderSyncDuplicate')).toBe(1);
  });

  it.each([
    ['an unknown mapping', new UnknownMappingError([{ kind: 'item', key: 'SKU-404' }]), 'UNKNOWN_MAPPING'],
    [
      'an ERP validation error',
      new ErpValidationError('Invalid field value', 400, 'USER_ERROR', 'item.items[0].item', []),
      'ERP_VALIDATION',
    ],
    [
      'an id the ERP does not have (NetSuite INVALID_KEY_OR_REF)',
      new ErpReferenceError(
        'PUT …: 400 INVALID_KEY_OR_REF — Invalid Field Value 999 for the following field: entity',
        400,
        'INVALID_KEY_OR_REF',
        'entity',
      ),
      'ERP_INVALID_REFERENCE',
    ],
    [
      'totals that do not reconcile',
      new TotalsMismatchError('total differs by 1', [{ field: 'total', expected: '1.00', actual: '1.01' }]),
      'ERP_TOTALS_MISMATCH',
    ],
  ])('parks %s with its reason, writes no ledger entry and does not throw', async (_name, error, code) => {
    const { erp, ledger, exceptions, deps } = setup();
    erp.failWith = error;
    const outcome = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z')), deps);
    expect(outcome).toMatchObject({ status: 'parked', code });
    expect(exceptions.parked).toHaveLength(1);
    expect(exceptions.parked[0]?.reason).toBe(error.message);
    expect(JSON.parse(exceptions.parked[0]?.payload.toString() ?? '{}')['detail-type']).toBe('OrderUpdated');
    // Findable by a redaction request for the shop, the order or its customer.
    expect(exceptions.parked[0]?.subjects).toMatchObject({
      system: 'shopify',
      orderIds: ['820982911946154508'],
    });
    expect(ledger.entries.size).toBe(0);
  });

  it.each([
    ['throttling', new ErpThrottledError('429', 429, 'SSS_REQUEST_LIMIT_EXCEEDED')],
    [
      'an authentication failure (fixed by configuration, then retried)',
      new ErpAuthError('INVALID_LOGIN', 401, 'INVALID_LOGIN'),
    ],
  ])('throws on %s so that SQS retries the record, and releases the order', async (_name, error) => {
    const { erp, ledger, exceptions, deps } = setup();
    erp.failWith = error;
    await expect(syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z')), deps)).rejects.toBe(error);
    expect(exceptions.parked).toHaveLength(0);
    expect(ledger.leases.size).toBe(0);
  });

  it('leaves the newest version in the ERP when two versions of one order are synced at once', async () => {
    const { erp, ledger, deps } = setup();
    const older = orderAt('2026-11-27T10:00:00.000Z');
    const newer = orderAt('2026-11-27T10:00:05.000Z', {
      source: { ...baseOrder.source, name: '#9999-edited' },
    });
    // The older write is slow: without per-order serialisation it would land last.
    erp.delayFor.set(older.updatedAt, 100);
    const outcomes = await Promise.all([syncOrder(busEvent(older), deps), syncOrder(busEvent(newer), deps)]);
    const [document] = [...erp.documents.values()];
    expect(document?.order.updatedAt).toBe(newer.updatedAt);
    expect([...ledger.entries.values()][0]?.version).toBe(Date.parse(newer.updatedAt));
    // Either the older went first and the newer overwrote it, or the newer went first and the older was stale.
    expect(erp.calls.at(-1)).toBe(`salesOrder:${newer.updatedAt}`);
    expect(
      outcomes.some(
        (outcome) => outcome.status === 'synced' && outcome.version === Date.parse(newer.updatedAt),
      ),
    ).toBe(true);
  });

  it('fails the record with a retryable error when the order stays busy', async () => {
    const { ledger, deps } = setup();
    await ledger.acquire('ORDER#shopify#acme.myshopify.com#820982911946154508', 'someone-else', 60_000);
    const error = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z')), {
      ...deps,
      leaseAttempts: 2,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OrderBusyError);
    expect((error as OrderBusyError).retryable).toBe(true);
  });

  it('keeps the ERP line keys in the ledger and sends them with every later write of the order', async () => {
    const { erp, ledger, deps } = setup();
    await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    const key = `ORDER#shopify#acme.myshopify.com#${baseOrder.source.orderId}`;
    const first = ledger.entries.get(key)?.erpLines ?? {};
    expect(Object.keys(first)).toEqual(baseOrder.lines.map((line) => `line-${line.lineId}`));
    await syncOrder(busEvent(orderAt('2026-11-27T11:00:00.000Z')), deps);
    await syncOrder(
      busEvent(orderAt('2026-11-27T12:00:00.000Z', { status: 'cancelled' }), 'OrderCancelled'),
      deps,
    );
    expect(erp.knownLines).toEqual([{}, first, first]);
    expect(ledger.entries.get(key)?.erpLines).toEqual(first);
  });

  it('parks ERP_TOTAL_MISMATCH with both totals when the ERP total read back differs, keeping its line keys', async () => {
    const { erp, ledger, exceptions, deps } = setup();
    erp.extraTax = 1;
    const outcome = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    expect(outcome).toMatchObject({ status: 'parked', code: 'ERP_TOTAL_MISMATCH' });
    const total = (baseOrder.totals.total.amount / 100).toFixed(2);
    const erpTotal = ((baseOrder.totals.total.amount + 1) / 100).toFixed(2);
    expect(exceptions.parked[0]?.reason).toContain(`totals USD ${erpTotal}`);
    expect(exceptions.parked[0]?.reason).toContain(`USD ${total}`);
    // Not recorded as synced (a replay after the fix writes it again), but its lines are known.
    expect(ledger.entries.size).toBe(0);
    const key = `ORDER#shopify#acme.myshopify.com#${baseOrder.source.orderId}`;
    const lines = ledger.parkedLines.get(key);
    expect(Object.keys(lines ?? {})).toHaveLength(baseOrder.lines.length);
    expect(ledger.leases.size).toBe(0);
    // The replay after the fix updates the same lines and records the sync.
    erp.extraTax = 0;
    const replayed = await syncOrder(busEvent(orderAt('2026-11-27T10:00:00.000Z'), 'OrderCreated'), deps);
    expect(replayed.status).toBe('synced');
    expect(erp.knownLines.at(-1)).toEqual(lines);
  });
});
