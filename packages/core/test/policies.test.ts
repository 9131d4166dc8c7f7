import { describe, expect, it } from 'vitest';
import {
  CircuitBreaker,
  createRateLimiter,
  isRetryable,
  nextRetryDelayMs,
  normalizeRateLimit,
  normalizeRetryPolicy,
  parseRetryAfter,
  WebhookDeliveryError,
} from '../src/index.js';

const err = (status?: number, retryAfterMs?: number, retryable?: boolean) =>
  new WebhookDeliveryError('x', { status, retryAfterMs, retryable });

describe('retry policy', () => {
  it("backs off 1s, 2s, 4s, 8s, 16s with the seed's multiplier", () => {
    const policy = normalizeRetryPolicy({ maxRetries: 5, backoffMultiplier: 2, jitter: false }, 'w');
    expect([1, 2, 3, 4, 5].map((n) => nextRetryDelayMs(policy, err(503), n))).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
    expect(nextRetryDelayMs(policy, err(503), 6)).toBeUndefined();
  });

  it('allows fractional initial delays, caps at maxDelaySeconds, jitters within ±20%', () => {
    const policy = normalizeRetryPolicy(
      { initialDelaySeconds: 0.25, maxDelaySeconds: 1, maxRetries: 10, jitter: false },
      'w',
    );
    expect(nextRetryDelayMs(policy, err(500), 1)).toBe(250);
    expect(nextRetryDelayMs(policy, err(500), 8)).toBe(1000);
    const jittered = normalizeRetryPolicy({ maxRetries: 3 }, 'w');
    expect(nextRetryDelayMs(jittered, err(500), 2, () => 0)).toBe(1600);
    expect(nextRetryDelayMs(jittered, err(500), 2, () => 1)).toBe(2400);
  });

  it('prefers Retry-After over backoff, capped at maxRetryAfterSeconds', () => {
    const policy = normalizeRetryPolicy({ maxRetryAfterSeconds: 60 }, 'w');
    expect(nextRetryDelayMs(policy, err(429, 5000), 1)).toBe(5000);
    expect(nextRetryDelayMs(policy, err(503, 3_600_000), 1)).toBe(60_000);
  });

  it('retries statuses in retryOnStatus, 429 and anything with Retry-After; network errors by their flag', () => {
    const policy = normalizeRetryPolicy({ retryOnStatus: [500, 502, 503, 504] }, 'w');
    expect(isRetryable(policy, err(503))).toBe(true);
    expect(isRetryable(policy, err(408))).toBe(false);
    expect(isRetryable(policy, err(429))).toBe(true);
    expect(isRetryable(policy, err(403, 1000))).toBe(true);
    expect(isRetryable(policy, err(400))).toBe(false);
    expect(isRetryable(policy, err(undefined))).toBe(true);
    expect(isRetryable(policy, err(undefined, undefined, false))).toBe(false);
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-11-25T14:30:00Z');
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Tue, 25 Nov 2025 14:30:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Tue, 25 Nov 2025 14:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('names the bad option', () => {
    expect(() => normalizeRetryPolicy({ backoffMultiplier: 0.5 }, 'ops')).toThrow(
      "[ops] option 'retryPolicy.backoffMultiplier' must be a number >= 1 (got 0.5)",
    );
    expect(() => normalizeRetryPolicy({ timeoutSeconds: 0 }, 'ops')).toThrow(/retryPolicy.timeoutSeconds/);
    expect(() => normalizeRetryPolicy({ retryOnStatus: [999] }, 'ops')).toThrow(/retryPolicy.retryOnStatus/);
  });
});

describe('rate limiters', () => {
  const run = (strategy: 'sliding_window' | 'fixed_window' | 'token_bucket', times: number[]) => {
    const limiter = createRateLimiter(normalizeRateLimit({ maxRequestsPerMinute: 3, strategy }, 'w'));
    return times.map((t) => limiter.acquire(t) as number);
  };

  it('sliding window: at most N in any 60 s span, and says how long to wait', () => {
    const base = 1_000_000_020_000;
    expect(
      run('sliding_window', [
        base,
        base + 10_000,
        base + 20_000,
        base + 30_000,
        base + 60_000,
        base + 70_000,
      ]),
    ).toEqual([0, 0, 0, 30_000, 0, 0]);
  });

  it('fixed window: resets at the minute boundary', () => {
    const start = 1_000_000_020_000 - (1_000_000_020_000 % 60_000);
    expect(run('fixed_window', [start + 1, start + 2, start + 3, start + 4, start + 60_000])).toEqual([
      0, 0, 0, 59_996, 0,
    ]);
  });

  it('token bucket: refills one token every window/N', () => {
    const base = 1_000_000_000_000;
    expect(run('token_bucket', [base, base, base, base, base + 20_000])).toEqual([0, 0, 0, 20_000, 0]);
  });

  it('holds every window: per minute and per hour', () => {
    const limiter = createRateLimiter(
      normalizeRateLimit({ maxRequestsPerMinute: 10, maxRequestsPerHour: 12 }, 'w'),
    );
    const base = 1_000_000_000_000;
    const first = Array.from({ length: 11 }, () => limiter.acquire(base) as number);
    expect(first.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(first[10]).toBe(60_000); // the minute window
    const later = Array.from({ length: 3 }, () => limiter.acquire(base + 60_000) as number);
    expect(later).toEqual([0, 0, 3_540_000]); // then the hour window
  });

  it('validates', () => {
    expect(() => normalizeRateLimit({}, 'ops')).toThrow(
      "[ops] option 'rateLimit' needs maxRequestsPerMinute and/or maxRequestsPerHour",
    );
    expect(() => normalizeRateLimit({ maxRequestsPerMinute: 10, strategy: 'leaky' as never }, 'ops')).toThrow(
      /rateLimit.strategy' must be one of sliding_window, fixed_window, token_bucket/,
    );
  });
});

describe('circuit breaker', () => {
  it('opens after the threshold, half-opens after the cool-down, closes on a good trial', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownSeconds: 10 });
    for (let i = 0; i < 3; i++) {
      expect(breaker.acquire(i)).toBe(0);
      breaker.record(false, i);
    }
    expect(breaker.state).toBe('open');
    expect(breaker.acquire(5_000)).toBe(5_002);
    expect(breaker.acquire(10_002)).toBe(0); // the one trial
    expect(breaker.state).toBe('half_open');
    expect(breaker.acquire(10_003)).toBeGreaterThan(0); // others wait for it
    breaker.record(true, 10_050);
    expect(breaker.state).toBe('closed');
    expect(breaker.acquire(10_060)).toBe(0);
  });

  it('re-opens when the trial fails', () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownSeconds: 1 });
    breaker.record(false, 0);
    expect(breaker.acquire(1000)).toBe(0);
    breaker.record(false, 1000);
    expect(breaker.state).toBe('open');
    expect(breaker.acquire(1500)).toBe(500);
  });
});
