import type { Retailer } from '../core/retailer.ts';

/** Transaction record types the sandbox supports, with their SuiteQL `type` code and `recordtype` value. */
export const TRANSACTION_TYPES = {
  salesOrder: { code: 'SalesOrd', recordtype: 'salesorder', prefix: 'SO' },
  cashSale: { code: 'CashSale', recordtype: 'cashsale', prefix: 'CS' },
  creditMemo: { code: 'CustCred', recordtype: 'creditmemo', prefix: 'CM' },
  returnAuthorization: { code: 'RtnAuth', recordtype: 'returnauthorization', prefix: 'RMA' },
  inventoryAdjustment: { code: 'InvAdjst', recordtype: 'inventoryadjustment', prefix: 'IA' },
  journalEntry: { code: 'Journal', recordtype: 'journalentry', prefix: 'JE' },
  customerDeposit: { code: 'CustDep', recordtype: 'customerdeposit', prefix: 'CD' },
} as const;
export type TransactionType = keyof typeof TRANSACTION_TYPES;

/** Writable record types (`/record/v1/<type>`). `location` is read-only. */
export const RECORD_TYPES = [
  ...(Object.keys(TRANSACTION_TYPES) as TransactionType[]),
  'inventoryItem',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];
export type ReadableType = RecordType | 'location';

export const isRecordType = (t: string): t is RecordType => (RECORD_TYPES as readonly string[]).includes(t);
export const isTransactionType = (t: string): t is TransactionType => t in TRANSACTION_TYPES;

/** A stored record; `body` holds the fields as the client sent them plus read-only fields NetSuite sets. */
export interface NsRecord {
  type: ReadableType;
  id: string;
  externalId?: string;
  body: Record<string, unknown>;
  createdDate: string;
  lastModifiedDate: string;
}

/** A location of the item master. */
export interface NsLocation {
  id: string;
  code: string;
  name: string;
  kind: 'warehouse' | 'store';
  city: string;
  state: string;
  country: string;
  timezone: string;
}

/**
 * One entry of the ERP change feed: the outbox custom record
 * `customrecord_oh_change` that a user-event script on the item, price and
 * inventory records writes in a real account, polled by the hub through
 * SuiteQL with an id cursor (see sandbox/README.md).
 */
export interface ChangeEntry {
  id: number;
  kind: 'item' | 'price' | 'onhand';
  itemId: string;
  sku: string;
  locationId?: string;
  locationCode?: string;
  /** On-hand after the change (absolute, so replays are harmless). */
  quantity?: number;
  /** Base price after the change, decimal as NetSuite stores it. */
  price?: number;
  /** `<recordType>:<id>` of the record that caused the change. */
  source: string;
  created: string;
}

const key = (type: string, eid: string): string => `${type}\u0000${eid}`;

/**
 * In-memory account data: records by type with an external-id index, the
 * item master with on-hand per location (opening stock computed lazily from
 * the seeded retailer) and the change feed. All mutations are synchronous,
 * so concurrent requests can never interleave inside one upsert.
 */
export class NsStore {
  readonly records = new Map<ReadableType, Map<string, NsRecord>>();
  private readonly eidIndex = new Map<string, string>();
  readonly locations: NsLocation[] = [];
  readonly locationById = new Map<string, NsLocation>();
  readonly locationByCode = new Map<string, NsLocation>();
  readonly itemIdBySku = new Map<string, string>();
  private readonly onHandOverrides = new Map<string, number>();
  readonly feed: ChangeEntry[] = [];
  private nextTxnId = 5001;
  private nextItemId = 0;
  private readonly skuByItemId = new Map<string, string>();
  private readonly seededSkus: Set<string>;

