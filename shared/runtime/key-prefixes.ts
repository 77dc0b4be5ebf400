/**
 * Partition-key prefixes of the shared tables, one per writer. The code writes under them and the
 * stack grants each function exactly these partitions (IAM `dynamodb:LeadingKeys`), so one function
 * cannot touch another's records. No imports: the CDK app reads this module too.
 */

/** Powertools idempotency records (`<prefix>#<hash>`), per function. */
export const IDEMPOTENCY_KEY_PREFIXES = {
  shopifyWebhook: 'shopify-webhook',
  posWebhook: 'pos-webhook',
  erpOrderSync: 'erp-order-sync',
  financePoster: 'finance-poster',
} as const;
