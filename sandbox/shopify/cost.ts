import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  GraphQLError,
  type GraphQLField,
  GraphQLIncludeDirective,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  GraphQLSkipDirective,
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  isAbstractType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type VariableValues,
} from 'graphql';

/**
 * Shopify's calculated query cost, computed from the parsed query as Shopify documents it
 * (shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits):
 *
 * | field returns       | cost                                              |
 * |---------------------|---------------------------------------------------|
 * | scalar, enum        | 0                                                 |
 * | object              | 1                                                 |
 * | interface, union    | maximum of the possible selections                |
 * | connection          | 2 + `first`/`last` × cost of one node             |
 * | mutation            | 10 (plus the connections selected in its payload) |
 *
 * The *requested* cost is that static analysis (the most the query could cost); the *actual* cost
 * recomputes it over the data that came back (a `null` object costs nothing, a connection that
 * returned 3 of 50 nodes costs 2 + 3 × node). The bucket is charged the requested cost before
 * execution and refunded the difference afterwards. A single query may not exceed 1,000 points
 * (`MAX_COST_EXCEEDED`, checked against the requested cost).
 *
 * Two documented refinements are applied: `productSet` and `productVariantsBulkUpdate` cost 10 + 0.2 per variant (their "dynamic
 * complexity"), and a plain list of objects (not a connection, e.g. `quantities(names:)`) costs
 * as one object, since Shopify only multiplies by the page size of connections. `nodes(ids:)`
 * costs one object per id.
 */
export interface CostOptions {
  /** Base cost of a mutation field. @default 10 */
  mutationCost?: number;
}

/** The single-query limit Shopify enforces on the requested cost. */
export const MAX_SINGLE_QUERY_COST = 1000;

/** Shopify's input array limit (shopify.dev/docs/api/usage/limits#input-limits). */
export const MAX_INPUT_ARRAY_SIZE = 250;

interface Ctx {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: VariableValues;
  mutationCost: number;
}

/** Fragment definitions of a document by name. */
export function fragmentsOf(document: DocumentNode): Map<string, FragmentDefinitionNode> {
  const out = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) {
    if (def.kind === Kind.FRAGMENT_DEFINITION) out.set(def.name.value, def);
  }
  return out;
}

/** The requested (worst-case) cost of `operation`. */
export function requestedCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: VariableValues,
  options: CostOptions = {},
): number {
  const ctx: Ctx = {
    schema,
    fragments: fragmentsOf(document),
    variables,
    mutationCost: options.mutationCost ?? 10,
  };
  const root = rootType(schema, operation);
  return Math.ceil(
    selectionCost(ctx, operation.selectionSet, root, operation.operation === 'mutation', false),
  );
}

/** The actual cost of `operation` given the `data` it returned. */
export function actualCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: VariableValues,
  data: unknown,
  options: CostOptions = {},
): number {
  const ctx: Ctx = {
    schema,
    fragments: fragmentsOf(document),
    variables,
    mutationCost: options.mutationCost ?? 10,
  };
  const root = rootType(schema, operation);
  return Math.ceil(
    actualSelectionCost(ctx, operation.selectionSet, root, data, operation.operation === 'mutation', false),
  );
}

function rootType(schema: GraphQLSchema, operation: OperationDefinitionNode): GraphQLObjectType {
  const t = operation.operation === 'mutation' ? schema.getMutationType() : schema.getQueryType();
  if (!t) throw new Error(`schema has no ${operation.operation} type`);
  return t;
}

/** A field selected on a concrete object type, after fragments and @skip/@include. */
interface Collected {
  node: FieldNode;
  def: GraphQLField<unknown, unknown>;
  responseKey: string;
}

function included(
  ctx: Ctx,
  node: { directives?: readonly import('graphql').DirectiveNode[] | undefined },
): boolean {
  const skip = getDirectiveValues(GraphQLSkipDirective, node, ctx.variables);
  if (skip?.if === true) return false;
  const include = getDirectiveValues(GraphQLIncludeDirective, node, ctx.variables);
  return include?.if !== false;
}

function typeApplies(ctx: Ctx, condition: string | undefined, type: GraphQLObjectType): boolean {
  if (!condition || condition === type.name) return true;
  const cond = ctx.schema.getType(condition);
  return cond !== undefined && isAbstractType(cond) && ctx.schema.isSubType(cond, type);
}

