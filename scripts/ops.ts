/**
 * `npm run -s ops -- <command>`: operator tools for the local cloud.
 *
 *   test-pattern                      reads JSON lines {"pattern": …, "event": …} on stdin and prints
 *                                     true or false per line, as the running local cloud's EventBridge
 *                                     `TestEventPattern` answers (`aws events test-event-pattern` against
 *                                     its endpoint; --endpoint-url <url>, default http://127.0.0.1:PORT+1)
 *   status [--wait [s]] [--json]      what happened in the running local cloud, per flow: events published, queued
 *                                     and in flight, orders in the Shopify and Square sandboxes, documents booked
 *                                     in the NetSuite sandbox, and what is parked with its reason and replay command;
 *                                     --wait first waits (default up to 60 s) until nothing is moving
 *   send-shopify <topic> <file.json>  signs the payload with the local Shopify secret and posts it to the
 *                                     local webhook route; prints the status and the response
 *                                     (--webhook-id <id> to repeat a delivery, --secret <s> to sign otherwise)
 *   send-shopify orders/create --sample
 *                                     the same with a new order built from the running Shopify sandbox's catalog
 *                                     (scripts/ops/sample-order.ts), so it maps and is booked in the ERP sandbox
 *   load-mappings <file.json>         loads SKU/location/payment-method mappings into the mappings table:
 *                                     --table <name> on AWS (credentials and region from the environment), or
 *                                     the local cloud's table when omitted (started with `npm start`); into the
 *                                     local cloud it refuses rows that point SKUs at the booking items or change
 *                                     rows npm start built from the sandboxes, unless --force
 *   sync-mappings                     builds the mappings from the running local cloud's sandboxes (ERP items
 *                                     by SKU, locations by code, payment methods by name) and loads them into
 *                                     its mappings table (--table <name>: another table in the local DynamoDB);
 *                                     prints a summary, exits 1 when the booking config names missing ERP ids
 *   replay-orders                     = exceptions retry (kept for its users)
 *   exceptions [list] [--kind <kind>] lists what is parked (erp-order, shopify-webhook, pos-webhook, or --kind):
 *                                     id, code, reason, when; --status <PARKED|REPLAYED|DISMISSED|ALL> (default PARKED)
 *   exceptions retry [--code <CODE>] [<exceptionId>…]
 *                                     the ops Lambda puts the order events the ERP sync parked (unknown mapping,
 *                                     ERP validation, totals) back on the ERP order queue, once each, after their
 *                                     cause is fixed; audited; a replayed exception expires after
 *                                     resolvedExceptionRetentionDays
 *   trace <transactionId|shopifyOrderId|webhookId>
 *                                     the checkpoints of the transaction(s): received → published → queued →
 *                                     parked → replayed → erp-posted …, with when, by which function, and why
 *   dlq list | show <queue> | replay <queue> [--transaction <id>] [--detail-type <t>] [--from ISO] [--to ISO] [--dry-run]
 *                                     the consumer queues and their DLQs; a DLQ's messages; moving them (all or
 *                                     filtered) back to their queue through the ops Lambda, audited, with progress
 *   replay-archive --from ISO [--to ISO] [--no-wait]
 *                                     replays the bus archive's window onto the bus (EventBridge StartReplay) and
 *                                     follows it to COMPLETED
 *
 * trace, dlq, exceptions and replay-archive act on the local cloud (--local, the default) or on a deployed
 * environment (--env <env>: the stack Omnihub-<env> found by its CloudFormation outputs, AWS credentials and
 * region from the environment); --json prints one JSON document; --actor <who> names who replays (the audit
 * row's actor; default the OS user at this host).
 *   dismiss <exceptionId> --reason <text>
 *   replay-return <exceptionId>       a return parked at its ERP step tries its credit memo again
 *                                     resolves a parked input without replaying it, keeping the reason; it then
 *                                     expires after resolvedExceptionRetentionDays like a replayed one
 *   reconcile [--heal] [--since ISO] [--until ISO] [--local | --env <env>] [--json]
 *                                     runs the reconciler Lambda (Lambda Invoke: the local cloud's, or the deployed
 *                                     stack Omnihub-<env>'s with the environment's AWS credentials) over the window
 *                                     and prints its discrepancies (missing, total, status, refund, availability);
 *                                     --heal re-publishes missing orders and drifted availability (not in a dry-run
 *                                     environment); --json prints the run as one JSON object on the last line
 *   register-webhooks [--local | --env <env>] [--dry-run] [--json]
 *                                     makes the Shopify (Admin GraphQL) and Square (Webhook Subscriptions API)
 *                                     subscriptions match the topics the ingress consumes, at the stack's webhook
 *                                     URLs: creates what is missing, updates what drifted, reports extras and the
 *                                     compliance topics (a manual step in the app's configuration); a new Square
 *                                     subscription's signature key goes into the signature-key secret, the old key
 *                                     kept as previous for a day; --dry-run prints the plan only
 *   privacy-requests [--shop <domain>] the Shopify compliance requests the hub recorded for a shop (default: the
 *                                     dev shop): what each matched, redacted, deleted, and — for a data request —
 *                                     what the hub held (ids and field names, never values)
 *
 * Every command but load-mappings --table talks to the local cloud at OMNIHUB_URL, else
 * http://127.0.0.1:$PORT (default 3000): when none answers it says which URL it tried and which setting to change.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';
import { hubUrl, localDynamo, localHealth, OpsError, roleName, unreachable } from './ops/hub.ts';

const [command, ...args] = process.argv.slice(2);

/** Options that take no value. */
const FLAGS = new Set([
  '--sample',
  '--force',
  '--json',
  '--wait',
  '--heal',
  '--local',
  '--dry-run',
  '--no-wait',
]);

