/**
 * Shared building blocks of the sandbox systems (Shopify, Square, NetSuite):
 * seeded randomness, fault injection, HTTP plumbing, webhook delivery and the
 * control API. Kept small and stable: every sandbox imports it.
 */
export * from './control.ts';
export * from './faults.ts';
export * from './http.ts';
export * from './retailer.ts';
export * from './rng.ts';
export * from './webhooks.ts';
