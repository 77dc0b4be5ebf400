import type { Retailer } from '../core/retailer.ts';

/** Transaction record types the sandbox supports, with their SuiteQL `type` code and `recordtype` value. */
export const TRANSACTION_TYPES = {
  salesOrder: { code: 'SalesOrd', recordtype: 'salesorder', prefix: 'SO' },
  cashSale: { code: 'CashSale', recordtype: 'cashsale', prefix: 'CS' },
  cashRefund: { code: 'CashRfnd', recordtype: 'cashrefund', prefix: 'CR' },
  itemFulfillment: { code: 'ItemShip', recordtype: 'itemfulfillment', prefix: 'IF' },
  creditMemo: { code: 'CustCred', recordtype: 'creditmemo', prefix: 'CM' },
  returnAuthorization: { code: 'RtnAuth', recordtype: 'returnauthorization', prefix: 'RMA' },
  inventoryAdjustment: { code: 'InvAdjst', recordtype: 'inventoryadjustment', prefix: 'IA' },
  journalEntry: { code: 'Journal', recordtype: 'journalentry', prefix: 'JE' },
  customerDeposit: { code: 'CustDep', recordtype: 'customerdeposit', prefix: 'CD' },
} as const;
export type TransactionType = keyof typeof TRANSACTION_TYPES;

