import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { EventBridgePublisher } from '../bus/publisher.ts';
import { NETSUITE_TOKEN_PATH, NetSuiteAuth, NetSuiteCredentialsSchema } from '../connectors/netsuite/auth.ts';
import { NetSuiteClient } from '../connectors/netsuite/client.ts';
import { PublishError } from '../errors.ts';
import { type CanonicalEvent, detailSchema } from '../events/catalog.ts';
import { CostPacer } from '../inventory/cost-pacer.ts';
import { type PollReport, pollErpChanges } from '../inventory/erp-change-feed.ts';
import { InventoryPolicySchema } from '../inventory/policy.ts';
import {
  type InventoryEvent,
  type PositionRef,
  type ProjectorReport,
  projectInventoryEvents,
  refreshCommitted,
  type ShopifyOrderEvent,
} from '../inventory/projector.ts';
import {
  type PublishReport,
  ShopifyInventoryPublisher,
  ShopifyLevelDirectory,
  shopifyGraphql,
  keyOf as shopifyKeyOf,
} from '../inventory/shopify-publisher.ts';
import {
  SquareInventoryPublisher,
  SquareLevelDirectory,
  squareInventoryApi,
} from '../inventory/square-publisher.ts';
import type { ExceptionStore } from '../repositories/exceptions.ts';
import { DynamoExceptionStore } from '../repositories/exceptions.ts';
import {
  FeedCursorRepository,
  InventoryRepository,
  ShopifyItemSkuRepository,
} from '../repositories/inventory.ts';
import { MappingRepository } from '../repositories/mappings.ts';
import { jsonVariable } from '../runtime/env.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';
import { secretsManagerAccessToken, secretsManagerJson } from '../runtime/secrets.ts';

/**
 * The inventory flow wired from each function's environment (InventorySync, infra/flows/inventory-sync.ts):
 *
 *     ERP change feed ─(scheduled erp-changes)─▶ InventoryCounted ─▶ bus ─▶ SQS ─▶ inventory-projector
 *        ─▶ projection (inventory table) ─▶ publish keys ─▶ SQS per shop ─▶ shopify-inventory-publisher ─▶ Shopify
 *
 * The handlers are thin glue around these factories; everything vendor- or AWS-facing goes through
 * real SDK clients (endpoints from the environment).
 */

const name = z.string().min(1);
const positive = z.coerce.number().int().positive();

/** The name of the ERP on-hand feed cursor (`FEED#erp-onhand`). */
export const ERP_FEED_NAME = 'erp-onhand';

// ─── erp-changes: the scheduled change-feed poller ─────────────────────────────────────────────────

export const ErpChangesEnvSchema = z.object({
  EVENT_BUS_NAME: name,
  INVENTORY_TABLE_NAME: name,
  NETSUITE_ACCOUNT_ID: name,
  NETSUITE_BASE_URL: z.url(),
  NETSUITE_CREDENTIALS_SECRET_ID: name,
  /** How long one scheduled run keeps polling (s); below the schedule's rate, so runs do not overlap. */
  POLL_WINDOW_SECONDS: z.coerce.number().int().nonnegative(),
  /** Pause between polls of one run when the feed is drained (ms). */
  POLL_INTERVAL_MS: positive,
});
export type ErpChangesEnv = z.infer<typeof ErpChangesEnvSchema>;

export interface ErpChangesRun {
  readonly polls: number;
  readonly events: number;
  readonly from: number;
  readonly to: number;
  readonly lostCursor: boolean;
}

/**
 * The change-feed poller. EventBridge Scheduler's finest rate is one minute
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#rate-based), too slow for
 * availability "in seconds": one run keeps polling every `POLL_INTERVAL_MS` for `POLL_WINDOW_SECONDS`
 * (the function has reserved concurrency 1, so runs never overlap and the cursor has one writer; the
 * cursor's conditional advance covers the rest). Each poll is one SuiteQL call while the feed is quiet:
 * one of the account's concurrency slots at most, part of the time.
 */
