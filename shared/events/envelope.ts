import { createHash } from 'node:crypto';
import * as z from 'zod';
import { SystemSchema, UtcTimestampSchema } from './common.ts';

/** EventBridge `source` per system. */
export const EVENT_SOURCES = {
  shopify: 'omnihub.shopify',
  pos: 'omnihub.pos',
  erp: 'omnihub.erp',
  hub: 'omnihub.hub',
} as const;
export type EventSource = (typeof EVENT_SOURCES)[keyof typeof EVENT_SOURCES];

/** Where an event came from: the system, its account (shop domain, merchant, ERP account) and its ids. */
export const OriginSchema = z.object({
  system: SystemSchema,
  account: z.string().min(1).describe('shop domain, POS merchant id or ERP account'),
  topic: z.string().optional().describe('source topic, e.g. Shopify orders/create'),
  apiVersion: z.string().optional().describe('vendor API version the payload was rendered in'),
  deliveryId: z.string().optional().describe('one delivery, e.g. X-Shopify-Webhook-Id'),
  sourceEventId: z.string().optional().describe('one source action, e.g. X-Shopify-Event-Id'),
  resourceId: z.string().optional().describe('id of the source resource (order, refund, product)'),
  triggeredAt: UtcTimestampSchema.optional(),
});
export type Origin = z.infer<typeof OriginSchema>;

export const EventMetadataSchema = z.object({
  eventId: z.uuid().describe('unique per event; stable when the same delivery is retried'),
  schemaVersion: z
    .string()
    .regex(/^\d+\.\d+$/)
    .describe('major.minor of the detail schema'),
  transactionId: z.string().min(1).describe('correlates every step of one business transaction'),
  idempotencyKey: z.string().min(1).describe('business key: consumers apply an event once per key'),
  occurredAt: UtcTimestampSchema.describe('when it happened in the source system'),
  receivedAt: UtcTimestampSchema.describe('when the hub received it'),
  origin: OriginSchema,
});
export type EventMetadata = z.infer<typeof EventMetadataSchema>;

/**
 * A UUID (RFC 9562 version 8) derived from its parts, so that re-processing the same input yields the
 * same id: a retried webhook delivery republishes events with the ids they had the first time.
 */
export function deterministicUuid(...parts: readonly string[]): string {
  const bytes = createHash('sha256').update(parts.join('\u001f')).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
