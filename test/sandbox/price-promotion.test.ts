import { createServer, type Server } from 'node:http';
import { SchedulerClient as Scheduler } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEventBridge } from '#local/eventbridge/bus.ts';
import { readRequestBody } from '#local/http.ts';
import { LocalIam } from '#local/iam/local-iam.ts';
import { LocalSchedulerApi } from '#local/scheduler/api.ts';
import type { SendMessageOptions } from '#local/types.ts';
import type { PriceBook } from '#shared/catalog/price-book.ts';
import { type BookKey, type PriceBookStore, PriceFlow, type StoredBook } from '#shared/catalog/price-flow.ts';
import { SchedulerClient } from '#shared/catalog/scheduler-client.ts';
import { ShopifyPricePort } from '#shared/catalog/shopify-price-port.ts';
import { ShopifyPricePublisher } from '#shared/catalog/shopify-prices.ts';
import type { PriceChanged } from '#shared/events/product.ts';
import { CostPacer } from '#shared/inventory/cost-pacer.ts';
import { shopifyGraphql } from '#shared/inventory/shopify-publisher.ts';
import { lambdaResource, writeAssembly } from '#test/support/local-template.ts';
import { ACCOUNT, FakeRuntime, queueArn, REGION } from '../unit/local/eventbridge-fixtures.ts';
import { lambdaRole, rolePolicy } from '../unit/local/iam-fixtures.ts';
import { type ShopifyHarness, startShopify } from './shopify-helpers.ts';

/**
 * A promotion end to end through the libraries, on real clocks: PriceChanged → price books → the local
 * Scheduler API (signed calls, IAM, at() schedules) → the schedule's queue message → the price flow →
 * Shopify `productVariantsBulkUpdate` in the sandbox, whose price-write log proves the promotional
 * price was never written before its start and was gone after its end plus the publishing time.
 */
