import * as z from 'zod';
import { createRng, type Rng } from './rng.ts';

const rate = z.number().min(0).max(1);
const ms = z
  .number()
  .int()
  .min(0)
  .max(15 * 60_000);

/**
 * Latency added to each vendor call: uniform `{min,max}`, or a named
 * distribution. Real vendor APIs have long tails; `lognormal` with a p99
 * several times the median is closest to what production traces show.
 */
export const LatencySchema = z.union([
  z.object({ min: ms, max: ms }).refine((v) => v.max >= v.min, 'latencyMs.max must be >= latencyMs.min'),
  z.object({ distribution: z.literal('fixed'), ms }),
  z.object({ distribution: z.literal('uniform'), min: ms, max: ms }),
  z.object({ distribution: z.literal('normal'), mean: ms, stdDev: ms }),
  z.object({ distribution: z.literal('exponential'), mean: ms }),
  z.object({ distribution: z.literal('lognormal'), median: ms, p99: ms }),
]);
export type Latency = z.infer<typeof LatencySchema>;

/** An outage window: absolute `{startsAt, endsAt}` (ISO-8601) or `{durationMs}` starting now. */
export const OutageSchema = z.union([
  z.object({ startsAt: z.iso.datetime(), endsAt: z.iso.datetime() }),
  z.object({ durationMs: z.number().int().min(1), delayMs: ms.default(0) }),
]);

/** Webhook faults, applied by the {@link WebhookDispatcher} when an event is queued. */
export const WebhookFaultsSchema = z.object({
  /** Probability that an event is delivered twice (same body and ids). */
  duplicateRate: rate.default(0),
  /** Probability that an event is held back and delivered after the next one. */
  reorderRate: rate.default(0),
  /** Probability that an event is never delivered (what reconciliation must catch). */
  dropRate: rate.default(0),
  /** Extra delay before the first attempt: a fixed number or a `{min,max}` range in ms. */
  delayMs: z.union([ms, z.object({ min: ms, max: ms })]).default(0),
});
export type WebhookFaults = z.infer<typeof WebhookFaultsSchema>;

/**
 * Fault-injection settings shared by all sandboxes, as accepted by
 * `POST _control/faults` and scenario files. Every field defaults to "no
 * fault", so `{}` resets a sandbox to a healthy vendor.
 */
export const FaultConfigSchema = z.object({
  /** Probability of a 5xx answer (status picked from `errorStatuses`). */
  errorRate: rate.default(0),
  errorStatuses: z.array(z.number().int().min(500).max(599)).min(1).default([500, 502, 503]),
  /** Probability that a call hangs for `timeoutMs` and then has its socket destroyed without an answer. */
  timeoutRate: rate.default(0),
  timeoutMs: ms.default(30_000),
  latencyMs: LatencySchema.default({ min: 0, max: 0 }),
  /** While active every vendor call answers 503. */
  outage: OutageSchema.nullable().default(null),
  /** For `durationMs` from now, a fraction `rate` of calls is throttled (429 or the vendor's equivalent). */
  throttleStorm: z
    .object({ rate: rate.default(1), durationMs: z.number().int().min(1) })
    .nullable()
    .default(null),
  webhooks: WebhookFaultsSchema.default({ duplicateRate: 0, reorderRate: 0, dropRate: 0, delayMs: 0 }),
  /** Only paths starting with one of these prefixes are faulted (all vendor paths when absent). */
  paths: z.array(z.string().startsWith('/')).optional(),
  /** Reseeds the fault stream, so a run with faults is reproducible. */
  seed: z.number().int().optional(),
});
export type FaultConfigInput = z.input<typeof FaultConfigSchema>;
export type FaultConfig = z.output<typeof FaultConfigSchema>;

/** What the injector decided for one call. The sandbox renders errors in its vendor's own shape. */
export type FaultDecision =
  | { kind: 'pass'; latencyMs: number }
  | { kind: 'error'; status: number; latencyMs: number }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'outage'; until: string }
  | { kind: 'throttle'; retryAfterSeconds: number; latencyMs: number };

/** What the dispatcher decided for one webhook event. */
export interface WebhookFaultDecision {
  drop: boolean;
  duplicate: boolean;
  reorder: boolean;
  delayMs: number;
}

/** Counters reported by `GET _control/state` under `faults.counters`. */
export interface FaultCounters {
  calls: number;
  passed: number;
  errors: number;
  timeouts: number;
  outageRejections: number;
  throttled: number;
  delayedCalls: number;
  totalInjectedLatencyMs: number;
}

const zeroCounters = (): FaultCounters => ({
  calls: 0,
  passed: 0,
  errors: 0,
  timeouts: 0,
  outageRejections: 0,
  throttled: 0,
  delayedCalls: 0,
  totalInjectedLatencyMs: 0,
});

/** Resolved, absolute windows (relative inputs are anchored at the time they were set). */
interface Windows {
  outage: { startsAt: number; endsAt: number } | null;
  storm: { rate: number; endsAt: number } | null;
}

/**
 * Decides, per vendor call, whether a sandbox fails, delays, hangs or
 * throttles — from a seeded stream, so a faulty run replays identically —
 * and counts what it did for the state endpoint. It never writes to the
 * response itself: each sandbox renders failures in its vendor's shape.
 */
export class FaultInjector {
  private cfg: FaultConfig = FaultConfigSchema.parse({});
  private windows: Windows = { outage: null, storm: null };
  private rng: Rng;
  private counts: FaultCounters = zeroCounters();

