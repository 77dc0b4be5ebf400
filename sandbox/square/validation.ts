import type { IncomingMessage } from 'node:http';
import * as z from 'zod';
import { type FaultRenderer, HttpError, readJson } from '../core/http.ts';

/**
 * What a Square request must look like, and how Square says it does not: every error is
 * `{errors: [{category, code, detail, field?}]}` with Square's codes (`MISSING_REQUIRED_PARAMETER`,
 * `ARRAY_LENGTH_TOO_LONG`, `IDEMPOTENCY_KEY_REUSED`, …), so a client's error mapping is tested
 * against the shapes it will meet.
 */

/** A Square error answer: `{errors: [{category, code, detail, field?}]}`. */
export function sqError(
  status: number,
  category: string,
  code: string,
  detail: string,
  field?: string,
): HttpError {
  return new HttpError(status, { errors: [{ category, code, detail, ...(field ? { field } : {}) }] });
}

/** Injected faults (5xx, throttling, outage) in Square's error shape. */
export const squareFaultRenderer: FaultRenderer = {
  error: (status) =>
    status === 503
      ? sqError(503, 'API_ERROR', 'SERVICE_UNAVAILABLE', 'Service Unavailable - a general error occurred.')
      : status === 502
        ? sqError(502, 'API_ERROR', 'BAD_GATEWAY', 'Bad Gateway - a general error occurred.')
        : sqError(
            status,
            'API_ERROR',
            'INTERNAL_SERVER_ERROR',
            'Internal Server Error - a general server error occurred.',
          ),
  throttle: (retryAfter) => {
    const e = sqError(429, 'RATE_LIMIT_ERROR', 'RATE_LIMITED', 'Rate Limited - a general error occurred.');
    return new HttpError(429, e.body, { 'retry-after': String(retryAfter) });
  },
  outage: () =>
    sqError(503, 'API_ERROR', 'SERVICE_UNAVAILABLE', 'Service Unavailable - a general error occurred.'),
};

/** The request body as JSON; malformed JSON is Square's 400 `BAD_REQUEST`. */
export async function readSquareJson(req: IncomingMessage): Promise<unknown> {
  const { json } = await readJson(req, (m) =>
    sqError(400, 'INVALID_REQUEST_ERROR', 'BAD_REQUEST', `Invalid JSON: ${m}`),
  );
  return json;
}

/** A JSON body (none reads as `{}`) checked against `schema`; the first issue is Square's 400. */
export async function parseSquareBody<T extends z.ZodType>(
  schema: T,
  req: IncomingMessage,
): Promise<z.output<T>> {
  const parsed = schema.safeParse((await readSquareJson(req)) ?? {});
  if (!parsed.success) throw invalidRequest(parsed.error);
  return parsed.data;
}

/** The first schema issue as Square reports it (field path `changes[0].adjustment.quantity`). */
export function invalidRequest(err: z.ZodError): HttpError {
  const issue = err.issues[0];
  const field =
    issue?.path
      .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
      .join('')
      .replace(/^\./, '') ?? '';
  if (issue?.code === 'invalid_type' && issue.input === undefined) {
    return sqError(400, 'INVALID_REQUEST_ERROR', 'MISSING_REQUIRED_PARAMETER', `Field must be set`, field);
  }
  if (issue?.code === 'too_big' && issue.origin === 'array') {
    return sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'ARRAY_LENGTH_TOO_LONG',
      `Array \`${field}\` has too many elements (max ${issue.maximum}).`,
      field,
    );
  }
  if (issue?.code === 'too_big' && issue.origin === 'string') {
    return sqError(400, 'INVALID_REQUEST_ERROR', 'VALUE_TOO_LONG', `Field \`${field}\` is too long.`, field);
  }
  if (issue?.code === 'too_small' && issue.origin === 'string') {
    return sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'VALUE_EMPTY',
      `Field \`${field}\` must not be empty.`,
      field,
    );
  }
  if (issue?.code === 'invalid_value') {
    return sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'INVALID_ENUM_VALUE',
      `Field \`${field}\` does not hold a valid enum value.`,
      field,
    );
  }
  if (issue?.message === 'INVALID_TIME') {
    return sqError(
      400,
      'INVALID_REQUEST_ERROR',
      'INVALID_TIME',
      `Field \`${field}\` is not an RFC 3339 time.`,
      field,
    );
  }
  return sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', issue?.message ?? 'Invalid value', field);
}

/** Square's 404 for an object the merchant does not have. */
export function notFound(detail: string, field?: string): HttpError {
  return sqError(404, 'INVALID_REQUEST_ERROR', 'NOT_FOUND', detail, field);
}

const Quantity = z.string().regex(/^-?\d+(\.\d+)?$/, 'quantity must be a decimal string');

