import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ErpLineKeys } from '../ports/erp.ts';

/** What the hub last wrote to the ERP for one source order. */
export interface LedgerEntry {
  readonly orderKey: string;
  readonly erpInternalId: string;
  readonly externalId: string;
  readonly recordType: string;
  /** Source version applied (epoch ms of the order's updatedAt); older versions are ignored. */
  readonly version: number;
  readonly status: 'open' | 'cancelled' | 'closed';
  readonly syncedAt: string;
  readonly transactionId: string;
  readonly staleIgnored: number;
  /** Digest of the synced content: tells a duplicate from a same-second change (absent on old entries). */
  readonly contentDigest?: string;
  /** The ERP's key of every document line the hub booked, by the hub's line key (absent on old entries). */
  readonly erpLines?: ErpLineKeys;
  /** The document's total as the ERP read it back (what finance compares payouts with; absent on old entries). */
  readonly total?: { readonly amount: number; readonly currency: string };
}

/** What taking an order's lease answers: what was synced, and the document's line keys. */
export interface LeaseState {
  readonly entry: LedgerEntry | undefined;
  /**
   * Line keys of the ERP document, also when no version was synced (a write whose read-back was parked,
   * e.g. for a total mismatch): the document's lines exist in the ERP either way.
   */
  readonly erpLines: ErpLineKeys;
}

const linesOf = (item: Record<string, unknown> | undefined): ErpLineKeys => {
  const lines = item?.erpLines;
  if (typeof lines !== 'object' || lines === null) return {};
  return Object.fromEntries(Object.entries(lines).map(([key, value]) => [key, String(value)]));
};

/** Later states win a tie on the source time: a cancellation in the same second as an edit is newer. */
const STATUS_RANK: Readonly<Record<LedgerEntry['status'], number>> = { open: 0, closed: 1, cancelled: 2 };

export type SyncVersion = Pick<LedgerEntry, 'version' | 'status' | 'contentDigest'>;

/**
 * How an incoming change compares with what was synced. Order: the source time (Shopify's `updated_at`
 * has second precision), then the status (open < closed < cancelled). Same time and status: the same
 * content is a duplicate; other content is a same-second change the source does not order — it is
 * applied (the last one synced wins) rather than dropped.
 */
export function compareToSynced(incoming: SyncVersion, synced: SyncVersion): 'newer' | 'older' | 'same' {
  if (incoming.version !== synced.version) return incoming.version > synced.version ? 'newer' : 'older';
  const rank = STATUS_RANK[incoming.status] - STATUS_RANK[synced.status];
  if (rank !== 0) return rank > 0 ? 'newer' : 'older';
  return incoming.contentDigest !== undefined && incoming.contentDigest === synced.contentDigest
    ? 'same'
    : 'newer';
}

/** The partition key prefix of the ERP sync state: order sync may write these partitions and no other. */
export const ORDER_KEY_PREFIX = 'ORDER#';

/** `ORDER#<system>#<account>#<orderId>`: one ledger partition per source order. */
export function orderKey(system: string, account: string, orderId: string): string {
  return `${ORDER_KEY_PREFIX}${system}#${account}#${orderId}`;
}

/** The ledger entry an item holds; undefined for no item, or one that holds only a lease. */
function entryOf(key: string, item: Record<string, unknown> | undefined): LedgerEntry | undefined {
  if (!item || item.version === undefined) return undefined;
  return {
    orderKey: key,
    erpInternalId: String(item.erpInternalId),
    externalId: String(item.externalId),
    recordType: String(item.recordType),
    version: Number(item.version),
    status: item.status as LedgerEntry['status'],
    syncedAt: String(item.syncedAt),
    transactionId: String(item.transactionId),
    staleIgnored: Number(item.staleIgnored ?? 0),
    ...(typeof item.contentDigest === 'string' ? { contentDigest: item.contentDigest } : {}),
    ...(item.erpLines !== undefined ? { erpLines: linesOf(item) } : {}),
    ...(typeof item.totalMinor === 'number' && typeof item.totalCurrency === 'string'
      ? { total: { amount: item.totalMinor, currency: item.totalCurrency } }
      : {}),
  };
}

/**
 * The sync ledger (`pk = ORDER#…`, `sk = ERP`): per order, what was synced to the ERP, with the source
 * version, so that reconciliation and tracing can find it from either side, and so that an update
 * older than what the ERP has is recognised. Writes are conditional on the version: a stale or
 * concurrent older write never overwrites a newer one.
 */
