/**
 * `npm run -s ops -- <command>`: operator tools for the local cloud.
 *
 *   test-pattern                      reads JSON lines {"pattern": …, "event": …} on stdin and prints
 *                                     true or false per line, as the running local cloud's EventBridge
 *                                     `TestEventPattern` answers (`aws events test-event-pattern` against
 *                                     its endpoint; --endpoint-url <url>, default http://127.0.0.1:PORT+1)
 *   send-shopify <topic> <file.json>  signs the payload with the local Shopify secret and posts it to the
 *                                     local webhook route; prints the status and the response
 *                                     (--webhook-id <id> to repeat a delivery, --secret <s> to sign otherwise)
 *   load-mappings <file.json>         loads SKU/location/payment-method mappings into the mappings table:
 *                                     --table <name> on AWS (credentials and region from the environment), or
 *                                     the local cloud's table when omitted (started with `npm start`)
 *   sync-mappings                     builds the mappings from the running local cloud's sandboxes (ERP items
 *                                     by SKU, locations by code, payment methods by name) and loads them into
 *                                     its mappings table (--table <name>: another table in the local DynamoDB);
 *                                     prints a summary, exits 1 when the booking config names missing ERP ids
 *   replay-orders                     puts the order events the ERP sync parked (unknown mapping, ERP
 *                                     validation, totals) back on the running local cloud's ERP order queue,
 *                                     once each, after their cause is fixed (--code <CODE> to replay only those);
 *                                     a replayed exception expires after resolvedExceptionRetentionDays
 *   exceptions [--kind <kind>]        lists what is parked in the running local cloud (erp-order, shopify-webhook,
 *                                     pos-webhook, or --kind): id, code, reason, when; --status <PARKED|REPLAYED|
 *                                     DISMISSED|ALL> (default PARKED)
 *   dismiss <exceptionId> --reason <text>
 *                                     resolves a parked input without replaying it, keeping the reason; it then
 *                                     expires after resolvedExceptionRetentionDays like a replayed one
 *   privacy-requests [--shop <domain>] the Shopify compliance requests the hub recorded for a shop (default: the
 *                                     dev shop): what each matched, redacted, deleted, and — for a data request —
 *                                     what the hub held (ids and field names, never values)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { LocalRole } from '#infra/config/local-roles.ts';
import { SHOPIFY_API_VERSION } from '#shared/connectors/shopify/api-version.ts';
import { signShopifyBody } from '#shared/connectors/shopify/webhook-signature.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';

const [command, ...args] = process.argv.slice(2);

function option(name: string): string | undefined {
  const index = args.indexOf(`--${name}`);
  return index >= 0 ? args[index + 1] : undefined;
}

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
  const [topic, file] = args.filter(
    (arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'),
  );
  if (!topic || !file) {
    console.error(
      'usage: npm run -s ops -- send-shopify <topic> <payload.json> [--webhook-id <id>] [--secret <secret>]',
    );
    return 2;
  }
  const body = JSON.stringify(JSON.parse(readFileSync(file, 'utf8')));
  const secret = option('secret') ?? process.env.OMNIHUB_SHOPIFY_SECRET ?? 'omnihub-local-shopify-secret';
  const url = `${process.env.OMNIHUB_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`}/webhooks/shopify`;
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-shopify-topic': topic,
      'x-shopify-hmac-sha256': signShopifyBody(body, secret),
      'x-shopify-shop-domain': process.env.OMNIHUB_SHOP_DOMAIN ?? 'omnihub-dev.myshopify.com',
      'x-shopify-api-version': SHOPIFY_API_VERSION,
      'x-shopify-webhook-id': option('webhook-id') ?? randomUUID(),
      'x-shopify-event-id': randomUUID(),
      'x-shopify-triggered-at': new Date().toISOString(),
    },
    body,
  });
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

/** The local cloud's mappings table and DynamoDB endpoint, from the synthesized dev template. */
function localMappingsTarget(): { table: string; endpoint: string } {
  const templateFile = '.local/cdk.out/Omnihub-dev.template.json';
  if (!existsSync(templateFile))
    throw new Error('no local cloud template: run `npm start` first, or pass --table');
  const resources = (
    JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, { Type: string }> }
  ).Resources;
  const logicalId = Object.keys(resources).find(
    (id) => id.startsWith('MappingsTable') && resources[id]?.Type === 'AWS::DynamoDB::Table',
  );
  if (!logicalId) throw new Error('the template has no mappings table');
  return {
    table: `Omnihub-dev-${logicalId}`,
    endpoint: `http://127.0.0.1:${Number(process.env.PORT ?? 3000) + 3}`,
  };
}

