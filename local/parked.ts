import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';

/**
 * What is parked in a local cloud's exceptions table, read as an operator would: every item whose status
 * is PARKED, whatever its kind (the table's partition), with its code and reason. Shared by `npm start`'s
 * console line (local/parked-watch.ts) and `npm run -s ops -- status`.
 */
export interface ParkedItem {
  readonly kind: string;
  readonly exceptionId: string;
  readonly code: string;
  readonly reason: string;
  readonly parkedAt: string;
}

/** Scans the table (payload parts are items without a status and are skipped). */
export async function readParked(documents: DynamoDBDocumentClient, table: string): Promise<ParkedItem[]> {
  const out: ParkedItem[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(
      new ScanCommand({
        TableName: table,
        ProjectionExpression: 'pk, sk, code, reason, parkedAt',
        FilterExpression: '#status = :parked',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':parked': 'PARKED' },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) {
      const kind = String(item.pk).replace(/^EXC#/, '');
      out.push({
        kind,
        exceptionId: `${kind}/${String(item.sk)}`,
        code: String(item.code ?? 'UNKNOWN'),
        reason: String(item.reason ?? ''),
        parkedAt: String(item.parkedAt ?? ''),
      });
    }
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out.sort((a, b) => a.parkedAt.localeCompare(b.parkedAt));
}

/**
 * What to run once the cause of a parked item is fixed. Order events the ERP sync parked go back on the
 * ERP order queue (`replay-orders`); a parked webhook has no replay command yet: the vendor's own
 * redelivery (Shopify's "resend", Square's retry) brings it back, or it is dismissed with a reason.
 */
export function replayCommand(kind: string, code: string, ops = 'npm run -s ops --'): string {
  if (kind === 'erp-order') return `${ops} replay-orders --code ${code}`;
  return `no replay command for webhooks yet: fix the cause and resend it from the vendor, or ${ops} dismiss <id> --reason <why>`;
}

/** How the ops commands are run against a local cloud on `port` (PORT= is needed when it is not 3000). */
export const opsCommand = (port: number | string | undefined): string =>
  `${port === undefined || String(port) === '3000' ? '' : `PORT=${port} `}npm run -s ops --`;

/** Groups of parked items by kind and code: count, the latest reason, the replay command. */
export interface ParkedGroup {
  readonly kind: string;
  readonly code: string;
  readonly count: number;
  readonly reason: string;
  readonly replay: string;
  readonly exceptionIds: readonly string[];
}

export function groupParked(items: readonly ParkedItem[], ops?: string): ParkedGroup[] {
  const groups = new Map<string, ParkedItem[]>();
  for (const item of items) {
    const key = `${item.kind}\u0000${item.code}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  return [...groups.values()].map((group) => {
    const latest = group[group.length - 1] as ParkedItem;
    return {
      kind: latest.kind,
      code: latest.code,
      count: group.length,
      reason: latest.reason,
      replay: replayCommand(latest.kind, latest.code, ops),
      exceptionIds: group.map((item) => item.exceptionId),
    };
  });
}
