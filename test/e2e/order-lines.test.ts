import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHAOS } from '#local/chaos.ts';
import { OrderPipeline } from '#local/harness/order-pipeline.ts';
import { DEV_SHOP } from '#local/harness/shopify-webhooks.ts';
import { syncLocalMappings } from '#local/onboarding.ts';
import { waitFor } from '#local/services/ports.ts';
import type { ShopifySandbox } from '#sandbox/shopify/index.ts';
import { totals } from '#sandbox/shopify/orders.ts';
import type { OrderRecord } from '#sandbox/shopify/store.ts';
import { summarize } from '#shared/onboarding/mappings.ts';

/**
 * NetSuite lines by key, SuiteTax and reference validation through the local cloud, against the
 * sandboxes: one online order placed in the Shopify sandbox, edited twice (a quantity reduced and a line
 * added, then a line removed) and cancelled, each version synced before the next. The NetSuite sandbox
 * numbers lines itself and implements `replace=item` as documented, so a line the hub sent without its
 * key would come back under a new line id: the order must keep every line id across all four versions
 * (the removed line closed, not deleted), and the ERP total — with the tax the sandbox's SuiteTax books
 * — must equal Shopify's to the cent at every version.
 *
 * The stack runs with one wrong booking id, the POS customer (`customers.pos = 999`): `sync-mappings`
 * names it, and a POS sale is parked with NetSuite's INVALID_KEY_OR_REF error instead of being booked or
 * retried. Online orders use the (right) online customer, so the first part is unaffected.
 */

const WRONG_POS_CUSTOMER = '999';

interface ErpLine {
  line: number;
  taxDetailsReference: string;
  quantity: number;
  isClosed?: boolean;
  item: { id: string };
}
interface ErpSalesOrder {
  id: string;
  externalId: string | null;
  body: { total: number; taxTotal: number; item: { items: ErpLine[] } };
}
/** One synced version of the order: the ERP lines by hub key, with Shopify's totals of that version. */
interface Version {
  lines: Map<string, ErpLine>;
  erpTotal: number;
  erpTax: number;
  shopifyTotal: number;
  shopifyTax: number;
}

let pipeline: OrderPipeline;
let shopify: ShopifySandbox;
let order: OrderRecord;
const versions: Version[] = [];
const cents = (n: number) => Math.round(n * 100);

const externalId = () => `shopify-${DEV_SHOP}-${order.id}`;

/** Waits until the ledger holds the order's current version, then reads the ERP document. */
async function synced(): Promise<Version> {
  const key = `ORDER#shopify#${DEV_SHOP}#${order.id}`;
  // Shopify's REST `updated_at` has second precision: the canonical version is the whole second.
  const version = Math.floor(order.updatedAt / 1000) * 1000;
  await waitFor(
    async () => {
      await pipeline.control('shopify', '/_control/flush', {});
      const parked = (await pipeline.exceptions()).filter((e) => e.attributes.orderKey === key);
      if (parked.length > 0) throw new Error(`order parked: ${JSON.stringify(parked)}`);
      return (await pipeline.ledger()).get(key)?.version === version;
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `order ${order.name} version ${version} in the ledger` },
  );
  const [document] = await pipeline.all<ErpSalesOrder>(
    'netsuite',
    `type=salesOrder&externalId=${encodeURIComponent(externalId())}&full=1`,
    (state) => state.records as { total: number; hasMore: boolean; items: ErpSalesOrder[] },
  );
  if (!document) throw new Error(`no sales order ${externalId()}`);
  const t = totals(order);
  return {
    lines: new Map(document.body.item.items.map((line) => [line.taxDetailsReference, line])),
    erpTotal: cents(document.body.total),
    erpTax: cents(document.body.taxTotal),
    shopifyTotal: t.total,
    shopifyTax: t.tax,
  };
}

beforeAll(async () => {
  pipeline = await OrderPipeline.start({
    erpConcurrencyLimit: 5,
    seed: 17,
    chaos: { ...DEFAULT_CHAOS, seed: 19 },
    erpMapping: (mapping) => ({ ...mapping, customers: { ...mapping.customers, pos: WRONG_POS_CUSTOMER } }),
  });
  shopify = pipeline.sandboxes.apps.find((app) => app.name === 'shopify') as unknown as ShopifySandbox;
  const placed = await pipeline.control<{ orders: { ids: string[] } }>('shopify', '/_control/scenario', {
    seed: 5,
    orders: 1,
    pickupShare: 0,
    linesPerOrder: { min: 3, max: 3 },
    maxQuantity: 4,
    spacingSeconds: { min: 1, max: 1 },
  });
  const found = shopify.store.orderById.get(placed.orders.ids[0] ?? '');
  if (!found) throw new Error('the scenario placed no order');
  order = found;
  versions.push(await synced());

  // Edit 1: a quantity reduced, a line added.
  const [changed, removed] = order.lineItems;
  if (!changed || !removed || changed.quantity < 2) throw new Error('seed 5 must give a line of 2+ units');
  const added = shopify.store.variants.find((v) => !order.lineItems.some((l) => l.variantId === v.id));
  if (!added) throw new Error('no variant to add');
  shopify.commerce.editOrder(
    order,
    {
      setQuantities: [{ lineItemId: changed.id, quantity: changed.quantity - 1 }],
      add: [{ variant: added, quantity: 1 }],
    },
    shopify.now(),
  );
  versions.push(await synced());
  // Edit 2: a line removed.
  shopify.commerce.editOrder(
    order,
    { setQuantities: [{ lineItemId: removed.id, quantity: 0 }] },
    shopify.now(),
  );
  versions.push(await synced());
  // Cancelled.
  shopify.commerce.cancelOrder(order, 'CUSTOMER', shopify.now());
  versions.push(await synced());
}, 240_000);

