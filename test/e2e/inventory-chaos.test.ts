import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AttributeValue, QueryCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DynamoDbCall } from '#local/aws/dynamodb-proxy.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { waitFor } from '#local/services/ports.ts';
import type { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import type { ShopifySandbox } from '#sandbox/shopify/index.ts';
import { fulfillableQuantity } from '#sandbox/shopify/orders.ts';
import type { AdjustmentGroupRecord } from '#sandbox/shopify/store.ts';
import type { SquareSandbox } from '#sandbox/square/index.ts';
import type { InventoryChangeRecord } from '#sandbox/square/store.ts';

/**
 * Issue #13's "Done when", through the local cloud with its chaos on (5 % duplicated and 10 % reordered
 * SQS and EventBridge deliveries, failed PutEvents entries), the sandboxes' webhooks 5 % duplicated and
 * 10 % reordered, and 10 % of Shopify's Admin API calls answering 5xx: a storm on a few hot SKUs at all
 * 121 locations (the warehouse and the 120 stores) — NetSuite goods receipts and store corrections,
 * Square register sales, returns and counts, Shopify online orders (shipping and pick-up), cancellations
 * and fulfilments. After the hub is idle:
 *
 * - **Shopify** `available` = max(0, ERP on hand − Shopify committed − safety stock 0) for every SKU ×
 *   location (the dev policy publishes every location);
 * - **POS**: each store's Square count = ERP on hand − reserved, where reserved is what the store must set
 *   aside for online pick-up orders (a quarter of the Shopify orders are pick-ups, and the BOPIS flow holds
 *   their units until they are collected or cancelled): read from the Shopify sandbox's open pick-up orders,
 *   not from the hub;
 * - **no stale raise**: no hub write to Shopify or Square ever set a quantity above the availability the
 *   projection held at that moment.
 *
 * The last check needs the projection's history and the moment of every channel write, each observed
 * from outside the hub so that the hub cannot vouch for itself:
 * - the projection's history comes from the local DynamoDB: every committed `TransactWriteItems` that
 *   puts a position item (the only way the repository writes one) is kept with the time it was sent
 *   and answered. The availability of each version is computed here from the stored item, with the
 *   issue's formula (ERP on hand + unbooked sales − committed − reserved; POS without committed) —
 *   not with the hub's functions, so a bug there is not repeated here;
 * - the channel writes are the sandboxes' own records of them (Shopify's inventory adjustment groups of
 *   the hub's `referenceDocumentUri`, Square's PHYSICAL_COUNT changes of the hub's `reference_id`),
 *   stamped with the wall clock at the moment the sandbox applied them (the Shopify store clock runs
 *   ahead with simulated order times, so its `createdAt` cannot be compared with DynamoDB's).
 *
 * Why not the other options: reading the projection table when the test reads the write log only shows
 * the projection as it is *then* (a later receipt would hide a stale raise, a later sale would invent
 * one); an availability the publisher records in its reference document is the publisher vouching for
 * itself — a publisher that ignored an unbooked sale would record the same wrong number it wrote.
 *
 * "At that moment" has one unavoidable race: a projection write that lands between the publisher's last
 * read (right before the send, after any pacing or backoff wait) and the channel applying the write; the
 * next publish (the projector queues the key of every write) corrects it. The check allows the states
 * the projection held within `RACE_MS` before the write, which is far shorter than a pacing wait or a
 * retry backoff, the stale raises this test is there to catch.
 */

const HOT_SKU_COUNT = 2;
/** Read → send → apply of one publish call on a loaded 2-core machine (see above). */
const RACE_MS = 1_500;

/** What availability is computed from, as a version of a position item holds it. */
interface State {
  /** False while no ERP count has reached the position (erpSequence −1). */
  readonly known: boolean;
  readonly onHand: number;
  /** Unbooked movements by id (their deltas). */
  readonly pending: Readonly<Record<string, number>>;
  readonly committed: number;
  readonly reserved: number;
}

interface Version {
  readonly version: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  readonly state: State;
  /** Online availability (Shopify) and POS count the projection held with this version; null: ERP on hand unknown. */
  readonly online: number | null;
  readonly pos: number | null;
}

interface ChannelWrite {
  readonly channel: 'shopify' | 'pos';
  readonly key: string;
  readonly quantity: number;
  readonly at: number;
}

const history = new Map<string, Version[]>();
/** Position writes whose result could not be derived (the history would be incomplete): must stay empty. */
const unobserved: string[] = [];

/**
 * Availability with the formulas: ERP on hand plus the unbooked sales; online (Shopify) less
 * Shopify's committed (a pick-up's units are in it, so the hold is not subtracted again), POS less the
 * units held for pick-up orders.
 */
function record(key: string, version: number, call: DynamoDbCall, state: State): void {
  const onHand = state.onHand + Object.values(state.pending).reduce((sum, d) => sum + Math.min(0, d), 0);
  const reserved = Math.max(0, state.reserved);
  const list = history.get(key) ?? [];
  list.push({
    version,
    sentAt: call.sentAt,
    answeredAt: call.answeredAt,
    state,
    online: state.known ? Math.max(0, onHand - state.committed) : null,
    pos: state.known ? Math.max(0, onHand - reserved) : null,
  });
  history.set(key, list);
}

/**
 * Keeps every committed write of a position item (`SKU#…` / `LOC#…`) with its availability: the
 * inventory repository's whole-item puts, and the BOPIS reservations' updates (`reserved` += `:delta`,
 * pending movements set, under the condition `version = :read`), applied to the version they read.
 */
function observe(call: DynamoDbCall): void {
  if (call.status !== 200 || !call.target.endsWith('.TransactWriteItems')) return;
  const body = JSON.parse(call.body.toString('utf8')) as {
    TransactItems: {
      Put?: { Item: Record<string, never> };
      Update?: {
        Key: Record<string, never>;
        UpdateExpression: string;
        ExpressionAttributeNames?: Record<string, string>;
        ExpressionAttributeValues: Record<string, never>;
      };
    }[];
  };
  for (const transactItem of body.TransactItems) {
    const put = transactItem.Put?.Item;
    const update = transactItem.Update;
    const keys = unmarshall(put ?? update?.Key ?? {}) as Record<string, unknown>;
    if (!String(keys.pk ?? '').startsWith('SKU#') || !String(keys.sk ?? '').startsWith('LOC#')) continue;
    const key = `${String(keys.pk).slice(4)}|${String(keys.sk).slice(4)}`;
    if (put) {
      const item = unmarshall(put) as Record<string, unknown>;
      record(key, Number(item.version), call, {
        known: Number(item.erpSequence ?? -1) >= 0,
        onHand: Number(item.onHand ?? 0),
        pending: Object.fromEntries(
          Object.entries((item.pending ?? {}) as Record<string, { delta: number }>).map(([id, m]) => [
            id,
            m.delta,
          ]),
        ),
        committed: Number(item.committed ?? 0),
        reserved: Number(item.reserved ?? 0),
      });
    } else if (update) {
      const values = unmarshall(update.ExpressionAttributeValues) as Record<string, unknown>;
      const read = Number(values[':read']);
      const base = history.get(key)?.find((v) => v.version === read)?.state;
      if (!base) {
        unobserved.push(`a reservation of ${key} updated version ${read}, which no observed write made`);
        continue;
      }
      const pending = { ...base.pending };
      for (const match of update.UpdateExpression.matchAll(/pending\.(#m\d+) = (:m\d+)/g)) {
        const id = update.ExpressionAttributeNames?.[match[1] ?? ''];
        const movement = values[match[2] ?? ''] as { delta: number } | undefined;
        if (id && movement) pending[id] = movement.delta;
      }
      record(key, read + 1, call, {
        ...base,
        pending,
        reserved: base.reserved + Number(values[':delta'] ?? 0),
      });
    }
  }
}

/**
 * The highest availability the projection may have held for `key` within [at − RACE_MS, at]: the
 * version current at the window's start, every version answered within it, and every version in flight
 * at `at` (a transaction takes effect between its send and its answer). Null: none known (the ERP had
 * not reported the position: nothing may be written).
 */
function bound(key: string, channel: 'shopify' | 'pos', at: number): number | null {
  const versions = (history.get(key) ?? []).slice().sort((a, b) => a.version - b.version);
  const from = at - RACE_MS;
  const candidates: Version[] = [];
  const before = versions.filter((v) => v.answeredAt <= from).at(-1);
  if (before) candidates.push(before);
  for (const v of versions) if (v.sentAt <= at && v.answeredAt > from) candidates.push(v);
  let best: number | null = null;
  for (const v of candidates) {
    const value = channel === 'shopify' ? v.online : v.pos;
    if (value !== null && (best === null || value > best)) best = value;
  }
  return best;
}

let pipeline: OrderPipeline;
let netsuite: NetSuiteSandbox;
let shopify: ShopifySandbox;
let square: SquareSandbox;
const writes: ChannelWrite[] = [];
const functionLog: string[] = [];

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 37,
    chaos: { duplicateRate: 0.05, reorderRate: 0.1, putEventsFailureRate: 0.01, seed: 41 },
    onDynamoDbCall: observe,
    // The inventory functions' log lines, written out for a failed run to be read.
    onFunctionLog: (fn, line) => {
      if (/Inventory|inventory/.test(fn) && !line.includes('"level":"DEBUG"'))
        functionLog.push(`${fn} ${line}`);
    },
  });
  netsuite = pipeline.sandboxes.apps.find((app) => app.name === 'netsuite') as unknown as NetSuiteSandbox;
  shopify = pipeline.sandboxes.apps.find((app) => app.name === 'shopify') as unknown as ShopifySandbox;
  square = pipeline.sandboxes.apps.find((app) => app.name === 'square') as unknown as SquareSandbox;
}, 180_000);

