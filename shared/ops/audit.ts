import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';

/**
 * Every replay an operator runs, in the audit table (pk `AUDIT#<yyyy-mm>`, sk `<at>#<auditId>`): who
 * (the actor the caller names and the AWS request that carried it), what (the command as given), when,
 * and what came of it. The row is written before the work starts and completed after, so a replay that
 * dies half way still left its trace ("STARTED" without a result). Audit rows do not expire.
 */
export interface AuditStart {
  readonly actor: string;
  readonly command: string;
  /** The command as the operator gave it. */
  readonly request: unknown;
  /** The Lambda request id (CloudTrail and the function's log lines carry it too). */
  readonly requestId?: string;
}

export interface AuditRow {
  readonly auditId: string;
  readonly at: string;
  readonly actor: string;
  readonly command: string;
  readonly request: string;
  readonly status: 'STARTED' | 'SUCCEEDED' | 'FAILED';
  readonly result?: string;
  readonly finishedAt?: string;
  readonly requestId?: string;
}

const partitionOf = (at: string) => `AUDIT#${at.slice(0, 7)}`;

export class AuditLog {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async start(entry: AuditStart): Promise<{ pk: string; sk: string; auditId: string }> {
    const at = this.now().toISOString();
    const auditId = randomUUID();
    const key = { pk: partitionOf(at), sk: `${at}#${auditId}` };
    await this.documents.send(
      new PutCommand({
        TableName: this.tableName,
        Item: {
          ...key,
          auditId,
          at,
          actor: entry.actor,
          command: entry.command,
          request: JSON.stringify(entry.request),
          status: 'STARTED',
          ...(entry.requestId ? { requestId: entry.requestId } : {}),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return { ...key, auditId };
  }

  async finish(
    key: { pk: string; sk: string },
    status: 'SUCCEEDED' | 'FAILED',
    result: unknown,
  ): Promise<void> {
    await this.documents.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: key.pk, sk: key.sk },
        UpdateExpression: 'SET #status = :status, #result = :result, finishedAt = :at',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: {
          ':status': status,
          // Bounded: an item holds at most 400 KB; the full result went back to the caller.
          ':result': JSON.stringify(result).slice(0, 50_000),
          ':at': this.now().toISOString(),
        },
      }),
    );
  }

  /** The rows of the month of `at` (default: this month), newest first. */
  async list(at: string = this.now().toISOString(), limit = 100): Promise<AuditRow[]> {
    const page = await this.documents.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': partitionOf(at) },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (page.Items ?? []) as AuditRow[];
  }
}
