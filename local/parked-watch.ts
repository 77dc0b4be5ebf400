import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { groupParked, opsCommand, type ParkedItem, readParked } from './parked.ts';

/**
 * `npm start`'s console line when something is parked. The local cloud watches the stack's exceptions
 * table from outside (the same table and reads an operator has), so the functions stay as deployed: no
 * local branch in `functions/` or `shared/`. At most one line per `intervalMs`, however many items park;
 * the line names the reason and the command that replays them, and `ops status` lists everything.
 */
export interface ParkedWatch {
  stop(): Promise<void>;
}

export function watchParked(options: {
  dynamodbEndpoint: string;
  table: string;
  say: (line: string) => void;
  /** How often the table is read (default 2 s). */
  pollMs?: number;
  /** At most one line per this many milliseconds (default 10 s). */
  intervalMs?: number;
  /** How the ops commands are run against this cloud (`PORT=3010 npm run -s ops --`); see opsCommand. */
  ops?: string;
}): ParkedWatch {
  const client = new DynamoDBClient({
    endpoint: options.dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const documents = DynamoDBDocumentClient.from(client);
  const intervalMs = options.intervalMs ?? 10_000;
  const ops = options.ops ?? opsCommand(undefined);
  const seen = new Set<string>();
  let pending: ParkedItem[] = [];
  let first = true;
  let lastLine = 0;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;

  const tick = async () => {
    const parked = await readParked(documents, options.table);
    const fresh = parked.filter((item) => !seen.has(item.exceptionId));
    for (const item of fresh) seen.add(item.exceptionId);
    if (first) {
      first = false;
      // Items parked before this start (state kept across restarts) are announced once, as such.
      if (fresh.length > 0) {
        options.say(
          `omnihub: ${fresh.length} input(s) still parked from before this start; list them with ${ops} status`,
        );
        lastLine = Date.now();
      }
      return;
    }
    pending.push(...fresh);
    if (pending.length === 0 || Date.now() - lastLine < intervalMs) return;
    const groups = groupParked(pending, ops);
    const [top] = groups.sort((a, b) => b.count - a.count);
    if (!top) return;
    const more = groups.length > 1 ? ` (+${pending.length - top.count} more of other kinds)` : '';
    options.say(
      `omnihub: PARKED ${pending.length} new: ${top.kind} ${top.code} ×${top.count} — ${top.reason}${more}. Replay: ${top.replay}; details: ${ops} status`,
    );
    pending = [];
    lastLine = Date.now();
  };

  const timer = setInterval(() => {
    running = running.then(() => (stopped ? undefined : tick().catch(() => undefined)));
  }, options.pollMs ?? 2_000);
  timer.unref();
  // The first read at once: items kept from the last run are known before anything new parks.
  running = tick().catch(() => undefined);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      client.destroy();
    },
  };
}