/** Square's `InventoryState` values (OpenAPI spec 2025-08-20); any other state is `INVALID_ENUM_VALUE`. */
const InventoryState = z.enum([
  'CUSTOM',
  'IN_STOCK',
  'SOLD',
  'RETURNED_BY_CUSTOMER',
  'RESERVED_FOR_SALE',
  'SOLD_ONLINE',
  'ORDERED_FROM_VENDOR',
  'RECEIVED_FROM_VENDOR',
  'IN_TRANSIT_TO',
  'NONE',
  'WASTE',
  'UNLINKED_RETURN',
  'COMPOSED',
  'DECOMPOSED',
  'SUPPORTED_BY_NEWER_VERSION',
  'IN_TRANSIT',
]);

/** `InventoryPhysicalCount` as a client sends it. */
export const PhysicalCountSchema = z.looseObject({
  reference_id: z.string().optional(),
  catalog_object_id: z.string().min(1),
  catalog_object_type: z.string().optional(),
  state: InventoryState,
  location_id: z.string().min(1),
  quantity: Quantity,
  occurred_at: z.iso.datetime({ offset: true }),
});

/** `InventoryAdjustment` as a client sends it. */
export const AdjustmentSchema = z.looseObject({
  reference_id: z.string().optional(),
  from_state: InventoryState,
  to_state: InventoryState,
  location_id: z.string().min(1),
  catalog_object_id: z.string().min(1),
  catalog_object_type: z.string().optional(),
  quantity: Quantity,
  occurred_at: z.iso.datetime({ offset: true }),
});

/** `POST /v2/inventory/changes/batch-create`: at most 100 changes, key at most 128 characters. */
export const BatchChangeSchema = z.object({
  idempotency_key: z.string().min(1).max(128),
  changes: z
    .array(
      z.looseObject({
        type: z.enum(['PHYSICAL_COUNT', 'ADJUSTMENT']),
        physical_count: PhysicalCountSchema.optional(),
        adjustment: AdjustmentSchema.optional(),
      }),
    )
    .max(100)
    .optional(),
  ignore_unchanged_counts: z.boolean().optional(),
});

/** `POST /v2/inventory/counts/batch-retrieve`. */
export const BatchRetrieveCountsSchema = z.object({
  catalog_object_ids: z.array(z.string()).max(1000).optional(),
  location_ids: z.array(z.string()).max(1000).optional(),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(1000).default(100),
});

/** `POST /v2/orders/batch-retrieve`: 1 to 100 ids. */
export const BatchRetrieveOrdersSchema = z.object({
  location_id: z.string().optional(),
  order_ids: z.array(z.string()).min(1).max(100),
});

/** Square's `TimeRange`: RFC 3339 datetimes (spec 2025-08-20); anything else is `INVALID_TIME`. */
const Rfc3339 = z.iso.datetime({ offset: true, error: 'INVALID_TIME' });
const TimeRange = z.object({ start_at: Rfc3339.optional(), end_at: Rfc3339.optional() });

/** `POST /v2/orders/search` subset: location_ids, state_filter, date_time_filter, sort, limit, cursor. */
export const SearchOrdersSchema = z.object({
  location_ids: z.array(z.string()).min(1).max(10),
  cursor: z.string().optional(),
  limit: z.number().int().min(1).max(1000).default(500),
  query: z
    .object({
      filter: z
        .object({
          state_filter: z
            .object({ states: z.array(z.enum(['OPEN', 'COMPLETED', 'CANCELED', 'DRAFT'])) })
            .optional(),
          date_time_filter: z
            .object({
              created_at: TimeRange.optional(),
              updated_at: TimeRange.optional(),
              closed_at: TimeRange.optional(),
            })
            .optional(),
        })
        .optional(),
      sort: z
        .object({
          sort_field: z.enum(['CREATED_AT', 'UPDATED_AT', 'CLOSED_AT']),
          sort_order: z.enum(['ASC', 'DESC']).optional(),
        })
        .optional(),
    })
    .optional(),
});

/** `POST /v2/webhooks/subscriptions`. */
/** UpdateWebhookSubscriptionRequest: every field optional; the id is the path's. */
export const UpdateSubscriptionSchema = z.object({
  subscription: z.object({
    name: z.string().max(64).optional(),
    enabled: z.boolean().optional(),
    event_types: z.array(z.string()).min(1).optional(),
    notification_url: z.url().optional(),
  }),
});

export const CreateSubscriptionSchema = z.object({
  idempotency_key: z.string().optional(),
  subscription: z.object({
    name: z.string().optional(),
    enabled: z.boolean().optional(),
    event_types: z.array(z.string()).min(1),
    notification_url: z.url(),
    api_version: z.string().optional(),
  }),
});
