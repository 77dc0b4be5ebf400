import * as z from 'zod';
import { redactContactData } from '../connectors/shopify/contact-data.ts';
import { parseShopifyJson } from '../connectors/shopify/json.ts';
import { HubError } from '../errors.ts';
import { detailSchema } from '../events/catalog.ts';
import { majorOf } from '../events/contract.ts';
import { EVENT_SOURCES } from '../events/envelope.ts';
import type { DynamoExceptionStore, ExceptionRef, ParkedException } from '../repositories/exceptions.ts';
import { type LedgerRepository, orderKey } from '../repositories/ledger.ts';
import type {
  HeldException,
  HeldLedgerEntry,
  PrivacyRequestRun,
  PrivacyRequestStore,
} from '../repositories/privacy-requests.ts';
import type { LogSink, Telemetry } from '../runtime/observability.ts';

/**
 * The privacy flow: Shopify's compliance requests (https://shopify.dev/docs/apps/build/compliance/privacy-law-compliance)
 * applied to what the hub itself holds. Shopify sends `customers/data_request` (the customer asked the
 * merchant what is stored), `customers/redact` (delete the customer's personal information for that
 * shop) and `shop/redact` (48 hours after the shop uninstalled the app: erase the shop's data —
 * https://shopify.dev/changelog/apps-now-need-to-use-gdpr-webhooks).
 *
 * Where the hub holds personal data: the payloads parked in the exceptions table (a raw Shopify order
 * names its buyer, email, phone and addresses). Canonical events carry ids only; the sync ledger holds
 * order keys, ERP ids, versions and statuses — no personal data — and is kept (it is what keeps a
 * replayed order from being booked twice).
 */

/** A compliance event as it arrives from the bus through SQS (the EventBridge event as the body). */
const complianceEvent = <
  T extends 'CustomerDataRequested' | 'CustomerRedactionRequested' | 'ShopRedactionRequested',
>(
  detailType: T,
) =>
  z.object({
    id: z.string(),
    'detail-type': z.literal(detailType),
    source: z.literal(EVENT_SOURCES.shopify),
    // 2.0 (ids only) and 1.0 alike: the ids are the same fields; 1.0's email and phone are dropped here.
    detail: detailSchema(detailType),
  });

export const ComplianceBusEventSchema = z.discriminatedUnion('detail-type', [
  complianceEvent('CustomerDataRequested'),
  complianceEvent('CustomerRedactionRequested'),
  complianceEvent('ShopRedactionRequested'),
]);
export type ComplianceBusEvent = z.infer<typeof ComplianceBusEventSchema>;

/** Schema majors this consumer reads (1.0 carried contact data it ignores; 2.0 carries ids only). */
const READABLE_MAJORS = new Set([1, 2]);

/** A compliance event in a schema version this consumer does not know: it goes to the DLQ, never skipped. */
export class UnsupportedComplianceEventError extends HubError {
  readonly code = 'UNSUPPORTED_COMPLIANCE_EVENT';
  readonly retryable = false;
}

/** The exception was parked again while it was being redacted: retry the request (it redacts the new payload). */
export class RedactionConflictError extends HubError {
  readonly code = 'REDACTION_CONFLICT';
  readonly retryable = true;
}

export interface RedactionDeps {
  readonly exceptions: Pick<DynamoExceptionStore, 'findBySubject' | 'get' | 'replacePayload' | 'delete'>;
  readonly ledger: Pick<LedgerRepository, 'get'>;
  readonly audit: Pick<PrivacyRequestStore, 'record'>;
  readonly telemetry: Telemetry;
  readonly log: LogSink;
  readonly now?: () => Date;
}

/** What one request came to (the audit item says the same, per request). */
export interface RedactionOutcome {
  readonly detailType: ComplianceBusEvent['detail-type'];
  readonly matched: number;
  readonly redacted: number;
  readonly deleted: number;
}