  constructor(
    private readonly retailer: Retailer,
    private readonly clock: () => number,
  ) {
    this.seededSkus = new Set(retailer.items.map((i) => i.sku));
    const seededAt = new Date(Date.UTC(2026, 0, 1)).toISOString();
    retailer.locations.forEach((l, i) => {
      const loc: NsLocation = {
        id: String(i + 1),
        code: l.code,
        name: l.name,
        kind: l.kind,
        city: l.city,
        state: l.region,
        country: l.country,
        timezone: l.timezone,
      };
      this.locations.push(loc);
      this.locationById.set(loc.id, loc);
      this.locationByCode.set(loc.code, loc);
      this.put({
        type: 'location',
        id: loc.id,
        externalId: loc.code,
        body: { name: loc.name, isInactive: false },
        createdDate: seededAt,
        lastModifiedDate: seededAt,
      });
    });
    retailer.items.forEach((it, i) => {
      const id = String(100 + i);
      this.nextItemId = 101 + i;
      this.put({
        type: 'inventoryItem',
        id,
        externalId: it.sku,
        body: {
          itemId: it.sku,
          displayName: `${it.productTitle} - ${it.variantTitle}`,
          upcCode: it.barcode,
          basePrice: it.priceMinor / 100,
          cost: it.costMinor / 100,
          isInactive: false,
          custitem_oh_product: it.productHandle,
          custitem_oh_category: it.category,
        },
        createdDate: seededAt,
        lastModifiedDate: seededAt,
      });
    });
  }

  now(): string {
    return new Date(this.clock()).toISOString();
  }

  get(type: ReadableType, id: string): NsRecord | undefined {
    return this.records.get(type)?.get(id);
  }

  getByExternalId(type: ReadableType, eid: string): NsRecord | undefined {
    const id = this.eidIndex.get(key(type, eid));
    return id === undefined ? undefined : this.get(type, id);
  }

  /** Inserts or replaces a record and keeps the external-id index in step. */
  put(rec: NsRecord): NsRecord {
    let byId = this.records.get(rec.type);
    if (!byId) {
      byId = new Map();
      this.records.set(rec.type, byId);
    }
    const prev = byId.get(rec.id);
    if (prev?.externalId !== undefined && prev.externalId !== rec.externalId)
      this.eidIndex.delete(key(rec.type, prev.externalId));
    byId.set(rec.id, rec);
    if (rec.externalId !== undefined) this.eidIndex.set(key(rec.type, rec.externalId), rec.id);
    if (rec.type === 'inventoryItem') {
      const sku = String(rec.body.itemId ?? rec.externalId ?? rec.id);
      this.itemIdBySku.set(sku, rec.id);
      this.skuByItemId.set(rec.id, sku);
    }
    return rec;
  }

  delete(type: ReadableType, id: string): boolean {
    const rec = this.get(type, id);
    if (!rec) return false;
    this.records.get(type)?.delete(id);
    if (rec.externalId !== undefined) this.eidIndex.delete(key(type, rec.externalId));
    return true;
  }

  /** Allocates the next internal id for a record type. */
  allocateId(type: RecordType): string {
    return type === 'inventoryItem' ? String(this.nextItemId++) : String(this.nextTxnId++);
  }

  list(type: ReadableType): NsRecord[] {
    return [...(this.records.get(type)?.values() ?? [])];
  }

  skuOf(itemId: string): string | undefined {
    return this.skuByItemId.get(itemId);
  }

  onHand(itemId: string, locationId: string): number {
    const o = this.onHandOverrides.get(`${itemId}|${locationId}`);
    if (o !== undefined) return o;
    const sku = this.skuByItemId.get(itemId);
    const loc = this.locationById.get(locationId);
    if (!sku || !loc) return 0;
    return this.seededSkus.has(sku) ? this.retailer.openingStock(sku, loc.code) : 0;
  }

  /** Applies an on-hand delta and records the new absolute quantity in the change feed. */
  adjustOnHand(itemId: string, locationId: string, delta: number, source: string): number {
    const q = this.onHand(itemId, locationId) + delta;
    this.onHandOverrides.set(`${itemId}|${locationId}`, q);
    const loc = this.locationById.get(locationId);
    this.appendChange({
      kind: 'onhand',
      itemId,
      sku: this.skuOf(itemId) ?? itemId,
      locationId,
      ...(loc ? { locationCode: loc.code } : {}),
      quantity: q,
      source,
    });
    return q;
  }

  appendChange(entry: Omit<ChangeEntry, 'id' | 'created'>): ChangeEntry {
    const e: ChangeEntry = { id: this.feed.length + 1, created: this.now(), ...entry };
    this.feed.push(e);
    return e;
  }
}
