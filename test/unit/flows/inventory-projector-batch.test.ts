import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { buildEvent } from '#shared/events/catalog.ts';
import { deterministicUuid, EVENT_SOURCES } from '#shared/events/envelope.ts';
import { projectBatch } from '#shared/flows/inventory-sync.ts';
import { RecordingExceptions } from '#test/support/ingress-fakes.ts';

const AT = '2026-11-27T17:00:00.000Z';

/** An SQS delivery of an InventoryCounted that cannot be projected (a Shopify item the hub never published). */
function delivery(): SQSEvent {
  const event = buildEvent(
    'InventoryCounted',
    EVENT_SOURCES.shopify,
    {
      eventId: deterministicUuid('test', 'unknown-item'),
      transactionId: 'tx',
      idempotencyKey: 'key',
      occurredAt: AT,
      receivedAt: AT,
      origin: { system: 'shopify', account: 'acme.myshopify.com' },
    },
    {
      item: { sku: null, shopifyInventoryItemId: '999' },
      location: { system: 'shopify', id: '1' },
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
});
