import * as z from 'zod';
import { CurrencyCodeSchema, toDecimalString, toMinorUnits } from '../../events/money.ts';
import type { Order, TaxLine } from '../../events/order.ts';
import type { ErpLineKeys, MappingLookup } from '../../ports/erp.ts';
import { type MissingMapping, TotalsMismatchError, UnknownMappingError } from '../../ports/erp-errors.ts';

/**
 * Canonical order → NetSuite `salesOrder` / `cashSale` request body.
 *
 * Every amount of the source order becomes an explicit line, so that the document's total is the
 * order's total to the cent in any tax setup and can be checked before it is sent:
 * - product lines: mapped item, quantity, `rate` = unit price and `amount` = rate × quantity, each
 *   followed by a discount line (`amount` = −allocated discount) when the line was discounted;
 * - shipping lines: the shipping item at the shipping price, followed by its discount line;
 * - an order-level discount line for any discount not allocated to a line (Shopify's `total_discounts`
 *   above the allocations);
 * - gift cards sold are booked on the gift card (liability) item, not as revenue.
 *
 * **Tax (SuiteTax).** NetSuite REST web services work with taxes only under SuiteTax ("REST web services
 * do not support legacy tax features", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/article_0814121722.html),
 * whose tax engine computes the tax of taxable lines when a transaction is saved. The storefront has
 * already charged the customer a tax, to the cent; the ERP must book that tax, not a recomputation
 * (rates, rounding and exemptions differ between engines). So the document carries a **tax details
 * override** (`taxDetailsOverride: true`) with the `taxDetails` sublist: one line per tax the storefront
 * charged on a product or shipping line (tax type and tax code from the booking config, basis, rate in
 * percent, amount), linked to its item line by `taxDetailsReference` ("Tax Details on Transactions in
 * SuiteTax", https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_4283867856.html;
 * overriding: "check the Tax Details Override box … modify Tax Type, Tax Code, Tax Basis, Tax Rate and Tax
 * Amount", fields `taxdetailsreference`, `taxtype`, `taxcode`, `taxbasis`, `taxrate`, `taxamount`:
 * https://docs.oracle.com/en/cloud/saas/netsuite/ns-online-help/section_1548673608.html). No tax charge
 * line is sent: under SuiteTax the engine would add its own tax on top of it (a doubled tax). For
 * tax-inclusive prices the product and shipping lines carry their amount less the tax they include and
 * the tax details add it back. After the write the adapter reads the ERP's total back and the order sync
 * parks any difference (`ERP_TOTAL_MISMATCH`).
 *
 * **Lines by key.** Each line has a hub key (`line-<lineId>`, `discount-<lineId>`, `shipping-<lineId>`,
 * `shipping-discount-<lineId>`, `order-discount`), also sent as its `taxDetailsReference`. Given the
 * ERP line keys of an earlier write (`known`, from the sync ledger), a line the ERP has is sent with its
 * `line` key, so NetSuite updates it in place; a line the order no longer has (removed by an edit, a
 * discount withdrawn) is sent with its key, quantity and amount 0 and closed — never left out, since
 * under `replace=item` an unsent line is deleted, and NetSuite keeps closed lines as the record of the
 * order. A cancelled sales order closes every line, keeping its amounts.
 * Money leaves the hub here, as exact decimal strings converted from integer minor units.
 */

/** A NetSuite record reference by internal id. */
export interface NsRef {
  readonly id: string;
}

/** One line of the `item` sublist of a sales transaction. Money as decimal strings. */
export interface NsSaleLine {
  /** NetSuite's key of a line it already has: the line is updated in place. */
  readonly line?: number;
  /** Omitted on a line that is only closed (its item stays). */
  readonly item?: NsRef;
  readonly quantity: number;
  /** Present when `rate × quantity = amount` exactly; otherwise NetSuite derives it from the amount. */
  readonly rate?: string;
  readonly amount: string;
  readonly description?: string;
  /** Links the line's tax details; the hub's key of the line. */
  readonly taxDetailsReference?: string;
  /** Set on every line of a cancelled sales order and on a line the order no longer has. */
  readonly isClosed?: boolean;
}

