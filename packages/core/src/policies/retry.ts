import { WebhookConfigError, type WebhookDeliveryError } from '../errors.js';

/** When and how often a failed delivery is attempted again. */
export interface RetryPolicy {
  /** Attempts after the first. @default 3 */
  maxRetries?: number | undefined;
  /** Each retry waits this many times longer than the one before. @default 2 */
  backoffMultiplier?: number | undefined;
  /** Wait before the first retry, in seconds (fractions allowed): 1 → 1s, 2s, 4s, 8s, 16s. @default 1 */
  initialDelaySeconds?: number | undefined;
  /** Upper bound of a backoff wait, at most {@link MAX_WAIT_SECONDS} (7 days). @default 300 */
  maxDelaySeconds?: number | undefined;
  /**
   * Upper bound of a wait the vendor asks for (Retry-After), at most {@link MAX_WAIT_SECONDS}
   * (7 days). @default 3600
   */
  maxRetryAfterSeconds?: number | undefined;
  /** Per-attempt timeout. @default 30 */
  timeoutSeconds?: number | undefined;
  /**
   * HTTP statuses that are retried. Rate limiting (429, or any answer with Retry-After), timeouts
   * and network errors are always retried.
   * @default [408, 425, 429, 500, 502, 503, 504]
   */
  retryOnStatus?: number[] | undefined;
  /** Spread backoff waits by ±20% so that many failed deliveries don't retry in lockstep. @default true */
  jitter?: boolean | undefined;
}

/**
 * HTTP statuses worth another attempt unless a retry policy's `retryOnStatus` says otherwise.
 * The one list: the error's `retryable`, the circuit breaker and the policy all read it.
 */
export const RETRYABLE_STATUSES: readonly number[] = Object.freeze([408, 425, 429, 500, 502, 503, 504]);

/** Whether an HTTP status is worth another attempt by default ({@link RETRYABLE_STATUSES}). */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.includes(status);
}

/** The defaults of {@link RetryPolicy}. */
export const DEFAULT_RETRY_POLICY = {
  maxRetries: 3,
  backoffMultiplier: 2,
  initialDelaySeconds: 1,
  maxDelaySeconds: 300,
  maxRetryAfterSeconds: 3600,
  timeoutSeconds: 30,
  retryOnStatus: [...RETRYABLE_STATUSES],
  jitter: true,
} satisfies Required<RetryPolicy>;

/**
 * The longest wait any policy may ask for, in seconds: 7 days. It bounds `maxDelaySeconds`,
 * `maxRetryAfterSeconds` and the circuit breaker's `cooldownSeconds`, so that every wait fits in
 * one Node timer (at most 2^31 − 1 ms, about 24.8 days), including the ones queue libraries set
 * that this package cannot wrap, such as BullMQ's rate-limit delay.
 */
export const MAX_WAIT_SECONDS = 7 * 24 * 3600;

/** A validated policy with every field set. */
export type ResolvedRetryPolicy = Readonly<Required<RetryPolicy>>;

