/**
 * Roles the local cloud recognises resources by: the constructs write one into the template's
 * `Metadata` (`markLocalRole`), and `local/` reads it to give a secret its sandbox value or to find the
 * mappings table — never by logical id, which is free to change. No CDK import here: the local cloud
 * loads this module.
 */
export const LOCAL_ROLE_METADATA_KEY = 'omnihub:role';

export const LOCAL_ROLES = [
  'shopify-webhook-secret',
  'square-signature-key',
  'square-access-token',
  'netsuite-credentials',
  'idempotency-table',
  'exceptions-table',
  'ledger-table',
  'mappings-table',
  'erp-order-queue',
  'privacy-requests-table',
  'inventory-table',
  'shopify-admin-token',
  'trace-table',
  'audit-table',
  'ops-replay-function',
  'reconciliation-table',
  'reconciler-function',
  'catalog-table',
] as const;
export type LocalRole = (typeof LOCAL_ROLES)[number];
