import * as z from 'zod';

/**
 * Inventory availability policy, as data. Pure: no I/O, no clock — the caller passes what it knows.
 *
 * The ERP's on hand is the truth; a channel sells what is left of it after what is already promised
 * and what the retailer holds back:
 *
 *     available(channel, location) = max(0, on hand − committed − reserved − safety stock)
 *
 * for every location the policy publishes to that channel (other locations are not touched). The
 * policy decides three things, each replaceable as data (a JSON document in config or a table row,
 * parsed with {@link InventoryPolicySchema}):
 * - **safety stock** per SKU, location and category, the most specific rule winning;
 * - **which locations feed each channel** (all of them, or a list);
 * - **publishing priority**: what to send first when the channel's rate budget cannot send everything
 *   at once (low stock and fast movers first — see {@link publishOrder}).
 *
 * Locations are the hub's location keys (the ERP location's internal id, as in the projection).
 * The dev environment's default ({@link DEFAULT_POLICY}) publishes every location to the online channel
 * with no safety stock.
 */

/** The sales channels the hub publishes availability to. */
export const CHANNELS = ['online', 'pos'] as const;
export type Channel = (typeof CHANNELS)[number];

const Quantity = z.number().int().nonnegative();

/**
 * One safety-stock rule. Any of `sku`, `location`, `category` may be given; a rule applies when every
 * field it gives matches. Among the rules that apply, the most specific one wins (see
 * {@link specificity}); equally specific rules are resolved by the larger quantity (the safer one).
 */
export const SafetyStockRuleSchema = z
  .object({
    sku: z.string().min(1).optional(),
    location: z.string().min(1).optional(),
    category: z.string().min(1).optional(),
    quantity: Quantity,
  })
  .refine((r) => r.sku !== undefined || r.location !== undefined || r.category !== undefined, {
    message: 'a rule names a sku, a location or a category (the default is `safetyStock.default`)',
  });
export type SafetyStockRule = z.infer<typeof SafetyStockRuleSchema>;

/** Which locations feed a channel: every location, or the listed ones. */
const ChannelLocationsSchema = z.union([z.literal('all'), z.array(z.string().min(1)).min(1)]);

export const InventoryPolicySchema = z.object({
  /** Changes with the policy, so a publish can say which policy computed a value. */
  version: z.string().min(1),
  safetyStock: z.object({
    default: Quantity,
    rules: z.array(SafetyStockRuleSchema).default([]),
  }),
  channels: z.object({
    online: z.object({ locations: ChannelLocationsSchema }),
    /**
     * The POS shows each store its own stock: the POS count at a store is the ERP's on hand there
     * (no safety stock, no online commitments), so only the locations are configurable.
     */
    pos: z.object({ locations: ChannelLocationsSchema }),
  }),
  priority: z.object({
    /** At or below this many units a location is "low stock" and published before others. */
    lowStockThreshold: Quantity,
    /** Units sold per day at or above which an item is a fast mover. */
    fastMoverUnitsPerDay: z.number().nonnegative(),
  }),
});
export type InventoryPolicy = z.infer<typeof InventoryPolicySchema>;

/**
 * The dev environment's policy: every location publishes to the online channel and to the POS, no
 * safety stock. Low stock: 5 units or fewer; fast mover: 20 units a day or more.
 */
export const DEFAULT_POLICY: InventoryPolicy = {
  version: 'default-1',
  safetyStock: { default: 0, rules: [] },
  channels: { online: { locations: 'all' }, pos: { locations: 'all' } },
  priority: { lowStockThreshold: 5, fastMoverUnitsPerDay: 20 },
};

/** Parses a policy document (config file, table row); throws with every problem at once. */
export function parsePolicy(document: unknown): InventoryPolicy {
  const parsed = InventoryPolicySchema.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new InvalidPolicyError(`inventory policy is invalid: ${problems.join('; ')}`, problems);
  }
  return parsed.data;
}

/** A policy document that does not parse. Permanent: fix the document. */
export class InvalidPolicyError extends Error {
  readonly code = 'INVALID_INVENTORY_POLICY';
  readonly retryable = false;
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
    this.name = 'InvalidPolicyError';
  }
}

/** What the policy needs to know about an item at a location. */
export interface ItemAtLocation {
  readonly sku: string;
  readonly location: string;
  /** The item's category (merchandise hierarchy), when the caller knows it. */
  readonly category?: string;
}

/**
 * How specific a rule is: SKU beats category beats location alone, and a rule that also names the
 * location beats the same rule without it. Ranks: sku+location 6, sku 5, category+location 4,
 * category 3, location 2.
 */
