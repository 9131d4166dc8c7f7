import { randomUUID } from 'node:crypto';
import type { RateLimiter, RateLimiterFactory, ResolvedRateLimit } from '@empathy/webhooks-core/queue';
import { rateLimitKey } from './keys.js';

/** Runs one of the queue's Lua scripts: keys first, then arguments. */
export type ScriptRunner = (
  name: 'empathyRateLimit',
  keys: string[],
  args: (string | number)[],
) => Promise<unknown>;

/** How long a webhook waits when Redis cannot be asked: the limit is never exceeded because of an outage. */
const FAIL_CLOSED_WAIT_MS = 1000;

/**
 * A rate limiter whose state lives in Redis, so every worker of a queue shares one limit: three
 * workers together still send at most `maxRequestsPerMinute`. Each `acquire` is one atomic Lua
 * call that checks every window (per minute, per hour) and counts the request only if all admit it.
 * The strategy is core's: `sliding_window` (exact, a sorted set of the last `limit` admissions),
 * `fixed_window` or `token_bucket`.
 */
export class RedisRateLimiter implements RateLimiter {
  readonly #keys: string[];
  readonly #args: (string | number)[];
  readonly #run: ScriptRunner;
  readonly #onError: (error: Error) => void;
  readonly #member = randomUUID();
  #sequence = 0;

  constructor(options: {
    prefix: string;
    webhook: string;
    rateLimit: ResolvedRateLimit;
    run: ScriptRunner;
    onError: (error: Error) => void;
  }) {
    const { prefix, webhook, rateLimit } = options;
    const keys = rateLimit.windows.map((w) => rateLimitKey(prefix, webhook, rateLimit.strategy, w.windowMs));
    this.#keys = keys.length === 1 ? [keys[0]!, keys[0]!] : keys.slice(0, 2);
    this.#args = [rateLimit.strategy, '', Math.min(2, rateLimit.windows.length)];
    for (const w of rateLimit.windows.slice(0, 2)) this.#args.push(w.limit, w.windowMs);
    this.#run = options.run;
    this.#onError = options.onError;
  }

  /** 0 when the request may go now (it is counted), else the ms to wait. Redis's clock decides, not `now`. */
  async acquire(_now: number): Promise<number> {
    const args = this.#args.slice();
    args[1] = `${this.#member}:${this.#sequence++}`;
    try {
      return Number(await this.#run('empathyRateLimit', this.#keys, args));
    } catch (error) {
      this.#onError(error as Error);
      return FAIL_CLOSED_WAIT_MS;
    }
  }
}

/** A {@link RateLimiterFactory} building {@link RedisRateLimiter}s under `prefix`. */
export function redisRateLimiterFactory(
  prefix: string,
  run: ScriptRunner,
  onError: (error: Error) => void,
): RateLimiterFactory {
  return (webhook, rateLimit) => new RedisRateLimiter({ prefix, webhook, rateLimit, run, onError });
}
