import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SchedulerClient as Scheduler } from '@aws-sdk/client-scheduler';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { type PriceFeedOptions, readPriceChanges } from '../catalog/erp-price-feed.ts';
import { PriceFlow, type PricePort } from '../catalog/price-flow.ts';
import { SchedulerClient } from '../catalog/scheduler-client.ts';
import { ShopifyPricePort } from '../catalog/shopify-price-port.ts';
import { ShopifyPricePublisher } from '../catalog/shopify-prices.ts';
import { NETSUITE_TOKEN_PATH, NetSuiteAuth, NetSuiteCredentialsSchema } from '../connectors/netsuite/auth.ts';
import { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { HubError } from '../errors.ts';
import { type CanonicalEvent, detailSchema } from '../events/catalog.ts';
import type { PriceChanged } from '../events/product.ts';
import { CostPacer } from '../inventory/cost-pacer.ts';
import type { SuiteQlRequester } from '../inventory/erp-change-feed.ts';
import { shopifyGraphql } from '../inventory/shopify-publisher.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import { FeedCursorRepository } from '../repositories/inventory.ts';
import { DynamoPriceBookStore } from '../repositories/price-books.ts';
import { DynamoPricePublishLease } from '../repositories/price-publish-lease.ts';
import { jsonVariable } from '../runtime/env.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerJson } from '../runtime/secrets.ts';

/**
 * The price queue's consumer (the future `functions/catalog-prices`): one SQS queue receives both
 * - `PriceChanged` events from the bus (an EventBridge rule → SQS target: the body is the whole event,
 *   `{"detail-type":"PriceChanged","detail":{metadata,data}}`), applied in one batch to the price flow;
 * - the price schedules' messages (`{"kind":"price-due","at":<epoch ms>}`, the schedule's `Input`).
 *
 * Bad input never blocks the queue: a body that is neither is reported as unprocessable (the caller
 * parks it with its reason, `parked`); retryable failures (a due delivered early, a book under
 * contention, Shopify or Scheduler unavailable) are returned as batch item failures, so SQS brings
 * exactly those records back (`ReportBatchItemFailures`).
 */

const DueSchema = z.strictObject({ kind: z.literal('price-due'), at: z.number().int().positive() });
const EventSchema = z.looseObject({ 'detail-type': z.literal('PriceChanged'), detail: z.unknown() });

export interface PriceConsumerResult extends SQSBatchResponse {
  /** Records that can never be processed as they are, with the reason (to park). */
  readonly parked: readonly { messageId: string; reason: string }[];
}

const retryable = (error: unknown) => !(error instanceof HubError) || error.retryable;

/** Processes one SQS batch of the price queue. */
export async function consumePriceBatch(
  flow: PriceFlow,
  records: readonly SQSRecord[],
): Promise<PriceConsumerResult> {
  const failures: { itemIdentifier: string }[] = [];
  const parked: { messageId: string; reason: string }[] = [];
  const changes: { messageId: string; change: PriceChanged }[] = [];
  const dues: { messageId: string; at: number }[] = [];
  for (const record of records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      parked.push({ messageId: record.messageId, reason: 'body is not JSON' });
      continue;
    }
    const due = DueSchema.safeParse(body);
    if (due.success) {
      dues.push({ messageId: record.messageId, at: due.data.at });
      continue;
    }
    const event = EventSchema.safeParse(body);
    const detail = event.success ? detailSchema('PriceChanged').safeParse(event.data.detail) : undefined;
    if (detail?.success) {
      changes.push({ messageId: record.messageId, change: detail.data.data });
      continue;
    }
    parked.push({
      messageId: record.messageId,
      reason: detail
        ? `PriceChanged: ${detail.error.issues[0]?.message}`
        : 'neither a PriceChanged event nor a price-due message',
    });
  }
  if (changes.length > 0) {
    try {
      await flow.onPriceChanged(changes.map((c) => c.change));
    } catch (error) {
      // Applying changes is idempotent (newer version wins): the whole set comes back on a retry.
      if (!retryable(error)) throw error;
      for (const c of changes) failures.push({ itemIdentifier: c.messageId });
    }
  }
  for (const due of dues) {
    try {
      await flow.onPriceDue({ kind: 'price-due', at: due.at });
    } catch (error) {
      if (!retryable(error)) throw error;
      failures.push({ itemIdentifier: due.messageId });
    }
  }
  return { batchItemFailures: failures, parked };
}

// ─── catalog-prices: the price function, wired from its environment (infra/flows/catalog.ts) ────────

const name = z.string().min(1);

/** One shop the price function publishes to: its Admin API, token secret and currency. */
const PriceShopSchema = z.object({
  domain: name,
  /** `https://<shop>.myshopify.com`, or the local sandbox mount. */
  adminBaseUrl: z.url(),
  tokenSecretId: name,
  currency: z.string().length(3),
});

