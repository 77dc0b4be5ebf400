import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { queryAll } from './query.ts';

/** DynamoDB items are capped at 400 KB; a payload part stays well below with its attributes. */
const PART_BYTES = 350 * 1024;

/** How long a resolved (replayed or dismissed) exception is kept before DynamoDB's TTL deletes it. */
export const DEFAULT_RESOLVED_RETENTION_DAYS = 30;

/**
 * The exceptions table's index by subject account (`<system>#<account>`, e.g.
 * `shopify#acme.myshopify.com`): what a redaction request reads to find the inputs parked for a shop,
 * its customers and orders. It projects the keys and `subjects` only — never a payload, so the index
 * is no second copy of personal data.
 */
export const EXCEPTION_SUBJECT_INDEX = {
  indexName: 'BySubjectAccount',
  partitionKey: 'subjectAccount',
  projected: ['subjects'],
} as const;

/** Whose data an input is: the account it came from and, where known, the orders and customer. */
export interface ParkedSubjects {
  readonly system: 'shopify' | 'pos';
  /** Shop domain or POS merchant id. */
  readonly account: string;
  readonly orderIds?: readonly string[];
  readonly customerIds?: readonly string[];
}

/** An input the hub could not process as it is, kept with its reason until it is fixed and replayed. */
export interface ParkedInput {
  /** What kind of input: `shopify-webhook`, `erp-order`, … (the table's partition). */
  readonly kind: string;
  /** Stable id of the input (e.g. the webhook id), so that parking twice overwrites, never duplicates. */
  readonly inputId: string;
  /** Sort time: the source's time where it has one, so that retries of one input land on one item. */
  readonly at: string;
  readonly code: string;
  readonly reason: string;
  readonly issues: readonly string[];
  readonly transactionId: string;
  /** What a replay needs besides the payload (topic, shop, API version, headers). */
  readonly attributes: Readonly<Record<string, string>>;
  readonly payload: Buffer;
  /** Whose data the payload holds, so that a redaction request finds it. @default not findable by subject */
  readonly subjects?: ParkedSubjects;
}

export interface ExceptionStore {
  park(input: ParkedInput): Promise<{ exceptionId: string }>;
}

export type ExceptionStatus = 'PARKED' | 'REPLAYED' | 'DISMISSED';

/** A parked input as read back for a replay or a redaction. */
export interface ParkedException {
  readonly kind: string;
  /** `<at>#<inputId>`: the item's sort key. */
  readonly sk: string;
  readonly exceptionId: string;
  readonly inputId: string;
  /** PARKED until resolved: REPLAYED or DISMISSED (then it expires, see {@link resolvedExpiry}). */
  readonly status: ExceptionStatus;
  readonly code: string;
  readonly reason: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly replayCount: number;
  /** When it was (last) parked: a redaction rewrites the payload only if the item is still this one. */
  readonly parkedAt: string;
  readonly payload: Buffer;
}

/** Where an exception is: enough to read, redact or delete it. */
export interface ExceptionRef {
  readonly kind: string;
  readonly sk: string;
  readonly exceptionId: string;
}

/** Epoch seconds (DynamoDB TTL) `retentionDays` after `now`. */
export function resolvedExpiry(retentionDays: number, now: Date = new Date()): number {
  return Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400);
}

const subjectAccount = (subjects: ParkedSubjects) => `${subjects.system}#${subjects.account}`;

/** `order#<id>`, `customer#<id>`: one list a filter can match whichever id a request names. */
function subjectTags(subjects: Pick<ParkedSubjects, 'orderIds' | 'customerIds'>): string[] {
  return [
    ...new Set([
      ...(subjects.orderIds ?? []).map((id) => `order#${id}`),
      ...(subjects.customerIds ?? []).map((id) => `customer#${id}`),
    ]),
  ];
}

const exceptionId = (kind: string, sk: string) => `${kind}/${sk}`;
const pkOf = (kind: string) => `EXC#${kind}`;
const partKey = (sk: string, index: number) => `${sk}#part#${index}`;

