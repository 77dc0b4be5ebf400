/**
 * How the hub encrypts what it stores. `aws-managed`: each service's own key (DynamoDB's and Secrets
 * Manager's AWS managed keys, SQS-managed SSE, AWS owned keys for EventBridge and CloudWatch Logs).
 * `customer-managed`: one hub key per environment (`alias/omnihub-<env>`, yearly rotation) for tables,
 * queues, the bus and its archive, secrets and log groups — its key policy and CloudTrail show every use,
 * and disabling it makes all of it unreadable at once.
 */
export const ENCRYPTION_MODES = ['aws-managed', 'customer-managed'] as const;
export type EncryptionMode = (typeof ENCRYPTION_MODES)[number];
