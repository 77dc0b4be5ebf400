import type * as z from 'zod';
import { MappingError } from '../../errors.ts';
import { SQUARE_API_VERSION, SQUARE_PRODUCTION_BASE_URL } from './api-version.ts';
import { PosAuthError, PosNotFoundError, PosRequestError, PosUnavailableError } from './errors.ts';
import {
  CatalogObjectResponseSchema,
  GetRefundResponseSchema,
  ListLocationsResponseSchema,
  ListPaymentsResponseSchema,
  ListRefundsResponseSchema,
  LocationZonesResponseSchema,
  RetrieveOrderResponseSchema,
  SearchOrdersResponseSchema,
  SquareErrorBodySchema,
} from './payloads.ts';

/** Where the Square access token comes from (Secrets Manager in the functions, a constant in tests). */
export interface AccessTokenSource {
  token(): Promise<string>;
  /** A freshly read token after a 401, or undefined when one was read too recently to try again. */
  refresh(): Promise<string | undefined>;
}

export interface SquareClientOptions {
  /** e.g. `https://connect.squareup.com` or the sandbox mount. @default SQUARE_PRODUCTION_BASE_URL */
  readonly baseUrl?: string;
  readonly token: AccessTokenSource;
  /** `Square-Version` sent with every call. @default SQUARE_API_VERSION */
  readonly apiVersion?: string;
  /**
   * Per-request timeout. Square waits 10 s for a webhook answer and the ingress makes an order call and
   * then catalog calls, so each must stay well under half of that. @default 3_000
   */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

/** A catalog item variation as the mapper needs it. */
export interface VariationInfo {
  readonly sku: string | null;
  readonly itemId: string | null;
}

/**
 * A small Square API client: bearer token, pinned `Square-Version`, a timeout per request and the POS
 * error taxonomy. No retries of its own: a webhook that fails with a retryable error is answered 503
 * and Square redelivers it (for up to 72 hours), which is a better retry than one inside a 10 s budget.
 */
export class SquareClient {
  private readonly baseUrl: string;
  private readonly apiVersion: string;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(private readonly options: SquareClientOptions) {
    this.baseUrl = (options.baseUrl ?? SQUARE_PRODUCTION_BASE_URL).replace(/\/+$/, '');
    this.apiVersion = options.apiVersion ?? SQUARE_API_VERSION;
    this.timeoutMs = options.timeoutMs ?? 3_000;
    this.fetchFn = options.fetch ?? fetch;
  }

  /** `GET /v2/orders/{order_id}`: the order as Square holds it now (its latest version), unparsed. */
  async retrieveOrder(orderId: string): Promise<unknown> {
    const body = await this.get(`/v2/orders/${encodeURIComponent(orderId)}`, `order ${orderId}`);
    return parse(RetrieveOrderResponseSchema, body, 'RetrieveOrder').order;
  }

  /** `GET /v2/refunds/{refund_id}`: the PaymentRefund, unparsed. */
  async retrieveRefund(refundId: string): Promise<unknown> {
    const body = await this.get(`/v2/refunds/${encodeURIComponent(refundId)}`, `refund ${refundId}`);
    return parse(GetRefundResponseSchema, body, 'GetPaymentRefund').refund;
  }

  /** `GET /v2/locations`: the seller's locations (id, merchant, status). */
  async listLocations() {
    return parse(ListLocationsResponseSchema, await this.get('/v2/locations', 'locations'), 'ListLocations')
      .locations;
  }

  /** `POST /v2/orders/search`: one page of complete orders (unparsed) and the next cursor. */
  async searchOrders(request: Readonly<Record<string, unknown>>) {
    const body = await this.get('/v2/orders/search', 'order search', request);
    return parse(SearchOrdersResponseSchema, body, 'SearchOrders');
  }

  /** `GET /v2/locations` with what finance needs: time zone and currency of each location. */
  async listLocationZones() {
    return parse(LocationZonesResponseSchema, await this.get('/v2/locations', 'locations'), 'ListLocations')
      .locations;
  }

  /** `GET /v2/payments/{payment_id}`: the Payment, unparsed (finance: the tender a refund went back to). */
  async retrievePayment(paymentId: string): Promise<unknown> {
    const body = await this.get(`/v2/payments/${encodeURIComponent(paymentId)}`, `payment ${paymentId}`);
    return (body as { payment?: unknown }).payment;
  }

  /** `GET /v2/payments?…`: one page of payments (unparsed) and the next cursor (finance/takings.ts). */
  async listPayments(query: Readonly<Record<string, string>>) {
    const qs = new URLSearchParams(query).toString();
    return parse(
      ListPaymentsResponseSchema,
      await this.get(`/v2/payments?${qs}`, 'payments'),
      'ListPayments',
    );
  }

  /** `GET /v2/refunds?…`: one page of payment refunds (unparsed) and the next cursor. */
  async listPaymentRefunds(query: Readonly<Record<string, string>>) {
    const qs = new URLSearchParams(query).toString();
    return parse(
      ListRefundsResponseSchema,
      await this.get(`/v2/refunds?${qs}`, 'refunds'),
      'ListPaymentRefunds',
    );
  }