/** A parked payload as JSON (Shopify's with exact ids), or undefined when it is not JSON. */
function parsePayload(exception: ParkedException): unknown {
  const text = exception.payload.toString('utf8');
  try {
    return exception.kind === 'shopify-webhook' ? parseShopifyJson(text) : JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Applies one compliance request, idempotently — a redelivered or retried request finds nothing left
 * to change and records that it ran again:
 * - `CustomerDataRequested`: records what the hub holds about the customer — the parked inputs about
 *   the customer or the listed orders (with the fields that hold contact data, not their values) and
 *   the orders the sync ledger booked into the ERP; nothing is changed;
 * - `CustomerRedactionRequested`: removes the contact data from every parked input about the customer
 *   or the listed orders, resolved or not (see `redactContactData`: what booking needs stays, so an
 *   unresolved order can still be replayed);
 * - `ShopRedactionRequested`: deletes every parked input of the shop.
 * Each request is recorded in the privacy audit: what was asked, when, and what was found, redacted or
 * deleted. A payload parked again while it is redacted fails the record ({@link RedactionConflictError})
 * so that SQS retries it.
 */
export async function handleComplianceRequest(
  event: ComplianceBusEvent,
  deps: RedactionDeps,
): Promise<RedactionOutcome> {
  const { metadata, data } = event.detail;
  if (!READABLE_MAJORS.has(majorOf(metadata.schemaVersion))) {
    throw new UnsupportedComplianceEventError(
      `${event['detail-type']} ${metadata.schemaVersion} is not a version this consumer reads`,
    );
  }
  const now = (deps.now?.() ?? new Date()).toISOString();
  const account = data.account;
  const customer =
    event['detail-type'] === 'ShopRedactionRequested'
      ? undefined
      : { orderIds: event.detail.data.orderIds, customerIds: [event.detail.data.customer.id] };
  const refs = await deps.exceptions.findBySubject('shopify', account, customer);

  const run = {
    matched: [] as string[],
    redacted: [] as string[],
    removedFields: new Set<string>(),
    deleted: [] as string[],
    unreadable: [] as string[],
    held: [] as HeldException[],
  };
  for (const ref of refs) {
    run.matched.push(ref.exceptionId);
    if (event['detail-type'] === 'ShopRedactionRequested') {
      await deps.exceptions.delete(ref.kind, ref.sk);
      run.deleted.push(ref.exceptionId);
      continue;
    }
    await inspect(ref, event['detail-type'] === 'CustomerRedactionRequested');
  }

  async function inspect(ref: ExceptionRef, redact: boolean): Promise<void> {
    const exception = await deps.exceptions.get(ref.kind, ref.sk);
    if (!exception) return;
    const payload = parsePayload(exception);
    if (payload === undefined) {
      run.unreadable.push(ref.exceptionId);
      return;
    }
    const redaction = redactContactData(payload);
    if (!redact) {
      const { kind, status, code, parkedAt } = exception;
      run.held.push({
        exceptionId: ref.exceptionId,
        kind,
        status,
        code,
        parkedAt,
        contactFields: redaction.removed,
      });
      return;
    }
    if (redaction.removed.length === 0) return;
    const written = await deps.exceptions.replacePayload(
      exception,
      Buffer.from(JSON.stringify(redaction.value)),
      { by: metadata.eventId, at: now },
    );
    if (!written)
      throw new RedactionConflictError(`${ref.exceptionId} was parked again while it was redacted`);
    run.redacted.push(ref.exceptionId);
    for (const field of redaction.removed) run.removedFields.add(field);
  }

  const subject: PrivacyRequestRun['subject'] =
    event['detail-type'] === 'ShopRedactionRequested'
      ? { shopId: data.shopId }
      : {
          shopId: data.shopId,
          customerId: event.detail.data.customer.id,
          orderIds: event.detail.data.orderIds,
          ...(event['detail-type'] === 'CustomerDataRequested'
            ? { requestId: event.detail.data.requestId }
            : {}),
        };
  await deps.audit.record({
    system: 'shopify',
    account,
    detailType: event['detail-type'],
    eventId: metadata.eventId,
    transactionId: metadata.transactionId,
    requestedAt: metadata.occurredAt,
    receivedAt: metadata.receivedAt,
    subject,
    processedAt: now,
    matched: run.matched,
    redacted: run.redacted,
    removedFields: [...run.removedFields].sort(),
    deleted: run.deleted,
    unreadable: run.unreadable,
    ...(event['detail-type'] === 'CustomerDataRequested'
      ? {
          held: {
            exceptions: run.held,
            ledger: await ledgerEntries(account, event.detail.data.orderIds, deps),
          },
        }
      : {}),
  });

  deps.telemetry.count('PrivacyRequestsProcessed');
  if (run.redacted.length > 0) deps.telemetry.count('ExceptionsRedacted', run.redacted.length);
  if (run.deleted.length > 0) deps.telemetry.count('ExceptionsDeleted', run.deleted.length);
  if (run.unreadable.length > 0) {
    deps.log.warn('parked payloads that are not JSON were left as they are', {
      eventId: metadata.eventId,
      exceptionIds: run.unreadable,
    });
  }
  const outcome = {
    detailType: event['detail-type'],
    matched: run.matched.length,
    redacted: run.redacted.length,
    deleted: run.deleted.length,
  };
  deps.log.info('privacy request applied', {
    eventId: metadata.eventId,
    transactionId: metadata.transactionId,
    ...outcome,
  });
  return outcome;
}

/** The listed orders the sync ledger knows (what the hub booked into the ERP for them). */
async function ledgerEntries(
  account: string,
  orderIds: readonly string[],
  deps: Pick<RedactionDeps, 'ledger'>,
): Promise<HeldLedgerEntry[]> {
  const out: HeldLedgerEntry[] = [];
  for (const orderId of orderIds) {
    const entry = await deps.ledger.get(orderKey('shopify', account, orderId));
    if (!entry) continue;
    const { recordType, erpInternalId, externalId, syncedAt } = entry;
    out.push({ orderId, recordType, erpInternalId, externalId, syncedAt });
  }
  return out;
}
