/**
 * EventBridge event-pattern matching for the local bus.
 *
 * Hand-written because no npm package matches EventBridge's documented semantics. The reference is the
 * Amazon EventBridge User Guide ("Creating event patterns in EventBridge", "Comparison operators for use
 * in event patterns in Amazon EventBridge", "Arrays in Amazon EventBridge event patterns", "Matching events
 * on null values and empty strings in Amazon EventBridge"); where the guide is silent, behaviour follows
 * aws/event-ruler, the open-source matcher behind EventBridge (notes on each such place below).
 *
 * A pattern is compiled once into closures (`compilePattern`), because the local bus evaluates every rule
 * against every event; compiling also validates, so a pattern EventBridge would reject with
 * `InvalidEventPatternException` fails here, at deploy time of the local cloud, not on the first event.
 */
import { HubError } from '#shared/errors.ts';

/**
 * An event pattern as it appears in a template or a `PutRule` call, already parsed from JSON. Kept loose on
 * purpose: patterns reach the local cloud from synthesized templates as untyped JSON, and `compilePattern`
 * validates the shape at runtime exactly as EventBridge does.
 */
export type EventPattern = Readonly<Record<string, unknown>>;

/** A compiled pattern: true when the whole EventBridge event (envelope and `detail`) matches. */
export type EventMatcher = (event: unknown) => boolean;

/**
 * A pattern EventBridge would refuse (`PutRule`, `TestEventPattern`): thrown when the local cloud loads a
 * rule, so a pattern that cannot deploy never silently matches nothing locally.
 */
export class InvalidEventPatternError extends HubError {
  readonly code = 'InvalidEventPatternException';
  readonly retryable = false;

  /** What is wrong, phrased like EventBridge's own `Reason:`. */
  readonly reason: string;
  /** Where in the pattern, as a JSON path (`$.detail.state[0]`). */
  readonly path: string;

  constructor(reason: string, path: string) {
    super(`Event pattern is not valid. Reason: ${reason} at ${path}`);
    this.reason = reason;
    this.path = path;
  }
}

/** Numeric matching is limited to -5.0e9..+5.0e9 inclusive, six digits right of the decimal point. */
const NUMERIC_LIMIT = 5e9;
const MAX_DECIMAL_PLACES = 6;
/** `$or` may expand to at most this many rule combinations (PutRule, TestEventPattern reject more). */
const MAX_OR_COMBINATIONS = 1000;

const OR_KEYWORD = '$or';

/** The operators anything-but can wrap; the guide documents no others. */
const ANYTHING_BUT_MODIFIERS = new Set(['prefix', 'suffix', 'equals-ignore-case', 'wildcard']);

/** Field names that cannot appear inside `$or` branches (event-ruler rejects them as reserved). */
const RESERVED_IN_OR = new Set([
  'prefix',
  'suffix',
  'equals-ignore-case',
  'wildcard',
  'anything-but',
  'numeric',
  'exists',
  'cidr',
  'exactly',
  '=',
  '<',
  '<=',
  '>',
  '>=',
]);

type ValueTest = (value: unknown) => boolean;

/** Matches one pattern object against a context value (object, array, scalar or `undefined` = absent). */
type ObjectMatcher = (context: unknown) => boolean;

interface CompiledObject {
  readonly match: ObjectMatcher;
  /** How many plain rules the `$or`s expand to; EventBridge caps it. */
  readonly combinations: number;
  /** Only `exists: false` conditions: over an array, every element must satisfy it (see `compileObject`). */
  readonly absenceOnly: boolean;
}

interface CompiledLeaf {
  readonly match: (values: readonly unknown[]) => boolean;
  readonly absenceOnly: boolean;
}

/**
 * Compiles (and validates) a pattern once, for a bus that evaluates it against many events.
 * Accepts the pattern as a JSON string, as `PutRule` does, or already parsed.
 *
 * @throws InvalidEventPatternError when EventBridge would reject the pattern.
 */
