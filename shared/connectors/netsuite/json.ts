/**
 * NetSuite's REST wire format for money. Inside the hub money is integer minor units; at the NetSuite
 * boundary the mapper turns it into exact decimal strings ("89.99", "-20.00", "1500" for JPY). NetSuite
 * types `rate`, `amount` and totals as JSON numbers, so on the wire those strings are written as number
 * tokens with exactly the same digits (`JSON.rawJSON`), and numbers read back are kept as their source
 * text — a binary float never carries an amount in either direction.
 */

/** Record fields that hold money or a rate: decimal strings in the hub, number tokens on the wire. */
export const DECIMAL_FIELDS: ReadonlySet<string> = new Set([
  'rate',
  'amount',
  'total',
  'subtotal',
  'taxTotal',
  'discountTotal',
  'shippingCost',
  'handlingCost',
  'altSalesTotal',
  'balance',
  // SuiteTax tax details: basis and amount are money, the rate a percentage — all exact decimals.
  'taxBasis',
  'taxRate',
  'taxAmount',
  // Journal entry lines (finance).
  'debit',
  'credit',
]);

const DECIMAL = /^-?\d+(\.\d+)?$/;

// Node 21+ implements JSON.rawJSON (ES2025 "JSON.parse source text access"); the ES2024 lib has no type.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/** Serialises a NetSuite request body, writing decimal-string money fields as exact JSON numbers. */
export function toNetSuiteJson(body: unknown): string {
  return JSON.stringify(body, (key, value: unknown) =>
    DECIMAL_FIELDS.has(key) && typeof value === 'string' && DECIMAL.test(value) ? rawJSON(value) : value,
  );
}

/**
 * Parses a NetSuite response, keeping money fields as the decimal text NetSuite sent (`89.99`, not the
 * nearest double) so that they can be compared or sent back without rounding.
 */
export function parseNetSuiteJson(text: string): unknown {
  return JSON.parse(text, function reviver(
    this: unknown,
    key: string,
    value: unknown,
    context?: { source?: string },
  ) {
    if (typeof value === 'number' && DECIMAL_FIELDS.has(key) && context?.source !== undefined)
      return context.source;
    return value;
  } as Parameters<typeof JSON.parse>[1]);
}
