/**
 * The workload `npm run cost` prices: business volumes per day, and what they become on the hub's edges
 * (webhook requests) and bus (canonical events). Every number here is an assumption, stated where it is
 * made, and each can be changed on the command line.
 */
export interface Workload {
  /** Online (Shopify) orders a day. */
  readonly ordersPerDay: number;
  /** Edits of online orders a day (lines, addresses). */
  readonly editsPerDay: number;
  /** Cancellations a day. */
  readonly cancellationsPerDay: number;
  /** POS sales a day (all stores). */
  readonly posSalesPerDay: number;
  /** Stock movements a day (receipts, transfers, adjustments, counts). */
  readonly movementsPerDay: number;
  /** Online returns a day. */
  readonly returnsPerDay: number;
  /** In-store refunds a day. */
  readonly posRefundsPerDay: number;
  /** Buy-online-pick-up-in-store orders a day (a share of the online orders). */
  readonly pickupsPerDay: number;
  /** Price changes a day. */
  readonly priceChangesPerDay: number;
  /** Share of webhooks a vendor delivers more than once (Shopify: "at least once"). */
  readonly duplicateShare: number;
  /** Hours a day the traffic is spread over (rates, batch sizes and X-Ray sampling use it). */
  readonly activeHours: number;
}

/** A mid-size retailer: 120 stores, a busy storefront. */
export const MID_SIZE: Workload = {
  ordersPerDay: 2_000,
  editsPerDay: 200,
  cancellationsPerDay: 60,
  posSalesPerDay: 12_000,
  movementsPerDay: 50_000,
  returnsPerDay: 150,
  posRefundsPerDay: 400,
  pickupsPerDay: 300,
  priceChangesPerDay: 2_000,
  duplicateShare: 0.05,
  activeHours: 14,
};

export const PROFILES: Readonly<Record<string, Workload>> = {
  /** A small retailer: 5 stores, a modest storefront. */
  small: {
    ordersPerDay: 100,
    editsPerDay: 10,
    cancellationsPerDay: 3,
    posSalesPerDay: 400,
    movementsPerDay: 2_000,
    returnsPerDay: 8,
    posRefundsPerDay: 15,
    pickupsPerDay: 15,
    priceChangesPerDay: 100,
    duplicateShare: 0.05,
    activeHours: 12,
  },
  'mid-size': MID_SIZE,
  /** The mid-size retailer on Black Friday, as if every day of the month were one (an upper bound). */
  'black-friday': {
    ordersPerDay: 30_000,
    editsPerDay: 3_000,
    cancellationsPerDay: 900,
    posSalesPerDay: 60_000,
    movementsPerDay: 300_000,
    returnsPerDay: 600,
    posRefundsPerDay: 1_500,
    pickupsPerDay: 4_000,
    priceChangesPerDay: 20_000,
    duplicateShare: 0.05,
    activeHours: 18,
  },
};

/** One kind of canonical event and how many a day the workload puts on the bus. */
export interface EventVolume {
  readonly source: string;
  readonly detailType: string;
  readonly perDay: number;
  readonly why: string;
}

/**
 * The canonical events a day. Extension point: a flow that publishes new events adds its kinds here
 * (e.g. the returns and BOPIS flows' own detail-types); a rule matching a kind not listed is priced at 0
 * events and reported as such.
 */
export function eventVolumes(w: Workload): EventVolume[] {
  return [
    {
      source: 'omnihub.shopify',
      detailType: 'OrderCreated',
      perDay: w.ordersPerDay,
      why: 'one per online order',
    },
    {
      source: 'omnihub.shopify',
      detailType: 'OrderUpdated',
      perDay: 2 * w.ordersPerDay + w.editsPerDay,
      why: 'paid and fulfilled per online order, plus each edit',
    },
    {
      source: 'omnihub.shopify',
      detailType: 'OrderCancelled',
      perDay: w.cancellationsPerDay,
      why: 'one per cancellation',
    },
    {
      source: 'omnihub.shopify',
      detailType: 'RefundCreated',
      perDay: w.returnsPerDay,
      why: 'one per online return',
    },
    { source: 'omnihub.pos', detailType: 'OrderCreated', perDay: w.posSalesPerDay, why: 'one per POS sale' },
    {
      source: 'omnihub.pos',
      detailType: 'RefundCreated',
      perDay: w.posRefundsPerDay,
      why: 'one per in-store refund',
    },
    {
      source: 'omnihub.erp',
      detailType: 'InventoryAdjusted',
      perDay: w.movementsPerDay,
      why: 'one per stock movement',
    },
    {
      source: 'omnihub.pos',
      detailType: 'InventoryCounted',
      perDay: w.posSalesPerDay + w.posRefundsPerDay,
      why: "Square's inventory.count.updated after each sale or refund",
    },
    {
      source: 'omnihub.erp',
      detailType: 'PriceChanged',
      perDay: w.priceChangesPerDay,
      why: 'one per price change',
    },
  ];
}

/**
 * Webhook requests a day per API route (`METHOD /path`). Extension point: a new route gets its volume
 * here; a route not listed is priced at 0 requests and reported.
 */
export function routeVolumes(w: Workload): Record<string, { perDay: number; why: string }> {
  const dup = 1 + w.duplicateShare;
  return {
    'POST /webhooks/shopify': {
      perDay: (3 * w.ordersPerDay + w.editsPerDay + w.cancellationsPerDay + w.returnsPerDay) * dup,
      why: `orders/create, orders/paid, orders/fulfilled per order, edits, cancellations, returns; +${w.duplicateShare * 100} % redelivered`,
    },
    'POST /webhooks/pos': {
      perDay: (2 * w.posSalesPerDay + w.posRefundsPerDay) * dup,
      why: `payment.created and payment.updated per sale, refunds; +${w.duplicateShare * 100} % redelivered`,
    },
  };
}

/** Orders a month: the denominator of the cost per 1,000 orders. */
export const ordersPerMonth = (w: Workload, days: number): number =>
  (w.ordersPerDay + w.posSalesPerDay) * days;