/** Fields selected on `type` (merging same response keys, as execution does). */
function collect(
  ctx: Ctx,
  set: SelectionSetNode,
  type: GraphQLObjectType,
  out: Map<string, Collected[]> = new Map(),
): Map<string, Collected[]> {
  const fields = type.getFields();
  for (const sel of set.selections) {
    if (!included(ctx, sel)) continue;
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (name.startsWith('__')) continue;
      const def = fields[name];
      if (!def) continue;
      const key = sel.alias?.value ?? name;
      const list = out.get(key) ?? [];
      list.push({ node: sel, def, responseKey: key });
      out.set(key, list);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      if (typeApplies(ctx, sel.typeCondition?.name.value, type)) collect(ctx, sel.selectionSet, type, out);
    } else {
      const frag = ctx.fragments.get(sel.name.value);
      if (frag && typeApplies(ctx, frag.typeCondition.name.value, type))
        collect(ctx, frag.selectionSet, type, out);
    }
  }
  return out;
}

/** Sub-selections of merged field nodes, as one synthetic selection set. */
function mergedSelections(nodes: readonly Collected[]): SelectionSetNode | undefined {
  const selections = nodes.flatMap((c) => c.node.selectionSet?.selections ?? []);
  return selections.length > 0 ? { kind: Kind.SELECTION_SET, selections } : undefined;
}

function concreteTypes(ctx: Ctx, named: GraphQLNamedType): readonly GraphQLObjectType[] {
  if (isObjectType(named)) return [named];
  if (isAbstractType(named)) return ctx.schema.getPossibleTypes(named);
  return [];
}

/** A Relay connection as Shopify shapes them: `edges { node }`, `nodes`, `pageInfo`. */
function isConnection(type: GraphQLNamedType): type is GraphQLObjectType {
  if (!isObjectType(type) || !type.name.endsWith('Connection')) return false;
  const f = type.getFields();
  return f.edges !== undefined && f.pageInfo !== undefined;
}

function connectionNodeType(type: GraphQLObjectType): GraphQLNamedType | undefined {
  const nodes = type.getFields().nodes;
  return nodes ? getNamedType(nodes.type) : undefined;
}

function args(ctx: Ctx, c: Collected): Record<string, unknown> {
  try {
    return getArgumentValues(c.def, c.node, ctx.variables) as Record<string, unknown>;
  } catch {
    return {};
  }
}

function pageSize(a: Record<string, unknown>): number {
  const first = typeof a.first === 'number' ? a.first : undefined;
  const last = typeof a.last === 'number' ? a.last : undefined;
  return Math.max(0, first ?? last ?? 0);
}

/** Cost of selecting `set` on a value of (named) type `type`; abstract types take the max branch. */
function selectionCost(
  ctx: Ctx,
  set: SelectionSetNode,
  type: GraphQLNamedType,
  isMutationRoot: boolean,
  inPayload: boolean,
): number {
  let best = 0;
  for (const concrete of concreteTypes(ctx, type)) {
    let sum = 0;
    for (const group of collect(ctx, set, concrete).values()) {
      const first = group[0];
      if (!first) continue;
      sum += fieldCost(ctx, group, first, isMutationRoot, inPayload);
    }
    best = Math.max(best, sum);
  }
  return best;
}

function fieldCost(
  ctx: Ctx,
  group: Collected[],
  c: Collected,
  isMutationRoot: boolean,
  inPayload: boolean,
): number {
  const named = getNamedType(c.def.type);
  const sub = mergedSelections(group);
  if (isMutationRoot) {
    const base = mutationBaseCost(ctx, c);
    return base + (sub ? selectionCost(ctx, sub, named, false, true) : 0);
  }
  if (!sub) return 0; // scalar or enum
  if (isConnection(named)) {
    return 2 + pageSize(args(ctx, c)) * connectionItemCost(ctx, sub, named, false);
  }
  const objectCost = inPayload ? 0 : 1;
  if (c.def.name === 'nodes' && isListType(unwrap(c.def.type))) {
    const ids = args(ctx, c).ids;
    const n = Array.isArray(ids) ? ids.length : 0;
    return n * (1 + selectionCost(ctx, sub, named, false, false));
  }
  return objectCost + selectionCost(ctx, sub, named, false, inPayload);
}

