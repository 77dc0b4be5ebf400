import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  buildASTSchema,
  type ConstValueNode,
  type DefinitionNode,
  type DocumentNode,
  type GraphQLArgument,
  type GraphQLError,
  type GraphQLInputField,
  type GraphQLSchema,
  type InputValueDefinitionNode,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isNonNullType,
  isObjectType,
  isUnionType,
  Kind,
  parse,
  print,
  validate,
  validateSchema,
} from 'graphql';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';

/**
 * Shopify's Admin GraphQL schema at the version the hub pins, for validating the documents the hub and
 * the sandbox's tests send, and the sandbox's own schema slice.
 *
 * The base is Shopify's published SDL for 2025-04 (`test/fixtures/shopify/admin-schema`, copied from the reference fixtures; see its
 * SOURCES.md): the newest complete schema we have. Everything that changed between 2025-04 and the pinned
 * version and that the hub or the sandbox touches is listed below as an explicit patch, each with the
 * shopify.dev page that documents it. A name that is neither in 2025-04 nor in this list is not
 * Shopify's, so a document or a sandbox type using it fails here.
 *
 * Patches: `add` is SDL appended to the schema (new types, `extend` of existing ones, directives);
 * `remove` deletes fields, input fields or enum values by coordinate (`Type.name`); `addArguments`
 * appends arguments to an existing field (SDL cannot `extend` a field).
 */
export interface SchemaPatch {
  /** First API version with the change. */
  readonly version: string;
  readonly what: string;
  /** shopify.dev changelog entry or API reference page. */
  readonly source: string;
  readonly add?: string;
  readonly remove?: readonly string[];
  readonly addArguments?: Readonly<Record<string, string>>;
}

export const BASE_VERSION = '2025-04';
export const PINNED_VERSION = SHOPIFY_API_VERSION;

