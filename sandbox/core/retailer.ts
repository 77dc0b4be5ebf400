import { createRng } from './rng.ts';

/**
 * The retailer every sandbox seeds: one catalogue, one set of locations and
 * one opening stock, derived from the same seed, so Shopify, Square and
 * NetSuite agree on SKUs and location codes out of the box — as a real
 * retailer's systems do after onboarding. Each sandbox maps these into its
 * vendor's own ids and shapes.
 */
export interface RetailerOptions {
  /** @default 42 */
  seed?: number;
  /** Number of sellable variants (SKUs). @default 2000 */
  items?: number;
  /** Number of stores. @default 120 */
  stores?: number;
  /** Number of online/distribution warehouses. @default 1 */
  warehouses?: number;
  /** ISO 4217. @default 'USD' */
  currency?: string;
}

/** One sellable variant. Prices in integer minor units. */
export interface SeedItem {
  sku: string;
  /** Groups variants of one product (Shopify product, Square item, NetSuite matrix parent). */
  productHandle: string;
  productTitle: string;
  /** e.g. `Navy / M` */
  variantTitle: string;
  category: string;
  color: string;
  size: string;
  priceMinor: number;
  costMinor: number;
  currency: string;
  /** 13-digit EAN. */
  barcode: string;
  weightGrams: number;
}

/** A store or warehouse; `code` is the cross-system key (e.g. `WH-01`, `ST-001`). */
export interface SeedLocation {
  code: string;
  name: string;
  kind: 'warehouse' | 'store';
  city: string;
  region: string;
  country: string;
  postalCode: string;
  timezone: string;
}

/** The seeded retailer. */
export interface Retailer {
  readonly seed: number;
  readonly currency: string;
  readonly items: readonly SeedItem[];
  readonly locations: readonly SeedLocation[];
  /** Opening on-hand quantity of `sku` at `locationCode`; pure, so sandboxes can compute it lazily. */
  openingStock(sku: string, locationCode: string): number;
}

const CATEGORIES = [
  'Tops',
  'Shirts',
  'Knitwear',
  'Trousers',
  'Denim',
  'Dresses',
  'Outerwear',
  'Shoes',
  'Accessories',
];
const ADJECTIVES = [
  'Classic',
  'Everyday',
  'Relaxed',
  'Slim',
  'Heritage',
  'Organic',
  'Merino',
  'Linen',
  'Recycled',
  'Tech',
];
const NOUNS: Record<string, string[]> = {
  Tops: ['Tee', 'Tank', 'Polo', 'Henley'],
  Shirts: ['Oxford Shirt', 'Flannel Shirt', 'Poplin Shirt'],
  Knitwear: ['Crewneck', 'Cardigan', 'Hoodie', 'Sweater'],
  Trousers: ['Chino', 'Jogger', 'Trouser'],
  Denim: ['Jean', 'Denim Jacket', 'Denim Skirt'],
  Dresses: ['Midi Dress', 'Wrap Dress', 'Shirt Dress'],
  Outerwear: ['Parka', 'Rain Jacket', 'Puffer', 'Overcoat'],
  Shoes: ['Sneaker', 'Loafer', 'Boot'],
  Accessories: ['Beanie', 'Scarf', 'Belt', 'Tote'],
};
const COLORS = ['Black', 'White', 'Navy', 'Grey', 'Olive', 'Sand', 'Burgundy', 'Sky'];
const SIZES = ['XS', 'S', 'M', 'L', 'XL'];
const SHOE_SIZES = ['38', '39', '40', '41', '42', '43', '44'];
const CITIES: Array<[string, string, string, string]> = [
  ['New York', 'NY', '10001', 'America/New_York'],
  ['Boston', 'MA', '02108', 'America/New_York'],
  ['Chicago', 'IL', '60601', 'America/Chicago'],
  ['Austin', 'TX', '73301', 'America/Chicago'],
  ['Denver', 'CO', '80202', 'America/Denver'],
  ['Seattle', 'WA', '98101', 'America/Los_Angeles'],
  ['San Francisco', 'CA', '94103', 'America/Los_Angeles'],
  ['Los Angeles', 'CA', '90012', 'America/Los_Angeles'],
  ['Miami', 'FL', '33101', 'America/New_York'],
  ['Atlanta', 'GA', '30303', 'America/New_York'],
  ['Portland', 'OR', '97201', 'America/Los_Angeles'],
  ['Minneapolis', 'MN', '55401', 'America/Chicago'],
];

