import type { WebhookFaultDecision } from './faults.ts';

/** One webhook event to deliver; body and headers are final (already signed). */
export interface WebhookMessage {
  /** The vendor's event identity (Square `event_id`, Shopify `X-Shopify-Event-Id`), for state and tests. */
  eventId: string;
  /** Topic / event type, e.g. `order.created`. */
  topic: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Lost by the vendor: recorded and counted as dropped, never sent (a targeted drop fault). */
  drop?: boolean;
}

/** Retry schedule, compressed from the vendors' hours into seconds by default. */
export interface RetryPolicy {
  /** Attempts including the first. Shopify: 1 + 8 retries. @default 9 */
  maxAttempts: number;
  /** @default 250 */
  initialBackoffMs: number;
  /** @default 2 */
  factor: number;
  /** @default 5000 */
  maxBackoffMs: number;
  /** Per-attempt deadline; Shopify allows 5 s, Square 10 s. @default 5000 */
  timeoutMs: number;
}

/** Construction options of a {@link WebhookDispatcher}. */
export interface WebhookDispatcherOptions {
  /** Fault decision per queued event, usually `() => injector.decideWebhook()`. */
  decide?: () => WebhookFaultDecision;
  /** Injectable for tests. @default globalThis.fetch */
  fetch?: typeof fetch;
  retry?: Partial<RetryPolicy>;
  /**
   * Parallel deliveries. With 1 (the default) deliveries start strictly in
   * queue order, so arrival order is reproducible under a seed.
   */
  concurrency?: number;
  /** How long a reordered event waits for a successor before it is sent anyway. @default 1000 */
  reorderHoldMs?: number;
  /** Delivery records kept for the state endpoint. @default 2000 */
  historyLimit?: number;
}

/** Lifecycle of one delivery (one copy of one event). */
export interface DeliveryRecord {
  seq: number;
  eventId: string;
  topic: string;
  url: string;
  /** 0 for the original, 1 for an injected duplicate. */
  copy: number;
  state: 'pending' | 'in_flight' | 'delivered' | 'failed' | 'dropped';
  attempts: number;
  reordered: boolean;
  lastStatus?: number;
  lastError?: string;
  deliveredAt?: string;
}

/** Counters reported under `webhooks` in the state endpoint. */
export interface WebhookCounters {
  /** Events handed to `enqueue`. */
  queued: number;
  /** Successful deliveries (2xx), duplicate copies included. */
  delivered: number;
  /** Extra copies injected by the duplicate fault. */
  duplicated: number;
  /** Events never sent (drop fault). */
  dropped: number;
  /** Events held back and sent after their successor. */
  reordered: number;
  /** Deliveries that exhausted `maxAttempts`. */
  failed: number;
  /** HTTP attempts made, including retries. */
  attempts: number;
  /** Attempts that were retries. */
  retried: number;
}

interface Job {
  record: DeliveryRecord;
  msg: WebhookMessage;
  notBefore: number;
  /** Held back by the reorder fault until the next event is queued (or `holdUntil`). */
  held: boolean;
  holdUntil: number;
  inFlight: boolean;
}

const zero = (): WebhookCounters => ({
  queued: 0,
  delivered: 0,
  duplicated: 0,
  dropped: 0,
  reordered: 0,
  failed: 0,
  attempts: 0,
  retried: 0,
});

/**
 * At-least-once webhook delivery as vendors do it: POST, retry with
 * exponential backoff on non-2xx, network errors and timeouts, give up after
 * `maxAttempts`. Injects the configured duplicate / reorder / drop / delay
 * faults when an event is queued (one seeded decision per event), so a faulty
 * run is reproducible. `flush()` lets tests and scenarios wait for quiescence.
 */
export class WebhookDispatcher {
  private readonly policy: RetryPolicy;
  private readonly fetchFn: typeof fetch;
  private readonly decide: () => WebhookFaultDecision;
  private readonly concurrency: number;
  private readonly reorderHoldMs: number;
  private readonly historyLimit: number;
  private queue: Job[] = [];
  private history: DeliveryRecord[] = [];
  private counts = zero();
  private seq = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  private aborter = new AbortController();
  /** Restored deliveries wait for `resume()`: the receiver may not be listening yet. */
  private paused = false;

