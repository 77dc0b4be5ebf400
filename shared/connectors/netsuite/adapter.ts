import * as z from 'zod';
import { toMinorUnits } from '../../events/money.ts';
import type { Order } from '../../events/order.ts';
import type { Refund } from '../../events/refund.ts';
import type { ReturnRequested } from '../../events/return.ts';
import {
  type ErpCallContext,
  type ErpLineKeys,
  type ErpPort,
  type ErpRecordRef,
  type ErpRecordType,
  type ErpRefundPort,
  type ErpReturnPort,
  type ErpSyncResult,
  type MappingLookup,
  orderExternalId,
  refundExternalId,
} from '../../ports/erp.ts';
import { ErpUnavailableError, ErpValidationError } from '../../ports/erp-errors.ts';
import { type CredentialsSource, NETSUITE_TOKEN_PATH, NetSuiteAuth } from './auth.ts';
import { NetSuiteClient, type NetSuiteClientOptions, type NetSuiteResponse } from './client.ts';
import { mapReturnToCreditMemo, returnExternalId } from './credit-memo.ts';
import { mapOrderToNetSuite, type NetSuiteMappingConfig, type NsSaleLine } from './mapper.ts';
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
  taxDetailsReference: z.string().optional(),
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
  /** Money fields are read as their decimal text (json.ts). */
  total: z.string().optional(),
  item: z.looseObject({ items: z.array(ReadLineSchema).optional() }).optional(),
});

const recordPath = (type: ErpRecordType, externalId: string) =>
  `${RECORD_PATH}/${type}/eid:${encodeURIComponent(externalId)}`;

const isNotFound = (error: unknown) =>
  error instanceof ErpValidationError && error.status === 404 && error.erpCode === 'NONEXISTENT_ID';

/** A line as read back: its ERP key, item and tax details reference. */
export interface ReadLine {
  readonly line: string;
  readonly item: string;
  readonly taxDetailsReference?: string;
}

/**
 * Which ERP line each line the hub sent became, by the hub's key (the `taxDetailsReference` it sent):
 * a line sent with its `line` key is that line; a new line is the read-back line that carries its
 * reference, else (an ERP that assigns references itself) the first unclaimed line of the same item in
 * order — NetSuite adds new lines after the existing ones, in the order sent. Throws when a sent line
 * cannot be found: the document would otherwise be rewritten line by line on the next edit.
 */
export function matchLineKeys(
  sent: readonly NsSaleLine[],
  read: readonly ReadLine[],
  known: ErpLineKeys,
): ErpLineKeys {
  const out: Record<string, string> = {};
  const claimed = new Set<string>();
  const byKey = new Map(read.map((line) => [line.line, line] as const));
  const pending: { key: string; line: NsSaleLine }[] = [];
  sent.forEach((line, index) => {
    const key =
      line.taxDetailsReference ??
      Object.entries(known).find(([, erp]) => Number(erp) === line.line)?.[0] ??
      `#${index}`;
    const erpKey = line.line !== undefined ? String(line.line) : undefined;
    if (erpKey !== undefined && byKey.has(erpKey) && !claimed.has(erpKey)) {
      out[key] = erpKey;
      claimed.add(erpKey);
    } else {
      pending.push({ key, line });
    }
  });
  for (const { key, line } of pending) {
    const found =
      read.find((r) => !claimed.has(r.line) && r.taxDetailsReference === key) ??
      read.find((r) => !claimed.has(r.line) && line.item !== undefined && r.item === line.item.id);
    if (!found) {
      throw new ErpValidationError(
        `NetSuite has no line for the hub's line ${key} after the write`,
        200,
        'LINE_KEYS_UNRESOLVED',
        'item',
      );
    }
    out[key] = found.line;
    claimed.add(found.line);
  }
  return out;
}

/** The internal id at the end of a `Location` header NetSuite answers a create or transform with. */
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
 * `PUT /record/v1/<type>/eid:<externalId>?replace=item,taxDetails` — NetSuite's upsert ("Using the Upsert
 * Operation", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html),
 * so a retried, redelivered or concurrent write of the same order updates the one record instead of
 * creating another; on an existing record it is an update, and body fields not sent keep their values.
 * Lines the ERP has are sent with their `line` key and updated in place; lines the order no longer has
 * are sent closed (mapper.ts), so under `replace=item` nothing the hub booked is deleted, while a line the
 * hub does not know of (a failed earlier write) is not kept twice ("Replacing a Sublist",
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html). The non-keyed
 * `taxDetails` sublist is replaced whole. After the write the record is read back with its lines: the
 * line keys NetSuite assigned go to the sync ledger, its total (with the tax it booked) to the order
 * sync's check. Cancelling closes every line, as NetSuite documents for closing a sales order.
 */