export const SCHEMA_PATCHES: readonly SchemaPatch[] = [
  {
    version: '2026-01',
    what: '@idempotent(key:) directive (mandatory at run time from 2026-04 on inventory and refund mutations)',
    source: 'https://shopify.dev/changelog/adding-idempotency-for-inventory-adjustments-and-refund-mutations',
    add: 'directive @idempotent(key: String!) on FIELD',
  },
  {
    version: '2026-01',
    what: 'InventoryQuantityInput.changeFromQuantity (inventorySetQuantities compare-and-swap)',
    source: 'https://shopify.dev/changelog/compare-and-swap-redesign-for-inventory-set-quantities',
    add: 'extend input InventoryQuantityInput { changeFromQuantity: Int }',
  },
  {
    version: '2026-01',
    what: 'InventoryChangeInput.changeFromQuantity (inventoryAdjustQuantities compare-and-swap)',
    source:
      'https://shopify.dev/changelog/compare-and-swap-for-inventory-mutations-with-change-from-quantity',
    add: 'extend input InventoryChangeInput { changeFromQuantity: Int }',
  },
  {
    version: '2026-04',
    what: 'compareQuantity and ignoreCompareQuantity removed from inventorySetQuantities',
    source: 'https://shopify.dev/changelog/finalizing-compare-and-swap-redesign-for-inventory-set-quantities',
    remove: ['InventoryQuantityInput.compareQuantity', 'InventorySetQuantitiesInput.ignoreCompareQuantity'],
  },
  {
    version: '2026-01',
    what: 'InventorySetQuantitiesUserErrorCode: compare-and-swap and idempotency codes',
    source: 'https://shopify.dev/docs/api/admin-graphql/2026-01/enums/InventorySetQuantitiesUserErrorCode',
    add: 'extend enum InventorySetQuantitiesUserErrorCode { CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH }',
  },
  {
    version: '2026-10',
    what: 'InventorySetQuantitiesUserErrorCode.IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED',
    source: 'https://shopify.dev/docs/api/admin-graphql/latest/enums/InventorySetQuantitiesUserErrorCode',
    add: 'extend enum InventorySetQuantitiesUserErrorCode { IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED }',
  },
  {
    version: '2026-01',
    what: 'InventoryAdjustQuantitiesUserErrorCode: compare-and-swap, idempotency and SERVICE_UNAVAILABLE codes',
    source: 'https://shopify.dev/docs/api/admin-graphql/2026-01/enums/InventoryAdjustQuantitiesUserErrorCode',
    add: 'extend enum InventoryAdjustQuantitiesUserErrorCode { CHANGE_FROM_QUANTITY_STALE IDEMPOTENCY_CONCURRENT_REQUEST IDEMPOTENCY_KEY_PARAMETER_MISMATCH SERVICE_UNAVAILABLE }',
  },
  {
    version: '2026-04',
    what: 'InventoryLevel.isActive',
    source: 'https://shopify.dev/changelog/add-isactive-field-to-inventorylevel',
    add: 'extend type InventoryLevel { isActive: Boolean! }',
  },
  {
    version: '2026-04',
    what: 'includeInactive on the inventoryLevel(s) fields of InventoryItem and Location',
    source:
      'https://shopify.dev/changelog/add-includeinactive-argument-to-inventorylevels-and-inventorylevel-fields',
    addArguments: {
      'InventoryItem.inventoryLevel': 'includeInactive: Boolean = false',
      'InventoryItem.inventoryLevels': 'includeInactive: Boolean = false',
      'Location.inventoryLevel': 'includeInactive: Boolean = false',
      'Location.inventoryLevels': 'includeInactive: Boolean = false',
    },
  },
  {
    version: '2026-01',
    what: 'InventoryItem.variants connection (InventoryItem.variant deprecated)',
    source: 'https://shopify.dev/changelog/inventory-item-variant-field-deprecation',
    add: 'extend type InventoryItem { variants(after: String, before: String, first: Int, last: Int, reverse: Boolean = false): ProductVariantConnection! }',
  },
  {
    version: '2025-10',
    what: 'ProductStatus.UNLISTED',
    source: 'https://shopify.dev/changelog/new-unlisted-product-status',
    add: 'extend enum ProductStatus { UNLISTED }',
  },
  {
    version: '2025-07',
    what: 'return line item processing quantities',
    source: 'https://shopify.dev/changelog/new-graphql-fields-for-return-management',
    add: `
      extend interface ReturnLineItemType { processableQuantity: Int! processedQuantity: Int! unprocessedQuantity: Int! }
      extend type ReturnLineItem { processableQuantity: Int! processedQuantity: Int! unprocessedQuantity: Int! }
      extend type UnverifiedReturnLineItem { processableQuantity: Int! processedQuantity: Int! unprocessedQuantity: Int! }`,
  },
  {
    version: '2025-07',
    what: 'Return.createdAt and Return.closedAt',
    source: 'https://shopify.dev/docs/api/admin-graphql/latest/objects/return',
    add: 'extend type Return { createdAt: DateTime! closedAt: DateTime }',
  },
  {
    version: '2025-07',
    what: 'returnProcess mutation (replaces returnRefund)',
    source: 'https://shopify.dev/changelog/returns-processing-api',
    // Fields as the reference pages list them (ReturnProcessInput 2026-01, ReturnProcessRefundInput and
    // ReturnProcessReturnLineItemInput latest); the exchange, duty, tip and refund-method inputs are
    // left out: neither the hub nor the sandbox uses them, and an omitted optional field only narrows.
    add: `
      input ReturnProcessReturnLineItemInput { dispositions: [ReverseFulfillmentOrderDisposeInput!] id: ID! quantity: Int! }
      input ReturnProcessRefundInput { allowOverRefunding: Boolean = false orderTransactions: [ReturnRefundOrderTransactionInput!]! }
      input ReturnProcessFinancialTransferInput { issueRefund: ReturnProcessRefundInput }
      input ReturnProcessInput {
        financialTransfer: ReturnProcessFinancialTransferInput
        note: String
        notifyCustomer: Boolean = false
        refundShipping: RefundShippingInput
        returnId: ID!
        returnLineItems: [ReturnProcessReturnLineItemInput!] = []
      }
      type ReturnProcessPayload { return: Return userErrors: [ReturnUserError!]! }
      extend type Mutation { returnProcess(input: ReturnProcessInput!): ReturnProcessPayload }`,
  },
  {
    version: '2025-07',
    what: 'returns/process webhook topic (emitted when a return is processed)',
    source:
      'https://shopify.dev/docs/apps/build/orders-fulfillment/returns-apps/migrate-to-return-processing',
    add: 'extend enum WebhookSubscriptionTopic { RETURNS_PROCESS }',
  },
  {
    version: '2026-01',
    what: 'ReturnLineItemInput.returnReasonDefinitionId; returnReason deprecated and optional',
    source: 'https://shopify.dev/docs/api/admin-graphql/latest/input-objects/ReturnLineItemInput',
    remove: ['ReturnLineItemInput.returnReason'],
    add: 'extend input ReturnLineItemInput { returnReasonDefinitionId: ID returnReason: ReturnReason }',
  },
  {
    version: '2025-10',
    what: 'RefundInput.allowOverRefunding (refunds to store credit)',
    source: 'https://shopify.dev/docs/api/admin-graphql/2025-10/input-objects/refundinput',
    add: 'extend input RefundInput { allowOverRefunding: Boolean = false }',
  },
  {
    version: '2025-10',
    what: 'unified webhook subscription uri (WebhookSubscription.uri, WebhookSubscriptionInput.uri, webhookSubscriptions(uri:))',
    source: 'https://shopify.dev/changelog/consolidate-webhook-graphql-surfaces',
    add: `
      extend type WebhookSubscription { uri: String! }
      extend input WebhookSubscriptionInput { uri: String }`,
    addArguments: { 'QueryRoot.webhookSubscriptions': 'uri: String' },
  },
];

