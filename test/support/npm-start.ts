export { freePortRange } from '#local/services/ports.ts';

import type { ChildProcess } from 'node:child_process';

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