afterAll(async () => {
  await pipeline?.stop();
});

describe('NetSuite lines by key and SuiteTax (e2e): an online order edited twice, then cancelled', () => {
  it('keeps every NetSuite line id across the versions: no line removed and re-added', () => {
    expect(versions).toHaveLength(4);
    const [v1, v2, v3, v4] = versions as [Version, Version, Version, Version];
    const ids = (v: Version) => new Map([...v.lines].map(([key, line]) => [key, line.line]));
    for (const [earlier, later] of [
      [v1, v2],
      [v2, v3],
      [v3, v4],
    ] as const) {
      for (const [key, id] of ids(earlier)) expect(ids(later).get(key), key).toBe(id);
    }
    // Edit 1 added exactly one line, with a new id; nothing was added after it.
    expect(v2.lines.size).toBe(v1.lines.size + 1);
    expect(v4.lines.size).toBe(v2.lines.size);
    const newIds = [...ids(v2).values()].filter((id) => ![...ids(v1).values()].includes(id));
    expect(newIds).toHaveLength(1);
  });

  it('updates a changed quantity in place, closes the removed line, and closes every line on cancellation', () => {
    const [v1, v2, v3, v4] = versions as [Version, Version, Version, Version];
    const [changed, removed] = order.lineItems;
    const changedKey = `line-${changed?.id}`;
    const removedKey = `line-${removed?.id}`;
    expect(v2.lines.get(changedKey)?.quantity).toBe((v1.lines.get(changedKey)?.quantity ?? 0) - 1);
    expect(v3.lines.get(removedKey)).toMatchObject({ quantity: 0, isClosed: true });
    expect([...v3.lines.values()].filter((line) => line.isClosed === true)).toHaveLength(1);
    expect([...v4.lines.values()].every((line) => line.isClosed === true)).toBe(true);
  });

  it("reads back an ERP total equal to Shopify's to the cent, tax included, at every version", () => {
    for (const [index, v] of versions.entries()) {
      expect(v.shopifyTax, `version ${index + 1} has tax`).toBeGreaterThan(0);
      expect({ version: index + 1, total: v.erpTotal, tax: v.erpTax }).toEqual({
        version: index + 1,
        total: v.shopifyTotal,
        tax: v.shopifyTax,
      });
    }
  });

  it('parked nothing and dead-lettered nothing for the online order', async () => {
    const parked = (await pipeline.exceptions()).filter((e) =>
      e.attributes.orderKey?.includes(String(order.id)),
    );
    expect(parked).toEqual([]);
    expect(await pipeline.deadLetters()).toEqual([]);
  });
});

describe('a booking id the ERP does not have (e2e)', () => {
  it('sync-mappings names it', async () => {
    const { result } = await syncLocalMappings(pipeline.url, { config: pipeline.erpMapping });
    expect(result.report.configProblems).toEqual([
      `customers.pos = "${WRONG_POS_CUSTOMER}" is not an ERP customer id`,
    ]);
    expect(summarize(result.report)).toContain(
      `  config: customers.pos = "${WRONG_POS_CUSTOMER}" is not an ERP customer id`,
    );
  });

  it("parks a POS sale that uses it with NetSuite's error: not booked, not retried", async () => {
    const before = (
      await pipeline.control<{ recordCounts: Record<string, number> }>('netsuite', '/_control/state?limit=1')
    ).recordCounts.cashSale;
    await pipeline.control('square', '/_control/scenario', { seed: 8, sales: 1 });
    let parked: Awaited<ReturnType<OrderPipeline['exceptions']>> = [];
    await waitFor(
      async () => {
        await pipeline.control('square', '/_control/flush', {}).catch(() => undefined);
        parked = (await pipeline.exceptions()).filter(
          (e) => e.kind === 'erp-order' && e.attributes.orderKey?.startsWith('ORDER#pos#'),
        );
        return parked.length > 0;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: 'the POS sale to be parked' },
    );
    await pipeline.drained(60_000, ['square']);
    expect(parked).toHaveLength(1);
    expect(parked[0]).toMatchObject({ code: 'ERP_INVALID_REFERENCE', status: 'PARKED' });
    expect(parked[0]?.reason).toContain('INVALID_KEY_OR_REF');
    expect(parked[0]?.reason).toContain(
      `Invalid Field Value ${WRONG_POS_CUSTOMER} for the following field: entity`,
    );
    const after = (
      await pipeline.control<{ recordCounts: Record<string, number> }>('netsuite', '/_control/state?limit=1')
    ).recordCounts.cashSale;
    expect(after).toBe(before);
    expect(await pipeline.deadLetters()).toEqual([]);
  });
});
