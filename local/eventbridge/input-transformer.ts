/**
 * What a rule target receives: the whole event, a constant (`Input`), a part of the event (`InputPath`) or a
 * template filled from the event (`InputTransformer`).
 *
 * Reference: Amazon EventBridge User Guide, "Amazon EventBridge input transformation" (predefined variables,
 * the examples table and "Common issues with transforming input"), and the API Reference's `InputTransformer`
 * and `Target` pages. Behaviour the guide leaves open is marked "not documented" where it is decided here.
 */
import type { EventBridgeEvent } from './event.ts';

/** What the predefined variables and paths are evaluated against for one delivery. */
export interface InputContext {
  readonly event: EventBridgeEvent;
  readonly ruleArn: string;
  readonly ruleName: string;
  /** When the bus accepted the event, ISO 8601 (`aws.events.event.ingestion-time`). */
  readonly ingestionTime: string;
}

/** Renders the text sent to a target for one event. */
export type InputRenderer = (context: InputContext) => string;

/** The input-related fields of a target, as in `AWS::Events::Rule` `Targets` and `PutTargets`. */
export interface TargetInputConfig {
  readonly Input?: string | undefined;
  readonly InputPath?: string | undefined;
  readonly InputTransformer?:
    | {
        readonly InputPathsMap?: Readonly<Record<string, string>> | undefined;
        readonly InputTemplate: string;
      }
    | undefined;
}

/** A target's input settings EventBridge would refuse (`PutTargets` ValidationException). */
export class InvalidTargetInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTargetInputError';
  }
}

/**
 * The variables EventBridge defines itself. "These variables are reserved, and you can't create variables
 * with these names."
 */
const PREDEFINED = new Set([
  'aws.events.rule-arn',
  'aws.events.rule-name',
  'aws.events.event',
  'aws.events.event.json',
  'aws.events.event.ingestion-time',
]);

/** Up to 100 variables per transformer (API Reference, `InputPathsMap`: "Maximum number of 100 items"). */
const MAX_VARIABLES = 100;
/** `InputTemplate` length constraint in the API Reference. */
const MAX_TEMPLATE_LENGTH = 8192;

// ---------------------------------------------------------------------------------------------------------
// JSON paths
// ---------------------------------------------------------------------------------------------------------

type PathStep =
  | { readonly kind: 'key'; readonly key: string }
  | { readonly kind: 'index'; readonly index: number }
  | { readonly kind: 'wildcard' };

/** A compiled JSON path: the value it selects, or `undefined` when the event has nothing there. */
export interface JsonPath {
  readonly text: string;
  select(value: unknown): unknown;
}

/**
 * Compiles the JSON-path subset EventBridge evaluates: `$`, dot notation (names with letters, digits, dashes,
 * underscores and forward slashes), array indices `[0]` and wildcards (`.*`, `[*]`). A wildcard selects an
 * array of every match, as JSONPath does.
 *
 * @throws InvalidTargetInputError for anything outside that subset (bracket-quoted names, filters, slices,
 *   recursive descent), so a path the local bus cannot evaluate fails when the template loads.
 */
