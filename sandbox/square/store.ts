import type { Retailer } from '../core/retailer.ts';
import type { Rng } from '../core/rng.ts';
import type {
  CatalogItem,
  CatalogVariation,
  InventoryCount,
  Order,
  Payment,
  PaymentRefund,
  SquareEvent,
  SquareLocation,
} from './model.ts';

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const B62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A Square-looking id drawn from `rng` (location 13, catalog 24, order/payment 29 characters). */
export function squareId(rng: Rng, length: number, alphabet: 'upper' | 'b62' = 'upper'): string {
  const chars = alphabet === 'upper' ? UPPER : B62;
  let s = '';
  for (let i = 0; i < length; i++) s += chars[rng.int(0, chars.length - 1)];
  return s;
}

/** One register (POS device) at a store. */
export interface Register {
  id: string;
  name: string;
  location_id: string;
}

interface LedgerEntry {
  kind: 'count' | 'adjust';
  at: number;
  seq: number;
  value: number;
}

/** An applied inventory change as `BatchChangeInventory` reports it. */
export interface InventoryChangeRecord {
  type: 'PHYSICAL_COUNT' | 'ADJUSTMENT';
  physical_count?: Record<string, unknown>;
  adjustment?: Record<string, unknown>;
}

/**
 * The POS merchant's data: stores, registers, catalogue, inventory (a
 * per-item-per-location ledger, so changes sent out of order by
 * `occurred_at` land where Square would put them), orders, payments,
 * refunds, and every emitted event.
 */
export class SquareStore {
  readonly merchantId: string;
  readonly locations: SquareLocation[] = [];
  readonly locationByCode = new Map<string, SquareLocation>();
  readonly codeByLocationId = new Map<string, string>();
  readonly registers: Register[] = [];
  readonly items: CatalogItem[] = [];
  readonly variations = new Map<string, CatalogVariation>();
  readonly variationBySku = new Map<string, CatalogVariation>();
  readonly orders = new Map<string, Order>();
  readonly payments = new Map<string, Payment>();
  readonly refunds = new Map<string, PaymentRefund>();
  readonly changes: InventoryChangeRecord[] = [];
  readonly events: SquareEvent[] = [];
  private readonly ledgers = new Map<string, LedgerEntry[]>();
  private readonly calculatedAt = new Map<string, string>();
  private seq = 0;

  constructor(
    private readonly retailer: Retailer,
    rng: Rng,
  ) {
    const created = '2026-01-01T00:00:00.000Z';
    this.merchantId = squareId(rng, 13);
    for (const l of retailer.locations) {
      if (l.kind !== 'store') continue;
      const loc: SquareLocation = {
        id: squareId(rng, 13),
        name: `${l.code} ${l.name}`,
        description: l.code,
        address: {
          address_line_1: `${rng.int(1, 999)} Main Street`,
          locality: l.city,
          administrative_district_level_1: l.region,
          postal_code: l.postalCode,
          country: l.country,
        },
        timezone: l.timezone,
        capabilities: ['CREDIT_CARD_PROCESSING'],
        status: 'ACTIVE',
        created_at: created,
        merchant_id: this.merchantId,
        country: l.country,
        language_code: 'en-US',
        currency: retailer.currency,
        business_name: 'Omnihub Demo Retail',
        type: 'PHYSICAL',
        mcc: '5651',
      };
      this.locations.push(loc);
      this.locationByCode.set(l.code, loc);
      this.codeByLocationId.set(loc.id, l.code);
      const n = rng.int(1, 4);
      for (let r = 1; r <= n; r++)
        this.registers.push({ id: squareId(rng, 24), name: `${l.code} Register ${r}`, location_id: loc.id });
    }
    let current: CatalogItem | undefined;
    let currentHandle = '';
    for (const it of retailer.items) {
      if (!current || currentHandle !== it.productHandle) {
        currentHandle = it.productHandle;
        current = {
          type: 'ITEM',
          id: squareId(rng, 24),
          updated_at: created,
          version: 1767225600000,
          is_deleted: false,
          present_at_all_locations: true,
          item_data: {
            name: it.productTitle,
            description: `${it.category}`,
            product_type: 'REGULAR',
            variations: [],
          },
        };
        this.items.push(current);
      }
      const v: CatalogVariation = {
        type: 'ITEM_VARIATION',
        id: squareId(rng, 24),
        updated_at: created,
        version: 1767225600000,
        is_deleted: false,
        present_at_all_locations: true,
        item_variation_data: {
          item_id: current.id,
          name: it.variantTitle,
          sku: it.sku,
          upc: it.barcode,
          ordinal: current.item_data.variations.length,
          pricing_type: 'FIXED_PRICING',
          price_money: { amount: it.priceMinor, currency: it.currency },
          track_inventory: true,
          sellable: true,
          stockable: true,
        },
      };
      current.item_data.variations.push(v);
      this.variations.set(v.id, v);
      this.variationBySku.set(it.sku, v);
    }
  }

  /** Current IN_STOCK quantity of a variation at a location. */
  quantity(variationId: string, locationId: string): number {
    const v = this.variations.get(variationId);
    const code = this.codeByLocationId.get(locationId);
    let q = v && code ? this.retailer.openingStock(v.item_variation_data.sku, code) : 0;
    const ledger = this.ledgers.get(`${variationId}|${locationId}`);
    if (!ledger) return q;
    for (const e of ledger) q = e.kind === 'count' ? e.value : q + e.value;
    return q;
  }

  /** Records a physical count or an IN_STOCK delta at `occurredAt` (ms); returns the quantity after. */
  record(
    variationId: string,
    locationId: string,
    kind: 'count' | 'adjust',
    value: number,
    occurredAt: number,
    now: string,
  ): number {
    const k = `${variationId}|${locationId}`;
    let ledger = this.ledgers.get(k);
    if (!ledger) {
      ledger = [];
      this.ledgers.set(k, ledger);
    }
    ledger.push({ kind, at: occurredAt, seq: ++this.seq, value });
    ledger.sort((a, b) => a.at - b.at || a.seq - b.seq);
    this.calculatedAt.set(k, now);
    return this.quantity(variationId, locationId);
  }

  /** An `InventoryCount` object for the current quantity. */
  count(variationId: string, locationId: string, fallbackAt: string): InventoryCount {
    return {
      catalog_object_id: variationId,
      catalog_object_type: 'ITEM_VARIATION',
      state: 'IN_STOCK',
      location_id: locationId,
      quantity: String(this.quantity(variationId, locationId)),
      calculated_at: this.calculatedAt.get(`${variationId}|${locationId}`) ?? fallbackAt,
    };
  }

  /** Keys (variation|location) whose inventory has been touched, for the state endpoint. */
  touchedKeys(): string[] {
    return [...this.ledgers.keys()];
  }
}
