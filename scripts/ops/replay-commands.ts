import type { OpsAnswer } from '#shared/ops/ops-handler.ts';
import type { DlqMessageSummary } from '#shared/ops/replay.ts';
import type { OpsCommandInput } from '#shared/ops/replay-command.ts';
import { TraceReader } from '#shared/ops/trace.ts';
import { OpsError } from './hub.ts';
import { actorOf, invokeOps, type OpsTarget, progress, resolveTarget, table } from './ops-client.ts';

/** The command line as the ops commands read it (scripts/ops.ts). */
export interface Args {
  readonly positional: () => string[];
  readonly option: (name: string) => string | undefined;
  readonly flag: (name: string) => boolean;
}

async function withTarget(args: Args, run: (target: OpsTarget) => Promise<number>): Promise<number> {
  if (args.flag('local') && args.option('env'))
    throw new OpsError('give either --local or --env <env>, not both');
  const target = await resolveTarget({ env: args.option('env') });
  try {
    return await run(target);
  } finally {
    target.destroy();
  }
}

/** A command as the CLI builds it; the actor is added once, from --actor or the OS user. */
type WithoutActor<T> = T extends unknown ? Omit<T, 'actor'> : never;

/** Runs one command on the ops Lambda; prints the refusal or failure, answers the result. */
async function run(
  target: OpsTarget,
  args: Args,
  command: WithoutActor<OpsCommandInput>,
): Promise<Record<string, unknown> | undefined> {
  const answer: OpsAnswer = await invokeOps(target, {
    ...command,
    actor: actorOf(args.option('actor')),
  } as OpsCommandInput);
  if (answer.status === 'ok') return answer.result;
  if (args.flag('json')) console.log(JSON.stringify(answer));
  else if (answer.status === 'refused') {
    console.error(`refused: ${answer.message}`);
    for (const issue of answer.issues ?? []) console.error(`  ${issue}`);
  } else console.error(`failed (audit ${answer.auditId}): ${answer.message}`);
  return undefined;
}

const since = (iso: string) => {
  const ms = Date.now() - Date.parse(iso);
  return ms < 90_000
    ? `${Math.round(ms / 1000)} s ago`
    : ms < 5_400_000
      ? `${Math.round(ms / 60_000)} min ago`
      : iso;
};

/** `trace <transactionId|shopifyOrderId|webhookId>`: the path of each transaction the id is or names. */
export async function trace(args: Args): Promise<number> {
  const [id] = args.positional();
  if (!id) {
    console.error(
      'usage: npm run -s ops -- trace <transactionId|shopifyOrderId|webhookId> [--env <env> | --local] [--json]',
    );
    return 2;
  }
  return withTarget(args, async (target) => {
    const traces = await new TraceReader(target.documents, target.tables.trace).trace(id);
    if (args.flag('json')) {
      console.log(JSON.stringify({ id, traces }));
      return traces.length ? 0 : 1;
    }
    if (traces.length === 0) {
      console.log(`no trace of ${id} in ${target.label} (checkpoints are kept 14 days)`);
      return 1;
    }
    for (const { transactionId, checkpoints } of traces) {
      console.log(`transaction ${transactionId}`);
      const rows = checkpoints.map((checkpoint) => [
        checkpoint.at,
        checkpoint.step,
        checkpoint.service,
        Object.entries(checkpoint.detail ?? {})
          .map(([key, value]) => `${key}=${String(value)}`)
          .join(' '),
      ]);
      for (const line of table(['time (UTC)', 'step', 'by', 'detail'], rows)) console.log(`  ${line}`);
      // The path leaves out duplicate deliveries (the table shows them).
      const path = checkpoints.filter((checkpoint) => checkpoint.detail?.duplicate !== true);
      console.log(`  path: ${path.map((checkpoint) => checkpoint.step).join(' → ')}`);
    }
    return 0;
  });
}