/** Per-node cost of a connection: the node object plus its selections (via `edges.node` or `nodes`). */
function connectionItemCost(
  ctx: Ctx,
  set: SelectionSetNode,
  conn: GraphQLObjectType,
  _inPayload: boolean,
): number {
  const nodeType = connectionNodeType(conn);
  if (!nodeType) return 1;
  let best = 0;
  for (const group of collect(ctx, set, conn).values()) {
    const c = group[0];
    if (!c) continue;
    const sub = mergedSelections(group);
    if (!sub) continue;
    if (c.def.name === 'nodes') {
      best = Math.max(best, selectionCost(ctx, sub, nodeType, false, false));
    } else if (c.def.name === 'edges') {
      const edgeType = getNamedType(c.def.type);
      if (!isObjectType(edgeType)) continue;
      for (const eg of collect(ctx, sub, edgeType).values()) {
        const e = eg[0];
        const esub = mergedSelections(eg);
        if (e?.def.name === 'node' && esub)
          best = Math.max(best, selectionCost(ctx, esub, nodeType, false, false));
      }
    }
  }
  return 1 + best;
}

function mutationBaseCost(ctx: Ctx, c: Collected): number {
  if (c.def.name === 'productSet') {
    const input = args(ctx, c).input as { variants?: unknown[] } | undefined;
    const variants = Array.isArray(input?.variants) ? input.variants.length : 0;
    return ctx.mutationCost + 0.2 * variants;
  }
  // Same dynamic complexity, 10 + 0.2 per variant, on all versions (changelog "Dynamic complexity for
  // productVariantsBulkCreate and productVariantsBulkUpdate mutations", October 2025,
  // https://shopify.dev/changelog/dynamic-complexity-for-productvariantsbulkcreate-and-productvariantsbulkupdate-mutations).
  if (c.def.name === 'productVariantsBulkUpdate') {
    const variants = args(ctx, c).variants;
    return ctx.mutationCost + 0.2 * (Array.isArray(variants) ? variants.length : 0);
  }
  return ctx.mutationCost;
}

function unwrap(t: import('graphql').GraphQLOutputType): import('graphql').GraphQLOutputType {
  return isNonNullType(t) ? t.ofType : t;
}

// ------------------------------------------------------------------ actual cost

function actualSelectionCost(
  ctx: Ctx,
  set: SelectionSetNode,
  type: GraphQLNamedType,
  data: unknown,
  isMutationRoot: boolean,
  inPayload: boolean,
): number {
  if (data === null || data === undefined || typeof data !== 'object') return 0;
  const obj = data as Record<string, unknown>;
  let best = 0;
  for (const concrete of concreteTypes(ctx, type)) {
    let sum = 0;
    for (const group of collect(ctx, set, concrete).values()) {
      const c = group[0];
      if (!c || !(c.responseKey in obj)) continue;
      sum += actualFieldCost(ctx, group, c, obj[c.responseKey], isMutationRoot, inPayload);
    }
    best = Math.max(best, sum);
  }
  return best;
}

function actualFieldCost(
  ctx: Ctx,
  group: Collected[],
  c: Collected,
  value: unknown,
  isMutationRoot: boolean,
  inPayload: boolean,
): number {
  const named = getNamedType(c.def.type);
  const sub = mergedSelections(group);
  if (isMutationRoot) {
    return mutationBaseCost(ctx, c) + (sub ? actualSelectionCost(ctx, sub, named, value, false, true) : 0);
  }
  if (!sub || value === null || value === undefined) return 0;
  if (isConnection(named)) return 2 + actualConnectionCost(ctx, sub, named, value);
  if (Array.isArray(value)) {
    if (c.def.name === 'nodes') {
      return value.reduce<number>(
        (acc, v) => acc + (v === null ? 0 : 1 + actualSelectionCost(ctx, sub, named, v, false, false)),
        0,
      );
    }
    const inner = value.reduce<number>(
      (acc, v) => Math.max(acc, actualSelectionCost(ctx, sub, named, v, false, inPayload)),
      0,
    );
    return (inPayload ? 0 : 1) + inner;
  }
  return (inPayload ? 0 : 1) + actualSelectionCost(ctx, sub, named, value, false, inPayload);
}