export function compilePattern(pattern: EventPattern | string): EventMatcher {
  const parsed = typeof pattern === 'string' ? parseJson(pattern) : pattern;
  if (!isPlainObject(parsed)) {
    throw new InvalidEventPatternError('Filter is not an object', '$');
  }
  const compiled = compileObject(parsed, '$', false);
  if (compiled.combinations > MAX_OR_COMBINATIONS) {
    throw new InvalidEventPatternError(
      `$or expands to ${compiled.combinations} rule combinations; at most ${MAX_OR_COMBINATIONS} are allowed`,
      '$',
    );
  }
  return (event) => compiled.match(event);
}

/**
 * One-off match, as `TestEventPattern` does. Prefer `compilePattern` when the same pattern is evaluated
 * repeatedly: this compiles on every call.
 *
 * @throws InvalidEventPatternError when EventBridge would reject the pattern.
 */
export function matchesPattern(pattern: EventPattern | string, event: unknown): boolean {
  return compilePattern(pattern)(event);
}

/**
 * Rejects, with EventBridge's error code, any pattern EventBridge would reject — so rules from a template
 * fail when the local cloud loads them, as `cdk deploy` would. A string is parsed as JSON first.
 *
 * @throws InvalidEventPatternError describing the first problem found.
 */
export function validatePattern(pattern: unknown): void {
  if (typeof pattern !== 'string' && !isPlainObject(pattern)) {
    throw new InvalidEventPatternError('Filter is not an object', '$');
  }
  compilePattern(pattern);
}

// ---------------------------------------------------------------------------------------------------------
// Structure: objects (AND across fields), $or, leaf value lists (OR across values)
// ---------------------------------------------------------------------------------------------------------

function compileObject(
  pattern: Readonly<Record<string, unknown>>,
  path: string,
  insideOr: boolean,
): CompiledObject {
  const keys = Object.keys(pattern);
  if (keys.length === 0) {
    throw new InvalidEventPatternError('Empty objects are not allowed', path);
  }
  const conditions: ObjectMatcher[] = [];
  let combinations = 1;
  let absenceOnly = true;

  for (const key of keys) {
    const value = pattern[key];
    const fieldPath = `${path}.${key}`;
    if (key === OR_KEYWORD) {
      const or = compileOr(value, fieldPath);
      conditions.push(or.match);
      combinations *= or.combinations;
      absenceOnly &&= or.absenceOnly;
      continue;
    }
    if (insideOr && RESERVED_IN_OR.has(key)) {
      throw new InvalidEventPatternError(
        `${key} is a reserved field name which cannot be used inside $or`,
        fieldPath,
      );
    }
    if (isPlainObject(value)) {
      const child = compileObject(value, fieldPath, insideOr);
      conditions.push((context) => child.match(fieldOf(context, key)));
      combinations *= child.combinations;
      absenceOnly &&= child.absenceOnly;
    } else if (Array.isArray(value)) {
      const leaf = compileLeaf(value, fieldPath);
      conditions.push((context) => leaf.match(leafValues(fieldOf(context, key))));
      absenceOnly &&= leaf.absenceOnly;
    } else {
      throw new InvalidEventPatternError(`"${key}" must be an object or an array`, fieldPath);
    }
  }

  const matchHere: ObjectMatcher = (context) => conditions.every((condition) => condition(context));
  // Arrays of objects are "crushed out" (event-ruler README, JSON Array Matching), but array-consistently:
  // all fields of one pattern object must be satisfied by the same array element. A pattern object made
  // only of `exists: false` has no element to anchor on; event-ruler then checks absence across the whole
  // array, so every element must lack the field.
  const match: ObjectMatcher = (context) => {
    if (!Array.isArray(context)) {
      return matchHere(context);
    }
    const elements = flattenArray(context);
    if (elements.length === 0) {
      return matchHere(undefined);
    }
    return absenceOnly ? elements.every(matchHere) : elements.some(matchHere);
  };
  return { match, combinations, absenceOnly };
}

