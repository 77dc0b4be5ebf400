import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

/** A base port with the three after it free too (`npm start` takes PORT … PORT+3). */
export async function freePortRange(): Promise<number> {
  const bind = (p: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    let free = true;
    for (let offset = 0; offset < 4 && free; offset++) free = await bind(base + offset);
    if (free) return base;
  }
  throw new Error('no four consecutive free ports');
}

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
