/** Per-webhook delivery figures, as the seed's `get_webhook_stats` reports them (camelCase). */
export interface WebhookStats {
  /** Attempts made (first attempts and retries). */
  totalSent: number;
  /** Deliveries that ended delivered. */
  successCount: number;
  /** Deliveries that ended failed (dead-lettered). */
  failedCount: number;
  /** Attempts that were retries. */
  retriedCount: number;
  /**
   * Deliveries this process queued that are queued, deferred by the rate limit or circuit, or
   * waiting for a retry. With a durable or distributed queue, ask the queue (`pending()`) for
   * the whole picture: other processes' jobs are not counted here.
   */
  pendingCount: number;
  /** Times a delivery waited: for the rate limit, an open circuit, or an earlier notification of its incident. */
  deferredCount: number;
  /**
   * Events this webhook skipped because its `filter` threw or returned something other than a
   * boolean (each one is also reported to the host's `onError`). Not counted in `failedCount`:
   * no delivery was attempted, and no dead letter exists.
   */
  filterErrorCount: number;
  /**
   * Events folded into another notification of the same incident by the webhook's `group` option:
   * not delivered on their own, and counted in the notification that stands for them ("seen N
   * times"). Also notifications that had nothing left to say when their time came, because a
   * resolved notification had already covered their events.
   */
  foldedCount: number;
  /** successCount / (successCount + failedCount), 0..1; 0 until a delivery has finished. */
  successRate: number;
  /** Mean attempt duration, successful or not, in ms (0 before the first attempt). */
  avgResponseTimeMs: number;
  /** 95th percentile of the last 1024 attempts' durations, in ms. */
  p95ResponseTimeMs: number;
  /** The most recent error message (redacted: no secrets, URLs show their origin only). */
  lastError?: string | undefined;
  /** ISO time of the most recent error. */
  lastErrorAt?: string | undefined;
}

/**
 * Why a delivery waited without spending an attempt: its webhook's rate limit, its open circuit
 * (both hold the webhook's whole lane), or an earlier notification of its incident that has not
 * posted yet (only that job waits).
 */
export type DeferReason = 'rate_limit' | 'circuit_open' | 'incident_order';

/**
 * What every {@link DeliveryOutcome} says: which delivery, which attempt. Fields that only some
 * kinds carry are declared `?: undefined` on the others, so code that reads them on any outcome
 * still compiles, and `switch (outcome.kind)` narrows to the kind's own.
 */
interface OutcomeBase {
  webhook: string;
  eventId: string;
  eventType: string;
  /** The attempt this outcome concerns (1-based); for `deferred`, the attempt that is waiting. */
  attempt: number;
}

/**
 * One thing that happened to a delivery: the monitor's event stream. A discriminated union on
 * `kind`: each kind carries exactly the fields that mean something for it.
 */
export type DeliveryOutcome =
  /** The vendor accepted it. */
  | (OutcomeBase & {
      kind: 'delivered';
      /** Attempt duration in ms. */
      durationMs: number | undefined;
      /** HTTP status, when known. */
      status?: number | undefined;
      error?: undefined;
      nextAttemptAt?: undefined;
      reason?: undefined;
    })
  /** An attempt failed and another is scheduled. */
  | (OutcomeBase & {
      kind: 'retry';
      durationMs: number | undefined;
      status?: number | undefined;
      /** Redacted error message. */
      error: string;
      /** When the next attempt happens (epoch ms). */
      nextAttemptAt: number;
      reason?: undefined;
    })
  /** Not attempted now (rate limit, open circuit, an earlier notification of its incident): no attempt spent. */
  | (OutcomeBase & {
      kind: 'deferred';
      /** When the next try happens (epoch ms). */
      nextAttemptAt: number;
      reason: DeferReason;
      durationMs?: undefined;
      status?: undefined;
      error?: undefined;
    })
  /** Failed for good: in the dead letters. */
  | (OutcomeBase & {
      kind: 'dead';
      /** Attempt duration in ms; `undefined` when no attempt ran (e.g. a webhook removed). */
      durationMs: number | undefined;
      status?: number | undefined;
      /** Redacted error message. */
      error: string;
      nextAttemptAt?: undefined;
      reason?: undefined;
    });

/** A listener on the monitor's event stream. */
export type DeliveryListener = (outcome: DeliveryOutcome) => void;

const WINDOW = 1024;

class Figures {
  totalSent = 0;
  successCount = 0;
  failedCount = 0;
  retriedCount = 0;
  pendingCount = 0;
  deferredCount = 0;
  filterErrorCount = 0;
  foldedCount = 0;
  durationSum = 0;
  durations = new Float64Array(WINDOW);
  durationCount = 0;
  lastError: string | undefined;
  lastErrorAt: number | undefined;
  /** The p95 of the window, kept until the next attempt: reading stats often stays cheap. */
  p95: number | undefined;

