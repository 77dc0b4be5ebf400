/**
 * The inventory projection's rules, pure: one SKU × location, what each input does to it, and why the
 * result is the same whatever order and however often the inputs arrive.
 *
 * The ERP's on hand is the truth. Everything else the hub sees is either a movement the ERP will book
 * later, or an observation of what a channel shows:
 *
 * | input | effect |
 * |---|---|
 * | **ERP count** (absolute on hand, ERP sequence = change-feed id) | applies only if newer than the last ERP count; resets on hand (and so any drift) to the ERP's value, keeping the ERP deltas newer than it |
 * | **ERP adjustment** (delta, ERP sequence, movement id) | once per movement id; ignored when an applied ERP count is at least as new (the count includes it) |
 * | **channel movement** (a POS sale or return, an online-side movement; movement id) | once per movement id; held as *pending* until the ERP books it, so a sale the hub has seen counts before the ERP has it |
 * | **reservation** (BOPIS hold or release; movement id) | once per movement id; adds to `reserved` |
 * | **booking** (an ERP count or adjustment naming the channel movement it books) | the pending movement leaves (the ERP's on hand now includes it); a movement booked before it arrived is never added |
 * | **channel observation** (what Shopify / the POS show, with their sequence) | kept if newer; recognised as the echo of the hub's own write when it equals the value last published |
 *
 * "Once per movement id" is decided by a *marker* per movement (the repository stores it next to the
 * position, with a TTL, and writes both in one transaction): `pending` or `booked`. The position
 * itself carries only what availability needs, so it stays small.
 *
 * Availability counts pending movements conservatively: a pending sale lowers it at once, a pending
 * return raises it only once the ERP books it (never publish stock the truth does not have yet).
 */

/** Where a movement or an observation comes from. */
export type Source = 'erp' | 'pos' | 'shopify' | 'hub';

/** The channels whose shown quantity the hub observes and publishes. */
export type ObservedChannel = 'shopify' | 'pos';

/** A channel movement the ERP has not booked yet. */
export interface PendingMovement {
  readonly delta: number;
  readonly source: Source;
  /** Epoch ms the hub applied it (pending movements the ERP never books expire, see `pendingTtlMs`). */
  readonly at: number;
}

/** What a channel showed, with the source's ordering key. */
export interface Observation {
  readonly quantity: number | null;
  readonly sequence: number;
}

/** What the hub last wrote to a channel for this position. */
export interface Published {
  readonly quantity: number;
  /** Epoch ms of the write. */
  readonly at: number;
  /** The idempotency key of the write. */
  readonly key: string;
}

/**
 * One SKU × location. `version` increments with every write (optimistic concurrency in the
 * repository); `erpSequence` is −1 before the first ERP count.
 */
export interface Position {
  readonly sku: string;
  readonly location: string;
  /** ERP on hand as of `erpSequence`, plus `erpDeltas`. */
  readonly onHand: number;
  readonly erpSequence: number;
  /** ERP adjustments applied after the last ERP count (kept so an older count arriving late keeps them). */
  readonly erpDeltas: readonly { readonly sequence: number; readonly delta: number }[];
  /** Channel movements the ERP has not booked yet, by movement id. */
  readonly pending: Readonly<Record<string, PendingMovement>>;
  /** Units committed to open online orders at this location, as Shopify last reported them. */
  readonly committed: number;
  /** Units held for pick-up orders (transiently negative when a release arrives before its hold). */
  readonly reserved: number;
  readonly observed: Readonly<Partial<Record<ObservedChannel, Observation>>>;
  readonly published: Readonly<Partial<Record<ObservedChannel, Published>>>;
  /**
   * What the channel was last *known* to hold: the value the hub wrote successfully or read back. The
   * publisher's compare-and-set base: a channel-side change since (a Shopify sale) makes the next
   * write stale, so it re-reads instead of overwriting the sale.
   */
  readonly confirmed: Readonly<Partial<Record<ObservedChannel, Confirmed>>>;
  /**
   * Source time (epoch ms) of the newest input that changed availability, when the input carried one:
   * the start of the sync lag the publishers measure (source event → channel write).
   */
  readonly changedAt?: number;
  readonly version: number;
}

/** A channel's quantity as the hub last knew it for sure, and when (epoch ms). */
export interface Confirmed {
  readonly quantity: number;
  readonly at: number;
}

