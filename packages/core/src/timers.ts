/**
 * Timers that may wait longer than Node allows. `setTimeout` takes at most 2^31 − 1 ms (about
 * 24.8 days): a longer delay (or `Infinity`) fires after 1 ms with a `TimeoutOverflowWarning`,
 * so a long wait re-armed in a loop turns into a busy loop. Every wait whose length comes from
 * options, a vendor or a stored job goes through {@link setLongTimeout}.
 */

/** The longest delay Node's `setTimeout` honours: 2^31 − 1 ms (about 24.8 days). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A timer from {@link setLongTimeout}. */
export interface LongTimeout {
  /** Cancels the timer; the callback will not run. Safe to call more than once. */
  clear(): void;
  /** Lets the process exit while only this timer is pending (as `Timeout.unref()`). */
  unref(): LongTimeout;
  /** Keeps the process alive until the timer fires or is cleared (the default). */
  ref(): LongTimeout;
  /** Whether the timer keeps the process alive. */
  hasRef(): boolean;
}

/**
 * Calls `callback` once after `delayMs`, for any delay: longer ones than
 * {@link MAX_TIMER_DELAY_MS} are waited in steps of at most that, so Node never clamps them to
 * 1 ms. `Infinity` waits forever (until cleared); a negative, zero or `NaN` delay means "as soon
 * as possible", as with `setTimeout`.
 *
 * @example
 * const timer = setLongTimeout(() => lane.wake(), job.availableAt - Date.now());
 * timer.unref(); // do not hold the process open for it
 */
export function setLongTimeout(callback: () => void, delayMs: number): LongTimeout {
  // `|| 0`: NaN waits no time, as setTimeout does.
  return new Timer(callback, Math.max(delayMs || 0, 0));
}

class Timer implements LongTimeout {
  readonly #callback: () => void;
  /** ms still to wait after the step that is armed now. */
  #remaining: number;
  #handle: NodeJS.Timeout | undefined;
  #ref = true;

  constructor(callback: () => void, delayMs: number) {
    this.#callback = callback;
    this.#remaining = delayMs;
    this.#arm();
  }

  // Steps are counted on the timer's own (monotonic) clock, not Date.now(): a step that fires
  // a millisecond "early" by the wall clock must not add another step.
  #arm(): void {
    const step = Math.min(this.#remaining, MAX_TIMER_DELAY_MS);
    this.#remaining -= step;
    this.#handle = setTimeout(this.#fire, step);
    if (!this.#ref) this.#handle.unref();
  }

  readonly #fire = (): void => {
    if (this.#remaining > 0) {
      this.#arm();
      return;
    }
    this.#handle = undefined;
    this.#callback();
  };

  clear(): void {
    if (this.#handle === undefined) return;
    clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  unref(): LongTimeout {
    this.#ref = false;
    this.#handle?.unref();
    return this;
  }

  ref(): LongTimeout {
    this.#ref = true;
    this.#handle?.ref();
    return this;
  }

  hasRef(): boolean {
    return this.#handle !== undefined && this.#ref;
  }
}