  addDuration(ms: number): void {
    this.durations[this.durationCount % WINDOW] = ms;
    this.durationCount++;
    this.durationSum += ms;
    this.p95 = undefined;
  }

  percentile95(): number {
    if (this.p95 !== undefined) return this.p95;
    const n = Math.min(this.durationCount, WINDOW);
    if (n === 0) return 0;
    const sorted = this.durations.slice(0, n).sort();
    this.p95 = sorted[Math.min(n - 1, Math.ceil(0.95 * n) - 1)]!;
    return this.p95;
  }

  snapshot(): WebhookStats {
    const finished = this.successCount + this.failedCount;
    const p95 = this.percentile95();
    const stats: WebhookStats = {
      totalSent: this.totalSent,
      successCount: this.successCount,
      failedCount: this.failedCount,
      retriedCount: this.retriedCount,
      pendingCount: this.pendingCount,
      deferredCount: this.deferredCount,
      filterErrorCount: this.filterErrorCount,
      foldedCount: this.foldedCount,
      successRate: finished === 0 ? 0 : this.successCount / finished,
      avgResponseTimeMs: this.durationCount === 0 ? 0 : round(this.durationSum / this.durationCount),
      p95ResponseTimeMs: round(p95),
    };
    if (this.lastError !== undefined) {
      stats.lastError = this.lastError;
      stats.lastErrorAt = new Date(this.lastErrorAt!).toISOString();
    }
    return stats;
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/**
 * Delivery figures per webhook and a stream of delivery outcomes. The host records into it;
 * read it with {@link WebhookMonitor.getWebhookStats}, {@link WebhookMonitor.getAllStats} or
 * subscribe with {@link WebhookMonitor.on}.
 *
 * @example
 * const stats = empathy.monitor.getWebhookStats('slack');
 * console.log(`Success rate: ${(stats.successRate * 100).toFixed(0)}%`);
 */
export class WebhookMonitor {
  readonly #figures = new Map<string, Figures>();
  readonly #listeners = new Set<DeliveryListener>();

  /** Figures for one webhook (zeros for a name it has not seen). */
  getWebhookStats(name: string): WebhookStats {
    return (this.#figures.get(name) ?? new Figures()).snapshot();
  }

  /** Figures for every webhook it has seen, by name. */
  getAllStats(): Record<string, WebhookStats> {
    const out: Record<string, WebhookStats> = {};
    for (const [name, figures] of this.#figures) out[name] = figures.snapshot();
    return out;
  }

  /** Subscribes to delivery outcomes; returns the unsubscribe function. */
  on(listener: DeliveryListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Forgets every figure. */
  reset(): void {
    this.#figures.clear();
  }

  /** Makes a webhook show up in `getAllStats()` before anything happened to it. */
  track(webhook: string): void {
    this.#get(webhook);
  }

  /** Records that `count` deliveries for `webhook` were queued. */
  recordQueued(webhook: string, count = 1): void {
    this.#get(webhook).pendingCount += count;
  }

  /** Records that `webhook`'s filter threw or returned a non-boolean, so it skipped an event. */
  recordFilterError(webhook: string): void {
    this.#get(webhook).filterErrorCount++;
  }

  /** Records that an event for `webhook` was folded into another notification (see `foldedCount`). */
  recordFolded(webhook: string, count = 1): void {
    this.#get(webhook).foldedCount += count;
  }

  /** Records an outcome and tells the listeners. Called by the dispatcher. */
  record(outcome: DeliveryOutcome): void {
    const f = this.#get(outcome.webhook);
    if (outcome.kind === 'deferred') {
      f.deferredCount++;
    } else {
      if (outcome.durationMs !== undefined) {
        f.totalSent++;
        if (outcome.attempt > 1) f.retriedCount++;
        f.addDuration(outcome.durationMs);
      }
      // Floored at 0: a durable queue may finish jobs queued before this process started,
      // which it never counted; they must not hide the ones it did.
      if (outcome.kind === 'delivered') {
        f.successCount++;
        if (f.pendingCount > 0) f.pendingCount--;
      } else if (outcome.kind === 'dead') {
        f.failedCount++;
        if (f.pendingCount > 0) f.pendingCount--;
      }
      if (outcome.kind !== 'delivered') {
        f.lastError = outcome.error;
        f.lastErrorAt = Date.now();
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(outcome);
      } catch {
        // A listener's bug must not break delivery.
      }
    }
  }

  #get(webhook: string): Figures {
    let f = this.#figures.get(webhook);
    if (!f) {
      f = new Figures();
      this.#figures.set(webhook, f);
    }
    return f;
  }
}