function option(name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

const flag = (name: string) => args.includes(`--${name}`);

/** The arguments that are neither options nor their values. */
const positional = () =>
  args.filter(
    (arg, index) =>
      !arg.startsWith('--') && !(args[index - 1]?.startsWith('--') && !FLAGS.has(args[index - 1] ?? '')),
  );

/**
 * Asks the local cloud's EventBridge, over its AWS JSON API, whether each event matches its pattern — the
 * same `TestEventPattern` an operator would call with `aws events test-event-pattern --endpoint-url`, so the
 * answer is the local bus's, including its `InvalidEventPatternException` for a pattern EventBridge refuses.
 * An event must carry the fields TestEventPattern requires (id, account, source, time, region, resources,
 * detail-type). Exits 1 when a line failed, and at once when no local cloud answers.
 */
async function testPattern(): Promise<number> {
  const endpoint = option('endpoint-url') ?? `http://127.0.0.1:${Number(process.env.PORT ?? 3000) + 1}`;
  const { EventBridgeClient, TestEventPatternCommand } = await import('@aws-sdk/client-eventbridge');
  const client = new EventBridgeClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
  let failures = 0;
  try {
    for await (const line of createInterface({ input: process.stdin })) {
      if (!line.trim()) continue;
      let request: { EventPattern: string; Event: string };
      try {
        const { pattern, event } = JSON.parse(line) as { pattern: unknown; event: unknown };
        request = { EventPattern: asText(pattern), Event: asText(event) };
      } catch (error) {
        failures += 1;
        console.log(`error: ${(error as Error).message}`);
        continue;
      }
      try {
        const { Result } = await client.send(new TestEventPatternCommand(request));
        console.log(String(Result));
      } catch (error) {
        const { name, message, code, $metadata } = error as Error & {
          code?: string;
          $metadata?: { httpStatusCode?: number };
        };
        if ($metadata?.httpStatusCode === undefined) {
          console.error(
            `test-pattern: no local cloud answered at ${endpoint} (${code ?? message}); start it with \`npm start\``,
          );
          return 1;
        }
        failures += 1;
        console.log(`error: ${name}: ${message}`);
      }
    }
  } finally {
    client.destroy();
  }
  return failures === 0 ? 0 : 1;
}

async function sendShopify(): Promise<number> {
  const [topic, file] = positional();
  const sample = flag('sample');
  if (!topic || (!file && !sample) || (sample && topic !== 'orders/create')) {
    console.error(
      'usage: npm run -s ops -- send-shopify <topic> <payload.json> [--webhook-id <id>] [--secret <secret>]\n' +
        "       npm run -s ops -- send-shopify orders/create --sample   (a new order from the Shopify sandbox's catalog)",
    );
    return 2;
  }
  const base = hubUrl();
  let body: string;
  let shopDomain = process.env.OMNIHUB_SHOP_DOMAIN ?? 'omnihub-dev.myshopify.com';
  if (sample) {
    const { sampleOrder } = await import('./ops/sample-order.ts');
    const order = await sampleOrder(base);
    body = JSON.stringify(order.body);
    shopDomain = process.env.OMNIHUB_SHOP_DOMAIN ?? order.shopDomain;
    console.error(order.summary);
  } else {
    body = JSON.stringify(JSON.parse(readFileSync(file as string, 'utf8')));
  }
  const secret = option('secret') ?? process.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret';
  const url = `${base}/webhooks/shopify`;
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-shopify-topic': topic,
        'x-shopify-hmac-sha256': signShopifyBody(body, secret),
        'x-shopify-shop-domain': shopDomain,
        'x-shopify-api-version': SHOPIFY_API_VERSION,
        'x-shopify-webhook-id': option('webhook-id') ?? randomUUID(),
        'x-shopify-event-id': randomUUID(),
        'x-shopify-triggered-at': new Date().toISOString(),
      },
      body,
    });
  } catch (error) {
    throw unreachable(base, error);
  }
  console.log(response.status);
  console.log(await response.text());
  return response.ok ? 0 : 1;
}

