import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '#shared/events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '#shared/events/envelope.ts';
import { projectBatch } from '#shared/flows/inventory-sync.ts';
import type { ProjectionInput } from '#shared/inventory/projection.ts';
import { apply as applyInput, emptyPosition } from '#shared/inventory/projection.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';
import { canonicalOrder } from '#test/support/orders.ts';

const AT = '2026-11-27T17:00:00.000Z';

/** An SQS delivery of an InventoryCounted that cannot be projected (a POS count of a variation without a SKU). */
function delivery(): SQSEvent {
  const event = buildEvent(
    'InventoryCounted',
    EVENT_SOURCES.pos,
    {
      eventId: deterministicUuid('test', 'unknown-item'),
      transactionId: 'tx',
      idempotencyKey: 'key',
      occurredAt: AT,
      receivedAt: AT,
      origin: { system: 'pos', account: 'M1' },
    },
    {
      // A POS count of a variation without a SKU: it cannot be projected (parked NO_SKU).
      item: { sku: null },
      location: { system: 'pos', id: 'L1' },
      quantityName: 'available',
      quantity: 3,
      sequence: 1,
      countedAt: AT,
    },
  );
  const body = JSON.stringify({
    'detail-type': event.detailType,
    source: event.source,
    detail: event.detail,
  });
  return {
    Records: [
      {
        messageId: 'm-1',
        body,
        attributes: { SentTimestamp: String(Date.parse(AT)) },
      } as unknown as SQSEvent['Records'][number],
    ],
  };
}

describe('inventory projector batch', () => {
  it('parks an event it cannot project once, even when its batch comes back after the keys failed to send', async () => {
    const exceptions = new RecordingExceptions();
    let sends = 0;
    const deps = {
      apply: async () => {
        throw new Error('not reached');
      },
      hubLocation: async () => '7',
      skuOfShopifyItem: async () => undefined,
      exceptions,
      sendAvailability: async () => {
        sends += 1;
        if (sends === 1) throw new Error('SQS unavailable');
      },
      telemetry: { count: () => {} },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    await expect(projectBatch(delivery(), deps)).rejects.toThrow('SQS unavailable');
    await projectBatch(delivery(), deps);
    expect(exceptions.parked).toHaveLength(2);
    const keys = new Set(exceptions.parked.map((p) => `${p.at}#${p.inputId}`));
    // The same parked item both times (the store's key is `<at>#<inputId>`): overwritten, not doubled.
    expect(keys.size).toBe(1);
    expect(exceptions.parked[0]).toMatchObject({ code: 'NO_SKU', at: AT });
  });

  it('re-reads committed on Shopify order events: the SKUs where Shopify last committed units get a Shopify observation without quantity and are published; POS orders are not', async () => {
    const applied: { key: string; input: ProjectionInput }[] = [];
    const sent: { sku: string; location: string }[][] = [];
    const deps = {
      apply: async (key: { sku: string; location: string }, input: ProjectionInput) => {
        applied.push({ key: `${key.sku}|${key.location}`, input });
        return applyInput(emptyPosition(key.sku, key.location), input, {}, { now: Date.parse(AT) });
      },
      withCommitted: async (sku: string) =>
        sku === 'SKU-1'
          ? [
              { sku, location: '7' },
              { sku, location: '9' },
            ]
          : [],
      hubLocation: async () => '7',
      exceptions: new RecordingExceptions(),
      sendAvailability: async (keys: readonly { sku: string; location: string }[]) => {
        sent.push([...keys]);
      },
      telemetry: { count: () => {} },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    const order = (system: 'shopify' | 'pos', id: string) => {
      const data = canonicalOrder({
        system,
        orderId: id,
        lines: [
          { sku: 'SKU-1', unitPrice: 1000 },
          { sku: 'SKU-2', unitPrice: 500 },
        ],
        updatedAt: '2026-11-27T17:05:00.000Z',
      });
      const event = buildEvent(
        'OrderUpdated',
        EVENT_SOURCES[system],
        {
          eventId: deterministicUuid('test', id),
          transactionId: id,
          idempotencyKey: id,
          occurredAt: AT,
          receivedAt: AT,
          origin: { system, account: 'acme' },
        },
        data,
      );
      return JSON.stringify({ 'detail-type': 'OrderUpdated', source: event.source, detail: event.detail });
    };
    const batch = {
      Records: [
        { messageId: 'o-1', body: order('shopify', '101'), attributes: { SentTimestamp: '1' } },
        { messageId: 'o-2', body: order('pos', '202'), attributes: { SentTimestamp: '1' } },
      ],
    } as unknown as SQSEvent;
    const result = await projectBatch(batch, deps);
    expect(result.batchItemFailures).toEqual([]);
    expect(applied).toEqual([
      {
        key: 'SKU-1|7',
        input: {
          kind: 'observation',
          channel: 'shopify',
          sequence: Date.parse('2026-11-27T17:05:00.000Z'),
          quantity: null,
        },
      },
      {
        key: 'SKU-1|9',
        input: {
          kind: 'observation',
          channel: 'shopify',
          sequence: Date.parse('2026-11-27T17:05:00.000Z'),
          quantity: null,
        },
      },
    ]);
    expect(sent).toEqual([
      [
        { sku: 'SKU-1', location: '7' },
        { sku: 'SKU-1', location: '9' },
      ],
    ]);
    expect(deps.exceptions.parked).toEqual([]);
  });
});
