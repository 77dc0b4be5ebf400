/**
 * The GraphQL Admin API's leaky bucket, per app per shop.
 *
 * Restore rates are Shopify's documented ones (shopify.dev/docs/apps/build/apis/graphql-admin/
 * rate-limits): Standard 100 points/s, Advanced 200, Plus 1,000, Enterprise (Commerce Components)
 * 2,000. The bucket size is not in the docs; observed throttle statuses show 20× the restore rate
 * (`maximumAvailable` 2,000 on Standard, 20,000 on Plus), which is what the sandbox uses.
 *
 * Semantics (documented): before a query runs the bucket must hold its *requested* cost, otherwise
 * the call is throttled (`THROTTLED`, nothing charged); after it ran, the difference between the
 * requested and the *actual* cost is refunded. Points restore continuously at the restore rate up
 * to the maximum.
 */
export const PLANS = {
  standard: { displayName: 'Standard', restoreRate: 100 },
  advanced: { displayName: 'Advanced', restoreRate: 200 },
  plus: { displayName: 'Shopify Plus', restoreRate: 1000 },
  enterprise: { displayName: 'Shopify for enterprise', restoreRate: 2000 },
} as const;

/** A plan key of {@link PLANS}. */
export type PlanName = keyof typeof PLANS;

/** Bucket size as a multiple of the restore rate (observed, not documented). */
export const BUCKET_MULTIPLIER = 20;

/** `extensions.cost.throttleStatus`, as Shopify returns it. */
export interface ThrottleStatus {
  maximumAvailable: number;
  currentlyAvailable: number;
  restoreRate: number;
}

/** Limits of one bucket; derived from a plan unless overridden (tests use small buckets). */
export interface BucketLimits {
  restoreRate: number;
  maximumAvailable: number;
}

/** The limits of `plan`: its restore rate and a bucket of 20× that. */
export function limitsOf(plan: PlanName): BucketLimits {
  const restoreRate = PLANS[plan].restoreRate;
  return { restoreRate, maximumAvailable: restoreRate * BUCKET_MULTIPLIER };
}

/**
 * One leaky bucket with an injectable clock (milliseconds), so tests assert exact numbers without
 * sleeping. Starts full.
 */
export class LeakyBucket {
  private available: number;
  private updatedAt: number;

  constructor(
    private limits: BucketLimits,
    private readonly clock: () => number = Date.now,
  ) {
    this.available = limits.maximumAvailable;
    this.updatedAt = clock();
  }

  /** Points available now (after restoring since the last update). */
  currentlyAvailable(): number {
    this.restore();
    return this.available;
  }

  /** Status as reported in `extensions.cost.throttleStatus` (whole points, as Shopify shows them). */
  status(): ThrottleStatus {
    this.restore();
    return {
      maximumAvailable: this.limits.maximumAvailable,
      currentlyAvailable: Math.floor(this.available),
      restoreRate: this.limits.restoreRate,
    };
  }

  /**
   * Takes `cost` points if they are available; false (and nothing taken) when the call must be
   * throttled.
   */
  tryTake(cost: number): boolean {
    this.restore();
    if (cost > this.available) return false;
    this.available -= cost;
    return true;
  }

  /** Gives back `points` (requested − actual after execution), capped at the maximum. */
  refund(points: number): void {
    this.restore();
    this.available = Math.min(this.limits.maximumAvailable, this.available + Math.max(0, points));
  }

  /** Empties the bucket (a throttle storm, or a test that wants to start at zero). */
  drain(): void {
    this.restore();
    this.available = 0;
  }

  /** New limits (plan change); the bucket keeps its level, capped at the new maximum. */
  setLimits(limits: BucketLimits): void {
    this.restore();
    this.limits = limits;
    this.available = Math.min(this.available, limits.maximumAvailable);
  }

  /** Current limits. */
  get currentLimits(): BucketLimits {
    return this.limits;
  }

  /** Full again. */
  reset(): void {
    this.available = this.limits.maximumAvailable;
    this.updatedAt = this.clock();
  }

  private restore(): void {
    const now = this.clock();
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.updatedAt = now;
    this.available = Math.min(
      this.limits.maximumAvailable,
      this.available + elapsed * this.limits.restoreRate,
    );
  }
}
