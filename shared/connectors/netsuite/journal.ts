import * as z from 'zod';
import { toDecimalString } from '../../events/money.ts';
import type { Journal } from '../../finance/journal.ts';
import type { ErpCallContext } from '../../ports/erp.ts';
import { ErpUnavailableError, ErpValidationError, UnknownMappingError } from '../../ports/erp-errors.ts';
import type { NetSuiteClient } from './client.ts';

const RECORD_PATH = '/services/rest/record/v1/journalEntry';

/** What a journal entry needs besides its lines: the currency ids and the subsidiary of the account. */
export interface JournalBookingConfig {
  readonly subsidiaryId?: string;
  /** ISO 4217 code → NetSuite currency internal id. */
  readonly currencies: Readonly<Record<string, string>>;
}

/** The journal entry in the ERP. */
export interface JournalRef {
  readonly internalId: string;
  readonly externalId: string;
}

const ReadSchema = z.looseObject({ id: z.string() });

/** The internal id at the end of a `Location` header NetSuite answers a write with. */
const idFromLocation = (location: string | null): string | undefined =>
  location ? /\/(\d+)\/?$/.exec(new URL(location, 'http://x').pathname)?.[1] : undefined;

/** The journal as NetSuite's REST `journalEntry` record: decimal strings, one debit or credit per line. */
export function journalEntryBody(journal: Journal, config: JournalBookingConfig): Record<string, unknown> {
  const currency = config.currencies[journal.currency];
  if (currency === undefined) throw new UnknownMappingError([{ kind: 'currency', key: journal.currency }]);
  const money = (amount: number) => toDecimalString({ amount, currency: journal.currency });
  return {
    ...(config.subsidiaryId !== undefined ? { subsidiary: { id: config.subsidiaryId } } : {}),
    currency: { id: currency },
    tranDate: journal.tranDate,
    memo: journal.memo,
    line: {
      items: journal.lines.map((line) => ({
        account: { id: line.account },
        ...(line.debit !== undefined ? { debit: money(line.debit) } : { credit: money(line.credit ?? 0) }),
        memo: line.memo,
      })),
    },
  };
}

/**
 * Writes a journal entry exactly once per external id: `PUT /record/v1/journalEntry/eid:<externalId>?replace=line`
 * is NetSuite's upsert ("Using the Upsert Operation",
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_156335203191.html) — a retried,
 * redelivered or concurrent post of one payout or store-day updates the one record — and `replace=line`
 * makes the sent lines the entry's lines instead of appending them to those of an earlier write
 * ("Replacing a Sublist", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1545297048.html).
 * NetSuite refuses an entry whose debits and credits differ; the hub never sends one (finance/journal.ts).
 */
export async function upsertJournalEntry(
  client: NetSuiteClient,
  journal: Journal,
  config: JournalBookingConfig,
  ctx: ErpCallContext,
): Promise<JournalRef> {
  const path = `${RECORD_PATH}/eid:${encodeURIComponent(journal.externalId)}`;
  const res = await client.request({
    method: 'PUT',
    path,
    query: { replace: 'line' },
    body: journalEntryBody(journal, config),
    ctx,
  });
  const fromLocation = idFromLocation(res.headers.get('location'));
  if (fromLocation !== undefined) {
    return { internalId: fromLocation, externalId: journal.externalId };
  }
  try {
    const read = ReadSchema.parse((await client.request({ method: 'GET', path, ctx })).body);
    return { internalId: read.id, externalId: journal.externalId };
  } catch (error) {
    if (error instanceof ErpValidationError && error.status === 404) {
      throw new ErpUnavailableError(
        `journalEntry ${journal.externalId}: written but not readable yet`,
        404,
        'NONEXISTENT_ID',
      );
    }
    throw error;
  }
}