/** Builds the seeded retailer (≈ 10 ms for 2,000 SKUs and 121 locations). */
export function createRetailer(options: RetailerOptions = {}): Retailer {
  const seed = options.seed ?? 42;
  const itemCount = options.items ?? 2000;
  const storeCount = options.stores ?? 120;
  const warehouseCount = options.warehouses ?? 1;
  const currency = options.currency ?? 'USD';
  const rng = createRng(seed);

  const items: SeedItem[] = [];
  let product = 0;
  while (items.length < itemCount) {
    product++;
    const category = rng.pick(CATEGORIES);
    const noun = rng.pick(NOUNS[category] ?? ['Item']);
    const title = `${rng.pick(ADJECTIVES)} ${noun}`;
    const handle = `${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${String(product).padStart(4, '0')}`;
    const sizes = category === 'Shoes' ? SHOE_SIZES : category === 'Accessories' ? ['OS'] : SIZES;
    const colors = rng.shuffle(COLORS).slice(0, rng.int(1, 3));
    const basePrice = rng.int(12, 240) * 100 - rng.pick([0, 1, 5]);
    for (const color of colors) {
      for (const size of sizes) {
        if (items.length >= itemCount) break;
        const n = items.length + 1;
        items.push({
          sku: `SKU-${String(n).padStart(6, '0')}`,
          productHandle: handle,
          productTitle: title,
          variantTitle: size === 'OS' ? color : `${color} / ${size}`,
          category,
          color,
          size,
          priceMinor: basePrice,
          costMinor: Math.round(basePrice * (0.35 + rng.next() * 0.15)),
          currency,
          barcode: ean13(`200${String(n).padStart(9, '0')}`),
          weightGrams: rng.int(80, 1800),
        });
      }
    }
  }

  const locations: SeedLocation[] = [];
  for (let w = 1; w <= warehouseCount; w++) {
    locations.push({
      code: `WH-${String(w).padStart(2, '0')}`,
      name: w === 1 ? 'Online Fulfilment Centre' : `Fulfilment Centre ${w}`,
      kind: 'warehouse',
      city: 'Columbus',
      region: 'OH',
      country: 'US',
      postalCode: '43004',
      timezone: 'America/New_York',
    });
  }
  for (let s = 1; s <= storeCount; s++) {
    const [city, region, postalCode, timezone] = CITIES[(s - 1) % CITIES.length] as [
      string,
      string,
      string,
      string,
    ];
    locations.push({
      code: `ST-${String(s).padStart(3, '0')}`,
      name: `${city} ${Math.floor((s - 1) / CITIES.length) + 1}`,
      kind: 'store',
      city,
      region,
      country: 'US',
      postalCode,
      timezone,
    });
  }

  return {
    seed,
    currency,
    items,
    locations,
    openingStock(sku, code) {
      const h = fnv1a(`${seed}|${sku}|${code}`);
      if (code.startsWith('WH-')) return h % 401;
      return h % 10 === 0 ? 0 : (h >>> 8) % 25;
    },
  };
}

/** 32-bit FNV-1a; used where a value must not depend on draw order. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function ean13(first12: string): string {
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(first12[i]) * (i % 2 === 0 ? 1 : 3);
  return `${first12}${(10 - (sum % 10)) % 10}`;
}
