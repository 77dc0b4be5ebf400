import { createHash } from 'node:crypto';
import type { Money } from '../events/money.ts';

/**
 * Square catalog writes for the POS: `POST /v2/catalog/batch-upsert` request bodies.
 *
 * Contract (Square OpenAPI 2025-08-20, `BatchUpsertCatalogObjectsRequest`): `idempotency_key` (1–128
 * characters; the same key with the same body is answered once), `batches` of objects each applied
 * all-or-nothing, **up to 1,000 objects per batch and 10,000 per request**; an existing object is
 * updated by its `id` and the `version` it was read at (optimistic concurrency: a stale version fails
 * the batch), a new one gets a `#`-prefixed client id that other objects of the same batch can
 * reference (an item and its variations). An upsert *replaces* the object, so an update carries the
 * object as read with only the price changed.
 *
 * Batches keep an item with all its variations (they must be in the same batch to reference each
 * other) and the idempotency key is a hash of the body: a retried request is the same request.
 */

export const MAX_OBJECTS_PER_BATCH = 1000;
export const MAX_OBJECTS_PER_REQUEST = 10_000;

/** A variation as the hub last read it from Square (`BatchRetrieveCatalogObjects`). */
export interface SquareVariation {
  readonly type: 'ITEM_VARIATION';
  readonly id: string;
  readonly version: number;
  readonly item_variation_data: Readonly<Record<string, unknown>> & {
    readonly item_id: string;
    readonly sku?: string;
    readonly price_money?: Money;
  };
  readonly [field: string]: unknown;
}

/** Square's `Money`: `{amount, currency}` in minor units, as the hub's. */
const squareMoney = (m: Money) => ({ amount: m.amount, currency: m.currency });

/**
 * Read-only fields Square's spec marks on a `CatalogObject` (`updated_at`) and `CatalogItemVariation`
 * (`ordinal`): they are answered, never sent (`created_at` is not a field at all, see the sandbox model).
 */
const READ_ONLY = ['updated_at', 'created_at'];
const READ_ONLY_VARIATION = ['ordinal'];

/** The variation with its new price, ready to upsert (version kept for the concurrency check). */
export function repricedVariation(variation: SquareVariation, price: Money): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...variation };
  for (const field of READ_ONLY) delete copy[field];
  const data: Record<string, unknown> = { ...variation.item_variation_data };
  for (const field of READ_ONLY_VARIATION) delete data[field];
  return {
    ...copy,
    item_variation_data: { ...data, pricing_type: 'FIXED_PRICING', price_money: squareMoney(price) },
  };
}

/**
 * Groups objects into requests: batches of ≤ 1,000 objects that never split a group (an item with its
 * variations), requests of ≤ 10,000 objects, each with an idempotency key derived from its content.
 */
export function batchUpsertRequests(
  groups: readonly (readonly Record<string, unknown>[])[],
  keyPrefix: string,
): { idempotency_key: string; batches: { objects: Record<string, unknown>[] }[] }[] {
  const batches: Record<string, unknown>[][] = [];
  let current: Record<string, unknown>[] = [];
  for (const group of groups) {
    if (group.length > MAX_OBJECTS_PER_BATCH)
      throw new RangeError(
        `a group of ${group.length} objects exceeds Square's ${MAX_OBJECTS_PER_BATCH} per batch`,
      );
    if (current.length + group.length > MAX_OBJECTS_PER_BATCH) {
      batches.push(current);
      current = [];
    }
    current.push(...group);
  }
  if (current.length > 0) batches.push(current);
  const requests: { idempotency_key: string; batches: { objects: Record<string, unknown>[] }[] }[] = [];
  let request: { objects: Record<string, unknown>[] }[] = [];
  let count = 0;
  const flush = () => {
    if (request.length === 0) return;
    const hash = createHash('sha256').update(JSON.stringify(request)).digest('hex').slice(0, 40);
    requests.push({ idempotency_key: `${keyPrefix}-${hash}`.slice(0, 128), batches: request });
    request = [];
    count = 0;
  };
  for (const objects of batches) {
    if (count + objects.length > MAX_OBJECTS_PER_REQUEST) flush();
    request.push({ objects });
    count += objects.length;
  }
  flush();
  return requests;
}