const MappingsFileSchema = z.array(
  z.object({
    kind: z.enum(['item', 'location', 'payment-method']),
    source: z.string().min(1),
    sourceId: z.string().min(1),
    target: z.string().min(1),
  }),
);

/** What in the file would corrupt the local demo (scripts/ops/mapping-guard.ts), read against the table. */
async function localMappingProblems(
  rows: z.infer<typeof MappingsFileSchema>,
  repository: MappingRepository,
): Promise<string[]> {
  // The local cloud runs the dev stack: it books with dev's booking items.
  const { ENVIRONMENTS } = await import('#infra/config/environments.ts');
  const { mappingProblems } = await import('./ops/mapping-guard.ts');
  const kinds = ['item', 'location', 'payment-method'] as const;
  const existing = new Map(
    await Promise.all(kinds.map(async (kind) => [kind, await repository.targets(kind)] as const)),
  );
  return mappingProblems(rows, ENVIRONMENTS.dev.erp.mapping.items, existing);
}

async function loadMappings(): Promise<number> {
  const [file] = positional();
  if (!file) {
    console.error('usage: npm run -s ops -- load-mappings <mappings.json> [--table <name>] [--force]');
    return 2;
  }
  const parsed = MappingsFileSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    console.error(`invalid mappings file: ${issues.join('; ')}`);
    return 1;
  }
  const explicit = option('table');
  if (explicit) {
    // A deployed account's table: credentials and region from the environment, as the AWS CLI takes them.
    const client = new DynamoDBClient({});
    try {
      const loaded = await new MappingRepository(DynamoDBDocumentClient.from(client), explicit).load(
        parsed.data,
      );
      console.log(`loaded ${loaded} mappings into ${explicit}`);
      return 0;
    } finally {
      client.destroy();
    }
  }
  const health = await localHealth();
  const table = roleName(health, 'mappings-table');
  const { client, documents } = localDynamo(health);
  try {
    const repository = new MappingRepository(documents, table);
    const problems = flag('force') ? [] : await localMappingProblems(parsed.data, repository);
    if (problems.length > 0) {
      console.error(
        `load-mappings: nothing loaded into the local cloud's ${table}: ${problems.length} row(s) would break the mappings npm start built from the sandboxes:`,
      );
      for (const problem of problems.slice(0, 10)) console.error(`  ${problem}`);
      if (problems.length > 10) console.error(`  … and ${problems.length - 10} more`);
      console.error(
        'docs/examples/mappings.sample.json is for a deployed account (--table <MappingsTableName>); locally, ' +
          'npm run -s ops -- sync-mappings rebuilds the mappings from the sandboxes. --force loads the file anyway.',
      );
      return 1;
    }
    const loaded = await repository.load(parsed.data);
    console.log(`loaded ${loaded} mappings into ${table}`);
    return 0;
  } finally {
    client.destroy();
  }
}

