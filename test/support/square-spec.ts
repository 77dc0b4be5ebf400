import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type * as z from 'zod';

/**
 * Square traffic checked against Square's own OpenAPI document (`test/fixtures/square/api-spec/`,
 * the release of the `Square-Version` the hub pins): requests the hub sends, responses and webhook
 * bodies the sandbox produces.
 *
 * Strictness, decided deliberately (Square's schemas never say `additionalProperties: false`, so a
 * plain validator would accept any invented field):
 * - **unknown fields fail**: every object schema with `properties` is closed, because a client
 *   written against a field Square does not define fails on Square (maps such as `metadata` keep
 *   their `additionalProperties` schema);
 * - **read-only fields in a request fail** (OpenAPI 3.0: `readOnly` properties "SHOULD NOT be sent
 *   as part of the request"; they are also not `required` there);
 * - **deprecated operations, and deprecated fields in a request, fail** (`deprecated: true` /
 *   `x-release-status: DEPRECATED`); an answer may carry deprecated fields, as Square's do until the
 *   field retires (its `UpsertCatalogObjectResponse` example has `description` beside `description_html`);
 * - `nullable: true` admits `null`; `format: int64` is checked as an integer; a `*_at` string the spec
 *   describes as RFC 3339 must be an RFC 3339 date-time;
 * - query parameters are checked like bodies: unknown names, missing required ones, wrong types;
 * - a non-2xx answer must be Square's error body `{errors: [Error]}` with the spec's `ErrorCategory`
 *   and `ErrorCode` values (the spec lists only the 200 answer of each operation);
 * - a webhook body is checked against the event schema whose `x-webhook.event` is its `type` (the
 *   spec models each event under `components.schemas`, e.g. `PaymentCreatedEvent`), and its
 *   `data.type` against the value that schema documents (its example's `data.type`); an event type the
 *   spec does not define fails.
 */

const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/**
 * Fields Square sends that its OpenAPI document does not define, each shown by Square's own example
 * bodies in the same document. Without them the validator would refuse real deliveries.
 * - `PaymentRefund.version`: the `refund` of the `RefundCreatedEvent` and `RefundUpdatedEvent` examples
 *   (also https://developer.squareup.com/reference/square/webhooks/refund.updated) carries
 *   `"version": 10`, an integer that grows with each update of the refund.
 *
 * Two defects of the document itself are repaired where the schemas are converted: a `required` name
 * that is not among the schema's `properties` is dropped (`RiskEvaluation` requires a `status` it does
 * not define, and the `PaymentCreatedEvent` example has none), and a `$ref` to a schema the document
 * lacks (`CatalogModifierToggleOverrideType`) accepts any value.
 */
export const SPEC_GAPS: Readonly<Record<string, Readonly<Record<string, OpenApiSchema>>>> = {
  PaymentRefund: { version: { type: 'integer', format: 'int64' } },
};

/** Square's OpenAPI document for the pinned version (see its SOURCES.md). */
export const SQUARE_SPEC_FILE = fileURLToPath(
  new URL('../fixtures/square/api-spec/2025-08-20.json', import.meta.url),
);

/** One way a body, a URL or a header departs from the spec. */
export interface SpecIssue {
  readonly kind:
    | 'unknown-operation'
    | 'deprecated'
    | 'unknown-field'
    | 'read-only-field'
    | 'invalid'
    | 'unknown-event-type'
    | 'header';
  /** JSON pointer into the body (`/order/line_items/0/uid`), `?name` for a query parameter, or '' */
  readonly at: string;
  readonly message: string;
}

/** An operation of the spec that a method and path resolved to. */
export interface SpecOperation {
  readonly operationId: string;
  readonly method: string;
  /** The spec's path template, e.g. `/v2/orders/{order_id}`. */
  readonly template: string;
  readonly pathParams: Record<string, string>;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type OpenApiSchema = { [key: string]: Json };
/** The part of a zod schema's definition the read-model comparison looks at. */
type ZodDef = { type: string; [key: string]: unknown };

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: OpenApiSchema;
}

interface RawOperation {
  operationId: string;
  deprecated?: boolean;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: OpenApiSchema }> };
  responses: Record<string, { content?: Record<string, { schema: OpenApiSchema }> }>;
}