export class NetSuiteErpAdapter implements ErpPort, ErpRefundPort, ErpReturnPort {
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
        query: { replace: 'item,taxDetails' },
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

  /**
   * Books a return of an online order once: return authorization from the sales order, then credit memo
   * from the return authorization (credit-memo.ts), both keyed by `return-<returnId>` and looked up before
   * each transform, so a retry after either step finds what it already wrote.
   */
  async recordReturnCreditMemo(
    request: ReturnRequested,
    salesOrder: ErpRecordRef,
    ctx: ErpCallContext,
  ): Promise<ErpRecordRef> {
    const externalId = returnExternalId(request.returnId);
    const existing = await this.findByExternalId('creditMemo', externalId, ctx);
    if (existing) return existing;
    const body = await mapReturnToCreditMemo(request, this.options.mappings, this.options.config);
    const authorization =
      (await this.findByExternalId('returnAuthorization', externalId, ctx)) ??
      (await this.transform(salesOrder, 'returnAuthorization', body, ctx));
    return this.transform(authorization, 'creditMemo', body, ctx);
  }

  /** `POST …/<source>/<id>/!transform/<target>` with an external id in the body, idempotent by that id. */
  private async transform(
    source: ErpRecordRef,
    target: ErpRecordType,
    body: { readonly externalId: string },
    ctx: ErpCallContext,
  ): Promise<ErpRecordRef> {
    const { externalId } = body;
    let res: NetSuiteResponse;
    try {
      res = await this.options.client.request({
        method: 'POST',
        path: `${RECORD_PATH}/${source.recordType}/${encodeURIComponent(source.internalId)}/!transform/${target}`,
        query: { replace: 'item,taxDetails' },
        body,
        ctx,
      });
    } catch (error) {
      if (error instanceof ErpValidationError) {
        const raced = await this.findByExternalId(target, externalId, ctx);
        if (raced) return raced;
      }
      throw error;
    }
    const internalId = idFromLocation(res.headers.get('location'));
    if (internalId !== undefined) return { internalId, externalId, recordType: target };
    const found = await this.findByExternalId(target, externalId, ctx);
    if (found) return found;
    throw new ErpUnavailableError(
      `${target} ${externalId}: NetSuite accepted the transform but the record cannot be read back yet`,
      res.status,
      undefined,
    );
  }

  upsertSalesOrder(order: Order, ctx: ErpCallContext, lines: ErpLineKeys = {}): Promise<ErpSyncResult> {
    return this.upsert('salesOrder', order, ctx, lines);
  }

  recordCashSale(order: Order, ctx: ErpCallContext, lines: ErpLineKeys = {}): Promise<ErpSyncResult> {
    return this.upsert('cashSale', order, ctx, lines);
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
    known: ErpLineKeys,
  ): Promise<ErpSyncResult> {
    const externalId = orderExternalId(order.source);
    const body = await mapOrderToNetSuite(order, type, this.options.mappings, this.options.config, known);
    const path = recordPath(type, externalId);
    await this.options.client.request({
      method: 'PUT',
      path,
      query: { replace: 'item,taxDetails' },
      body,
      ctx,
    });
    let record: z.infer<typeof ReadRecordSchema>;
    try {
      const res = await this.options.client.request({
        method: 'GET',
        path,
        query: { expandSubResources: 'true' },
        ctx,
      });
      record = readRecord(res, `${type} ${externalId}`);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      throw new ErpUnavailableError(
        `${type} ${externalId}: NetSuite accepted the upsert but the record cannot be read back yet`,
        404,
        'NONEXISTENT_ID',
      );
    }
    if (record.total === undefined) {
      throw new ErpValidationError(
        `${type} ${externalId}: NetSuite's record has no total`,
        200,
        'UNEXPECTED_RESPONSE',
        'total',
      );
    }
    const read = (record.item?.items ?? []).flatMap((line) =>
      line.line === undefined
        ? []
        : [
            {
              line: String(line.line),
              item: line.item.id,
              ...(line.taxDetailsReference !== undefined
                ? { taxDetailsReference: line.taxDetailsReference }
                : {}),
            },
          ],
    );
    return {
      internalId: record.id,
      externalId,
      recordType: type,
      lines: matchLineKeys(body.item.items, read, known),
      total: { amount: toMinorUnits(record.total, order.currency), currency: order.currency },
    };
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
  /** The client's telemetry hook (throttling, retries, circuit). @default none */
  readonly onEvent?: NetSuiteClientOptions['onEvent'];
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
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  return new NetSuiteErpAdapter({ client, mappings: options.mappings, config: options.config });
}