/** One line of the SuiteTax `taxDetails` sublist (override): the tax the storefront charged on a line. */
export interface NsTaxDetail {
  readonly taxDetailsReference: string;
  readonly taxType: NsRef;
  readonly taxCode: NsRef;
  /** Amount the tax was charged on. */
  readonly taxBasis: string;
  /** Percent, e.g. "8.875". */
  readonly taxRate: string;
  readonly taxAmount: string;
}

/** Body of `PUT /record/v1/salesOrder|cashSale/eid:<externalId>`; the external id is in the URL. */
export interface NsSaleBody {
  readonly entity: NsRef;
  readonly tranDate: string;
  readonly currency: NsRef;
  readonly memo: string;
  readonly otherRefNum: string;
  readonly subsidiary?: NsRef;
  readonly location?: NsRef;
  /** `B` = Pending Fulfillment: created approved, as the hub's orders are already placed and paid. */
  readonly orderStatus?: 'B';
  readonly paymentMethod?: NsRef;
  readonly item: { readonly items: readonly NsSaleLine[] };
  readonly taxDetailsOverride: true;
  readonly taxDetails: { readonly items: readonly NsTaxDetail[] };
}

export type NsSaleRecordType = 'salesOrder' | 'cashSale';

const NetSuiteIdSchema = z.string().regex(/^\d+$/, 'a NetSuite internal id (digits)');

/**
 * Account-level settings of the NetSuite mapping (typed per environment, not per order): one schema
 * for the CDK config, the operator's config file and the function's `NETSUITE_MAPPING_CONFIG`.
 */
export const NetSuiteMappingConfigSchema = z.object({
  /** Customers orders are booked to until a customer sync exists (e.g. "Web Customer", "Walk-in"). */
  customers: z.object({ online: NetSuiteIdSchema, pos: NetSuiteIdSchema }),
  /** Non-inventory / other-charge items for lines that are not products. */
  items: z.object({
    discount: NetSuiteIdSchema,
    shipping: NetSuiteIdSchema,
    giftCard: NetSuiteIdSchema,
  }),
  /**
   * SuiteTax: the tax type and tax code (`salesTaxItem`) the storefront's taxes are booked under in the
   * tax details override (see the module comment).
   */
  tax: z.object({ typeId: NetSuiteIdSchema, codeId: NetSuiteIdSchema }),
  /** The subsidiary transactions belong to (NetSuite OneWorld accounts); omitted when the account has none. */
  subsidiaryId: NetSuiteIdSchema.optional(),
  /** ISO 4217 code → NetSuite currency internal id (currency references take an id, not a code). */
  currencies: z.record(CurrencyCodeSchema, NetSuiteIdSchema),
  /** Location of online orders (the fulfilment warehouse); POS sales use their store's mapped location. */
  onlineLocationId: NetSuiteIdSchema.optional(),
  /** Time zone of the NetSuite account: `tranDate` is the order's date there. @default 'UTC' */
  timeZone: z.string().min(1).optional(),
});
export type NetSuiteMappingConfig = Readonly<z.infer<typeof NetSuiteMappingConfigSchema>>;

interface DraftTax {
  readonly basis: number;
  /** Decimal rate as the source gives it, e.g. "0.0825". */
  readonly rate: string;
  readonly amount: number;
}

interface DraftLine {
  /** The hub's key of the line (see the module comment). */
  readonly key: string;
  readonly item: string;
  readonly quantity: number;
  readonly rate?: number;
  readonly amount: number;
  readonly description: string;
  readonly taxes: readonly DraftTax[];
}

const sum = (amounts: readonly number[]): number => amounts.reduce((total, amount) => total + amount, 0);
const taxOf = (lines: readonly TaxLine[]): number => sum(lines.map((line) => line.amount.amount));

const GIFT_CARD_GATEWAY = /gift[\s_-]?card/i;

/** A decimal rate as a percentage, exactly ("0.08875" → "8.875", "0.1" → "10"). */
export function percentOf(rate: string): string {
  const [whole = '0', fraction = ''] = rate.split('.');
  const digits = `${whole}${fraction.padEnd(2, '0')}`;
  const point = whole.length + 2;
  const integer = digits.slice(0, point).replace(/^0+(?=\d)/, '');
  const decimals = digits.slice(point).replace(/0+$/, '');
  return decimals ? `${integer}.${decimals}` : integer;
}

