import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  type DocumentNode,
  type ExecutionResult,
  execute,
  type GraphQLError,
  type GraphQLFormattedError,
  getOperationAST,
  getVariableValues,
  parse,
  validate,
} from 'graphql';
import type { FaultDecision, FaultInjector } from '../core/faults.ts';
import {
  applyFault,
  type FaultRenderer,
  HttpError,
  headerOf,
  readBody,
  responseClosed,
  sendJson,
  sleep,
} from '../core/http.ts';
import type { Rng } from '../core/rng.ts';
import type { LeakyBucket } from './bucket.ts';
import { actualCost, argumentErrors, MAX_SINGLE_QUERY_COST, requestedCost } from './cost.ts';
import { mutationRoot, queryRoot, type ResolverContext } from './resolvers.ts';
import { adminSchema } from './schema.ts';

/**
 * `POST /admin/api/<version>/graphql.json`, as Shopify answers it:
 *
 * - `X-Shopify-Access-Token` must be the app's token, otherwise 401
 *   `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`;
 * - versions: the pinned 2026-10 and every stable version from 2026-07 up to the next release
 *   candidate are served as requested; an older well-formed version falls forward to the oldest
 *   one the sandbox serves (Shopify documents that requests to unsupported versions are answered by
 *   the oldest supported version, and says so in `X-Shopify-API-Version`); anything else (malformed,
 *   not a quarter, beyond the release candidate, `unstable`) is 404 `{"errors":"Not Found"}`;
 * - cost: requested cost from the query (static analysis), `MAX_COST_EXCEEDED` over 1,000,
 *   `THROTTLED` (HTTP 200) when the bucket cannot hold the requested cost, refund of
 *   requested − actual after execution, and `extensions.cost` on every GraphQL answer.
 */
export const PINNED_API_VERSION = '2026-10';
/** The oldest version the sandbox implements. */
export const OLDEST_API_VERSION = '2026-07';

/** Counters for the state endpoint. */
export interface ApiCounters {
  calls: number;
  queries: number;
  mutations: number;
  throttled: number;
  throttledByStorm: number;
  maxCostExceeded: number;
  unauthorized: number;
  unsupportedVersion: number;
  fellForward: number;
  requestErrors: number;
  faultErrors: number;
  timeouts: number;
  outageRejections: number;
  pointsRequested: number;
  pointsCharged: number;
}

/** Zeroed counters. */
export function zeroApiCounters(): ApiCounters {
  return {
    calls: 0,
    queries: 0,
    mutations: 0,
    throttled: 0,
    throttledByStorm: 0,
    maxCostExceeded: 0,
    unauthorized: 0,
    unsupportedVersion: 0,
    fellForward: 0,
    requestErrors: 0,
    faultErrors: 0,
    timeouts: 0,
    outageRejections: 0,
    pointsRequested: 0,
    pointsCharged: 0,
  };
}

/** Everything the endpoint needs. */
export interface AdminApiDeps {
  accessToken: () => string;
  bucket: LeakyBucket;
  faults: FaultInjector;
  counters: ApiCounters;
  /** Builds the resolver context for one request (`delay` is supplied here). */
  context: (delay: () => Promise<void>, apiVersion: string) => ResolverContext;
  /** Seeded stream for request ids. */
  rng: () => Rng;
}

const VERSION = /^(\d{4})-(01|04|07|10)$/;

function nextQuarter(v: string): string {
  const m = VERSION.exec(v);
  if (!m) return v;
  let year = Number(m[1]);
  let month = Number(m[2]) + 3;
  if (month > 12) {
    month -= 12;
    year++;
  }
  return `${year}-${String(month).padStart(2, '0')}`;
}

/** The version the sandbox serves for a requested one; undefined → 404. */
export function servedVersion(requested: string): { served: string; fellForward: boolean } | undefined {
  if (!VERSION.test(requested)) return undefined;
  if (requested > nextQuarter(PINNED_API_VERSION)) return undefined;
  if (requested < OLDEST_API_VERSION) return { served: OLDEST_API_VERSION, fellForward: true };
  return { served: requested, fellForward: false };
}

const renderer: FaultRenderer = {
  error: (status) =>
    new HttpError(status, {
      errors:
        status === 502
          ? 'Bad Gateway'
          : status === 503
            ? 'Service Unavailable'
            : status === 504
              ? 'Gateway Timeout'
              : 'Internal Server Error',
    }),
  throttle: () => new HttpError(200, null),
  outage: (until) =>
    new HttpError(
      503,
      { errors: 'Service Unavailable' },
      { 'retry-after': String(Math.max(1, Math.ceil((Date.parse(until) - Date.now()) / 1000))) },
    ),
};