  constructor(options: WebhookDispatcherOptions = {}) {
    this.policy = {
      maxAttempts: 9,
      initialBackoffMs: 250,
      factor: 2,
      maxBackoffMs: 5_000,
      timeoutMs: 5_000,
      ...options.retry,
    };
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.decide = options.decide ?? (() => ({ drop: false, duplicate: false, reorder: false, delayMs: 0 }));
    this.concurrency = Math.max(1, options.concurrency ?? 1);
    this.reorderHoldMs = options.reorderHoldMs ?? 1_000;
    this.historyLimit = options.historyLimit ?? 2_000;
  }

  /** Queues one event (applying faults) and returns the delivery records created for it. */
  enqueue(msg: WebhookMessage): DeliveryRecord[] {
    this.counts.queued++;
    const d = this.decide();
    const now = Date.now();
    if (d.drop || msg.drop) {
      this.counts.dropped++;
      const rec = this.record(msg, 0, 'dropped', false);
      return [rec];
    }
    // A new event releases earlier held (reordered) events right behind it.
    const held = this.queue.filter((j) => j.held);
    this.queue = this.queue.filter((j) => !j.held);
    const jobs: Job[] = [];
    const notBefore = now + d.delayMs;
    jobs.push(this.job(msg, 0, notBefore, d.reorder));
    if (d.duplicate) {
      this.counts.duplicated++;
      jobs.push(this.job(msg, 1, notBefore, d.reorder));
    }
    if (d.reorder) this.counts.reordered++;
    for (const h of held) {
      h.held = false;
      h.notBefore = Math.max(h.notBefore, notBefore);
    }
    const ready = jobs.filter((j) => !j.held);
    const newlyHeld = jobs.filter((j) => j.held);
    for (const j of newlyHeld) j.holdUntil = now + this.reorderHoldMs;
    this.queue.push(...ready, ...held, ...newlyHeld);
    this.pump();
    return jobs.map((j) => j.record);
  }

