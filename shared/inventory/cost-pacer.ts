/**
 * A client-side model of Shopify's GraphQL Admin cost bucket, so a publisher sends as fast as the
 * bucket allows and never gets `THROTTLED` in steady state.
 *
 * Shopify's limit is a leaky bucket per app and shop: `restoreRate` points per second refill it up to
 * `maximumAvailable`; a call runs only if the bucket holds its *requested* cost, and the difference
 * to the *actual* cost is refunded afterwards. Every answer reports the bucket in
 * `extensions.cost.throttleStatus` (https://shopify.dev/docs/apps/build/apis/graphql-admin/rate-limits;
 * restore rates: Standard 100 points/s, Advanced 200, Plus 1,000, Enterprise 2,000).
 *
 * The model: before a call, {@link CostPacer.acquire} waits until the modelled level covers the call's
 * requested cost (plus a small margin) and takes it; each answer re-bases the level on what Shopify
 * reported, minus what calls still in flight will be charged (they may not have reached Shopify yet —
 * the conservative reading, so concurrent calls never overdraw it). Until the first answer the bucket
 * is unknown: one call at a time goes out to learn it. One pacer per shop in a process; the deployed
 * publisher has one instance per shop (reserved concurrency), so the model sees every call.
 */

/** `extensions.cost.throttleStatus`. */
export interface ThrottleStatus {
  readonly maximumAvailable: number;
  readonly currentlyAvailable: number;
  readonly restoreRate: number;
}

export interface CostPacerOptions {
  /** Clock (epoch ms). @default Date.now */
  readonly now?: () => number;
  /** Waits `ms` (tests pass a virtual clock's). @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Points kept in reserve against rounding and other callers of the same app. @default 10 */
  readonly marginPoints?: number;
}

/** A granted call: report its answer (or its failure) exactly once. */
export interface Grant {
  /** The answer's cost data; releases the reservation and re-bases the model. */
  settle(answer: { readonly throttleStatus?: ThrottleStatus }): void;
}

export interface PacerStats {
  /** Calls granted. */
  readonly calls: number;
  /** Milliseconds spent waiting for points. */
  readonly waitedMs: number;
  /** Points reserved by granted calls (requested costs). */
  readonly pointsRequested: number;
}

export class CostPacer {
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly margin: number;
  private status: ThrottleStatus | undefined;
  private level = 0;
  private levelAt = 0;
  private inFlight = new Map<number, number>();
  private nextId = 0;
  private queue: Promise<void> = Promise.resolve();
  private stats = { calls: 0, waitedMs: 0, pointsRequested: 0 };

  constructor(options: CostPacerOptions = {}) {
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.margin = options.marginPoints ?? 10;
  }

  /** The modelled points available now (undefined before the first answer). */
  available(): number | undefined {
    if (!this.status) return undefined;
    const elapsed = Math.max(0, this.now() - this.levelAt) / 1000;
    return Math.min(this.status.maximumAvailable, this.level + elapsed * this.status.restoreRate);
  }

  /** The bucket as Shopify last reported it. */
  get lastStatus(): ThrottleStatus | undefined {
    return this.status;
  }

  get counters(): PacerStats {
    return { ...this.stats };
  }

  /**
   * Waits until a call of `requestedCost` fits, and reserves it. Grants are issued in call order
   * (a large call is not starved by small ones).
   */
  acquire(requestedCost: number): Promise<Grant> {
    const granted = this.queue.then(() => this.waitFor(requestedCost));
    this.queue = granted.then(
      () => undefined,
      () => undefined,
    );
    return granted;
  }

  /**
   * Re-bases the model on a `THROTTLED` answer without a grant (a call of another component of the
   * same app): the level is what Shopify says.
   */
  observe(status: ThrottleStatus): void {
    this.rebase(status, 0);
  }

  private async waitFor(cost: number): Promise<Grant> {
    const started = this.now();
    for (;;) {
      if (!this.status) {
        // Unknown bucket: one call at a time until an answer tells us its state.
        if (this.inFlight.size === 0) break;
        await this.sleep(10);
        continue;
      }
      const need = Math.min(cost + this.margin, this.status.maximumAvailable);
      const have = this.available() ?? 0;
      if (have >= need) {
        this.level = have - cost;
        this.levelAt = this.now();
        break;
      }
      await this.sleep(Math.max(1, Math.ceil(((need - have) / this.status.restoreRate) * 1000)));
    }
    this.stats.waitedMs += this.now() - started;
    this.stats.calls += 1;
    this.stats.pointsRequested += cost;
    const id = this.nextId++;
    this.inFlight.set(id, cost);
    let settled = false;
    return {
      settle: (answer) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(id);
        if (answer.throttleStatus) this.rebase(answer.throttleStatus, this.reservedInFlight());
      },
    };
  }

  private reservedInFlight(): number {
    let total = 0;
    for (const cost of this.inFlight.values()) total += cost;
    return total;
  }

  private rebase(status: ThrottleStatus, stillToCharge: number): void {
    this.status = status;
    this.level = Math.max(0, status.currentlyAvailable - stillToCharge);
    this.levelAt = this.now();
  }
}