  constructor(
    private seed: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.rng = createRng(seed);
  }

  /**
   * Validates and applies a new configuration (replacing the previous one
   * entirely) and returns it resolved. Throws a `ZodError` on bad input.
   */
  configure(input: unknown): FaultConfig {
    const cfg = FaultConfigSchema.parse(input ?? {});
    const now = this.clock();
    let outage: Windows['outage'] = null;
    if (cfg.outage) {
      outage =
        'durationMs' in cfg.outage
          ? { startsAt: now + cfg.outage.delayMs, endsAt: now + cfg.outage.delayMs + cfg.outage.durationMs }
          : { startsAt: Date.parse(cfg.outage.startsAt), endsAt: Date.parse(cfg.outage.endsAt) };
    }
    const storm = cfg.throttleStorm
      ? { rate: cfg.throttleStorm.rate, endsAt: now + cfg.throttleStorm.durationMs }
      : null;
    this.cfg = cfg;
    this.windows = { outage, storm };
    if (cfg.seed !== undefined) this.rng = createRng(cfg.seed);
    return cfg;
  }

  /** The active configuration. */
  get config(): FaultConfig {
    return this.cfg;
  }

  /** True while an outage window covers `now`. */
  inOutage(now = this.clock()): boolean {
    const o = this.windows.outage;
    return o !== null && now >= o.startsAt && now < o.endsAt;
  }

  /** Decides the fate of one call to `path` (a path below the mount prefix). Counts it. */
  decide(path = '/'): FaultDecision {
    const cfg = this.cfg;
    if (cfg.paths && !cfg.paths.some((p) => path.startsWith(p))) {
      return { kind: 'pass', latencyMs: 0 };
    }
    this.counts.calls++;
    const now = this.clock();
    if (this.inOutage(now) && this.windows.outage) {
      this.counts.outageRejections++;
      return { kind: 'outage', until: new Date(this.windows.outage.endsAt).toISOString() };
    }
    const storm = this.windows.storm;
    if (storm && now < storm.endsAt && this.rng.chance(storm.rate)) {
      this.counts.throttled++;
      return {
        kind: 'throttle',
        retryAfterSeconds: Math.max(1, Math.ceil((storm.endsAt - now) / 1000)),
        latencyMs: this.latency(),
      };
    }
    if (this.rng.chance(cfg.timeoutRate)) {
      this.counts.timeouts++;
      return { kind: 'timeout', timeoutMs: cfg.timeoutMs };
    }
    const latencyMs = this.latency();
    if (this.rng.chance(cfg.errorRate)) {
      this.counts.errors++;
      return { kind: 'error', status: this.rng.pick(cfg.errorStatuses), latencyMs };
    }
    this.counts.passed++;
    return { kind: 'pass', latencyMs };
  }

  /** Decides the webhook faults for one event (called once per queued event). */
  decideWebhook(): WebhookFaultDecision {
    const w = this.cfg.webhooks;
    const drop = this.rng.chance(w.dropRate);
    const duplicate = !drop && this.rng.chance(w.duplicateRate);
    const reorder = !drop && this.rng.chance(w.reorderRate);
    const delayMs =
      typeof w.delayMs === 'number'
        ? w.delayMs
        : this.rng.int(w.delayMs.min, Math.max(w.delayMs.min, w.delayMs.max));
    return { drop, duplicate, reorder, delayMs };
  }

  /** Counters since the last reset. */
  get counters(): Readonly<FaultCounters> {
    return this.counts;
  }

  /** The block each sandbox puts under `faults` in its state. */
  snapshot(): {
    config: FaultConfig;
    active: { outage: boolean; throttleStorm: boolean };
    counters: FaultCounters;
  } {
    const now = this.clock();
    return {
      config: this.cfg,
      active: {
        outage: this.inOutage(now),
        throttleStorm: this.windows.storm !== null && now < this.windows.storm.endsAt,
      },
      counters: { ...this.counts },
    };
  }

  /** Back to no faults and zero counters; `seed` replaces the original seed when given. */
  reset(seed?: number): void {
    if (seed !== undefined) this.seed = seed;
    this.cfg = FaultConfigSchema.parse({});
    this.windows = { outage: null, storm: null };
    this.rng = createRng(this.seed);
    this.counts = zeroCounters();
  }

  private latency(): number {
    const l = this.cfg.latencyMs;
    let v: number;
    if (!('distribution' in l) || l.distribution === 'uniform') {
      v = l.max > l.min ? l.min + this.rng.next() * (l.max - l.min) : l.min;
    } else if (l.distribution === 'fixed') {
      v = l.ms;
    } else if (l.distribution === 'normal') {
      v = l.mean + l.stdDev * this.gaussian();
    } else if (l.distribution === 'exponential') {
      v = -l.mean * Math.log(1 - this.rng.next());
    } else {
      // lognormal: median = e^mu, p99 = e^(mu + 2.326 sigma)
      const mu = Math.log(Math.max(1, l.median));
      const sigma = Math.max(0, (Math.log(Math.max(l.p99, l.median, 1)) - mu) / 2.326);
      v = Math.exp(mu + sigma * this.gaussian());
    }
    const out = Math.max(0, Math.min(15 * 60_000, Math.round(v)));
    if (out > 0) {
      this.counts.delayedCalls++;
      this.counts.totalInjectedLatencyMs += out;
    }
    return out;
  }

  /** Box–Muller standard normal. */
  private gaussian(): number {
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