function compileOr(value: unknown, path: string): CompiledObject {
  if (!Array.isArray(value)) {
    throw new InvalidEventPatternError('It must be an Array followed with $or', path);
  }
  if (value.length < 2) {
    throw new InvalidEventPatternError('There must have at least 2 Objects in $or relationship', path);
  }
  const branches = value.map((branch: unknown, index) => {
    if (!isPlainObject(branch)) {
      throw new InvalidEventPatternError(
        'Only JSON object is allowed in array of $or relationship',
        `${path}[${index}]`,
      );
    }
    return compileObject(branch, `${path}[${index}]`, true);
  });
  return {
    match: (context) => branches.some((branch) => branch.match(context)),
    combinations: branches.reduce((sum, branch) => sum + branch.combinations, 0),
    absenceOnly: branches.every((branch) => branch.absenceOnly),
  };
}

function compileLeaf(values: readonly unknown[], path: string): CompiledLeaf {
  if (values.length === 0) {
    throw new InvalidEventPatternError('Empty arrays are not allowed', path);
  }
  const tests: ValueTest[] = [];
  let matchesPresent = false;
  let matchesAbsent = false;

  values.forEach((value, index) => {
    const valuePath = `${path}[${index}]`;
    if (typeof value === 'string' || typeof value === 'boolean' || value === null) {
      tests.push((candidate) => candidate === value);
    } else if (typeof value === 'number') {
      assertFiniteNumber(value, valuePath);
      // JSON numbers arrive parsed, so 300, 300.0 and 3.0e2 are the same JS number and match each other.
      tests.push((candidate) => candidate === value);
    } else if (isPlainObject(value)) {
      const expression = compileExpression(value, valuePath);
      if (expression === 'present') {
        matchesPresent = true;
      } else if (expression === 'absent') {
        matchesAbsent = true;
      } else {
        tests.push(expression);
      }
    } else {
      throw new InvalidEventPatternError(
        'Match value must be String, number, true, false, or null',
        valuePath,
      );
    }
  });

  const anyValue: ValueTest =
    tests.length === 1 && tests[0] ? tests[0] : (v) => tests.some((test) => test(v));
  return {
    match: (found) =>
      (matchesPresent && found.length > 0) ||
      (matchesAbsent && found.length === 0) ||
      (tests.length > 0 && found.some(anyValue)),
    absenceOnly: matchesAbsent && !matchesPresent && tests.length === 0,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Match expressions: { "prefix": ... }, { "numeric": [...] }, ...
// ---------------------------------------------------------------------------------------------------------

function compileExpression(
  expression: Readonly<Record<string, unknown>>,
  path: string,
): ValueTest | 'present' | 'absent' {
  const keys = Object.keys(expression);
  const operator = keys[0];
  if (operator === undefined) {
    throw new InvalidEventPatternError('Match expression name not found', path);
  }
  if (keys.length > 1) {
    throw new InvalidEventPatternError('Only one key allowed in match expression', path);
  }
  const operand = expression[operator];
  const operandPath = `${path}.${operator}`;

  switch (operator) {
    case 'prefix':
      return compilePrefixOrSuffix(operand, operandPath, 'prefix');
    case 'suffix':
      return compilePrefixOrSuffix(operand, operandPath, 'suffix');
    case 'equals-ignore-case': {
      const equalsIgnoringCase = ignoreCaseTest(requireString(operand, operandPath, operator), 'equals');
      return (value) => typeof value === 'string' && equalsIgnoringCase(value);
    }
    case 'wildcard': {
      const wildcard = compileWildcard(requireString(operand, operandPath, operator), operandPath);
      return (value) => typeof value === 'string' && wildcard(value);
    }
    case 'anything-but':
      return compileAnythingBut(operand, operandPath);
    case 'numeric':
      return compileNumeric(operand, operandPath);
    case 'exists':
      if (typeof operand !== 'boolean') {
        throw new InvalidEventPatternError('exists match pattern must be either true or false', operandPath);
      }
      return operand ? 'present' : 'absent';
    case 'cidr':
      return compileCidr(requireString(operand, operandPath, operator), operandPath);
    default:
      throw new InvalidEventPatternError(`Unrecognized match type ${operator}`, path);
  }
}

function compilePrefixOrSuffix(operand: unknown, path: string, kind: 'prefix' | 'suffix'): ValueTest {
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    const inner = keys[0];
    if (inner === undefined) {
      throw new InvalidEventPatternError(`${kind} expression name not found`, path);
    }
    if (keys.length > 1) {
      throw new InvalidEventPatternError('Only one key allowed in match expression', path);
    }
    if (inner !== 'equals-ignore-case') {
      throw new InvalidEventPatternError(`Unsupported ${kind} pattern: ${inner}`, path);
    }
    const test = ignoreCaseTest(requireString(operand[inner], `${path}.${inner}`, inner), kind);
    return (value) => typeof value === 'string' && test(value);
  }
  const text = requireString(operand, path, kind);
  return kind === 'prefix'
    ? (value) => typeof value === 'string' && value.startsWith(text)
    : (value) => typeof value === 'string' && value.endsWith(text);
}

/**
 * anything-but matches every leaf value except the excluded ones. As in event-ruler, exclusions only
 * exclude values of their own type: a string exclusion never excludes a number, null or boolean, and a
 * numeric exclusion never excludes a string. Over an event array it matches when any element is not
 * excluded (arrays match on a non-empty intersection).
 */
function compileAnythingBut(operand: unknown, path: string): ValueTest {
  if (typeof operand === 'string') {
    return (value) => value !== operand;
  }
  if (typeof operand === 'number') {
    assertComparableNumber(operand, path);
    return (value) => value !== operand;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) {
      throw new InvalidEventPatternError('Empty arrays are not allowed in anything-but', path);
    }
    const allStrings = operand.every((item) => typeof item === 'string');
    const allNumbers = operand.every((item) => typeof item === 'number');
    if (!allStrings && !allNumbers) {
      throw new InvalidEventPatternError(
        'Inside anything but list, either all values are number or string, mixed type is not supported',
        path,
      );
    }
    operand.forEach((item, index) => {
      if (typeof item === 'number') {
        assertComparableNumber(item, `${path}[${index}]`);
      }
    });
    const excluded = new Set<unknown>(operand);
    return (value) => !excluded.has(value);
  }
  if (isPlainObject(operand)) {
    const keys = Object.keys(operand);
    const inner = keys[0];
    if (inner === undefined) {
      throw new InvalidEventPatternError('Anything-But expression name not found', path);
    }
    if (keys.length > 1) {
      throw new InvalidEventPatternError('Only one key allowed in match expression', path);
    }
    const innerPath = `${path}.${inner}`;
    if (!ANYTHING_BUT_MODIFIERS.has(inner)) {
      throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${inner}`, innerPath);
    }
    const texts = anythingButTexts(operand[inner], innerPath, inner);
    let excludes: ValueTest[];
    switch (inner) {
      case 'prefix':
      case 'suffix':
        texts.forEach((text, index) => {
          if (text === '') {
            throw new InvalidEventPatternError(
              'Null prefix/suffix not allowed',
              indexed(innerPath, texts, index),
            );
          }
        });
        excludes = texts.map((text) => compilePrefixOrSuffix(text, innerPath, inner));
        break;
      case 'equals-ignore-case':
        excludes = texts.map((text) => {
          const test = ignoreCaseTest(text, 'equals');
          return (value: unknown) => typeof value === 'string' && test(value);
        });
        break;
      case 'wildcard':
        excludes = texts.map((text, index) => {
          const test = compileWildcard(text, indexed(innerPath, texts, index));
          return (value: unknown) => typeof value === 'string' && test(value);
        });
        break;
      default:
        throw new InvalidEventPatternError(`Unsupported anything-but pattern: ${inner}`, innerPath);
    }
    return (value) => !excludes.some((exclude) => exclude(value));
  }
  throw new InvalidEventPatternError(
    'Value of anything-but must be an array or single string/number value',
    path,
  );
}

/** The operand of anything-but's nested prefix/suffix/equals-ignore-case/wildcard: a string or strings. */
function anythingButTexts(operand: unknown, path: string, operator: string): readonly string[] {
  if (typeof operand === 'string') {
    return [operand];
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) {
      throw new InvalidEventPatternError('Empty arrays are not allowed in anything-but', path);
    }
    return operand.map((item, index) => requireString(item, `${path}[${index}]`, operator));
  }
  throw new InvalidEventPatternError(`${operator} match pattern must be a string`, path);
}

const indexed = (path: string, list: readonly string[], index: number): string =>
  list.length > 1 ? `${path}[${index}]` : path;

/**
 * numeric: `=`, `<`, `<=`, `>`, `>=`, or a range (`>`/`>=` then `<`/`<=`). Only JSON numbers match — a
 * numeric-looking string does not. Bounds must lie in ±5.0e9 with at most six decimals, and the range must
 * not be empty (event-ruler: "Bottom must be less than top"); open ends are bounded by ±5.0e9.
 */
function compileNumeric(operand: unknown, path: string): ValueTest {
  if (!Array.isArray(operand)) {
    throw new InvalidEventPatternError('Value of numeric must be an array', path);
  }
  const terms: readonly unknown[] = operand;
  const [operator, first] = terms;
  if (typeof operator !== 'string') {
    throw new InvalidEventPatternError(
      `Invalid member in numeric match: ${JSON.stringify(operator)}`,
      `${path}[0]`,
    );
  }
  const bound = (value: unknown, index: number, op: string): number => {
    if (typeof value !== 'number') {
      throw new InvalidEventPatternError(`Value of ${op} must be numeric`, `${path}[${index}]`);
    }
    assertComparableNumber(value, `${path}[${index}]`);
    return value;
  };
  const expectLength = (length: number): void => {
    if (terms.length !== length) {
      throw new InvalidEventPatternError('Too many elements in numeric expression', path);
    }
  };

  let bottom = -NUMERIC_LIMIT;
  let openBottom = false;
  let top = NUMERIC_LIMIT;
  let openTop = false;

  switch (operator) {
    case '=': {
      const equal = bound(first, 1, operator);
      expectLength(2);
      return (value) => isComparableEventNumber(value) && value === equal;
    }
    case '<':
    case '<=':
      top = bound(first, 1, operator);
      openTop = operator === '<';
      expectLength(2);
      break;
    case '>':
    case '>=': {
      bottom = bound(first, 1, operator);
      openBottom = operator === '>';
      if (terms.length > 2) {
        const upperOperator = terms[2];
        if (upperOperator !== '<' && upperOperator !== '<=') {
          throw new InvalidEventPatternError(
            `Bad numeric range operator: ${JSON.stringify(upperOperator)}`,
            `${path}[2]`,
          );
        }
        top = bound(terms[3], 3, upperOperator);
        openTop = upperOperator === '<';
        if (terms.length > 4) {
          throw new InvalidEventPatternError('Too many terms in numeric range expression', path);
        }
      }
      break;
    }
    default:
      throw new InvalidEventPatternError(`Unrecognized numeric range operator: ${operator}`, `${path}[0]`);
  }
  if (bottom >= top) {
    throw new InvalidEventPatternError('Bottom must be less than top', path);
  }
  return (value) =>
    isComparableEventNumber(value) &&
    (openBottom ? value > bottom : value >= bottom) &&
    (openTop ? value < top : value <= top);
}

/** An event value numeric matching can compare: a JSON number within ±5.0e9. */
function isComparableEventNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= NUMERIC_LIMIT;
}

function assertFiniteNumber(value: number, path: string): void {
  if (!Number.isFinite(value)) {
    throw new InvalidEventPatternError('Match value must be String, number, true, false, or null', path);
  }
}

function assertComparableNumber(value: number, path: string): void {
  assertFiniteNumber(value, path);
  if (Math.abs(value) > NUMERIC_LIMIT) {
    throw new InvalidEventPatternError(
      `Value must be between -${NUMERIC_LIMIT} and ${NUMERIC_LIMIT}, inclusive`,
      path,
    );
  }
  if (decimalPlaces(value) > MAX_DECIMAL_PLACES) {
    throw new InvalidEventPatternError(`Only values upto ${MAX_DECIMAL_PLACES} decimals are supported`, path);
  }
}

/** Digits right of the decimal point in the shortest representation of a double (`1e-7` → 7). */
function decimalPlaces(value: number): number {
  const [mantissa = '', exponent = '0'] = String(value).toLowerCase().split('e');
  const fraction = mantissa.split('.')[1] ?? '';
  return Math.max(0, fraction.length - Number(exponent));
}

// ---------------------------------------------------------------------------------------------------------
// Strings: equals-ignore-case and wildcard
// ---------------------------------------------------------------------------------------------------------

/**
 * Case-insensitive comparison per code point, as event-ruler does: each pattern character also matches its
 * lower- and upper-case forms. No other normalisation (the guide: strings match character by character).
 */
function ignoreCaseTest(text: string, mode: 'equals' | 'prefix' | 'suffix'): (value: string) => boolean {
  const expected = Array.from(text, (char) => [char, char.toLowerCase(), char.toUpperCase()] as const);
  return (value) => {
    const actual = Array.from(value);
    if (mode === 'equals' ? actual.length !== expected.length : actual.length < expected.length) {
      return false;
    }
    const offset = mode === 'suffix' ? actual.length - expected.length : 0;
    return expected.every(([same, lower, upper], index) => {
      const char = actual[offset + index];
      return char === same || char === lower || char === upper;
    });
  };
}

/**
 * wildcard: `*` matches zero or more characters; `\*` is a literal asterisk and `\\` a literal backslash.
 * Consecutive wildcards and escaping any other character are rejected, as the guide documents.
 * Matching is linear in the value (no regular expression, so no catastrophic backtracking).
 */
function compileWildcard(pattern: string, path: string): (value: string) => boolean {
  const segments: string[] = [];
  let current = '';
  for (let index = 0; index < pattern.length; index++) {
    const char = pattern.charAt(index);
    const next = pattern.charAt(index + 1);
    if (char === '*') {
      if (next === '*') {
        throw new InvalidEventPatternError(`Consecutive wildcard characters at pos ${index}`, path);
      }
      segments.push(current);
      current = '';
    } else if (char === '\\') {
      if (next !== '*' && next !== '\\') {
        throw new InvalidEventPatternError(`Invalid escape character at pos ${index}`, path);
      }
      current += next;
      index++;
    } else {
      current += char;
    }
  }
  segments.push(current);

  const first = segments[0] ?? '';
  if (segments.length === 1) {
    return (value) => value === first;
  }
  const last = segments[segments.length - 1] ?? '';
  const middle = segments.slice(1, -1);
  return (value) => {
    if (value.length < first.length + last.length || !value.startsWith(first) || !value.endsWith(last)) {
      return false;
    }
    // Leftmost placement of each middle segment is optimal when `*` is the only metacharacter.
    let position = first.length;
    const end = value.length - last.length;
    for (const segment of middle) {
      const found = value.indexOf(segment, position);
      if (found < 0 || found + segment.length > end) {
        return false;
      }
      position = found + segment.length;
    }
    return true;
  };
}

// ---------------------------------------------------------------------------------------------------------
// IP addresses (cidr)
// ---------------------------------------------------------------------------------------------------------

interface IpAddress {
  readonly version: 4 | 6;
  readonly value: bigint;
}

/**
 * cidr: IPv4 or IPv6. Follows event-ruler exactly: the range runs from the address as written to the
 * address with every host bit set (so write the network address, as the guide's `10.0.0.0/24` does), and
 * mask bits must be below 32 (IPv4) or 128 (IPv6). Only string event values in the same family match.
 */
function compileCidr(cidr: string, path: string): ValueTest {
  const parts = cidr.split('/');
  const [address, bits] = parts;
  if (parts.length !== 2 || address === undefined || bits === undefined) {
    throw new InvalidEventPatternError("Malformed CIDR, one '/' required", path);
  }
  if (!/^[0-9]+$/.test(bits)) {
    throw new InvalidEventPatternError('Malformed CIDR, mask bits must be an integer', path);
  }
  const base = parseIp(address);
  if (base === undefined) {
    throw new InvalidEventPatternError(`Invalid IP address: ${address}`, path);
  }
  const width = base.version === 4 ? 32 : 128;
  const maskBits = Number(bits);
  if (maskBits >= width) {
    throw new InvalidEventPatternError(`IPv${base.version} mask bits must be < ${width}`, path);
  }
  const bottom = base.value;
  const top = base.value | ((1n << BigInt(width - maskBits)) - 1n);
  return (value) => {
    if (typeof value !== 'string') {
      return false;
    }
    const ip = parseIp(value);
    return ip !== undefined && ip.version === base.version && ip.value >= bottom && ip.value <= top;
  };
}

function parseIp(text: string): IpAddress | undefined {
  if (/^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/.test(text)) {
    let value = 0n;
    for (const octet of text.split('.')) {
      const number = Number(octet);
      if (number > 255) {
        return undefined;
      }
      value = (value << 8n) | BigInt(number);
    }
    return { version: 4, value };
  }
  if (!/^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/.test(text)) {
    return undefined;
  }
  const halves = text.split('::');
  if (halves.length > 2) {
    return undefined;
  }
  const groupsOf = (half: string | undefined): string[] => (half ? half.split(':') : []);
  const head = groupsOf(halves[0]);
  const tail = groupsOf(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) {
    return undefined;
  }
  const groups = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  let value = 0n;
  for (const group of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(group)) {
      return undefined;
    }
    value = (value << 16n) | BigInt(Number.parseInt(group, 16));
  }
  return { version: 6, value };
}

// ---------------------------------------------------------------------------------------------------------
// Event traversal
// ---------------------------------------------------------------------------------------------------------

function isPlainObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value of a field, or `undefined` when absent (or when the context is not an object). */
function fieldOf(context: unknown, key: string): unknown {
  return isPlainObject(context) && Object.hasOwn(context, key) ? context[key] : undefined;
}

/** Elements of a possibly nested array, nesting removed: `[[a], [b, c]]` → `[a, b, c]`. */
function flattenArray(values: readonly unknown[]): unknown[] {
  return values.flat(Number.POSITIVE_INFINITY);
}

/**
 * The leaf values found at a field: the scalar itself (null included), or every scalar of an array.
 * Objects are intermediate nodes, never leaves ("Exists matching only works on leaf nodes").
 */
function leafValues(value: unknown): readonly unknown[] {
  if (value === undefined) {
    return [];
  }
  if (Array.isArray(value)) {
    return flattenArray(value).filter((element) => element !== undefined && !isPlainObject(element));
  }
  return isPlainObject(value) ? [] : [value];
}

function requireString(value: unknown, path: string, operator: string): string {
  if (typeof value !== 'string') {
    throw new InvalidEventPatternError(`${operator} match pattern must be a string`, path);
  }
  return value;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new InvalidEventPatternError(`Event pattern is not valid JSON (${detail})`, '$');
  }
}