export function erpChangesPoller(
  env: ErpChangesEnv,
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
  // One call at a time: the poller reads pages in order and must not take the order sync's slots.
  const client = new NetSuiteClient({
    baseUrl: env.NETSUITE_BASE_URL,
    accountId: env.NETSUITE_ACCOUNT_ID,
    auth,
    maxConcurrency: 1,
  });
  const cursor = new FeedCursorRepository(documents, env.INVENTORY_TABLE_NAME, ERP_FEED_NAME);
  const bus = new EventBridgePublisher(clients.eventBridge, env.EVENT_BUS_NAME);
  const now = clock.now ?? Date.now;
  const sleep = clock.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));

  /**
   * A page can hold 1,000 changes (100 PutEvents calls): PutEvents answers some entries with the retryable
   * InternalFailure/ThrottlingException (`PutEventsResultEntry`), and failing the whole run for one of them
   * would re-read the page forever once pages are large. Each call's 10 entries are resent (same event
   * ids: consumers ignore the copies already accepted) up to 5 times with a short backoff.
   */
  const publishRetrying = async (page: readonly CanonicalEvent<'InventoryCounted'>[]) => {
    for (let start = 0; start < page.length; start += 10) {
      const chunk = page.slice(start, start + 10);
      for (let attempt = 0; ; attempt += 1) {
        try {
          await bus.publish(chunk);
          break;
        } catch (error) {
          if (!(error instanceof PublishError) || attempt >= 4) throw error;
          await sleep(100 * 2 ** attempt);
        }
      }
    }
  };

  return async function run(): Promise<ErpChangesRun> {
    const deadline = now() + env.POLL_WINDOW_SECONDS * 1000;
    let polls = 0;
    let events = 0;
    let first: PollReport | undefined;
    let last: PollReport | undefined;
    for (;;) {
      const report = await pollErpChanges({
        client,
        account: env.NETSUITE_ACCOUNT_ID,
        cursor,
        publish: (page) => publishRetrying(page),
      });
      polls += 1;
      events += report.events;
      first ??= report;
      last = report;
      if (report.events > 0) observability.telemetry.count('ErpInventoryChanges', report.events);
      if (report.lostCursor) {
        observability.log.warn('another poller moved the ERP change-feed cursor; this run stops', {
          from: report.from,
          to: report.to,
        });
        break;
      }
      if (now() >= deadline) break;
      if (!report.more) await sleep(Math.min(env.POLL_INTERVAL_MS, Math.max(0, deadline - now())));
      if (now() >= deadline) break;
    }
    const summary = {
      polls,
      events,
      from: first?.from ?? 0,
      to: last?.to ?? 0,
      lostCursor: last?.lostCursor ?? false,
    };
    observability.log.info('ERP change feed polled', summary);
    return summary;
  };
}

// ─── inventory-projector: canonical events → projection → publish keys ──────────────────────────────

export const ProjectorEnvSchema = z.object({
  INVENTORY_TABLE_NAME: name,
  MAPPINGS_TABLE_NAME: name,
  EXCEPTIONS_TABLE_NAME: name,
  /** The availability queue of every shop's publisher (JSON array of queue URLs). */
  AVAILABILITY_QUEUE_URLS: jsonVariable(z.array(z.url()).min(1)),
});
export type ProjectorEnv = z.infer<typeof ProjectorEnvSchema>;

/** An inventory event as EventBridge delivers it to the queue. */
const BusEventSchema = z.discriminatedUnion('detail-type', [
  z.object({ 'detail-type': z.literal('InventoryCounted'), detail: detailSchema('InventoryCounted') }),
  z.object({ 'detail-type': z.literal('InventoryAdjusted'), detail: detailSchema('InventoryAdjusted') }),
  // Shopify's order events (the rule takes them from omnihub.shopify only): committed stock, see refreshCommitted.
  z.object({ 'detail-type': z.literal('OrderCreated'), detail: detailSchema('OrderCreated') }),
  z.object({ 'detail-type': z.literal('OrderUpdated'), detail: detailSchema('OrderUpdated') }),
  z.object({ 'detail-type': z.literal('OrderCancelled'), detail: detailSchema('OrderCancelled') }),
]);