async function syncMappings(): Promise<number> {
  const url = hubUrl();
  await localHealth(url);
  const table = option('table');
  // Loaded here: only this command needs the onboarding modules and their clients.
  const { syncLocalMappings } = await import('#local/onboarding.ts');
  const { summarize } = await import('#shared/onboarding/mappings.ts');
  let synced: Awaited<ReturnType<typeof syncLocalMappings>>;
  try {
    synced = await syncLocalMappings(url, table ? { table } : {});
  } catch (error) {
    console.error(`sync-mappings failed${table ? ` (table ${table})` : ''}: ${(error as Error).message}`);
    return 1;
  }
  const { result, table: loadedInto, ms } = synced;
  for (const line of summarize(result.report)) console.log(line);
  console.log(
    `${result.written} mappings written to ${loadedInto} (${result.unchanged} unchanged) in ${(ms / 1000).toFixed(1)} s`,
  );
  return result.report.configProblems.length > 0 ? 1 : 0;
}

/** The former local-only replay: now a thin client of the ops Lambda's `exceptions-retry`. */
async function replayOrders(): Promise<number> {
  const { exceptionsRetry } = await import('./ops/replay-commands.ts');
  return exceptionsRetry(cliArgs);
}

/** The running local cloud's endpoints and its tables by role (`/_local/health`). */
async function localHub() {
  const health = await localHealth();
  const { client: dynamodb, documents } = localDynamo(health);
  return { health, dynamodb, documents };
}

async function status(): Promise<number> {
  const { collectStatus, formatStatus, settledStatus } = await import('./ops/status.ts');
  const waitSeconds = flag('wait') ? Number(option('wait')?.match(/^\d+$/) ? option('wait') : 60) : 0;
  const { status: result, settled } = waitSeconds
    ? await settledStatus(hubUrl(), waitSeconds * 1000)
    : { status: await collectStatus(hubUrl()), settled: true };
  if (flag('json')) console.log(JSON.stringify({ ...result, settled }));
  else for (const line of formatStatus(result)) console.log(line);
  if (!settled) console.error(`still moving after ${waitSeconds} s: run it again`);
  return settled ? 0 : 1;
}

const EXCEPTION_KINDS = ['erp-order', 'shopify-webhook', 'pos-webhook', 'pos-sweep'] as const;

async function exceptions(): Promise<number> {
  const [sub] = positional();
  if (sub === 'retry') {
    const { exceptionsRetry } = await import('./ops/replay-commands.ts');
    return exceptionsRetry(cliArgs);
  }
  if (sub !== undefined && sub !== 'list') {
    console.error(
      'usage: npm run -s ops -- exceptions [list] [--kind <kind>] [--status <PARKED|REPLAYED|DISMISSED|ALL>]\n' +
        '       npm run -s ops -- exceptions retry [--code <CODE>] [<exceptionId>…]   (each [--env <env> | --local])',
    );
    return 2;
  }
  return listExceptions();
}