/** A marker of one movement id at this position (absent: never seen). */
export type MarkerState = 'pending' | 'booked' | 'applied';

export type ProjectionInput =
  | {
      readonly kind: 'erp-count';
      readonly sequence: number;
      readonly quantity: number;
      /** The channel movement this ERP change books (e.g. the POS sale a cash sale records). */
      readonly books?: string;
    }
  | {
      readonly kind: 'erp-adjustment';
      readonly sequence: number;
      readonly movementId: string;
      readonly delta: number;
      readonly books?: string;
    }
  | {
      readonly kind: 'movement';
      readonly source: Exclude<Source, 'erp'>;
      readonly movementId: string;
      readonly delta: number;
    }
  | { readonly kind: 'reservation'; readonly movementId: string; readonly delta: number }
  | {
      readonly kind: 'observation';
      readonly channel: ObservedChannel;
      readonly sequence: number;
      readonly quantity: number | null;
    };

/**
 * What an input did:
 * - `applied`: the position changed in a way that can change availability;
 * - `observed`: a newer channel observation was recorded (availability unchanged);
 * - `echo`: a newer observation equal to the hub's own last write (recorded; not a new movement);
 * - `duplicate`: this movement id was already applied;
 * - `stale`: an ERP count or observation older than the one held;
 * - `included`: an ERP adjustment an applied ERP count already includes.
 */
export type Outcome = 'applied' | 'observed' | 'echo' | 'duplicate' | 'stale' | 'included';

/** The result of applying one input: the next position and the marker writes it needs. */
export interface Applied {
  readonly outcome: Outcome;
  readonly next: Position;
  /** Markers to write (movement id → new state); the repository writes them with the position. */
  readonly markers: Readonly<Record<string, MarkerState>>;
  /** True when the position changed (something to write). */
  readonly changed: boolean;
}

