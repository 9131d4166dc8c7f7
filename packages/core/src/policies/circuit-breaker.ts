import { WebhookConfigError } from '../errors.js';
import { describeValue, MAX_WAIT_SECONDS, stripUndefined } from './retry.js';

/** When a webhook's circuit opens and how long it stays open. */
export interface CircuitBreakerOptions {
  /** Consecutive retryable failures (5xx, timeouts, network errors) that open the circuit. @default 5 */
  failureThreshold?: number | undefined;
  /**
   * How long the circuit stays open before one trial delivery is let through, in seconds, at most
   * {@link MAX_WAIT_SECONDS} (7 days). @default 30
   */
  cooldownSeconds?: number | undefined;
}

/** The defaults of {@link CircuitBreakerOptions}. */
export const DEFAULT_CIRCUIT_BREAKER = {
  failureThreshold: 5,
  cooldownSeconds: 30,
} satisfies Required<CircuitBreakerOptions>;

/** The state a breaker is in. */
export type CircuitState = 'closed' | 'open' | 'half_open';

/**
 * A per-webhook circuit breaker: after `failureThreshold` consecutive retryable failures it
 * opens, and deliveries wait (no attempt is spent) until `cooldownSeconds` have passed; then one
 * trial goes through (half-open) and its outcome closes or re-opens the circuit. This keeps a
 * dead endpoint from burning every job's retries.
 */
export class CircuitBreaker {
  readonly failureThreshold: number;
  readonly cooldownMs: number;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;

  constructor(options: CircuitBreakerOptions = {}, webhook = 'webhook') {
    const o = { ...DEFAULT_CIRCUIT_BREAKER, ...stripUndefined(options) };
    if (!Number.isInteger(o.failureThreshold) || o.failureThreshold < 1) {
      throw new WebhookConfigError(`option 'circuitBreaker.failureThreshold' must be an integer >= 1`, {
        webhook,
      });
    }
    if (
      typeof o.cooldownSeconds !== 'number' ||
      !(o.cooldownSeconds >= 0 && o.cooldownSeconds <= MAX_WAIT_SECONDS)
    ) {
      throw new WebhookConfigError(
        `option 'circuitBreaker.cooldownSeconds' must be a number from 0 to ${MAX_WAIT_SECONDS} (7 days) (got ${describeValue(o.cooldownSeconds)})`,
        { webhook },
      );
    }
    this.failureThreshold = o.failureThreshold;
    this.cooldownMs = o.cooldownSeconds * 1000;
  }

  /** Current state. */
  get state(): CircuitState {
    return this.#state;
  }

  /**
   * Asks to make an attempt at `now`. Returns 0 when it may go ahead, otherwise the ms to wait.
   * In half-open state only one trial is let through at a time.
   */
  acquire(now: number): number {
    if (this.#state === 'closed') return 0;
    if (this.#state === 'open') {
      const wait = this.#openedAt + this.cooldownMs - now;
      if (wait > 0) return wait;
      this.#state = 'half_open';
    }
    if (this.#trialInFlight) return Math.max(50, Math.min(1000, this.cooldownMs / 10));
    this.#trialInFlight = true;
    return 0;
  }

  /** Gives back a half-open trial that was granted but not made (e.g. the rate limit said wait). */
  release(): void {
    if (this.#state === 'half_open') this.#trialInFlight = false;
  }

  /** Records an attempt's outcome. Permanent failures (4xx) prove the endpoint is up: they count as success. */
  record(healthy: boolean, now: number): void {
    const wasTrial = this.#state === 'half_open';
    if (wasTrial) this.#trialInFlight = false;
    if (healthy) {
      this.#failures = 0;
      this.#state = 'closed';
      return;
    }
    this.#failures++;
    if (wasTrial || this.#failures >= this.failureThreshold) {
      this.#state = 'open';
      this.#openedAt = now;
    }
  }
}
