import { createServer } from 'node:net';

/** A free TCP port on the loopback interface, chosen by the OS. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * A base port with the `count − 1` after it free too, for a local cloud on a fixed port (it takes PORT …
 * PORT+3). Chosen below Linux's ephemeral range (32768+), where the OS hands out ports to outgoing
 * connections and `port 0` listeners — a base taken from there can lose a neighbour to another process.
 */
export async function freePortRange(count = 4): Promise<number> {
  const bind = (p: number) =>
    new Promise<boolean>((resolve) => {
      const server = createServer();
      server.unref();
      server.once('error', () => resolve(false));
      server.listen(p, '127.0.0.1', () => server.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000));
    let free = true;
    for (let offset = 0; offset < count && free; offset++) free = await bind(base + offset);
    if (free) return base;
  }
  throw new Error(`no ${count} consecutive free ports`);
}

/** Polls `probe` until it resolves true or the deadline passes (no fixed sleeps). */
export async function waitFor(
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; intervalMs?: number; what: string },
) {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100));
  }
  throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}`, {
    cause: lastError,
  });
}

/** What `npm start` puts on each of its four ports (PORT … PORT+3). */
export const PORT_ROLES = [
  'PORT: the API, /_local and the sandboxes',
  'PORT+1: the AWS endpoint (Lambda, EventBridge, Step Functions, CloudWatch, Secrets Manager, SSM)',
  'PORT+2: SQS',
  'PORT+3: DynamoDB',
] as const;

/** Whether a TCP port on the loopback interface can be bound now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The first of `base` … `base+3` that is taken, or undefined when all four are free. */
export async function takenPort(base: number): Promise<number | undefined> {
  for (let offset = 0; offset < PORT_ROLES.length; offset++) {
    if (!(await portFree(base + offset))) return base + offset;
  }
  return undefined;
}

/** A base port above `after` whose four ports are free (for the message that suggests one). */
export async function freeBase(after: number): Promise<number | undefined> {
  for (let base = after + 10; base < Math.min(after + 1000, 65_532); base += 10) {
    if ((await takenPort(base)) === undefined) return base;
  }
  return undefined;
}

/** The message for a taken port: which one, what it is for, and the setting that moves all four. */
export async function portInUseMessage(base: number, port: number): Promise<string> {
  const role = PORT_ROLES[port - base] ?? `port ${port}`;
  const suggestion = await freeBase(base);
  return (
    `port ${port} is in use (${role}) — is another npm start running? ` +
    `npm start takes PORT … PORT+3 (PORT=${base} now); start on other ports with ` +
    `${suggestion ? `PORT=${suggestion} npm start` : 'PORT=<n> npm start'}, and point the ops commands at it with the same PORT`
  );
}