async function listExceptions(): Promise<number> {
  const { resolveTarget } = await import('./ops/ops-client.ts');
  const target = await resolveTarget({ env: option('env') });
  const { dynamodb, documents } = target;
  const table = target.tables.exceptions;
  const { QueryCommand } = await import('@aws-sdk/lib-dynamodb');
  const status = (option('status') ?? 'PARKED').toUpperCase();
  const kinds = option('kind') ? [option('kind') as string] : EXCEPTION_KINDS;
  try {
    let count = 0;
    for (const kind of kinds) {
      let ExclusiveStartKey: Record<string, unknown> | undefined;
      do {
        const page = await documents.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': `EXC#${kind}` },
            ProjectionExpression: 'sk, #status, code, reason, parkedAt, dismissedReason, payloadParts, kind',
            ExpressionAttributeNames: { '#status': 'status' },
            ExclusiveStartKey,
          }),
        );
        for (const item of page.Items ?? []) {
          // Payload parts of a large input are items of their own (`<sk>#part#<n>`), not exceptions.
          if (!item.status || (status !== 'ALL' && item.status !== status)) continue;
          count += 1;
          const why = item.dismissedReason ? ` (dismissed: ${String(item.dismissedReason)})` : '';
          console.log(
            `${kind}/${String(item.sk)}  ${String(item.status)}  ${String(item.code)}  ${String(item.parkedAt)}  ${String(item.reason)}${why}`,
          );
        }
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    }
    console.log(`${count} ${status === 'ALL' ? '' : `${status.toLowerCase()} `}exception(s)`);
    return 0;
  } finally {
    dynamodb.destroy();
    target.destroy();
  }
}

async function dismiss(): Promise<number> {
  const [exceptionId] = positional();
  const reason = option('reason');
  if (!exceptionId || !reason) {
    console.error('usage: npm run -s ops -- dismiss <exceptionId> --reason <why>');
    return 2;
  }
  const { health, dynamodb, documents } = await localHub();
  const table = roleName(health, 'exceptions-table');
  const { DynamoExceptionStore } = await import('#shared/repositories/exceptions.ts');
  const { dismissException } = await import('#shared/ops/dismiss-exception.ts');
  const { ENVIRONMENTS } = await import('#infra/config/environments.ts');
  try {
    const result = await dismissException(
      {
        exceptions: new DynamoExceptionStore(documents, table),
        resolvedRetentionDays: ENVIRONMENTS.dev.resolvedExceptionRetentionDays,
      },
      exceptionId,
      reason,
    );
    if (result.status === 'dismissed') {
      console.log(`dismissed ${exceptionId}; expires ${new Date(result.expiresAt * 1000).toISOString()}`);
      return 0;
    }
    console.error(
      result.status === 'not-found'
        ? `no exception ${exceptionId}`
        : `${exceptionId} is not parked (${result.current}): left as it is`,
    );
    return 1;
  } finally {
    dynamodb.destroy();
  }
}

async function replayReturn(): Promise<number> {
  const [exceptionId] = positional();
  if (!exceptionId) {
    console.error(
      'usage: npm run -s ops -- replay-return <exceptionId>   (kind "return", code RETURN_ERP_FAILED)',
    );
    return 2;
  }
  const { health, dynamodb, documents } = await localHub();
  const { DynamoExceptionStore } = await import('#shared/repositories/exceptions.ts');
  const { replayParkedReturn } = await import('#shared/ops/replay-return.ts');
  const { SFNClient, SendTaskSuccessCommand } = await import('@aws-sdk/client-sfn');
  const sfn = new SFNClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: health.endpoints.aws,
  });
  try {
    const result = await replayParkedReturn(
      {
        exceptions: new DynamoExceptionStore(documents, roleName(health, 'exceptions-table')),
        sendTaskSuccess: async (taskToken, output) => {
          await sfn.send(new SendTaskSuccessCommand({ taskToken, output }));
        },
      },
      exceptionId,
    );
    if (result.status === 'replayed') {
      console.log(`replayed ${exceptionId}: return ${result.returnId} tries its ERP credit memo again`);
      return 0;
    }
    console.error(`${exceptionId} not replayed: ${result.why}`);
    return 1;
  } finally {
    sfn.destroy();
    dynamodb.destroy();
  }
}