/** Writable record types (`/record/v1/<type>`). The {@link READ_ONLY_TYPES} are seeded and read-only. */
export const RECORD_TYPES = [
  ...(Object.keys(TRANSACTION_TYPES) as TransactionType[]),
  'inventoryItem',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/** Record types the sandbox seeds and serves read-only (GET, collections, SuiteQL). */
export const READ_ONLY_TYPES = [
  'location',
  'discountItem',
  'otherChargeSaleItem',
  'paymentMethod',
  'customer',
  'currency',
  'subsidiary',
  'taxType',
  'salesTaxItem',
  'account',
] as const;
export type ReadOnlyType = (typeof READ_ONLY_TYPES)[number];
export type ReadableType = RecordType | ReadOnlyType;

/** Item record types: one internal-id space (NetSuite's `item` table), told apart by SuiteQL `itemtype`. */
export const ITEM_TYPES = {
  inventoryItem: 'InvtPart',
  discountItem: 'Discount',
  otherChargeSaleItem: 'OthCharge',
} as const;
export type ItemType = keyof typeof ITEM_TYPES;

export const isRecordType = (t: string): t is RecordType => (RECORD_TYPES as readonly string[]).includes(t);
export const isReadOnlyType = (t: string): t is ReadOnlyType =>
  (READ_ONLY_TYPES as readonly string[]).includes(t);
export const isTransactionType = (t: string): t is TransactionType => t in TRANSACTION_TYPES;

/**
 * The non-product items an integration books order lines on (discounts, shipping, gift cards sold), as an
 * administrator sets them up when onboarding. Tax is not an item line: under SuiteTax it is the tax
 * details of the lines (suitetax.ts), so id 3 (once a tax charge item) is not seeded. Fixed internal ids
 * 1, 2 and 4: the item master starts at
 * 100 (`FIRST_INVENTORY_ITEM_ID`), so they never collide. They have no on-hand, no change-feed entries
 * and are not in `inventoryItem` collections; SuiteQL `item` lists them with their `itemtype`.
 */
export const BOOKING_ITEMS = [
  { id: '1', type: 'discountItem', itemId: 'OH-DISCOUNT', displayName: 'Omnihub discount' },
  { id: '2', type: 'otherChargeSaleItem', itemId: 'OH-SHIPPING', displayName: 'Omnihub shipping' },
  { id: '4', type: 'otherChargeSaleItem', itemId: 'OH-GIFTCARD', displayName: 'Omnihub gift card sold' },
] as const satisfies ReadonlyArray<{ id: string; type: ItemType; itemId: string; displayName: string }>;

/**
 * Whether SuiteTax computes tax on a line of this item (the sandbox's stand-in for the item's tax
 * schedule): products are taxable, and so are discount lines (a before-tax discount lowers the tax basis,
 * see "Tax Details on Transactions in SuiteTax"); shipping and gift cards sold are not.
 */
export const TAXABLE_BOOKING_ITEMS: ReadonlySet<string> = new Set(['1']);

/** Customers orders are booked to (the dev booking config's `customers`): Web = 1, Walk-in = 2. */
export const CUSTOMERS = [
  { id: '1', entityId: 'Web Customer' },
  { id: '2', entityId: 'Walk-in Customer' },
] as const;

/** Currencies of the account (Multiple Currencies enabled): references take the internal id. */
export const CURRENCIES = [
  { id: '1', symbol: 'USD', name: 'US Dollar' },
  { id: '2', symbol: 'CAD', name: 'Canadian Dollar' },
  { id: '3', symbol: 'EUR', name: 'Euro' },
  { id: '4', symbol: 'GBP', name: 'British pound' },
] as const;

/**
 * General-ledger accounts (`account` records) the sandbox's chart of accounts holds: what inventory
 * adjustments and the hub's journal entries (finance) post to. References take the internal id; an
 * unknown or inactive one is refused (`INVALID_KEY_OR_REF`), as NetSuite refuses a line to an account the
 * chart does not have. The dev config's finance accounts are these ids (infra/config/environments.ts).
 */
export const ACCOUNTS = [
  { id: '1', acctNumber: '5100', acctName: 'Inventory Adjustments', acctType: 'COGS' },
  { id: '10', acctNumber: '1000', acctName: 'Operating Bank', acctType: 'Bank' },
  { id: '11', acctNumber: '1010', acctName: 'Store Cash (Undeposited)', acctType: 'OthCurrAsset' },
  { id: '12', acctNumber: '1100', acctName: 'Shopify Payments Clearing', acctType: 'OthCurrAsset' },
  { id: '13', acctNumber: '1200', acctName: 'POS Card Clearing', acctType: 'OthCurrAsset' },
  { id: '14', acctNumber: '4900', acctName: 'Sales Refunds', acctType: 'Income' },
  { id: '15', acctNumber: '6100', acctName: 'Merchant Processing Fees', acctType: 'Expense' },
] as const;

/** The account's one subsidiary (OneWorld): transactions may name it. */
export const SUBSIDIARIES = [{ id: '1', name: 'Omnihub Retail Inc.', currency: '1' }] as const;

/**
 * SuiteTax setup of the US nexus: one tax type and its tax codes (`salesTaxItem`, rate in percent). Tax
 * codes are items in NetSuite (item type `TaxItem`), so their ids sit in the item id space below 100; they
 * are not sale items, so an `item` line reference cannot name them. `US-STANDARD` is the nexus default: a
 * taxable line without a `taxCode` is taxed at its rate unless the transaction overrides its tax details.
 */
export const TAX_TYPES = [{ id: '1', name: 'US Sales Tax' }] as const;
export const TAX_CODES = [
  { id: '5', itemId: 'US-STANDARD', rate: 8.875, taxType: '1' },
  { id: '6', itemId: 'US-EXEMPT', rate: 0, taxType: '1' },
] as const;
export const DEFAULT_TAX_CODE_ID = '5';

/** Internal id of the first seeded inventory item; new items are numbered after the last one. */
export const FIRST_INVENTORY_ITEM_ID = 100;

/**
 * Payment methods of the account: common ones (cash, check, card brands) and the ones set up for the
 * hub's payment gateways. Seeded for lookups (`GET …/paymentMethod`, SuiteQL `paymentmethod`); a sale naming any other id is refused (`INVALID_KEY_OR_REF`).
 */
export const PAYMENT_METHODS = [
  { id: '1', name: 'Cash' },
  { id: '2', name: 'Check' },
  { id: '3', name: 'Discover' },
  { id: '4', name: 'Master Card' },
  { id: '5', name: 'VISA' },
  { id: '6', name: 'American Express' },
  { id: '7', name: 'Shopify Payments' },
  { id: '8', name: 'Gift Card' },
  { id: '9', name: 'Manual Payment' },
  { id: '10', name: 'Card (POS)' },
] as const;

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
  private nextItemId = FIRST_INVENTORY_ITEM_ID;
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
    for (const item of BOOKING_ITEMS) {
      this.put({
        type: item.type,
        id: item.id,
        externalId: item.itemId,
        body: {
          itemId: item.itemId,
          displayName: item.displayName,
          isInactive: false,
          isTaxable: TAXABLE_BOOKING_ITEMS.has(item.id),
        },
        createdDate: seededAt,
        lastModifiedDate: seededAt,
      });
    }
    const seed = (type: ReadableType, id: string, body: Record<string, unknown>, externalId?: string) =>
      this.put({
        type,
        id,
        ...(externalId !== undefined ? { externalId } : {}),
        body: { ...body, isInactive: false },
        createdDate: seededAt,
        lastModifiedDate: seededAt,
      });
    for (const c of CUSTOMERS) seed('customer', c.id, { entityId: c.entityId, companyName: c.entityId });
    for (const c of CURRENCIES) seed('currency', c.id, { symbol: c.symbol, name: c.name }, c.symbol);
    for (const s of SUBSIDIARIES) seed('subsidiary', s.id, { name: s.name, currency: { id: s.currency } });
    for (const t of TAX_TYPES) seed('taxType', t.id, { name: t.name });
    for (const a of ACCOUNTS)
      seed('account', a.id, { acctNumber: a.acctNumber, acctName: a.acctName, acctType: a.acctType });
    for (const t of TAX_CODES)
      seed('salesTaxItem', t.id, { itemId: t.itemId, rate: t.rate, taxType: { id: t.taxType } }, t.itemId);
    for (const method of PAYMENT_METHODS) {
      this.put({
        type: 'paymentMethod',
        id: method.id,
        body: { name: method.name, isInactive: false },
        createdDate: seededAt,
        lastModifiedDate: seededAt,
      });
    }
    retailer.items.forEach((it, i) => {
      const id = String(FIRST_INVENTORY_ITEM_ID + i);
      this.nextItemId = FIRST_INVENTORY_ITEM_ID + i + 1;
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
          isTaxable: true,
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

  /** An item of any item type, by internal id or external id (items share one id space). */
  findItem(ref: { id?: string; externalId?: string }): NsRecord | undefined {
    for (const type of Object.keys(ITEM_TYPES) as ItemType[]) {
      const rec =
        ref.id !== undefined ? this.get(type, ref.id) : this.getByExternalId(type, String(ref.externalId));
      if (rec) return rec;
    }
    return undefined;
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