/** The account-local calendar date of an instant, as NetSuite's `tranDate` (YYYY-MM-DD). */
export function tranDateOf(utc: string, timeZone = 'UTC'): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(utc));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The gateway whose payment method a cash sale records: the first that is not a gift card. */
export function primaryGateway(gateways: readonly string[]): string | undefined {
  return gateways.find((gateway) => !GIFT_CARD_GATEWAY.test(gateway)) ?? gateways[0];
}

/** Resolves every mapping the order needs, collecting all that are missing into one error. */
async function resolveMappings(
  order: Order,
  recordType: NsSaleRecordType,
  lookup: MappingLookup,
  config: NetSuiteMappingConfig,
): Promise<{ items: Map<string, string>; currency: string; location?: string; paymentMethod?: string }> {
  const missing: MissingMapping[] = [];
  const currency = config.currencies[order.currency];
  if (currency === undefined) missing.push({ kind: 'currency', key: order.currency });

  const skus = new Set<string>();
  for (const line of order.lines) {
    if (line.isGiftCard || line.quantity === 0) continue;
    if (line.sku === null) {
      missing.push({ kind: 'item', key: `line ${line.lineId}`, reason: `"${line.title}" has no SKU` });
    } else {
      skus.add(line.sku);
    }
  }
  const items = new Map<string, string>();
  await Promise.all(
    [...skus].map(async (sku) => {
      const id = await lookup.erpItemId(sku);
      if (id === undefined) missing.push({ kind: 'item', key: sku });
      else items.set(sku, id);
    }),
  );

  let location: string | undefined;
  if (order.channel === 'pos') {
    if (order.storeLocationId === null) {
      missing.push({ kind: 'location', key: '(none)', reason: 'POS sale without a store location' });
    } else {
      location = await lookup.erpLocationId(order.source.system, order.storeLocationId);
      if (location === undefined) {
        missing.push({ kind: 'location', key: `${order.source.system}:${order.storeLocationId}` });
      }
    }
  } else {
    location = config.onlineLocationId;
  }

  let paymentMethod: string | undefined;
  if (recordType === 'cashSale') {
    const gateway = primaryGateway(order.paymentGateways);
    if (gateway === undefined) {
      missing.push({ kind: 'payment-method', key: '(none)', reason: 'sale without a payment gateway' });
    } else {
      paymentMethod = await lookup.erpPaymentMethod(gateway);
      if (paymentMethod === undefined) missing.push({ kind: 'payment-method', key: gateway });
    }
  }

  if (missing.length > 0 || currency === undefined) throw new UnknownMappingError(missing);
  return {
    items,
    currency,
    ...(location !== undefined ? { location } : {}),
    ...(paymentMethod !== undefined ? { paymentMethod } : {}),
  };
}