afterAll(async () => {
  writeFileSync(join(tmpdir(), 'omnihub-inventory-chaos.log'), functionLog.join('\n'));
  await pipeline?.stop();
});

/** Hub location (ERP location id) of a location code. */
const erpLocationOf = (code: string | undefined) => netsuite.store.locations.find((l) => l.code === code)?.id;

/**
 * Units of `sku` that open Shopify pick-up orders still wait for at the store `code` (their fulfillable
 * quantity): what the BOPIS flow holds at that store until the order is collected or cancelled. A pick-up
 * the hub could not reserve is cancelled on Shopify (its compensation), so it counts 0 here too.
 */
function awaitingPickup(sku: string, code: string | undefined): number {
  let units = 0;
  for (const order of shopify.store.orders) {
    if (order.delivery !== 'PICK_UP' || shopify.store.locationById.get(order.locationId)?.code !== code)
      continue;
    for (const line of order.lineItems) if (line.sku === sku) units += fulfillableQuantity(line, order);
  }
  return units;
}

/** Records every inventory write the sandboxes apply, stamped with the wall clock (read-only: the sandboxes run unchanged). */
function recordChannelWrites(): void {
  const groups = shopify.store.adjustmentGroups;
  const set = groups.set.bind(groups);
  groups.set = (id: string, group: AdjustmentGroupRecord) => {
    const at = Date.now();
    if (group.referenceDocumentUri?.startsWith('gid://omnihub/InventoryPublish/')) {
      for (const change of group.changes) {
        if (change.name !== 'available') continue;
        const sku = shopify.store.itemById.get(change.inventoryItemId)?.sku;
        const location = erpLocationOf(shopify.store.locationById.get(change.locationId)?.code);
        writes.push({
          channel: 'shopify',
          key: `${sku}|${location}`,
          quantity: change.quantityAfterChange,
          at,
        });
      }
    }
    return set(id, group);
  };
  const changes = square.store.changes;
  const push = changes.push.bind(changes);
  changes.push = (...created: InventoryChangeRecord[]) => {
    const at = Date.now();
    for (const change of created) {
      const count = change.physical_count as
        | { reference_id?: string; catalog_object_id: string; location_id: string; quantity: string }
        | undefined;
      if (!count?.reference_id?.startsWith('omnihub-')) continue;
      const sku = square.store.variations.get(count.catalog_object_id)?.item_variation_data.sku;
      const location = erpLocationOf(square.store.codeByLocationId.get(count.location_id));
      writes.push({ channel: 'pos', key: `${sku}|${location}`, quantity: Number(count.quantity), at });
    }
    return push(...created);
  };
}