async function privacyRequests(): Promise<number> {
  const { health, dynamodb, documents } = await localHub();
  const table = roleName(health, 'privacy-requests-table');
  const { PrivacyRequestStore } = await import('#shared/repositories/privacy-requests.ts');
  const { ENVIRONMENTS } = await import('#infra/config/environments.ts');
  const shop = option('shop') ?? ENVIRONMENTS.dev.shops[0]?.domain ?? '';
  try {
    const records = await new PrivacyRequestStore(documents, table).list('shopify', shop);
    for (const record of records) console.log(JSON.stringify(record));
    console.log(`${records.length} privacy request(s) for ${shop}`);
    return 0;
  } finally {
    dynamodb.destroy();
  }
}

/** `reconcile`: one run of the reconciler Lambda (scripts/ops/reconcile.ts). */
async function reconcileCommand(): Promise<number> {
  const { runReconcile, formatReconcile, reconcileJson } = await import('./ops/reconcile.ts');
  const env = option('env');
  if (env !== undefined && flag('local')) {
    console.error(
      'usage: npm run -s ops -- reconcile [--heal] [--since ISO] [--until ISO] [--local | --env <env>] [--json]',
    );
    return 2;
  }
  const since = option('since');
  const until = option('until');
  for (const [name, value] of [
    ['since', since],
    ['until', until],
  ] as const) {
    if (value !== undefined && Number.isNaN(Date.parse(value))) {
      console.error(`reconcile: --${name} ${value} is not an ISO-8601 time`);
      return 2;
    }
  }
  const { result, target } = await runReconcile({
    ...(env ? { env } : {}),
    ...(since ? { since: new Date(since).toISOString() } : {}),
    ...(until ? { until: new Date(until).toISOString() } : {}),
    heal: flag('heal'),
    json: flag('json'),
  });
  if (flag('json')) console.log(reconcileJson(result));
  else for (const line of formatReconcile(result, target)) console.log(line);
  return 0;
}

/** `register-webhooks`: the Shopify and Square subscriptions the hub consumes (scripts/ops/register-webhooks.ts). */
async function registerWebhooksCommand(): Promise<number> {
  const { registerDeployed, registerLocal, formatRegistration } = await import('./ops/register-webhooks.ts');
  const dryRun = flag('dry-run');
  const env = option('env');
  const { result, target } = env ? await registerDeployed(env, dryRun) : await registerLocal(dryRun);
  if (flag('json')) console.log(JSON.stringify(result));
  else for (const line of formatRegistration(result, target, dryRun)) console.log(line);
  return 0;
}

/** The command line for the modules in scripts/ops/. */
const cliArgs = { positional, option, flag };

const replayCommand = (name: 'trace' | 'dlq' | 'replayArchive') => async (): Promise<number> =>
  (await import('./ops/replay-commands.ts'))[name](cliArgs);

const commands: Record<string, () => Promise<number>> = {
  status,
  'register-webhooks': registerWebhooksCommand,
  reconcile: reconcileCommand,
  exceptions,
  trace: replayCommand('trace'),
  dlq: replayCommand('dlq'),
  'replay-archive': replayCommand('replayArchive'),
  dismiss,
  'privacy-requests': privacyRequests,
  'replay-orders': replayOrders,
  'replay-return': replayReturn,
  'test-pattern': testPattern,
  'send-shopify': sendShopify,
  'load-mappings': loadMappings,
  'sync-mappings': syncMappings,
};
const run = command ? commands[command] : undefined;
if (!run) {
  console.error(`usage: npm run -s ops -- <${Object.keys(commands).join('|')}> …`);
  process.exit(2);
}
try {
  process.exit(await run());
} catch (error) {
  // What the operator can act on, without a stack trace (OMNIHUB_DEBUG=1 shows it).
  if (process.env.OMNIHUB_DEBUG) console.error(error);
  const message =
    error instanceof OpsError
      ? error.message
      : (error as Error).message === 'fetch failed'
        ? unreachable(hubUrl(), error).message
        : `${(error as Error).name}: ${(error as Error).message}`;
  console.error(`ops ${command}: ${message}`);
  process.exit(1);
}
