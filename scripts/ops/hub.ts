import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { LocalRole } from '#infra/config/local-roles.ts';

/**
 * How the ops commands find the running local cloud: `OMNIHUB_URL`, else `http://127.0.0.1:$PORT` (default
 * 3000) — the same `PORT` `npm start` was given. When nothing answers, the error names the URL tried and
 * both settings, never a stack trace.
 */
export function hubUrl(env: NodeJS.ProcessEnv = process.env): string {
  return (env.OMNIHUB_URL || `http://127.0.0.1:${env.PORT || 3000}`).replace(/\/+$/, '');
}

/** A problem the operator fixes (no local cloud, a refused file): printed as one message, exit 1. */
export class OpsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OpsError';
  }
}

/** Why a fetch to `url` failed, as the operator can act on it. */
export function unreachable(url: string, error: unknown): OpsError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (error as Error).message;
  const from = process.env.OMNIHUB_URL
    ? 'from OMNIHUB_URL'
    : `from PORT=${process.env.PORT ?? '3000, the default'}`;
  return new OpsError(
    `no local cloud answered at ${url} (${from}; ${why}). Start one with \`npm start\`; if it runs on other ports, ` +
      'give the ops commands the PORT it was started with (PORT=<n> npm run -s ops -- …) or its URL (OMNIHUB_URL=http://127.0.0.1:<n>).',
  );
}

/** GET a JSON document from the local cloud (or a sandbox behind it). */
export async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw unreachable(new URL(url).origin, error);
  }
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T };
  } catch {
    throw new OpsError(
      `${url} answered ${response.status} with something that is not JSON — is it an Omnihub local cloud? (${text.slice(0, 80)})`,
    );
  }
}

export interface LocalHealth {
  status: string;
  stack: string;
  waitingFor?: string[];
  endpoints: { http: string; aws: string; sqs: string; dynamodb: string };
  roles: Partial<Record<LocalRole, string>>;
}

/**
 * The running local cloud's health: its endpoints and its resources by role. `warming` is fine (tables and
 * queues exist; npm start is still building the mappings); `starting` is not ready for anything yet.
 */
export async function localHealth(url: string = hubUrl()): Promise<LocalHealth> {
  const { status, body } = await getJson<Partial<LocalHealth> & { message?: string }>(`${url}/_local/health`);
  if (status === 503 && body.status === 'starting')
    throw new OpsError(
      `the local cloud at ${url} is still starting; run this again once npm start says "is up"`,
    );
  if (!body.endpoints || !body.roles)
    throw new OpsError(
      `${url}/_local/health answered ${status} without endpoints — is it an Omnihub local cloud?`,
    );
  return body as LocalHealth;
}

/** The role's resource name, or an error naming the role the stack lacks. */
export function roleName(health: LocalHealth, role: LocalRole): string {
  const name = health.roles[role];
  if (!name) throw new OpsError(`the local stack ${health.stack} has no resource with the role ${role}`);
  return name;
}

/** A DynamoDB document client on the local cloud's DynamoDB endpoint (admin credentials, as npm start's tools). */
export function localDynamo(health: LocalHealth) {
  const client = new DynamoDBClient({
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    endpoint: health.endpoints.dynamodb,
  });
  return { client, documents: DynamoDBDocumentClient.from(client) };
}