/** The explicit lines of an order in integer minor units (see the module comment for the layout). */
function draftLines(order: Order, items: Map<string, string>, config: NetSuiteMappingConfig): DraftLine[] {
  const out: DraftLine[] = [];
  const codes = order.discounts.map((discount) => discount.code).filter((code): code is string => !!code);
  const discountLabel = codes.length > 0 ? `Discount ${codes.join(', ')}` : 'Discount';
  const taxIncluded = (lines: readonly TaxLine[]) => (order.taxesIncluded ? taxOf(lines) : 0);
  const taxesOn = (lines: readonly TaxLine[], basis: number): DraftTax[] =>
    lines
      .filter((tax) => tax.amount.amount !== 0)
      .map((tax) => ({ basis, rate: tax.rate, amount: tax.amount.amount }));

  for (const line of order.lines) {
    if (line.quantity === 0) continue;
    const item = line.isGiftCard ? config.items.giftCard : items.get(line.sku ?? '');
    if (item === undefined) throw new Error(`unresolved item for line ${line.lineId}`); // resolveMappings guarantees it
    const gross = line.unitPrice.amount * line.quantity;
    const amount = gross - taxIncluded(line.taxLines);
    out.push({
      key: `line-${line.lineId}`,
      item,
      quantity: line.quantity,
      ...(amount === gross ? { rate: line.unitPrice.amount } : {}),
      amount,
      description: [line.isGiftCard ? 'Gift card' : null, line.title, line.variantTitle]
        .filter((part) => part)
        .join(' - '),
      taxes: taxesOn(line.taxLines, amount - line.discount.amount),
    });
    if (line.discount.amount !== 0) {
      out.push({
        key: `discount-${line.lineId}`,
        item: config.items.discount,
        quantity: 1,
        rate: -line.discount.amount,
        amount: -line.discount.amount,
        description: `${discountLabel} on ${line.sku ?? line.title}`,
        taxes: [],
      });
    }
  }

  for (const shipping of order.shippingLines) {
    if (shipping.price.amount === 0 && shipping.discount.amount === 0) continue;
    const amount = shipping.price.amount - taxIncluded(shipping.taxLines);
    out.push({
      key: `shipping-${shipping.lineId}`,
      item: config.items.shipping,
      quantity: 1,
      ...(amount === shipping.price.amount ? { rate: amount } : {}),
      amount,
      description: `Shipping: ${shipping.title}`,
      taxes: taxesOn(shipping.taxLines, amount - shipping.discount.amount),
    });
    if (shipping.discount.amount !== 0) {
      out.push({
        key: `shipping-discount-${shipping.lineId}`,
        item: config.items.discount,
        quantity: 1,
        rate: -shipping.discount.amount,
        amount: -shipping.discount.amount,
        description: `${discountLabel} on shipping`,
        taxes: [],
      });
    }
  }

  const allocated =
    sum(order.lines.map((line) => line.discount.amount)) +
    sum(order.shippingLines.map((line) => line.discount.amount));
  const unallocated = order.totals.discounts.amount - allocated;
  if (unallocated > 0) {
    out.push({
      key: 'order-discount',
      item: config.items.discount,
      quantity: 1,
      rate: -unallocated,
      amount: -unallocated,
      description: `${discountLabel} (order)`,
      taxes: [],
    });
  }

  // Tax charged at the order level only (no per-line breakdown): booked on the first taxed line, or the
  // first line, at the order's effective rate, so the tax details always add up to the order's tax.
  const lineTax = sum(out.flatMap((line) => line.taxes.map((tax) => tax.amount)));
  const remainder = order.totals.tax.amount - lineTax;
  const carrier = out.find((line) => line.taxes.length > 0) ?? out.find((line) => line.amount > 0);
  if (remainder !== 0 && carrier) {
    const index = out.indexOf(carrier);
    const basis = sum(out.map((line) => line.amount));
    out[index] = {
      ...carrier,
      taxes: [
        ...carrier.taxes,
        { basis, rate: basis > 0 && remainder > 0 ? (remainder / basis).toFixed(6) : '0', amount: remainder },
      ],
    };
  }
  return out;
}

function memoOf(order: Order): string {
  const system = order.source.system === 'shopify' ? 'Shopify' : 'POS';
  const name = order.source.name ?? order.source.orderId;
  const presented =
    order.presentment.currency !== order.currency
      ? `; customer paid ${order.presentment.currency} ${toDecimalString(order.presentment.total)}`
      : '';
  return `${order.test ? '[TEST] ' : ''}${system} order ${name} (${order.source.account}, id ${order.source.orderId})${presented}`;
}

/**
 * Builds the NetSuite body for an order. `known` are the ERP line keys of the document's lines from an
 * earlier write (see the module comment). Throws {@link UnknownMappingError} listing every SKU,
 * location, payment gateway or currency without a mapping, and {@link TotalsMismatchError} when the
 * lines would not add up to the order (checked by {@link reconcileWithOrder} before anything is sent).
 */