interface CompiledPath {
  template: string;
  regex: RegExp;
  names: string[];
  literalSegments: number;
  operations: Record<string, RawOperation>;
}

type Direction = 'request' | 'response';
const DOC_ID: Record<Direction, string> = { request: 'square-request', response: 'square-response' };

/** `ajv` keywords standing for failures the JSON Schema vocabulary has no words for. */
const READ_ONLY = 'squareReadOnly';
const DEPRECATED = 'squareDeprecated';

/**
 * The OpenAPI 3.0 schema `node` as JSON Schema (draft-07, which `ajv` speaks) for one direction:
 * `$ref` siblings dropped (3.0 ignores them), `nullable` as a `null` alternative, objects closed,
 * read-only and deprecated properties refused in requests.
 */
function toJsonSchema(node: OpenApiSchema, direction: Direction, known: ReadonlySet<string>): OpenApiSchema {
  const nullable = node.nullable === true;
  if (typeof node.$ref === 'string') {
    const name = node.$ref.replace('#/components/schemas/', '');
    if (!known.has(name)) return {};
    const ref = { $ref: `${DOC_ID[direction]}#/definitions/${name}` };
    return nullable ? { anyOf: [ref, { type: 'null' }] } : ref;
  }
  const out: OpenApiSchema = {};
  for (const key of ['format', 'minLength', 'maxLength', 'minimum', 'maximum', 'pattern', 'default']) {
    const value = node[key];
    if (value !== undefined) out[key] = value;
  }
  if (typeof node.type === 'string') out.type = nullable ? [node.type, 'null'] : node.type;
  if (Array.isArray(node.enum)) out.enum = nullable ? [...node.enum, null] : node.enum;
  if (isSchema(node.items)) out.items = toJsonSchema(node.items, direction, known);
  if (isSchema(node.additionalProperties)) {
    out.additionalProperties = toJsonSchema(node.additionalProperties, direction, known);
  } else if (typeof node.additionalProperties === 'boolean') {
    out.additionalProperties = node.additionalProperties;
  }
  if (isSchema(node.properties)) {
    const properties: OpenApiSchema = {};
    const readOnly = new Set<string>();
    for (const [name, property] of Object.entries(node.properties)) {
      if (!isSchema(property)) continue;
      if (
        direction === 'request' &&
        (property['x-release-status'] === 'DEPRECATED' || property.deprecated === true)
      ) {
        properties[name] = { [DEPRECATED]: true };
      } else if (direction === 'request' && property.readOnly === true) {
        properties[name] = { [READ_ONLY]: true };
        readOnly.add(name);
      } else if (isTimestamp(name, property)) {
        properties[name] = toJsonSchema({ ...property, format: 'date-time' }, direction, known);
      } else {
        properties[name] = toJsonSchema(property, direction, known);
      }
    }
    out.properties = properties;
    if (out.additionalProperties === undefined) out.additionalProperties = false;
    if (Array.isArray(node.required)) {
      const required = node.required.filter(
        (name) => typeof name === 'string' && name in properties && !readOnly.has(name),
      );
      if (required.length > 0) out.required = required;
    }
  }
  return out;
}

/**
 * A timestamp field: a string `*_at` that the spec describes as RFC 3339 (it gives no `format`, so
 * `"27/11/2026"` would pass unchecked). Durations, dates and local times mentioning RFC 3339 are not
 * timestamps and stay plain strings.
 */
const isTimestamp = (name: string, property: OpenApiSchema): boolean =>
  name.endsWith('_at') &&
  property.type === 'string' &&
  typeof property.description === 'string' &&
  /RFC ?3339/.test(property.description);

const isSchema = (value: Json | undefined): value is OpenApiSchema =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Square's error answer (the spec documents `Error`, not a body for the non-200 statuses). */
const ERROR_BODY = {
  type: 'object',
  required: ['errors'],
  additionalProperties: false,
  properties: {
    errors: { type: 'array', minItems: 1, items: { $ref: 'square-response#/definitions/Error' } },
  },
};

/** Square's OpenAPI document, compiled lazily per schema. Load once per test file with {@link loadSquareSpec}. */
export class SquareSpec {
  /** The `Square-Version` the document describes (`x-fern-global-headers`). */
  readonly version: string;
  /** Event type → schema name, from each schema's `x-webhook.event`. */
  readonly webhookSchemas: ReadonlyMap<string, string>;
  private readonly ajv: Ajv;
  private readonly paths: CompiledPath[];
  private readonly schemas: Record<string, OpenApiSchema>;
  private readonly compiled = new Map<string, ValidateFunction>();
  /** Names of the document's schemas (a `$ref` elsewhere is a defect of the document). */
  private readonly known: ReadonlySet<string>;