/** The hot SKUs' projection items (positions and movement markers) as DynamoDB Local holds them now. */
async function projectionItems(skus: readonly string[]): Promise<Record<string, unknown>[]> {
  const table = pipeline.cloud.template
    .ofType('AWS::DynamoDB::Table')
    .find((t) => t.logicalId.includes('InventoryTable'))?.name;
  if (!table) throw new Error('no inventory table in the template');
  const items: Record<string, unknown>[] = [];
  for (const sku of skus) {
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out = await pipeline.dynamodb.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: `SKU#${sku}` } },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []).map((i) => unmarshall(i)));
      start = out.LastEvaluatedKey;
    } while (start);
  }
  return items;
}

/**
 * POS sales the projection still holds as unbooked (pending, negative) although the ERP has booked their
 * cash sale: each is subtracted twice (the ERP's on hand already includes it). The cash sale's external id
 * is the movement id up to `#<sku>` (`orderMovementId`), read here from the NetSuite sandbox's records.
 */
function bookedButPending(items: readonly Record<string, unknown>[]): string[] {
  const cashSales = new Set(netsuite.store.list('cashSale').map((r) => r.externalId));
  const out: string[] = [];
  for (const item of items) {
    if (!String(item.sk).startsWith('LOC#')) continue;
    for (const [movementId, movement] of Object.entries(
      (item.pending ?? {}) as Record<string, { delta: number }>,
    )) {
      const externalId = movementId.slice(0, movementId.lastIndexOf('#'));
      if (movement.delta < 0 && cashSales.has(externalId))
        out.push(`${String(item.sku)} @ ${String(item.location)}: ${movementId} ${movement.delta}`);
    }
  }
  return out;
}