const silent = { info: () => {}, warn: () => {}, error: () => {} };
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Test-SchedulerRole`;

class MemoryBooks implements PriceBookStore {
  private readonly books = new Map<string, StoredBook>();
  private readonly dues = new Map<number, Map<string, BookKey>>();
  async get(sku: string, priceList: string) {
    return this.books.get(`${sku}|${priceList}`);
  }
  async put(book: PriceBook, expected: number) {
    const key = `${book.sku}|${book.priceList}`;
    if ((this.books.get(key)?.version ?? 0) !== expected) return false;
    this.books.set(key, { book, version: expected + 1 });
    return true;
  }
  async addDue(instant: number, keys: readonly BookKey[]) {
    const due = this.dues.get(instant) ?? new Map<string, BookKey>();
    for (const k of keys) due.set(`${k.sku}|${k.priceList}`, k);
    this.dues.set(instant, due);
  }
  async removeDue(instant: number, keys: readonly BookKey[]) {
    const due = this.dues.get(instant);
    for (const k of keys) due?.delete(`${k.sku}|${k.priceList}`);
    return due?.size ?? 0;
  }
  async due(instant: number) {
    return [...(this.dues.get(instant)?.values() ?? [])];
  }
}

let shopify: ShopifyHarness;
let server: Server;
let bus: LocalEventBridge;
let flow: PriceFlow;
const failures: Error[] = [];

beforeAll(async () => {
  shopify = await startShopify({ items: 60, stores: 1, plan: 'standard' });
  const template = writeAssembly(
    {
      Prices: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'prices' } },
      Group: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'prices' } },
      WorkerRole: lambdaRole(),
      WorkerPolicy: rolePolicy([
        {
          Effect: 'Allow',
          Action: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
          Resource: `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/prices/*`,
        },
        { Effect: 'Allow', Action: 'iam:PassRole', Resource: ROLE },
      ]),
      Worker: lambdaResource('worker', {
        FunctionName: 'worker',
        Role: { 'Fn::GetAtt': ['WorkerRole', 'Arn'] },
      }),
    },
    { worker: 'export const handler = async () => 1;' },
  ).load({ sqsEndpoint: 'http://127.0.0.1:9' });
  const iam = new LocalIam(template, { log: silent });
  // The schedule's queue message goes straight to the price flow (what the price function does).
  class Delivering extends FakeRuntime {
    override async sendMessage(target: string, body: string, options?: SendMessageOptions) {
      const sent = await super.sendMessage(target, body, options);
      flow.onPriceDue(JSON.parse(body)).catch((error: Error) => failures.push(error));
      return sent;
    }
  }
  bus = new LocalEventBridge(template, new Delivering(template), { retryBaseDelayMs: 1 });
  bus.start();
  const api = new LocalSchedulerApi(template, bus, iam);
  server = createServer(async (req, res) => {
    const body = await readRequestBody(req, 1 << 20);
    if (!(await api.handle(req, res, body))) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const credentials = iam.credentialsFor('worker');
  const graphql = shopifyGraphql({ baseUrl: shopify.base, accessToken: shopify.app.credentials.accessToken });
  const pacer = new CostPacer();
  flow = new PriceFlow({
    books: new MemoryBooks(),
    schedules: new SchedulerClient({
      client: new Scheduler({
        region: REGION,
        endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
        credentials,
      }),
      groupName: 'prices',
      targetArn: queueArn('prices'),
      roleArn: ROLE,
    }),
    prices: new ShopifyPricePort({
      graphql,
      pacer,
      publisher: new ShopifyPricePublisher({ graphql, pacer, currency: 'USD' }),
      priceLists: new Set(['online-USD']),
    }),
    prefix: 'test-price',
    now: Date.now,
  });
});

afterAll(async () => {
  bus?.stop();
  await new Promise((resolve) => server?.close(resolve));
  await shopify?.close();
});

describe('a promotion through the scheduler to Shopify', () => {
  it('applies at its start, never before, and reverts at its end', async () => {
    const variants = shopify.app.store.variants.slice(0, 30);
    const usd = (amount: number) => ({ amount, currency: 'USD' });
    const change = (sku: string, patch: Partial<PriceChanged>): PriceChanged => ({
      item: { sku },
      priceList: 'online-USD',
      price: usd(5000),
      compareAtPrice: null,
      effectiveFrom: null,
      effectiveTo: null,
      version: 1,
      ...patch,
    });
    await flow.onPriceChanged(variants.map((v) => change(v.sku, {})));
    const start = Math.ceil((Date.now() + 3000) / 1000) * 1000;
    const end = start + 3000;
    const since = Date.now();
    await flow.onPriceChanged(
      variants.map((v) =>
        change(v.sku, {
          promotionId: 'FLASH',
          price: usd(3999),
          effectiveFrom: new Date(start).toISOString(),
          effectiveTo: new Date(end).toISOString(),
          version: 2,
        }),
      ),
    );
    const priceOf = (sku: string) => shopify.app.store.variantBySku.get(sku)?.priceMinor;
    const deadline = end + 20_000;
    while (Date.now() < deadline && !variants.every((v) => priceOf(v.sku) === 5000 && Date.now() > end))
      await new Promise((resolve) => setTimeout(resolve, 100));
    expect(failures).toEqual([]);
    const log = (await shopify.control('GET', `price-writes?since=${since}`)).body as {
      writes: { at: string; sku: string; price: string; compareAtPrice: string | null }[];
    };
    const promo = log.writes.filter((w) => w.price === '39.99');
    const back = log.writes.filter((w) => w.price === '50.00' && Date.parse(w.at) >= start);
    expect(new Set(promo.map((w) => w.sku)).size).toBe(30);
    expect(new Set(back.map((w) => w.sku)).size).toBe(30);
    // Never early; reverted at the end, within the publishing time; the last word is the list price.
    for (const w of promo) expect(Date.parse(w.at)).toBeGreaterThanOrEqual(start);
    for (const w of promo) expect(Date.parse(w.at)).toBeLessThan(end);
    for (const w of back) expect(Date.parse(w.at)).toBeGreaterThanOrEqual(end);
    const lag = Math.max(...back.map((w) => Date.parse(w.at))) - end;
    console.info(`promotion reverted on Shopify ${lag} ms after its end (30 variants, 3 calls)`);
    expect(lag).toBeLessThan(15_000);
    for (const v of variants) expect(priceOf(v.sku)).toBe(5000);
  });
});
