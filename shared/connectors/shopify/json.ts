/**
 * Parses a Shopify JSON body without losing id precision. Shopify's numeric ids can exceed 2^53, and
 * `JSON.parse` would silently round them; the reviver's `context.source` (Node 21+) gives back the
 * literal digits. Id-like keys (`id`, `*_id`) and any integer beyond the safe range become strings;
 * other numbers stay numbers.
 */
export function parseShopifyJson(text: string): unknown {
  return JSON.parse(text, function reviver(
    this: unknown,
    key: string,
    value: unknown,
    context?: { source?: string },
  ) {
    if (typeof value !== 'number' || !Number.isInteger(value) || context?.source === undefined) return value;
    if (key === 'id' || key.endsWith('_id') || !Number.isSafeInteger(value)) return context.source;
    return value;
  } as Parameters<typeof JSON.parse>[1]);
}

/** Numeric part of a GID (`gid://shopify/Order/820982911946154508` → `820982911946154508`). */
export function gidToId(gid: string | null | undefined): string | undefined {
  if (!gid) return undefined;
  const match = /^gid:\/\/shopify\/[A-Za-z]+\/(\d+)(?:\?.*)?$/.exec(gid);
  return match?.[1];
}
