import { InvokeCommand, LambdaClient, paginateListFunctions } from '@aws-sdk/client-lambda';
import type { ReconcileResult } from '#shared/reconcile/reconcile.ts';
import { localHealth, OpsError, roleName } from './hub.ts';

/**
 * `npm run -s ops -- reconcile [--heal] [--since ISO] [--until ISO] [--local | --env <env>] [--json]`:
 * invokes the reconciler Lambda with `{since, until, heal}` through the Lambda Invoke API — the local
 * cloud's (its endpoint, admin credentials) or a deployed environment's (credentials and region from the
 * environment, as the AWS CLI takes them; the function is the stack's `ReconcilerFunction`) — and prints
 * the run as a table, or with `--json` one JSON object as the last line:
 * `{"reconcile","window","discrepancies":[{kind,system,id,…}],"counts","healed"}`.
 */

export interface ReconcileOptions {
  readonly env?: string;
  readonly since?: string;
  readonly until?: string;
  readonly heal: boolean;
  readonly json: boolean;
}

/** The reconciler of a deployed stack `Omnihub-<env>`: CloudFormation names it `<stack>-ReconcilerFunction…`. */
async function deployedFunction(client: LambdaClient, env: string): Promise<string> {
  const prefix = `Omnihub-${env}-ReconcilerFunction`;
  for await (const page of paginateListFunctions({ client }, {})) {
    const found = page.Functions?.find((fn) => fn.FunctionName?.startsWith(prefix));
    if (found?.FunctionName) return found.FunctionName;
  }
  throw new OpsError(`no function ${prefix}* in this account and region: is Omnihub-${env} deployed here?`);
}

export async function runReconcile(
  options: ReconcileOptions,
): Promise<{ result: ReconcileResult; target: string }> {
  let client: LambdaClient;
  let functionName: string;
  let target: string;
  if (options.env) {
    client = new LambdaClient({});
    functionName = await deployedFunction(client, options.env);
    target = `Omnihub-${options.env}`;
  } else {
    const health = await localHealth();
    functionName = roleName(health, 'reconciler-function');
    client = new LambdaClient({
      endpoint: health.endpoints.aws,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    target = `${health.stack} (local)`;
  }
  try {
    const payload = {
      ...(options.since ? { since: options.since } : {}),
      ...(options.until ? { until: options.until } : {}),
      heal: options.heal,
    };
    const answer = await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    );
    const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
    if (answer.FunctionError) {
      let message = text;
      try {
        const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
        message = `${error.errorType ?? 'Error'}: ${error.errorMessage ?? text}`;
      } catch {
        // not JSON: shown as it is
      }
      throw new OpsError(`the reconciler ${functionName} failed: ${message}`);
    }
    return { result: JSON.parse(text) as ReconcileResult, target };
  } finally {
    client.destroy();
  }
}

const pad = (text: string, width: number) =>
  text.length >= width ? text : text + ' '.repeat(width - text.length);

/** The run as an operator reads it. */
export function formatReconcile(result: ReconcileResult, target: string): string[] {
  const lines = [
    `reconcile ${result.reconcile} on ${target}`,
    `  window  ${result.window.since} → ${result.window.until}`,
    `  read    ${Object.entries(result.read)
      .map(([what, n]) => `${what} ${n}`)
      .join(', ')}`,
    '',
  ];
  if (result.discrepancies.length === 0) {
    lines.push('no discrepancies');
  } else {
    const rows = result.discrepancies.map((d) => [d.kind, d.system, d.id, d.healing ?? '', d.detail]);
    const header = ['kind', 'system', 'id', 'heal', 'detail'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const last = header.length - 1;
    const render = (row: string[]) =>
      row
        .map((cell, i) => (i === last ? cell : pad(cell, widths[i] ?? 0)))
        .join('  ')
        .trimEnd();
    lines.push(render(header), ...rows.map(render));
  }
  lines.push(
    '',
    `counts  ${Object.entries(result.counts)
      .map(([kind, n]) => `${kind} ${n}`)
      .join(', ')}`,
    result.dryRun
      ? 'healed  0 (this environment is dry-run: heal reports only; config reconciliation.heal)'
      : `healed  ${result.healed}`,
  );
  return lines;
}

/** The `--json` line: exactly the documented keys. */
export function reconcileJson(result: ReconcileResult): string {
  return JSON.stringify({
    reconcile: result.reconcile,
    window: result.window,
    discrepancies: result.discrepancies,
    counts: result.counts,
    healed: result.healed,
  });
}