/** `dlq list | show <queue> | replay <queue>`. */
export async function dlq(args: Args): Promise<number> {
  const [sub, queue] = args.positional();
  const json = args.flag('json');
  return withTarget(args, async (target) => {
    if (sub === 'list' || sub === undefined) {
      const result = await run(target, args, { command: 'dlq-list' });
      if (!result) return 1;
      const queues = result.queues as { name: string; queued: number; inFlight: number; dlq: number }[];
      if (json) console.log(JSON.stringify(result));
      else {
        for (const line of table(
          ['queue', 'queued', 'in flight', 'in DLQ'],
          queues.map((row) => [row.name, String(row.queued), String(row.inFlight), String(row.dlq)]),
        ))
          console.log(line);
      }
      return 0;
    }
    if (!queue || (sub !== 'show' && sub !== 'replay')) {
      console.error(
        'usage: npm run -s ops -- dlq list\n' +
          '       npm run -s ops -- dlq show <queue> [--max n]\n' +
          '       npm run -s ops -- dlq replay <queue> [--transaction <id>] [--detail-type <t>] [--from ISO] [--to ISO] [--dry-run]\n' +
          '       (each [--env <env> | --local] [--json] [--actor <who>])',
      );
      return 2;
    }
    if (sub === 'show') {
      const max = Number(args.option('max') ?? 10);
      const result = await run(target, args, { command: 'dlq-show', queue, max });
      if (!result) return 1;
      if (json) console.log(JSON.stringify(result));
      else printMessages(result.messages as DlqMessageSummary[]);
      return 0;
    }
    const filter = Object.fromEntries(
      Object.entries({
        transactionId: args.option('transaction'),
        detailType: args.option('detail-type'),
        from: args.option('from'),
        to: args.option('to'),
      }).filter(([, value]) => value !== undefined),
    );
    const dryRun = args.flag('dry-run');
    // A long DLQ is moved in slices (one invocation each), with a progress bar, until it is done.
    const listed = await run(target, args, { command: 'dlq-list' });
    const total =
      (listed?.queues as { name: string; dlq: number }[] | undefined)?.find((row) => row.name === queue)
        ?.dlq ?? 0;
    const bar = progress(!json);
    const moved: DlqMessageSummary[] = [];
    for (;;) {
      const result = await run(target, args, { command: 'dlq-redrive', queue, filter, dryRun });
      if (!result) return 1;
      moved.push(...(result.messages as DlqMessageSummary[]));
      bar.update(
        moved.length,
        Math.max(total, moved.length),
        `${moved.length} ${dryRun ? 'would be redriven' : 'redriven'}`,
      );
      if (result.complete || dryRun) break;
    }
    bar.done();
    if (json) console.log(JSON.stringify({ queue, dryRun, redriven: moved.length, messages: moved }));
    else {
      printMessages(moved);
      console.log(
        `${dryRun ? 'would redrive' : 'redrove'} ${moved.length} message(s) from the DLQ of ${queue} to ${queue}`,
      );
    }
    return 0;
  });
}

function printMessages(messages: readonly DlqMessageSummary[]): void {
  for (const line of table(
    ['message', 'sent', 'receives', 'detail-type', 'transaction'],
    messages.map((message) => [
      message.messageId,
      message.sentAt ? since(message.sentAt) : '',
      String(message.receiveCount),
      message.detailType ?? '',
      message.transactionId ?? '',
    ]),
  ))
    console.log(line);
}

/** `exceptions retry [--code <CODE>] [<exceptionId>…]`: parked order events back to their queue. */
export async function exceptionsRetry(args: Args): Promise<number> {
  const ids = args.positional().slice(1);
  const code = args.option('code');
  return withTarget(args, async (target) => {
    const result = await run(target, args, {
      command: 'exceptions-retry',
      ...(code ? { code } : {}),
      ...(ids.length ? { exceptionIds: ids } : {}),
    });
    if (!result) return 1;
    const replayed = result.replayed as string[];
    const skipped = result.skipped as { exceptionId: string; why: string }[];
    const taken = result.alreadyReplayed as string[];
    if (args.flag('json')) console.log(JSON.stringify(result));
    else {
      for (const id of replayed) console.log(`replayed ${id}`);
      for (const entry of skipped) console.log(`skipped ${entry.exceptionId}: ${entry.why}`);
      console.log(
        `replayed ${replayed.length} parked order events${taken.length ? `, ${taken.length} taken by another replay` : ''}`,
      );
    }
    return 0;
  });
}

/** `replay-archive --from ISO --to ISO`: StartReplay of the bus archive's window, then its progress. */
export async function replayArchive(args: Args): Promise<number> {
  const from = args.option('from');
  const to = args.option('to') ?? new Date().toISOString();
  if (!from) {
    console.error(
      'usage: npm run -s ops -- replay-archive --from <ISO> [--to <ISO>] [--no-wait] [--env <env> | --local] [--json]',
    );
    return 2;
  }
  return withTarget(args, async (target) => {
    const result = await run(target, args, { command: 'archive-replay', from, to });
    if (!result) return 1;
    const json = args.flag('json');
    if (!json)
      console.log(
        `replay ${String(result.replayName)} of ${String(result.from)} → ${String(result.to)} started`,
      );
    let state = String(result.state);
    if (!args.flag('no-wait')) {
      const { EventBridgeClient, DescribeReplayCommand } = await import('@aws-sdk/client-eventbridge');
      const events = new EventBridgeClient(target.clientConfig);
      const bar = progress(!json);
      const start = Date.parse(String(result.from));
      const end = Date.parse(String(result.to));
      const deadline = Date.now() + 15 * 60_000;
      try {
        while (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(state) && Date.now() < deadline) {
          const replay = await events.send(
            new DescribeReplayCommand({ ReplayName: String(result.replayName) }),
          );
          state = replay.State ?? state;
          const reached = replay.EventLastReplayedTime?.getTime() ?? start;
          bar.update(reached - start, end - start, state);
          if (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(state))
            await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      } finally {
        bar.done();
        events.destroy();
      }
    }
    if (json) console.log(JSON.stringify({ ...result, state }));
    else console.log(`replay ${String(result.replayName)}: ${state}`);
    return state === 'FAILED' ? 1 : 0;
  });
}
