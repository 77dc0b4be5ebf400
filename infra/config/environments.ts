import { RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { NetSuiteMappingConfig } from '#shared/connectors/netsuite/mapper.ts';
import type { FinanceAccounts } from '#shared/finance/journal.ts';
import { DEFAULT_POLICY, type InventoryPolicy } from '#shared/inventory/policy.ts';
import { DEFAULT_RESOLVED_RETENTION_DAYS } from '#shared/repositories/exceptions.ts';
import type { ShopConfig } from '#shared/runtime/shops.ts';
import type { EncryptionMode } from './encryption-modes.ts';
import { loadOperatorConfig, REQUIRED_OPERATOR_SETTINGS } from './operator.ts';
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

/** The alarm topic's subscriptions. */
export interface AlarmSubscriptions {
  readonly emails: readonly string[];
  readonly httpsEndpoints: readonly string[];
}

/** Powertools log level of every function in an environment. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/**
 * AWS WAF in front of the webhook API (CloudFront with a web ACL; see `infra/constructs/webhook-edge.ts`).
 */
export interface WafConfig {
  /** Requests one client IP may send in any 5 minutes before WAF answers 429 (AWS WAF minimum 10). */
  readonly rateLimitPer5Minutes: number;
  /**
   * ARN of the CLOUDFRONT-scope web ACL (in us-east-1) that `Omnihub-<env>-waf` created: its
   * `WebAclArn` output. Absent: the web ACL stack is synthesized but the hub is not yet fronted by it.
   */
  readonly webAclArn?: string;
}

/** Everything that differs between environments, typed, in one place. */
export interface EnvironmentConfig {
  readonly name: EnvironmentName;
  /** Shops whose webhooks are accepted (operator config `shops`, or `-c shops=a.myshopify.com:USD,…`). */
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
  /**
   * Days a parked input (the exceptions table) is kept once it is resolved — replayed or dismissed —
   * before DynamoDB's TTL deletes it with its payload (raw webhook bodies hold buyers' contact data).
   * An unresolved input never expires: nothing is lost before someone acted on it.
   */
  readonly resolvedExceptionRetentionDays: number;
  readonly logLevel: LogLevel;
  /** Keys of everything the hub stores (operator config `encryption`); dev stays `aws-managed`. */
  readonly encryption: EncryptionMode;
  /** Who the alarm topic notifies (operator config `alarms`). @default nobody (subscribe later, README) */
  readonly alarms?: AlarmSubscriptions;
  /** AWS WAF in front of the webhook API (operator config `edge.waf`). @default none */
  readonly waf?: WafConfig;
  readonly erp: ErpConfig;
  /** The POS account (Square); absent = production Square, notification URL taken from the request. */
  readonly pos?: PosConfig;
  /** The scheduled POS sweep (`SearchOrders` for what webhooks missed). */
  readonly posSweep: PosSweepConfig;
  /** Inventory availability (issue #13): policy, ERP change-feed polling. */
  readonly inventory: InventoryConfig;
  /** Buy online, pick up in store (issue #14): how long the store and the customer have. */
  readonly bopis: BopisConfig;
  /**
   * Admin API base URL of the shops (`-c shopifyBaseUrl=`; the local cloud points it at its sandbox).
   * @default `https://<shop domain>` per shop
   */
  readonly shopifyAdminBaseUrl?: string;
  /** The reconciler (issue #15): when it runs, how far it looks, whether it may heal. */
  readonly reconciliation: ReconciliationConfig;
  /**
   * Financial posting (issue #16): payouts and store takings → ERP journal entries. Absent (staging and
   * prod without operator config `finance`): the Finance flow is not deployed.
   */
  readonly finance?: FinanceConfig;
}

/** The scheduled reconciliation of ERP vs Shopify vs POS vs the projection. */
export interface ReconciliationConfig {
  /** EventBridge Scheduler expression of the scheduled run. */
  readonly schedule: string;
  /** How far back a run without `since` reaches (min); above the schedule's rate, so windows overlap. */
  readonly lookbackMinutes: number;
  /** Orders of the last minutes are left to the next run: their webhooks may still be in flight (min). */
  readonly settleMinutes: number;
  /**
   * `on-request`: a run heals when asked (`heal: true`); `dry-run`: every run only reports, whatever it
   * asks (the production default: healing there is a decision an operator makes by changing this).
   */
  readonly heal: 'on-request' | 'dry-run';
  /** Whether the scheduled run asks to heal (only effective with `heal: on-request`). */
  readonly scheduledHeal: boolean;
  /** Days runs and discrepancies are kept (DynamoDB TTL). */
  readonly retentionDays: number;
}

/** The finance flow's settings. */
export interface FinanceConfig {
  /** EventBridge Scheduler expression of the collector (a minute at the least). */
  readonly schedule: string;
  /** How far back payouts are read, by issue date. */
  readonly payoutLookbackDays: number;
  /** Closed business days of each store (re)computed per run. */
  readonly takingsLookbackDays: number;
  /** Minutes after a store's local midnight before its day counts as closed. */
  readonly closeGraceMinutes: number;
  /** How long after a payout's issue its orders may still be on their way to the ERP (then it parks). */
  readonly bookingGraceSeconds: number;
  /** General-ledger accounts (NetSuite internal ids): operator config `finance.accounts`. */
  readonly accounts: FinanceAccounts;
}

/** Finance settings every environment shares; the accounts are the account's own. */
export const FINANCE_DEFAULTS = {
  schedule: 'rate(1 hour)',
  payoutLookbackDays: 7,
  takingsLookbackDays: 3,
  closeGraceMinutes: 60,
  bookingGraceSeconds: 6 * 3600,
} as const;

/**
 * The NetSuite sandbox's chart of accounts (sandbox/netsuite/store.ts `ACCOUNTS`): bank 1000 = 10, store cash
 * 1010 = 11, Shopify Payments clearing 1100 = 12, POS card clearing 1200 = 13, sales refunds 4900 = 14,
 * merchant fees 6100 = 15.
 */
const SANDBOX_FINANCE_ACCOUNTS: FinanceAccounts = {
  shopify: { bank: '10', clearing: '12', fees: '15', refunds: '14' },
  pos: { bank: '10', cash: '11', clearing: '13', fees: '15', refunds: '14' },
};

/** The BOPIS workflow's windows (state-machines/bopis). */
export interface BopisConfig {
  /** How long the store has to mark a handed-over pick-up PREPARED before it is undone. @default 24 h */
  readonly prepareWindowSeconds: number;
  /** How long the customer has to collect a prepared pick-up (the pick-up window). @default 72 h */
  readonly pickupWindowSeconds: number;
}

/** The inventory flow's settings. */
export interface InventoryConfig {
  /** Availability policy, as data (shared/inventory/policy.ts). */
  readonly policy: InventoryPolicy;
  /** The ERP change-feed poller: the schedule that starts a run, and how one run polls. */
  readonly erpPoll: {
    /** EventBridge Scheduler expression (a minute at the least). */
    readonly schedule: string;
    /** How long one run keeps polling (s): below the schedule's rate, so runs do not overlap. */
    readonly windowSeconds: number;
    /** Pause between polls when the feed is drained (ms). */
    readonly intervalMs: number;
  };
}

/** How often the POS sweep runs and how far it reaches back. */
export interface PosSweepConfig {
  /** EventBridge Scheduler expression, e.g. `rate(5 minutes)` (a minute at the least). */
  readonly schedule: string;
  /** Each run reaches this far before the previous run's end: clock skew and search-index lag. */
  readonly overlapSeconds: number;
  /** The first run (no cursor yet) reaches this far back. */
  readonly initialLookbackSeconds: number;
}

export const ENVIRONMENT_NAMES = ['dev', 'staging', 'prod'] as const;
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number];

