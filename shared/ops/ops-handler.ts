import * as z from 'zod';
import { jsonVariable } from '../runtime/env.ts';
import type { LogSink } from '../runtime/observability.ts';
import type { AuditLog } from './audit.ts';
import { OpsCommandError, type ReplayDeps, ReplayQueueSchema, runOpsCommand } from './replay.ts';
import { OpsCommandSchema } from './replay-command.ts';

const name = z.string().min(1);

/** The ops-replay function's environment, as the Operations flow sets it. */
export const OpsReplayEnvSchema = z.object({
  AUDIT_TABLE_NAME: name,
  EXCEPTIONS_TABLE_NAME: name,
  TRACE_TABLE_NAME: name,
  REPLAY_QUEUES: jsonVariable(z.array(ReplayQueueSchema)),
  EXCEPTION_QUEUES: jsonVariable(z.record(z.string(), z.string().min(1))),
  ARCHIVE_ARN: name,
  EVENT_BUS_ARN: name,
  STATE_MACHINE_ARNS: jsonVariable(z.array(z.string().min(1))),
  RESOLVED_RETENTION_DAYS: z.coerce.number().positive(),
});
export type OpsReplayEnv = z.infer<typeof OpsReplayEnvSchema>;

/** What the ops Lambda answers: always a JSON document, never a bare error (the CLI prints it). */
export type OpsAnswer =
  | {
      readonly status: 'ok';
      readonly command: string;
      readonly auditId: string;
      readonly result: Record<string, unknown>;
    }
  | { readonly status: 'refused'; readonly message: string; readonly issues?: readonly string[] }
  | {
      readonly status: 'failed';
      readonly command: string;
      readonly auditId: string;
      readonly message: string;
    };

/**
 * One operator command: validated, audited (who, what, when, then the result), run. A refused command is
 * audited too when it names an actor, so a probe of the ops function leaves a row.
 */
export async function handleOpsCommand(
  input: unknown,
  deps: ReplayDeps & { readonly audit: AuditLog; readonly log: LogSink; readonly requestId?: string },
): Promise<OpsAnswer> {
  const parsed = OpsCommandSchema.safeParse(input);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    deps.log.warn('ops command refused', { issues });
    return { status: 'refused', message: 'not a valid ops command', issues };
  }
  const command = parsed.data;
  const key = await deps.audit.start({
    actor: command.actor,
    command: command.command,
    request: command,
    ...(deps.requestId ? { requestId: deps.requestId } : {}),
  });
  deps.log.info('ops command', { command: command.command, actor: command.actor, auditId: key.auditId });
  try {
    const result = await runOpsCommand(command, deps);
    await deps.audit.finish(key, 'SUCCEEDED', result);
    return { status: 'ok', command: command.command, auditId: key.auditId, result };
  } catch (error) {
    const message = `${(error as Error).name}: ${(error as Error).message}`;
    await deps.audit.finish(key, 'FAILED', { error: message });
    if (error instanceof OpsCommandError) {
      return { status: 'failed', command: command.command, auditId: key.auditId, message: error.message };
    }
    deps.log.error('ops command failed', {
      command: command.command,
      auditId: key.auditId,
      error: error as Error,
    });
    return { status: 'failed', command: command.command, auditId: key.auditId, message };
  }
}
