/**
 * The Shopify Admin API version the hub is built and tested against. Pinned: Shopify supports each
 * stable version for at least 12 months, and from 2026-04 the inventory mutations require
 * `changeFromQuantity` and `@idempotent(key:)`, which the hub relies on for exactly-once writes.
 * Webhooks are accepted whatever version rendered them; the version is recorded in event metadata.
 */
export const SHOPIFY_API_VERSION = '2026-10';

/** `2026-10` → `/admin/api/2026-10/graphql.json` */
export function graphqlPath(version: string = SHOPIFY_API_VERSION): string {
  return `/admin/api/${version}/graphql.json`;
}