  constructor(document: OpenApiSchema) {
    const components = document.components as { schemas: Record<string, OpenApiSchema> };
    this.schemas = Object.fromEntries(
      Object.entries(components.schemas).map(([name, schema]) => {
        const gaps = SPEC_GAPS[name];
        const properties = schema.properties as OpenApiSchema | undefined;
        return [name, gaps ? { ...schema, properties: { ...properties, ...gaps } } : schema];
      }),
    );
    this.known = new Set(Object.keys(this.schemas));
    const headers = document['x-fern-global-headers'] as { header: string; type: string }[];
    const literal = headers.find((h) => h.header === 'Square-Version')?.type.match(/"([^"]+)"/)?.[1];
    if (!literal) throw new Error('the Square spec names no Square-Version');
    this.version = literal;
    this.webhookSchemas = new Map(
      Object.entries(this.schemas).flatMap(([name, schema]) => {
        const event = (schema['x-webhook'] as { event?: string } | undefined)?.event;
        return event ? [[event, name] as const] : [];
      }),
    );
    this.paths = Object.entries(document.paths as unknown as Record<string, Record<string, RawOperation>>)
      .map(([template, operations]) => {
        const names: string[] = [];
        const pattern = template
          .split('/')
          .map((segment) => {
            const param = segment.match(/^\{(.+)\}$/)?.[1];
            if (!param) return segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&');
            names.push(param);
            return '([^/]+)';
          })
          .join('/');
        return {
          template,
          regex: new RegExp(`^${pattern}$`),
          names,
          literalSegments: template.split('/').length - names.length,
          operations,
        };
      })
      // The most literal template wins: `/v2/orders/search` before `/v2/orders/{order_id}`.
      .sort((a, b) => b.literalSegments - a.literalSegments);

