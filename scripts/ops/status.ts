import { groupParked, opsCommand, type ParkedGroup, readParked } from '#local/parked.ts';
import { getJson, hubUrl, type LocalHealth, localDynamo, localHealth } from './hub.ts';

/**
 * `npm run -s ops -- status`: what happened in the running local cloud, per flow, in one place — events
 * published on the bus, messages queued and in flight, what each vendor sandbox holds (orders placed in
 * Shopify and Square, documents booked in NetSuite), and what is parked, with its reason and the command
 * that replays it. `--json` prints the same as one JSON object (tests and scripts read it).
 */
export interface QueueStatus {
  readonly queued: number;
  readonly inFlight: number;
  readonly deadLetters: number;
}

export interface FlowStatus {
  readonly flow: string;
  /** Events this flow published on the bus, by detail-type. */
  readonly published?: Readonly<Record<string, number>>;
  readonly queue?: QueueStatus;
  /** What the vendor sandbox this flow reads from holds (orders placed in Shopify, sales in Square). */
  readonly sandbox?: Readonly<Record<string, number>>;
  /** What this flow booked in the ERP sandbox (NetSuite documents by record type). */
  readonly booked?: Readonly<Record<string, number>>;
  readonly parked: readonly ParkedGroup[];
}

export interface HubStatus {
  readonly url: string;
  readonly stack: string;
  readonly health: string;
  readonly flows: readonly FlowStatus[];
  readonly parked: number;
}

interface QueueRow {
  name: string;
  visible: number;
  inFlight: number;
  isDlq: boolean;
}

/** `Omnihub-dev-ErpOrdersQueueE8EC9F42` and `…ErpOrdersDeadLetterQueue28DF3A0D` → `ErpOrders`. */
const queueBase = (name: string, stack: string) =>
  name
    .replace(`${stack}-`, '')
    .replace(/[A-F0-9]{8}$/, '')
    .replace(/(DeadLetter)?Queue$/, '');

function queueStatus(rows: readonly QueueRow[], stack: string, base: string): QueueStatus | undefined {
  const mine = rows.filter((row) => queueBase(row.name, stack) === base);
  if (mine.length === 0) return undefined;
  const sum = (pick: (row: QueueRow) => number, dlq: boolean) =>
    mine.filter((row) => row.isDlq === dlq).reduce((total, row) => total + pick(row), 0);
  return {
    queued: sum((row) => row.visible, false),
    inFlight: sum((row) => row.inFlight, false),
    deadLetters: sum((row) => row.visible + row.inFlight, true),
  };
}

/** A sandbox's control state, or undefined when that sandbox is not mounted. */
async function sandboxState<T>(url: string, name: string, query: string): Promise<T | undefined> {
  const { status, body } = await getJson<T>(`${url}/_sandbox/${name}/_control/state?${query}`);
  return status === 200 ? body : undefined;
}

export async function collectStatus(url: string = hubUrl()): Promise<HubStatus> {
  const health: LocalHealth = await localHealth(url);
  const [{ body: events }, { body: queues }] = await Promise.all([
    getJson<{ source: string; 'detail-type': string }[]>(`${url}/_local/events`),
    getJson<QueueRow[]>(`${url}/_local/queues`),
  ]);
  const published = (source: string) => {
    const counts: Record<string, number> = {};
    for (const event of events.filter((e) => e.source === source))
      counts[event['detail-type']] = (counts[event['detail-type']] ?? 0) + 1;
    return counts;
  };

  const table = health.roles['exceptions-table'];
  let parked: ParkedGroup[] = [];
  if (table) {
    const { client, documents } = localDynamo(health);
    try {
      parked = groupParked(
        await readParked(documents, table),
        opsCommand(process.env.OMNIHUB_URL ? undefined : process.env.PORT),
      );
    } finally {
      client.destroy();
    }
  }
  const parkedOf = (kind: string) => parked.filter((group) => group.kind === kind);

  const [shopify, square, netsuite] = await Promise.all([
    sandboxState<{ records: { counts: { orders: number; refunds: number } } }>(
      url,
      'shopify',
      'records=none',
    ),
    sandboxState<{ summary: { orders: number; payments: number; refunds: number } }>(
      url,
      'square',
      'limit=1',
    ),
    sandboxState<{ recordCounts: Record<string, number> }>(url, 'netsuite', 'limit=1'),
  ]);

  const stack = health.stack;
  const erpQueue = health.roles['erp-order-queue'];
  const flows: FlowStatus[] = [
    {
      flow: 'shopify ingress',
      published: published('omnihub.shopify'),
      ...(shopify
        ? {
            sandbox: {
              'Shopify orders': shopify.records.counts.orders,
              'Shopify refunds': shopify.records.counts.refunds,
            },
          }
        : {}),
      parked: parkedOf('shopify-webhook'),
    },
    {
      flow: 'pos ingress',
      published: published('omnihub.pos'),
      ...(square
        ? {
            sandbox: {
              'Square orders': square.summary.orders,
              'Square payments': square.summary.payments,
              'Square refunds': square.summary.refunds,
            },
          }
        : {}),
      parked: [...parkedOf('pos-webhook'), ...parkedOf('pos-sweep')],
    },
    {
      flow: 'order capture',
      ...(erpQueue ? { queue: queueStatus(queues, stack, queueBase(erpQueue, stack)) } : {}),
      ...(netsuite
        ? {
            booked: {
              'NetSuite sales orders': netsuite.recordCounts.salesOrder ?? 0,
              'NetSuite cash sales': netsuite.recordCounts.cashSale ?? 0,
            },
          }
        : {}),
      parked: parkedOf('erp-order'),
    },
    {
      flow: 'privacy',
      published: {},
      queue: queueStatus(queues, stack, 'PrivacyRequests'),
      parked: [],
    },
  ];
  // Parked items of a kind no flow above names (a new flow's) are still shown.
  const known = new Set(['shopify-webhook', 'pos-webhook', 'pos-sweep', 'erp-order']);
  const other = parked.filter((group) => !known.has(group.kind));
  if (other.length > 0) flows.push({ flow: 'other', parked: other });
  return {
    url,
    stack,
    health: health.status,
    flows,
    parked: parked.reduce((total, group) => total + group.count, 0),
  };
}