/** Fills defaults and validates; throws a {@link WebhookConfigError} naming the option. */
export function normalizeRetryPolicy(policy: RetryPolicy | undefined, webhook: string): ResolvedRetryPolicy {
  if (policy !== undefined && (policy === null || typeof policy !== 'object')) {
    throw new WebhookConfigError(`option 'retryPolicy' must be an object`, { webhook });
  }
  const p = { ...DEFAULT_RETRY_POLICY, ...stripUndefined(policy ?? {}) };
  const check = (ok: boolean, option: keyof RetryPolicy, rule: string) => {
    if (!ok) {
      throw new WebhookConfigError(
        `option 'retryPolicy.${option}' must be ${rule} (got ${describeValue(p[option])})`,
        { webhook },
      );
    }
  };
  check(
    Number.isInteger(p.maxRetries) && p.maxRetries >= 0 && p.maxRetries <= 100,
    'maxRetries',
    'an integer from 0 to 100',
  );
  check(
    isFiniteNumber(p.backoffMultiplier) && p.backoffMultiplier >= 1,
    'backoffMultiplier',
    'a number >= 1',
  );
  check(
    isFiniteNumber(p.initialDelaySeconds) && p.initialDelaySeconds >= 0,
    'initialDelaySeconds',
    'a number >= 0',
  );
  check(
    isFiniteNumber(p.maxDelaySeconds) &&
      p.maxDelaySeconds >= p.initialDelaySeconds &&
      p.maxDelaySeconds <= MAX_WAIT_SECONDS,
    'maxDelaySeconds',
    `a number from initialDelaySeconds to ${MAX_WAIT_SECONDS} (7 days)`,
  );
  check(
    isFiniteNumber(p.maxRetryAfterSeconds) &&
      p.maxRetryAfterSeconds >= 0 &&
      p.maxRetryAfterSeconds <= MAX_WAIT_SECONDS,
    'maxRetryAfterSeconds',
    `a number from 0 to ${MAX_WAIT_SECONDS} (7 days)`,
  );
  check(
    isFiniteNumber(p.timeoutSeconds) && p.timeoutSeconds > 0 && p.timeoutSeconds <= 600,
    'timeoutSeconds',
    'a number in (0, 600]',
  );
  check(
    Array.isArray(p.retryOnStatus) &&
      p.retryOnStatus.every((s) => Number.isInteger(s) && s >= 100 && s <= 599),
    'retryOnStatus',
    'an array of HTTP status codes',
  );
  check(typeof p.jitter === 'boolean', 'jitter', 'a boolean');
  return Object.freeze({ ...p, retryOnStatus: [...p.retryOnStatus] });
}

/**
 * Backoff before retry number `retry` (1 = the first retry), in ms, without jitter:
 * `initialDelaySeconds × backoffMultiplier^(retry-1)`, capped at `maxDelaySeconds`.
 */
export function backoffMs(policy: ResolvedRetryPolicy, retry: number): number {
  const seconds = policy.initialDelaySeconds * policy.backoffMultiplier ** (retry - 1);
  return Math.min(seconds, policy.maxDelaySeconds) * 1000;
}

/**
 * What to do after a failed attempt number `attempt` (1-based): `undefined` means give up, a
 * number is the wait in ms before the next attempt. The vendor's Retry-After wins over backoff
 * (capped at `maxRetryAfterSeconds`).
 */
export function nextRetryDelayMs(
  policy: ResolvedRetryPolicy,
  error: WebhookDeliveryError,
  attempt: number,
  random: () => number = Math.random,
): number | undefined {
  if (attempt > policy.maxRetries || !isRetryable(policy, error)) return undefined;
  if (error.retryAfterMs !== undefined) {
    return Math.min(Math.max(0, error.retryAfterMs), policy.maxRetryAfterSeconds * 1000);
  }
  const base = backoffMs(policy, attempt);
  if (!policy.jitter) return base;
  return Math.round(Math.min(base * (0.8 + 0.4 * random()), policy.maxDelaySeconds * 1000));
}

/**
 * Whether a failure is worth another attempt under `policy`: an HTTP answer is retried when its
 * status is in `retryOnStatus` or the vendor asked us to come back (429, Retry-After); anything
 * without a status (network error, timeout) follows the error's own `retryable`.
 */
export function isRetryable(policy: ResolvedRetryPolicy, error: WebhookDeliveryError): boolean {
  if (error.status === undefined || error.status < 300) return error.retryable;
  if (error.status === 429 || error.retryAfterMs !== undefined) return true;
  return policy.retryOnStatus.includes(error.status);
}

/**
 * Whether a failure says the endpoint is down (what the circuit breaker counts): a failure the
 * policy retries, except a rate limit (429), which proves the endpoint is up.
 */
export function isOutage(policy: ResolvedRetryPolicy, error: WebhookDeliveryError): boolean {
  return error.status !== 429 && isRetryable(policy, error);
}

