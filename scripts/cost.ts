/**
 * `npm run cost -- [--env dev|staging|prod] [--profile small|mid-size|black-friday] [--orders-per-day N] …`:
 * the monthly AWS bill of the synthesized stack under a workload, per service and per flow, and per
 * 1,000 orders, each line explained (quantity × price). The arithmetic is scripts/cost/model.ts; the
 * prices scripts/cost/prices.ts (dated, with sources); the workload scripts/cost/workload.ts.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { synthesize } from '#local/synth.ts';
import { type CostReport, DEFAULT_ASSUMPTIONS, estimateCost, type RawTemplate } from './cost/model.ts';
import { PRICE_SOURCES, PRICES, PRICES_AS_OF } from './cost/prices.ts';
import { MID_SIZE, PROFILES, type Workload } from './cost/workload.ts';

const projectDir = join(dirname(fileURLToPath(import.meta.url)), '..');

const WORKLOAD_FLAGS: Record<string, keyof Workload> = {
  'orders-per-day': 'ordersPerDay',
  'edits-per-day': 'editsPerDay',
  'cancellations-per-day': 'cancellationsPerDay',
  'pos-sales-per-day': 'posSalesPerDay',
  'movements-per-day': 'movementsPerDay',
  'returns-per-day': 'returnsPerDay',
  'pos-refunds-per-day': 'posRefundsPerDay',
  'pickups-per-day': 'pickupsPerDay',
  'price-changes-per-day': 'priceChangesPerDay',
  'duplicate-share': 'duplicateShare',
  'active-hours': 'activeHours',
};

const HELP = `usage: npm run cost -- [options]

Prints the monthly AWS cost of the synthesized stack under a workload: per service, per flow, per
1,000 orders (online + POS), and every line with its arithmetic. Prices: on-demand list prices as of
${PRICES_AS_OF}, no free tier (scripts/cost/prices.ts, with sources).

  --env <dev|staging|prod>   stack to synthesize (default dev; staging/prod use --config)
  --config <file>            operator config for staging/prod (default docs/examples/operator-config.<env>.json)
  --template <dir|file>      read this cloud assembly or template instead of synthesizing
  --region <${Object.keys(PRICES).join('|')}>   price table (default us-east-1)
  --profile <${Object.keys(PROFILES).join('|')}>   workload preset (default mid-size)
  --days <n>                 days in the month (default 30)
  --lines                    print every line with its arithmetic (default: the 25 largest)
  --json                     print the report as JSON

Workload (per day; defaults: the mid-size retailer, 120 stores and a busy storefront):
${Object.entries(WORKLOAD_FLAGS)
  .map(([flag, key]) => `  --${flag.padEnd(24)} default ${MID_SIZE[key]}`)
  .join('\n')}

Assumptions the template cannot tell (scripts/cost/model.ts): ${DEFAULT_ASSUMPTIONS.baseMs} ms per
invocation + ${DEFAULT_ASSUMPTIONS.recordMs} ms per record (+ ${DEFAULT_ASSUMPTIONS.erpCallMs} ms per record for a
function calling the ERP), ${DEFAULT_ASSUMPTIONS.initMs} ms billed init per cold start, ${DEFAULT_ASSUMPTIONS.coldStartsPerHour}
cold starts per function and active hour, log bytes per invocation by log level, ${DEFAULT_ASSUMPTIONS.metricsPerFunction}
custom metrics per function, one DynamoDB unit per record on each table a function may read or write.
`;

function parse() {
  const { values } = parseArgs({
    options: {
      env: { type: 'string', default: 'dev' },
      config: { type: 'string' },
      template: { type: 'string' },
      region: { type: 'string', default: 'us-east-1' },
      profile: { type: 'string', default: 'mid-size' },
      days: { type: 'string', default: '30' },
      lines: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      ...Object.fromEntries(Object.keys(WORKLOAD_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
    },
    strict: true,
  });
  return values as Record<string, string | boolean | undefined>;
}

async function templates(options: Record<string, string | boolean | undefined>): Promise<RawTemplate[]> {
  const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as RawTemplate;
  const given = options.template as string | undefined;
  const fromDir = (dir: string) =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.template.json'))
      .map((name) => read(join(dir, name)));
  if (given) return given.endsWith('.json') ? [read(given)] : fromDir(given);
  const env = String(options.env);
  const config = (options.config as string | undefined) ?? `docs/examples/operator-config.${env}.json`;
  const context: Record<string, string> =
    env === 'dev' ? {} : existsSync(join(projectDir, config)) ? { config } : {};
  const outDir = join(projectDir, '.local', 'cdk.out', `cost-${env}`);
  const synth = await synthesize({ projectDir, outDir, environment: env, context });
  console.error(
    `cost: ${synth.cached ? 'cached synth' : `synthesized ${env} in ${(synth.ms / 1000).toFixed(1)} s`}`,
  );
  return fromDir(outDir);
}

const money = (n: number) => `$${n.toFixed(2).padStart(9)}`;

function print(report: CostReport, workload: Workload, label: string, all: boolean): void {
  const out: string[] = [];
  out.push(
    `Monthly cost (${report.days} days, ${report.region}, on-demand prices as of ${PRICES_AS_OF}) — ${label}`,
  );
  out.push(
    `workload/day: ${workload.ordersPerDay} online orders, ${workload.posSalesPerDay} POS sales, ${workload.editsPerDay} edits, ${workload.cancellationsPerDay} cancellations, ${workload.movementsPerDay} stock movements, ${workload.returnsPerDay} returns, ${workload.posRefundsPerDay} POS refunds, ${workload.pickupsPerDay} pick-ups, ${workload.priceChangesPerDay} price changes`,
  );
  out.push('', 'per service');
  for (const [service, cost] of Object.entries(report.byService).sort((a, b) => b[1] - a[1])) {
    out.push(`  ${service.padEnd(24)} ${money(cost)}`);
  }
  out.push('', 'per flow');
  for (const [flow, cost] of Object.entries(report.byFlow).sort((a, b) => b[1] - a[1])) {
    out.push(`  ${flow.padEnd(24)} ${money(cost)}`);
  }
  out.push('', `total                      ${money(report.total)} / month`);
  out.push(
    `per 1,000 orders           ${money(report.per1000Orders)}   (${report.ordersPerMonth.toLocaleString('en-US')} orders a month, online + POS)`,
  );
  const lines = [...report.lines].sort((a, b) => b.monthly - a.monthly);
  const shown = all ? lines : lines.slice(0, 25);
  out.push('', all ? 'every line' : `the ${shown.length} largest lines (--lines for all ${lines.length})`);
  for (const line of shown) {
    out.push(`  ${money(line.monthly)}  ${line.service} · ${line.resource} · ${line.item}: ${line.explain}`);
  }
  if (report.notes.length > 0) out.push('', 'not priced', ...report.notes.map((note) => `  ${note}`));
  out.push('', 'sources', ...Object.entries(PRICE_SOURCES).map(([service, url]) => `  ${service}: ${url}`));
  console.log(out.join('\n'));
}

const options = parse();
if (options.help) {
  console.log(HELP);
  process.exit(0);
}
const prices = PRICES[String(options.region)];
const preset = PROFILES[String(options.profile)];
if (!prices || !preset) {
  console.error(`unknown ${prices ? 'profile' : 'region'}\n\n${HELP}`);
  process.exit(2);
}
const workload: Workload = {
  ...preset,
  ...Object.fromEntries(
    Object.entries(WORKLOAD_FLAGS)
      .filter(([flag]) => options[flag] !== undefined)
      .map(([flag, key]) => {
        const value = Number(options[flag]);
        if (!Number.isFinite(value) || value < 0) {
          console.error(`--${flag} must be a number ≥ 0`);
          process.exit(2);
        }
        return [key, value];
      }),
  ),
};
const report = estimateCost(
  await templates(options),
  workload,
  prices,
  DEFAULT_ASSUMPTIONS,
  Number(options.days),
);
if (options.json) console.log(JSON.stringify(report));
else
  print(
    report,
    workload,
    `${options.template ?? `Omnihub-${options.env}`}, profile ${options.profile}`,
    Boolean(options.lines),
  );
