import { MappingError } from '../errors.ts';
import type { Money } from '../events/money.ts';
import type { Order } from '../events/order.ts';
import type { Refund } from '../events/refund.ts';
import type { ReturnRequested } from '../events/return.ts';

/**
 * The ERP port: what the hub needs from an ERP, in the hub's own terms (canonical orders, string ids),
 * so that consumers code against it and a second ERP is a second adapter, not a second consumer.
 *
 * Every write is an upsert keyed by {@link orderExternalId}, so a retry, a redelivery or two
 * concurrent deliveries can never create a second record. Errors are `HubError`s whose `retryable`
 * says what to do: throttling and outages are retryable; validation, auth, unknown mappings and totals
 * that do not reconcile are permanent (park the message with the error as its reason).
 */

/**
 * ERP documents the hub writes: online orders become sales orders, POS sales become cash sales, and a
 * refund of a POS sale a cash refund against its cash sale.
 */
export type ErpRecordType = 'salesOrder' | 'cashSale' | 'cashRefund' | 'returnAuthorization' | 'creditMemo';

/** Where a document lives in the ERP: enough to find it again from either side. */
export interface ErpRecordRef {
  /** The ERP's own id (NetSuite internal id), as a string. */
  readonly internalId: string;
  /** The hub's upsert key; see {@link orderExternalId}. */
  readonly externalId: string;
  readonly recordType: ErpRecordType;
}

/**
 * The ERP's key of each document line the hub booked, by the hub's own key of the source line it books
 * (see the NetSuite mapper: `line-<lineId>`, `discount-<lineId>`, `shipping-<lineId>` …). Kept in the sync
 * ledger and sent back on every later write, so that an edit updates lines in place and a removed line is
 * closed instead of deleted — the ERP may refuse to delete a line already fulfilled or billed.
 */
export type ErpLineKeys = Readonly<Record<string, string>>;

/** What a write left in the ERP, read back after it. */
export interface ErpSyncResult extends ErpRecordRef {
  /** Line keys of every line the hub has booked on the document (including closed ones). */
  readonly lines: ErpLineKeys;
  /** The document's total as the ERP computed it (tax included), in the order's currency. */
  readonly total: Money;
}

/** Per-call context: correlation for logs and an abort signal so a Lambda stops retrying before its timeout. */
export interface ErpCallContext {
  readonly transactionId: string;
  readonly signal?: AbortSignal;
}

/** The operations order capture needs. */
export interface ErpPort {
  /**
   * Creates or updates the sales order for an order (a cancelled order is written with its lines
   * closed), updating the lines in `lines` in place and closing those the order no longer has.
   */
  upsertSalesOrder(order: Order, ctx: ErpCallContext, lines?: ErpLineKeys): Promise<ErpSyncResult>;
  /** Closes every line of the sales order; null when the ERP has no such order (nothing to cancel). */
  cancelSalesOrder(externalId: string, ctx: ErpCallContext): Promise<ErpRecordRef | null>;
  /** Creates or updates the cash sale for a completed POS sale (lines by key, as above). */
  recordCashSale(order: Order, ctx: ErpCallContext, lines?: ErpLineKeys): Promise<ErpSyncResult>;
  /** Looks a document up by the hub's external id; null when it does not exist. */
  findByExternalId(
    type: ErpRecordType,
    externalId: string,
    ctx?: ErpCallContext,
  ): Promise<ErpRecordRef | null>;
}

/** The refund operations order capture needs (POS refunds; online returns are the returns workflow's). */
export interface ErpRefundPort {
  /**
   * Records a refund of a POS sale against the sale's cash sale (`sale`), once: keyed by
   * {@link refundExternalId}, so a retry or a redelivery finds the document it already wrote.
   */
  recordCashRefund(refund: Refund, sale: ErpRecordRef, ctx: ErpCallContext): Promise<ErpRecordRef>;
}

/** What the omnichannel-return workflow needs: the financial reversal of a return of an online order. */
export interface ErpReturnPort {
  /**
   * Credits the customer for a return against the order's sales order, tax reversed, once: keyed by the
   * return id, so a retry or a replay finds the document it already wrote.
   */
  recordReturnCreditMemo(
    request: ReturnRequested,
    salesOrder: ErpRecordRef,
    ctx: ErpCallContext,
  ): Promise<ErpRecordRef>;
}

/**
 * The ERP external id of a POS refund: `posrefund-<account>-<refundId>`, e.g.
 * `posrefund-MLR3F8Q2-KkAkhdMsgzn59SM8A89WgKwekxLZY_ptNBVqHYxt5gAd`. Same character rules as
 * {@link orderExternalId}; unique among the ERP's cash refunds.
 */
export function refundExternalId(source: Pick<Refund['source'], 'system' | 'account' | 'refundId'>): string {
  if (!/^[A-Za-z0-9._-]+$/.test(source.account) || !PART.test(source.refundId)) {
    throw new MappingError(
      `cannot build an ERP external id from ${source.system} account ${JSON.stringify(source.account)} refund ${JSON.stringify(source.refundId)}`,
    );
  }
  return `${source.system}refund-${source.account}-${source.refundId}`;
}

