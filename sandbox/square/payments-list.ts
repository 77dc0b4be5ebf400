import * as z from 'zod';
import { queryOf, type Router, sendJson } from '../core/http.ts';
import { createRng } from '../core/rng.ts';
import type { Payment, PaymentRefund } from './model.ts';
import type { SquareSession } from './session.ts';
import { sqError } from './validation.ts';

/**
 * `ListPayments` (`GET /v2/payments`) and `ListPaymentRefunds` (`GET /v2/refunds`) as finance reads them:
 * by `location_id` and a `begin_time`/`end_time` window on `created_at` (begin inclusive), `sort_order`,
 * `cursor` paging, `limit` at most 100 (https://developer.squareup.com/reference/square/payments-api/list-payments,
 * https://developer.squareup.com/reference/square/payments-api/list-payment-refunds). Unknown query
 * parameters are refused as Square's validator would (400 INVALID_REQUEST_ERROR).
 *
 * Listed card payments carry Square's `processing_fee` (the sandbox's rate: 2.6 % + 15¢, Square's US
 * in-person card rate, https://squareup.com/us/en/payments/our-fees); cash payments have none, and so do
 * refunds (the sandbox keeps the fee on a refund). The fee is derived when listed, so the stored payments
 * and the webhook bodies (which Square sends before the fee is set) are unchanged.
 *
 * Read chaos (`POST /_control/list-chaos`): pages may repeat and shuffle items, as an eventually
 * consistent list read twice or out of order would; consumers must count each payment once by id.
 */

export const CARD_FEE_BP = 260;
export const CARD_FEE_FIXED = 15;

export interface ListChaos {
  duplicateRate: number;
  reorder: boolean;
  seed: number;
  reads: number;
}

const chaosOf = new WeakMap<SquareSession, ListChaos>();

const ALLOWED = {
  payments: ['begin_time', 'end_time', 'sort_order', 'cursor', 'location_id', 'limit', 'sort_field'],
  refunds: [
    'begin_time',
    'end_time',
    'sort_order',
    'cursor',
    'location_id',
    'limit',
    'status',
    'source_type',
    'sort_field',
  ],
} as const;

/** The processing fee Square reports on a listed card payment. */
export function processingFee(p: Payment): number {
  return p.source_type === 'CARD'
    ? Math.round((p.total_money.amount * CARD_FEE_BP) / 10_000) + CARD_FEE_FIXED
    : 0;
}

function listed<T extends { id: string; created_at: string; location_id: string }>(
  session: SquareSession,
  kind: 'payments' | 'refunds',
  all: Iterable<T>,
  q: URLSearchParams,
): { items: T[]; cursor?: string } {
  for (const key of q.keys()) {
    if (!(ALLOWED[kind] as readonly string[]).includes(key)) {
      throw sqError(
        400,
        'INVALID_REQUEST_ERROR',
        'INVALID_VALUE',
        `Unknown query parameter \`${key}\`.`,
        key,
      );
    }
  }
  const time = (name: string) => {
    const v = q.get(name);
    if (v === null) return undefined;
    const t = Date.parse(v);
    if (Number.isNaN(t))
      throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_TIME', `Invalid \`${name}\`: ${v}.`, name);
    return t;
  };
  const begin = time('begin_time') ?? 0;
  const end = time('end_time') ?? Number.POSITIVE_INFINITY;
  const limit = Number(q.get('limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_VALUE', 'Limit must be between 1 and 100.', 'limit');
  }
  const order = q.get('sort_order') ?? 'DESC';
  const location = q.get('location_id');
  const status = q.get('status');
  const list = [...all]
    .filter(
      (x) =>
        (!location || x.location_id === location) &&
        (!status || (x as { status?: string }).status === status),
    )
    .filter((x) => Date.parse(x.created_at) >= begin && Date.parse(x.created_at) < end)
    .sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id));
  if (order === 'DESC') list.reverse();
  const start = q.get('cursor') ? Number(Buffer.from(q.get('cursor') ?? '', 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0)
    throw sqError(400, 'INVALID_REQUEST_ERROR', 'INVALID_CURSOR', 'Invalid cursor.', 'cursor');
  let items = list.slice(start, start + limit);
  const chaos = chaosOf.get(session);
  if (chaos && (chaos.duplicateRate > 0 || chaos.reorder)) {
    chaos.reads += 1;
    const rng = createRng(chaos.seed * 104_729 + chaos.reads);
    items = items.flatMap((x) => (rng.next() < chaos.duplicateRate ? [x, x] : [x]));
    if (chaos.reorder) {
      for (let i = items.length - 1; i > 0; i -= 1) {
        const j = Math.floor(rng.next() * (i + 1));
        [items[i], items[j]] = [items[j] as T, items[i] as T];
      }
    }
  }
  const next =
    start + limit < list.length ? Buffer.from(String(start + limit)).toString('base64url') : undefined;
  return { items, ...(next ? { cursor: next } : {}) };
}

const paymentView = (p: Payment) => {
  const fee = processingFee(p);
  return fee > 0
    ? {
        ...p,
        processing_fee: [
          {
            effective_at: p.created_at,
            type: 'INITIAL',
            amount_money: { amount: fee, currency: p.total_money.currency },
          },
        ],
      }
    : p;
};
const refundView = (r: PaymentRefund) => r;

const ChaosSchema = z.strictObject({
  duplicateRate: z.number().min(0).max(1).default(0),
  reorder: z.boolean().default(false),
  seed: z.number().int().default(1),
});

/** Installs the list routes on the API router and the chaos switch on the control router. */
export function installPaymentLists(api: Router, control: Router, session: () => SquareSession): void {
  api.on('GET', '/v2/payments', ({ req, res }) => {
    const { items, cursor } = listed(session(), 'payments', session().store.payments.values(), queryOf(req));
    sendJson(res, 200, { payments: items.map(paymentView), ...(cursor ? { cursor } : {}) });
  });
  api.on('GET', '/v2/refunds', ({ req, res }) => {
    const { items, cursor } = listed(session(), 'refunds', session().store.refunds.values(), queryOf(req));
    sendJson(res, 200, { refunds: items.map(refundView), ...(cursor ? { cursor } : {}) });
  });
  control.on('POST', '/_control/list-chaos', async ({ req, res }) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const input = ChaosSchema.parse(JSON.parse(Buffer.concat(chunks).toString() || '{}'));
    chaosOf.set(session(), { ...input, reads: 0 });
    sendJson(res, 200, { listChaos: input });
  });
}
