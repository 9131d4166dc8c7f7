import { WebhookConfigError } from '../errors.js';

/** How many deliveries a webhook may make. Over the limit, deliveries wait; nothing is dropped. */
export interface RateLimit {
  /** @example 60 */
  maxRequestsPerMinute?: number | undefined;
  /** @example 1000 */
  maxRequestsPerHour?: number | undefined;
  /**
   * - `sliding_window`: at most N in any window-long span (exact).
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
        return new SlidingWindow(limit, windowMs);
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
