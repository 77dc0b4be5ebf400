import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';
import { NetSuiteMappingConfigSchema } from '#shared/connectors/netsuite/mapper.ts';
import { FinanceAccountsSchema } from '#shared/finance/journal.ts';
import { ShopConfigSchema } from '#shared/runtime/shops.ts';
import { ENCRYPTION_MODES } from './encryption-modes.ts';

const HttpsUrlSchema = z.url({ protocol: /^https$/ });

/**
 * What an operator owns for one deployed environment and the repository cannot know: the shops, the
 * ERP account and the internal ids orders are booked with, the POS account's notification URL. Kept in
 * a JSON file outside (or beside) the repository and passed with `-c config=<file>`; an example with
 * obviously fake values is `docs/examples/operator-config.prod.json`.
 */
export const OperatorConfigSchema = z.strictObject({
  /** Optional editor hint; ignored. */
  $schema: z.string().optional(),
  /** The environment this file is for: a staging file cannot deploy prod by mistake. */
  environment: z.enum(['dev', 'staging', 'prod']),
  shops: z.array(ShopConfigSchema).min(1),
  erp: z.strictObject({
    /** The NetSuite account id (e.g. `1234567` or `1234567_SB1` for a sandbox account). */
    accountId: z.string().regex(/^[A-Za-z0-9_]+$/, 'a NetSuite account id'),
    /** REST base URL when not `https://<account>.suitetalk.api.netsuite.com`. */
    baseUrl: HttpsUrlSchema.optional(),
    /** The account's concurrency limit (Standard 5, Premium 15, Enterprise 20, +10 per SuiteCloud Plus). */
    concurrencyLimit: z.number().int().min(2).max(1000),
    mapping: NetSuiteMappingConfigSchema,
  }),
  pos: z.strictObject({
    squareBaseUrl: HttpsUrlSchema.optional(),
    /**
     * The URL registered with Square, which Square signs. Required: rebuilding it from the request's
     * forwarded headers would let a proxy's view decide what is verified.
     */
    notificationUrl: HttpsUrlSchema,
    /** The Square merchants this environment serves; notifications for any other are parked. */
    merchantIds: z.array(z.string().regex(/^[A-Za-z0-9]{1,64}$/, 'a Square merchant id')).min(1),
  }),
  /**
   * Keys of what the hub stores: `aws-managed` (each service's own key) or `customer-managed` (one hub
   * KMS key per environment, `alias/omnihub-<env>`). @default 'aws-managed'
   */
  encryption: z.enum(ENCRYPTION_MODES).optional(),
  /**
   * Who the alarm topic (`omnihub-<env>-alarms`) notifies: e-mail addresses (each confirms the
   * subscription from the e-mail SNS sends) and HTTPS endpoints (a pager's or chat's webhook). @default none
   */
  alarms: z
    .strictObject({
      emails: z.array(z.email()).default([]),
      httpsEndpoints: z.array(HttpsUrlSchema).default([]),
    })
    .optional(),
  /** Financial posting: the general-ledger accounts (NetSuite internal ids). Absent: no Finance flow. */
  finance: z
    .strictObject({
      accounts: FinanceAccountsSchema,
      schedule: z
        .string()
        .regex(/^(rate|cron)\(.+\)$/)
        .optional(),
      closeGraceMinutes: z.number().int().min(0).max(1440).optional(),
    })
    .optional(),
  edge: z
    .strictObject({
      /** AWS WAF in front of the webhook API: CloudFront + a CLOUDFRONT-scope web ACL in us-east-1. */
      waf: z
        .strictObject({
          /** Requests per client IP in any 5 minutes (AWS WAF rate-based rule; minimum 10). */
          rateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000),
          /** The `WebAclArn` output of the `Omnihub-<env>-waf` stack, once deployed (README, "Deploy"). */
          webAclArn: z
            .string()
            .regex(
              /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\/[\w-]{1,128}\/[0-9a-f-]{36}$/,
              'the ARN of a CLOUDFRONT-scope (global, us-east-1) AWS WAF web ACL',
            )
            .optional(),
        })
        .optional(),
    })
    .optional(),
});
export type OperatorConfig = z.infer<typeof OperatorConfigSchema>;

/** The settings a deployed environment cannot run without, named in the error when they are missing. */
export const REQUIRED_OPERATOR_SETTINGS = [
  'shops (domain and currency of each Shopify store)',
  'erp.accountId',
  'erp.concurrencyLimit',
  'erp.mapping (customers, booking items, currencies, online location)',
  'pos.notificationUrl',
  'pos.merchantIds',
] as const;

/**
 * Reads and validates the operator's config file for `environment`. Every problem is reported at once,
 * by path, so a deploy fails before anything is synthesized.
 */
export function loadOperatorConfig(path: string, environment: string): OperatorConfig {
  let text: string;
  try {
    text = readFileSync(resolve(path), 'utf8');
  } catch (error) {
    throw new Error(`-c config=${path}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`-c config=${path}: not JSON (${(error as Error).message})`);
  }
  const parsed = OperatorConfigSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new Error(`-c config=${path} is not a valid operator config:\n${issues.join('\n')}`);
  }
  if (parsed.data.environment !== environment) {
    throw new Error(
      `-c config=${path} is for environment "${parsed.data.environment}", not "${environment}"`,
    );
  }
  return parsed.data;
}
