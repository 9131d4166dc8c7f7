import { WebhookConfigError } from '../errors.js';

/** How many deliveries a webhook may make. Over the limit, deliveries wait; nothing is dropped. */
export interface RateLimit {
  /** @example 60 */
  maxRequestsPerMinute?: number | undefined;
  /** @example 1000 */
  maxRequestsPerHour?: number | undefined;
  /**
   * - `sliding_window`: at most N in any window-long span: exact up to
   *   {@link EXACT_SLIDING_WINDOW_LIMIT} per window; above it, counted in 1/1024ths of the window,
   *   which may hold a request back by up to one such slice but never lets more than N through.
   * - `fixed_window`: at most N per calendar minute / hour.
   * - `token_bucket`: a bucket of N tokens refilled evenly over the window (smooths bursts).
   * @default 'sliding_window'
   */
  strategy?: 'sliding_window' | 'fixed_window' | 'token_bucket' | undefined;
}

/** A validated rate limit. */
export interface ResolvedRateLimit {
  windows: { limit: number; windowMs: number }[];
  strategy: NonNullable<RateLimit['strategy']>;
}

const STRATEGIES = ['sliding_window', 'fixed_window', 'token_bucket'] as const;

/** Validates a {@link RateLimit}; throws a {@link WebhookConfigError} naming the option. */
export function normalizeRateLimit(rateLimit: RateLimit, webhook: string): ResolvedRateLimit {
  if (rateLimit === null || typeof rateLimit !== 'object') {
    throw new WebhookConfigError(`option 'rateLimit' must be an object`, { webhook });
  }
  const windows: ResolvedRateLimit['windows'] = [];
  for (const [option, windowMs] of [
    ['maxRequestsPerMinute', 60_000],
    ['maxRequestsPerHour', 3_600_000],
  ] as const) {
    const limit = rateLimit[option];
    if (limit === undefined) continue;
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000_000) {
      throw new WebhookConfigError(
        `option 'rateLimit.${option}' must be an integer from 1 to 10,000,000 (got ${JSON.stringify(limit)})`,
        { webhook },
      );
    }
    windows.push({ limit, windowMs });
  }
  if (windows.length === 0) {
    throw new WebhookConfigError(`option 'rateLimit' needs maxRequestsPerMinute and/or maxRequestsPerHour`, {
      webhook,
    });
  }
  const strategy = rateLimit.strategy ?? 'sliding_window';
  if (!STRATEGIES.includes(strategy)) {
    throw new WebhookConfigError(
      `option 'rateLimit.strategy' must be one of ${STRATEGIES.join(', ')} (got ${JSON.stringify(strategy)})`,
      { webhook },
    );
  }
  return { windows, strategy };
}

/**
 * Admission control for one webhook. `acquire(now)` returns 0 and counts the request when it may
 * go now, or the ms until it may. Implementations may be shared across processes (Redis), hence
 * the optional promise.
 */
export interface RateLimiter {
  acquire(now: number): number | Promise<number>;
}

/** Builds the rate limiter for a webhook; a distributed queue passes one backed by its store. */
export type RateLimiterFactory = (webhook: string, rateLimit: ResolvedRateLimit) => RateLimiter;

/** The in-process limiter for a {@link ResolvedRateLimit}: every window must admit the request. */
export function createRateLimiter(rateLimit: ResolvedRateLimit): RateLimiter {
  const windows = rateLimit.windows.map(({ limit, windowMs }) => {
    switch (rateLimit.strategy) {
      case 'fixed_window':
        return new FixedWindow(limit, windowMs);
      case 'token_bucket':
        return new TokenBucket(limit, windowMs);
      default:
        return limit <= EXACT_SLIDING_WINDOW_LIMIT
          ? new SlidingWindow(limit, windowMs)
          : new BucketedSlidingWindow(limit, windowMs);
    }
  });
  if (windows.length === 1) {
    const only = windows[0]!;
    return {
      acquire(now) {
        const wait = only.wait(now);
        if (wait > 0) return wait;
        only.take(now);
        return 0;
      },
    };
  }
  return {
    acquire(now) {
      let wait = 0;
      for (const w of windows) wait = Math.max(wait, w.wait(now));
      if (wait > 0) return wait;
      for (const w of windows) w.take(now);
      return 0;
    },
  };
}

interface Window {
  /** ms until one more request is admitted; 0 if now. */
  wait(now: number): number;
  /** Counts one request at `now`. */
  take(now: number): void;
}

/**
 * The largest `sliding_window` limit kept as an exact log of admission times (8 bytes each, so
 * at most 80 KB per window). Larger limits count admissions in {@link SLIDING_BUCKETS} slices of
 * the window instead: a log of 10,000,000 per minute would take 80 MB per webhook.
 */