/** Handles one Admin GraphQL request. `version` is the path segment. */
export async function handleAdminGraphql(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  version: string,
  deps: AdminApiDeps,
): Promise<void> {
  const { counters } = deps;
  const requestId = deps.rng().uuid();
  const served = servedVersion(version);
  if (!served) {
    counters.unsupportedVersion++;
    throw new HttpError(404, { errors: 'Not Found' }, { 'x-request-id': requestId });
  }
  const headers = { 'x-shopify-api-version': served.served, 'x-request-id': requestId };
  if (headerOf(req, 'x-shopify-access-token') !== deps.accessToken()) {
    counters.unauthorized++;
    throw new HttpError(
      401,
      { errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' },
      headers,
    );
  }
  if ((req.method ?? 'GET').toUpperCase() !== 'POST')
    throw new HttpError(405, { errors: 'Method Not Allowed' }, headers);
  counters.calls++;
  if (served.fellForward) counters.fellForward++;

  const decision = deps.faults.decide(path);
  const storm = decision.kind === 'throttle';
  if (!storm && decision.kind !== 'pass') {
    if (decision.kind === 'timeout') counters.timeouts++;
    else if (decision.kind === 'outage') counters.outageRejections++;
    else counters.faultErrors++;
    try {
      await applyFault(decision, res, renderer);
    } catch (err) {
      if (err instanceof HttpError) throw new HttpError(err.status, err.body, { ...headers, ...err.headers });
      throw err;
    }
  }

  const raw = (await readBody(req, 10 * 1024 * 1024)).toString('utf8');
  const request = parseRequest(raw, headerOf(req, 'content-type') ?? '');
  if (!request) {
    counters.requestErrors++;
    throw new HttpError(400, { errors: { query: 'Required parameter missing or invalid' } }, headers);
  }

  const schema = adminSchema();
  const status = () => deps.bucket.status();
  const costExt = (requestedQueryCost: number, actualQueryCost: number | null) => ({
    cost: { requestedQueryCost, actualQueryCost, throttleStatus: status() },
  });
  const answer = (body: Record<string, unknown>): void => sendJson(res, 200, body, headers);

  let document: DocumentNode;
  try {
    document = parse(request.query);
  } catch (err) {
    counters.requestErrors++;
    answer({ errors: [formatError(err as GraphQLError)], extensions: costExt(0, 0) });
    return;
  }
  const validationErrors = validate(schema, document);
  if (validationErrors.length > 0) {
    counters.requestErrors++;
    answer({ errors: validationErrors.map(formatError), extensions: costExt(0, 0) });
    return;
  }
  const operation = getOperationAST(document, request.operationName);
  if (!operation) {
    counters.requestErrors++;
    answer({
      errors: [{ message: 'An operation name is required when the document holds several operations.' }],
      extensions: costExt(0, 0),
    });
    return;
  }
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], request.variables ?? {});
  if (coerced.errors) {
    counters.requestErrors++;
    answer({ errors: coerced.errors.map(formatError), extensions: costExt(0, 0) });
    return;
  }
  const variables = coerced.variableValues;
  const requested = requestedCost(schema, document, operation, variables);
  counters.pointsRequested += requested;

  const argErrors = argumentErrors(schema, document, operation, variables);
  if (argErrors.length > 0) {
    counters.requestErrors++;
    answer({ errors: argErrors.map(formatError), extensions: costExt(requested, 0) });
    return;
  }
  if (requested > MAX_SINGLE_QUERY_COST) {
    counters.maxCostExceeded++;
    answer({
      errors: [
        {
          message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_SINGLE_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
          extensions: {
            code: 'MAX_COST_EXCEEDED',
            cost: requested,
            maxCost: MAX_SINGLE_QUERY_COST,
            documentation: 'https://shopify.dev/api/usage/rate-limits',
          },
        },
      ],
      extensions: costExt(requested, null),
    });
    return;
  }
  if (storm || !deps.bucket.tryTake(requested)) {
    if (storm) {
      counters.throttledByStorm++;
      await sleep((decision as Extract<FaultDecision, { kind: 'throttle' }>).latencyMs, responseClosed(res));
    }
    counters.throttled++;
    answer({
      errors: [
        {
          message: 'Throttled',
          extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' },
        },
      ],
      extensions: costExt(requested, null),
    });
    return;
  }

  const isMutation = operation.operation === 'mutation';
  if (isMutation) counters.mutations++;
  else counters.queries++;
  const latency = decision.kind === 'pass' ? decision.latencyMs : 0;
  const closed = responseClosed(res);
  let delayed = false;
  const delay = async (): Promise<void> => {
    if (delayed) return;
    delayed = true;
    await sleep(latency, closed);
  };
  const ctx = deps.context(delay, served.served);
  if (!isMutation) await delay();
  const result: ExecutionResult = await execute({
    schema,
    document,
    operationName: request.operationName ?? null,
    rootValue: isMutation ? mutationRoot(ctx) : queryRoot(ctx),
    contextValue: ctx,
    variableValues: request.variables ?? {},
  });
  const actual = Math.min(requested, actualCost(schema, document, operation, variables, result.data ?? null));
  deps.bucket.refund(requested - actual);
  counters.pointsCharged += actual;
  const body: Record<string, unknown> = {};
  if (result.errors && result.errors.length > 0) body.errors = result.errors.map(formatError);
  body.data = result.data ?? null;
  body.extensions = costExt(requested, actual);
  answer(body);
}

function formatError(err: GraphQLError): GraphQLFormattedError {
  return typeof err.toJSON === 'function' ? err.toJSON() : { message: String(err) };
}

function parseRequest(
  raw: string,
  contentType: string,
): { query: string; variables?: Record<string, unknown>; operationName?: string } | undefined {
  if (contentType.includes('application/graphql')) return raw.trim() ? { query: raw } : undefined;
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, unknown>;
  if (typeof b.query !== 'string' || b.query.trim() === '') return undefined;
  const variables =
    b.variables && typeof b.variables === 'object' && !Array.isArray(b.variables)
      ? (b.variables as Record<string, unknown>)
      : undefined;
  const operationName = typeof b.operationName === 'string' ? b.operationName : undefined;
  return { query: b.query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) };
}
