import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import type { ShopConfig } from '#shared/runtime/shops.ts';
import type { PosConfig } from './pos.ts';

/** The ERP account and how the hub paces itself against its governance. */
export interface ErpConfig {
  readonly accountId: string;
  /** REST base URL; defaults to `https://<account>.suitetalk.api.netsuite.com` (override with `-c netsuiteBaseUrl=`). */
  readonly baseUrl?: string;
  /**
   * The account's concurrency limit (Standard 5, Premium 15, Enterprise 20, +10 per SuiteCloud Plus
   * licence); override with `-c erpConcurrencyLimit=<n>`. Order capture uses all of it (see erp-pacing.ts).
   */
  readonly concurrencyLimit: number;
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
  /** The POS account (Square); absent = production Square, notification URL taken from the request. */
  readonly pos?: PosConfig;
}

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/**
 * NetSuite internal ids orders are booked with — per-account onboarding values: every NetSuite account
 * numbers its records itself, so a real account's administrator reads these ids from the account (the
 * items' and locations' internal ids) and sets them here. These are the NetSuite sandbox's
 * (`sandbox/netsuite/store.ts`, documented in sandbox/README.md): booking items OH-DISCOUNT = 1,
 * OH-SHIPPING = 2, OH-TAX = 3, OH-GIFTCARD = 4, location WH-01 = 1, currency USD = 1. The sandbox does
 * not check customers or currencies. `npm run ops -- sync-mappings` reports any id here that the ERP
 * does not have.
 */
const SANDBOX_ERP_MAPPING: NetSuiteMappingConfig = {
  customers: { online: '1', pos: '2' },
  items: { discount: '1', shipping: '2', tax: '3', giftCard: '4' },
  currencies: { USD: '1' },
  onlineLocationId: '1',
  timeZone: 'UTC',
};

const base = {
  maxWebhookBodyBytes: 1024 * 1024,
  webhookThrottle: { rateLimit: 200, burstLimit: 400 },
  erp: {
    accountId: 'TSTDRV1234567',
    concurrencyLimit: 15,
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