export const PricesEnvSchema = z.object({
  CATALOG_TABLE_NAME: name,
  EXCEPTIONS_TABLE_NAME: name,
  /** The schedule group, the price queue (the schedules' target) and the role Scheduler sends with. */
  SCHEDULE_GROUP_NAME: name,
  SCHEDULE_PREFIX: name,
  PRICE_QUEUE_ARN: name,
  SCHEDULER_ROLE_ARN: name,
  /** The shops (JSON array): each shows the `online-<currency>` price list. */
  PRICE_SHOPS: jsonVariable(z.array(PriceShopSchema).min(1)),
});
export type PricesEnv = z.infer<typeof PricesEnvSchema>;

/** The price list a shop shows: its currency's online list (one market per currency for now). */
export const onlinePriceList = (currency: string) => `online-${currency}`;

/** Publishes to every shop's port at once (each has its own bucket, so one never waits for another). */
class ChannelsPort implements PricePort {
  constructor(private readonly ports: readonly PricePort[]) {}
  async publish(prices: Parameters<PricePort['publish']>[0]): Promise<void> {
    const results = await Promise.allSettled(this.ports.map((p) => p.publish(prices)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    // Publishing is idempotent (prices in effect, not deltas): the message comes back for every shop.
    if (failed) throw failed.reason;
  }
}

/**
 * The price function: the price queue's batches through {@link consumePriceBatch}, with the price
 * books on DynamoDB, schedules on EventBridge Scheduler (the SDK client; `AWS_ENDPOINT_URL_SCHEDULER`
 * locally) and one {@link ShopifyPricePort} per shop, each paced by its own cost pacer. The queue's event
 * source mapping runs up to 2 instances (its `MaximumConcurrency`, no reserved concurrency:
 * infra/flows/catalog.ts); they publish one at a time under the publish lease
 * ({@link DynamoPricePublishLease}), so each shop has one price writer at a time, whose pacer sees every
 * price call, and the last write of a variant is computed from the freshest books. Unreadable messages are
 * parked in the exceptions table with their reason (replayable), never retried.
 */
export function catalogPrices(
  env: PricesEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly scheduler: Scheduler },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const exceptions = new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME);
  const shops = env.PRICE_SHOPS.map((shop) => {
    const token = secretsManagerAccessToken(shop.tokenSecretId);
    const pacer = new CostPacer();
    let current: { token: string; port: ShopifyPricePort } | undefined;
    const port: PricePort = {
      async publish(prices) {
        const accessToken = await token.token();
        if (!current || current.token !== accessToken) {
          const graphql = shopifyGraphql({ baseUrl: shop.adminBaseUrl, accessToken });
          current = {
            token: accessToken,
            port: new ShopifyPricePort({
              graphql,
              pacer,
              publisher: new ShopifyPricePublisher({ graphql, pacer, currency: shop.currency }),
              priceLists: new Set([onlinePriceList(shop.currency)]),
              onReport: (report) => {
                observability.telemetry.count('ShopifyPricesWritten', report.written);
                observability.telemetry.count('ShopifyPriceCalls', report.calls);
                observability.log.info('prices published to Shopify', { shop: shop.domain, ...report });
              },
            }),
          };
        }
        await current.port.publish(prices);
      },
    };
    return port;
  });
  // The invocation's deadline (Lambda runs one invocation at a time per instance): the lease's expiry.
  let deadline = 0;
  const lock = new DynamoPricePublishLease(documents, env.CATALOG_TABLE_NAME, {
    deadline: () => deadline,
    onWait: (waitedMs) => observability.telemetry.record?.('PricePublishLeaseWait', waitedMs, 'Milliseconds'),
    onGiveBackError: (error) =>
      observability.log.warn('could not give the price publish lease back; it expires with the invocation', {
        error,
      }),
  });
  const flow = new PriceFlow({
    lock,
    books: new DynamoPriceBookStore(documents, env.CATALOG_TABLE_NAME),
    schedules: new SchedulerClient({
      client: clients.scheduler,
      groupName: env.SCHEDULE_GROUP_NAME,
      targetArn: env.PRICE_QUEUE_ARN,
      roleArn: env.SCHEDULER_ROLE_ARN,
    }),
    prices: new ChannelsPort(shops),
    prefix: env.SCHEDULE_PREFIX,
    now: Date.now,
  });
  return async function handle(
    event: SQSEvent,
    context: { getRemainingTimeInMillis(): number },
  ): Promise<SQSBatchResponse> {
    deadline = Date.now() + context.getRemainingTimeInMillis();
    const result = await consumePriceBatch(flow, event.Records);
    const failures = [...result.batchItemFailures];
    for (const p of result.parked) {
      const record = event.Records.find((r) => r.messageId === p.messageId);
      try {
        await exceptions.park({
          kind: 'price-message',
          inputId: p.messageId,
          at: new Date().toISOString(),
          code: 'INVALID_PRICE_MESSAGE',
          reason: p.reason,
          issues: [p.reason],
          transactionId: p.messageId,
          attributes: { messageId: p.messageId },
          payload: Buffer.from(record?.body ?? ''),
        });
      } catch (error) {
        observability.log.error('could not park a price message; it comes back', { error: error as Error });
        failures.push({ itemIdentifier: p.messageId });
      }
    }
    if (result.parked.length > 0) observability.telemetry.count('PriceMessagesParked', result.parked.length);
    return { batchItemFailures: failures };
  };
}

