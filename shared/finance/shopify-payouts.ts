import * as z from 'zod';
import { toMinorUnits } from '../events/money.ts';
import {
  type ShopifyGraphql,
  ShopifyRequestError,
  ShopifyUnavailableError,
} from '../inventory/shopify-publisher.ts';
import type { Payout, PayoutTransaction } from './model.ts';

/**
 * The GraphQL documents finance reads Shopify Payments with (pinned Admin API version; validated against
 * Shopify's real schema by test/sandbox/shopify-schema.test.ts). They need the app's
 * `read_shopify_payments_payouts` scope
 * (https://shopify.dev/docs/api/admin-graphql/latest/objects/ShopifyPaymentsAccount). Payouts are filtered
 * by `status` and `issued_at`, a payout's balance transactions by `payments_transfer_id` (the payout's
 * legacy id), as the `query` arguments of `payouts` and `balanceTransactions` document.
 */
const MONEY = 'amount currencyCode';
export const PAYOUTS_QUERY = `query FinancePayouts($after: String, $query: String) {
  shopifyPaymentsAccount {
    payouts(first: 50, after: $after, query: $query, sortKey: ISSUED_AT) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id legacyResourceId issuedAt status transactionType
        net { ${MONEY} }
        summary {
          chargesGross { ${MONEY} } chargesFee { ${MONEY} }
          refundsFeeGross { ${MONEY} } refundsFee { ${MONEY} }
          adjustmentsGross { ${MONEY} } adjustmentsFee { ${MONEY} }
        }
      }
    }
  }
}`;

export const PAYOUT_TRANSACTIONS_QUERY = `query FinancePayoutTransactions($after: String, $query: String) {
  shopifyPaymentsAccount {
    balanceTransactions(first: 100, after: $after, query: $query) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id type sourceOrderTransactionId
        amount { ${MONEY} } fee { ${MONEY} } net { ${MONEY} }
        associatedOrder { id }
      }
    }
  }
}`;

export const FINANCE_SHOPIFY_DOCUMENTS: Readonly<Record<string, string>> = {
  PAYOUTS_QUERY,
  PAYOUT_TRANSACTIONS_QUERY,
};

const Money = z.object({ amount: z.string(), currencyCode: z.string() });
const PageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() });
const PayoutNode = z.object({
  id: z.string(),
  legacyResourceId: z.union([z.string(), z.number()]).transform(String),
  issuedAt: z.string(),
  status: z.string(),
  transactionType: z.enum(['DEPOSIT', 'WITHDRAWAL']),
  net: Money,
  summary: z.object({
    chargesGross: Money,
    chargesFee: Money,
    refundsFeeGross: Money,
    refundsFee: Money,
    adjustmentsGross: Money,
    adjustmentsFee: Money,
  }),
});
const TransactionNode = z.object({
  id: z.string(),
  type: z.string(),
  sourceOrderTransactionId: z
    .union([z.string(), z.number()])
    .nullable()
    .transform((v) => (v === null ? null : String(v))),
  amount: Money,
  fee: Money,
  net: Money,
  associatedOrder: z.object({ id: z.string() }).nullable(),
});
const connectionOf = <T extends z.ZodType>(node: T, field: string) =>
  z.object({
    shopifyPaymentsAccount: z
      .object({ [field]: z.object({ pageInfo: PageInfo, nodes: z.array(node) }) })
      .nullable(),
  });

const legacyId = (gid: string) => gid.slice(gid.lastIndexOf('/') + 1);

