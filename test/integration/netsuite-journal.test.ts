import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { StartedServer } from '#sandbox/core/http.ts';
import { NetSuiteSandbox } from '#sandbox/netsuite/index.ts';
import {
  NETSUITE_TOKEN_PATH,
  NetSuiteAuth,
  NetSuiteCredentialsSchema,
} from '#shared/connectors/netsuite/auth.ts';
import { NetSuiteClient } from '#shared/connectors/netsuite/client.ts';
import { journalEntryBody, upsertJournalEntry } from '#shared/connectors/netsuite/journal.ts';
import { type FinanceAccounts, payoutJournal } from '#shared/finance/journal.ts';
import type { Payout } from '#shared/finance/model.ts';
import { ErpReferenceError } from '#shared/ports/erp-errors.ts';
import { json, type Page, start } from '#test/sandbox/helpers.ts';

/** Journal entries posted to the NetSuite sandbox: once per external id, balanced, lines replaced not appended. */
const app = new NetSuiteSandbox({ seed: 5, items: 20, stores: 2 });
let server: StartedServer;
let base: string;
let client: NetSuiteClient;

interface JeRecord {
  id: string;
  externalId: string | null;
  body?: { memo?: string; line?: { items: { account: { id: string }; debit?: number; credit?: number }[] } };
}
const journals = async (externalId: string) =>
  (
    await json<{ records: Page<JeRecord> }>(
      fetch(`${base}/_control/state?type=journalEntry&externalId=${encodeURIComponent(externalId)}&full=1`),
    )
  ).records;

// The sandbox chart of accounts (sandbox/netsuite/store.ts ACCOUNTS).
const accounts: FinanceAccounts['shopify'] = { bank: '10', clearing: '12', fees: '15', refunds: '14' };
const booking = { subsidiaryId: '1', currencies: { USD: '1' } };
const ctx = { transactionId: 'tx-journal' };

const payout: Payout = {
  shop: 'acme.myshopify.com',
  payoutId: '7001',
  issuedAt: '2026-12-02T23:00:00Z',
  status: 'PAID',
  direction: 'DEPOSIT',
  currency: 'USD',
  gross: 12_345,
  fees: 388,
  refunds: -1_001,
  adjustments: 0,
  net: 10_956,
  transactions: [
    { id: 'a', type: 'CHARGE', amount: 12_345, fee: 388, net: 11_957, orderId: '1' },
    { id: 'b', type: 'REFUND', amount: -1_001, fee: 0, net: -1_001, orderId: '2' },
  ],
};

beforeAll(async () => {
  ({ server, url: base } = await start(app));
  const credentials = NetSuiteCredentialsSchema.parse(
    (await json<{ credentials: unknown }>(fetch(`${base}/_control/state`))).credentials,
  );
  client = new NetSuiteClient({
    baseUrl: base,
    accountId: credentials.accountId,
    auth: new NetSuiteAuth({ tokenUrl: `${base}${NETSUITE_TOKEN_PATH}`, credentials }),
    retry: { maxAttempts: 20, initialDelayMs: 20, maxDelayMs: 200 },
  });
});
afterAll(() => server.close());
beforeEach(async () => {
  await fetch(`${base}/_control/reset`, { method: 'POST' });
});

describe('journal entries in the NetSuite sandbox', () => {
  it('posting one payout again, and twice at once, keeps one balanced entry with its lines once', async () => {
    const journal = payoutJournal(payout, accounts);
    const first = await upsertJournalEntry(client, journal, booking, ctx);
    const again = await Promise.all([
      upsertJournalEntry(client, journal, booking, ctx),
      upsertJournalEntry(client, journal, booking, ctx),
    ]);
    expect(again.map((r) => r.internalId)).toEqual([first.internalId, first.internalId]);
    const found = await journals(journal.externalId);
    expect(found.total).toBe(1);
    const lines = found.items[0]?.body?.line?.items ?? [];
    expect(lines).toHaveLength(4);
    const cents = (side: 'debit' | 'credit') =>
      lines.reduce((s, l) => s + Math.round((l[side] ?? 0) * 100), 0);
    expect(cents('debit')).toBe(12_345);
    expect(cents('credit')).toBe(12_345);
    expect(lines.map((l) => l.account.id).sort()).toEqual(['10', '12', '14', '15']);
  });

  it('the sandbox refuses an unbalanced entry and a line to an account the chart does not have', async () => {
    const journal = payoutJournal(payout, accounts);
    const body = journalEntryBody(journal, booking) as { line: { items: Record<string, unknown>[] } };
    const [firstLine, ...others] = body.line.items;
    const unbalanced = { ...body, line: { items: [{ ...firstLine, debit: '109.57' }, ...others] } };
    await expect(
      client.request({
        method: 'PUT',
        path: '/services/rest/record/v1/journalEntry/eid:x',
        body: unbalanced,
        ctx,
      }),
    ).rejects.toThrow(/out of balance/);
    await expect(
      upsertJournalEntry(client, payoutJournal(payout, { ...accounts, fees: '999' }), booking, ctx),
    ).rejects.toBeInstanceOf(ErpReferenceError);
    expect((await journals('x')).total).toBe(0);
  });

  it('a currency the booking config does not map is refused before any call', async () => {
    const journal = payoutJournal({ ...payout, currency: 'EUR' }, accounts);
    await expect(upsertJournalEntry(client, journal, booking, ctx)).rejects.toThrow(
      /no ERP mapping for currency "EUR"/,
    );
  });
});
