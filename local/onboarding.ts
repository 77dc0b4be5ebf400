import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { LocalRole } from '#infra/config/local-roles.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import { summarize } from '#shared/onboarding/mappings.ts';
import type { ShopifyAccess, SquareAccess } from '#shared/onboarding/sources.ts';
import { type SyncResult, syncMappings } from '#shared/onboarding/sync.ts';
import { MappingRepository } from '#shared/repositories/mappings.ts';

/**
 * Onboarding against a running local cloud: the sandboxes mounted under `/_sandbox/<name>` are the
 * systems, their control APIs hand over the credentials (as an operator would paste them), and the
 * rows go to the stack's mappings table in the local DynamoDB. Used by `npm start` after boot and by
 * `npm run ops -- sync-mappings`.
 */

const HealthSchema = z.object({
  status: z.string(),
  endpoints: z.object({ dynamodb: z.string() }),
  roles: z.record(z.string(), z.string()),
});
const NetSuiteStateSchema = z.object({ credentials: z.unknown() });
const AccessTokenStateSchema = z.object({ credentials: z.object({ accessToken: z.string().min(1) }) });

async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: res.status === 404 ? undefined : await res.json() };
}

/** A sandbox's access token, or undefined when that sandbox is not mounted. */
async function sandboxToken(url: string, name: string, query: string): Promise<string | undefined> {
  const state = await getJson(`${url}/_sandbox/${name}/_control/state?${query}`);
  if (state.status === 404) return undefined;
  return AccessTokenStateSchema.parse(state.body).credentials.accessToken;
}

export interface LocalOnboarding {
  readonly result: SyncResult;
  readonly table: string;
  readonly ms: number;
}

/**
 * Runs the onboarding once against the local cloud at `url` (`http://127.0.0.1:3000`). `table`
 * overrides the stack's mappings table (a table in the same local DynamoDB); `config` is the booking
 * config the stack was synthesized with, checked against the ERP (default: the dev environment's).
 */
export async function syncLocalMappings(
  url: string,
  options: { table?: string; config?: NetSuiteMappingConfig } = {},
): Promise<LocalOnboarding> {
  const started = Date.now();
  const health = await getJson(`${url}/_local/health`);
  // 'warming': the cloud serves and waits for work like this onboarding before it reports ready.
  const parsed = HealthSchema.safeParse(health.body);
  if (!parsed.success || !(health.status === 200 || parsed.data.status === 'warming'))
    throw new Error(`the local cloud at ${url} is not up (health ${health.status})`);
  const { endpoints, roles } = parsed.data;
  const table = options.table ?? roles['mappings-table' satisfies LocalRole];
  if (!table)
    throw new Error('the local stack has no mappings table (no resource with the role mappings-table)');

  const netsuiteUrl = `${url}/_sandbox/netsuite`;
  const nsState = await getJson(`${netsuiteUrl}/_control/state?limit=1`);
  if (nsState.status !== 200) throw new Error(`the NetSuite sandbox is not mounted at ${netsuiteUrl}`);
  const credentials = NetSuiteCredentialsSchema.parse(NetSuiteStateSchema.parse(nsState.body).credentials);
  const erp = new NetSuiteClient({
    baseUrl: netsuiteUrl,
    accountId: credentials.accountId,
    auth: new NetSuiteAuth({ tokenUrl: `${netsuiteUrl}${NETSUITE_TOKEN_PATH}`, credentials }),
  });
  const shopifyToken = await sandboxToken(url, 'shopify', 'records=none');
  const squareToken = await sandboxToken(url, 'square', 'view=locations&limit=1');
  const shopify: ShopifyAccess | undefined = shopifyToken
    ? { baseUrl: `${url}/_sandbox/shopify`, accessToken: shopifyToken }
    : undefined;
  const square: SquareAccess | undefined = squareToken
    ? { baseUrl: `${url}/_sandbox/square`, accessToken: squareToken }
    : undefined;

  const client = new DynamoDBClient({
    endpoint: endpoints.dynamodb,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  // Loaded on use: the environment config pulls in aws-cdk-lib (about half a second).
  const { ENVIRONMENTS } = await import('#infra/config/environments.ts');
  try {
    const result = await syncMappings(
      { erp, ...(shopify ? { shopify } : {}), ...(square ? { square } : {}) },
      {
        repository: new MappingRepository(DynamoDBDocumentClient.from(client), table),
        // The local cloud runs the dev stack: its order sync books with the dev mapping config.
        config: options.config ?? ENVIRONMENTS.dev.erp.mapping,
      },
    );
    return { result, table, ms: Date.now() - started };
  } finally {
    client.destroy();
  }
}

/**
 * `npm start`'s onboarding, once after boot: one summary line, plus one per problem. A failure is a
 * warning, never a failed boot: the cloud is usable without mappings (orders park as unmapped).
 */
export async function onboardOnStart(url: string, say: (line: string) => void): Promise<void> {
  try {
    const { result, ms } = await syncLocalMappings(url);
    const [summary, ...problems] = summarize(result.report);
    say(`omnihub: ${summary}; ${result.written} rows written in ${(ms / 1000).toFixed(1)} s`);
    for (const problem of problems) say(`omnihub: WARN ${problem.trim()}`);
  } catch (error) {
    say(
      `omnihub: WARN mappings not synced (${(error as Error).message}); retry with npm run -s ops -- sync-mappings`,
    );
  }
}

/**
 * `npm start`'s webhook registration: the sandboxes start with no subscription (as a new shop and seller
 * account do) and the hub registers its own through the vendors' APIs — the same code as `npm run -s ops --
 * register-webhooks --local` (scripts/ops/register-webhooks.ts). A restart finds them in place (nothing changes).
 */
export async function registerOnStart(url: string, say: (line: string) => void): Promise<void> {
  try {
    const { registerLocal } = await import('../scripts/ops/register-webhooks.ts');
    const { result } = await registerLocal(false, url);
    const count = (action: string) => result.steps.filter((step) => step.action === action).length;
    say(
      `omnihub: webhooks: ${count('ok') + result.changed} subscriptions in place (${result.changed} registered now), ${count('manual')} compliance topics set in the app's configuration`,
    );
  } catch (error) {
    say(
      `omnihub: WARN webhooks not registered (${(error as Error).message}); retry with npm run -s ops -- register-webhooks --local`,
    );
  }
}