const SDL_PATH = fileURLToPath(
  new URL(`../fixtures/shopify/admin-schema/${BASE_VERSION}.graphql`, import.meta.url),
);

/** The parts of a type definition node a patch touches (fields, input fields, enum values). */
interface Member {
  readonly kind: string;
  readonly name: { readonly value: string };
  readonly arguments?: readonly InputValueDefinitionNode[];
}
interface Members {
  readonly name?: { readonly value: string };
  readonly fields?: readonly Member[];
  readonly values?: readonly Member[];
}

function coordinate(c: string): [string, string] {
  const [type, member] = c.split('.');
  if (!type || !member) throw new Error(`bad schema coordinate ${c}`);
  return [type, member];
}

/** The base document with every patch applied (no schema is built). */
export function patchedDocument(base: DocumentNode, patches: readonly SchemaPatch[]): DocumentNode {
  const removals = new Map<string, Set<string>>();
  const argAdds = new Map<string, InputValueDefinitionNode[]>();
  const extra: DefinitionNode[] = [];
  const hits = new Set<string>();
  for (const p of patches) {
    for (const c of p.remove ?? []) {
      const [type, member] = coordinate(c);
      if (!removals.has(type)) removals.set(type, new Set());
      removals.get(type)?.add(member);
    }
    for (const [c, args] of Object.entries(p.addArguments ?? {})) {
      const holder = parse(`type T { f(${args}): Int }`).definitions[0] as unknown as Members;
      argAdds.set(c, [...(argAdds.get(c) ?? []), ...(holder.fields?.[0]?.arguments ?? [])]);
    }
    if (p.add) extra.push(...parse(p.add).definitions);
  }
  const keep = (type: string, list: readonly Member[]): Member[] => {
    const gone = removals.get(type);
    return list.filter((m) => {
      if (!gone?.has(m.name.value)) return true;
      hits.add(`${type}.${m.name.value}`);
      return false;
    });
  };
  const definitions = base.definitions.map((d): DefinitionNode => {
    const def = d as unknown as Members;
    const type = def.name?.value;
    if (!type) return d;
    let out: Members = def;
    if (def.values) out = { ...out, values: keep(type, def.values) };
    if (def.fields)
      out = {
        ...out,
        fields: keep(type, def.fields).map((f) => {
          const add = argAdds.get(`${type}.${f.name.value}`);
          if (!add || f.kind !== Kind.FIELD_DEFINITION) return f;
          hits.add(`${type}.${f.name.value}()`);
          return { ...f, arguments: [...(f.arguments ?? []), ...add] };
        }),
      };
    return out === def ? d : (out as unknown as DefinitionNode);
  });
  // A patch that matches nothing is a wrong coordinate, not a no-op.
  for (const [type, members] of removals)
    for (const m of members)
      if (!hits.has(`${type}.${m}`)) throw new Error(`schema patch: nothing to remove at ${type}.${m}`);
  for (const c of argAdds.keys())
    if (!hits.has(`${c}()`)) throw new Error(`schema patch: no field ${c} to add arguments to`);
  return { kind: Kind.DOCUMENT, definitions: [...definitions, ...extra] };
}