/** What the repository knows of an environment; the operator's config supplies the rest. */
type EnvironmentDefaults = Omit<EnvironmentConfig, 'shops' | 'erp'> &
  Partial<Pick<EnvironmentConfig, 'shops' | 'erp'>>;

/**
 * NetSuite internal ids orders are booked with in **dev**: the NetSuite sandbox's
 * (`sandbox/netsuite/store.ts`, documented in sandbox/README.md): customers Web = 1 and Walk-in = 2, booking
 * items OH-DISCOUNT = 1, OH-SHIPPING = 2, OH-GIFTCARD = 4, SuiteTax tax type US Sales Tax = 1 and tax code
 * US-STANDARD = 5, subsidiary 1, location WH-01 = 1, currency USD = 1. Every NetSuite
 * account numbers its records itself, so staging and prod take theirs from the operator's config
 * (`-c config=<file>`), never from here. `npm run ops -- sync-mappings` reports any id that the ERP does
 * not have.
 */
const SANDBOX_ERP: ErpConfig = {
  accountId: 'TSTDRV1234567',
  concurrencyLimit: 15,
  mapping: {
    customers: { online: '1', pos: '2' },
    items: { discount: '1', shipping: '2', giftCard: '4' },
    tax: { typeId: '1', codeId: '5' },
    subsidiaryId: '1',
    currencies: { USD: '1' },
    onlineLocationId: '1',
    timeZone: 'UTC',
  },
};