  /**
   * `GET /v2/catalog/object/{id}` (at `catalog_version` when given: the SKU the line was sold under).
   * Null when Square has no such object (deleted), so the line maps without a SKU.
   */
  async retrieveVariation(id: string, version?: number | null): Promise<VariationInfo | null> {
    const query = version === null || version === undefined ? '' : `?catalog_version=${version}`;
    let body: unknown;
    try {
      body = await this.get(`/v2/catalog/object/${encodeURIComponent(id)}${query}`, `catalog object ${id}`);
    } catch (error) {
      if (error instanceof PosNotFoundError) return null;
      throw error;
    }
    const { object } = parse(CatalogObjectResponseSchema, body, 'RetrieveCatalogObject');
    const data = object.item_variation_data;
    if (object.type !== 'ITEM_VARIATION' || !data) return null;
    const sku = data.sku?.trim();
    return { sku: sku ? sku : null, itemId: data.item_id };
  }

  /**
   * A write (`POST`/`PUT` with an idempotency key in `body`): the answer's JSON or the POS error taxonomy.
   * Used by the BOPIS pick-up orders (CreateOrder, UpdateOrder); parsing is the caller's.
   */
  async write(method: 'POST' | 'PUT', path: string, what: string, body: unknown): Promise<unknown> {
    return this.get(path, what, body, method);
  }

  /** GET `path`, or POST `body` to it; the answer's JSON or the POS error taxonomy. */
  private async get(path: string, what: string, body?: unknown, method?: 'POST' | 'PUT'): Promise<unknown> {
    let response = await this.send(path, await this.options.token.token(), what, body, method);
    if (response.status === 401) {
      // The token may have been rotated since it was cached: re-read it once before giving up.
      const fresh = await this.options.token.refresh();
      if (fresh) {
        await response.arrayBuffer().catch(() => undefined);
        response = await this.send(path, fresh, what, body, method);
      }
    }
    const text = await response.text().catch(() => '');
    if (response.ok) {
      try {
        return JSON.parse(text) as unknown;
      } catch (error) {
        throw new PosUnavailableError(
          `Square answered ${what} with a body that is not JSON`,
          response.status,
          {
            cause: error,
          },
        );
      }
    }
    const detail = errorDetail(text);
    const message = `Square answered ${response.status} for ${what}${detail ? `: ${detail}` : ''}`;
    if (response.status === 401 || response.status === 403) throw new PosAuthError(message, response.status);
    if (response.status === 404) throw new PosNotFoundError(message);
    if (response.status === 429 || response.status >= 500) {
      throw new PosUnavailableError(message, response.status);
    }
    throw new PosRequestError(message, response.status);
  }

  private async send(
    path: string,
    token: string,
    what: string,
    body?: unknown,
    method?: 'POST' | 'PUT',
  ): Promise<Response> {
    try {
      return await this.fetchFn(`${this.baseUrl}${path}`, {
        method: method ?? (body === undefined ? 'GET' : 'POST'),
        headers: {
          authorization: `Bearer ${token}`,
          'square-version': this.apiVersion,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const reason =
        (error as Error).name === 'TimeoutError' ? `timed out after ${this.timeoutMs} ms` : 'failed';
      throw new PosUnavailableError(`Square request for ${what} ${reason}`, undefined, { cause: error });
    }
  }
}

function parse<S extends z.ZodType>(schema: S, body: unknown, operation: string): z.infer<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  throw new MappingError(
    `${operation} answer does not match the expected shape: ${issues.join('; ')}`,
    issues,
  );
}

/** `code: detail` of the first Square error, for the log line and the parked reason. */
function errorDetail(text: string): string | undefined {
  try {
    const [first] = SquareErrorBodySchema.parse(JSON.parse(text)).errors;
    return first ? [first.code, first.detail].filter(Boolean).join(': ') : undefined;
  } catch {
    return undefined;
  }
}

/** Cache key of a variation at a catalog version. */
export const variationKey = (id: string, version?: number | null): string =>
  version === null || version === undefined ? id : `${id}@${version}`;

/**
 * Resolves the SKUs of sold variations, cached per warm function (a catalog version never changes, and
 * an unversioned lookup is re-read after `ttlMs`), at most `concurrency` calls at a time.
 */
export class CatalogSkuResolver {
  private readonly cache = new Map<string, { value: VariationInfo | null; until: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly concurrency: number;
  private readonly now: () => number;

  constructor(
    private readonly client: Pick<SquareClient, 'retrieveVariation'>,
    options: { ttlMs?: number; maxEntries?: number; concurrency?: number; now?: () => number } = {},
  ) {
    this.ttlMs = options.ttlMs ?? 300_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.concurrency = options.concurrency ?? 8;
    this.now = options.now ?? Date.now;
  }

  /** Variation info per {@link variationKey}; null for a variation Square does not know. */
  async resolve(
    refs: readonly { id: string; version?: number | null }[],
  ): Promise<ReadonlyMap<string, VariationInfo | null>> {
    const result = new Map<string, VariationInfo | null>();
    const missing = new Map<string, { id: string; version?: number | null }>();
    for (const ref of refs) {
      const key = variationKey(ref.id, ref.version);
      const cached = this.cache.get(key);
      if (cached && cached.until > this.now()) result.set(key, cached.value);
      else missing.set(key, ref);
    }
    const pending = [...missing.entries()];
    for (let start = 0; start < pending.length; start += this.concurrency) {
      const batch = pending.slice(start, start + this.concurrency);
      const values = await Promise.all(
        batch.map(([, ref]) => this.client.retrieveVariation(ref.id, ref.version)),
      );
      batch.forEach(([key, ref], index) => {
        const value = values[index] ?? null;
        result.set(key, value);
        this.remember(key, value, ref.version !== null && ref.version !== undefined && value !== null);
      });
    }
    return result;
  }

  private remember(key: string, value: VariationInfo | null, versioned: boolean): void {
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
    this.cache.set(key, { value, until: versioned ? Number.POSITIVE_INFINITY : this.now() + this.ttlMs });
  }
}