function actualConnectionCost(
  ctx: Ctx,
  set: SelectionSetNode,
  conn: GraphQLObjectType,
  value: unknown,
): number {
  if (value === null || typeof value !== 'object') return 0;
  const v = value as Record<string, unknown>;
  const nodeType = connectionNodeType(conn);
  if (!nodeType) return 0;
  const perNode = new Map<number, number>();
  let count = 0;
  for (const group of collect(ctx, set, conn).values()) {
    const c = group[0];
    const sub = mergedSelections(group);
    const items = c ? v[c.responseKey] : undefined;
    if (!c || !sub || !Array.isArray(items)) continue;
    count = Math.max(count, items.length);
    if (c.def.name === 'nodes') {
      items.forEach((n, i) => {
        perNode.set(
          i,
          Math.max(perNode.get(i) ?? 0, actualSelectionCost(ctx, sub, nodeType, n, false, false)),
        );
      });
    } else if (c.def.name === 'edges') {
      const edgeType = getNamedType(c.def.type);
      if (!isObjectType(edgeType)) continue;
      for (const eg of collect(ctx, sub, edgeType).values()) {
        const e = eg[0];
        const esub = mergedSelections(eg);
        if (e?.def.name !== 'node' || !esub) continue;
        items.forEach((edge, i) => {
          const node =
            edge && typeof edge === 'object' ? (edge as Record<string, unknown>)[e.responseKey] : undefined;
          perNode.set(
            i,
            Math.max(perNode.get(i) ?? 0, actualSelectionCost(ctx, esub, nodeType, node, false, false)),
          );
        });
      }
    }
  }
  let sum = 0;
  for (let i = 0; i < count; i++) sum += 1 + (perNode.get(i) ?? 0);
  return sum;
}

// ------------------------------------------------------------------ argument limits

/**
 * Checks the documented limits on arguments before execution, returning Shopify-shaped errors:
 * - an input array longer than 250 → `MAX_INPUT_SIZE_EXCEEDED`
 *   ("The input array size of 251 is greater than the maximum allowed of 250.");
 * - a connection without `first` or `last` → "you must provide one of first or last".
 */
export function argumentErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: VariableValues,
): GraphQLError[] {
  const ctx: Ctx = { schema, fragments: fragmentsOf(document), variables, mutationCost: 10 };
  const errors: GraphQLError[] = [];
  walkArgs(ctx, operation.selectionSet, rootType(schema, operation), [], errors, new Set());
  return errors;
}

function walkArgs(
  ctx: Ctx,
  set: SelectionSetNode,
  type: GraphQLNamedType,
  path: string[],
  errors: GraphQLError[],
  seen: Set<FieldNode>,
): void {
  for (const concrete of concreteTypes(ctx, type)) {
    for (const group of collect(ctx, set, concrete).values()) {
      const c = group[0];
      if (!c || seen.has(c.node)) continue;
      seen.add(c.node);
      const fieldPath = [...path, c.responseKey];
      const a = args(ctx, c);
      for (const argDef of c.def.args) {
        checkArray(a[argDef.name], argDef.type, [...fieldPath, argDef.name], c.node, errors);
      }
      const named = getNamedType(c.def.type);
      if (isConnection(named) && typeof a.first !== 'number' && typeof a.last !== 'number') {
        errors.push(
          new GraphQLError('you must provide one of first or last', { nodes: [c.node], path: fieldPath }),
        );
      }
      const sub = mergedSelections(group);
      if (sub) walkArgs(ctx, sub, named, fieldPath, errors, seen);
    }
  }
}

function checkArray(
  value: unknown,
  type: GraphQLInputType,
  path: string[],
  node: FieldNode,
  errors: GraphQLError[],
): void {
  const t = isNonNullType(type) ? type.ofType : type;
  if (value === null || value === undefined) return;
  if (isListType(t) && Array.isArray(value)) {
    if (value.length > MAX_INPUT_ARRAY_SIZE) {
      errors.push(
        new GraphQLError(
          `The input array size of ${value.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY_SIZE}.`,
          { nodes: [node], path, extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED' } },
        ),
      );
      return;
    }
    value.forEach((v) => {
      checkArray(v, t.ofType, path, node, errors);
    });
    return;
  }
  if (isInputObjectType(t) && typeof value === 'object') {
    const fields = t.getFields();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const f = fields[k];
      if (f) checkArray(v, f.type, [...path, k], node, errors);
    }
  }
}
