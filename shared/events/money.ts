import * as z from 'zod';
import { MoneyPrecisionError } from '../errors.ts';

/** ISO 4217 alphabetic code. */
export const CurrencyCodeSchema = z.string().regex(/^[A-Z]{3}$/, 'ISO 4217 currency code');

/** Money as an integer number of minor units (cents, yen, fils) and its currency. Never a float. */
export const MoneySchema = z
  .object({
    amount: z.number().int().describe('integer minor units of the currency (e.g. cents)'),
    currency: CurrencyCodeSchema,
  })
  .describe('Money in integer minor units with its ISO 4217 currency');
export type Money = z.infer<typeof MoneySchema>;

/**
 * ISO 4217 minor units that are not 2. ICU's `Intl` data cannot be used: it gives the digits shown
 * in cash (0 for HUF, IDR, COP, IQD, …), not the ISO minor units payment systems and ERPs book in.
 */
const MINOR_UNITS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

/** Currency codes the runtime knows (ISO 4217, current and historical), to refuse made-up codes. */
const KNOWN_CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** Number of ISO 4217 minor-unit digits of a currency (USD 2, JPY 0, KWD 3, HUF 2). */
export function currencyExponent(currency: string): number {
  CurrencyCodeSchema.parse(currency);
  if (!KNOWN_CURRENCIES.has(currency)) throw new MoneyPrecisionError(`unknown ISO 4217 currency ${currency}`);
  return MINOR_UNITS[currency] ?? 2;
}

const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/;

/**
 * Converts a decimal amount as vendors send it ("414.95", "1000", 0.5) to integer minor units
 * without floating-point arithmetic. Extra fraction digits are accepted only when they are zeros;
 * anything else cannot be represented exactly and throws {@link MoneyPrecisionError}.
 */
export function toMinorUnits(amount: string | number, currency: string): number {
  const text = typeof amount === 'number' ? numberToPlainString(amount) : amount.trim();
  const match = DECIMAL.exec(text);
  if (!match) throw new MoneyPrecisionError(`not a decimal amount: ${JSON.stringify(amount)}`);
  const [, sign, whole = '0', fraction = ''] = match;
  const exponent = currencyExponent(currency);
  const kept = fraction.slice(0, exponent).padEnd(exponent, '0');
  const dropped = fraction.slice(exponent);
  if (/[^0]/.test(dropped)) {
    throw new MoneyPrecisionError(`${text} ${currency} has more than ${exponent} decimal places`);
  }
  const minor = BigInt(whole + kept) * (sign ? -1n : 1n);
  if (minor > BigInt(Number.MAX_SAFE_INTEGER) || minor < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new MoneyPrecisionError(`${text} ${currency} exceeds the safe integer range`);
  }
  return Number(minor);
}

function numberToPlainString(value: number): string {
  if (!Number.isFinite(value)) throw new MoneyPrecisionError(`not a finite amount: ${value}`);
  // toString() gives the shortest round-trip form; exponent notation only appears for extreme values.
  const text = value.toString();
  if (/e/i.test(text)) throw new MoneyPrecisionError(`amount out of range: ${text}`);
  return text;
}

/** Builds a Money value from a vendor decimal amount. */
export function money(amount: string | number, currency: string): Money {
  return { amount: toMinorUnits(amount, currency), currency };
}

/** Formats minor units back to a decimal string (for vendor APIs that take decimals). */
export function toDecimalString(value: Money): string {
  const exponent = currencyExponent(value.currency);
  const negative = value.amount < 0;
  const digits = Math.abs(value.amount)
    .toString()
    .padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = digits.slice(digits.length - exponent);
  return `${negative ? '-' : ''}${whole}${exponent > 0 ? `.${fraction}` : ''}`;
}

/** Sums amounts of one currency; mixing currencies is a programming error. */
export function sumMoney(values: readonly Money[], currency: string): Money {
  let total = 0;
  for (const value of values) {
    if (value.currency !== currency) {
      throw new MoneyPrecisionError(`cannot add ${value.currency} to ${currency}`);
    }
    total += value.amount;
  }
  return { amount: total, currency };
}
