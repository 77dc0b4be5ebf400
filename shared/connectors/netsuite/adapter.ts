import * as z from 'zod';
import type { Order } from '../../events/order.ts';
import type { Refund } from '../../events/refund.ts';
import {
  type ErpCallContext,
  type ErpPort,
  type ErpRecordRef,
  type ErpRecordType,
  type ErpRefundPort,
  type MappingLookup,
  orderExternalId,
  refundExternalId,
} from '../../ports/erp.ts';
import { ErpUnavailableError, ErpValidationError } from '../../ports/erp-errors.ts';
import { type CredentialsSource, NETSUITE_TOKEN_PATH, NetSuiteAuth } from './auth.ts';
import { NetSuiteClient, type NetSuiteResponse } from './client.ts';
import { mapOrderToNetSuite, type NetSuiteMappingConfig } from './mapper.ts';
import { mapRefundToNetSuite } from './refund.ts';

const RECORD_PATH = '/services/rest/record/v1';

/** The adapter's collaborators, passed in so tests and the handler choose them (no hidden clients). */
export interface NetSuiteErpAdapterOptions {
  readonly client: NetSuiteClient;
  readonly mappings: MappingLookup;
  readonly config: NetSuiteMappingConfig;
}

/** An `item` sublist line as NetSuite returns it with `expandSubResources=true` (money kept as text). */
const ReadLineSchema = z.looseObject({
  line: z.union([z.number(), z.string()]).optional(),
  item: z.looseObject({ id: z.string() }),
  quantity: z.number(),
  rate: z.string().optional(),
  amount: z.string().optional(),
  description: z.string().optional(),
  isClosed: z.boolean().optional(),
});

const ReadRecordSchema = z.looseObject({
  id: z.string(),
  externalId: z.string().optional(),
  item: z.looseObject({ items: z.array(ReadLineSchema).optional() }).optional(),
});

const recordPath = (type: ErpRecordType, externalId: string) =>
  `${RECORD_PATH}/${type}/eid:${encodeURIComponent(externalId)}`;

const isNotFound = (error: unknown) =>
  error instanceof ErpValidationError && error.status === 404 && error.erpCode === 'NONEXISTENT_ID';

/** The internal id at the end of a `Location` header (`…/record/v1/salesOrder/5001`). */
function idFromLocation(location: string | null): string | undefined {
  return location ? /\/(\d+)\/?$/.exec(new URL(location, 'http://x').pathname)?.[1] : undefined;
}

function readRecord(res: NetSuiteResponse, what: string): z.infer<typeof ReadRecordSchema> {
  const parsed = ReadRecordSchema.safeParse(res.body);
  if (!parsed.success) {
    throw new ErpValidationError(
      `${what}: unexpected NetSuite record shape`,
      res.status,
      'UNEXPECTED_RESPONSE',
      undefined,
    );
  }
  return parsed.data;
}

/**
 * The ERP port on NetSuite REST web services. Sales orders and cash sales are written with
 * `PUT /record/v1/<type>/eid:<externalId>?replace=item` — NetSuite's upsert, so a retried, redelivered
 * or concurrent write of the same order updates the one record instead of creating another, and
 * `replace=item` makes the lines sent the lines kept (without it NetSuite adds lines to an existing
 * record). Cancelling closes every line, as NetSuite documents for closing a sales order.
 */
export class NetSuiteErpAdapter implements ErpPort, ErpRefundPort {
  constructor(private readonly options: NetSuiteErpAdapterOptions) {}

  /**
   * One cash refund per POS refund, by transforming the sale's cash sale (see netsuite/refund.ts for the
   * choice): looked up by its external id first, so a retry finds what an earlier attempt booked; a
   * transform refused because the external id exists (a concurrent attempt won) is answered by that record.
   */
  async recordCashRefund(refund: Refund, sale: ErpRecordRef, ctx: ErpCallContext): Promise<ErpRecordRef> {
    const externalId = refundExternalId(refund.source);
    const existing = await this.findByExternalId('cashRefund', externalId, ctx);
    if (existing) return existing;
    const body = await mapRefundToNetSuite(refund, externalId, this.options.mappings, this.options.config);
    let res: NetSuiteResponse;
    try {
      res = await this.options.client.request({
        method: 'POST',
        path: `${RECORD_PATH}/cashSale/${encodeURIComponent(sale.internalId)}/!transform/cashRefund`,
        query: { replace: 'item' },
        body,
        ctx,
      });
    } catch (error) {
      if (error instanceof ErpValidationError) {
        const raced = await this.findByExternalId('cashRefund', externalId, ctx);
        if (raced) return raced;
      }
      throw error;
    }
    const internalId = idFromLocation(res.headers.get('location'));
    if (internalId !== undefined) return { internalId, externalId, recordType: 'cashRefund' };
    const found = await this.findByExternalId('cashRefund', externalId, ctx);
    if (found) return found;
    throw new ErpUnavailableError(
      `cashRefund ${externalId}: NetSuite accepted the transform but the record cannot be read back yet`,
      res.status,
      undefined,
    );
  }