export class LedgerRepository {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(key: string): Promise<LedgerEntry | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: key, sk: 'ERP' }, ConsistentRead: true }),
    );
    return entryOf(key, result.Item);
  }

  /**
   * Records a sync of `version`. Returns false (and writes nothing) when the ledger already holds a
   * newer change or this very one (see {@link compareToSynced}) — the caller's write was stale.
   */
  async recordSync(
    entry: Omit<LedgerEntry, 'staleIgnored' | 'syncedAt'> & { readonly syncedAt?: string },
    /** The lease holder: the same write releases its lease (and happens only while it holds it). */
    leaseOwner?: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: entry.orderKey, sk: 'ERP' },
          UpdateExpression: `SET erpInternalId = :internal, externalId = :external, recordType = :type, version = :version, #status = :status, statusRank = :rank, contentDigest = :digest, syncedAt = :at, transactionId = :tx${entry.erpLines === undefined ? '' : ', erpLines = :lines'}${entry.total === undefined ? '' : ', totalMinor = :totalMinor, totalCurrency = :totalCurrency'}${leaseOwner === undefined ? '' : ' REMOVE leaseOwner, leaseUntil'}`,
          ConditionExpression: `(attribute_not_exists(version) OR version < :version OR (version = :version AND (attribute_not_exists(statusRank) OR statusRank < :rank OR (statusRank = :rank AND (attribute_not_exists(contentDigest) OR contentDigest <> :digest)))))${leaseOwner === undefined ? '' : ' AND leaseOwner = :owner'}`,
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':internal': entry.erpInternalId,
            ':external': entry.externalId,
            ':type': entry.recordType,
            ':version': entry.version,
            ':status': entry.status,
            ':rank': STATUS_RANK[entry.status],
            ':digest': entry.contentDigest ?? '',
            ':at': entry.syncedAt ?? new Date().toISOString(),
            ':tx': entry.transactionId,
            ...(entry.erpLines === undefined ? {} : { ':lines': entry.erpLines }),
            ...(entry.total === undefined
              ? {}
              : { ':totalMinor': entry.total.amount, ':totalCurrency': entry.total.currency }),
            ...(leaseOwner === undefined ? {} : { ':owner': leaseOwner }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records where a write left the ERP document — its ids and line keys — without recording a synced
   * version, while `leaseOwner` holds the lease: for a write that reached the ERP but was parked (its
   * total read back did not match), so that the replay after the fix updates the same lines instead of
   * adding them again. Returns false when the lease was lost.
   */
  async recordLines(
    key: string,
    document: { readonly erpInternalId: string; readonly externalId: string; readonly recordType: string },
    lines: ErpLineKeys,
    leaseOwner: string,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key, sk: 'ERP' },
          UpdateExpression:
            'SET erpInternalId = :internal, externalId = :external, recordType = :type, erpLines = :lines',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: {
            ':internal': document.erpInternalId,
            ':external': document.externalId,
            ':type': document.recordType,
            ':lines': lines,
            ':owner': leaseOwner,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Counts an update that arrived older than the synced version (visible to reconciliation). */
  async recordStale(key: string, version: number): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: key, sk: 'ERP' },
        UpdateExpression: 'ADD staleIgnored :one SET lastStaleVersion = :version, lastStaleAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1, ':version': version, ':at': new Date().toISOString() },
      }),
    );
  }

  /**
   * Takes the order's lease — attributes on the order's ledger item — so that only one consumer at a
   * time moves this order through ledger check → ERP write → ledger write; otherwise an older version's
   * ERP write could land after a newer one. The lease expires by itself after `ttlMs`, so a crashed
   * holder never blocks the order. One round trip: the answer carries what was synced (the entry), and
   * {@link recordSync} with the owner releases it in the same write as the sync.
   * Returns false when another owner holds the lease.
   */
  async acquire(key: string, owner: string, ttlMs: number): Promise<LeaseState | false> {
    const now = Date.now();
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key, sk: 'ERP' },
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + ttlMs, ':now': now },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { entry: entryOf(key, result.Attributes), erpLines: linesOf(result.Attributes) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Gives the lease up (when the sync did not, e.g. after parking); a no-op unless `owner` holds it. */
  async release(key: string, owner: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key, sk: 'ERP' },
          UpdateExpression: 'REMOVE leaseOwner, leaseUntil',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
}