export function compileJsonPath(text: string): JsonPath {
  if (!text.startsWith('$')) throw new InvalidTargetInputError(`JSON path ${text} must start with $`);
  const steps: PathStep[] = [];
  const pattern = /\.([A-Za-z0-9_\-/]+)|\.\*|\[(\d+)\]|\[\*\]/y;
  let position = 1;
  while (position < text.length) {
    pattern.lastIndex = position;
    const match = pattern.exec(text);
    if (!match)
      throw new InvalidTargetInputError(`JSON path ${text} is not supported by EventBridge at ${position}`);
    const [whole, key, index] = match;
    if (key !== undefined) steps.push({ kind: 'key', key });
    else if (index !== undefined) steps.push({ kind: 'index', index: Number(index) });
    else steps.push({ kind: 'wildcard' });
    position += whole.length;
  }
  const hasWildcard = steps.some((step) => step.kind === 'wildcard');
  return {
    text,
    select(value) {
      let current: unknown[] = [value];
      for (const step of steps) {
        const next: unknown[] = [];
        for (const item of current) {
          if (step.kind === 'key') {
            if (isRecord(item) && Object.hasOwn(item, step.key)) next.push(item[step.key]);
          } else if (step.kind === 'index') {
            if (Array.isArray(item) && step.index < item.length) next.push(item[step.index]);
          } else if (Array.isArray(item)) {
            next.push(...item);
          } else if (isRecord(item)) {
            next.push(...Object.values(item));
          }
        }
        current = next;
      }
      if (hasWildcard) return current.length > 0 ? current : undefined;
      return current[0];
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// Target input
// ---------------------------------------------------------------------------------------------------------

/**
 * Compiles a target's input settings once, when the rule loads, into a renderer used per delivery.
 *
 * - none of the three: the whole event as JSON (EventBridge's default);
 * - `Input`: the constant text, minified when it is JSON ("The JSON that is passed to the target is minified");
 * - `InputPath`: the selected part of the event as JSON (nothing selected: an empty body — not documented);
 * - `InputTransformer`: see {@link compileInputTransformer}.
 *
 * @throws InvalidTargetInputError when more than one of the three is set, or a path or template is invalid.
 */
export function compileTargetInput(config: TargetInputConfig): InputRenderer {
  const set = [config.Input, config.InputPath, config.InputTransformer].filter(
    (value) => value !== undefined,
  );
  if (set.length > 1) {
    throw new InvalidTargetInputError(
      'Only one of Input, InputPath, or InputTransformer can be specified for a target',
    );
  }
  if (config.Input !== undefined) {
    const constant = minify(config.Input);
    return () => constant;
  }
  if (config.InputPath !== undefined) {
    const path = compileJsonPath(config.InputPath);
    return ({ event }) => {
      const value = path.select(event);
      return value === undefined ? '' : JSON.stringify(value);
    };
  }
  if (config.InputTransformer !== undefined) {
    return compileInputTransformer(
      config.InputTransformer.InputPathsMap ?? {},
      config.InputTransformer.InputTemplate,
    );
  }
  return ({ event }) => JSON.stringify(event);
}

type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'variable'; readonly name: string; readonly quoted: boolean };

/**
 * Compiles `InputPathsMap` + `InputTemplate`.
 *
 * Substitution follows the guide's examples table:
 * - a JSON template (it starts with `{`, `[` or `"`): a placeholder outside a string literal becomes the
 *   value as JSON (`"instance": <instance>` → `"instance": "i-0123456789"`); inside a string literal it is
 *   inserted as is, without escaping ("EventBridge doesn't escape values extracted by Input Path"), objects
 *   and arrays as their JSON text;
 * - any other template is text: every placeholder is inserted as is.
 *
 * A variable whose path matches nothing "isn't created and won't appear in the output": its placeholder
 * becomes nothing inside a string or text, and `null` where a JSON value is expected (the guide does not say
 * which; `null` keeps the output valid JSON). `<name>` where `name` is neither a variable nor predefined is
 * left as text. A JSON result is minified when it parses.
 *
 * @throws InvalidTargetInputError for a variable named like a predefined one or starting with `AWS.`, more
 *   than 100 variables, a template longer than 8192 characters, or a placeholder used as an object key.
 */
export function compileInputTransformer(
  pathsMap: Readonly<Record<string, string>>,
  template: string,
): InputRenderer {
  const entries = Object.entries(pathsMap);
  if (entries.length > MAX_VARIABLES) {
    throw new InvalidTargetInputError(
      `InputPathsMap has ${entries.length} variables; at most ${MAX_VARIABLES} are allowed`,
    );
  }
  if (template.length === 0 || template.length > MAX_TEMPLATE_LENGTH) {
    throw new InvalidTargetInputError(`InputTemplate must be 1 to ${MAX_TEMPLATE_LENGTH} characters long`);
  }
  const paths = new Map<string, JsonPath>();
  for (const [name, path] of entries) {
    if (PREDEFINED.has(name) || name.toLowerCase().startsWith('aws.')) {
      throw new InvalidTargetInputError(`InputPathsMap variable ${name} uses a reserved name`);
    }
    paths.set(name, compileJsonPath(path));
  }
  const trimmed = template.trimStart();
  const json = trimmed.startsWith('{') || trimmed.startsWith('[') || trimmed.startsWith('"');
  const parts = splitTemplate(template, json, (name) => paths.has(name) || PREDEFINED.has(name));

  return (context) => {
    const values = new Map<string, unknown>();
    for (const [name, path] of paths) {
      const value = path.select(context.event);
      if (value !== undefined) values.set(name, value);
    }
    const { detail: _detail, ...withoutDetail } = context.event;
    values.set('aws.events.rule-arn', context.ruleArn);
    values.set('aws.events.rule-name', context.ruleName);
    values.set('aws.events.event.ingestion-time', context.ingestionTime);
    values.set('aws.events.event', withoutDetail);
    values.set('aws.events.event.json', context.event);

    let output = '';
    for (const part of parts) {
      if (part.kind === 'text') {
        output += part.text;
        continue;
      }
      const value = values.get(part.name);
      if (!json || part.quoted) output += value === undefined ? '' : raw(value);
      else output += value === undefined ? 'null' : JSON.stringify(value);
    }
    return json ? minify(output) : output;
  };
}

/**
 * Splits a template into text and placeholders, noting for each placeholder whether it sits inside a JSON
 * string literal (only tracked for JSON templates; backslash escapes are honoured).
 */
function splitTemplate(template: string, json: boolean, known: (name: string) => boolean): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let inString = false;
  for (let index = 0; index < template.length; index += 1) {
    const char = template[index] as string;
    if (json && inString && char === '\\') {
      text += char + (template[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (json && char === '"') {
      inString = !inString;
      text += char;
      continue;
    }
    if (char === '<') {
      const end = template.indexOf('>', index + 1);
      const name = end === -1 ? '' : template.slice(index + 1, end);
      if (end !== -1 && /^[A-Za-z0-9_.-]+$/.test(name) && known(name)) {
        if (json && !inString && isObjectKey(template, end + 1)) {
          throw new InvalidTargetInputError(`InputTemplate uses placeholder <${name}> as an object key`);
        }
        if (text) parts.push({ kind: 'text', text });
        text = '';
        parts.push({ kind: 'variable', name, quoted: inString });
        index = end;
        continue;
      }
    }
    text += char;
  }
  if (text) parts.push({ kind: 'text', text });
  return parts;
}

/** True when the next non-blank character after a bare placeholder is `:` — it would be an object key. */
function isObjectKey(template: string, from: number): boolean {
  const rest = template.slice(from).trimStart();
  return rest.startsWith(':');
}

/** A value inserted without JSON quoting: strings as they are, everything else as its JSON text. */
function raw(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Minifies text that parses as JSON; leaves anything else untouched. */
function minify(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return text;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