export function specificity(rule: SafetyStockRule): number {
  const atLocation = rule.location !== undefined ? 1 : 0;
  if (rule.sku !== undefined) return 5 + atLocation;
  if (rule.category !== undefined) return 3 + atLocation;
  return 2;
}

function applies(rule: SafetyStockRule, item: ItemAtLocation): boolean {
  return (
    (rule.sku === undefined || rule.sku === item.sku) &&
    (rule.location === undefined || rule.location === item.location) &&
    (rule.category === undefined || rule.category === item.category)
  );
}

/** The safety stock held back for `item` (the most specific applicable rule, else the default). */
export function safetyStockFor(policy: InventoryPolicy, item: ItemAtLocation): number {
  let best: SafetyStockRule | undefined;
  for (const rule of policy.safetyStock.rules) {
    if (!applies(rule, item)) continue;
    if (
      best === undefined ||
      specificity(rule) > specificity(best) ||
      (specificity(rule) === specificity(best) && rule.quantity > best.quantity)
    )
      best = rule;
  }
  return best?.quantity ?? policy.safetyStock.default;
}

/** True when `location` feeds `channel` under the policy. */
export function publishesTo(policy: InventoryPolicy, channel: Channel, location: string): boolean {
  const locations = policy.channels[channel].locations;
  return locations === 'all' || locations.includes(location);
}

/** The quantities of one SKU × location that availability is computed from. */
export interface StockPosition {
  /** ERP on hand, plus the movements the hub has seen that the ERP has not booked yet. */
  readonly onHand: number;
  /** Units promised to the channel's open orders (Shopify `committed`). */
  readonly committed: number;
  /** Units held for pick-up orders (BOPIS) not yet collected. */
  readonly reserved: number;
}

/**
 * What `channel` may sell of `item`: `max(0, on hand − committed − safety stock)` online (a pick-up
 * order's units are already in Shopify's `committed` at the store: subtracting the hub's reservation too
 * would hide them twice), `max(0, on hand − reserved)` at the POS (the store sells from the shelf, less what is set aside for
 * pick-up orders; it never shows a negative count), or `null` when the policy does not publish this
 * location to the channel (it must not be touched).
 */
export function availableFor(
  policy: InventoryPolicy,
  channel: Channel,
  item: ItemAtLocation,
  position: StockPosition,
): number | null {
  if (!publishesTo(policy, channel, item.location)) return null;
  if (channel === 'pos') return Math.max(0, position.onHand - position.reserved);
  const safety = safetyStockFor(policy, item);
  return Math.max(0, position.onHand - position.committed - safety);
}

/** A change waiting to be published: where the channel stands and where it should go. */
export interface PendingPublish {
  readonly sku: string;
  readonly location: string;
  /** What the channel shows now, as far as the hub knows (null: unknown). */
  readonly current: number | null;
  /** What it should show. */
  readonly target: number;
  /** Recent sales velocity of the SKU (units per day), when known. */
  readonly unitsPerDay?: number;
  /** When the hub first saw the change (epoch ms): older first among equals. */
  readonly since: number;
}

/**
 * Publishing urgency, lower first. A lowered quantity that reaches the low-stock threshold is the
 * oversell risk the rate budget must go to first; then any other decrease of a fast mover, then other
 * decreases (each still an oversell risk), then increases (an increase late only costs a sale), fast
 * movers first. Unknown current values count as decreases: the hub cannot tell it is safe.
 */
export function urgency(policy: InventoryPolicy, change: PendingPublish): number {
  const decrease = change.current === null || change.target < change.current;
  const lowStock = change.target <= policy.priority.lowStockThreshold;
  const fast = (change.unitsPerDay ?? 0) >= policy.priority.fastMoverUnitsPerDay;
  if (decrease && lowStock) return fast ? 0 : 1;
  if (decrease) return fast ? 2 : 3;
  if (lowStock) return fast ? 4 : 5;
  return fast ? 6 : 7;
}

/**
 * The changes in publishing order: by {@link urgency}, then lower target, then faster mover, then
 * older change, then SKU and location (a stable total order, so runs are reproducible).
 */
export function publishOrder<T extends PendingPublish>(policy: InventoryPolicy, changes: readonly T[]): T[] {
  return [...changes].sort(
    (a, b) =>
      urgency(policy, a) - urgency(policy, b) ||
      a.target - b.target ||
      (b.unitsPerDay ?? 0) - (a.unitsPerDay ?? 0) ||
      a.since - b.since ||
      a.sku.localeCompare(b.sku) ||
      a.location.localeCompare(b.location),
  );
}