const base = {
  encryption: 'aws-managed' as EncryptionMode,
  maxWebhookBodyBytes: 1024 * 1024,
  resolvedExceptionRetentionDays: DEFAULT_RESOLVED_RETENTION_DAYS,
  webhookThrottle: { rateLimit: 200, burstLimit: 400 },
  posSweep: { schedule: 'rate(5 minutes)', overlapSeconds: 600, initialLookbackSeconds: 24 * 3600 },
  reconciliation: {
    schedule: 'rate(1 hour)',
    lookbackMinutes: 24 * 60,
    settleMinutes: 15,
    heal: 'on-request' as const,
    scheduledHeal: false,
    retentionDays: 90,
  },
  // Every location publishes online, no safety stock (the documented default; replace as data per environment).
  inventory: {
    policy: DEFAULT_POLICY,
    erpPoll: { schedule: 'rate(1 minute)', windowSeconds: 50, intervalMs: 5000 },
  },
  bopis: { prepareWindowSeconds: 24 * 3600, pickupWindowSeconds: 72 * 3600 },
};

export const ENVIRONMENTS: {
  readonly dev: EnvironmentConfig;
  readonly staging: EnvironmentDefaults;
  readonly prod: EnvironmentDefaults;
} = {
  dev: {
    ...base,
    name: 'dev',
    shops: [{ domain: 'omnihub-dev.myshopify.com', currency: 'USD' }],
    erp: SANDBOX_ERP,
    logRetention: RetentionDays.ONE_WEEK,
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    archiveRetentionDays: 7,
    logLevel: 'DEBUG',
    // Every 15 minutes over the last 2 hours, healing on request (the local demo heals on demand).
    reconciliation: {
      ...base.reconciliation,
      schedule: 'rate(15 minutes)',
      lookbackMinutes: 120,
      settleMinutes: 2,
    },
    // Every minute (Scheduler's finest rate) so a missed sale shows up in the ERP quickly when trying things out.
    posSweep: { schedule: 'rate(1 minute)', overlapSeconds: 300, initialLookbackSeconds: 6 * 3600 },
    inventory: {
      policy: DEFAULT_POLICY,
      // Polls every 2 s so a stock change reaches the sandbox Shopify in seconds when trying things out.
      erpPoll: { schedule: 'rate(1 minute)', windowSeconds: 50, intervalMs: 2000 },
    },
    // Every minute and a short close: a day of sandbox takings reaches the ERP sandbox soon after midnight.
    finance: {
      ...FINANCE_DEFAULTS,
      schedule: 'rate(1 minute)',
      closeGraceMinutes: 5,
      bookingGraceSeconds: 600,
      accounts: SANDBOX_FINANCE_ACCOUNTS,
    },
  },
  staging: {
    ...base,
    name: 'staging',
    logRetention: RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
    pointInTimeRecovery: false,
    archiveRetentionDays: 14,
    logLevel: 'INFO',
  },
  prod: {
    ...base,
    name: 'prod',
    logRetention: RetentionDays.THREE_MONTHS,
    removalPolicy: RemovalPolicy.RETAIN,
    pointInTimeRecovery: true,
    webhookThrottle: { rateLimit: 1000, burstLimit: 2000 },
    archiveRetentionDays: 90,
    logLevel: 'INFO',
    // Reports only: what heal would change in the books is an operator's decision in production.
    reconciliation: { ...base.reconciliation, heal: 'dry-run' },
  },
};