export const EXACT_SLIDING_WINDOW_LIMIT = 10_000;

/** Slices a large sliding window is counted in. */
const SLIDING_BUCKETS = 1024;

/**
 * Exact sliding log in O(1): a ring of the last `limit` admission times. A request is admitted
 * when the admission `limit` requests ago is at least a window old.
 */
class SlidingWindow implements Window {
  readonly #ring: Float64Array;
  #next = 0;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    this.#ring = new Float64Array(limit).fill(Number.NEGATIVE_INFINITY);
  }
  wait(now: number): number {
    return Math.max(0, this.#ring[this.#next]! + this.windowMs - now);
  }
  take(now: number): void {
    this.#ring[this.#next] = now;
    this.#next = (this.#next + 1) % this.limit;
  }
}

/** At most `limit` per aligned window. */
class FixedWindow implements Window {
  #start = 0;
  #count = 0;
  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {}
  wait(now: number): number {
    const start = now - (now % this.windowMs);
    if (start !== this.#start) return 0;
    return this.#count < this.limit ? 0 : start + this.windowMs - now;
  }
  take(now: number): void {
    const start = now - (now % this.windowMs);
    if (start !== this.#start) {
      this.#start = start;
      this.#count = 0;
    }
    this.#count++;
  }
}

/** `limit` tokens, refilled continuously at `limit / windowMs`. */
class TokenBucket implements Window {
  #tokens: number;
  #at = 0;
  readonly #ratePerMs: number;
  constructor(
    readonly limit: number,
    windowMs: number,
  ) {
    this.#tokens = limit;
    this.#ratePerMs = limit / windowMs;
  }
  #refill(now: number) {
    if (now > this.#at) {
      this.#tokens = Math.min(this.limit, this.#tokens + (now - this.#at) * this.#ratePerMs);
      this.#at = now;
    }
  }
  wait(now: number): number {
    this.#refill(now);
    return this.#tokens >= 1 ? 0 : Math.ceil((1 - this.#tokens) / this.#ratePerMs);
  }
  take(now: number): void {
    this.#refill(now);
    this.#tokens -= 1;
  }
}

/**
 * A sliding window for large limits: admissions are counted per slice of `windowMs / 1024`, and
 * every slice that overlaps the last window counts in full. A request is admitted only when the
 * counted total is under `limit`, so no window-long span ever holds more than `limit`; the price
 * is waiting up to one slice (59 ms of a minute, 3.5 s of an hour) longer than an exact log would.
 * Memory is constant: 1025 counters, whatever the limit.
 */
class BucketedSlidingWindow implements Window {
  readonly #width: number;
  /** Counts of the slices that may still overlap the window: ring indexed by slice number. */
  readonly #counts = new Float64Array(SLIDING_BUCKETS + 1);
  /** The newest slice counted so far; older slices down to `#last - SLIDING_BUCKETS` are live. */
  #last = Number.NEGATIVE_INFINITY;
  #total = 0;

  constructor(
    readonly limit: number,
    readonly windowMs: number,
  ) {
    this.#width = windowMs / SLIDING_BUCKETS;
  }

  /** Forgets slices that ended a full window ago; returns the slice `now` falls in. */
  #advance(now: number): number {
    const slice = Math.floor(now / this.#width);
    // A clock that stepped back counts in the newest slice: never un-count an admission.
    if (slice <= this.#last) return this.#last;
    const ring = this.#counts.length;
    if (slice - this.#last >= ring) {
      this.#counts.fill(0);
      this.#total = 0;
    } else {
      for (let s = this.#last + 1; s <= slice; s++) {
        const i = s % ring;
        this.#total -= this.#counts[i]!;
        this.#counts[i] = 0;
      }
    }
    this.#last = slice;
    return slice;
  }

  wait(now: number): number {
    const slice = this.#advance(now);
    if (this.#total < this.limit) return 0;
    // Drop the oldest slices until the total is under the limit: slice s stops overlapping the
    // window once (s + 1) × width + windowMs has passed.
    const ring = this.#counts.length;
    let total = this.#total;
    for (let s = slice - SLIDING_BUCKETS; s <= slice; s++) {
      total -= this.#counts[((s % ring) + ring) % ring]!;
      if (total < this.limit) return Math.max(1, Math.ceil((s + 1) * this.#width + this.windowMs - now));
    }
    return Math.ceil(this.windowMs);
  }

  take(now: number): void {
    const slice = this.#advance(now);
    this.#counts[slice % this.#counts.length]!++;
    this.#total++;
  }
}