/** The mapping keys a refund's ERP document needs (its SKUs), for a batch prefetch. */
export function refundMappingKeysOf(refund: Pick<Refund, 'lines'>): OrderMappingKey[] {
  return refund.lines.flatMap((line) =>
    line.sku === null ? [] : [{ kind: 'item' as const, source: 'sku', sourceId: line.sku }],
  );
}

/**
 * Source → ERP id translations (item master, locations, payment methods), injected so that tests pass
 * a fake and production a cached DynamoDB repository. Answers `undefined` when there is no mapping;
 * the mapper turns that into an `UnknownMappingError` naming what is missing.
 */
export interface MappingLookup {
  erpItemId(sku: string): Promise<string | undefined> | string | undefined;
  erpLocationId(
    system: Order['source']['system'],
    locationId: string,
  ): Promise<string | undefined> | string | undefined;
  erpPaymentMethod(gateway: string): Promise<string | undefined> | string | undefined;
}

/** Anything with the `lookup(kind, source, sourceId)` shape of `MappingRepository`. */
export interface MappingTable {
  lookup(
    kind: 'item' | 'location' | 'payment-method',
    source: string,
    sourceId: string,
  ): Promise<string | undefined>;
}

/**
 * Adapts the mapping table (`MAP#item sku#<sku>`, `MAP#location <system>#<id>`,
 * `MAP#payment-method gateway#<name>`) to the lookup the ERP mappers take.
 */
export function mappingLookupFrom(table: MappingTable): MappingLookup {
  return {
    erpItemId: (sku) => table.lookup('item', 'sku', sku),
    erpLocationId: (system, locationId) => table.lookup('location', system, locationId),
    erpPaymentMethod: (gateway) => table.lookup('payment-method', 'gateway', gateway),
  };
}

/**
 * The mapping keys an order's ERP document may need (its SKUs; for a POS sale its store and payment
 * gateways), in the table's terms, so that a consumer can fetch a whole batch's mappings at once.
 */
export function mappingKeysOf(
  order: Pick<Order, 'lines' | 'channel' | 'source' | 'storeLocationId' | 'paymentGateways'>,
): OrderMappingKey[] {
  const keys: OrderMappingKey[] = [];
  for (const line of order.lines) {
    if (line.sku !== null) keys.push({ kind: 'item', source: 'sku', sourceId: line.sku });
  }
  if (order.channel === 'pos') {
    if (order.storeLocationId !== null) {
      keys.push({ kind: 'location', source: order.source.system, sourceId: order.storeLocationId });
    }
    for (const gateway of order.paymentGateways) {
      keys.push({ kind: 'payment-method', source: 'gateway', sourceId: gateway });
    }
  }
  return keys;
}

export interface OrderMappingKey {
  readonly kind: 'item' | 'location' | 'payment-method';
  readonly source: string;
  readonly sourceId: string;
}

/** Which ERP document an order becomes: a POS sale is already paid and handed over, so a cash sale. */
export function erpRecordTypeFor(order: Pick<Order, 'channel'>): ErpRecordType {
  return order.channel === 'pos' ? 'cashSale' : 'salesOrder';
}

const PART = /^[A-Za-z0-9._]+$/;
const EXTERNAL_ID = /^(shopify|pos)-([A-Za-z0-9._-]+)-([A-Za-z0-9._]+)$/;

/**
 * The ERP external id of a source order: `<system>-<account>-<orderId>`, e.g.
 * `shopify-acme.myshopify.com-820982911946154508` or `pos-MLR3F8Q2-CAISENgvlJ6jLWAzERDzjyHVybY`.
 *
 * Stable (it depends only on where the order came from, never on a version), readable from the ERP
 * side (a NetSuite user can search the source order id), and unique per ERP record type. The order id
 * never contains `-`, so the last `-` separates it even when the account (a shop domain) has dashes.
 * Characters are limited to `[A-Za-z0-9._-]` so the id is safe in a URL path (`eid:<externalId>`).
 */
export function orderExternalId(source: Pick<Order['source'], 'system' | 'account' | 'orderId'>): string {
  if (!/^[A-Za-z0-9._-]+$/.test(source.account) || !PART.test(source.orderId)) {
    throw new MappingError(
      `cannot build an ERP external id from ${source.system} account ${JSON.stringify(source.account)} order ${JSON.stringify(source.orderId)}`,
    );
  }
  return `${source.system}-${source.account}-${source.orderId}`;
}

/** Inverse of {@link orderExternalId}: which source order an ERP record belongs to; undefined when not ours. */
export function parseOrderExternalId(
  externalId: string,
): { system: Order['source']['system']; account: string; orderId: string } | undefined {
  const match = EXTERNAL_ID.exec(externalId);
  if (!match) return undefined;
  const [, system, account, orderId] = match as unknown as [string, 'shopify' | 'pos', string, string];
  return { system, account, orderId };
}
