/**
 * IAM policy documents as the local cloud evaluates them: parsing (with a refusal for anything it does not
 * evaluate), wildcard matching of actions and resources, condition operators, and the same-account decision
 * between identity-based and resource-based policies.
 *
 * References (IAM User Guide):
 * - "Policy evaluation logic" and "The difference between explicit and implicit denies": an explicit Deny in any
 *   applicable policy wins; otherwise, within one account, an Allow in the identity-based policies OR in the
 *   resource-based policy allows; otherwise the request is implicitly denied.
 * - "IAM JSON policy elements: Condition operators": several operators are ANDed, several keys of one operator
 *   are ANDed, several values of one key are ORed (NORed for a negated operator); "If the key that you specify in
 *   a policy condition is not present in the request context, the values do not match and the condition is false.
 *   If the policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike, and the
 *   right key is not present, the condition is true", except for `...IfExists` and `Null`.
 * - "Multivalued context keys": "The ForAllValues set operator also returns true if there are no context keys in
 *   the request"; ForAnyValue needs at least one value that matches.
 * - "IAM JSON policy elements: Condition operators" (ARN): each of the six colon-delimited components is matched
 *   separately, `*` and `?` allowed; "Condition key names are not case-sensitive" (EventBridge guide, "Using IAM
 *   policy conditions").
 * - "Policy variables": `${aws:PrincipalArn}` and friends in Resource and condition values (policy version
 *   2012-10-17 only), with `${*}`, `${?}`, `${$}` for the literal characters.
 */

/** Thrown while loading a policy the local cloud would not evaluate faithfully: the boot stops instead. */
export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPolicyError';
  }
}

/** Who makes a request. The admin (tests, tools) is never evaluated. */
export type Principal =
  | { readonly kind: 'admin' }
  | {
      readonly kind: 'role';
      /** `arn:aws:iam::<account>:role/<name>` — what `aws:PrincipalArn` and role principals name. */
      readonly roleArn: string;
      /** `arn:aws:sts::<account>:assumed-role/<name>/<session>` — what error messages name. */
      readonly sessionArn: string;
      readonly account: string;
    }
  | { readonly kind: 'service'; readonly service: string };

/** Context keys by lower-cased name; a single-valued key is a one-element list. */
export type RequestContext = Readonly<Record<string, readonly string[] | undefined>>;

/** The condition keys the local cloud puts into a request context (lower case). Any other key stops the boot. */
export const SUPPORTED_CONDITION_KEYS: ReadonlySet<string> = new Set([
  'aws:securetransport',
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:principalservicename',
  'aws:userid',
  'aws:requestedregion',
  'dynamodb:leadingkeys',
  'events:source',
  'events:detail-type',
  'iam:passedtoservice',
]);

/** Keys that can hold several values in one request: they need ForAllValues / ForAnyValue. */
const MULTIVALUED_KEYS: ReadonlySet<string> = new Set(['dynamodb:leadingkeys']);

/** Variables a policy may use (lower case). */
const SUPPORTED_VARIABLES: ReadonlySet<string> = new Set([
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:userid',
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:requestedregion',
]);

type BaseOperator = 'String' | 'StringIgnoreCase' | 'StringLike' | 'Arn' | 'Bool' | 'Null';

const BASE_OPERATORS: Readonly<Record<string, { base: BaseOperator; negated: boolean }>> = {
  StringEquals: { base: 'String', negated: false },
  StringNotEquals: { base: 'String', negated: true },
  StringEqualsIgnoreCase: { base: 'StringIgnoreCase', negated: false },
  StringNotEqualsIgnoreCase: { base: 'StringIgnoreCase', negated: true },
  StringLike: { base: 'StringLike', negated: false },
  StringNotLike: { base: 'StringLike', negated: true },
  ArnEquals: { base: 'Arn', negated: false },
  ArnNotEquals: { base: 'Arn', negated: true },
  ArnLike: { base: 'Arn', negated: false },
  ArnNotLike: { base: 'Arn', negated: true },
  Bool: { base: 'Bool', negated: false },
  Null: { base: 'Null', negated: false },
};

/** A policy value: literal text, or text with variables resolved per request (undefined: a variable is absent). */
type PolicyValue = (context: RequestContext) => string | undefined;

interface ConditionClause {
  readonly operator: string;
  readonly key: string;
  readonly base: BaseOperator;
  readonly negated: boolean;
  readonly ifExists: boolean;
  readonly set: 'ForAllValues' | 'ForAnyValue' | undefined;
  readonly values: readonly PolicyValue[];
}

/** Who a resource-based statement is for. */
interface PrincipalSpec {
  readonly everyone: boolean;
  readonly aws: readonly string[];
  readonly services: readonly string[];
}

