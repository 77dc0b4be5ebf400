export { freePortRange } from '#local/services/ports.ts';

import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Stops a detached `npm start` by signalling its process group (`SIGINT` as a terminal's Ctrl-C, or
 * `SIGTERM`), polls for its exit against `timeoutMs`, and kills the group if it has not exited by then.
 * Answers the exit code (null when it had to be killed).
 */
export async function stopProcessGroup(
  child: ChildProcess | undefined,
  signal: NodeJS.Signals,
  timeoutMs: number,
): Promise<number | null> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return child?.exitCode ?? null;
  process.kill(-child.pid, signal);
  const deadline = Date.now() + timeoutMs;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Gone between the check and the kill.
    }
  }
  return child.exitCode;
}

/**
 * The arguments of package.json's `start` script for `process.execPath` (its leading `node` is this Node):
 * `npm start` as npm runs it, the bootstrap and the runner included — how the process stops on Ctrl-C and
 * which exit code it reports depend on them.
 */
export function npmStartArgs(projectDir: string, extra: readonly string[] = []): string[] {
  const { scripts } = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8')) as {
    scripts: { start: string };
  };
  const [node, ...args] = scripts.start.split(/\s+/);
  if (node !== 'node')
    throw new Error(`package.json start script does not begin with node: ${scripts.start}`);
  return [...args, ...extra];
}
