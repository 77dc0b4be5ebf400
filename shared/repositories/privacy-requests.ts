import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { ComplianceDetailType } from '../events/compliance.ts';
import { queryAll } from './query.ts';

/** What the hub holds about a data subject in one parked input — where and which fields, never the values. */
export interface HeldException {
  readonly exceptionId: string;
  readonly kind: string;
  readonly status: string;
  readonly code: string;
  readonly parkedAt: string;
  /** Fields holding contact data (`$.customer.email`, `$.billing_address`); empty when it holds only ids. */
  readonly contactFields: readonly string[];
}

/** An order of the data subject that the sync ledger knows: what the hub booked into the ERP. */
export interface HeldLedgerEntry {
  readonly orderId: string;
  readonly recordType: string;
  readonly erpInternalId: string;
  readonly externalId: string;
  readonly syncedAt: string;
}

/** One run of one privacy request: what was asked, and what the hub found, redacted or deleted. */
export interface PrivacyRequestRun {
  readonly system: 'shopify';
  /** Shop domain. */
  readonly account: string;
  readonly detailType: ComplianceDetailType;
  readonly eventId: string;
  readonly transactionId: string;
  /** When Shopify's delivery was triggered (the event's occurredAt). */
  readonly requestedAt: string;
  readonly receivedAt: string;
  /** Ids only: the shop, the customer, the orders, Shopify's data request id. */
  readonly subject: {
    readonly shopId: string;
    readonly customerId?: string;
    readonly orderIds?: readonly string[];
    readonly requestId?: string;
  };
  readonly processedAt: string;
  /** Exception ids about the subject. */
  readonly matched: readonly string[];
  /** Exception ids whose payload lost its contact data in this run. */
  readonly redacted: readonly string[];
  /** The fields removed from them. */
  readonly removedFields: readonly string[];
  /** Exception ids deleted in this run. */
  readonly deleted: readonly string[];
  /** Parked payloads that are not JSON, left as they are (named here for a person to look at). */
  readonly unreadable: readonly string[];
  /** Data requests: what the hub holds now. */
  readonly held?: {
    readonly exceptions: readonly HeldException[];
    readonly ledger: readonly HeldLedgerEntry[];
  };
}

/** A request's audit item as read back: the request, its runs, and the union of what they did. */
export type PrivacyRequestRecord = Pick<
  PrivacyRequestRun,
  | 'detailType'
  | 'eventId'
  | 'requestedAt'
  | 'receivedAt'
  | 'subject'
  | 'matched'
  | 'redacted'
  | 'removedFields'
  | 'deleted'
  | 'unreadable'
  | 'held'
> & {
  readonly firstProcessedAt: string;
  readonly lastProcessedAt: string;
  readonly runs: number;
};

const SETS = ['matched', 'redacted', 'removedFields', 'deleted', 'unreadable'] as const;

/**
 * The privacy audit (`pk = REQUEST#<system>#<account>`, `sk = <receivedAt>#<eventId>`): one item per
 * compliance request, so the merchant can show what was asked, when, and what the hub did. A request
 * processed again (a redelivery, a retry) lands on the same item: the sets of exception ids only grow
 * (a re-run that finds nothing left to redact removes nothing from the record), `runs` counts the runs.
 * It holds ids and field names, never contact data.
 */
export class PrivacyRequestStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async record(run: PrivacyRequestRun): Promise<void> {
    const added = SETS.filter((name) => run[name].length > 0);
    const names = Object.fromEntries(added.map((name) => [`#${name}`, name]));
    const values = Object.fromEntries(added.map((name) => [`:${name}`, new Set(run[name])]));
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { pk: `REQUEST#${run.system}#${run.account}`, sk: `${run.receivedAt}#${run.eventId}` },
        UpdateExpression: [
          'SET detailType = :type, eventId = :eventId, transactionId = :tx, requestedAt = :requestedAt,',
          'receivedAt = :receivedAt, subject = :subject, lastProcessedAt = :now,',
          `firstProcessedAt = if_not_exists(firstProcessedAt, :now)${run.held ? ', held = :held' : ''}`,
          `ADD runs :one${added.map((name) => `, #${name} :${name}`).join('')}`,
        ].join(' '),
        ...(added.length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: {
          ':type': run.detailType,
          ':eventId': run.eventId,
          ':tx': run.transactionId,
          ':requestedAt': run.requestedAt,
          ':receivedAt': run.receivedAt,
          ':subject': run.subject,
          ':now': run.processedAt,
          ':one': 1,
          ...(run.held ? { ':held': run.held } : {}),
          ...values,
        },
      }),
    );
  }

  /** The requests recorded for an account, oldest first. */
  async list(system: PrivacyRequestRun['system'], account: string): Promise<PrivacyRequestRecord[]> {
    const out: PrivacyRequestRecord[] = [];
    for await (const item of queryAll(this.client, {
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `REQUEST#${system}#${account}` },
    })) {
      const set = (name: (typeof SETS)[number]) =>
        item[name] instanceof Set ? [...(item[name] as Set<string>)].sort() : [];
      out.push({
        detailType: item.detailType as ComplianceDetailType,
        eventId: String(item.eventId),
        requestedAt: String(item.requestedAt),
        receivedAt: String(item.receivedAt),
        subject: item.subject as PrivacyRequestRun['subject'],
        firstProcessedAt: String(item.firstProcessedAt),
        lastProcessedAt: String(item.lastProcessedAt),
        runs: Number(item.runs),
        matched: set('matched'),
        redacted: set('redacted'),
        removedFields: set('removedFields'),
        deleted: set('deleted'),
        unreadable: set('unreadable'),
        ...(item.held ? { held: item.held as PrivacyRequestRun['held'] } : {}),
      });
    }
    return out;
  }
}
