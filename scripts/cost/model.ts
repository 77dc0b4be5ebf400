/**
 * The monthly bill of a synthesized template under a workload: pure arithmetic over the template's
 * resources, a price table and the workload (no AWS calls, no synth), so that a test can check every
 * line on a small hand-made template.
 *
 * How the invocations are derived from the wiring (each is an assumption, printed with its line):
 * - an HTTP API route's function runs once per webhook request to that route (workload.ts);
 * - an EventBridge rule delivers every canonical event whose `source` and `detail-type` its pattern
 *   lists (other pattern fields are assumed to match) to each of its targets;
 * - a queue receives what rules deliver to it, plus one message per record processed by each function
 *   whose role may `sqs:SendMessage` to it (a function re-queuing its own retries is not counted);
 * - an SQS event source mapping invokes its function once per batch: the messages arriving within the
 *   batching window at the average rate over the active hours, at least 1, at most the batch size;
 * - a schedule (`rate(…)`) invokes its target at that rate all day;
 * - a Step Functions state machine runs once per event delivered to it and makes one transition per
 *   state of its definition (an upper bound for definitions with branches);
 * - DynamoDB: per record processed, one write unit on each table the function may write and one read
 *   unit on each table it may read (1 KB items, strongly consistent reads), except an idempotency table
 *   (2 writes: in progress, completed) and an exceptions table (only the parked share) — told apart by
 *   the environment variable that hands the table to the function; storage is not priced.
 */
import type { RegionPrices } from './prices.ts';
import { eventVolumes, ordersPerMonth, routeVolumes, type Workload } from './workload.ts';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface RawResource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly Metadata?: Record<string, Json>;
}

export interface RawTemplate {
  readonly Resources?: Record<string, RawResource>;
}

/** Assumptions about each invocation that the template cannot tell. */
export interface RuntimeAssumptions {
  /** Billed duration of one invocation before its records. */
  readonly baseMs: number;
  /** Added per record handled. */
  readonly recordMs: number;
  /** Added per record by a function that calls the ERP (its environment names `NETSUITE_BASE_URL`). */
  readonly erpCallMs: number;
  /** Init phase billed per cold start (Lambda bills INIT for on-demand functions since 2025-08-01). */
  readonly initMs: number;
  /** Cold starts per function and active hour. */
  readonly coldStartsPerHour: number;
  /** Log bytes per invocation by Powertools log level (platform lines and the EMF metrics included). */
  readonly logBytes: Readonly<Record<string, number>>;
  /** Distinct custom metrics (name × dimensions) each function emits. */
  readonly metricsPerFunction: number;
  /** Size of a canonical event (archive). */
  readonly eventBytes: number;
  /** Lambda's SQS event source polls with long polls even when idle (AWS: 5 pollers to start). */
  readonly idlePollersPerQueue: number;
  /** Months of an archive or a log group that never expires (both grow until someone sets a retention). */
  readonly neverExpiresMonths: number;
  /** Secrets Manager reads per function and hour (cached secrets, refreshed every 5 minutes). */
  readonly secretReadsPerHour: number;
  /** KMS requests per encrypted resource and hour (data keys reused for 5 minutes). */
  readonly kmsRequestsPerResourceHour: number;
  /** Average Express state machine run. */
  readonly expressSeconds: number;
  /** Share of records parked in an exceptions table (its writes and reads). */
  readonly parkedShare: number;
}

export const DEFAULT_ASSUMPTIONS: RuntimeAssumptions = {
  baseMs: 60,
  recordMs: 25,
  erpCallMs: 700,
  initMs: 250,
  coldStartsPerHour: 2,
  logBytes: { DEBUG: 6_000, INFO: 1_800, WARN: 900, ERROR: 900 },
  metricsPerFunction: 6,
  eventBytes: 3_000,
  idlePollersPerQueue: 5,
  neverExpiresMonths: 12,
  secretReadsPerHour: 12,
  kmsRequestsPerResourceHour: 12,
  expressSeconds: 2,
  parkedShare: 0.005,
};

export interface CostLine {
  readonly service: string;
  readonly flow: string;
  readonly resource: string;
  readonly item: string;
  readonly monthly: number;
  /** `quantity × price`, in words. */
  readonly explain: string;
}