/**
 * Shopify's own schema breaks one rule graphql-js 17 checks: a few implementations deprecate a field
 * their interface does not (`Customer.hasTimelineComment`, `DiscountAutomaticBxgy.id`). That is
 * Shopify's schema as served, so it is tolerated; any other schema error (a patch above that breaks an
 * interface, say) fails the build.
 */
const TOLERATED_SCHEMA_ERROR =
  /^Interface field \S+ is not deprecated, so implementation field \S+ must not be deprecated\.$/;

let cached: GraphQLSchema | undefined;

/** Shopify's Admin schema at the pinned version: 2025-04 with every patch above (built once). */
export function shopifyAdminSchema(): GraphQLSchema {
  if (cached) return cached;
  const document = patchedDocument(parse(readFileSync(SDL_PATH, 'utf8')), SCHEMA_PATCHES);
  const errors = validateSchema(buildASTSchema(document)).filter(
    (e) => !TOLERATED_SCHEMA_ERROR.test(e.message),
  );
  if (errors.length > 0) throw new Error(`Shopify schema with patches is invalid:\n${errors.join('\n')}`);
  cached = buildASTSchema(document, { assumeValid: true });
  return cached;
}

/** Validation errors of one document against the real schema (empty: valid). */
export function validateAgainstShopify(document: string | DocumentNode): readonly GraphQLError[] {
  return validate(shopifyAdminSchema(), typeof document === 'string' ? parse(document) : document);
}

// ------------------------------------------------------------------ the sandbox's slice

type AnyArg = GraphQLArgument | GraphQLInputField;

/** An argument's or input field's default as SDL (`undefined`: none). */
function defaultOf(a: AnyArg): string | undefined {
  const d = (a as { default?: { literal?: ConstValueNode; value?: unknown } }).default;
  if (d?.literal) return print(d.literal);
  if (d && 'value' in d && d.value !== undefined) return JSON.stringify(d.value);
  return a.defaultValue === undefined ? undefined : JSON.stringify(a.defaultValue);
}

function isRequired(a: AnyArg): boolean {
  return isNonNullType(a.type) && defaultOf(a) === undefined;
}

