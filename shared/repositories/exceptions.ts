import { gunzipSync, gzipSync } from 'node:zlib';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';

/** DynamoDB items are capped at 400 KB; a payload part stays well below with its attributes. */
const PART_BYTES = 350 * 1024;

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
}

export interface ExceptionStore {
  park(input: ParkedInput): Promise<{ exceptionId: string }>;
}

/** A parked input as read back for a replay. */
export interface ParkedException {
  readonly kind: string;
  /** `<at>#<inputId>`: the item's sort key. */
  readonly sk: string;
  readonly exceptionId: string;
  readonly inputId: string;
  readonly status: 'PARKED' | 'REPLAYED';
  readonly code: string;
  readonly reason: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly replayCount: number;
  readonly payload: Buffer;
}

/**
 * Exceptions table (`pk = EXC#<kind>`, `sk = <at>#<inputId>`). The payload is stored gzip-compressed:
 * DynamoDB items are capped at 400 KB and webhook bodies compress about tenfold.
 */
export class DynamoExceptionStore implements ExceptionStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async park(input: ParkedInput): Promise<{ exceptionId: string }> {
    const sk = `${input.at}#${input.inputId}`;
    const pk = `EXC#${input.kind}`;
    const compressed = gzipSync(input.payload);
    // A payload too big for one item (rare: JSON compresses ~10×) goes into numbered part items first,
    // so the main item never points at parts that were not written.
    const parts = Math.ceil(compressed.length / PART_BYTES);
    if (parts > 1) {
      for (let index = 0; index < parts; index += 1) {
        const part = compressed.subarray(index * PART_BYTES, (index + 1) * PART_BYTES);
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { pk, sk: `${sk}#part#${index}`, payload: part },
          }),
        );
      }
    }
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
          payloadEncoding: 'gzip',
          ...(parts > 1 ? { payloadParts: parts } : { payload: compressed }),
          parkedAt: new Date().toISOString(),
          replayCount: 0,
        },
      }),
    );
    return { exceptionId: `${input.kind}/${sk}` };
  }

  /** The exceptions of a kind still parked (not yet replayed), oldest first, with their payloads. */
  async listParked(kind: string): Promise<ParkedException[]> {
    const out: ParkedException[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk',
          FilterExpression: '#status = :parked',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':pk': `EXC#${kind}`, ':parked': 'PARKED' },
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(await this.read(kind, item));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return out;
  }

  /**
   * Marks a parked exception replayed — once: of two concurrent replays of one exception only one gets
   * true, so a replay never sends an input twice. `revert` puts it back to PARKED when the re-send failed.
   */
  async markReplayed(kind: string, sk: string, options: { revert?: boolean } = {}): Promise<boolean> {
    const [from, to] = options.revert ? ['REPLAYED', 'PARKED'] : ['PARKED', 'REPLAYED'];
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `EXC#${kind}`, sk },
          UpdateExpression: options.revert
            ? 'SET #status = :to ADD replayCount :minus'
            : 'SET #status = :to, replayedAt = :at ADD replayCount :one',
          ConditionExpression: '#status = :from',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':from': from,
            ':to': to,
            ...(options.revert ? { ':minus': -1 } : { ':one': 1, ':at': new Date().toISOString() }),
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
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
            Key: { pk: `EXC#${kind}`, sk: `${sk}#part#${index}` },
          }),
        );
        parts.push(part.Item?.payload as Uint8Array);
      }
      compressed = Buffer.concat(parts);
    } else {
      compressed = item.payload as Uint8Array;
    }
    return {
      kind,
      sk,
      exceptionId: `${kind}/${sk}`,
      inputId: String(item.inputId),
      status: item.status as ParkedException['status'],
      code: String(item.code),
      reason: String(item.reason),
      attributes: (item.attributes ?? {}) as Record<string, string>,
      replayCount: Number(item.replayCount ?? 0),
      payload: gunzipSync(compressed),
    };
  }
}
