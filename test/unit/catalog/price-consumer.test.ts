import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { DueTooEarlyError, type PriceFlow } from '#shared/catalog/price-flow.ts';
import { buildEvent } from '#shared/events/catalog.ts';
import { EVENT_SOURCES } from '#shared/events/envelope.ts';
import { consumePriceBatch } from '#shared/flows/catalog-prices.ts';

const record = (messageId: string, body: unknown): SQSRecord =>
  ({ messageId, body: typeof body === 'string' ? body : JSON.stringify(body) }) as SQSRecord;

const priceChanged = buildEvent(
  'PriceChanged',
  EVENT_SOURCES.erp,
  {
    eventId: '0b7c0f4e-5e2a-4c3e-9d7e-1f2a3b4c5d6e',
    transactionId: 't-1',
    idempotencyKey: 'erp#A#price#1',
    occurredAt: '2026-12-01T10:00:00.000Z',
    receivedAt: '2026-12-01T10:00:01.000Z',
    origin: { system: 'erp', account: 'A', topic: 'customrecord_oh_change', resourceId: '1' },
  },
  {
    item: { sku: 'SKU-1' },
    priceList: 'online-USD',
    price: { amount: 5000, currency: 'USD' },
    compareAtPrice: null,
    effectiveFrom: null,
    effectiveTo: null,
    version: 1,
  },
);

function fakeFlow(dueError?: Error) {
  const seen = { changes: 0, dues: [] as number[] };
  const flow = {
    onPriceChanged: async (changes: unknown[]) => {
      seen.changes += changes.length;
      return {
        applied: changes.length,
        ignored: 0,
        publishedNow: 0,
        schedulesEnsured: 0,
        schedulesRemoved: 0,
      };
    },
    onPriceDue: async (m: { at: number }) => {
      if (dueError) throw dueError;
      seen.dues.push(m.at);
      return { published: 1 };
    },
  } as unknown as PriceFlow;
  return { flow, seen };
}

describe('price queue consumer', () => {
  it('routes bus events and schedule messages; parks what is neither, with its reason', async () => {
    const { flow, seen } = fakeFlow();
    const result = await consumePriceBatch(flow, [
      record('1', { 'detail-type': 'PriceChanged', detail: priceChanged.detail }),
      record('2', { kind: 'price-due', at: 1796119260000 }),
      record('3', 'not json'),
      record('4', { 'detail-type': 'PriceChanged', detail: { ...priceChanged.detail, data: { item: {} } } }),
    ]);
    expect(seen).toEqual({ changes: 1, dues: [1796119260000] });
    expect(result.batchItemFailures).toEqual([]);
    expect(result.parked.map((p) => p.messageId)).toEqual(['3', '4']);
    expect(result.parked[1]?.reason).toMatch(/^PriceChanged: /);
  });

  it('returns a due delivered early as a batch item failure (SQS brings it back later)', async () => {
    const { flow } = fakeFlow(new DueTooEarlyError('early'));
    const result = await consumePriceBatch(flow, [record('9', { kind: 'price-due', at: 1796119260000 })]);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '9' }]);
  });
});