// ─── catalog-price-feed: the ERP change feed's price entries, its own cursor ────────────────────────

/** The price feed's cursor (`FEED#erp-price` in the catalog table): independent of the on-hand poller's. */
export const ERP_PRICE_FEED_NAME = 'erp-price';

export const PriceFeedEnvSchema = z.object({
  EVENT_BUS_NAME: name,
  CATALOG_TABLE_NAME: name,
  NETSUITE_ACCOUNT_ID: name,
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_CREDENTIALS_SECRET_ID: name,
  /** The ERP's base currency: its list prices go to the `online-<currency>` price list. */
  ERP_CURRENCY: z.string().length(3),
  POLL_WINDOW_SECONDS: z.coerce.number().int().nonnegative(),
  POLL_INTERVAL_MS: z.coerce.number().int().positive(),
});
export type PriceFeedEnv = z.infer<typeof PriceFeedEnvSchema>;

export interface PriceFeedRun {
  readonly polls: number;
  readonly events: number;
  readonly to: number;
  readonly lostCursor: boolean;
}

/**
 * One page of the price feed after `from`: published as `PriceChanged`, then the cursor moved from `from`
 * to the page's last id (conditional). Publishing first: a crash in between re-reads the page, whose
 * events are stale versions to the price books.
 */
export async function pollPriceFeed(input: {
  readonly client: SuiteQlRequester;
  readonly cursor: Pick<FeedCursorRepository, 'advance'>;
  readonly publish: (events: readonly CanonicalEvent<'PriceChanged'>[]) => Promise<void>;
  readonly options: PriceFeedOptions;
  readonly from: number;
}): Promise<{ events: number; to: number; more: boolean; lostCursor: boolean }> {
  const page = await readPriceChanges(input.client, input.from, input.options);
  if (page.events.length > 0) await input.publish(page.events);
  if (page.lastId !== input.from && !(await input.cursor.advance(input.from, page.lastId)))
    return { events: page.events.length, to: input.from, more: false, lostCursor: true };
  return { events: page.events.length, to: page.lastId, more: page.hasMore, lostCursor: false };
}

/**
 * The ERP price feed poller (EventBridge Scheduler every minute, reserved concurrency 1, like the
 * on-hand poller): reads `price` entries after its cursor ({@link readPriceChanges}), publishes them
 * as `PriceChanged`, then moves the cursor (conditional: a second writer stops this run). A publish
 * that fails leaves the cursor, so the page is read again (duplicates are stale versions to the books).
 */
export function erpPriceFeedPoller(
  env: PriceFeedEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly eventBridge: EventBridgeClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
  clock: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const auth = new NetSuiteAuth({
    tokenUrl: `${env.NETSUITE_BASE_URL}${NETSUITE_TOKEN_PATH}`,
    credentials: secretsManagerJson(
      env.NETSUITE_CREDENTIALS_SECRET_ID,
      NetSuiteCredentialsSchema,
      'NetSuite M2M credentials',
    ),
  });
  const client = new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    accountId: env.NETSUITE_ACCOUNT_ID,
    auth,
    maxConcurrency: 1,
  });
  const cursor = new FeedCursorRepository(documents, env.CATALOG_TABLE_NAME, ERP_PRICE_FEED_NAME);
  const bus = new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME);
  const now = clock.now ?? Date.now;
  const sleep = clock.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const options = {
    account: env.NETSUITE_ACCOUNT_ID,
    currency: env.ERP_CURRENCY,
    priceList: onlinePriceList(env.ERP_CURRENCY),
  };

  return async function run(): Promise<PriceFeedRun> {
    const deadline = now() + env.POLL_WINDOW_SECONDS * 1000;
    let polls = 0;
    let events = 0;
    let position = await cursor.read();
    let lostCursor = false;
    for (;;) {
      const step = await pollPriceFeed({
        client,
        cursor,
        publish: (page) => bus.publish(page),
        options,
        from: position,
      });
      polls += 1;
      events += step.events;
      position = step.to;
      if (step.lostCursor) {
        lostCursor = true;
        observability.log.warn('another poller moved the ERP price-feed cursor; this run stops', {
          position,
        });
        break;
      }
      if (now() >= deadline) break;
      if (!step.more) await sleep(Math.min(env.POLL_INTERVAL_MS, Math.max(0, deadline - now())));
      if (now() >= deadline) break;
    }
    if (events > 0) observability.telemetry.count('ErpPriceChanges', events);
    const summary = { polls, events, to: position, lostCursor };
    observability.log.info('ERP price feed polled', summary);
    return summary;
  };
}