export interface Statement {
  readonly sid?: string | undefined;
  readonly effect: 'Allow' | 'Deny';
  readonly principal?: PrincipalSpec | undefined;
  readonly actions?: readonly string[] | undefined;
  readonly notActions?: readonly string[] | undefined;
  readonly resources?: readonly PolicyValue[] | undefined;
  readonly notResources?: readonly PolicyValue[] | undefined;
  readonly conditions: readonly ConditionClause[];
}

export interface Policy {
  /** Where it comes from, for messages: `AWS::IAM::Policy MyPolicy`, `AWS::SQS::QueuePolicy …`. */
  readonly source: string;
  readonly kind: 'identity' | 'resource';
  readonly statements: readonly Statement[];
}

const STATEMENT_ELEMENTS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

function strings(value: unknown, where: string): string[] {
  const values = list(value);
  for (const item of values) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean')
      throw new UnsupportedPolicyError(`${where}: expected strings, got ${JSON.stringify(item)}`);
  }
  return values.map(String);
}

/** Compiles text that may hold policy variables into a function of the request context. */
function compileValue(text: string, variables: boolean, where: string): PolicyValue {
  if (!variables || !text.includes('${')) return () => text;
  const parts: (string | { key: string })[] = [];
  let rest = text;
  for (let start = rest.indexOf('${'); start >= 0; start = rest.indexOf('${')) {
    const end = rest.indexOf('}', start);
    if (end < 0) throw new UnsupportedPolicyError(`${where}: unterminated policy variable in ${text}`);
    parts.push(rest.slice(0, start));
    const name = rest.slice(start + 2, end).trim();
    if (name === '*' || name === '?' || name === '$') parts.push(name);
    else if (SUPPORTED_VARIABLES.has(name.toLowerCase())) parts.push({ key: name.toLowerCase() });
    else
      throw new UnsupportedPolicyError(
        `${where}: policy variable \${${name}} is not evaluated by the local cloud (known: ${[...SUPPORTED_VARIABLES].join(', ')})`,
      );
    rest = rest.slice(end + 1);
  }
  parts.push(rest);
  return (context) => {
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') out += part;
      else {
        const value = context[part.key]?.[0];
        if (value === undefined) return undefined;
        out += value;
      }
    }
    return out;
  };
}

function parseOperator(
  operator: string,
  where: string,
): Pick<ConditionClause, 'base' | 'negated' | 'ifExists' | 'set'> {
  let name = operator;
  let set: ConditionClause['set'];
  for (const prefix of ['ForAllValues', 'ForAnyValue'] as const) {
    if (name.startsWith(`${prefix}:`)) {
      set = prefix;
      name = name.slice(prefix.length + 1);
    }
  }
  const ifExists = name.endsWith('IfExists') && name !== 'IfExists';
  if (ifExists) name = name.slice(0, -'IfExists'.length);
  const known = BASE_OPERATORS[name];
  if (!known || (known.base === 'Null' && (ifExists || set)) || (known.base === 'Bool' && set)) {
    throw new UnsupportedPolicyError(
      `${where}: condition operator ${operator} is not evaluated by the local cloud (it evaluates String*, Arn*, Bool and Null, with IfExists and ForAllValues:/ForAnyValue:)`,
    );
  }
  return { ...known, ifExists, set };
}

/**
 * KMS encryption-context keys (e.g. Step Functions' `kms:EncryptionContext:aws:states:stateMachineArn` on a
 * state machine role's key grant). There is no local KMS, so no request ever carries them: in an Allow they
 * make the statement never apply (stricter than AWS, never kinder); a Deny conditioned on one is refused.
 */
const KMS_CONTEXT_KEY = /^kms:encryptioncontext:/;

function parseConditions(
  raw: unknown,
  variables: boolean,
  where: string,
  effect: 'Allow' | 'Deny' = 'Deny',
): ConditionClause[] {
  if (raw === undefined) return [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UnsupportedPolicyError(`${where}: Condition must be an object`);
  const clauses: ConditionClause[] = [];
  for (const [operator, keys] of Object.entries(raw)) {
    const parsed = parseOperator(operator, where);
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys))
      throw new UnsupportedPolicyError(`${where}: ${operator} must map keys to values`);
    for (const [rawKey, rawValues] of Object.entries(keys)) {
      const key = rawKey.toLowerCase();
      if (!SUPPORTED_CONDITION_KEYS.has(key) && !(effect === 'Allow' && KMS_CONTEXT_KEY.test(key))) {
        throw new UnsupportedPolicyError(
          `${where}: condition key ${rawKey} is not evaluated by the local cloud (known: ${[...SUPPORTED_CONDITION_KEYS].join(', ')})`,
        );
      }
      if (MULTIVALUED_KEYS.has(key) && !parsed.set && parsed.base !== 'Null') {
        throw new UnsupportedPolicyError(
          `${where}: ${rawKey} is multivalued; use ForAllValues: or ForAnyValue: with ${operator}`,
        );
      }
      clauses.push({
        operator,
        key,
        ...parsed,
        values: strings(rawValues, `${where} ${operator} ${rawKey}`).map((value) =>
          compileValue(value, variables, where),
        ),
      });
    }
  }
  return clauses;
}

