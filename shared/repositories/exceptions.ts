import { gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';

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
}