    this.ajv = new Ajv({ allErrors: true, strict: false });
    addFormats(this.ajv);
    this.ajv.addKeyword({ keyword: READ_ONLY, schemaType: 'boolean', validate: () => false });
    this.ajv.addKeyword({ keyword: DEPRECATED, schemaType: 'boolean', validate: () => false });
    const known = this.known;
    for (const direction of ['request', 'response'] as const) {
      const definitions = Object.fromEntries(
        Object.entries(this.schemas).map(([name, schema]) => [name, toJsonSchema(schema, direction, known)]),
      );
      this.ajv.addSchema({ $id: DOC_ID[direction], definitions });
    }
  }

  /**
   * The operation `method` `path` calls (`path` may be a full URL or carry a query; a prefix before
   * `/v1/`, `/v2/` or `/oauth2/` — the sandbox mount — is ignored).
   */
  operation(method: string, path: string): SpecOperation | undefined {
    const pathname = squarePath(path);
    const verb = method.toLowerCase();
    for (const candidate of this.paths) {
      const match = candidate.regex.exec(pathname);
      const operation = match ? candidate.operations[verb] : undefined;
      if (!match || !operation) continue;
      const pathParams = Object.fromEntries(
        candidate.names.map((name, i) => [name, decodeURIComponent(match[i + 1] ?? '')]),
      );
      return { operationId: operation.operationId, method: verb, template: candidate.template, pathParams };
    }
    return undefined;
  }

  /**
   * Issues of a request: the operation exists and is not deprecated, its query parameters are the
   * spec's, its body matches the operation's request schema (closed, no read-only fields), and, when
   * `headers` are given, `Square-Version` is the spec's version.
   */
  validateRequest(request: {
    method: string;
    url: string;
    body?: unknown;
    headers?: Headers | Record<string, string>;
  }): SpecIssue[] {
    const found = this.resolve(request.method, request.url);
    if (!('operation' in found)) return [found];
    const { operation, raw } = found;
    const issues: SpecIssue[] = [];
    if (raw.deprecated) {
      issues.push({ kind: 'deprecated', at: '', message: `${operation.operationId} is deprecated` });
    }
    issues.push(...this.queryIssues(raw, request.url));
    if (request.headers !== undefined) {
      const headers = new Headers(request.headers);
      const version = headers.get('square-version');
      if (version !== this.version) {
        issues.push({
          kind: 'header',
          at: 'Square-Version',
          message: `Square-Version is ${version ?? 'missing'}, the spec is ${this.version}`,
        });
      }
    }
    const schema = raw.requestBody?.content['application/json']?.schema;
    if (request.body === undefined) {
      if (raw.requestBody?.required) {
        issues.push({ kind: 'invalid', at: '', message: `${operation.operationId} requires a body` });
      }
      return issues;
    }
    if (!schema) {
      issues.push({ kind: 'invalid', at: '', message: `${operation.operationId} takes no body` });
      return issues;
    }
    return [...issues, ...this.check(toJsonSchema(schema, 'request', this.known), request.body, 'request')];
  }

  /**
   * Issues of an answer: a 2xx body against the operation's response schema, any other status
   * against Square's error body.
   */
  validateResponse(response: { method: string; url: string; status: number; body: unknown }): SpecIssue[] {
    const failed = response.status < 200 || response.status > 299;
    // Square answers an error in its error body on any path, one it does not serve included.
    if (failed) return this.check(ERROR_BODY, response.body, 'response');
    const found = this.resolve(response.method, response.url);
    if (!('operation' in found)) return [found];
    const answer = found.raw.responses[String(response.status)] ?? found.raw.responses['200'];
    const schema = answer?.content?.['application/json']?.schema;
    if (!schema) {
      return [{ kind: 'invalid', at: '', message: `the spec documents no ${response.status} body` }];
    }
    return this.check(toJsonSchema(schema, 'response', this.known), response.body, 'response');
  }

  /** Issues of a webhook body (see the module doc). */
  validateWebhook(body: unknown): SpecIssue[] {
    const type = isSchema(body as Json) ? (body as { type?: unknown }).type : undefined;
    const name = typeof type === 'string' ? this.webhookSchemas.get(type) : undefined;
    if (!name) {
      return [
        { kind: 'unknown-event-type', at: '/type', message: `no event type ${String(type)} in the spec` },
      ];
    }
    const issues = this.validateSchema(name, body, 'response');
    const documented = (this.schemas[name]?.example as { data?: { type?: string } } | undefined)?.data?.type;
    const sent = (body as { data?: { type?: unknown } }).data?.type;
    if (documented !== undefined && sent !== documented) {
      issues.push({
        kind: 'invalid',
        at: '/data/type',
        message: `${type} carries data.type ${JSON.stringify(documented)}, not ${JSON.stringify(sent)}`,
      });
    }
    return issues;
  }

  /** Issues of `value` as the named schema (`Order`, `Payment`, …) in one direction. */
  validateSchema(name: string, value: unknown, direction: Direction = 'response'): SpecIssue[] {
    if (!this.schemas[name]) throw new Error(`the Square spec has no schema ${name}`);
    return this.check({ $ref: `${DOC_ID[direction]}#/definitions/${name}` }, value, direction);
  }

  /**
   * Issues of one of the hub's read models (a zod schema of a Square object, e.g. `SquareOrderSchema`
   * for `Order`): every field it reads must be one the spec defines there, with a compatible type and,
   * for literals and enums, a value the spec allows. A hub that reads an invented field gets
   * `undefined` from Square forever, which no test against an equally invented sandbox would show.
   */
  readModelIssues(model: z.ZodType, schemaName: string): SpecIssue[] {
    const schema = this.schemas[schemaName];
    if (!schema) throw new Error(`the Square spec has no schema ${schemaName}`);
    return this.compareRead(model, schema, '');
  }

  /** Issues of reading `specNode` with `model` (see {@link readModelIssues}). */
  private compareRead(model: z.ZodType, specNode: OpenApiSchema, at: string): SpecIssue[] {
    const node = this.deref(specNode);
    const def = (model as unknown as { _zod: { def: ZodDef } })._zod.def;
    const specType = typeof node.type === 'string' ? node.type : undefined;
    const mismatch = (reads: string): SpecIssue[] => [
      {
        kind: 'invalid',
        at,
        message: `${at || '(root)'}: the hub reads ${reads}, the spec has ${specType ?? 'no type'}`,
      },
    ];
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'prefault':
      case 'catch':
      case 'readonly':
      case 'nonoptional':
        return this.compareRead(def.innerType as z.ZodType, specNode, at);
      case 'pipe':
        return this.compareRead(def.in as z.ZodType, specNode, at);
      case 'union': {
        // A union reads the field if one of its options does (e.g. a string-or-number id).
        const options = (def.options as z.ZodType[]).map((option) => this.compareRead(option, specNode, at));
        return options.some((found) => found.length === 0) ? [] : (options[0] ?? []);
      }
      case 'object': {
        if (specType !== 'object' || !isSchema(node.properties)) return mismatch('an object');
        const properties = node.properties;
        return Object.entries(def.shape as Record<string, z.ZodType>).flatMap(([name, child]) => {
          const property = properties[name];
          if (isSchema(property)) return this.compareRead(child, property, `${at}/${name}`);
          return [
            {
              kind: 'unknown-field' as const,
              at: `${at}/${name}`,
              message: `${at || '(root)'}: the hub reads ${name}, which the spec does not define`,
            },
          ];
        });
      }
      case 'array':
        if (specType !== 'array' || !isSchema(node.items)) return mismatch('an array');
        return this.compareRead(def.element as z.ZodType, node.items, `${at}/*`);
      case 'string':
        return specType === 'string' ? [] : mismatch('a string');
      case 'number':
      case 'int':
      case 'bigint':
        return specType === 'integer' || specType === 'number' ? [] : mismatch('a number');
      case 'boolean':
        return specType === 'boolean' ? [] : mismatch('a boolean');
      case 'literal':
      case 'enum': {
        if (specType !== 'string') return mismatch('a string value');
        const values =
          def.type === 'literal' ? (def.values as unknown[]) : Object.values(def.entries as object);
        const allowed = Array.isArray(node.enum) ? node.enum : undefined;
        if (!allowed) return [];
        return values
          .filter((value) => !allowed.includes(value as Json))
          .map((value) => ({
            kind: 'invalid' as const,
            at,
            message: `${at}: the hub expects ${JSON.stringify(value)}, not a value of the spec (${allowed.join(', ')})`,
          }));
      }
      default:
        // unknown, any, record, custom: reads the value without assuming a shape.
        return [];
    }
  }

  private deref(node: OpenApiSchema): OpenApiSchema {
    if (typeof node.$ref !== 'string') return node;
    return this.deref(this.schemas[node.$ref.replace('#/components/schemas/', '')] ?? {});
  }

  private resolve(method: string, url: string): { operation: SpecOperation; raw: RawOperation } | SpecIssue {
    const operation = this.operation(method, url);
    const raw = operation
      ? this.paths.find((p) => p.template === operation.template)?.operations[operation.method]
      : undefined;
    if (!operation || !raw) {
      return {
        kind: 'unknown-operation',
        at: '',
        message: `no operation ${method.toUpperCase()} ${squarePath(url)} in the spec`,
      };
    }
    return { operation, raw };
  }

  private queryIssues(operation: RawOperation, url: string): SpecIssue[] {
    const query = new URL(url, 'http://square.invalid').searchParams;
    const parameters = (operation.parameters ?? []).filter((p) => p.in === 'query');
    const issues: SpecIssue[] = [];
    for (const name of new Set(query.keys())) {
      const parameter = parameters.find((p) => p.name === name);
      if (!parameter) {
        issues.push({
          kind: 'unknown-field',
          at: `?${name}`,
          message: `query parameter ${name} is not defined`,
        });
        continue;
      }
      for (const raw of query.getAll(name)) {
        const schema = toJsonSchema(parameter.schema, 'request', this.known);
        for (const issue of this.check(schema, coerce(raw, this.typeOf(parameter.schema)), 'request')) {
          issues.push({ ...issue, at: `?${name}`, message: `query parameter ${name}: ${issue.message}` });
        }
      }
    }
    for (const parameter of parameters) {
      if (parameter.required && !query.has(parameter.name)) {
        issues.push({
          kind: 'invalid',
          at: `?${parameter.name}`,
          message: `query parameter ${parameter.name} is required`,
        });
      }
    }
    return issues;
  }

  private typeOf(schema: OpenApiSchema): string | undefined {
    if (typeof schema.$ref === 'string') {
      return this.typeOf(this.schemas[schema.$ref.replace('#/components/schemas/', '')] ?? {});
    }
    return typeof schema.type === 'string' ? schema.type : undefined;
  }

  private check(
    schema: OpenApiSchema | typeof ERROR_BODY,
    value: unknown,
    direction: Direction,
  ): SpecIssue[] {
    const key = `${direction}:${JSON.stringify(schema)}`;
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(key, validate);
    }
    if (validate(value)) return [];
    return describe(validate.errors ?? []);
  }
}