function parsePrincipal(raw: unknown, where: string): PrincipalSpec {
  if (raw === '*') return { everyone: true, aws: [], services: [] };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new UnsupportedPolicyError(`${where}: Principal must be "*" or an object`);
  const aws: string[] = [];
  const services: string[] = [];
  for (const [type, value] of Object.entries(raw)) {
    if (type === 'AWS') aws.push(...strings(value, where));
    else if (type === 'Service') services.push(...strings(value, where));
    else
      throw new UnsupportedPolicyError(
        `${where}: principal type ${type} is not evaluated by the local cloud`,
      );
  }
  return { everyone: aws.includes('*'), aws, services };
}

/**
 * Parses one policy document (CloudFormation-resolved). Identity policies must not name principals; resource
 * policies must.
 *
 * @throws UnsupportedPolicyError for an element, condition operator, condition key, principal type or policy
 *   variable the local cloud does not evaluate, so a policy is never half-enforced.
 */
export function parsePolicy(document: unknown, kind: Policy['kind'], source: string): Policy {
  if (typeof document !== 'object' || document === null)
    throw new UnsupportedPolicyError(`${source}: the policy document is not an object`);
  const doc = document as { Version?: unknown; Statement?: unknown };
  // Policy variables exist only in version 2012-10-17; in 2008-10-17 `${…}` is literal text.
  const variables = doc.Version === '2012-10-17';
  const statements = list(doc.Statement).map((raw, index): Statement => {
    const where = `${source} statement ${index}`;
    if (typeof raw !== 'object' || raw === null) throw new UnsupportedPolicyError(`${where}: not an object`);
    const statement = raw as Record<string, unknown>;
    for (const element of Object.keys(statement)) {
      if (!STATEMENT_ELEMENTS.has(element))
        throw new UnsupportedPolicyError(`${where}: element ${element} is not evaluated by the local cloud`);
    }
    if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny')
      throw new UnsupportedPolicyError(`${where}: Effect must be Allow or Deny`);
    if (kind === 'identity' && statement.Principal !== undefined)
      throw new UnsupportedPolicyError(`${where}: an identity-based policy cannot name a Principal`);
    if (kind === 'resource' && statement.Principal === undefined)
      throw new UnsupportedPolicyError(`${where}: a resource-based policy needs a Principal`);
    const values = (element: string) =>
      statement[element] === undefined
        ? undefined
        : strings(statement[element], where).map((value) => compileValue(value, variables, where));
    return {
      sid: typeof statement.Sid === 'string' ? statement.Sid : undefined,
      effect: statement.Effect,
      principal: statement.Principal === undefined ? undefined : parsePrincipal(statement.Principal, where),
      actions: statement.Action === undefined ? undefined : strings(statement.Action, where),
      notActions: statement.NotAction === undefined ? undefined : strings(statement.NotAction, where),
      resources: values('Resource'),
      notResources: values('NotResource'),
      conditions: parseConditions(statement.Condition, variables, where, statement.Effect),
    };
  });
  return { source, kind, statements };
}

const patternCache = new Map<string, RegExp>();

/** `*` (any run of characters) and `?` (one character) glob, anchored. */
export function wildcardMatch(pattern: string, value: string, ignoreCase = false): boolean {
  if (pattern === '*') return true;
  if (!pattern.includes('*') && !pattern.includes('?'))
    return ignoreCase ? pattern.toLowerCase() === value.toLowerCase() : pattern === value;
  const cacheKey = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let regex = patternCache.get(cacheKey);
  if (!regex) {
    const source = pattern
      .split('')
      .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
    patternCache.set(cacheKey, regex);
  }
  return regex.test(value);
}

function arnComponents(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/** ArnEquals / ArnLike: the six components matched one by one, each with `*` and `?`. */
export function arnMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const expected = arnComponents(pattern);
  const actual = arnComponents(value);
  if (!expected || !actual) return false;
  return expected.every((component, index) => wildcardMatch(component, actual[index] ?? ''));
}

function baseMatch(base: BaseOperator, expected: string, actual: string): boolean {
  switch (base) {
    case 'String':
      return expected === actual;
    case 'StringIgnoreCase':
      return expected.toLowerCase() === actual.toLowerCase();
    case 'StringLike':
      return wildcardMatch(expected, actual);
    case 'Arn':
      return arnMatch(expected, actual);
    case 'Bool':
      return expected.toLowerCase() === actual.toLowerCase();
    case 'Null':
      return false;
  }
}