/**
 * Exceptions table (`pk = EXC#<kind>`, `sk = <at>#<inputId>`). The payload is stored gzip-compressed:
 * DynamoDB items are capped at 400 KB and webhook bodies compress about tenfold. An item is kept while
 * PARKED; once resolved (replayed or dismissed) it gets `expiresAt` and DynamoDB's TTL deletes it.
 * Parked inputs whose subjects are known carry `subjectAccount` and `subjects`, which the
 * {@link EXCEPTION_SUBJECT_INDEX} indexes.
 */
export class DynamoExceptionStore implements ExceptionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async park(input: ParkedInput): Promise<{ exceptionId: string }> {
    const sk = `${input.at}#${input.inputId}`;
    const pk = pkOf(input.kind);
    const stored = await this.writePayload(pk, sk, input.payload);
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          pk,
          sk,
          kind: input.kind,
          inputId: input.inputId,
          status: 'PARKED',
          code: input.code,
          reason: input.reason,
          issues: [...input.issues],
          transactionId: input.transactionId,
          attributes: { ...input.attributes },
          ...stored,
          parkedAt: new Date().toISOString(),
          replayCount: 0,
          ...(input.subjects
            ? { subjectAccount: subjectAccount(input.subjects), subjects: subjectTags(input.subjects) }
            : {}),
        },
      }),
    );
    return { exceptionId: exceptionId(input.kind, sk) };
  }

  /** The exceptions of a kind still parked (not yet replayed), oldest first, with their payloads. */
  async listParked(kind: string): Promise<ParkedException[]> {
    const out: ParkedException[] = [];
    for await (const item of queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      FilterExpression: '#status = :parked',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': pkOf(kind), ':parked': 'PARKED' },
    })) {
      out.push(await this.read(kind, item));
    }
    return out;
  }

  /**
   * The exceptions, whatever their status, parked for an account (`system`, `account`) — all of them,
   * or with `match`, those about one of its orders or customers. Reads the subject index (keys and
   * subject tags only) and compares in code: an order list can be longer than a filter expression.
   */
  async findBySubject(
    system: ParkedSubjects['system'],
    account: string,
    match?: Pick<ParkedSubjects, 'orderIds' | 'customerIds'>,
  ): Promise<ExceptionRef[]> {
    const wanted = match ? new Set(subjectTags(match)) : undefined;
    const out: ExceptionRef[] = [];
    for await (const item of queryAll(this.client, {
      TableName: this.tableName,
      IndexName: EXCEPTION_SUBJECT_INDEX.indexName,
      KeyConditionExpression: '#account = :account',
      ExpressionAttributeNames: { '#account': EXCEPTION_SUBJECT_INDEX.partitionKey },
      ExpressionAttributeValues: { ':account': subjectAccount({ system, account }) },
    })) {
      const tags = Array.isArray(item.subjects) ? (item.subjects as string[]) : [];
      if (wanted && !tags.some((tag) => wanted.has(tag))) continue;
      const kind = String(item.pk).slice('EXC#'.length);
      const sk = String(item.sk);
      out.push({ kind, sk, exceptionId: exceptionId(kind, sk) });
    }
    return out;
  }

  /** One exception with its payload, read consistently; undefined when it is gone. */
  async get(kind: string, sk: string): Promise<ParkedException | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: pkOf(kind), sk }, ConsistentRead: true }),
    );
    return result.Item ? this.read(kind, result.Item) : undefined;
  }

  /**
   * Replaces an exception's payload with a redacted one, keeping its status, reason and expiry. Only
   * the item that was read is rewritten: if it was parked again meanwhile (`parkedAt` changed), nothing
   * is written to it and false comes back — read it again and redact the new payload.
   */
  async replacePayload(
    exception: ParkedException,
    payload: Buffer,
    redaction: { readonly by: string; readonly at: string },
  ): Promise<boolean> {
    const pk = pkOf(exception.kind);
    const before = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk: exception.sk }, ConsistentRead: true }),
    );
    const oldParts = typeof before.Item?.payloadParts === 'number' ? before.Item.payloadParts : 0;
    // Parts exist only for payloads over 350 KB compressed (a 1 MiB webhook body compresses far below);
    // a redacted payload is smaller than its original and is rewritten over the same part keys.
    const stored = await this.writePayload(pk, exception.sk, payload);
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: exception.sk },
          UpdateExpression:
            'payload' in stored
              ? 'SET payload = :payload, payloadEncoding = :encoding, redactedAt = :at, redactedBy = :by REMOVE payloadParts'
              : 'SET payloadParts = :parts, payloadEncoding = :encoding, redactedAt = :at, redactedBy = :by REMOVE payload',
          ConditionExpression: 'parkedAt = :parkedAt',
          ExpressionAttributeValues: {
            ...('payload' in stored ? { ':payload': stored.payload } : { ':parts': stored.payloadParts }),
            ':encoding': stored.payloadEncoding,
            ':at': redaction.at,
            ':by': redaction.by,
            ':parkedAt': exception.parkedAt,
          },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    const newParts = 'payloadParts' in stored ? stored.payloadParts : 0;
    await this.deleteParts(pk, exception.sk, newParts, oldParts);
    return true;
  }

  /** Deletes an exception and its payload parts (parts first: the item never points at missing parts). */
  async delete(kind: string, sk: string): Promise<void> {
    const pk = pkOf(kind);
    const item = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk, sk }, ConsistentRead: true }),
    );
    if (!item.Item) return;
    const parts = typeof item.Item.payloadParts === 'number' ? item.Item.payloadParts : 0;
    await this.deleteParts(pk, sk, 0, parts);
    await this.client.send(new DeleteCommand({ TableName: this.tableName, Key: { pk, sk } }));
  }

  /**
   * Marks a parked exception replayed — once: of two concurrent replays of one exception only one gets
   * true, so a replay never sends an input twice. It is resolved then: `expiresAt` (epoch seconds) lets
   * DynamoDB's TTL delete it. `revert` puts it back to PARKED (kept, no expiry) when the re-send failed.
   */
  async markReplayed(
    kind: string,
    sk: string,
    options: { readonly revert?: boolean; readonly expiresAt?: number } = {},
  ): Promise<boolean> {
    const [from, to]: [ExceptionStatus, ExceptionStatus] = options.revert
      ? ['REPLAYED', 'PARKED']
      : ['PARKED', 'REPLAYED'];
    return this.transition(kind, sk, from, to, {
      update: options.revert
        ? 'SET #status = :to REMOVE expiresAt, resolvedAt ADD replayCount :minus'
        : `SET #status = :to, replayedAt = :at, resolvedAt = :at${options.expiresAt === undefined ? '' : ', expiresAt = :expires'} ADD replayCount :one`,
      values: options.revert
        ? { ':minus': -1 }
        : {
            ':one': 1,
            ':at': new Date().toISOString(),
            ...(options.expiresAt === undefined ? {} : { ':expires': options.expiresAt }),
          },
    });
  }

  /**
   * Resolves a parked exception without a replay (it needs none, or it was handled outside the hub),
   * saying why. Like a replay, it then expires at `expiresAt`. False when it is no longer parked.
   */
  async markDismissed(
    kind: string,
    sk: string,
    dismissal: { readonly reason: string; readonly expiresAt: number },
  ): Promise<boolean> {
    return this.transition(kind, sk, 'PARKED', 'DISMISSED', {
      update: 'SET #status = :to, dismissedReason = :reason, resolvedAt = :at, expiresAt = :expires',
      values: {
        ':reason': dismissal.reason,
        ':at': new Date().toISOString(),
        ':expires': dismissal.expiresAt,
      },
    });
  }

  private async transition(
    kind: string,
    sk: string,
    from: ExceptionStatus,
    to: ExceptionStatus,
    change: { readonly update: string; readonly values: Record<string, unknown> },
  ): Promise<boolean> {
    let parts: number;
    let expiresAt: unknown;
    try {
      const updated = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: pkOf(kind), sk },
          UpdateExpression: change.update,
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':from': from, ':to': to, ...change.values },
          ReturnValues: 'ALL_NEW',
        }),
      );
      parts = typeof updated.Attributes?.payloadParts === 'number' ? updated.Attributes.payloadParts : 0;
      expiresAt = updated.Attributes?.expiresAt;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
    // A payload too big for one item lives in part items: they expire with the exception (TTL), or stop
    // expiring when it is parked again — a resolved raw order must not outlive its retention in pieces.
    // They take the exception's own expiry as the update left it (whatever the caller named it).
    for (let index = 0; index < parts; index += 1) {
      await this.client
        .send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { pk: pkOf(kind), sk: partKey(sk, index) },
            ...(typeof expiresAt === 'number'
              ? {
                  UpdateExpression: 'SET expiresAt = :expires',
                  ExpressionAttributeValues: { ':expires': expiresAt },
                }
              : { UpdateExpression: 'REMOVE expiresAt' }),
            ConditionExpression: 'attribute_exists(pk)',
          }),
        )
        // A part already gone (a redaction rewrote the payload) is nothing to expire.
        .catch((error: unknown) => {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
        });
    }
    return true;
  }

  /**
   * Compresses a payload; one too big for one item (rare: JSON compresses ~10×) goes into numbered part
   * items first, so the main item never points at parts that were not written. Answers the attributes
   * the main item takes.
   */
  private async writePayload(
    pk: string,
    sk: string,
    payload: Buffer,
  ): Promise<
    { payloadEncoding: 'gzip'; payload: Buffer } | { payloadEncoding: 'gzip'; payloadParts: number }
  > {
    // zlib is loaded when something is parked, not in every cold start of the functions that may park.
    const { gzipSync } = await import('node:zlib');
    const compressed = gzipSync(payload);
    const parts = Math.ceil(compressed.length / PART_BYTES);
    if (parts <= 1) return { payloadEncoding: 'gzip', payload: compressed };
    for (let index = 0; index < parts; index += 1) {
      const part = compressed.subarray(index * PART_BYTES, (index + 1) * PART_BYTES);
      await this.client.send(
        new PutCommand({ TableName: this.tableName, Item: { pk, sk: partKey(sk, index), payload: part } }),
      );
    }
    return { payloadEncoding: 'gzip', payloadParts: parts };
  }

  /** Deletes the part items numbered `from` (inclusive) to `to` (exclusive). */
  private async deleteParts(pk: string, sk: string, from: number, to: number): Promise<void> {
    for (let index = from; index < to; index += 1) {
      await this.client.send(
        new DeleteCommand({ TableName: this.tableName, Key: { pk, sk: partKey(sk, index) } }),
      );
    }
  }

  private async read(kind: string, item: Record<string, unknown>): Promise<ParkedException> {
    const sk = String(item.sk);
    let compressed: Uint8Array;
    if (typeof item.payloadParts === 'number') {
      const parts: Uint8Array[] = [];
      for (let index = 0; index < item.payloadParts; index += 1) {
        const part = await this.client.send(
          new GetCommand({
            TableName: this.tableName,
            Key: { pk: pkOf(kind), sk: partKey(sk, index) },
          }),
        );
        parts.push(part.Item?.payload as Uint8Array);
      }
      compressed = Buffer.concat(parts);
    } else {
      compressed = item.payload as Uint8Array;
    }
    const { gunzipSync } = await import('node:zlib');
    return {
      kind,
      sk,
      exceptionId: exceptionId(kind, sk),
      inputId: String(item.inputId),
      status: item.status as ExceptionStatus,
      code: String(item.code),
      reason: String(item.reason),
      attributes: (item.attributes ?? {}) as Record<string, string>,
      replayCount: Number(item.replayCount ?? 0),
      parkedAt: String(item.parkedAt),
      payload: gunzipSync(compressed),
    };
  }
}