export async function mapOrderToNetSuite(
  order: Order,
  recordType: NsSaleRecordType,
  lookup: MappingLookup,
  config: NetSuiteMappingConfig,
  known: ErpLineKeys = {},
): Promise<NsSaleBody> {
  const resolved = await resolveMappings(order, recordType, lookup, config);
  const money = (amount: number) => toDecimalString({ amount, currency: order.currency });
  const closed = recordType === 'salesOrder' && order.status === 'cancelled';
  const lineKey = (key: string) => (known[key] !== undefined ? { line: Number(known[key]) } : {});
  const drafts = draftLines(order, resolved.items, config);
  const current = new Set(drafts.map((line) => line.key));
  // Lines booked earlier that the order no longer has: closed at nothing, never deleted.
  const gone: NsSaleLine[] = Object.keys(known)
    .filter((key) => !current.has(key))
    .sort()
    .map((key) => ({
      ...lineKey(key),
      quantity: 0,
      amount: money(0),
      taxDetailsReference: key,
      isClosed: true,
    }));
  const body: NsSaleBody = {
    entity: { id: order.channel === 'pos' ? config.customers.pos : config.customers.online },
    tranDate: tranDateOf(order.createdAt, config.timeZone),
    currency: { id: resolved.currency },
    memo: memoOf(order),
    otherRefNum: order.source.name ?? order.source.orderId,
    ...(config.subsidiaryId !== undefined ? { subsidiary: { id: config.subsidiaryId } } : {}),
    ...(resolved.location !== undefined ? { location: { id: resolved.location } } : {}),
    ...(recordType === 'salesOrder' ? { orderStatus: 'B' as const } : {}),
    ...(resolved.paymentMethod !== undefined ? { paymentMethod: { id: resolved.paymentMethod } } : {}),
    item: {
      items: [
        ...drafts.map((line) => ({
          ...lineKey(line.key),
          item: { id: line.item },
          quantity: line.quantity,
          ...(line.rate !== undefined ? { rate: money(line.rate) } : {}),
          amount: money(line.amount),
          description: line.description,
          taxDetailsReference: line.key,
          ...(closed ? { isClosed: true } : {}),
        })),
        ...gone,
      ],
    },
    taxDetailsOverride: true,
    taxDetails: {
      items: drafts.flatMap((line) =>
        line.taxes.map((tax) => ({
          taxDetailsReference: line.key,
          taxType: { id: config.tax.typeId },
          taxCode: { id: config.tax.codeId },
          taxBasis: money(tax.basis),
          taxRate: percentOf(tax.rate),
          taxAmount: money(tax.amount),
        })),
      ),
    },
  };
  reconcileWithOrder(order, body, config.items);
  return body;
}

/**
 * Checks, from the request body alone, that the NetSuite document reconciles with the canonical order
 * to the cent: the lines and the tax details add up to the order total, the tax details to the order
 * tax, the shipping lines to the shipping charged (prices without included tax), and every `rate ×
 * quantity` equals its `amount`. Throws a permanent {@link TotalsMismatchError} naming each difference; an amount that is not
 * exact in the currency throws `MoneyPrecisionError`. Shopify's `subtotal` is not compared: it is
 * derivable, and its documented sample is inconsistent with its own lines.
 */
export function reconcileWithOrder(
  order: Order,
  body: NsSaleBody,
  items: Pick<NetSuiteMappingConfig['items'], 'shipping'>,
): void {
  const currency = order.currency;
  const minor = (decimal: string) => toMinorUnits(decimal, currency);
  const text = (amount: number) => toDecimalString({ amount, currency });
  const lines = body.item.items;
  const mismatches: { field: string; expected: string; actual: string }[] = [];
  const check = (field: string, expected: number, actual: number) => {
    if (expected !== actual) mismatches.push({ field, expected: text(expected), actual: text(actual) });
  };

  lines.forEach((line, index) => {
    if (line.rate === undefined) return;
    const rate = minor(line.rate);
    check(`item.items[${index}].amount (rate × quantity)`, rate * line.quantity, minor(line.amount));
  });
  const amountOf = (filter: (line: NsSaleLine) => boolean) =>
    sum(lines.filter(filter).map((line) => minor(line.amount)));
  const tax = sum(body.taxDetails.items.map((detail) => minor(detail.taxAmount)));
  check('total', order.totals.total.amount, amountOf(() => true) + tax);
  check('tax', order.totals.tax.amount, tax);
  if (!order.taxesIncluded) {
    check(
      'shipping',
      order.totals.shipping.amount,
      amountOf((line) => line.item?.id === items.shipping),
    );
  }
  if (mismatches.length > 0) {
    throw new TotalsMismatchError(
      `the ERP document does not reconcile with ${order.source.system} order ${order.source.orderId}: ${mismatches
        .map((m) => `${m.field} ${m.actual} ≠ ${m.expected}`)
        .join('; ')}`,
      mismatches,
    );
  }
}