/** The spec's path of a URL: no query, no mount prefix before `/v1/`, `/v2/` or `/oauth2/`. */
function squarePath(url: string): string {
  const pathname = new URL(url, 'http://square.invalid').pathname;
  const start = pathname.search(/\/(v1|v2|oauth2|mobile)\//);
  return start > 0 ? pathname.slice(start) : pathname;
}

/** A query string value as the parameter's type (a value that does not convert stays a string). */
function coerce(raw: string, type: string | undefined): unknown {
  if (type === 'integer' || type === 'number')
    return raw.trim() !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw;
  if (type === 'boolean') return raw === 'true' ? true : raw === 'false' ? false : raw;
  return raw;
}

/**
 * `ajv` errors as issues, without the noise of `nullable` alternatives (`must be null`, `must match a
 * schema in anyOf`): what remains names the field and what is wrong with it.
 */
function describe(errors: readonly ErrorObject[]): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  for (const error of errors) {
    if (error.keyword === 'anyOf') continue;
    if (error.keyword === 'type' && (error.params as { type?: unknown }).type === 'null') continue;
    let issue: SpecIssue;
    if (error.keyword === 'additionalProperties') {
      const field = (error.params as { additionalProperty: string }).additionalProperty;
      issue = {
        kind: 'unknown-field',
        at: `${error.instancePath}/${field}`,
        message: `${error.instancePath || '(root)'} has ${field}, which the spec does not define`,
      };
    } else if (error.keyword === READ_ONLY) {
      issue = {
        kind: 'read-only-field',
        at: error.instancePath,
        message: `${error.instancePath} is read-only`,
      };
    } else if (error.keyword === DEPRECATED) {
      issue = { kind: 'deprecated', at: error.instancePath, message: `${error.instancePath} is deprecated` };
    } else {
      const detail = error.keyword === 'enum' ? ` (${JSON.stringify(error.params)})` : '';
      issue = {
        kind: 'invalid',
        at: error.instancePath,
        message: `${error.instancePath || '(root)'} ${error.message ?? error.keyword}${detail}`,
      };
    }
    const key = `${issue.kind}|${issue.at}|${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

let loaded: SquareSpec | undefined;

/** The pinned spec, parsed and prepared once per process. */
export function loadSquareSpec(file = SQUARE_SPEC_FILE): SquareSpec {
  if (file !== SQUARE_SPEC_FILE)
    return new SquareSpec(JSON.parse(readFileSync(file, 'utf8')) as OpenApiSchema);
  loaded ??= new SquareSpec(JSON.parse(readFileSync(file, 'utf8')) as OpenApiSchema);
  return loaded;
}

/** One line per issue, for an assertion message. */
export const formatIssues = (where: string, issues: readonly SpecIssue[]): string[] =>
  issues.map((issue) => `${where}: [${issue.kind}] ${issue.message}`);

/** One recorded call: what was sent and what came back (bodies parsed; undefined when empty). */
export interface SquareExchange {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly requestBody: unknown;
  readonly status: number;
  readonly responseBody: unknown;
}

/**
 * A `fetch` that records every call it makes (hand it to the hub's clients, or call the sandbox with
 * it), so that a test validates all traffic of a scenario rather than a list of endpoints.
 */
export function recordingFetch(base: typeof fetch = fetch): {
  fetch: typeof fetch;
  exchanges: SquareExchange[];
} {
  const exchanges: SquareExchange[] = [];
  const record: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const sent = await request.clone().text();
    const response = await base(request);
    const text = await response.clone().text();
    exchanges.push({
      method: request.method,
      url: request.url,
      headers: request.headers,
      requestBody: parseBody(sent),
      status: response.status,
      responseBody: parseBody(text),
    });
    return response;
  };
  return { fetch: record, exchanges };
}

/** A body as JSON; text that is not JSON stays text (and then fails validation); none is undefined. */
function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