/**
 * Parses a Retry-After value into the ms to wait from `now`. Accepted, strictly (RFC 9110 §10.2.3):
 * - delay-seconds: digits only (`120`); a decimal fraction (`1.5`) is accepted too, as vendors'
 *   reset headers use it (Discord's `X-RateLimit-Reset-After`);
 * - an HTTP-date in any of the three forms of RFC 9110 §5.6.7, always GMT and case-sensitive:
 *   IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT` (a
 *   two-digit year more than 50 years ahead means the previous century) and asctime
 *   `Sun Nov  6 08:49:37 1994`;
 * - an RFC 3339 timestamp with an explicit zone (`2025-11-25T14:30:00Z`), as Jira's
 *   `X-RateLimit-Reset` sends.
 *
 * A date counts only if it is in the future. Returns `undefined` for anything else (a missing,
 * negative, malformed or past value, or a date with the wrong weekday), so the caller falls back
 * to its own backoff instead of retrying at once.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = String(value).trim();
  if (text === '' || text.length > 64) return undefined;
  if (DELAY_SECONDS.test(text)) {
    const ms = Math.round(Number(text) * 1000);
    return Number.isFinite(ms) ? Math.min(ms, Number.MAX_SAFE_INTEGER) : undefined;
  }
  const at = parseHttpDate(text, now) ?? parseRfc3339(text);
  return at !== undefined && at > now ? at - now : undefined;
}

const DELAY_SECONDS = /^\d+(?:\.\d+)?$/;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTH = MONTHS.join('|');
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^(${DAYS.join('|')}), (\\d{2}) (${MONTH}) (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(`^(${LONG_DAYS.join('|')}), (\\d{2})-(${MONTH})-(\\d{2}) ${TIME} GMT$`);
const ASCTIME = new RegExp(`^(${DAYS.join('|')}) (${MONTH}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`);
const RFC_3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:Z|[+-](\d{2}):(\d{2}))$/i;

/** An HTTP-date (RFC 9110 §5.6.7) as epoch ms, or `undefined` if `text` is not one. */
function parseHttpDate(text: string, now: number): number | undefined {
  let m = IMF_FIXDATE.exec(text);
  if (m) return utc(DAYS.indexOf(m[1]!), +m[4]!, m[3]!, +m[2]!, m[5]!, m[6]!, m[7]!);
  m = RFC_850.exec(text);
  if (m) {
    // "MUST interpret a timestamp that appears to be more than 50 years in the future as
    // representing the most recent year in the past that had the same last two digits."
    const thisYear = new Date(now).getUTCFullYear();
    let year = thisYear - (thisYear % 100) + +m[4]!;
    if (year > thisYear + 50) year -= 100;
    else if (year <= thisYear - 50) year += 100;
    return utc(LONG_DAYS.indexOf(m[1]!), year, m[3]!, +m[2]!, m[5]!, m[6]!, m[7]!);
  }
  m = ASCTIME.exec(text);
  if (m) return utc(DAYS.indexOf(m[1]!), +m[7]!, m[2]!, +m[3]!.trim(), m[4]!, m[5]!, m[6]!);
  return undefined;
}

/** Epoch ms of a GMT date, or `undefined` if a field is out of range or the weekday is wrong. */
function utc(
  weekday: number,
  year: number,
  month: string,
  day: number,
  hour: string,
  minute: string,
  second: string,
): number | undefined {
  const h = +hour;
  const min = +minute;
  // 60 is a leap second (RFC 5322 allows it); it reads as the next minute's 00.
  const sec = +second;
  if (h > 23 || min > 59 || sec > 60) return undefined;
  const mon = MONTHS.indexOf(month);
  const date = utcDate(year, mon, day);
  if (date === undefined || date.getUTCDay() !== weekday) return undefined;
  return date.getTime() + ((h * 60 + min) * 60 + sec) * 1000;
}

/** Midnight GMT of a calendar day, or `undefined` if the day does not exist (31 Feb). */
function utcDate(year: number, month: number, day: number): Date | undefined {
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(year, month, day);
  return date.getUTCMonth() === month && date.getUTCDate() === day ? date : undefined;
}

/** An RFC 3339 timestamp with a zone as epoch ms, or `undefined`. */
function parseRfc3339(text: string): number | undefined {
  const m = RFC_3339.exec(text);
  if (!m) return undefined;
  const [, year, month, day, hour, minute, second = '0', offsetHours = '0', offsetMinutes = '0'] = m;
  if (+hour! > 23 || +minute! > 59 || +second > 60 || +offsetHours > 23 || +offsetMinutes > 59) {
    return undefined;
  }
  if (utcDate(+year!, +month! - 1, +day!) === undefined) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : at;
}

/**
 * A value as an error message shows it: JSON, except numbers JSON cannot show (`Infinity`, `NaN`).
 * @internal
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/** Copies an object without its `undefined` fields (so that `{ maxRetries: undefined }` keeps the default). */
export function stripUndefined<T extends object>(value: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
