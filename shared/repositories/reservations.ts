import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { HubError } from '../errors.ts';
import { effectiveOnHand, type MarkerState, orderMovementId } from '../inventory/projection.ts';
import { INVENTORY_KEY_PREFIX, InventoryContentionError } from './inventory.ts';

/**
 * BOPIS reservations on the inventory table's positions (shared/repositories/inventory.ts): a pick-up
 * order's lines are held at its store **all or nothing** — one `TransactWriteItems` that raises each
 * line's `reserved` under the position's optimistic `version` and writes one movement marker per line
 * (`MOV#<location>#<movementId>`, the projection's markers, so a projector seeing the same movement id
 * counts it as a duplicate). A line short of stock, a concurrent writer or a marker already written
 * cancels the whole transaction: either every line is held or none is.
 *
 * Only `reserved`, `pending`, `version` and `updatedAt` of a position are written (`UpdateItem`, never a
 * whole-item put): the position item stays the inventory flow's.
 *
 * Idempotent on the reservation id (the Shopify order): holding twice holds once; releasing twice, or
 * releasing what was never held, releases nothing more; a hold that arrives after its release (a
 * lingering retry of the reserve task) does not hold.
 *
 * Stock a reservation may take: the POS availability at the store, `effective on hand − reserved`
 * (Shopify already counts the pick-up order's units as `committed`, so committed is not subtracted).
 */

export interface ReservationLine {
  readonly sku: string;
  readonly quantity: number;
}

export interface Shortage {
  readonly sku: string;
  readonly requested: number;
  readonly available: number;
}

export type ReserveResult =
  | { readonly status: 'reserved' | 'already-reserved' }
  | { readonly status: 'unavailable'; readonly shortages: readonly Shortage[] }
  | { readonly status: 'released'; readonly reason: string };

export type SettleResult = 'done' | 'already-done' | 'nothing-held';

/** A reservation id or line the repository refuses (an input error: never retry it). */
export class InvalidReservationError extends HubError {
  readonly code = 'INVALID_RESERVATION';
  readonly retryable = false;
}

/** The movement ids of one reservation's line: its hold, its release and its sale. */
export const reservationMovementIds = (reservationId: string, sku: string) => ({
  hold: `bopis:${reservationId}#${sku}#hold`,
  release: `bopis:${reservationId}#${sku}#release`,
  sale: `bopis:${reservationId}#${sku}#sale`,
});

export interface ReservationRepositoryOptions {
  /** @default 8 */
  readonly maxAttempts?: number;
  /** How long the markers are kept (they must outlast every retry of the workflow). @default 30 days */
  readonly markerTtlSeconds?: number;
  readonly now?: () => number;
}

const positionKey = (sku: string, location: string) => ({
  pk: `${INVENTORY_KEY_PREFIX}${sku}`,
  sk: `LOC#${location}`,
});
const markerKey = (sku: string, location: string, movementId: string) => ({
  pk: `${INVENTORY_KEY_PREFIX}${sku}`,
  sk: `MOV#${location}#${movementId}`,
});

const isConflict = (error: unknown) =>
  error instanceof TransactionCanceledException &&
  (error.CancellationReasons ?? []).some(
    (r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict',
  );

const backoff = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, Math.random() * 5 * 2 ** Math.min(attempt, 5)));

interface LineRead {
  readonly line: ReservationLine;
  readonly position: Record<string, unknown> | undefined;
  readonly hold: MarkerState | undefined;
  readonly release: MarkerState | undefined;
  readonly sale: MarkerState | undefined;
}

