/**
 * AWS on-demand list prices used by `npm run cost`, per region, in USD. Dated: prices change, so re-check
 * the source pages (the `sources` below) and bump `asOf` when you do. Free tiers are left out on purpose
 * (the estimate is for an account that already uses them elsewhere); tiered prices use their first tier,
 * which is the one a retailer's hub lives in.
 *
 * us-east-1 figures are the pages' "US East (N. Virginia)" rows; eu-west-1 figures are the same pages'
 * "Europe (Ireland)" rows (where a page shows one price for all regions, it is that price).
 */
export interface RegionPrices {
  readonly region: string;
  readonly lambda: {
    /** Per GB-second, by architecture (first tier: 6 billion x86 / 7.5 billion arm64 GB-s a month). */
    readonly gbSecond: { readonly arm64: number; readonly x86_64: number };
    readonly perMillionRequests: number;
  };
  readonly apiGateway: { readonly httpPerMillion: number; readonly restPerMillion: number };
  readonly sqs: { readonly standardPerMillion: number; readonly fifoPerMillion: number };
  readonly eventBridge: {
    readonly customEventsPerMillion: number;
    readonly archivePerGbProcessed: number;
    readonly archivePerGbMonth: number;
  };
  readonly scheduler: { readonly perMillionInvocations: number };
  readonly stepFunctions: {
    readonly standardPerThousandTransitions: number;
    readonly expressPerMillionRequests: number;
    readonly expressPerGbSecond: number;
  };
  readonly dynamodb: {
    readonly perMillionWriteUnits: number;
    readonly perMillionReadUnits: number;
    readonly perGbMonth: number;
  };
  readonly logs: { readonly ingestPerGb: number; readonly storagePerGbMonth: number };
  readonly cloudwatch: {
    readonly perAlarmMetricMonth: number;
    readonly perDashboardMonth: number;
    readonly perCustomMetricMonth: number;
  };
  readonly xray: { readonly perMillionTracesRecorded: number };
  readonly kms: { readonly perKeyMonth: number; readonly perTenThousandRequests: number };
  readonly secretsManager: { readonly perSecretMonth: number; readonly perTenThousandCalls: number };
  readonly waf: {
    readonly perWebAclMonth: number;
    readonly perRuleMonth: number;
    readonly perMillionRequests: number;
  };
  readonly cloudFront: { readonly perTenThousandHttpsRequests: number };
}

export const PRICES_AS_OF = '2026-12-03';

export const PRICE_SOURCES: Readonly<Record<string, string>> = {
  lambda: 'https://aws.amazon.com/lambda/pricing/',
  apiGateway: 'https://aws.amazon.com/api-gateway/pricing/',
  sqs: 'https://aws.amazon.com/sqs/pricing/',
  eventBridge: 'https://aws.amazon.com/eventbridge/pricing/',
  scheduler: 'https://aws.amazon.com/eventbridge/pricing/#Scheduler',
  stepFunctions: 'https://aws.amazon.com/step-functions/pricing/',
  dynamodb: 'https://aws.amazon.com/dynamodb/pricing/on-demand/ (on-demand throughput halved on 2024-11-01)',
  logs: 'https://aws.amazon.com/cloudwatch/pricing/ (Logs: Standard log class)',
  cloudwatch: 'https://aws.amazon.com/cloudwatch/pricing/ (Metrics, Dashboards, Alarms)',
  xray: 'https://aws.amazon.com/xray/pricing/',
  kms: 'https://aws.amazon.com/kms/pricing/',
  secretsManager: 'https://aws.amazon.com/secrets-manager/pricing/',
  waf: 'https://aws.amazon.com/waf/pricing/',
  cloudFront: 'https://aws.amazon.com/cloudfront/pricing/',
};

const US_EAST_1: RegionPrices = {
  region: 'us-east-1',
  lambda: { gbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 }, perMillionRequests: 0.2 },
  apiGateway: { httpPerMillion: 1.0, restPerMillion: 3.5 },
  sqs: { standardPerMillion: 0.4, fifoPerMillion: 0.5 },
  eventBridge: { customEventsPerMillion: 1.0, archivePerGbProcessed: 0.1, archivePerGbMonth: 0.023 },
  scheduler: { perMillionInvocations: 1.0 },
  stepFunctions: {
    standardPerThousandTransitions: 0.025,
    expressPerMillionRequests: 1.0,
    expressPerGbSecond: 0.00001667,
  },
  dynamodb: { perMillionWriteUnits: 0.625, perMillionReadUnits: 0.125, perGbMonth: 0.25 },
  logs: { ingestPerGb: 0.5, storagePerGbMonth: 0.03 },
  cloudwatch: { perAlarmMetricMonth: 0.1, perDashboardMonth: 3.0, perCustomMetricMonth: 0.3 },
  xray: { perMillionTracesRecorded: 5.0 },
  kms: { perKeyMonth: 1.0, perTenThousandRequests: 0.03 },
  secretsManager: { perSecretMonth: 0.4, perTenThousandCalls: 0.05 },
  waf: { perWebAclMonth: 5.0, perRuleMonth: 1.0, perMillionRequests: 0.6 },
  cloudFront: { perTenThousandHttpsRequests: 0.01 },
};

const EU_WEST_1: RegionPrices = {
  ...US_EAST_1,
  region: 'eu-west-1',
  apiGateway: { httpPerMillion: 1.11, restPerMillion: 3.5 },
  dynamodb: { perMillionWriteUnits: 0.7068, perMillionReadUnits: 0.1414, perGbMonth: 0.283 },
  logs: { ingestPerGb: 0.57, storagePerGbMonth: 0.03 },
  cloudFront: { perTenThousandHttpsRequests: 0.012 },
};

export const PRICES: Readonly<Record<string, RegionPrices>> = {
  'us-east-1': US_EAST_1,
  'eu-west-1': EU_WEST_1,
};
