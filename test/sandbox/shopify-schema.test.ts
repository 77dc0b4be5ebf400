import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { adminSchema } from '#sandbox/shopify/schema.ts';
import { FINANCE_SHOPIFY_DOCUMENTS } from '#shared/finance/shopify-payouts.ts';
import { INVENTORY_SHOPIFY_DOCUMENTS } from '#shared/inventory/shopify-documents.ts';
import { SHOPIFY_DOCUMENTS } from '#shared/onboarding/sources.ts';
import {
  PINNED_VERSION,
  SCHEMA_PATCHES,
  shopifyAdminSchema,
  sliceDifferences,
  validateAgainstShopify,
} from '#test/support/shopify-schema.ts';
import { assertShopifyDocument } from './shopify-helpers.ts';

/**
 * The Shopify sandbox and the hub against Shopify's real Admin GraphQL schema: the 2025-04 SDL Shopify
 * publishes plus the listed, sourced changes up to the pinned version (test/support/shopify-schema.ts).
 * Every document the sandbox's tests send is checked by their `gql` helper (shopify-helpers.ts) before
 * it is sent; this file checks the hub's documents, the sandbox's schema slice, and the checkers.
 */

describe("Shopify's Admin schema at the pinned version", () => {
  it('is the 2025-04 SDL with every change after it listed with its shopify.dev source', () => {
    expect(PINNED_VERSION).toBe('2026-10');
    for (const patch of SCHEMA_PATCHES) {
      expect(patch.source, patch.what).toMatch(/^https:\/\/shopify\.dev\//);
      expect(patch.version > '2025-04' && patch.version <= PINNED_VERSION, patch.what).toBe(true);
    }
    const schema = shopifyAdminSchema();
    expect(schema.getQueryType()?.name).toBe('QueryRoot');
    expect(schema.getDirective('idempotent')?.args.map((a) => `${a.name}: ${a.type}`)).toEqual([
      'key: String!',
    ]);
  });

  it('accepts the 2026-04 inventory contract and refuses the removed compare-and-set fields', () => {
    const set = `mutation($input: InventorySetQuantitiesInput!) {
      inventorySetQuantities(input: $input) @idempotent(key: "k") { userErrors { code field message } } }`;
    expect(validateAgainstShopify(set)).toEqual([]);
    const literal = (extra: string) => `mutation {
      inventorySetQuantities(input: { name: "available", reason: "correction", ${extra}
        quantities: [{ inventoryItemId: "gid://shopify/InventoryItem/1", locationId: "gid://shopify/Location/1", quantity: 3, changeFromQuantity: null }] })
        @idempotent(key: "k") { userErrors { code } } }`;
    expect(validateAgainstShopify(literal(''))).toEqual([]);
    expect(validateAgainstShopify(literal('ignoreCompareQuantity: true,')).map(String).join()).toMatch(
      /unknown field "ignoreCompareQuantity"/,
    );
    expect(
      validateAgainstShopify(literal('').replace('changeFromQuantity: null', 'compareQuantity: 2'))
        .map(String)
        .join(),
    ).toMatch(/unknown field "compareQuantity"/);
  });
});

describe("the hub's Shopify documents", () => {
  it.each(
    Object.entries({
      ...SHOPIFY_DOCUMENTS,
      ...INVENTORY_SHOPIFY_DOCUMENTS,
      ...FINANCE_SHOPIFY_DOCUMENTS,
    }),
  )('%s is valid against Shopify', (_name, document) => {
    expect(validateAgainstShopify(document).map(String)).toEqual([]);
  });
});

describe("the sandbox's schema", () => {
  it("is a slice of Shopify's: every name, type and default it declares is Shopify's", () => {
    expect(sliceDifferences(adminSchema())).toEqual([]);
  });

  it('the slice check names invented types, fields, arguments, enum values and missing required inputs', () => {
    const invented = buildSchema(`
      interface UserErrorInterface { message: String! }
      type UserError implements UserErrorInterface { message: String! code: String }
      enum ProductStatus { ACTIVE SOLD_OUT }
      input InventoryQuantityInput { inventoryItemId: ID! quantity: Int! }
      type Shop { name: String! }
      type QueryRoot {
        shop: Shop!
        orders(first: Int, sortKey: String): Int
        productByIdentifier(identifier: ID!): Int
      }
      schema { query: QueryRoot }`);
    expect(sliceDifferences(invented)).toEqual(
      expect.arrayContaining([
        "type UserErrorInterface does not exist in Shopify's schema",
        "field UserError.code does not exist in Shopify's schema",
        "enum value ProductStatus.SOLD_OUT does not exist in Shopify's schema",
        'InventoryQuantityInput: Shopify requires input field locationId: ID!, the slice does not declare it',
        "QueryRoot.orders: argument sortKey is String, Shopify's is OrderSortKeys",
        "QueryRoot.orders: argument sortKey defaults to undefined, Shopify's to PROCESSED_AT",
        "QueryRoot.productByIdentifier: argument identifier is ID!, Shopify's is ProductIdentifierInput!",
      ]),
    );
  });

  it("the sandbox tests' gql helper refuses a document Shopify would refuse", () => {
    expect(() => assertShopifyDocument('{ shop { name } }')).not.toThrow();
    expect(() => assertShopifyDocument('{ shop { name myshopifyDomain inventedField } }')).toThrow(
      /Cannot query field "inventedField" on type "Shop"/,
    );
    expect(() =>
      assertShopifyDocument(
        'mutation($i: RefundInput!) { refundCreate(input: $i) @idempotent(key: "k") { userErrors { code } } }',
      ),
    ).toThrow(/Cannot query field "code" on type "UserError"/);
  });
});