export interface ProjectionOptions {
  /** Epoch ms now (pending movements are stamped with it). */
  readonly now: number;
  /** Source time of the input (epoch ms, its event's `occurredAt`): kept as `changedAt` when it applies. */
  readonly sourceAt?: number;
  /**
   * A pending movement the ERP has not booked within this long is dropped: the ERP's on hand stays the
   * truth and reconciliation owns the gap (a parked order, a sale the ERP refused). @default 24 h
   */
  readonly pendingTtlMs?: number;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** A position nothing has been applied to. */
export function emptyPosition(sku: string, location: string): Position {
  return {
    sku,
    location,
    onHand: 0,
    erpSequence: -1,
    erpDeltas: [],
    pending: {},
    committed: 0,
    reserved: 0,
    observed: {},
    published: {},
    confirmed: {},
    version: 0,
  };
}

/**
 * The movement id of the units of `sku` one order moves at one location, shared by the channel
 * movement (a POS sale) and the ERP record that books it (the cash sale carries the order's external
 * id), so the booking can find what it books.
 */
export function orderMovementId(orderExternalId: string, sku: string): string {
  return `${orderExternalId}#${sku}`;
}

/**
 * The on hand availability is computed from: the ERP's, plus the pending sales the ERP has not booked
 * (pending returns are left out until booked — never publish stock the truth does not have yet).
 */
export function effectiveOnHand(position: Position): number {
  let total = position.onHand;
  for (const movement of Object.values(position.pending)) total += Math.min(0, movement.delta);
  return total;
}

function withoutExpired(pending: Position['pending'], now: number, ttlMs: number): Position['pending'] {
  const kept = Object.entries(pending).filter(([, movement]) => now - movement.at <= ttlMs);
  return kept.length === Object.keys(pending).length ? pending : Object.fromEntries(kept);
}

/** Books `movementId`: its pending entry leaves; a marker says it is booked. */
function book(
  position: Position,
  movementId: string | undefined,
  marker: MarkerState | undefined,
  markers: Record<string, MarkerState>,
): { position: Position; changed: boolean } {
  if (movementId === undefined || marker === 'booked') return { position, changed: false };
  markers[movementId] = 'booked';
  if (!(movementId in position.pending)) return { position, changed: true };
  const { [movementId]: _booked, ...pending } = position.pending;
  return { position: { ...position, pending }, changed: true };
}

/**
 * Applies one input to `position`. `markers` holds the state of the movement ids the input names
 * (its own `movementId`, and the one it `books`), as read together with the position.
 */
export function apply(
  position: Position,
  input: ProjectionInput,
  markers: Readonly<Record<string, MarkerState | undefined>>,
  options: ProjectionOptions,
): Applied {
  const base: Position = {
    ...position,
    pending: withoutExpired(position.pending, options.now, options.pendingTtlMs ?? DAY_MS),
  };
  const expired = base.pending !== position.pending;
  const writes: Record<string, MarkerState> = {};
  const result = (outcome: Outcome, next: Position, changed: boolean): Applied => ({
    outcome,
    next:
      outcome === 'applied' && options.sourceAt !== undefined
        ? { ...next, changedAt: Math.max(options.sourceAt, next.changedAt ?? 0) }
        : next,
    markers: writes,
    changed: changed || expired,
  });

  switch (input.kind) {
    case 'erp-count': {
      const booked = book(base, input.books, input.books ? markers[input.books] : undefined, writes);
      if (input.sequence <= booked.position.erpSequence)
        return result('stale', booked.position, booked.changed);
      const newer = booked.position.erpDeltas.filter((d) => d.sequence > input.sequence);
      const next: Position = {
        ...booked.position,
        onHand: input.quantity + newer.reduce((sum, d) => sum + d.delta, 0),
        erpSequence: input.sequence,
        erpDeltas: newer,
      };
      return result('applied', next, true);
    }
    case 'erp-adjustment': {
      if (markers[input.movementId] !== undefined) return result('duplicate', base, false);
      writes[input.movementId] = 'applied';
      const booked = book(base, input.books, input.books ? markers[input.books] : undefined, writes);
      if (input.sequence <= booked.position.erpSequence) return result('included', booked.position, true);
      const next: Position = {
        ...booked.position,
        onHand: booked.position.onHand + input.delta,
        erpDeltas: [...booked.position.erpDeltas, { sequence: input.sequence, delta: input.delta }],
      };
      return result('applied', next, true);
    }
    case 'movement': {
      if (markers[input.movementId] !== undefined) return result('duplicate', base, false);
      writes[input.movementId] = 'pending';
      const next: Position = {
        ...base,
        pending: {
          ...base.pending,
          [input.movementId]: { delta: input.delta, source: input.source, at: options.now },
        },
      };
      return result('applied', next, true);
    }
    case 'reservation': {
      if (markers[input.movementId] !== undefined) return result('duplicate', base, false);
      writes[input.movementId] = 'applied';
      // Not clamped here: a release delivered before its hold must cancel it whatever the order.
      return result('applied', { ...base, reserved: base.reserved + input.delta }, true);
    }
    case 'observation': {
      const held = base.observed[input.channel];
      if (held !== undefined && input.sequence <= held.sequence) return result('stale', base, false);
      const next: Position = {
        ...base,
        observed: {
          ...base.observed,
          [input.channel]: { quantity: input.quantity, sequence: input.sequence },
        },
      };
      const echo = input.quantity !== null && input.quantity === base.published[input.channel]?.quantity;
      return result(echo ? 'echo' : 'observed', next, true);
    }
  }
}

/** The movement ids an input needs the markers of. */
export function markerIdsOf(input: ProjectionInput): string[] {
  const ids: string[] = [];
  if ('movementId' in input) ids.push(input.movementId);
  if ('books' in input && input.books !== undefined && !ids.includes(input.books)) ids.push(input.books);
  return ids;
}

/** What a publisher learned from a channel: its value now, the channel's committed units, its own write. */
export interface ChannelState {
  readonly channel: ObservedChannel;
  /** The channel's quantity now (written or read back). */
  readonly quantity: number;
  /** Epoch ms it was known. */
  readonly at: number;
  /** Shopify's `committed` at the location, when it was read. */
  readonly committed?: number;
  /** Set when the hub wrote `quantity` (not for a read). */
  readonly published?: Published;
}

/**
 * Records a channel's state after a write or a read. An older state than the one held (by `at`) is
 * ignored: two publishers must not move the compare-and-set base backwards.
 */
export function recordChannelState(position: Position, state: ChannelState): Position | undefined {
  const held = position.confirmed[state.channel];
  if (held !== undefined && state.at < held.at) return undefined;
  return {
    ...position,
    confirmed: { ...position.confirmed, [state.channel]: { quantity: state.quantity, at: state.at } },
    ...(state.committed !== undefined ? { committed: state.committed } : {}),
    ...(state.published !== undefined
      ? { published: { ...position.published, [state.channel]: state.published } }
      : {}),
  };
}