/** Context values (`-c key=value`) that shape an environment. */
export interface EnvironmentContext {
  /** `-c config=<file>`: the operator's config (required for staging and prod). */
  readonly config?: unknown;
  /** `-c shops=domain:CUR,…`: overrides the shops (local runs, quick tests). */
  readonly shops?: unknown;
  /** `-c netsuiteBaseUrl=`: the local cloud points the ERP at its sandbox. */
  readonly netsuiteBaseUrl?: unknown;
  /** `-c shopifyBaseUrl=`: the local cloud points the shops' Admin API at its sandbox. */
  readonly shopifyBaseUrl?: unknown;
}

/**
 * Resolves `-c env=<name>` with the operator's config file and the `-c` overrides, in that order. An
 * unknown or missing environment fails fast with the list of known ones; a deployed environment without
 * the operator's settings fails naming what is missing — sandbox ids never reach staging or prod.
 */
export function resolveEnvironment(name: unknown, context: EnvironmentContext = {}): EnvironmentConfig {
  if (typeof name !== 'string' || !ENVIRONMENT_NAMES.includes(name as EnvironmentName)) {
    throw new Error(
      `unknown environment ${JSON.stringify(name)}: pass -c env=<${ENVIRONMENT_NAMES.join('|')}>`,
    );
  }
  let defaults: EnvironmentDefaults = ENVIRONMENTS[name as EnvironmentName];
  if (context.config !== undefined && context.config !== '') {
    if (typeof context.config !== 'string') throw new Error('-c config must be a file path');
    const operator = loadOperatorConfig(context.config, name);
    defaults = {
      ...defaults,
      shops: operator.shops,
      erp: operator.erp,
      pos: { ...defaults.pos, ...operator.pos },
      ...(operator.encryption ? { encryption: operator.encryption } : {}),
      ...(operator.edge?.waf ? { waf: operator.edge.waf } : {}),
      ...(operator.alarms ? { alarms: operator.alarms } : {}),
      ...(operator.finance ? { finance: { ...FINANCE_DEFAULTS, ...operator.finance } } : {}),
    };
  }
  const { shops, erp } = defaults;
  if (!shops || !erp) {
    throw new Error(
      `${name} needs the operator's settings, which have no defaults: ${REQUIRED_OPERATOR_SETTINGS.join(', ')}. ` +
        'Pass -c config=<file> (example with fake values: docs/examples/operator-config.prod.json; see README, "Deploy").',
    );
  }
  let config: EnvironmentConfig = { ...defaults, shops, erp };
  const { netsuiteBaseUrl } = context;
  if (netsuiteBaseUrl !== undefined) {
    if (typeof netsuiteBaseUrl !== 'string' || !vendorUrlPattern(name).test(netsuiteBaseUrl)) {
      throw new Error(`-c netsuiteBaseUrl must be an ${name === 'dev' ? 'http(s)' : 'https'} URL`);
    }
    config = { ...config, erp: { ...config.erp, baseUrl: netsuiteBaseUrl } };
  }
  const { shopifyBaseUrl } = context;
  if (shopifyBaseUrl !== undefined && shopifyBaseUrl !== '') {
    if (typeof shopifyBaseUrl !== 'string' || !vendorUrlPattern(name).test(shopifyBaseUrl)) {
      throw new Error(`-c shopifyBaseUrl must be an ${name === 'dev' ? 'http(s)' : 'https'} URL`);
    }
    config = { ...config, shopifyAdminBaseUrl: shopifyBaseUrl };
  }
  return withShopsOverride(config, context.shops);
}

/**
 * Vendor URLs an environment may call: plain http only in dev (the local cloud's sandboxes on
 * loopback); credentials and customer data travel to staging and prod vendors over TLS only.
 */
export const vendorUrlPattern = (environment: string): RegExp =>
  environment === 'dev' ? /^https?:\/\/\S+$/ : /^https:\/\/\S+$/;

/** `-c shops=domain:CUR,domain:CUR`, validated. */
function withShopsOverride(config: EnvironmentConfig, shopsOverride: unknown): EnvironmentConfig {
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