async function loadMappings(): Promise<number> {
  const [file] = args.filter((arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'));
  if (!file) {
    console.error('usage: npm run -s ops -- load-mappings <mappings.json> [--table <name>]');
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
  const target = explicit ? { table: explicit, endpoint: undefined } : localMappingsTarget();
  const client = new DynamoDBClient(
    target.endpoint
      ? {
          endpoint: target.endpoint,
          region: 'us-east-1',
          credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
        }
      : {},
  );
  const loaded = await new MappingRepository(DynamoDBDocumentClient.from(client), target.table).load(
    parsed.data,
  );
  console.log(`loaded ${loaded} mappings into ${target.table}`);
  client.destroy();
  return 0;
}

async function syncMappings(): Promise<number> {
  const url = process.env.OMNIHUB_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
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

async function replayOrders(): Promise<number> {
  const url = process.env.OMNIHUB_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const health = (await (await fetch(`${url}/_local/health`)).json()) as {
    endpoints: { sqs: string; dynamodb: string };
    roles: Partial<Record<LocalRole, string>>;
  };
  const queue = health.roles['erp-order-queue'];
  const table = health.roles['exceptions-table'];
  if (!queue || !table) throw new Error('the local stack has no ERP order queue or exceptions table');
  const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const { SQSClient, GetQueueUrlCommand, SendMessageCommand } = await import('@aws-sdk/client-sqs');
  const { DynamoExceptionStore } = await import('#shared/repositories/exceptions.ts');
  const { replayParkedOrders } = await import('#shared/ops/replay-orders.ts');
  // The local cloud runs the dev stack: a replayed exception expires after dev's retention.
  const { ENVIRONMENTS } = await import('#infra/config/environments.ts');
  const sqs = new SQSClient({ ...local, endpoint: health.endpoints.sqs });
  const dynamodb = new DynamoDBClient({ ...local, endpoint: health.endpoints.dynamodb });
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queue }));
    const code = option('code');
    const result = await replayParkedOrders(
      {
        exceptions: new DynamoExceptionStore(DynamoDBDocumentClient.from(dynamodb), table),
        send: async (body) => {
          await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: body }));
        },
        resolvedRetentionDays: ENVIRONMENTS.dev.resolvedExceptionRetentionDays,
      },
      (exception) => code === undefined || exception.code === code,
    );
    console.log(
      `replayed ${result.replayed.length} parked order events${result.alreadyReplayed.length ? `, ${result.alreadyReplayed.length} taken by another replay` : ''}`,
    );
    for (const skipped of result.skipped) console.log(`skipped ${skipped.exceptionId}: ${skipped.why}`);
    return 0;
  } finally {
    sqs.destroy();
    dynamodb.destroy();
  }
}

/** The running local cloud's endpoints and its tables by role (`/_local/health`). */
async function localHub() {
  const url = process.env.OMNIHUB_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const health = (await (await fetch(`${url}/_local/health`)).json()) as {
    endpoints: { sqs: string; dynamodb: string };
    roles: Partial<Record<LocalRole, string>>;
  };
  const dynamodb = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: health.endpoints.dynamodb,
  });
  return { health, dynamodb, documents: DynamoDBDocumentClient.from(dynamodb) };
}

const EXCEPTION_KINDS = ['erp-order', 'shopify-webhook', 'pos-webhook'] as const;

async function listExceptions(): Promise<number> {
  const { health, dynamodb, documents } = await localHub();
  const table = health.roles['exceptions-table'];
  if (!table) throw new Error('the local stack has no exceptions table');
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
  }
}

async function dismiss(): Promise<number> {
  const [exceptionId] = args.filter(
    (arg, index) => !arg.startsWith('--') && !args[index - 1]?.startsWith('--'),
  );
  const reason = option('reason');
  if (!exceptionId || !reason) {
    console.error('usage: npm run -s ops -- dismiss <exceptionId> --reason <why>');
    return 2;
  }
  const { health, dynamodb, documents } = await localHub();
  const table = health.roles['exceptions-table'];
  if (!table) throw new Error('the local stack has no exceptions table');
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

async function privacyRequests(): Promise<number> {
  const { health, dynamodb, documents } = await localHub();
  const table = health.roles['privacy-requests-table'];
  if (!table) throw new Error('the local stack has no privacy requests table');
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

const commands: Record<string, () => Promise<number>> = {
  exceptions: listExceptions,
  dismiss,
  'privacy-requests': privacyRequests,
  'replay-orders': replayOrders,
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
process.exit(await run());