  /**
   * Resolves when nothing is queued, held or in flight (held events are
   * released first). Rejects after `timeoutMs` so a stuck test fails clearly.
   */
  async flush(timeoutMs = 30_000): Promise<void> {
    for (const j of this.queue) {
      j.held = false;
    }
    this.pump();
    if (this.isIdle()) return;
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error(`webhook flush timed out after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Counters since the last reset. */
  get counters(): WebhookCounters & { pending: number; inFlight: number } {
    return { ...this.counts, pending: this.queue.length - this.inFlight, inFlight: this.inFlight };
  }

  /** Delivery records, newest last, filtered and paged for the state endpoint. */
  deliveries(filter: { state?: string; topic?: string; offset?: number; limit?: number } = {}): {
    total: number;
    items: DeliveryRecord[];
  } {
    const all = this.history.filter(
      (r) => (!filter.state || r.state === filter.state) && (!filter.topic || r.topic === filter.topic),
    );
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? 100;
    return { total: all.length, items: all.slice(offset, offset + limit).map((r) => ({ ...r })) };
  }

  /** Cancels everything pending and zeroes counters. */
  reset(): void {
    this.cancelAll();
    this.history = [];
    this.counts = zero();
    this.seq = 0;
  }

  /** Cancels pending deliveries and timers (for shutdown). */
  close(): void {
    this.cancelAll();
  }

  /**
   * Pending deliveries (in-flight ones as pending: their answer never came), delivery records and counters:
   * the dispatcher's part of a sandbox's state, which the local cloud keeps across restarts.
   */
  captureState(): unknown {
    return {
      queue: this.queue.map((job) =>
        job.inFlight ? { ...job, inFlight: false, record: { ...job.record, state: 'pending' } } : job,
      ),
      history: this.history,
      counts: this.counts,
      seq: this.seq,
    };
  }

  /** Puts back a {@link captureState}; the deliveries wait for {@link resume}. */
  applyState(state: unknown): void {
    const saved = state as { queue: Job[]; history: DeliveryRecord[]; counts: WebhookCounters; seq: number };
    this.cancelAll();
    this.queue = saved.queue;
    this.history = saved.history;
    this.counts = saved.counts;
    this.seq = saved.seq;
    this.paused = true;
  }

  /** Starts delivering what {@link applyState} put back (and anything queued since). */
  resume(): void {
    this.paused = false;
    this.pump();
  }

  private cancelAll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.aborter.abort();
    this.aborter = new AbortController();
    this.queue = [];
    this.inFlight = 0;
    this.notifyIdle();
  }

  private job(msg: WebhookMessage, copy: number, notBefore: number, held: boolean): Job {
    return {
      record: this.record(msg, copy, 'pending', held),
      msg,
      notBefore,
      held,
      holdUntil: 0,
      inFlight: false,
    };
  }

  private record(
    msg: WebhookMessage,
    copy: number,
    state: DeliveryRecord['state'],
    reordered: boolean,
  ): DeliveryRecord {
    const rec: DeliveryRecord = {
      seq: ++this.seq,
      eventId: msg.eventId,
      topic: msg.topic,
      url: msg.url,
      copy,
      state,
      attempts: 0,
      reordered,
    };
    this.history.push(rec);
    if (this.history.length > this.historyLimit) {
      const idx = this.history.findIndex((r) => r.state !== 'pending' && r.state !== 'in_flight');
      this.history.splice(Math.max(idx, 0), 1);
    }
    return rec;
  }

  private isIdle(): boolean {
    return this.queue.length === 0 && this.inFlight === 0;
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private pump(): void {
    if (this.paused) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const now = Date.now();
    for (const job of this.queue) {
      if (job.held && now >= job.holdUntil) job.held = false;
    }
    for (const job of this.queue) {
      if (this.inFlight >= this.concurrency) break;
      if (job.inFlight || job.held || job.notBefore > now) {
        // With concurrency 1, a later job may overtake one that is waiting for
        // its backoff — as vendors do — but never one that is merely delayed.
        if (this.concurrency === 1 && !job.inFlight && !job.held && job.record.attempts === 0) break;
        continue;
      }
      void this.attempt(job);
    }
    const waiting = this.queue.filter((j) => !j.inFlight);
    if (waiting.length > 0) {
      const next = Math.min(...waiting.map((j) => (j.held ? j.holdUntil : j.notBefore)));
      this.timer = setTimeout(() => this.pump(), Math.max(1, next - Date.now()));
    }
    this.notifyIdle();
  }

  private async attempt(job: Job): Promise<void> {
    job.inFlight = true;
    job.record.state = 'in_flight';
    this.inFlight++;
    this.counts.attempts++;
    if (job.record.attempts > 0) this.counts.retried++;
    job.record.attempts++;
    const signal = AbortSignal.any([this.aborter.signal, AbortSignal.timeout(this.policy.timeoutMs)]);
    const aborter = this.aborter;
    let ok = false;
    try {
      const res = await this.fetchFn(job.msg.url, {
        method: 'POST',
        headers: job.msg.headers,
        body: job.msg.body,
        signal,
        // Vendors do not follow redirects: a 3xx is a failed delivery (Shopify counts it as one).
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      job.record.lastStatus = res.status;
      delete job.record.lastError;
      ok = res.status >= 200 && res.status < 300;
    } catch (err) {
      job.record.lastError = err instanceof Error ? err.message : String(err);
    }
    if (aborter.signal.aborted) return; // reset/close happened meanwhile
    this.inFlight--;
    job.inFlight = false;
    if (ok) {
      job.record.state = 'delivered';
      job.record.deliveredAt = new Date().toISOString();
      this.counts.delivered++;
      this.remove(job);
    } else if (job.record.attempts >= this.policy.maxAttempts) {
      job.record.state = 'failed';
      this.counts.failed++;
      this.remove(job);
    } else {
      job.record.state = 'pending';
      const backoff = Math.min(
        this.policy.maxBackoffMs,
        this.policy.initialBackoffMs * this.policy.factor ** (job.record.attempts - 1),
      );
      job.notBefore = Date.now() + backoff;
    }
    this.pump();
  }

  private remove(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
  }
}