/** One availability message: the positions to publish (the publisher coalesces across messages). */
export const AvailabilityMessageSchema = z.object({
  keys: z.array(z.object({ sku: z.string().min(1), location: z.string().min(1) })),
  /**
   * Read each level from the channel before deciding (the reconciler's heal: the channel holds another value
   * than the hub last wrote, and no webhook told the hub).
   */
  reread: z.boolean().optional(),
});
export type AvailabilityMessage = z.infer<typeof AvailabilityMessageSchema>;

/** Keys per availability message: ~100 bytes each, far below SQS's 256 KiB message limit. */
const KEYS_PER_MESSAGE = 500;

/** When SQS first received the message (`SentTimestamp`, the same on every redelivery); now if absent. */
function sentAtOf(record: SQSRecord): string {
  const sent = Number(record.attributes?.SentTimestamp);
  return new Date(Number.isFinite(sent) && sent > 0 ? sent : Date.now()).toISOString();
}

/**
 * The keys of a batch of availability messages, and those to read from the channel first (`reread`). The
 * hub's own functions are the only senders (the projector, BOPIS, the reconciler); an unreadable message is
 * a bug: dropped with a log line.
 */
function readAvailabilityMessages(
  event: SQSEvent,
  log: LogSink,
): { keys: PositionRef[]; reread: Set<string> } {
  const keys: PositionRef[] = [];
  const reread = new Set<string>();
  for (const record of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = AvailabilityMessageSchema.safeParse(body);
    if (!parsed.success) {
      log.error('unreadable availability message dropped', { messageId: record.messageId });
      continue;
    }
    keys.push(...parsed.data.keys);
    if (parsed.data.reread) for (const key of parsed.data.keys) reread.add(shopifyKeyOf(key));
  }
  return { keys, reread };
}

/** Sends publish keys to every shop's availability queue (10 messages a call, SendMessageBatch's limit). */
export async function sendAvailability(
  sqs: SQSClient,
  queueUrls: readonly string[],
  keys: readonly PositionRef[],
  options: { readonly reread?: boolean } = {},
): Promise<void> {
  if (keys.length === 0) return;
  const bodies: string[] = [];
  for (let start = 0; start < keys.length; start += KEYS_PER_MESSAGE) {
    const message: AvailabilityMessage = {
      keys: keys.slice(start, start + KEYS_PER_MESSAGE).map((k) => ({ sku: k.sku, location: k.location })),
      ...(options.reread ? { reread: true } : {}),
    };
    bodies.push(JSON.stringify(message));
  }
  for (const queueUrl of queueUrls) {
    for (let start = 0; start < bodies.length; start += 10) {
      let entries = bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body }));
      for (let attempt = 0; entries.length > 0; attempt += 1) {
        if (attempt > 4) throw new Error(`SendMessageBatch kept failing entries for ${queueUrl}`);
        const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
        const failed = new Set((result.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
      }
    }
  }
}

export interface ProjectorDepsOf {
  readonly apply: InventoryRepository['apply'];
  /** The SKU's positions where Shopify's committed was last seen above 0 (Shopify order events). */
  readonly withCommitted?: (sku: string) => Promise<readonly PositionRef[]>;
  readonly skuOfShopifyItem?: (inventoryItemId: string) => Promise<string | undefined>;
  readonly hubLocation: (system: string, id: string) => Promise<string | undefined>;
  readonly exceptions: ExceptionStore;
  readonly sendAvailability: (keys: readonly PositionRef[]) => Promise<void>;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
}

/**
 * Projects a batch of inventory events. Records are grouped by SKU and location and the groups run in
 * parallel (in order within a group); a record that fails (a lost race beyond the repository's retries,
 * DynamoDB unavailable) is reported in `batchItemFailures` and comes back. Events that cannot be
 * projected (no SKU, unmapped location, a malformed body) are parked with their reason.
 *
 * Every position a delivered event touched is sent to the publishers, duplicates and stale events
 * included: if sending the keys failed after the projection was written, the redelivered event is a
 * duplicate for the projection — publishing only what changed would then lose the publish. The
 * publisher reads the current projection and skips a level already at its target, so an extra key
 * costs a DynamoDB read, never a Shopify call.
 */