const counts = (record: Readonly<Record<string, number>>) =>
  Object.entries(record)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ') || 'none';

/** The human answer: one block per flow, then the total parked. */
export function formatStatus(status: HubStatus): string[] {
  const lines = [`${status.stack} at ${status.url} (${status.health})`, ''];
  for (const flow of status.flows) {
    lines.push(flow.flow);
    if (flow.published && flow.flow !== 'privacy')
      lines.push(`  events published  ${counts(flow.published)}`);
    if (flow.queue)
      lines.push(
        `  queue             ${flow.queue.queued} queued, ${flow.queue.inFlight} in flight, ${flow.queue.deadLetters} in the DLQ`,
      );
    if (flow.sandbox) lines.push(`  in the sandbox    ${counts(flow.sandbox)}`);
    if (flow.booked) lines.push(`  booked            ${counts(flow.booked)}`);
    const parkedCount = flow.parked.reduce((total, group) => total + group.count, 0);
    lines.push(`  parked            ${parkedCount}`);
    for (const group of flow.parked) {
      lines.push(`    ${group.code} ×${group.count}: ${group.reason}`);
      lines.push(`      replay: ${group.replay}`);
    }
  }
  lines.push('');
  lines.push(
    status.parked === 0
      ? 'nothing parked'
      : `${status.parked} parked in all (each with its id: ${opsCommand(process.env.OMNIHUB_URL ? undefined : process.env.PORT)} exceptions)`,
  );
  return lines;
}

/** Webhooks the Shopify and Square sandboxes have yet to deliver (queued for a retry or on the wire). */
async function sandboxWebhooksPending(url: string): Promise<number> {
  type Counters = { pending: number; inFlight: number };
  const [shopify, square] = await Promise.all([
    sandboxState<{ counters: { webhooks: Counters } }>(url, 'shopify', 'records=none'),
    sandboxState<{ webhooks: Counters }>(url, 'square', 'limit=1'),
  ]);
  const busy = (counters: Counters | undefined) => (counters ? counters.pending + counters.inFlight : 0);
  return busy(shopify?.counters.webhooks) + busy(square?.webhooks);
}

/**
 * `status --wait`: the status once nothing moves — no webhook left in the sandboxes, nothing queued or in
 * flight, and the same counts on two reads a second apart (an event between the bus and its queue shows as a
 * change) — or at the deadline, with `settled: false`. Polls against the deadline; no fixed sleep decides.
 */
export async function settledStatus(
  url: string,
  timeoutMs: number,
): Promise<{ status: HubStatus; settled: boolean }> {
  const deadline = Date.now() + timeoutMs;
  let previous = '';
  for (;;) {
    const [status, webhooks] = await Promise.all([collectStatus(url), sandboxWebhooksPending(url)]);
    const moving =
      webhooks +
      status.flows.reduce(
        (total, flow) => total + (flow.queue ? flow.queue.queued + flow.queue.inFlight : 0),
        0,
      );
    const signature = JSON.stringify(status.flows);
    if (moving === 0 && signature === previous) return { status, settled: true };
    if (Date.now() > deadline) return { status, settled: false };
    previous = moving === 0 ? signature : '';
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
