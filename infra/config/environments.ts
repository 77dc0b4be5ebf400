import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import type { ShopConfig } from '#shared/runtime/shops.ts';

/** The ERP account and how the hub paces itself against its governance. */
export interface ErpConfig {
  readonly accountId: string;
  /** REST base URL; defaults to `https://<account>.suitetalk.api.netsuite.com` (override with `-c netsuiteBaseUrl=`). */
  readonly baseUrl?: string;
  /** The account's concurrency limit (Standard 5, Premium 15, Enterprise 20, +10 per SuiteCloud Plus licence). */
  readonly concurrencyLimit: number;
  /** ERP calls in flight per function instance; instances = limit ÷ this. */
  readonly perInstanceConcurrency: number;
  readonly mapping: NetSuiteMappingConfig;
}

/** Everything that differs between environments, typed, in one place. */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Shops whose webhooks are accepted (override with `-c shops=a.myshopify.com:USD,b.myshopify.com:EUR`). */
  readonly shops: readonly ShopConfig[];
  readonly logRetention: RetentionDays;
  /** Stateful resources (tables, archive, secrets): RETAIN in production, DESTROY elsewhere. */
  readonly removalPolicy: RemovalPolicy;
  readonly pointInTimeRecovery: boolean;
  /** Steady-state and burst requests per second on the webhook API. */
  readonly webhookThrottle: { readonly rateLimit: number; readonly burstLimit: number };
  /** Largest webhook body accepted (413 above). EventBridge takes events up to 1 MB. */
  readonly maxWebhookBodyBytes: number;
  /** How long the bus archive keeps events for replay (0 = forever). */
  readonly archiveRetentionDays: number;
  readonly logLevel: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
  readonly erp: ErpConfig;
}

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** Internal ids of the ERP records orders are booked with; per account, set when onboarding. */
const SANDBOX_ERP_MAPPING: NetSuiteMappingConfig = {
  customers: { online: '1', pos: '2' },
  items: { discount: 'OH-DISCOUNT', shipping: 'OH-SHIPPING', tax: 'OH-TAX', giftCard: 'OH-GIFTCARD' },
  currencies: { USD: '1' },
  timeZone: 'UTC',
};

const base = {
  maxWebhookBodyBytes: 1024 * 1024,
  webhookThrottle: { rateLimit: 200, burstLimit: 400 },
  erp: {
    accountId: 'TSTDRV1234567',
    concurrencyLimit: 15,
    perInstanceConcurrency: 3,
    mapping: SANDBOX_ERP_MAPPING,
  },
};

export const ENVIRONMENTS: Readonly<Record<EnvironmentName, EnvironmentConfig>> = {
  dev: {
    ...base,
    name: 'dev',
    shops: [{ domain: 'omnihub-dev.myshopify.com', currency: 'USD' }],
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    archiveRetentionDays: 7,
    logLevel: 'DEBUG',
  },
  staging: {
    ...base,
    name: 'staging',
    shops: [{ domain: 'omnihub-staging.myshopify.com', currency: 'USD' }],
    logRetention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    archiveRetentionDays: 14,
    logLevel: 'INFO',
  },
  prod: {
    ...base,
    name: 'prod',
    shops: [{ domain: 'omnihub.myshopify.com', currency: 'USD' }],
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    pointInTimeRecovery: true,
    webhookThrottle: { rateLimit: 1000, burstLimit: 2000 },
    archiveRetentionDays: 90,
    logLevel: 'INFO',
  },
};

/**
 * Resolves `-c env=<name>` (and optional `-c shops=domain:CUR,…`). An unknown or missing environment
 * fails fast with the list of known ones, before anything is synthesized.
 */
export function resolveEnvironment(
  name: unknown,
  shopsOverride?: unknown,
  netsuiteBaseUrl?: unknown,
): EnvironmentConfig {
  if (typeof name !== 'string' || !ENVIRONMENT_NAMES.includes(name as EnvironmentName)) {
    throw new Error(
      `unknown environment ${JSON.stringify(name)}: pass -c env=<${ENVIRONMENT_NAMES.join('|')}>`,
    );
  }
  const named = ENVIRONMENTS[name as EnvironmentName];
  if (
    netsuiteBaseUrl !== undefined &&
    (typeof netsuiteBaseUrl !== 'string' || !/^https?:\/\/\S+$/.test(netsuiteBaseUrl))
  ) {
    throw new Error('-c netsuiteBaseUrl must be an http(s) URL');
  }
  const config =
    typeof netsuiteBaseUrl === 'string'
      ? { ...named, erp: { ...named.erp, baseUrl: netsuiteBaseUrl } }
      : named;
  if (shopsOverride === undefined || shopsOverride === '') return config;
  if (typeof shopsOverride !== 'string') throw new Error('-c shops must be "domain:CUR,domain:CUR"');
  const shops = shopsOverride.split(',').map((entry) => {
    const [domain, currency] = entry.trim().split(':');
    if (
      !domain ||
      !currency ||
      !/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/.test(domain) ||
      !/^[A-Z]{3}$/.test(currency)
    ) {
      throw new Error(`-c shops: "${entry}" is not "<shop>.myshopify.com:<ISO currency>"`);
    }
    return { domain, currency };
  });
  return { ...config, shops };
}