export async function projectBatch(event: SQSEvent, deps: ProjectorDepsOf): Promise<SQSBatchResponse> {
  const failures: { itemIdentifier: string }[] = [];
  const groups = new Map<string, { record: SQSRecord; event: InventoryEvent }[]>();
  const orders: { record: SQSRecord; event: ShopifyOrderEvent }[] = [];
  const touched = new Map<string, PositionRef>();
  const totals: Record<string, number> = {};
  let parked = 0;
  const park = async (record: SQSRecord, eventId: string, code: string, reason: string) => {
    parked += 1;
    await deps.exceptions.park({
      kind: 'inventory-event',
      inputId: eventId,
      // The parked item's key is `<at>#<inputId>`: a time the redelivery of this batch repeats (the
      // message's first send), so parking again after a failed send of the keys overwrites the same item
      // instead of parking the event twice.
      at: sentAtOf(record),
      code,
      reason,
      issues: [reason],
      transactionId: eventId,
      attributes: { messageId: record.messageId },
      payload: Buffer.from(record.body),
    });
  };
  for (const record of event.Records) {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch {
      body = undefined;
    }
    const parsed = BusEventSchema.safeParse(body);
    if (!parsed.success) {
      try {
        await park(
          record,
          record.messageId,
          'INVALID_EVENT',
          `not an inventory event: ${parsed.error.issues[0]?.message ?? 'unreadable'}`,
        );
      } catch (error) {
        deps.log.error('could not park an unreadable inventory event', { error: error as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
      continue;
    }
    if (
      parsed.data['detail-type'] === 'OrderCreated' ||
      parsed.data['detail-type'] === 'OrderUpdated' ||
      parsed.data['detail-type'] === 'OrderCancelled'
    ) {
      // Only Shopify computes committed stock (the rule subscribes omnihub.shopify alone).
      if (parsed.data.detail.data.source.system === 'shopify')
        orders.push({
          record,
          event: { detailType: parsed.data['detail-type'], detail: parsed.data.detail },
        });
      continue;
    }
    const inventoryEvent = {
      detailType: parsed.data['detail-type'],
      detail: parsed.data.detail,
    } as InventoryEvent;
    const data = inventoryEvent.detail.data;
    const group = `${data.item.sku ?? `item:${data.item.shopifyInventoryItemId}`}|${data.location.system}|${data.location.id}`;
    const list = groups.get(group) ?? [];
    list.push({ record, event: inventoryEvent });
    groups.set(group, list);
  }
  const projectorDeps = {
    apply: async (
      key: PositionRef,
      input: Parameters<InventoryRepository['apply']>[1],
      sourceAt?: number,
    ) => {
      const applied = await deps.apply(key, input, sourceAt);
      touched.set(`${key.sku}|${key.location}`, key);
      return applied;
    },
    hubLocation: (location: { system: string; id: string }) => deps.hubLocation(location.system, location.id),
    ...(deps.skuOfShopifyItem ? { skuOfShopifyItem: deps.skuOfShopifyItem } : {}),
  };
  await Promise.all(
    [...groups.values()].map(async (items) => {
      for (const { record, event: inventoryEvent } of items) {
        try {
          const report: ProjectorReport = await projectInventoryEvents([inventoryEvent], projectorDeps);
          for (const [outcome, n] of Object.entries(report.outcomes))
            totals[outcome] = (totals[outcome] ?? 0) + n;
          for (const p of report.parked) await park(record, p.eventId, p.code, p.reason);
        } catch (error) {
          deps.log.warn('inventory event not projected; it comes back', {
            messageId: record.messageId,
            error: error as Error,
          });
          failures.push({ itemIdentifier: record.messageId });
        }
      }
    }),
  );
  const withCommitted = deps.withCommitted;
  await Promise.all(
    orders.map(async ({ record, event: order }) => {
      if (!withCommitted) return;
      try {
        const { publish } = await refreshCommitted(order, { apply: projectorDeps.apply, withCommitted });
        totals.committedRefreshes = (totals.committedRefreshes ?? 0) + publish.length;
      } catch (error) {
        deps.log.warn('order event not applied to the inventory projection; it comes back', {
          messageId: record.messageId,
          error: error as Error,
        });
        failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  // Throws when the keys cannot be sent: the whole batch comes back (projecting again is idempotent).
  await deps.sendAvailability([...touched.values()]);
  for (const [outcome, n] of Object.entries(totals))
    if (n > 0) deps.telemetry.count(`Inventory_${outcome}`, n);
  if (parked > 0) deps.telemetry.count('InventoryEventsParked', parked);
  deps.log.info('inventory events projected', {
    records: event.Records.length,
    ...totals,
    parked,
    publish: touched.size,
  });
  return { batchItemFailures: failures };
}

export function inventoryProjector(
  env: ProjectorEnv,
  clients: { readonly dynamo: DynamoDBClient; readonly sqs: SQSClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const repository = new InventoryRepository(documents, env.INVENTORY_TABLE_NAME);
  const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
  const items = new ShopifyItemSkuRepository(documents, env.INVENTORY_TABLE_NAME);
  const deps: ProjectorDepsOf = {
    apply: (key, input, sourceAt) => repository.apply(key, input, sourceAt),
    withCommitted: (sku) => repository.withCommitted(sku),
    skuOfShopifyItem: (id) => items.skuOf(id),
    hubLocation: (system, id) => mappings.lookup('location', system, id),
    exceptions: new DynamoExceptionStore(documents, env.EXCEPTIONS_TABLE_NAME),
    sendAvailability: (keys) => sendAvailability(clients.sqs, env.AVAILABILITY_QUEUE_URLS, keys),
    ...observability,
  };
  return (event: SQSEvent) => projectBatch(event, deps);
}

// ─── shopify-inventory-publisher: publish keys → Shopify, one function (one pacer) per shop ─────────

export const PublisherEnvSchema = z.object({
  INVENTORY_TABLE_NAME: name,
  MAPPINGS_TABLE_NAME: name,
  SHOPIFY_SHOP: name,
  /** `https://<shop>.myshopify.com`, or the local sandbox mount. */
  SHOPIFY_ADMIN_BASE_URL: z.url(),
  SHOPIFY_ACCESS_TOKEN_SECRET_ID: name,
  INVENTORY_POLICY: jsonVariable(InventoryPolicySchema),
});
export type PublisherEnv = z.infer<typeof PublisherEnvSchema>;

/** How long the hub location → Shopify location map is kept per warm instance. */
const LOCATION_MAP_TTL_MS = 5 * 60_000;
const SHOPIFY_LOCATION_GID = 'gid://shopify/Location/';

/**
 * The shop's publisher: the availability keys of a batch (all records together, so a burst coalesces
 * into the fewest `inventorySetQuantities` calls) published by {@link ShopifyInventoryPublisher}, paced
 * by one {@link CostPacer} per instance — the function has reserved concurrency 1, so it is the shop's
 * only pacer. A publish that fails (Shopify unavailable after its retries) or leaves rows after CAS
 * conflicts fails the batch: the keys come back and are published from the projection as it is then.
 */
export function shopifyInventoryPublisher(
  env: PublisherEnv,
  clients: { readonly dynamo: DynamoDBClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const positions = new InventoryRepository(documents, env.INVENTORY_TABLE_NAME);
  const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
  const token = secretsManagerAccessToken(env.SHOPIFY_ACCESS_TOKEN_SECRET_ID);
  const items = new ShopifyItemSkuRepository(documents, env.INVENTORY_TABLE_NAME);
  const pacer = new CostPacer();
  let graphqlFor: { token: string; graphql: ReturnType<typeof shopifyGraphql> } | undefined;
  let directory: { at: number; levels: ShopifyLevelDirectory } | undefined;

  /** Hub location (ERP id) → Shopify location GID, from the location mappings (`shopify#<id>` → ERP id). */
  async function locationMap(): Promise<Map<string, string>> {
    const rows = await mappings.targets('location');
    const out = new Map<string, string>();
    for (const [sk, target] of rows) {
      if (sk.startsWith('shopify#')) out.set(target, `${SHOPIFY_LOCATION_GID}${sk.slice('shopify#'.length)}`);
    }
    return out;
  }

  return async function publishBatch(event: SQSEvent): Promise<SQSBatchResponse> {
    const { keys, reread } = readAvailabilityMessages(event, observability.log);
    if (keys.length === 0) return { batchItemFailures: [] };
    const accessToken = await token.token();
    if (!graphqlFor || graphqlFor.token !== accessToken) {
      graphqlFor = {
        token: accessToken,
        graphql: shopifyGraphql({ baseUrl: env.SHOPIFY_ADMIN_BASE_URL, accessToken }),
      };
      directory = undefined;
    }
    const { graphql } = graphqlFor;
    if (!directory || Date.now() - directory.at > LOCATION_MAP_TTL_MS) {
      directory = {
        at: Date.now(),
        levels: new ShopifyLevelDirectory(graphql, pacer, await locationMap(), (pairs) =>
          items.record(pairs),
        ),
      };
    }
    const publisher = new ShopifyInventoryPublisher({
      graphql,
      pacer,
      positions,
      levels: directory.levels,
      policy: env.INVENTORY_POLICY,
    });
    const startedAt = Date.now();
    const pointsBefore = pacer.counters.pointsRequested;
    const report: PublishReport = await publisher.publish(keys, { reread });
    const t = observability.telemetry;
    t.count('InventoryKeysRequested', report.requested);
    t.count('InventoryPositionsPublished', report.positions);
    t.count('ShopifyQuantitiesWritten', report.written);
    t.count('ShopifyInventoryCalls', report.calls + report.readCalls);
    t.count('ShopifyCasConflicts', report.casConflicts);
    t.count('ShopifyThrottled', report.throttled);
    t.count('ShopifyOversellWindows', report.oversellWindows);
    const points = pacer.counters.pointsRequested - pointsBefore;
    emitPublishMetrics(t, 'Shopify', report, {
      points,
      seconds: (Date.now() - startedAt) / 1000,
      restoreRate: pacer.lastStatus?.restoreRate,
    });
    const { lagMs, ...summary } = report;
    observability.log.info('inventory published to Shopify', {
      shop: env.SHOPIFY_SHOP,
      ...summary,
      points,
      maxLagMs: lagMs.length > 0 ? Math.max(...lagMs) : undefined,
    });
    if (report.casGaveUp > 0) {
      // Rows that kept meeting Shopify-side sales: the whole batch comes back and is recomputed then.
      return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    }
    return { batchItemFailures: [] };
  };
}

// ─── square-inventory-publisher: publish keys → Square store counts, one function per merchant ─────

export const SquarePublisherEnvSchema = z.object({
  INVENTORY_TABLE_NAME: name,
  MAPPINGS_TABLE_NAME: name,
  /** https://connect.squareup.com, or the local sandbox mount. */
  SQUARE_BASE_URL: z.url(),
  SQUARE_ACCESS_TOKEN_SECRET_ID: name,
  INVENTORY_POLICY: jsonVariable(InventoryPolicySchema),
  /** Steady-state calls per second to Square (its limits are not documented; a 429 halves it). */
  SQUARE_MAX_CALLS_PER_SECOND: z.coerce.number().positive().default(10),
});
export type SquarePublisherEnv = z.infer<typeof SquarePublisherEnvSchema>;

/**
 * The merchant's POS publisher: the availability keys of a batch (all records together: a burst
 * coalesces into the fewest `batch-create` calls) published by {@link SquareInventoryPublisher}. The
 * function has reserved concurrency 1, so its pacing sees every inventory write to the merchant. A
 * publish that fails (Square unavailable after its retries) fails the batch: the keys come back and
 * are published from the projection as it is then.
 */
export function squareInventoryPublisher(
  env: SquarePublisherEnv,
  clients: { readonly dynamo: DynamoDBClient },
  observability: { readonly telemetry: Telemetry; readonly log: LogSink },
) {
  const documents = DynamoDBDocumentClient.from(clients.dynamo);
  const positions = new InventoryRepository(documents, env.INVENTORY_TABLE_NAME);
  const mappings = new MappingRepository(documents, env.MAPPINGS_TABLE_NAME);
  const token = secretsManagerAccessToken(env.SQUARE_ACCESS_TOKEN_SECRET_ID);
  const api = squareInventoryApi({ baseUrl: env.SQUARE_BASE_URL, accessToken: () => token.token() });
  let directory: { at: number; levels: SquareLevelDirectory } | undefined;
  // One publisher per warm instance: its pacing (the call rate learned from 429s) carries over batches.
  let publisher: SquareInventoryPublisher | undefined;

  /** Hub location (ERP id) → Square location id, from the location mappings (`pos#<id>` → ERP id). */
  async function locationMap(): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const [sk, target] of await mappings.targets('location'))
      if (sk.startsWith('pos#')) out.set(target, sk.slice('pos#'.length));
    return out;
  }

  return async function publishBatch(event: SQSEvent): Promise<SQSBatchResponse> {
    const { keys } = readAvailabilityMessages(event, observability.log);
    if (keys.length === 0) return { batchItemFailures: [] };
    if (!directory || Date.now() - directory.at > LOCATION_MAP_TTL_MS) {
      directory = { at: Date.now(), levels: new SquareLevelDirectory(api, await locationMap()) };
      publisher = undefined;
    }
    publisher ??= new SquareInventoryPublisher({
      api,
      positions,
      levels: directory.levels,
      policy: env.INVENTORY_POLICY,
      maxCallsPerSecond: env.SQUARE_MAX_CALLS_PER_SECOND,
    });
    const report = await publisher.publish(keys);
    const t = observability.telemetry;
    t.count('PosInventoryKeysRequested', report.requested);
    t.count('PosInventoryPositionsPublished', report.positions);
    t.count('SquareCountsWritten', report.written);
    t.count('SquareInventoryCalls', report.calls);
    t.count('SquareThrottled', report.throttled);
    t.count('SquareOversellWindows', report.oversellWindows);
    emitPublishMetrics(t, 'Square', report);
    const { lagMs, ...summary } = report;
    observability.log.info('inventory published to Square', {
      ...summary,
      maxLagMs: lagMs.length > 0 ? Math.max(...lagMs) : undefined,
    });
    return { batchItemFailures: [] };
  };
}

/** EMF keeps at most 100 values of one metric per record: the lag samples beyond are left out. */
const MAX_LAG_SAMPLES = 100;

/**
 * The measured metrics of one publish: the sync lag of each written level (source event → channel
 * write; CloudWatch computes its percentiles), the coalescing ratio (keys asked for ÷ levels written:
 * how many movements one write carried) and, for Shopify, the cost bucket's utilisation (points
 * requested ÷ points the restore rate made available while the publish ran — 100 % when the bucket,
 * not the hub, was the limit).
 */
export function emitPublishMetrics(
  telemetry: Telemetry,
  channel: 'Shopify' | 'Square',
  report: { readonly requested: number; readonly written: number; readonly lagMs: readonly number[] },
  bucket?: { readonly points: number; readonly seconds: number; readonly restoreRate: number | undefined },
): void {
  if (!telemetry.record) return;
  for (const lag of report.lagMs.slice(0, MAX_LAG_SAMPLES))
    telemetry.record(`${channel}SyncLag`, lag, 'Milliseconds');
  if (report.written > 0)
    telemetry.record(`${channel}CoalescingRatio`, report.requested / report.written, 'None');
  if (bucket?.restoreRate && bucket.seconds >= 1 && bucket.points > 0)
    telemetry.record(
      `${channel}BucketUtilisation`,
      Math.min(100, (100 * bucket.points) / (bucket.restoreRate * bucket.seconds)),
      'Percent',
    );
}