export interface CostReport {
  readonly region: string;
  readonly days: number;
  readonly lines: CostLine[];
  readonly byService: Record<string, number>;
  readonly byFlow: Record<string, number>;
  readonly total: number;
  readonly ordersPerMonth: number;
  readonly per1000Orders: number;
  /** What the model could not price from the template (a rule with no events, an unknown route…). */
  readonly notes: string[];
}

const fmt = (n: number): string =>
  n >= 100
    ? Math.round(n).toLocaleString('en-US')
    : n.toLocaleString('en-US', { maximumSignificantDigits: 4 });
const usd = (n: number): string => `$${n < 0.01 && n > 0 ? n.toPrecision(2) : n.toFixed(n < 1 ? 4 : 2)}`;

/** Every logical id a value references through `Ref` or `Fn::GetAtt` (also inside joins and subs). */
export function refsIn(value: Json | undefined): string[] {
  if (value === null || value === undefined || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap(refsIn);
  const out: string[] = [];
  for (const [key, inner] of Object.entries(value)) {
    if (key === 'Ref' && typeof inner === 'string') out.push(inner);
    else if (key === 'Fn::GetAtt') {
      const target = Array.isArray(inner)
        ? inner[0]
        : typeof inner === 'string'
          ? inner.split('.')[0]
          : undefined;
      if (typeof target === 'string') out.push(target);
    } else if (key === 'Fn::Sub' && typeof (Array.isArray(inner) ? inner[0] : inner) === 'string') {
      const text = String(Array.isArray(inner) ? inner[0] : inner);
      for (const match of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}/g))
        out.push(match[1] as string);
      if (Array.isArray(inner)) out.push(...refsIn(inner[1]));
    } else out.push(...refsIn(inner));
  }
  return out;
}

/** The flow a resource belongs to: the construct under the stack (`Omnihub-dev/OrderCapture/…`). */
function flowOf(resource: RawResource): string {
  const path = resource.Metadata?.['aws:cdk:path'];
  if (typeof path !== 'string') return 'shared';
  const parts = path.split('/');
  // `Stack/Construct/Resource` is a stack-level resource (the bus, a table): shared by the flows.
  return parts.length > 3 ? (parts[1] as string) : 'shared';
}

const asArray = (value: Json | undefined): Json[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** Whether an EventBridge pattern's `source` and `detail-type` admit this event (other fields assumed to). */
function patternMatches(pattern: Json | undefined, source: string, detailType: string): boolean {
  if (!pattern || typeof pattern !== 'object' || Array.isArray(pattern)) return false;
  const admits = (field: Json | undefined, value: string): boolean =>
    field === undefined || asArray(field).some((candidate) => candidate === value);
  return admits(pattern.source, source) && admits(pattern['detail-type'], detailType);
}

/** Invocations a day of `rate(n unit)`; a cron expression is priced as once an hour (noted). */
function scheduleRunsPerDay(expression: string): number | undefined {
  const match = /^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$/.exec(expression.trim());
  if (!match) return undefined;
  const n = Number(match[1]);
  const unit = match[2] as string;
  return unit.startsWith('minute') ? 1440 / n : unit.startsWith('hour') ? 24 / n : 1 / n;
}

interface FunctionUse {
  invocationsPerDay: number;
  recordsPerDay: number;
  why: string[];
}

const WRITE_ACTIONS = /^dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem|\*)$/;
const READ_ACTIONS = /^dynamodb:(GetItem|Query|BatchGetItem|Scan|\*)$/;

