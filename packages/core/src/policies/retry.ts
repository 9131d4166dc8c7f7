import { WebhookConfigError, type WebhookDeliveryError } from '../errors.js';

/** When and how often a failed delivery is attempted again. */
export interface RetryPolicy {
  /** Attempts after the first. @default 3 */
  maxRetries?: number | undefined;
  /** Each retry waits this many times longer than the one before. @default 2 */
  backoffMultiplier?: number | undefined;
  /** Wait before the first retry, in seconds (fractions allowed): 1 → 1s, 2s, 4s, 8s, 16s. @default 1 */
  initialDelaySeconds?: number | undefined;
  /** Upper bound of a backoff wait. @default 300 */
  maxDelaySeconds?: number | undefined;
  /** Upper bound of a wait the vendor asks for (Retry-After). @default 3600 */
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
        `option 'retryPolicy.${option}' must be ${rule} (got ${JSON.stringify(p[option])})`,
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
    isFiniteNumber(p.maxDelaySeconds) && p.maxDelaySeconds >= p.initialDelaySeconds,
    'maxDelaySeconds',
    'a number >= initialDelaySeconds',
  );
  check(
    isFiniteNumber(p.maxRetryAfterSeconds) && p.maxRetryAfterSeconds >= 0,
    'maxRetryAfterSeconds',
    'a number >= 0',
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
 * Parses a Retry-After value (delta-seconds or an HTTP date) into ms from `now`. Returns
 * `undefined` for a missing or unparseable value.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = String(value).trim();
  if (trimmed === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
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
