import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  createEvent,
  Dispatcher,
  MemoryQueue,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '../src/index.js';
import { type DeliveryJob, MAX_TIMER_DELAY_MS, setLongTimeout } from '../src/queue/index.js';

/** Node's warnings while a test runs: an overflowing setTimeout emits a TimeoutOverflowWarning. */
let warnings: string[] = [];
const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
beforeEach(() => {
  warnings = [];
  process.on('warning', onWarning);
});
afterEach(() => {
  process.off('warning', onWarning);
  vi.useRealTimers();
});

/** Real time passing: enough turns of the event loop for a 1 ms timer to fire many times. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('setLongTimeout', () => {
  it('waits Infinity and 1e12 ms without a TimeoutOverflowWarning and without firing', async () => {
    const fired: number[] = [];
    const timers = [Number.POSITIVE_INFINITY, 1e12, MAX_TIMER_DELAY_MS + 1].map((ms) =>
      setLongTimeout(() => fired.push(ms), ms),
    );
    await pause(100);
    for (const timer of timers) timer.clear();
    // Warnings are emitted on the next tick.
    await pause(10);
    expect(warnings).toEqual([]);
    expect(fired).toEqual([]);
  });

  it('fires once after a delay longer than one Node timer, stepping through the maximum', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const day = 86_400_000;
    setLongTimeout(fired, 30 * day);
    vi.advanceTimersByTime(29 * day);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(day - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(30 * day);
    expect(fired).toHaveBeenCalledTimes(1);
  });

  it('fires short delays as setTimeout does, and not after clear()', async () => {
    const fired: string[] = [];
    setLongTimeout(() => fired.push('soon'), 5);
    setLongTimeout(() => fired.push('negative'), -5);
    setLongTimeout(() => fired.push('NaN'), Number.NaN);
    const cleared = setLongTimeout(() => fired.push('cleared'), 5);
    cleared.clear();
    cleared.clear();
    await pause(50);
    expect(fired.sort()).toEqual(['NaN', 'negative', 'soon']);
  });

  it('keeps ref() / unref() across steps', () => {
    vi.useFakeTimers();
    const timer = setLongTimeout(() => {}, 3 * MAX_TIMER_DELAY_MS);
    expect(timer.hasRef()).toBe(true);
    timer.unref();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(timer.hasRef()).toBe(false);
    timer.ref();
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(timer.hasRef()).toBe(true);
    timer.clear();
    expect(timer.hasRef()).toBe(false);
  });
});

describe('the in-memory queue with far-off jobs', () => {
  it('waits for a job due in 1e12 ms without a TimeoutOverflowWarning or a busy loop', async () => {
    const queue = new MemoryQueue();
    let handled = 0;
    let asked = 0;
    queue.consume({
      webhookNames: () => ['w'],
      concurrency: () => {
        asked++;
        return 1;
      },
      handle: async () => {
        handled++;
        return { kind: 'delivered', receipt: {} };
      },
    });
    const now = Date.now();
    const job: DeliveryJob = {
      id: 'evt_far:w',
      webhook: 'w',
      event: createEvent('alert', { message: 'later' }, { userId: 'u', eventId: 'evt_far' }),
      attempt: 0,
      availableAt: now + 1e12,
      enqueuedAt: now,
    };
    await queue.enqueue([job]);
    const askedAfterEnqueue = asked;
    await pause(100);
    await pause(10);
    expect(warnings).toEqual([]);
    expect(handled).toBe(0);
    // A timer clamped to 1 ms would wake the lane (and ask its concurrency) every millisecond.
    expect(asked - askedAfterEnqueue).toBeLessThanOrEqual(1);
    expect(await queue.pending('w')).toBe(1);
    await queue.close({ drainMs: 0 });
  });

  it('a webhook whose retry waits a week still lets the process settle: no warning, no early attempt', async () => {
    let attempts = 0;
    const plugin: WebhookPlugin = {
      name: 'slow-vendor',
      events: ['*'],
      retryPolicy: { maxRetryAfterSeconds: 7 * 24 * 3600 },
      circuitBreaker: { cooldownSeconds: 7 * 24 * 3600, failureThreshold: 1 },
      async deliver() {
        attempts++;
        throw new WebhookDeliveryError('HTTP 429', {
          webhook: 'slow-vendor',
          status: 429,
          retryAfterMs: 1e15,
        });
      },
    };
    const dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(createEvent('alert', { message: 'x' }, { userId: 'u' }));
    await vi.waitFor(() => expect(attempts).toBe(1));
    await pause(100);
    await pause(10);
    expect(warnings).toEqual([]);
    expect(attempts).toBe(1);
    expect(dispatcher.monitor.getWebhookStats('slow-vendor').pendingCount).toBe(1);
    await dispatcher.close({ drainMs: 0 });
  });
});
