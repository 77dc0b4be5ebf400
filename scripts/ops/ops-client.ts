import { hostname, userInfo } from 'node:os';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { OpsAnswer } from '#shared/ops/ops-handler.ts';
import type { OpsCommandInput } from '#shared/ops/replay-command.ts';
import { hubUrl, localHealth, OpsError, roleName } from './hub.ts';

/**
 * Where the ops commands act: the local cloud (`--local`, the default) or a deployed environment
 * (`--env <env>`: the stack `Omnihub-<env>`, found by its CloudFormation outputs with the credentials and
 * region of the environment, as the AWS CLI takes them). Both are reached the same way — the ops Lambda by
 * Lambda Invoke (what `aws lambda invoke` calls), the tables with DynamoDB.
 */
export interface OpsTarget {
  readonly label: string;
  readonly functionName: string;
  readonly tables: { readonly trace: string; readonly exceptions: string; readonly audit: string };
  readonly lambda: LambdaClient;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
  /** The local cloud's AWS endpoint (EventBridge DescribeReplay); undefined = the SDK's default. */
  readonly awsEndpoint?: string;
  readonly clientConfig: Record<string, unknown>;
  destroy(): void;
}

/** The stack outputs the ops commands read (infra/flows/operations.ts). */
const OUTPUTS = {
  functionName: 'OpsReplayFunctionName',
  trace: 'TraceTableName',
  exceptions: 'ExceptionsTableName',
  audit: 'OpsAuditTableName',
} as const;

export async function resolveTarget(options: { env?: string | undefined }): Promise<OpsTarget> {
  if (options.env) return deployedTarget(options.env);
  const health = await localHealth();
  const local = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
  const lambda = new LambdaClient({ ...local, endpoint: health.endpoints.aws, maxAttempts: 1 });
  const dynamodb = new DynamoDBClient({ ...local, endpoint: health.endpoints.dynamodb });
  return {
    label: `${health.stack} at ${hubUrl()}`,
    functionName: roleName(health, 'ops-replay-function'),
    tables: {
      trace: roleName(health, 'trace-table'),
      exceptions: roleName(health, 'exceptions-table'),
      audit: roleName(health, 'audit-table'),
    },
    lambda,
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
    awsEndpoint: health.endpoints.aws,
    clientConfig: { ...local, endpoint: health.endpoints.aws },
    destroy: () => {
      lambda.destroy();
      dynamodb.destroy();
    },
  };
}

/**
 * The outputs of the stack `Omnihub-<env>` (DescribeStacks with the environment's credentials and region, as
 * the AWS CLI takes them), and a reader that names a missing output as the operator can act on it.
 */
export async function stackOutputs(
  env: string,
  client: Pick<CloudFormationClient, 'send'> = new CloudFormationClient({}),
): Promise<{ stackName: string; output: (key: string) => string }> {
  const stackName = `Omnihub-${env}`;
  let outputs: Record<string, string>;
  try {
    const answer = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    outputs = Object.fromEntries(
      (answer.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey ?? '', output.OutputValue ?? '']),
    );
  } catch (error) {
    throw new OpsError(
      `cannot read the stack ${stackName} (${(error as Error).name}: ${(error as Error).message}); are the AWS credentials and region those of the ${env} account?`,
    );
  } finally {
    if (client instanceof CloudFormationClient) client.destroy();
  }
  const output = (key: string) => {
    const value = outputs[key];
    if (!value) throw new OpsError(`the stack ${stackName} has no output ${key}: deploy this version first`);
    return value;
  };
  return { stackName, output };
}

async function deployedTarget(env: string): Promise<OpsTarget> {
  const { stackName, output } = await stackOutputs(env);
  const lambda = new LambdaClient({});
  const dynamodb = new DynamoDBClient({});
  return {
    label: stackName,
    functionName: output(OUTPUTS.functionName),
    tables: {
      trace: output(OUTPUTS.trace),
      exceptions: output(OUTPUTS.exceptions),
      audit: output(OUTPUTS.audit),
    },
    lambda,
    dynamodb,
    documents: DynamoDBDocumentClient.from(dynamodb),
    clientConfig: {},
    destroy: () => {
      lambda.destroy();
      dynamodb.destroy();
    },
  };
}

/** Who runs the command, for the audit: `--actor`, else the OS user at this host. */
export function actorOf(explicit: string | undefined): string {
  if (explicit) return explicit;
  let user = process.env.USER ?? 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container): keep $USER.
  }
  return `${user}@${hostname()}`;
}

/** Invokes the ops Lambda with one command (RequestResponse) and answers its JSON answer. */
export async function invokeOps(target: OpsTarget, command: OpsCommandInput): Promise<OpsAnswer> {
  const answer = await target.lambda.send(
    new InvokeCommand({ FunctionName: target.functionName, Payload: JSON.stringify(command) }),
  );
  const text = answer.Payload ? new TextDecoder().decode(answer.Payload) : '';
  if (answer.FunctionError) {
    let message = text;
    try {
      const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      message = `${error.errorType ?? 'Error'}: ${error.errorMessage ?? text}`;
    } catch {
      // Not JSON: shown as it is.
    }
    throw new OpsError(
      `the ops function ${target.functionName} failed (${answer.FunctionError}): ${message}`,
    );
  }
  return JSON.parse(text) as OpsAnswer;
}

/** A one-line progress bar on stderr when it is a terminal (never in --json output). */
export function progress(enabled: boolean) {
  const tty = enabled && process.stderr.isTTY;
  return {
    update(done: number, total: number, label: string) {
      if (!tty) return;
      const width = 30;
      const ratio = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(ratio * width);
      process.stderr.write(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(ratio * 100)).padStart(3)}% ${label}`,
      );
    },
    done() {
      if (tty) process.stderr.write('\n');
    },
  };
}

/** Rows as an aligned text table. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)];
}
