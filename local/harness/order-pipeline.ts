import { rmSync } from 'node:fs';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import {
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { App } from 'aws-cdk-lib';
import { buildApp, resolveAppConfig } from '#infra/app.ts';
import type { EnvironmentConfig } from '#infra/config/environments.ts';
import { type LocalCloud, type LocalCloudOptions, startLocalCloud } from '#local/cloud.ts';
import { syncLocalMappings } from '#local/onboarding.ts';
import { type RunningSandboxes, startSandboxes } from '#local/sandboxes.ts';
import { freePortRange } from '#local/services/ports.ts';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import { type ReplayResult, replayParkedOrders } from '#shared/ops/replay-orders.ts';
import { DynamoExceptionStore } from '#shared/repositories/exceptions.ts';
import type { ChaosOptions } from '../chaos.ts';
import { cachedAssembly } from './assembly-cache.ts';

/**
 * The dev stack as deployed, running in the local cloud against the sandbox Shopify, POS and ERP —
 * what `npm start` runs — with the knobs the order-capture e2e test and benchmark turn: the ERP
 * account's concurrency limit (synthesized into the stack, as `-c erpConcurrencyLimit` does), the
 * sandboxes' plan and faults. Everything else is the product's own code path.
 */
export interface OrderPipelineOptions {
  /** NetSuite account concurrency limit: synthesized into the stack and set on the ERP sandbox. */
  readonly erpConcurrencyLimit: number;
  /** ERP latency per call, uniform in [min, max] ms. */
  readonly erpLatencyMs?: { readonly min: number; readonly max: number };
  readonly seed?: number;
  /** Parallel webhook deliveries of the Shopify and POS sandboxes. @default 8 */
  readonly webhookConcurrency?: number;
  /** The local cloud's chaos (duplicated and reordered deliveries, failed PutEvents entries). @default off */
  readonly chaos?: boolean | ChaosOptions;
  /** Step Functions Wait states and Retry intervals (1 = real time; the returns e2e shortens its ERP backoff). */
  readonly stepFunctionsTimeScale?: number;
  /**
   * The BOPIS windows synthesized into the stack (`config.bopis`; dev: 24 h to prepare, 72 h to collect):
   * the BOPIS e2e shortens the pick-up window so an expiry happens within the test.
   */
  readonly bopisWindows?: { readonly prepareWindowSeconds: number; readonly pickupWindowSeconds: number };
  /** Changes the dev booking config synthesized into the stack (e.g. an id the ERP does not have). */
  readonly erpMapping?: (mapping: NetSuiteMappingConfig) => NetSuiteMappingConfig;
  /** Told every call the local DynamoDB answered (the inventory e2e keeps the projection's history). */
  readonly onDynamoDbCall?: LocalCloudOptions['onDynamoDbCall'];
  /** Told every line a function logs (the inventory e2e keeps the inventory functions' lines). */
  readonly onFunctionLog?: LocalCloudOptions['onFunctionLog'];
}

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
const SHOPIFY_SECRET = 'pipeline-shopify-secret';

interface Page<T> {
  readonly total: number;
  readonly hasMore: boolean;
  readonly items: T[];
}

export interface ErpDocument {
  readonly type: string;
  readonly id: string;
  readonly externalId: string | null;
  readonly body: {
    readonly item?: { readonly items: { amount: number | string; isClosed?: boolean }[] };
    readonly [key: string]: unknown;
  };
}

/** An item of the exceptions table, as the order-capture checks read it. */
export interface PipelineException {
  /** `<kind>/<sk>`, the id `replayParkedOrders` reports. */
  readonly exceptionId: string;
  readonly code: string;
  readonly reason: string;
  readonly kind: string;
  readonly status: string;
  readonly attributes: Record<string, string>;
}

export class OrderPipeline {
  private constructor(
    readonly cloud: LocalCloud,
    readonly sandboxes: RunningSandboxes,
    private readonly assemblyDir: string,
    readonly dynamodb: DynamoDBClient,
    readonly sqs: SQSClient,
    /** The booking config the stack runs with. */
    readonly erpMapping: NetSuiteMappingConfig,
  ) {}

  static async start(options: OrderPipelineOptions): Promise<OrderPipeline> {
    const port = await freePortRange();
    const url = `http://127.0.0.1:${port}`;
    // The stack with the sandbox URLs of `url` (the port is put in by the assembly cache: one synth per
    // ERP limit and mapping, shared by the e2e files, see local/harness/assembly-cache.ts).
    const appFor = (outdir: string | undefined, baseUrl: string) =>
      new App({
        ...(outdir ? { outdir } : {}),
        context: {
          env: 'dev',
          netsuiteBaseUrl: `${baseUrl}/_sandbox/netsuite`,
          erpConcurrencyLimit: String(options.erpConcurrencyLimit),
          squareBaseUrl: `${baseUrl}/_sandbox/square`,
          shopifyBaseUrl: `${baseUrl}/_sandbox/shopify`,
          squareNotificationUrl: `${baseUrl}/webhooks/pos`,
        },
      });
    const adjust = (resolved: EnvironmentConfig): EnvironmentConfig => ({
      ...resolved,
      ...(options.erpMapping
        ? { erp: { ...resolved.erp, mapping: options.erpMapping(resolved.erp.mapping) } }
        : {}),
      ...(options.bopisWindows ? { bopis: options.bopisWindows } : {}),
    });
    const config = adjust(resolveAppConfig(appFor(undefined, url)));
    const { dir: assemblyDir, stackName } = cachedAssembly({
      key: {
        harness: 'order-pipeline',
        erpConcurrencyLimit: options.erpConcurrencyLimit,
        erpMapping: config.erp.mapping,
        bopis: config.bopis,
      },
      port,
      extraSources: ['local/harness/order-pipeline.ts'],
      synth: (outdir, placeholderUrl) => {
        const app = appFor(outdir, placeholderUrl);
        const { stack } = buildApp(app, adjust);
        app.synth();
        return { stackName: stack.stackName };
      },
    });
    const env = { OMNIHUB_SHOPIFY_SECRET: SHOPIFY_SECRET };
    const sandboxes = await startSandboxes({
      hubUrl: url,
      env,
      seed: options.seed ?? 42,
      overrides: {
        shopify: { webhookConcurrency: options.webhookConcurrency ?? 8 },
        square: { webhookConcurrency: options.webhookConcurrency ?? 8 },
      },
    });
    let cloud: LocalCloud;
    try {
      cloud = await startLocalCloud({
        assemblyDir,
        stackName,
        port,
        ...(options.chaos ? { chaos: options.chaos } : {}),
        ...(options.stepFunctionsTimeScale ? { waitTimeScale: options.stepFunctionsTimeScale } : {}),
        ...(options.onDynamoDbCall ? { onDynamoDbCall: options.onDynamoDbCall } : {}),
        ...(options.onFunctionLog ? { onFunctionLog: options.onFunctionLog } : {}),
        sandboxes: sandboxes.handle,
        env: { ...env, OMNIHUB_NETSUITE_CREDENTIALS: sandboxes.netsuiteCredentials },
        log: { info: () => {}, warn: () => {}, error: (message, details) => console.error(message, details) },
      });
    } catch (error) {
      await sandboxes.close();
      throw error;
    }
    const pipeline = new OrderPipeline(
      cloud,
      sandboxes,
      assemblyDir,
      new DynamoDBClient({ endpoint: cloud.endpoints.dynamodb, region: 'us-east-1', credentials }),
      new SQSClient({ endpoint: cloud.endpoints.sqs, region: 'us-east-1', credentials }),
      config.erp.mapping,
    );
    try {
      await pipeline.control('netsuite', '/_control/plan', {
        concurrencyLimit: options.erpConcurrencyLimit,
        latencyMs: options.erpLatencyMs ?? { min: 0, max: 0 },
      });
      await syncLocalMappings(cloud.url, { config: config.erp.mapping });
    } catch (error) {
      // Nothing may outlive a failed start (DynamoDB Local included).
      await pipeline.stop();
      throw error;
    }
    return pipeline;
  }

  get url(): string {
    return this.cloud.url;
  }

  /** A sandbox control call (`/_sandbox/<system>/_control/…`); throws on a non-2xx answer. */
  async control<T = unknown>(system: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_sandbox/${system}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${system} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** Every item of a paged `_control/state` list. */
  async all<T>(system: string, query: string, list: (state: Record<string, unknown>) => Page<T>) {
    const items: T[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = list(
        await this.control<Record<string, unknown>>(
          system,
          `/_control/state?${query}&limit=1000&offset=${offset}`,
        ),
      );
      items.push(...page.items);
      if (!page.hasMore) return items;
    }
  }

  erpDocuments(type: 'salesOrder' | 'cashSale' | 'cashRefund'): Promise<ErpDocument[]> {
    return this.all<ErpDocument>(
      'netsuite',
      `type=${type}&full=1`,
      (state) => state.records as Page<ErpDocument>,
    );
  }

  async queues() {
    return (await (await fetch(`${this.url}/_local/queues`)).json()) as {
      name: string;
      visible: number;
      inFlight: number;
      isDlq: boolean;
    }[];
  }

  /** The order queue and its DLQ (found by their logical ids). */
  async erpQueues() {
    const queues = await this.queues();
    const main = queues.find((queue) => /ErpOrders/.test(queue.name) && !queue.isDlq);
    const dlq = queues.find((queue) => /ErpOrders/.test(queue.name) && queue.isDlq);
    if (!main || !dlq) throw new Error(`no ErpOrders queues in ${JSON.stringify(queues)}`);
    return { main, dlq };
  }

  /**
   * Waits until every webhook the sandboxes queued is delivered and the order queue is empty (nothing
   * visible, nothing in flight or waiting out a retry backoff) on `stableChecks` polls in a row.
   */
  async drained(timeoutMs: number, systems: readonly string[] = ['shopify']): Promise<number> {
    const started = Date.now();
    let quiet = 0;
    while (Date.now() - started < timeoutMs) {
      // A flush answers 500 after 30 s with deliveries still queued: keep waiting.
      for (const system of systems) await this.control(system, '/_control/flush', {}).catch(() => undefined);
      const { main } = await this.erpQueues();
      if (process.env.PIPELINE_DEBUG)
        console.log(
          Date.now() - started,
          JSON.stringify(main),
          JSON.stringify(
            await this.control('netsuite', '/_control/state?limit=1').then(
              (st) => (st as { counters: unknown }).counters,
            ),
          ),
        );
      quiet = main.visible === 0 && main.inFlight === 0 ? quiet + 1 : 0;
      if (quiet >= 3) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `the pipeline did not drain within ${timeoutMs} ms: ${JSON.stringify(await this.erpQueues())}`,
    );
  }

  /** Messages in the order DLQ (bodies), received without deleting them. */
  async deadLetters(): Promise<unknown[]> {
    const { dlq } = await this.erpQueues();
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: `${this.cloud.endpoints.sqs}/${this.cloud.template.accountId}/${dlq.name}`,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 0,
      }),
    );
    return (out.Messages ?? []).map((message) => JSON.parse(message.Body ?? 'null'));
  }

  private table(prefix: string): string {
    const table = this.cloud.template
      .ofType('AWS::DynamoDB::Table')
      .find((t) => t.logicalId.startsWith(prefix))?.name;
    if (!table) throw new Error(`no ${prefix} table`);
    return table;
  }

  /** Removes SKU mappings (as if never onboarded): orders with these SKUs park as unmapped. */
  async deleteItemMappings(skus: readonly string[]): Promise<void> {
    const document = DynamoDBDocumentClient.from(this.dynamodb);
    for (let start = 0; start < skus.length; start += 25) {
      await document.send(
        new BatchWriteCommand({
          RequestItems: {
            [this.table('MappingsTable')]: skus.slice(start, start + 25).map((sku) => ({
              DeleteRequest: { Key: { pk: 'MAP#item', sk: `sku#${sku}` } },
            })),
          },
        }),
      );
    }
  }

  /** `npm run ops -- replay-orders`: parked order events back onto the ERP order queue. */
  async replayParkedOrders(): Promise<ReplayResult> {
    const { main } = await this.erpQueues();
    const { QueueUrl } = await this.sqs.send(new GetQueueUrlCommand({ QueueName: main.name }));
    return replayParkedOrders({
      exceptions: new DynamoExceptionStore(
        DynamoDBDocumentClient.from(this.dynamodb),
        this.table('ExceptionsTable'),
      ),
      send: async (body) => {
        await this.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
      },
    });
  }

  /** The sync ledger's entries (`sk = ERP`) by order key. */
  async ledger(): Promise<Map<string, { version: number; status: string; staleIgnored: number }>> {
    const out = new Map<string, { version: number; status: string; staleIgnored: number }>();
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const page = await this.dynamodb.send(
        new ScanCommand({ TableName: this.table('LedgerTable'), ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) {
        if (item.sk?.S !== 'ERP' || !item.pk?.S) continue;
        out.set(item.pk.S, {
          version: Number(item.version?.N ?? 0),
          status: item.status?.S ?? '',
          staleIgnored: Number(item.staleIgnored?.N ?? 0),
        });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /** Parked exceptions: id (as a replay names it), kind, code, reason, status and attributes of each. */
  async exceptions(): Promise<PipelineException[]> {
    const table = this.table('ExceptionsTable');
    const items: PipelineException[] = [];
    let start: Record<string, import('@aws-sdk/client-dynamodb').AttributeValue> | undefined;
    do {
      const out = await this.dynamodb.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
      for (const item of out.Items ?? []) {
        if (item.code?.S)
          items.push({
            exceptionId: `${item.kind?.S ?? ''}/${item.sk?.S ?? ''}`,
            code: item.code.S,
            reason: item.reason?.S ?? '',
            kind: item.kind?.S ?? '',
            status: item.status?.S ?? '',
            attributes: Object.fromEntries(
              Object.entries(item.attributes?.M ?? {}).map(([key, value]) => [key, value.S ?? '']),
            ),
          });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  async stop(): Promise<void> {
    this.dynamodb.destroy();
    this.sqs.destroy();
    await this.sandboxes.close();
    await this.cloud.stop();
    rmSync(this.assemblyDir, { recursive: true, force: true });
  }
}

/**
 * A NetSuite document's total as the ERP computed it — its lines and the tax its SuiteTax booked — in
 * minor units (read as the sandbox stores it).
 */
export function erpTotalMinor(document: ErpDocument): number {
  return Math.round(Number(document.body.total) * 100);
}