/**
 * What a failed run needs to be read: the levels off the invariant, each with its projection items (the
 * position and its movement markers), the ERP's on hand and the feed entries of that position; every
 * position still holding unbooked movements or a reservation; the ERP's cash sales; the parked exceptions.
 * Written to `omnihub-inventory-chaos-diagnostics.json` in the temp directory.
 */
async function writeDiagnostics(
  levels: readonly string[],
  items: readonly Record<string, unknown>[],
): Promise<void> {
  const positions = [...new Set(levels.map((l) => l.split(' ').slice(1).join(' ')))].map((key) => {
    const [sku = '', , code] = key.split(' ');
    const location = erpLocationOf(code) ?? '';
    const itemId = netsuite.store.itemIdBySku.get(sku);
    return {
      key,
      location,
      erpOnHand: itemId ? netsuite.store.onHand(itemId, location) : null,
      awaitingPickup: awaitingPickup(sku, code),
      items: items.filter(
        (i) =>
          i.pk === `SKU#${sku}` &&
          (i.sk === `LOC#${location}` || String(i.sk).startsWith(`MOV#${location}#`)),
      ),
      feed: netsuite.store.feed.filter((e) => e.sku === sku && e.locationId === location),
    };
  });
  const holding = items
    .filter((i) => String(i.sk).startsWith('LOC#'))
    .filter((i) => Object.keys((i.pending ?? {}) as object).length > 0 || Number(i.reserved ?? 0) !== 0)
    .map((i) => ({
      key: `${String(i.sku)} @ ${String(i.location)}`,
      pending: i.pending,
      reserved: i.reserved,
    }));
  const cashSales = netsuite.store.list('cashSale').map((r) => ({
    id: r.id,
    externalId: r.externalId,
    created: r.createdDate,
    modified: r.lastModifiedDate,
    item: r.body.item,
    location: r.body.location,
  }));
  // The pick-up orders and their BOPIS executions (a hold follows the execution: Reserve → … → release).
  const pickups = shopify.store.orders
    .filter((o) => o.delivery === 'PICK_UP')
    .map((o) => ({
      id: o.id,
      name: o.name,
      location: shopify.store.locationById.get(o.locationId)?.code,
      cancelledAt: o.cancelledAt,
      lines: o.lineItems.map((l) => ({ sku: l.sku, fulfillable: fulfillableQuantity(l, o) })),
    }));
  const { SFNClient, GetExecutionHistoryCommand } = await import('@aws-sdk/client-sfn');
  const sfn = new SFNClient({
    endpoint: pipeline.cloud.endpoints.aws,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const executions = [];
  const listed = (await (await fetch(`${pipeline.url}/_local/executions`)).json()) as {
    stateMachine: string;
    name: string;
    status: string;
    executionArn: string;
  }[];
  for (const execution of listed.filter((e) => e.stateMachine.includes('Bopis'))) {
    const history = await sfn.send(new GetExecutionHistoryCommand({ executionArn: execution.executionArn }));
    executions.push({ ...execution, last: (history.events ?? []).slice(-6) });
  }
  writeFileSync(
    join(tmpdir(), 'omnihub-inventory-chaos-diagnostics.json'),
    JSON.stringify(
      { levels, positions, holding, pickups, executions, cashSales, exceptions: await pipeline.exceptions() },
      null,
      1,
    ),
  );
}

// Part of `npm test` again: 97–151 s for the test, 138–187 s for the file with synth and boot (247 s under a
// heavier load), 2 cores shared with other work, 2026-12-03. Its earlier failures (levels 1–2 units low at the pick-up
// stores) were BOPIS holds never released or orders left open: a pick-up cancelled before the POS reported
// any state failed its execution before the compensations, and the task errors' names were mangled by the
// minified bundle so no Retry matched (a single Shopify 503 failed a compensation) — both fixed — and this
// test expected no hold at all.
// On demand (2–3 minutes, too long for npm test's budget beside the other flows' e2e):
// OMNIHUB_E2E_INVENTORY_CHAOS=1 npm test -- test/e2e/inventory-chaos.test.ts
describe.skipIf(!process.env.OMNIHUB_E2E_INVENTORY_CHAOS)(
  'inventory availability under chaos, 121 locations, a few hot SKUs',
  () => {
    it('converges Shopify and every store to the invariant, and no channel write ever raised above the projection', async () => {
      recordChannelWrites();
      // A few SKUs every channel knows (the hot items of a promotion).
      const skus = [...square.store.variationBySku.keys()]
        .filter((sku) => shopify.store.itemBySku.has(sku))
        .slice(0, HOT_SKU_COUNT);
      expect(skus).toHaveLength(HOT_SKU_COUNT);
      const itemIdOf = new Map(
        netsuite.store.list('inventoryItem').map((r) => [netsuite.store.skuOf(r.id) ?? '', r.id]),
      );

      await pipeline.control('shopify', '/_control/faults', {
        // The issue asks for 10 %; the coalesced publisher makes few calls here, so 20 % makes sure some fail.
        errorRate: 0.2,
        errorStatuses: [500, 502, 503],
        paths: ['/admin/api'],
        webhooks: { duplicateRate: 0.05, reorderRate: 0.1 },
        seed: 43,
      });
      await pipeline.control('square', '/_control/faults', {
        webhooks: { duplicateRate: 0.05, reorderRate: 0.1 },
      });

      // Go-live: the ERP's opening on hand of the hot SKUs at every location, into the change feed (what an
      // initial export does; without an ERP count the hub publishes nothing for a position).
      for (const sku of skus) {
        const itemId = itemIdOf.get(sku);
        if (!itemId) throw new Error(`the ERP has no item ${sku}`);
        for (const location of netsuite.store.locations) {
          netsuite.store.appendChange({
            kind: 'onhand',
            itemId,
            sku,
            locationId: location.id,
            locationCode: location.code,
            quantity: netsuite.store.onHand(itemId, location.id),
            source: 'snapshot:opening',
          });
        }
      }
      const poller = pipeline.cloud.template
        .ofType('AWS::Lambda::Function')
        .find((fn) => fn.logicalId.startsWith('InventoryErpChangesFunction'));
      if (!poller) throw new Error('no ERP change-feed poller in the template');
      pipeline.cloud.lambdaService.invokeAsync(poller.name, {});

      // The storm, all channels at once.
      await Promise.all([
        pipeline.control('netsuite', '/_control/scenario', { seed: 5, receipts: 4, adjustments: 20, skus }),
        // The sandbox spaces activities 1–90 s apart from `at`: started now, most of them would be dated up to
        // an hour in the future, and Square orders counts and sales by occurred_at, so a future-dated register
        // count outranks every count the hub writes until then (a register cannot do that). Dated in the past.
        pipeline.control('square', '/_control/scenario', {
          seed: 6,
          at: new Date(Date.now() - 64 * 90_000).toISOString(),
          sales: 30,
          returns: 4,
          counts: 30,
          skus,
        }),
        pipeline.control('shopify', '/_control/scenario', {
          seed: 7,
          orders: 10,
          pickupShare: 0.25,
          cancellations: 2,
          fulfillments: 2,
          spacingSeconds: { min: 1, max: 1 },
          skus,
        }),
      ]);

      const shopifyLevels = () =>
        skus.flatMap((sku) => {
          const item = shopify.store.itemBySku.get(sku);
          const itemId = itemIdOf.get(sku);
          if (!item || !itemId) throw new Error(`no item ${sku}`);
          return shopify.store.locations.flatMap((location) => {
            const erp = erpLocationOf(location.code);
            if (!erp) return [];
            const committed = shopify.store.quantity(item, location, 'committed');
            return [
              {
                level: `shopify ${sku} @ ${location.code}`,
                expected: Math.max(0, netsuite.store.onHand(itemId, erp) - committed - 0),
                actual: shopify.store.quantity(item, location, 'available'),
              },
            ];
          });
        });
      const storeCounts = () =>
        skus.flatMap((sku) => {
          const variation = square.store.variationBySku.get(sku);
          const itemId = itemIdOf.get(sku);
          if (!variation || !itemId) throw new Error(`no variation ${sku}`);
          return square.store.locations.flatMap((location) => {
            const code = square.store.codeByLocationId.get(location.id);
            const erp = erpLocationOf(code);
            if (!erp) return [];
            return [
              {
                level: `pos ${sku} @ ${code}`,
                expected: Math.max(0, netsuite.store.onHand(itemId, erp) - awaitingPickup(sku, code)),
                actual: square.store.quantity(variation.id, location.id),
              },
            ];
          });
        });
      const off = () => [...shopifyLevels(), ...storeCounts()].filter((l) => l.actual !== l.expected);
      let idleTwice = 0;
      await waitFor(
        async () => {
          const queues = await pipeline.queues();
          const idle = queues.every((q) => q.visible + q.inFlight === 0) && off().length === 0;
          idleTwice = idle ? idleTwice + 1 : 0;
          return idleTwice >= 2;
        },
        {
          timeoutMs: 230_000,
          intervalMs: 1_000,
          what: 'the hub idle with every level at the invariant',
        },
      ).catch(() => undefined); // The assertions below say what is off.
      const items = await projectionItems(skus);
      await writeDiagnostics(
        off().map((l) => l.level),
        items,
      );
      expect((await pipeline.queues()).filter((q) => q.visible + q.inFlight > 0)).toEqual([]);
      expect(shopifyLevels()).toHaveLength(HOT_SKU_COUNT * shopify.store.locations.length);
      expect(storeCounts().length).toBeGreaterThanOrEqual(HOT_SKU_COUNT * 120);
      expect(off()).toEqual([]);
      // No POS sale subtracted twice: every sale the ERP booked has left the projection's pending movements.
      expect(bookedButPending(items)).toEqual([]);

      // The storm happened: POS sales booked as cash sales, online orders, Shopify 5xx, duplicates.
      const booked = await pipeline.control<{ records: { total: number } }>(
        'netsuite',
        '/_control/state?type=cashSale',
      );
      expect(booked.records.total).toBeGreaterThan(0);
      const faults = await pipeline.control<{ counters: { errors: number } }>('shopify', '/_control/faults');
      expect(faults.counters.errors).toBeGreaterThan(0);
      const chaos = pipeline.cloud.chaos?.counters;
      expect((chaos?.sqsDuplicates ?? 0) + (chaos?.eventDuplicates ?? 0)).toBeGreaterThan(0);

      // No stale raise: every hub write to either channel at or below what the projection held then.
      expect(writes.filter((w) => w.channel === 'shopify').length).toBeGreaterThan(0);
      expect(writes.filter((w) => w.channel === 'pos').length).toBeGreaterThan(0);
      expect(unobserved).toEqual([]);
      const raises = writes
        .map((w) => ({ ...w, bound: bound(w.key, w.channel, w.at) }))
        .filter((w) => w.bound === null || w.quantity > w.bound);
      expect(raises).toEqual([]);

      // Nothing reached a DLQ.
      const queues = await pipeline.queues();
      expect(queues.filter((q) => q.isDlq && q.visible + q.inFlight > 0)).toEqual([]);
    }, 330_000);
  },
);