  upsertSalesOrder(order: Order, ctx: ErpCallContext): Promise<ErpRecordRef> {
    return this.upsert('salesOrder', order, ctx);
  }

  recordCashSale(order: Order, ctx: ErpCallContext): Promise<ErpRecordRef> {
    return this.upsert('cashSale', order, ctx);
  }

  async findByExternalId(
    type: ErpRecordType,
    externalId: string,
    ctx?: ErpCallContext,
  ): Promise<ErpRecordRef | null> {
    try {
      const res = await this.options.client.request({
        method: 'GET',
        path: recordPath(type, externalId),
        ...(ctx ? { ctx } : {}),
      });
      return { internalId: readRecord(res, `${type} ${externalId}`).id, externalId, recordType: type };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async cancelSalesOrder(externalId: string, ctx: ErpCallContext): Promise<ErpRecordRef | null> {
    const path = recordPath('salesOrder', externalId);
    let record: z.infer<typeof ReadRecordSchema>;
    try {
      const res = await this.options.client.request({
        method: 'GET',
        path,
        query: { expandSubResources: 'true' },
        ctx,
      });
      record = readRecord(res, `salesOrder ${externalId}`);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
    const ref: ErpRecordRef = { internalId: record.id, externalId, recordType: 'salesOrder' };
    const lines = record.item?.items ?? [];
    if (lines.every((line) => line.isClosed === true)) return ref;
    // Every line is sent back (with its `line` key when NetSuite gave one) so that, under replace=item,
    // keyed lines are updated in place and nothing is dropped; amounts go back as the exact text read.
    await this.options.client.request({
      method: 'PATCH',
      path,
      query: { replace: 'item' },
      body: {
        item: {
          items: lines.map((line) => ({
            ...(line.line !== undefined ? { line: line.line } : {}),
            item: { id: line.item.id },
            quantity: line.quantity,
            ...(line.rate !== undefined ? { rate: line.rate } : {}),
            ...(line.amount !== undefined ? { amount: line.amount } : {}),
            ...(line.description !== undefined ? { description: line.description } : {}),
            isClosed: true,
          })),
        },
      },
      ctx,
    });
    return ref;
  }

  private async upsert(
    type: 'salesOrder' | 'cashSale',
    order: Order,
    ctx: ErpCallContext,
  ): Promise<ErpRecordRef> {
    const externalId = orderExternalId(order.source);
    const body = await mapOrderToNetSuite(order, type, this.options.mappings, this.options.config);
    const res = await this.options.client.request({
      method: 'PUT',
      path: recordPath(type, externalId),
      query: { replace: 'item' },
      body,
      ctx,
    });
    const internalId = idFromLocation(res.headers.get('location'));
    if (internalId !== undefined) return { internalId, externalId, recordType: type };
    const found = await this.findByExternalId(type, externalId, ctx);
    if (found) return found;
    throw new ErpUnavailableError(
      `${type} ${externalId}: NetSuite accepted the upsert but the record cannot be read back yet`,
      res.status,
      undefined,
    );
  }
}

/** How one NetSuite account is reached: what a function reads from its environment. */
export interface NetSuiteAccountOptions {
  readonly baseUrl: string;
  readonly accountId: string;
  readonly credentials: CredentialsSource;
  /** ERP calls this instance keeps in flight (its share of the account's concurrency limit). */
  readonly maxConcurrency: number;
  readonly mappings: MappingLookup;
  readonly config: NetSuiteMappingConfig;
}

/** The ERP port on one NetSuite account: M2M auth, the paced REST client and the order mapping. */
export function netSuiteErp(options: NetSuiteAccountOptions): NetSuiteErpAdapter {
  const auth = new NetSuiteAuth({
    tokenUrl: `${options.baseUrl}${NETSUITE_TOKEN_PATH}`,
    credentials: options.credentials,
  });
  const client = new NetSuiteClient({
    baseUrl: options.baseUrl,
    accountId: options.accountId,
    auth,
    maxConcurrency: options.maxConcurrency,
  });
  return new NetSuiteErpAdapter({ client, mappings: options.mappings, config: options.config });
}
