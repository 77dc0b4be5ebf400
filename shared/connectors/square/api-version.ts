/**
 * The Square API version the hub reads orders and catalog objects in (`Square-Version` header). Pinned
 * so that a Square release never changes the shapes the mapper parses; it is the version of the
 * fixtures and of the sandbox. Webhook bodies are rendered in the subscription's version, which the
 * envelope schema tolerates (unknown keys are ignored).
 */
export const SQUARE_API_VERSION = '2025-08-20';

/** Square's production API. Only deployed stacks use it; the local cloud points at its sandbox. */
export const SQUARE_PRODUCTION_BASE_URL = 'https://connect.squareup.com';