function clauseHolds(clause: ConditionClause, context: RequestContext): boolean {
  const present = context[clause.key];
  const exists = present !== undefined && present.length > 0;
  if (clause.base === 'Null') {
    // "true": the key must be absent; "false": it must be present. Several values are ORed.
    return clause.values.some((value) => (value(context) ?? '').toLowerCase() === String(!exists));
  }
  const expected = clause.values.map((value) => value(context)).filter((value) => value !== undefined);
  /** One request value against the policy values: OR of matches, or NOR for a negated operator. */
  const valueHolds = (actual: string) => {
    const matched = expected.some((value) => baseMatch(clause.base, value, actual));
    return clause.negated ? !matched : matched;
  };
  if (!exists) {
    if (clause.ifExists) return true;
    if (clause.set === 'ForAllValues') return true;
    if (clause.set === 'ForAnyValue') return false;
    return clause.negated;
  }
  if (clause.set === 'ForAllValues') return present.every(valueHolds);
  return present.some(valueHolds);
}

function principalMatches(spec: PrincipalSpec, principal: Principal): 'grant' | 'delegate' | false {
  if (spec.everyone) return 'grant';
  if (principal.kind === 'service') return spec.services.includes(principal.service) ? 'grant' : false;
  if (principal.kind !== 'role') return false;
  for (const aws of spec.aws) {
    if (aws === principal.roleArn) return 'grant';
    // An account principal delegates to the account's IAM policies: it does not grant by itself (IAM User
    // Guide, "AWS account principals").
    if (aws === principal.account || aws === `arn:aws:iam::${principal.account}:root`) return 'delegate';
  }
  return false;
}

function statementTargets(statement: Statement, action: string, resource: string, context: RequestContext) {
  const actionMatches = statement.actions
    ? statement.actions.some((pattern) => wildcardMatch(pattern, action, true))
    : !(statement.notActions ?? []).some((pattern) => wildcardMatch(pattern, action, true));
  if (!actionMatches) return false;
  const resourceMatch = (value: PolicyValue) => {
    const pattern = value(context);
    return pattern !== undefined && wildcardMatch(pattern, resource);
  };
  return statement.resources
    ? statement.resources.some(resourceMatch)
    : statement.notResources
      ? !statement.notResources.some(resourceMatch)
      : // A resource-based policy statement without Resource applies to the resource it is attached to.
        true;
}

export interface EvaluationRequest {
  readonly principal: Principal;
  readonly action: string;
  readonly resource: string;
  readonly context: RequestContext;
}

export interface Evaluation {
  readonly decision: 'allow' | 'explicit-deny' | 'implicit-deny';
  /** The policy of the explicit Deny. */
  readonly deniedBy?: {
    readonly source: string;
    readonly kind: Policy['kind'];
    readonly sid?: string | undefined;
  };
  /** Condition keys that failed in Allow statements whose action, resource and principal matched. */
  readonly failedConditionKeys: readonly string[];
}

/**
 * Decides a request within one account: explicit Deny anywhere → denied; else an Allow in the principal's
 * identity-based policies or (with the principal named) in the resource-based policy → allowed; else implicitly
 * denied. A service principal has no identity-based policies: only the resource-based policy can allow it.
 */
export function evaluate(
  request: EvaluationRequest,
  identityPolicies: readonly Policy[],
  resourcePolicy: Policy | undefined,
): Evaluation {
  let allowed = false;
  const failedConditionKeys = new Set<string>();
  const applicable: { policy: Policy; statement: Statement }[] = [];
  if (request.principal.kind === 'role') {
    for (const policy of identityPolicies)
      for (const statement of policy.statements) applicable.push({ policy, statement });
  }
  for (const statement of resourcePolicy?.statements ?? [])
    applicable.push({ policy: resourcePolicy as Policy, statement });
  for (const { policy, statement } of applicable) {
    let grants = true;
    if (statement.principal) {
      const match = principalMatches(statement.principal, request.principal);
      if (!match) continue;
      grants = match === 'grant';
    }
    if (!statementTargets(statement, request.action, request.resource, request.context)) continue;
    const failing = statement.conditions.filter((clause) => !clauseHolds(clause, request.context));
    if (failing.length > 0) {
      if (statement.effect === 'Allow') for (const clause of failing) failedConditionKeys.add(clause.key);
      continue;
    }
    if (statement.effect === 'Deny') {
      return {
        decision: 'explicit-deny',
        deniedBy: { source: policy.source, kind: policy.kind, sid: statement.sid },
        failedConditionKeys: [...failedConditionKeys],
      };
    }
    if (grants) allowed = true;
  }
  return { decision: allowed ? 'allow' : 'implicit-deny', failedConditionKeys: [...failedConditionKeys] };
}
