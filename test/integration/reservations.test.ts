import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { orderMovementId } from '#shared/inventory/projection.ts';
import { InventoryRepository } from '#shared/repositories/inventory.ts';
import {
  InvalidReservationError,
  ReservationRepository,
  reservationMovementIds,
} from '#shared/repositories/reservations.ts';
import { createPkSkTable, localDynamo } from '#test/support/dynamodb.ts';

const { client, document } = localDynamo();
let table: string;
let inventory: InventoryRepository;
let reservations: ReservationRepository;

beforeAll(async () => {
  table = await createPkSkTable(client, 'reservations');
  inventory = new InventoryRepository(document, table);
  reservations = new ReservationRepository(document, table);
});

let n = 0;
const fresh = () => {
  n += 1;
  const tag = `${n}-${Math.random().toString(36).slice(2, 6)}`;
  return { a: `A-${tag}`, b: `B-${tag}`, order: `order-${tag}`, location: 'store-7' };
};
const stock = (sku: string, location: string, quantity: number) =>
  inventory.apply({ sku, location }, { kind: 'erp-count', sequence: 1, quantity });
const reservedOf = async (sku: string, location: string) => (await inventory.get({ sku, location })).reserved;

describe('ReservationRepository (DynamoDB Local)', () => {
  it('holds every line in one transaction, and a second hold of the same order holds nothing more', async () => {
    const t = fresh();
    await stock(t.a, t.location, 5);
    await stock(t.b, t.location, 2);
    const lines = [
      { sku: t.a, quantity: 2 },
      { sku: t.b, quantity: 1 },
      { sku: t.a, quantity: 1 },
    ];
    expect(await reservations.reserve(t.order, t.location, lines)).toEqual({ status: 'reserved' });
    expect(await reservations.reserve(t.order, t.location, lines)).toEqual({ status: 'already-reserved' });
    expect(await reservedOf(t.a, t.location)).toBe(3);
    expect(await reservedOf(t.b, t.location)).toBe(1);
    const position = await inventory.get({ sku: t.a, location: t.location });
    expect(position.onHand).toBe(5); // the position's other fields are untouched
    expect(position.version).toBe(2);
    const marker = await document.send(
      new GetCommand({
        TableName: table,
        Key: { pk: `SKU#${t.a}`, sk: `MOV#${t.location}#${reservationMovementIds(t.order, t.a).hold}` },
      }),
    );
    expect(marker.Item).toMatchObject({ state: 'applied' });
  });

  it('holds nothing when one line is short (all or nothing), and says which', async () => {
    const t = fresh();
    await stock(t.a, t.location, 5);
    await stock(t.b, t.location, 1);
    const other = fresh().order;
    await reservations.reserve(other, t.location, [{ sku: t.b, quantity: 1 }]);
    const result = await reservations.reserve(t.order, t.location, [
      { sku: t.a, quantity: 2 },
      { sku: t.b, quantity: 1 },
    ]);
    expect(result).toEqual({ status: 'unavailable', shortages: [{ sku: t.b, requested: 1, available: 0 }] });
    expect(await reservedOf(t.a, t.location)).toBe(0);
    // A SKU never stocked at the store has no position: unavailable too.
    const none = await reservations.reserve(fresh().order, t.location, [{ sku: `NONE-${t.a}`, quantity: 1 }]);
    expect(none.status).toBe('unavailable');
  });

  it('two orders racing for the last units: exactly one holds them', async () => {
    const t = fresh();
    await stock(t.a, t.location, 3);
    const results = await Promise.all(
      ['x', 'y', 'z'].map((o) =>
        reservations.reserve(`${t.order}-${o}`, t.location, [{ sku: t.a, quantity: 2 }]),
      ),
    );
    expect(results.filter((r) => r.status === 'reserved')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'unavailable')).toHaveLength(2);
    expect(await reservedOf(t.a, t.location)).toBe(2);
  });

  it('releases once however often it runs, and a hold arriving after its release holds nothing', async () => {
    const t = fresh();
    await stock(t.a, t.location, 4);
    const lines = [{ sku: t.a, quantity: 2 }];
    await reservations.reserve(t.order, t.location, lines);
    expect(await reservations.release(t.order, t.location, lines)).toBe('done');
    expect(await reservations.release(t.order, t.location, lines)).toBe('already-done');
    expect(await reservedOf(t.a, t.location)).toBe(0);
    expect((await reservations.reserve(t.order, t.location, lines)).status).toBe('released');

    const late = fresh().order;
    expect(await reservations.release(late, t.location, lines)).toBe('nothing-held');
    expect((await reservations.reserve(late, t.location, lines)).status).toBe('released');
    expect(await reservedOf(t.a, t.location)).toBe(0);
  });

  it('turns a collected reservation into a pending sale, once; a sold reservation cannot be released', async () => {
    const t = fresh();
    await stock(t.a, t.location, 4);
    const lines = [{ sku: t.a, quantity: 3 }];
    await reservations.reserve(t.order, t.location, lines);
    expect(await reservations.convertToSale(t.order, t.location, lines, `if-${t.order}`)).toBe('done');
    expect(await reservations.convertToSale(t.order, t.location, lines, `if-${t.order}`)).toBe(
      'already-done',
    );
    const position = await inventory.get({ sku: t.a, location: t.location });
    expect(position.reserved).toBe(0);
    expect(position.pending[orderMovementId(`if-${t.order}`, t.a)]).toMatchObject({
      delta: -3,
      source: 'hub',
    });
    await expect(reservations.release(t.order, t.location, lines)).rejects.toBeInstanceOf(
      InvalidReservationError,
    );
    // What the POS may sell now: 4 on hand − 3 sold (pending) − 0 reserved.
    expect((await reservations.reserve(fresh().order, t.location, [{ sku: t.a, quantity: 2 }])).status).toBe(
      'unavailable',
    );
  });

  it('refuses a sale of a reservation never held, and bad lines', async () => {
    const t = fresh();
    await stock(t.a, t.location, 4);
    await expect(
      reservations.convertToSale(t.order, t.location, [{ sku: t.a, quantity: 1 }], 'if-x'),
    ).rejects.toBeInstanceOf(InvalidReservationError);
    await expect(
      reservations.reserve(t.order, t.location, [{ sku: t.a, quantity: 0 }]),
    ).rejects.toBeInstanceOf(InvalidReservationError);
    await expect(reservations.reserve(t.order, t.location, [])).rejects.toBeInstanceOf(
      InvalidReservationError,
    );
  });
});