/** Options of one shop's payout reader. */
export interface PayoutReaderOptions {
  readonly shop: string;
  readonly graphql: ShopifyGraphql;
  /** Attempts of one call on throttling or an outage. @default 5 */
  readonly maxAttempts?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Reads a shop's PAID payouts issued since `since`, each with every one of its balance transactions, in
 * the hub's model (integer minor units). Each payout and each transaction counts once by id, however many
 * times and in whatever order the pages list it. Throttling (`THROTTLED`, 429) and 5xx are retried with
 * backoff; a payout in more than one currency is refused.
 */
export async function readPaidPayouts(options: PayoutReaderOptions, since: Date): Promise<Payout[]> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const attempts = options.maxAttempts ?? 5;
  const call = async (document: string, variables: Record<string, unknown>) => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const answer = await options.graphql(document, variables);
        if (answer.errors.some((e) => e.code === 'THROTTLED')) throw new ShopifyUnavailableError('THROTTLED');
        if (answer.errors.length > 0 || !answer.data) {
          throw new ShopifyRequestError(
            `Shopify refused the payouts query: ${answer.errors.map((e) => e.message).join('; ')}`,
          );
        }
        return answer.data;
      } catch (error) {
        if (!(error instanceof ShopifyUnavailableError) || attempt >= attempts) throw error;
        await sleep(error.retryAfterMs ?? 500 * 2 ** (attempt - 1) * (0.5 + Math.random()));
      }
    }
  };
  const pages = async <T extends z.ZodType>(document: string, query: string, node: T, field: string) => {
    const byId = new Map<string, z.infer<T>>();
    const schema = connectionOf(node, field);
    let after: string | null = null;
    do {
      const parsed = schema.parse(await call(document, { after, query }));
      const conn = parsed.shopifyPaymentsAccount?.[field] as
        | { pageInfo: z.infer<typeof PageInfo>; nodes: z.infer<T>[] }
        | undefined;
      if (!conn) throw new ShopifyRequestError(`${options.shop} has no Shopify Payments account`);
      for (const n of conn.nodes) byId.set((n as { id: string }).id, n);
      after = conn.pageInfo.hasNextPage ? conn.pageInfo.endCursor : null;
    } while (after);
    return [...byId.values()];
  };

  const payouts = await pages(
    PAYOUTS_QUERY,
    `status:PAID issued_at:>=${since.toISOString()}`,
    PayoutNode,
    'payouts',
  );
  const out: Payout[] = [];
  for (const p of payouts.sort((a, b) => a.issuedAt.localeCompare(b.issuedAt))) {
    const currency = p.net.currencyCode;
    const minor = (m: z.infer<typeof Money>, what: string) => {
      if (m.currencyCode !== currency) {
        throw new ShopifyRequestError(
          `payout ${p.legacyResourceId}: ${what} is in ${m.currencyCode}, its net in ${currency}`,
        );
      }
      return toMinorUnits(m.amount, currency);
    };
    const txs = await pages(
      PAYOUT_TRANSACTIONS_QUERY,
      `payments_transfer_id:${p.legacyResourceId}`,
      TransactionNode,
      'balanceTransactions',
    );
    const transactions: PayoutTransaction[] = txs
      .map((t) => ({
        id: legacyId(t.id),
        type: t.type,
        amount: minor(t.amount, `transaction ${t.id}`),
        fee: minor(t.fee, `transaction ${t.id}`),
        net: minor(t.net, `transaction ${t.id}`),
        ...(t.associatedOrder ? { orderId: legacyId(t.associatedOrder.id) } : {}),
        ...(t.sourceOrderTransactionId ? { sourceOrderTransactionId: t.sourceOrderTransactionId } : {}),
      }))
      .sort((a, b) => a.id.localeCompare(b.id));
    const s = p.summary;
    out.push({
      shop: options.shop,
      payoutId: p.legacyResourceId,
      issuedAt: new Date(p.issuedAt).toISOString(),
      status: p.status,
      direction: p.transactionType,
      currency,
      gross: minor(s.chargesGross, 'chargesGross'),
      fees:
        minor(s.chargesFee, 'chargesFee') +
        minor(s.refundsFee, 'refundsFee') +
        minor(s.adjustmentsFee, 'adjustmentsFee'),
      refunds: minor(s.refundsFeeGross, 'refundsFeeGross'),
      adjustments: minor(s.adjustmentsGross, 'adjustmentsGross'),
      // Shopify reports a withdrawal's net as the amount moved; the hub signs it (negative: out of the bank).
      net: p.transactionType === 'WITHDRAWAL' ? -Math.abs(minor(p.net, 'net')) : minor(p.net, 'net'),
      transactions,
    });
  }
  return out;
}
