import * as z from 'zod';
import { HubError } from '../errors.ts';
import { toMinorUnits } from '../events/money.ts';
import type { SuiteQlRequester } from '../inventory/erp-change-feed.ts';
import type { ErpDocument } from './compare.ts';

/**
 * The ERP's side of the reconciliation: the documents with the external ids the channel orders and
 * refunds of the window should have, read with SuiteQL (`POST /services/rest/query/v1/suiteql`,
 * `limit`/`offset` paging with `hasMore`, at most 1,000 rows a page: Oracle NetSuite help, "SuiteQL
 * Query" in REST web services) from the `transaction` table, in chunks of external ids.
 *
 * `status` is the transaction's one-letter status code (SuiteQL answers the letter; `BUILTIN.DF` would
 * give the label: https://timdietrich.me/blog/netsuite-suiteql-transaction-statuses): a sales order
 * whose lines are all closed is `H` (Sales Order : Closed), `C` is Cancelled — both are the hub's
 * cancelled order. Every other status is open for the comparison.
 */

const SUITEQL_PATH = '/services/rest/query/v1/suiteql';
const PAGE = 1000;
/** External ids per query (the IN list stays well under SuiteQL's statement size). */
const CHUNK = 200;

const RECORD_TYPES: Readonly<Record<string, string>> = {
  salesorder: 'salesOrder',
  cashsale: 'cashSale',
  cashrefund: 'cashRefund',
  creditmemo: 'creditMemo',
};
const CLOSED_SALES_ORDER = new Set(['H', 'C']);

const Text = z.union([z.string(), z.number()]).transform(String);
const RowSchema = z.object({
  externalid: Text,
  recordtype: z.string(),
  total: z.union([z.string(), z.number()]).nullable().optional(),
  status: z.string().nullable().optional(),
});
const PageSchema = z.object({ items: z.array(z.unknown()), hasMore: z.boolean() });

export class ErpReadError extends HubError {
  readonly code = 'ERP_RECONCILE_UNREADABLE';
  readonly retryable = true;
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * The ERP documents of `externalIds` (with the currency each is booked in, for its total in minor units),
 * by external id. Ids without a document are simply absent.
 */
export async function readErpDocuments(
  client: SuiteQlRequester,
  wanted: ReadonlyMap<string, string>,
): Promise<{ documents: Map<string, ErpDocument>; calls: number }> {
  const documents = new Map<string, ErpDocument>();
  const ids = [...wanted.keys()];
  let calls = 0;
  for (let start = 0; start < ids.length; start += CHUNK) {
    const chunk = ids.slice(start, start + CHUNK);
    const q = `SELECT id, externalid, recordtype, total, status FROM transaction WHERE recordtype IN ('salesorder', 'cashsale', 'cashrefund', 'creditmemo') AND externalid IN (${chunk.map(quote).join(', ')})`;
    for (let offset = 0; ; offset += PAGE) {
      const res = await client.request({
        method: 'POST',
        path: SUITEQL_PATH,
        query: { limit: String(PAGE), offset: String(offset) },
        headers: { prefer: 'transient' },
        body: { q },
      });
      calls += 1;
      const page = PageSchema.safeParse(res.body);
      if (!page.success) throw new ErpReadError('SuiteQL transaction query: unexpected answer');
      for (const item of page.data.items) {
        const row = RowSchema.safeParse(item);
        if (!row.success)
          throw new ErpReadError(`SuiteQL transaction row ${JSON.stringify(item)} unreadable`);
        const { externalid, recordtype, total, status } = row.data;
        const currency = wanted.get(externalid);
        const recordType = RECORD_TYPES[recordtype.toLowerCase()] ?? recordtype;
        documents.set(externalid, {
          externalId: externalid,
          recordType,
          ...(total !== null && total !== undefined && currency
            ? { total: toMinorUnits(total, currency) }
            : {}),
          status: recordType === 'salesOrder' && status && CLOSED_SALES_ORDER.has(status) ? 'closed' : 'open',
        });
      }
      if (!page.data.hasMore) break;
    }
  }
  return { documents, calls };
}
