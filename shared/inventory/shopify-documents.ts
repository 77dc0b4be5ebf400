/**
 * The GraphQL documents the inventory publisher sends to Shopify's Admin API (pinned version, see
 * `shared/connectors/shopify/api-version.ts`). Each is validated against Shopify's real Admin schema by
 * `test/sandbox/shopify-schema.test.ts`.
 */

/**
 * Sets `available` at up to 250 inventory levels (Shopify's input array limit) in one call, all or
 * nothing. From 2026-04 every quantity must carry `changeFromQuantity` (compare-and-set; `null` opts
 * out, which the publisher never does) and the mutation must carry `@idempotent(key:)`
 * (https://shopify.dev/changelog/finalizing-compare-and-swap-redesign-for-inventory-set-quantities,
 * https://shopify.dev/changelog/making-idempotency-mandatory-for-inventory-adjustments-and-refund-mutations).
 * Costs 10 points whatever the number of quantities (a mutation's base cost; the payload selects no
 * connection).
 */
export const INVENTORY_SET_AVAILABLE_MUTATION = `mutation InventoryPublish($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}`;

/**
 * Reads `available` and `committed` of given inventory levels (≤ 250 ids; about 2 points a level —
 * used only for levels whose compare-and-set base is unknown or stale).
 */
export const INVENTORY_LEVELS_QUERY = `query InventoryLevels($ids: [ID!]!) {
  nodes(ids: $ids) {
    ... on InventoryLevel { id quantities(names: ["available", "committed"]) { name quantity } }
  }
}`;

/** SKU → inventory item, a page of variants at a time (SKU-filtered with `query`). */
export const INVENTORY_ITEMS_BY_SKU_QUERY = `query InventoryItemsBySku($after: String, $query: String) {
  productVariants(first: 250, after: $after, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes { sku inventoryItem { id } }
  }
}`;

/** Every GraphQL document the inventory publisher sends. */
export const INVENTORY_SHOPIFY_DOCUMENTS: Readonly<Record<string, string>> = {
  INVENTORY_SET_AVAILABLE_MUTATION,
  INVENTORY_LEVELS_QUERY,
  INVENTORY_ITEMS_BY_SKU_QUERY,
};

/** Shopify's inventory level GID: `gid://shopify/InventoryLevel/<locationId>?inventory_item_id=<itemId>`. */
export function inventoryLevelGid(locationGid: string, inventoryItemGid: string): string {
  const location = locationGid.slice(locationGid.lastIndexOf('/') + 1);
  const item = inventoryItemGid.slice(inventoryItemGid.lastIndexOf('/') + 1);
  return `gid://shopify/InventoryLevel/${location}?inventory_item_id=${item}`;
}