export class ReservationRepository {
  private readonly maxAttempts: number;
  private readonly markerTtlSeconds: number;
  private readonly now: () => number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: ReservationRepositoryOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.markerTtlSeconds = options.markerTtlSeconds ?? 30 * 24 * 60 * 60;
    this.now = options.now ?? Date.now;
  }

  /** Holds every line at `location`, or none (see the module doc). */
  async reserve(
    reservationId: string,
    location: string,
    lines: readonly ReservationLine[],
  ): Promise<ReserveResult> {
    const merged = mergeLines(reservationId, lines);
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const reads = await this.read(reservationId, location, merged);
      if (reads.some((r) => r.release !== undefined))
        return { status: 'released', reason: 'the reservation was released before it was held' };
      if (reads.every((r) => r.hold !== undefined)) return { status: 'already-reserved' };
      const shortages = reads
        .map(({ line, position }) => ({
          sku: line.sku,
          requested: line.quantity,
          available: sellable(position),
        }))
        .filter((s) => s.available < s.requested);
      if (shortages.length > 0) return { status: 'unavailable', shortages };
      try {
        await this.write(
          reads.flatMap((r) => [
            this.positionUpdate(location, r, r.line.quantity, {}),
            this.markerPut(r.line.sku, location, reservationMovementIds(reservationId, r.line.sku).hold),
            this.markerAbsent(
              r.line.sku,
              location,
              reservationMovementIds(reservationId, r.line.sku).release,
            ),
          ]),
        );
        return { status: 'reserved' };
      } catch (error) {
        if (!isConflict(error)) throw error;
        await backoff(attempt);
      }
    }
    throw this.contention(reservationId);
  }

  /**
   * Gives the held units back (every compensation path). Idempotent; releasing a reservation that was
   * never held writes the release markers only, so a late hold cannot take the stock afterwards.
   */
  async release(
    reservationId: string,
    location: string,
    lines: readonly ReservationLine[],
  ): Promise<SettleResult> {
    return this.settle(reservationId, location, lines, 'release');
  }

  /**
   * The customer collected: the held units leave `reserved` and become a pending sale under the movement
   * id the ERP's booking will name (`orderMovementId(bookingExternalId, sku)`: the change feed marks the
   * item fulfilment's stock change as booking it, shared/inventory/erp-change-feed.ts), so availability
   * counts the units as sold until the ERP's on hand includes them, and never twice.
   */
  async convertToSale(
    reservationId: string,
    location: string,
    lines: readonly ReservationLine[],
    bookingExternalId: string,
  ): Promise<SettleResult> {
    return this.settle(reservationId, location, lines, 'sale', bookingExternalId);
  }

  private async settle(
    reservationId: string,
    location: string,
    lines: readonly ReservationLine[],
    kind: 'release' | 'sale',
    bookingExternalId?: string,
  ): Promise<SettleResult> {
    const merged = mergeLines(reservationId, lines);
    for (let attempt = 0; attempt < this.maxAttempts; attempt += 1) {
      const reads = await this.read(reservationId, location, merged);
      const settled = (r: LineRead) => r.release !== undefined || r.sale !== undefined;
      if (reads.every(settled)) {
        const same = reads.every((r) => (kind === 'release' ? r.release : r.sale) !== undefined);
        if (same) return 'already-done';
        throw new InvalidReservationError(
          `reservation ${reservationId}: cannot ${kind === 'release' ? 'release' : 'sell'} what was already ${kind === 'release' ? 'sold' : 'released'}`,
        );
      }
      if (kind === 'sale' && reads.some((r) => r.hold === undefined))
        throw new InvalidReservationError(`reservation ${reservationId}: nothing held to sell`);
      const held = reads.some((r) => r.hold !== undefined);
      const now = this.now();
      try {
        await this.write(
          reads
            .filter((r) => !settled(r))
            .flatMap((r) => {
              const ids = reservationMovementIds(reservationId, r.line.sku);
              const items: Record<string, unknown>[] = [
                this.markerPut(r.line.sku, location, kind === 'release' ? ids.release : ids.sale),
              ];
              if (r.hold === undefined) {
                // Never held: a tombstone only (the hold refuses to run after it); the position is untouched.
                items.push(this.markerAbsent(r.line.sku, location, ids.hold));
                return items;
              }
              if (kind === 'sale' && bookingExternalId !== undefined) {
                const movementId = orderMovementId(bookingExternalId, r.line.sku);
                // The projection's marker of the pending movement (a booking that came first fails it).
                items.push(this.markerPut(r.line.sku, location, movementId, 'pending'));
                items.push(
                  this.positionUpdate(location, r, -r.line.quantity, {
                    [movementId]: { delta: -r.line.quantity, source: 'hub', at: now },
                  }),
                );
                return items;
              }
              items.push(this.positionUpdate(location, r, -r.line.quantity, {}));
              return items;
            }),
        );
        return held ? 'done' : 'nothing-held';
      } catch (error) {
        if (!isConflict(error)) throw error;
        await backoff(attempt);
      }
    }
    throw this.contention(reservationId);
  }

  /** The positions and the markers of every line, in one snapshot (TransactGetItems, ≤ 100 items). */
  private async read(
    reservationId: string,
    location: string,
    lines: readonly ReservationLine[],
  ): Promise<LineRead[]> {
    const keys = lines.flatMap((line) => {
      const ids = reservationMovementIds(reservationId, line.sku);
      return [
        positionKey(line.sku, location),
        markerKey(line.sku, location, ids.hold),
        markerKey(line.sku, location, ids.release),
        markerKey(line.sku, location, ids.sale),
      ];
    });
    const result = await this.client.send(
      new TransactGetCommand({
        TransactItems: keys.map((Key) => ({ Get: { TableName: this.tableName, Key } })),
      }),
    );
    const items = (result.Responses ?? []).map((r) => r?.Item);
    return lines.map((line, i) => ({
      line,
      position: items[i * 4],
      hold: items[i * 4 + 1]?.state as MarkerState | undefined,
      release: items[i * 4 + 2]?.state as MarkerState | undefined,
      sale: items[i * 4 + 3]?.state as MarkerState | undefined,
    }));
  }

  /** `reserved += delta` (and pending sales added) at the version read; the position must exist. */
  private positionUpdate(
    location: string,
    read: LineRead,
    delta: number,
    pending: Record<string, unknown>,
  ): Record<string, unknown> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {
      ':delta': delta,
      ':zero': 0,
      ':one': 1,
      ':read': Number(read.position?.version ?? 0),
      ':at': new Date(this.now()).toISOString(),
    };
    const sets = [
      'reserved = if_not_exists(reserved, :zero) + :delta',
      'version = version + :one',
      'updatedAt = :at',
    ];
    Object.entries(pending).forEach(([movementId, movement], i) => {
      names[`#m${i}`] = movementId;
      values[`:m${i}`] = movement;
      sets.push(`pending.#m${i} = :m${i}`);
    });
    return {
      Update: {
        TableName: this.tableName,
        Key: positionKey(read.line.sku, location),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'version = :read',
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
      },
    };
  }

  private markerPut(
    sku: string,
    location: string,
    movementId: string,
    state: MarkerState = 'applied',
  ): Record<string, unknown> {
    const now = this.now();
    return {
      Put: {
        TableName: this.tableName,
        Item: {
          ...markerKey(sku, location, movementId),
          state,
          at: new Date(now).toISOString(),
          expiresAt: Math.floor(now / 1000) + this.markerTtlSeconds,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private markerAbsent(sku: string, location: string, movementId: string): Record<string, unknown> {
    return {
      ConditionCheck: {
        TableName: this.tableName,
        Key: markerKey(sku, location, movementId),
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
  }

  private async write(items: Record<string, unknown>[]): Promise<void> {
    // TransactWriteItems takes at most 100 actions (3 a line: ≤ 33 lines; mergeLines refuses more).
    await this.client.send(new TransactWriteCommand({ TransactItems: items as never }));
  }

  private contention(reservationId: string) {
    return new InventoryContentionError(
      `reservation ${reservationId}: lost ${this.maxAttempts} concurrent writes in a row`,
    );
  }
}

/** What the POS may still sell at the store: effective on hand − reserved (0 without a position). */
function sellable(item: Record<string, unknown> | undefined): number {
  if (!item) return 0;
  const reserved = Math.max(0, Number(item.reserved ?? 0));
  const onHand = effectiveOnHand({
    onHand: Number(item.onHand ?? 0),
    pending: (item.pending as Record<string, { delta: number; source: 'hub'; at: number }> | undefined) ?? {},
  } as Parameters<typeof effectiveOnHand>[0]);
  return onHand - reserved;
}

/** One line per SKU (quantities summed), validated; TransactGetItems/TransactWriteItems take ≤ 100 items. */
function mergeLines(reservationId: string, lines: readonly ReservationLine[]): ReservationLine[] {
  if (!reservationId) throw new InvalidReservationError('a reservation needs an id');
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of lines) {
    if (!sku || !Number.isInteger(quantity) || quantity <= 0)
      throw new InvalidReservationError(`reservation ${reservationId}: invalid line ${sku} × ${quantity}`);
    bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  }
  if (bySku.size === 0) throw new InvalidReservationError(`reservation ${reservationId}: no lines`);
  if (bySku.size > 25)
    throw new InvalidReservationError(
      `reservation ${reservationId}: ${bySku.size} SKUs, at most 25 in one transaction`,
    );
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}
