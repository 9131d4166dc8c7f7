import { describe, expect, it } from 'vitest';
import { MAX_WAIT_SECONDS, WebhookConfigError, WebhookDeliveryError } from '../src/index.js';
import { isRetryable, parseCommonOptions, parseRetryAfter } from '../src/kit/index.js';
import {
  CircuitBreaker,
  createRateLimiter,
  EXACT_SLIDING_WINDOW_LIMIT,
  MAX_TIMER_DELAY_MS,
  nextRetryDelayMs,
  normalizeRateLimit,
  normalizeRetryPolicy,
} from '../src/queue/index.js';

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
    // A date that has passed is ignored (the caller backs off), not "retry at once".
    expect(parseRetryAfter('Tue, 25 Nov 2025 14:00:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  describe('Retry-After, strictly as RFC 9110 defines it', () => {
    // RFC 9110 §5.6.7: "Sun, 06 Nov 1994 08:49:37 GMT" in its three forms; §10.2.3: the examples.
    const before = Date.UTC(1994, 10, 6, 8, 49, 0);

    it('reads the three HTTP-date forms of §5.6.7 as the same instant, in GMT', () => {
      for (const form of [
        'Sun, 06 Nov 1994 08:49:37 GMT', // IMF-fixdate
        'Sunday, 06-Nov-94 08:49:37 GMT', // obsolete RFC 850 format
        'Sun Nov  6 08:49:37 1994', // ANSI C's asctime() format
      ]) {
        expect(parseRetryAfter(form, before), form).toBe(37_000);
      }
      // asctime has no zone and is GMT: read as local time it would be off by the TZ offset.
      expect(parseRetryAfter('Wed Nov 16 08:49:37 1994', before)).toBe(37_000 + 10 * 86_400_000);
    });

    it("takes §10.2.3's examples: an HTTP-date and delay-seconds", () => {
      const now = Date.UTC(1999, 11, 31, 23, 59, 0);
      expect(parseRetryAfter('Fri, 31 Dec 1999 23:59:59 GMT', now)).toBe(59_000);
      expect(parseRetryAfter('120', now)).toBe(120_000);
      expect(parseRetryAfter('0', now)).toBe(0);
      expect(parseRetryAfter(' 120 ', now)).toBe(120_000);
    });

    it('reads a two-digit RFC 850 year as the nearest one, never more than 50 years ahead', () => {
      const in2025 = Date.UTC(2025, 0, 1);
      // 2070 is 45 years ahead: kept.
      expect(parseRetryAfter('Wednesday, 01-Jan-70 00:00:00 GMT', in2025)).toBe(
        Date.UTC(2070, 0, 1) - in2025,
      );
      // 2094 would be 69 years ahead: it is 1994, in the past, so ignored.
      expect(parseRetryAfter('Sunday, 06-Nov-94 08:49:37 GMT', in2025)).toBeUndefined();
    });

    it('ignores negative, fractional garbage, malformed and past values', () => {
      for (const bad of [
        '-1',
        '-0.5',
        '1.5abc',
        '1.',
        '.5',
        '1e3',
        '0x10',
        '+5',
        '1 2',
        'soon',
        'Infinity',
        'NaN',
        '9'.repeat(80),
        // HTTP-date is case-sensitive and always GMT.
        'sun, 06 Nov 1994 08:49:37 GMT',
        'Sun, 06 nov 1994 08:49:37 GMT',
        'Sun, 06 Nov 1994 08:49:37 gmt',
        'Sun, 06 Nov 1994 08:49:37 UTC',
        'Sun, 06 Nov 1994 08:49:37 +0000',
        'Sun, 06 Nov 1994 08:49:37',
        // Wrong weekday, impossible day or time, single-digit day outside asctime.
        'Mon, 06 Nov 1994 08:49:37 GMT',
        'Sun, 31 Nov 1994 08:49:37 GMT',
        'Sun, 06 Nov 1994 24:00:00 GMT',
        'Sun, 6 Nov 1994 08:49:37 GMT',
        'Sun Nov 6 08:49:37 1994',
        // What Date.parse would accept.
        '1994-11-06',
        'Nov 6 1994 09:00',
        '6 Nov 1994 08:49:37 GMT',
        'Sunday, 06-Nov-1994 08:49:37 GMT',
      ]) {
        expect(parseRetryAfter(bad, before), JSON.stringify(bad)).toBeUndefined();
      }
      // Dates count only in the future.
      expect(parseRetryAfter('Sun, 06 Nov 1994 08:49:00 GMT', before)).toBeUndefined();
      expect(parseRetryAfter('Sun, 06 Nov 1994 08:48:37 GMT', before)).toBeUndefined();
      expect(parseRetryAfter(null, before)).toBeUndefined();
      expect(parseRetryAfter('', before)).toBeUndefined();
    });

    it('reads an RFC 3339 timestamp with a zone (vendor reset headers), and only that', () => {
      expect(parseRetryAfter('1994-11-06T08:50:00Z', before)).toBe(60_000);
      expect(parseRetryAfter('1994-11-06T08:50Z', before)).toBe(60_000);
      expect(parseRetryAfter('1994-11-06T10:50:00+02:00', before)).toBe(60_000);
      expect(parseRetryAfter('1994-11-06T08:50:00', before)).toBeUndefined(); // no zone: local time
      expect(parseRetryAfter('1994-11-31T08:50:00Z', before)).toBeUndefined();
    });
  });

  it('names the bad option', () => {
    expect(() => normalizeRetryPolicy({ backoffMultiplier: 0.5 }, 'ops')).toThrow(
      "[ops] option 'retryPolicy.backoffMultiplier' must be a number >= 1 (got 0.5)",
    );
    expect(() => normalizeRetryPolicy({ timeoutSeconds: 0 }, 'ops')).toThrow(/retryPolicy.timeoutSeconds/);
    expect(() => normalizeRetryPolicy({ retryOnStatus: [999] }, 'ops')).toThrow(/retryPolicy.retryOnStatus/);
  });

  it('bounds every wait at 7 days, so each fits in one Node timer', () => {
    for (const value of [Number.POSITIVE_INFINITY, 1e12, MAX_WAIT_SECONDS + 1]) {
      expect(() => normalizeRetryPolicy({ maxRetryAfterSeconds: value }, 'ops')).toThrow(
        `[ops] option 'retryPolicy.maxRetryAfterSeconds' must be a number from 0 to 604800 (7 days) (got ${value})`,
      );
      expect(() => normalizeRetryPolicy({ maxDelaySeconds: value }, 'ops')).toThrow(
        /option 'retryPolicy.maxDelaySeconds' must be a number from initialDelaySeconds to 604800/,
      );
      expect(() => new CircuitBreaker({ cooldownSeconds: value }, 'ops')).toThrow(
        `[ops] option 'circuitBreaker.cooldownSeconds' must be a number from 0 to 604800 (7 days) (got ${value})`,
      );
      // At construction of any integration, not only when it is registered.
      expect(() =>
        parseCommonOptions({ circuitBreaker: { cooldownSeconds: value } }, { name: 'ops', events: ['*'] }),
      ).toThrow(WebhookConfigError);
    }
    expect(MAX_WAIT_SECONDS * 1000).toBeLessThanOrEqual(MAX_TIMER_DELAY_MS);
    const week = normalizeRetryPolicy({ maxRetryAfterSeconds: MAX_WAIT_SECONDS }, 'ops');
    expect(nextRetryDelayMs(week, err(429, 1e15), 1)).toBe(MAX_WAIT_SECONDS * 1000);
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

  it('sliding window above the exact size: constant memory, never more than N in any window span', () => {
    const before = process.memoryUsage().arrayBuffers;
    const huge = createRateLimiter(normalizeRateLimit({ maxRequestsPerMinute: 10_000_000 }, 'w'));
    // An exact log of 10,000,000 admission times would be 80 MB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(1_000_000);
    expect(huge.acquire(0)).toBe(0);

    const limit = EXACT_SLIDING_WINDOW_LIMIT + 1;
    const limiter = createRateLimiter(normalizeRateLimit({ maxRequestsPerMinute: limit }, 'w'));
    const admitted: number[] = [];
    let now = 1_000_000;
    let waits = 0;
    // Bursts and pauses over ~5 minutes: every request admitted at once or after its wait.
    for (let i = 0; i < 4 * limit; i++) {
      now += i % 2000 === 0 ? 3_000 : (i * 7919) % 5 === 0 ? 1 : 0;
      for (;;) {
        const wait = limiter.acquire(now) as number;
        if (wait === 0) break;
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(60_000);
        // Come back at the time it said, or earlier (a request of another lane, a clock tick).
        now += waits++ % 3 === 0 ? wait : Math.max(1, Math.floor(wait * 0.98));
      }
      admitted.push(now);
    }
    expect(waits).toBeGreaterThan(0);
    // Every window-long span ending at an admission holds at most `limit` admissions.
    let first = 0;
    for (let last = 0; last < admitted.length; last++) {
      while (admitted[first]! <= admitted[last]! - 60_000) first++;
      if (last - first + 1 > limit) throw new Error(`${last - first + 1} admissions within 60 s`);
    }
  });

  it('sliding window above the exact size waits at most one slice longer than an exact log', () => {
    const limit = EXACT_SLIDING_WINDOW_LIMIT * 2;
    const limiter = createRateLimiter(normalizeRateLimit({ maxRequestsPerMinute: limit }, 'w'));
    for (let i = 0; i < limit; i++) expect(limiter.acquire(10_000)).toBe(0);
    const wait = limiter.acquire(10_000) as number;
    // Exact: 60 s after the burst at 10 s. Sliced: up to 60 s / 1024 later.
    expect(wait).toBeGreaterThanOrEqual(60_000);
    expect(wait).toBeLessThanOrEqual(60_000 + Math.ceil(60_000 / 1024));
    // Asking again before then never gets through early.
    for (const at of [10_001, 40_000, 69_000, 69_999, 10_000 + wait - 1]) {
      expect(limiter.acquire(at), `at ${at}`).toBeGreaterThan(0);
    }
    expect(limiter.acquire(10_000 + wait)).toBe(0);
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