export function estimateCost(
  templates: readonly RawTemplate[],
  workload: Workload,
  prices: RegionPrices,
  assumptions: RuntimeAssumptions = DEFAULT_ASSUMPTIONS,
  days = 30,
): CostReport {
  const resources = new Map<string, RawResource>();
  for (const template of templates) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) resources.set(id, resource);
  }
  const ofType = (type: string) => [...resources].filter(([, resource]) => resource.Type === type);
  const lines: CostLine[] = [];
  const notes: string[] = [];
  const add = (service: string, id: string, item: string, monthly: number, explain: string) => {
    const resource = resources.get(id);
    lines.push({
      service,
      flow: resource ? flowOf(resource) : 'shared',
      resource: id,
      item,
      monthly,
      explain,
    });
  };
  const activeSeconds = workload.activeHours * 3600;

  // ── Events on the bus, and where rules send them ────────────────────────────────────────────────
  const events = eventVolumes(workload);
  const eventsPerDay = events.reduce((sum, e) => sum + e.perDay, 0);
  /** Deliveries a day to each target logical id. */
  const delivered = new Map<string, { perDay: number; why: string[] }>();
  const deliver = (target: string, perDay: number, why: string) => {
    const entry = delivered.get(target) ?? { perDay: 0, why: [] };
    entry.perDay += perDay;
    entry.why.push(why);
    delivered.set(target, entry);
  };
  const scheduled = new Map<string, { perDay: number; why: string[] }>();
  const schedule = (target: string, perDay: number, why: string) => {
    const entry = scheduled.get(target) ?? { perDay: 0, why: [] };
    entry.perDay += perDay;
    entry.why.push(why);
    scheduled.set(target, entry);
  };
  for (const [id, rule] of ofType('AWS::Events::Rule')) {
    const props = rule.Properties ?? {};
    const targets = asArray(props.Targets).flatMap((target) =>
      target && typeof target === 'object' && !Array.isArray(target) ? refsIn(target.Arn).slice(0, 1) : [],
    );
    if (typeof props.ScheduleExpression === 'string') {
      const perDay = scheduleRunsPerDay(props.ScheduleExpression);
      if (perDay === undefined) notes.push(`${id}: ${props.ScheduleExpression} priced as once an hour`);
      for (const target of targets) schedule(target, perDay ?? 24, `${id} ${props.ScheduleExpression}`);
      continue;
    }
    const matched = events.filter((e) => patternMatches(props.EventPattern, e.source, e.detailType));
    const perDay = matched.reduce((sum, e) => sum + e.perDay, 0);
    if (perDay === 0) notes.push(`${id}: no event of the workload matches its pattern (priced at 0)`);
    for (const target of targets) {
      deliver(
        target,
        perDay,
        `${id}: ${matched.map((e) => `${e.detailType} (${e.why})`).join(', ') || 'none'}`,
      );
    }
  }
  for (const [id, sched] of ofType('AWS::Scheduler::Schedule')) {
    const props = sched.Properties ?? {};
    const expression = String(props.ScheduleExpression ?? '');
    const perDay = scheduleRunsPerDay(expression);
    if (perDay === undefined) notes.push(`${id}: ${expression} priced as once an hour`);
    const target =
      props.Target && typeof props.Target === 'object' && !Array.isArray(props.Target) ? props.Target : {};
    for (const ref of refsIn(target.Arn).slice(0, 1)) schedule(ref, perDay ?? 24, `${id} ${expression}`);
    add(
      'EventBridge Scheduler',
      id,
      'invocations',
      ((perDay ?? 24) * days * prices.scheduler.perMillionInvocations) / 1e6,
      `${fmt((perDay ?? 24) * days)} invocations × ${usd(prices.scheduler.perMillionInvocations)}/1M`,
    );
  }

  // ── Functions: what invokes them ────────────────────────────────────────────────────────────────
  const functions = ofType('AWS::Lambda::Function');
  const use = new Map<string, FunctionUse>(
    functions.map(([id]) => [id, { invocationsPerDay: 0, recordsPerDay: 0, why: [] }]),
  );
  const routes = routeVolumes(workload);
  const integrations = new Map(
    ofType('AWS::ApiGatewayV2::Integration').map(([id, r]) => [id, refsIn(r.Properties?.IntegrationUri)[0]]),
  );
  let apiRequestsPerDay = 0;
  for (const [id, route] of ofType('AWS::ApiGatewayV2::Route')) {
    const key = String(route.Properties?.RouteKey ?? '');
    const volume = routes[key];
    if (!volume) notes.push(`${id}: route "${key}" has no volume in the workload (priced at 0)`);
    const perDay = volume?.perDay ?? 0;
    apiRequestsPerDay += perDay;
    for (const integration of refsIn(route.Properties?.Target)) {
      const fn = integrations.get(integration);
      const entry = fn ? use.get(fn) : undefined;
      if (entry) {
        entry.invocationsPerDay += perDay;
        entry.recordsPerDay += perDay;
        entry.why.push(`${key}: ${volume?.why ?? 'no volume'}`);
      }
    }
  }
  for (const [target, { perDay, why }] of [...delivered, ...scheduled]) {
    const entry = use.get(target);
    if (!entry) continue;
    entry.invocationsPerDay += perDay;
    entry.recordsPerDay += perDay;
    entry.why.push(...why);
  }

  // Roles' grants: which function may write/read which table, send to which queue, read secrets.
  const roleOf = new Map(functions.map(([id, fn]) => [id, refsIn(fn.Properties?.Role)[0]]));
  const grants = new Map<string, { action: string; resources: string[] }[]>();
  for (const [, policy] of ofType('AWS::IAM::Policy')) {
    const statements = asArray(
      (policy.Properties?.PolicyDocument as { Statement?: Json } | undefined)?.Statement,
    );
    for (const role of refsIn(policy.Properties?.Roles)) {
      const list = grants.get(role) ?? [];
      for (const statement of statements) {
        if (!statement || typeof statement !== 'object' || Array.isArray(statement)) continue;
        if (statement.Effect === 'Deny') continue;
        for (const action of asArray(statement.Action)) {
          list.push({ action: String(action), resources: refsIn(statement.Resource) });
        }
      }
      grants.set(role, list);
    }
  }
  const granted = (fnId: string, action: RegExp): Set<string> => {
    const role = roleOf.get(fnId);
    return new Set(
      (role ? (grants.get(role) ?? []) : []).filter((g) => action.test(g.action)).flatMap((g) => g.resources),
    );
  };

  // Queues: messages in, then the event source mappings that drain them. Senders are resolved in
  // rounds so that a queue fed by a function fed by another queue gets its volume (no cycles counted).
  const queues = ofType('AWS::SQS::Queue');
  const mappings = ofType('AWS::Lambda::EventSourceMapping');
  const queueIn = new Map<string, { perDay: number; why: string[] }>(
    queues.map(([id]) => [
      id,
      { perDay: delivered.get(id)?.perDay ?? 0, why: [...(delivered.get(id)?.why ?? [])] },
    ]),
  );
  const batchOf = new Map<string, number>();
  const resolved = new Set<string>();
  for (let round = 0; round < 5; round++) {
    for (const [mappingId, mapping] of mappings) {
      if (resolved.has(mappingId)) continue;
      const props = mapping.Properties ?? {};
      const queue = refsIn(props.EventSourceArn)[0];
      const fn = refsIn(props.FunctionName)[0];
      if (!queue || !fn || !queueIn.has(queue)) {
        if (round === 0) notes.push(`${mappingId}: event source other than SQS, not priced`);
        resolved.add(mappingId);
        continue;
      }
      // Feeders must be known first: functions (other than this one) that send to the queue.
      const feeders = functions.filter(([id]) => id !== fn && granted(id, /^sqs:SendMessage/).has(queue));
      const waiting = feeders.some(([id]) =>
        mappings.some(
          ([otherId, other]) => !resolved.has(otherId) && refsIn(other.Properties?.FunctionName)[0] === id,
        ),
      );
      if (waiting && round < 4) continue;
      const inbound = queueIn.get(queue) as { perDay: number; why: string[] };
      for (const [feeder] of feeders) {
        const records = use.get(feeder)?.recordsPerDay ?? 0;
        inbound.perDay += records;
        inbound.why.push(`one message per record of ${feeder}`);
      }
      const batchSize = Number(props.BatchSize ?? 10);
      const window = Number(props.MaximumBatchingWindowInSeconds ?? 0);
      const rate = inbound.perDay / activeSeconds;
      const batch = Math.min(batchSize, Math.max(1, rate * Math.max(window, 0.5)));
      batchOf.set(queue, batch);
      const entry = use.get(fn);
      if (entry) {
        entry.invocationsPerDay += inbound.perDay / batch;
        entry.recordsPerDay += inbound.perDay;
        entry.why.push(
          `${queue}: ${fmt(inbound.perDay)} messages/day in batches of ${fmt(batch)} (size ${batchSize}, window ${window} s)`,
        );
      }
      resolved.add(mappingId);
    }
  }

  // Step Functions: executions from rules (and functions allowed to start them: one per record).
  for (const [id, machine] of ofType('AWS::StepFunctions::StateMachine')) {
    const props = machine.Properties ?? {};
    let perDay = delivered.get(id)?.perDay ?? 0;
    for (const [fn] of functions) {
      if (granted(fn, /^states:StartExecution$/).has(id)) perDay += use.get(fn)?.recordsPerDay ?? 0;
    }
    const definition = definitionText(props.DefinitionString ?? props.Definition ?? null);
    const states =
      (definition.match(/"Type"\s*:\s*"(Task|Pass|Choice|Wait|Succeed|Fail|Parallel|Map)"/g) ?? []).length ||
      1;
    const executions = perDay * days;
    if (props.StateMachineType === 'EXPRESS') {
      add(
        'Step Functions',
        id,
        'express requests',
        (executions * prices.stepFunctions.expressPerMillionRequests) / 1e6,
        `${fmt(executions)} executions × ${usd(prices.stepFunctions.expressPerMillionRequests)}/1M`,
      );
      const gbs = executions * assumptions.expressSeconds * 0.064;
      add(
        'Step Functions',
        id,
        'express duration',
        gbs * prices.stepFunctions.expressPerGbSecond,
        `${fmt(gbs)} GB-s (64 MB × ${assumptions.expressSeconds} s each) × ${usd(prices.stepFunctions.expressPerGbSecond)}`,
      );
    } else {
      const transitions = executions * states;
      add(
        'Step Functions',
        id,
        'state transitions',
        (transitions * prices.stepFunctions.standardPerThousandTransitions) / 1e3,
        `${fmt(executions)} executions × ${states} states = ${fmt(transitions)} transitions × ${usd(prices.stepFunctions.standardPerThousandTransitions)}/1k`,
      );
    }
    if (perDay === 0) notes.push(`${id}: no executions from the workload`);
  }

  // ── Lambda ──────────────────────────────────────────────────────────────────────────────────────
  const logGroupOfFunction = new Map<string, string>();
  for (const [id, fn] of functions) {
    const props = fn.Properties ?? {};
    const logGroup = refsIn((props.LoggingConfig as { LogGroup?: Json } | undefined)?.LogGroup ?? null)[0];
    if (logGroup) logGroupOfFunction.set(logGroup, id);
    const entry = use.get(id) as FunctionUse;
    const memoryGb = Number(props.MemorySize ?? 128) / 1024;
    const arch = asArray(props.Architectures)[0] === 'arm64' ? 'arm64' : 'x86_64';
    const variables =
      (props.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {};
    const erp = 'NETSUITE_BASE_URL' in variables;
    const invocations = entry.invocationsPerDay * days;
    const records = entry.recordsPerDay * days;
    if (invocations === 0) notes.push(`${id}: not invoked by the workload (priced at 0)`);
    const perRecordMs = assumptions.recordMs + (erp ? assumptions.erpCallMs : 0);
    const seconds = (invocations * assumptions.baseMs + records * perRecordMs) / 1000;
    const gbs = seconds * memoryGb;
    const gbPrice = prices.lambda.gbSecond[arch];
    add(
      'Lambda',
      id,
      'requests',
      (invocations * prices.lambda.perMillionRequests) / 1e6,
      `${fmt(invocations)} invocations (${entry.why.join('; ') || 'none'}) × ${usd(prices.lambda.perMillionRequests)}/1M`,
    );
    add(
      'Lambda',
      id,
      'duration',
      gbs * gbPrice,
      `(${fmt(invocations)} × ${assumptions.baseMs} ms + ${fmt(records)} records × ${perRecordMs} ms${erp ? ' incl. an ERP call' : ''}) × ${memoryGb} GB = ${fmt(gbs)} GB-s × ${usd(gbPrice)} (${arch})`,
    );
    const coldStarts = Math.min(invocations, assumptions.coldStartsPerHour * workload.activeHours * days);
    const initGbs = (coldStarts * assumptions.initMs * memoryGb) / 1000;
    add(
      'Lambda',
      id,
      'init (cold starts)',
      initGbs * gbPrice,
      `${fmt(coldStarts)} cold starts × ${assumptions.initMs} ms × ${memoryGb} GB = ${fmt(initGbs)} GB-s × ${usd(gbPrice)}`,
    );
    // Logs: by the function's Powertools log level.
    const level = String(variables.POWERTOOLS_LOG_LEVEL ?? 'INFO');
    const bytes = assumptions.logBytes[level] ?? assumptions.logBytes.INFO ?? 1_800;
    const logGb = (invocations * bytes) / 1e9;
    add(
      'CloudWatch Logs',
      id,
      'ingestion',
      logGb * prices.logs.ingestPerGb,
      `${fmt(invocations)} invocations × ${fmt(bytes)} B (${level}) = ${fmt(logGb)} GB × ${usd(prices.logs.ingestPerGb)}/GB`,
    );
    const retention = logGroup ? resources.get(logGroup)?.Properties?.RetentionInDays : undefined;
    const storedMonths = typeof retention === 'number' ? retention / 30 : assumptions.neverExpiresMonths;
    add(
      'CloudWatch Logs',
      id,
      'storage',
      logGb * storedMonths * prices.logs.storagePerGbMonth,
      `${fmt(logGb)} GB/month kept ${typeof retention === 'number' ? `${retention} days` : `(never expires: ${assumptions.neverExpiresMonths} months)`} = ${fmt(logGb * storedMonths)} GB-month × ${usd(prices.logs.storagePerGbMonth)}`,
    );
    if ('POWERTOOLS_SERVICE_NAME' in variables) {
      add(
        'CloudWatch',
        id,
        'custom metrics (EMF)',
        assumptions.metricsPerFunction * prices.cloudwatch.perCustomMetricMonth,
        `${assumptions.metricsPerFunction} metrics × ${usd(prices.cloudwatch.perCustomMetricMonth)}/month`,
      );
    }
    const tracing = (props.TracingConfig as { Mode?: Json } | undefined)?.Mode === 'Active';
    if (tracing) {
      // Lambda's default sampling rule: the first request each second, then 5 % of the others.
      const perDay = entry.invocationsPerDay;
      const sampled = Math.min(perDay, activeSeconds) + 0.05 * Math.max(0, perDay - activeSeconds);
      add(
        'X-Ray',
        id,
        'traces recorded',
        (sampled * days * prices.xray.perMillionTracesRecorded) / 1e6,
        `${fmt(sampled * days)} traces (1/s + 5 % of ${fmt(invocations)} invocations) × ${usd(prices.xray.perMillionTracesRecorded)}/1M`,
      );
    }
    // DynamoDB: one unit per record on each table it may write / read.
    for (const [kind, pattern, price] of [
      ['write', WRITE_ACTIONS, prices.dynamodb.perMillionWriteUnits],
      ['read', READ_ACTIONS, prices.dynamodb.perMillionReadUnits],
    ] as const) {
      for (const table of granted(id, pattern)) {
        if (resources.get(table)?.Type !== 'AWS::DynamoDB::Table') continue;
        // The variable that hands the table to the function says what it is for.
        const variable =
          Object.entries(variables).find(([, value]) => refsIn(value).includes(table))?.[0] ?? '';
        const [perRecord, why] = /EXCEPTION/.test(variable)
          ? [assumptions.parkedShare, `${assumptions.parkedShare * 100} % of records parked`]
          : /IDEMPOTENCY/.test(variable) && kind === 'write'
            ? [2, '2 per record: in progress, then completed']
            : [1, '1 per record'];
        const units = Math.max(records, invocations) * perRecord;
        lines.push({
          service: 'DynamoDB',
          flow: flowOf(fn),
          resource: table,
          item: `${kind} units from ${id}`,
          monthly: (units * price) / 1e6,
          explain: `${fmt(units)} ${kind} units (${why}${variable ? `, ${variable}` : ''}) × ${usd(price)}/1M`,
        });
      }
    }
    const secrets = [...granted(id, /^secretsmanager:GetSecretValue$/)];
    if (secrets.length > 0 && invocations > 0) {
      const calls = secrets.length * assumptions.secretReadsPerHour * workload.activeHours * days;
      add(
        'Secrets Manager',
        id,
        'API calls',
        (calls * prices.secretsManager.perTenThousandCalls) / 1e4,
        `${fmt(calls)} GetSecretValue (${secrets.length} secret(s), cached 5 min) × ${usd(prices.secretsManager.perTenThousandCalls)}/10k`,
      );
    }
  }

  // ── SQS ─────────────────────────────────────────────────────────────────────────────────────────
  for (const [id, queue] of queues) {
    const inbound = queueIn.get(id) as { perDay: number; why: string[] };
    const fifo = queue.Properties?.FifoQueue === true || queue.Properties?.FifoQueue === 'true';
    const price = fifo ? prices.sqs.fifoPerMillion : prices.sqs.standardPerMillion;
    const drained = batchOf.get(id);
    const messages = inbound.perDay * days;
    // Send + (receive + delete) per batch + idle long polls of the event source mapping.
    const batches = drained ? messages / drained : 0;
    const idle = drained !== undefined ? assumptions.idlePollersPerQueue * (86_400 / 20) * days : 0;
    const requests = messages + 2 * batches + idle;
    if (requests === 0) continue;
    add(
      'SQS',
      id,
      'requests',
      (requests * price) / 1e6,
      `${fmt(messages)} sends + ${fmt(batches)} batches × 2 (receive, delete) + ${fmt(idle)} idle long polls (${assumptions.idlePollersPerQueue} pollers, 20 s) = ${fmt(requests)} requests × ${usd(price)}/1M`,
    );
  }

  // ── EventBridge, API Gateway, monitoring, keys, secrets, WAF, CloudFront ───────────────────────
  for (const [id] of ofType('AWS::Events::EventBus')) {
    const n = eventsPerDay * days;
    add(
      'EventBridge',
      id,
      'custom events',
      (n * prices.eventBridge.customEventsPerMillion) / 1e6,
      `${fmt(n)} events (${events.map((e) => `${e.detailType}/${e.source.replace('omnihub.', '')} ${fmt(e.perDay)}/day`).join(', ')}) × ${usd(prices.eventBridge.customEventsPerMillion)}/1M`,
    );
  }
  for (const [id, archive] of ofType('AWS::Events::Archive')) {
    const gb = (eventsPerDay * days * assumptions.eventBytes) / 1e9;
    add(
      'EventBridge',
      id,
      'archive processing',
      gb * prices.eventBridge.archivePerGbProcessed,
      `${fmt(gb)} GB (${fmt(assumptions.eventBytes)} B/event) × ${usd(prices.eventBridge.archivePerGbProcessed)}/GB`,
    );
    const retention = Number(archive.Properties?.RetentionDays ?? 0);
    const months = retention > 0 ? retention / 30 : assumptions.neverExpiresMonths;
    add(
      'EventBridge',
      id,
      'archive storage',
      gb * months * prices.eventBridge.archivePerGbMonth,
      `${fmt(gb)} GB/month kept ${retention > 0 ? `${retention} days` : `(no retention: ${assumptions.neverExpiresMonths} months)`} × ${usd(prices.eventBridge.archivePerGbMonth)}/GB-month`,
    );
  }
  for (const [id] of ofType('AWS::ApiGatewayV2::Api')) {
    const n = apiRequestsPerDay * days;
    add(
      'API Gateway',
      id,
      'HTTP API requests',
      (n * prices.apiGateway.httpPerMillion) / 1e6,
      `${fmt(n)} requests × ${usd(prices.apiGateway.httpPerMillion)}/1M`,
    );
  }
  for (const [id] of ofType('AWS::ApiGateway::RestApi')) {
    const n = apiRequestsPerDay * days;
    add(
      'API Gateway',
      id,
      'REST API requests',
      (n * prices.apiGateway.restPerMillion) / 1e6,
      `${fmt(n)} requests × ${usd(prices.apiGateway.restPerMillion)}/1M`,
    );
  }
  for (const [, stage] of ofType('AWS::ApiGatewayV2::Stage')) {
    const group = refsIn(
      (stage.Properties?.AccessLogSettings as { DestinationArn?: Json } | undefined)?.DestinationArn ?? null,
    )[0];
    if (!group) continue;
    const gb = (apiRequestsPerDay * days * 600) / 1e9;
    const retention = resources.get(group)?.Properties?.RetentionInDays;
    const months = typeof retention === 'number' ? retention / 30 : assumptions.neverExpiresMonths;
    add(
      'CloudWatch Logs',
      group,
      'access log ingestion',
      gb * prices.logs.ingestPerGb,
      `${fmt(apiRequestsPerDay * days)} requests × 600 B = ${fmt(gb)} GB × ${usd(prices.logs.ingestPerGb)}/GB`,
    );
    add(
      'CloudWatch Logs',
      group,
      'access log storage',
      gb * months * prices.logs.storagePerGbMonth,
      `${fmt(gb * months)} GB-month × ${usd(prices.logs.storagePerGbMonth)}`,
    );
  }
  for (const [id, alarm] of ofType('AWS::CloudWatch::Alarm')) {
    const metrics = Math.max(
      1,
      asArray(alarm.Properties?.Metrics).filter(
        (m) => m && typeof m === 'object' && !Array.isArray(m) && m.MetricStat,
      ).length,
    );
    add(
      'CloudWatch',
      id,
      'alarm',
      metrics * prices.cloudwatch.perAlarmMetricMonth,
      `${metrics} metric(s) × ${usd(prices.cloudwatch.perAlarmMetricMonth)}/month`,
    );
  }
  for (const [id] of ofType('AWS::CloudWatch::Dashboard')) {
    add(
      'CloudWatch',
      id,
      'dashboard',
      prices.cloudwatch.perDashboardMonth,
      `1 dashboard × ${usd(prices.cloudwatch.perDashboardMonth)}/month`,
    );
  }
  const keys = ofType('AWS::KMS::Key');
  if (keys.length > 0) {
    const encrypted = [...resources.values()].filter((r) =>
      JSON.stringify(r.Properties ?? {}).match(/"(KmsMasterKeyId|KMSMasterKeyId|KmsKeyId|KMSKeyArn)"/),
    ).length;
    for (const [id] of keys) {
      const requests = (encrypted * assumptions.kmsRequestsPerResourceHour * 24 * days) / keys.length;
      add('KMS', id, 'key', prices.kms.perKeyMonth, `1 key × ${usd(prices.kms.perKeyMonth)}/month`);
      add(
        'KMS',
        id,
        'requests',
        (requests * prices.kms.perTenThousandRequests) / 1e4,
        `${encrypted} encrypted resources × ${assumptions.kmsRequestsPerResourceHour}/hour = ${fmt(requests)} requests × ${usd(prices.kms.perTenThousandRequests)}/10k`,
      );
    }
  }
  for (const [id] of ofType('AWS::SecretsManager::Secret')) {
    add(
      'Secrets Manager',
      id,
      'secret',
      prices.secretsManager.perSecretMonth,
      `1 secret × ${usd(prices.secretsManager.perSecretMonth)}/month`,
    );
  }
  for (const [id, acl] of ofType('AWS::WAFv2::WebACL')) {
    const rules = asArray(acl.Properties?.Rules).length;
    const n = apiRequestsPerDay * days;
    add(
      'WAF',
      id,
      'web ACL and rules',
      prices.waf.perWebAclMonth + rules * prices.waf.perRuleMonth,
      `1 web ACL × ${usd(prices.waf.perWebAclMonth)} + ${rules} rules × ${usd(prices.waf.perRuleMonth)}`,
    );
    add(
      'WAF',
      id,
      'requests',
      (n * prices.waf.perMillionRequests) / 1e6,
      `${fmt(n)} requests × ${usd(prices.waf.perMillionRequests)}/1M`,
    );
  }
  for (const [id] of ofType('AWS::CloudFront::Distribution')) {
    const n = apiRequestsPerDay * days;
    add(
      'CloudFront',
      id,
      'HTTPS requests',
      (n * prices.cloudFront.perTenThousandHttpsRequests) / 1e4,
      `${fmt(n)} requests × ${usd(prices.cloudFront.perTenThousandHttpsRequests)}/10k`,
    );
  }

  const byService: Record<string, number> = {};
  const byFlow: Record<string, number> = {};
  for (const line of lines) {
    byService[line.service] = (byService[line.service] ?? 0) + line.monthly;
    byFlow[line.flow] = (byFlow[line.flow] ?? 0) + line.monthly;
  }
  const total = lines.reduce((sum, line) => sum + line.monthly, 0);
  const orders = ordersPerMonth(workload, days);
  return {
    region: prices.region,
    days,
    lines,
    byService,
    byFlow,
    total,
    ordersPerMonth: orders,
    per1000Orders: orders > 0 ? (total / orders) * 1000 : 0,
    notes,
  };
}

/** A state machine's definition as text (a `Fn::Join` of strings and intrinsics keeps its strings). */
function definitionText(value: Json): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const join = value['Fn::Join'];
    if (Array.isArray(join))
      return asArray(join[1])
        .map((part) => (typeof part === 'string' ? part : ''))
        .join('');
    return JSON.stringify(value);
  }
  return '';
}