function compareInputs(
  where: string,
  slice: readonly AnyArg[],
  real: readonly AnyArg[],
  kind: 'argument' | 'input field',
  out: string[],
): void {
  for (const a of slice) {
    const r = real.find((x) => x.name === a.name);
    if (!r) {
      out.push(`${where}: ${kind} ${a.name} does not exist in Shopify's schema`);
      continue;
    }
    if (String(r.type) !== String(a.type))
      out.push(`${where}: ${kind} ${a.name} is ${a.type}, Shopify's is ${r.type}`);
    if (defaultOf(r) !== defaultOf(a))
      out.push(`${where}: ${kind} ${a.name} defaults to ${defaultOf(a)}, Shopify's to ${defaultOf(r)}`);
  }
  // A required input the slice leaves out would let a document pass here that Shopify refuses.
  for (const r of real)
    if (isRequired(r) && !slice.some((a) => a.name === r.name))
      out.push(`${where}: Shopify requires ${kind} ${r.name}: ${r.type}, the slice does not declare it`);
}

/**
 * How a schema slice (the sandbox's) departs from Shopify's: every type, field, argument, input field,
 * enum value, interface, union member and directive it declares must exist in the real schema with the
 * same type and default, and nothing Shopify requires may be missing. Empty: a faithful slice.
 */
export function sliceDifferences(slice: GraphQLSchema, real: GraphQLSchema = shopifyAdminSchema()): string[] {
  const out: string[] = [];
  for (const root of ['getQueryType', 'getMutationType', 'getSubscriptionType'] as const) {
    const s = slice[root]();
    if (s && s.name !== real[root]()?.name)
      out.push(`root ${root.slice(3, -4)} type is ${s.name}, Shopify's is ${real[root]()?.name}`);
  }
  for (const type of Object.values(slice.getTypeMap())) {
    if (type.name.startsWith('__')) continue;
    const r = real.getType(type.name);
    if (!r) {
      out.push(`type ${type.name} does not exist in Shopify's schema`);
      continue;
    }
    if (r.constructor !== type.constructor) {
      out.push(`type ${type.name} is a ${type.constructor.name}, Shopify's a ${r.constructor.name}`);
      continue;
    }
    if ((isObjectType(type) || isInterfaceType(type)) && (isObjectType(r) || isInterfaceType(r))) {
      const realFields = r.getFields();
      for (const f of Object.values(type.getFields())) {
        const rf = realFields[f.name];
        if (!rf) {
          out.push(`field ${type.name}.${f.name} does not exist in Shopify's schema`);
          continue;
        }
        if (String(rf.type) !== String(f.type))
          out.push(`field ${type.name}.${f.name} is ${f.type}, Shopify's is ${rf.type}`);
        compareInputs(`${type.name}.${f.name}`, f.args, rf.args, 'argument', out);
      }
      const realInterfaces = r.getInterfaces().map((i) => i.name);
      for (const i of type.getInterfaces())
        if (!realInterfaces.includes(i.name))
          out.push(`${type.name} implements ${i.name}; Shopify's implements ${realInterfaces.join(' & ')}`);
    } else if (isInputObjectType(type) && isInputObjectType(r)) {
      compareInputs(
        type.name,
        Object.values(type.getFields()),
        Object.values(r.getFields()),
        'input field',
        out,
      );
    } else if (isEnumType(type) && isEnumType(r)) {
      const values = new Set(r.getValues().map((v) => v.name));
      for (const v of type.getValues())
        if (!values.has(v.name))
          out.push(`enum value ${type.name}.${v.name} does not exist in Shopify's schema`);
    } else if (isUnionType(type) && isUnionType(r)) {
      const members = new Set(r.getTypes().map((t) => t.name));
      for (const m of type.getTypes())
        if (!members.has(m.name)) out.push(`union ${type.name} has ${m.name}, Shopify's does not`);
    }
  }
  for (const d of slice.getDirectives()) {
    const r = real.getDirective(d.name);
    if (!r) {
      out.push(`directive @${d.name} does not exist in Shopify's schema`);
      continue;
    }
    for (const l of d.locations)
      if (!r.locations.includes(l)) out.push(`directive @${d.name} on ${l}: Shopify's is not`);
    compareInputs(`@${d.name}`, d.args, r.args, 'argument', out);
  }
  return out;
}
