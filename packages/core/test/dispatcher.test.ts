import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createEvent,
  type DeliveryContext,
  type DeliveryOutcome,
  Dispatcher,
  isWebhookConfigError,
  isWebhookDeliveryError,
  isWebhookError,
  isWebhookTimeoutError,
  MemoryQueue,
  WebhookConfigError,
  type WebhookPlugin,
} from '../src/index.js';
import { serializeEvent } from '../src/queue/index.js';
import { sampleEvent } from '../src/testing/samples.js';
import { scripted } from './helpers.js';

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
});
const start = (...webhooks: WebhookPlugin[]) => {
  dispatcher = new Dispatcher({ webhooks });
  return dispatcher;
};
const alert = (severity: 'high' | 'low' = 'high', classification?: 'SENSITIVE') =>
  createEvent('alert', { message: 'disk full' }, { userId: 'ops', severity, classification });

describe('routing', () => {
  it("fans out to every webhook whose events and filter match ('*' matches all)", async () => {
    const all = scripted('all');
    const alerts = scripted('alerts', [], { events: ['alert'] });
    const high = scripted('high', [], { events: ['alert'], filter: (e) => e.severity === 'high' });
    const sensitive = scripted('sensitive', [], {
      events: ['compliance_violation', 'phi_access'],
      filter: (e) => e.classification === 'SENSITIVE',
    });
    const d = start(all.plugin, alerts.plugin, high.plugin, sensitive.plugin);
    expect(await d.dispatch(alert('high'))).toBe(3);
    expect(await d.dispatch(alert('low'))).toBe(2);
    await d.dispatch(sampleEvent('phi_access'));
    await d.dispatch(
      createEvent('phi_access', { resource: 'r' }, { userId: 'u', classification: 'INTERNAL' }),
    );
    await d.flush();
    expect(all.attempts).toHaveLength(4);
    expect(alerts.attempts).toHaveLength(2);
    expect(high.attempts.map((a) => a.event.severity)).toEqual(['high']);
    expect(sensitive.attempts).toHaveLength(1);
  });

  it('refuses duplicate names and unknown event names at registration', () => {
    const d = start(scripted('a').plugin);
    expect(() => d.register(scripted('a').plugin)).toThrow(/already registered/);
    expect(() => d.register(scripted('b', [], { events: ['bug_detcted' as never] }).plugin)).toThrow(
      "[b] option 'events': unknown event type 'bug_detcted' (did you mean 'bug_detected'?)",
    );
  });

  it('unregisters', async () => {
    const a = scripted('a');
    const d = start();
    const remove = d.register(a.plugin);
    remove();
    expect(await d.dispatch(alert())).toBe(0);
  });

  it('a throwing filter skips that webhook and is reported, others still get the event', async () => {
    const errors: string[] = [];
    const ok = scripted('ok');
    dispatcher = new Dispatcher({
      webhooks: [
        scripted('bad', [], {
          filter: () => {
            throw new Error('filter bug');
          },
        }).plugin,
        ok.plugin,
      ],
      onError: (error, ctx) => errors.push(`${ctx.during}:${ctx.webhook}:${error.message}`),
    });
    expect(await dispatcher.dispatch(alert())).toBe(1);
    expect(errors).toEqual(['filter:bad:filter bug']);
  });

  it('a filter that returns anything but a boolean is reported and counted, never a silent drop', async () => {
    const reported: { webhook: string; during: string; name: string; message: string }[] = [];
    const verdicts: [string, () => unknown][] = [
      ['promise', async () => true],
      ['one', () => 1],
      ['yes', () => 'yes'],
      ['object', () => ({ ok: true })],
      ['nothing', () => undefined],
    ];
    const healthy = scripted('healthy');
    dispatcher = new Dispatcher({
      webhooks: [
        ...verdicts.map(([name, filter]) => scripted(name, [], { filter: filter as never }).plugin),
        healthy.plugin,
      ],
      onError: (error, ctx) =>
        reported.push({ webhook: ctx.webhook, during: ctx.during, name: error.name, message: error.message }),
    });
    const event = alert();
    await expect(dispatcher.dispatch(event)).resolves.toBe(1);
    await dispatcher.flush();
    expect(healthy.attempts.map((a) => a.event.event_id)).toEqual([event.event_id]);
    expect(reported.map((r) => r.webhook)).toEqual(verdicts.map(([name]) => name));
    for (const r of reported) {
      expect(r).toMatchObject({ during: 'filter', name: 'WebhookConfigError' });
      expect(r.message).toMatch(new RegExp(`^\\[${r.webhook}\\] option 'filter' returned .*true or false`));
    }
    expect(reported[0]!.message).toContain('returned a Promise');
    expect(reported[1]!.message).toContain('returned 1;');
    // Contents are not printed: they may come from the event.
    expect(reported[2]!.message).toContain('returned a string (3 characters)');
    for (const [name] of verdicts) {
      expect(dispatcher.monitor.getWebhookStats(name)).toMatchObject({
        filterErrorCount: 1,
        failedCount: 0,
        pendingCount: 0,
      });
    }
    expect(dispatcher.monitor.getWebhookStats('healthy')).toMatchObject({
      filterErrorCount: 0,
      successCount: 1,
    });
  });

  it('an async filter that rejects is reported once and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const reported: string[] = [];
      dispatcher = new Dispatcher({
        webhooks: [
          scripted('async', [], {
            filter: (async () => {
              throw new Error('looked up the on-call rota and failed');
            }) as never,
          }).plugin,
        ],
        onError: (error, ctx) => reported.push(`${ctx.webhook}: ${error.message}`),
      });
      await expect(dispatcher.dispatch(alert())).resolves.toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(reported).toEqual([expect.stringContaining("[async] option 'filter' returned a Promise")]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('throw null, undefined or a string in a filter: reported as a WebhookError naming the webhook', async () => {
    const thrown: unknown[] = [null, undefined, 'nope'];
    const reported: Error[] = [];
    const contexts: string[] = [];
    const healthy = scripted('healthy');
    dispatcher = new Dispatcher({
      webhooks: [
        ...thrown.map(
          (value, i) =>
            scripted(`throws-${i}`, [], {
              filter: () => {
                throw value;
              },
            }).plugin,
        ),
        healthy.plugin,
      ],
      onError: (error, ctx) => {
        reported.push(error);
        contexts.push(`${ctx.during}:${ctx.webhook}`);
      },
    });
    await expect(dispatcher.dispatch(alert())).resolves.toBe(1);
    await dispatcher.flush();
    expect(healthy.attempts).toHaveLength(1);
    expect(contexts).toEqual(['filter:throws-0', 'filter:throws-1', 'filter:throws-2']);
    expect(reported.map((e) => isWebhookError(e))).toEqual([true, true, true]);
    expect(reported.map((e) => e.message)).toEqual([
      "[throws-0] option 'filter' threw null, not an Error",
      "[throws-1] option 'filter' threw undefined, not an Error",
      "[throws-2] option 'filter' threw a string, not an Error",
    ]);
    expect(reported[0]!.cause).toBeNull();
    expect(reported[2]!.cause).toBe('nope');
    expect(dispatcher.monitor.getWebhookStats('throws-0').filterErrorCount).toBe(1);
  });

  it('throw null in a filter with the default onError: a warning, and emit still resolves', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const healthy = scripted('healthy');
      const bad = scripted('bad', [], {
        filter: () => {
          throw null;
        },
      });
      dispatcher = new Dispatcher({ webhooks: [bad.plugin, healthy.plugin] });
      await expect(dispatcher.dispatch(alert())).resolves.toBe(1);
      await dispatcher.flush();
      expect(healthy.attempts).toHaveLength(1);
      expect(warn).toHaveBeenCalledWith(
        "[empathy-webhooks] filter of 'bad' failed: [bad] option 'filter' threw null, not an Error",
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('an onError that throws does not take the other webhooks down', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const healthy = scripted('healthy');
      dispatcher = new Dispatcher({
        webhooks: [scripted('bad', [], { filter: () => 'yes' as never }).plugin, healthy.plugin],
        onError: () => {
          throw new Error('the error hook is broken too');
        },
      });
      await expect(dispatcher.dispatch(alert())).resolves.toBe(1);
      await dispatcher.flush();
      expect(healthy.attempts).toHaveLength(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(() => new Dispatcher({ onError: 'log' as never })).toThrow(WebhookConfigError);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('delivery', () => {
  it('emit resolves before delivery and never throws for a destination failure', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = scripted('slow', [() => gate]);
    const dead = scripted('dead', [{ status: 400 }]);
    const d = start(slow.plugin, dead.plugin);
    await expect(d.dispatch(alert())).resolves.toBe(2);
    expect(d.monitor.getWebhookStats('slow').successCount).toBe(0);
    release();
    await d.flush();
    expect(d.monitor.getWebhookStats('slow').successCount).toBe(1);
    expect(d.monitor.getWebhookStats('dead').failedCount).toBe(1);
  });

  it('retries with backoff as rescheduled jobs, with the same event id on every attempt', async () => {
    const flaky = scripted('flaky', [{ status: 503 }, 'network', { status: 502 }]);
    const d = start(flaky.plugin);
    const event = alert();
    await d.dispatch(event);
    await d.flush();
    expect(flaky.attempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4]);
    expect(new Set(flaky.attempts.map((a) => a.event.event_id))).toEqual(new Set([event.event_id]));
    const gaps = flaky.attempts.slice(1).map((a, i) => a.at - flaky.attempts[i]!.at);
    expect(gaps[0]).toBeGreaterThanOrEqual(18); // 20 ms
    expect(gaps[2]).toBeGreaterThanOrEqual(75); // 80 ms
    expect(d.monitor.getWebhookStats('flaky')).toMatchObject({
      totalSent: 4,
      retriedCount: 3,
      successCount: 1,
      failedCount: 0,
    });
  });

  it('waits for Retry-After rather than the backoff', async () => {
    const limited = scripted('limited', [{ status: 429, retryAfterMs: 300 }]);
    const d = start(limited.plugin);
    await d.dispatch(alert());
    await d.flush();
    expect(limited.attempts[1]!.at - limited.attempts[0]!.at).toBeGreaterThanOrEqual(295);
  });

  it('a retry does not block the lane: other events go out meanwhile', async () => {
    const w = scripted('w', [{ status: 503, retryAfterMs: 200 }], { concurrency: 1 });
    const d = start(w.plugin);
    await d.dispatch(createEvent('alert', { message: 'first' }, { userId: 'u' }));
    await d.dispatch(createEvent('alert', { message: 'second' }, { userId: 'u' }));
    await d.flush();
    expect(w.attempts.map((a) => (a.event.data as { message: string }).message)).toEqual([
      'first',
      'second',
      'first',
    ]);
  });

  it('times out a hung attempt, aborts its signal, and retries', async () => {
    let aborted: unknown;
    const hung = scripted(
      'hung',
      [
        (ctx) =>
          new Promise<void>((_, reject) => {
            ctx.signal.addEventListener('abort', () => {
              aborted = ctx.signal.reason;
              reject(new Error('aborted'));
            });
          }),
      ],
      { retryPolicy: { timeoutSeconds: 0.1, initialDelaySeconds: 0.01 } },
    );
    const outcomes: DeliveryOutcome[] = [];
    const d = start(hung.plugin);
    d.monitor.on((o) => outcomes.push(o));
    await d.dispatch(alert());
    await d.flush();
    expect(aborted).toBeDefined();
    expect(outcomes.map((o) => o.kind)).toEqual(['retry', 'delivered']);
    expect(outcomes[0]).toMatchObject({ kind: 'retry', error: '[hung] attempt timed out after 100 ms' });
  });

  it('respects per-webhook concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const step = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
    };
    const w = scripted('w', Array(20).fill(step), { concurrency: 3 });
    const d = start(w.plugin);
    // Twenty different conditions: one alert repeated would be one incident, delivered in order.
    for (let i = 0; i < 20; i++) {
      await d.dispatch(createEvent('alert', { message: `disk ${i} full` }, { userId: 'ops' }));
    }
    await d.flush();
    expect(peak).toBe(3);
  });

  it('delivers the repeats of one incident one at a time, in order, whatever the concurrency', async () => {
    let inFlight = 0;
    let peak = 0;
    const seen: number[] = [];
    const step = async (ctx: DeliveryContext) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      seen.push(ctx.incident!.occurrences);
      inFlight--;
    };
    const w = scripted('w', Array(5).fill(step), { concurrency: 3 });
    const d = start(w.plugin);
    for (let i = 0; i < 5; i++) await d.dispatch(alert());
    await d.flush();
    expect(peak).toBe(1);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('failure handling', () => {
  it('calls onFailure once per event after the last attempt, and keeps a dead letter', async () => {
    const calls: [string, string, Error][] = [];
    const failing = scripted('failing', Array(10).fill({ status: 500 }), {
      retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.01 },
      onFailure: (webhook, event, error) => void calls.push([webhook.name, event.event_id, error]),
    });
    const d = start(failing.plugin);
    const event = alert();
    await d.dispatch(event);
    await d.flush();
    expect(failing.attempts).toHaveLength(3);
    expect(calls).toHaveLength(1);
    expect(calls[0]![0]).toBe('failing');
    expect(calls[0]![1]).toBe(event.event_id);
    expect(isWebhookDeliveryError(calls[0]![2])).toBe(true);
    const letters = await d.deadLetters.list();
    expect(letters).toMatchObject([
      { webhook: 'failing', attempts: 3, error: { status: 500, message: '[failing] HTTP 500' } },
    ]);
  });

  it('does not retry a permanent failure', async () => {
    const w = scripted('w', [{ status: 404 }]);
    const d = start(w.plugin);
    await d.dispatch(alert());
    await d.flush();
    expect(w.attempts).toHaveLength(1);
    expect(d.monitor.getWebhookStats('w')).toMatchObject({ failedCount: 1, successRate: 0 });
  });

  it('replays one or all dead letters, deletes and clears them', async () => {
    const w = scripted('w', Array(3).fill({ status: 400 }));
    const d = start(w.plugin);
    for (let i = 0; i < 3; i++) await d.dispatch(alert());
    await d.flush();
    const letters = await d.deadLetters.list({ webhook: 'w' });
    expect(letters).toHaveLength(3);
    expect(await d.deadLetters.replay(letters[0]!.id)).toBe(true);
    expect(await d.deadLetters.replay('nope')).toBe(false);
    await d.flush();
    expect(await d.deadLetters.list()).toHaveLength(2);
    expect(await d.deadLetters.delete(letters[1]!.id)).toBe(true);
    expect(await d.deadLetters.replayAll()).toBe(1);
    await d.flush();
    expect(d.monitor.getWebhookStats('w')).toMatchObject({
      successCount: 2,
      failedCount: 3,
      pendingCount: 0,
    });
    expect(await d.deadLetters.clear()).toBe(0);
  });

  it('an onFailure that throws is reported, not fatal', async () => {
    const errors: string[] = [];
    dispatcher = new Dispatcher({
      webhooks: [
        scripted('w', [{ status: 400 }], {
          onFailure: () => {
            throw new Error('db down');
          },
        }).plugin,
      ],
      onError: (e, c) => errors.push(`${c.during}:${e.message}`),
    });
    await dispatcher.dispatch(alert());
    await dispatcher.flush();
    expect(errors).toEqual(['onFailure:db down']);
  });
});

describe('rate limit', () => {
  it('defers deliveries over the limit and sends them later; nothing is dropped', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const w = scripted('w', [], { rateLimit: { maxRequestsPerMinute: 5 }, concurrency: 2 });
    const d = start(w.plugin);
    for (let i = 0; i < 12; i++) await d.dispatch(alert());
    await vi.advanceTimersByTimeAsync(1000);
    expect(w.attempts).toHaveLength(5);
    expect(d.monitor.getWebhookStats('w')).toMatchObject({ successCount: 5, pendingCount: 7 });
    await vi.advanceTimersByTimeAsync(60_000);
    expect(w.attempts).toHaveLength(10);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(w.attempts).toHaveLength(12);
    // No 60-second span holds more than five sends.
    const times = w.attempts.map((a) => a.at);
    for (let i = 5; i < times.length; i++) expect(times[i]! - times[i - 5]!).toBeGreaterThanOrEqual(60_000);
    expect(d.monitor.getWebhookStats('w')).toMatchObject({
      successCount: 12,
      pendingCount: 0,
      totalSent: 12,
    });
    expect(d.monitor.getWebhookStats('w').deferredCount).toBeGreaterThan(0);
  });
});

describe('circuit breaker', () => {
  it('stops attempts while open, then a trial closes it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const dead = scripted('dead', Array(3).fill({ status: 503 }), {
      circuitBreaker: { failureThreshold: 3, cooldownSeconds: 30 },
      retryPolicy: { maxRetries: 10, initialDelaySeconds: 0.1, jitter: false, backoffMultiplier: 1 },
      concurrency: 1,
    });
    const outcomes: DeliveryOutcome[] = [];
    const d = start(dead.plugin);
    d.monitor.on((o) => outcomes.push(o));
    await d.dispatch(alert());
    await vi.advanceTimersByTimeAsync(1_000);
    expect(dead.attempts).toHaveLength(3); // then the circuit opened
    await vi.advanceTimersByTimeAsync(20_000);
    expect(dead.attempts).toHaveLength(3); // nothing during the cool-down
    expect(outcomes.some((o) => o.kind === 'deferred' && o.reason === 'circuit_open')).toBe(true);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(dead.attempts).toHaveLength(4); // the trial, which succeeds
    expect(d.monitor.getWebhookStats('dead')).toMatchObject({ successCount: 1, totalSent: 4 });
  });
});

describe('close', () => {
  it('drains pending deliveries within the deadline, then refuses new events', async () => {
    const w = scripted('w', [async () => void (await new Promise((r) => setTimeout(r, 50)))]);
    const d = start(w.plugin);
    await d.dispatch(alert());
    await d.close({ drainMs: 1000 });
    expect(d.monitor.getWebhookStats('w').successCount).toBe(1);
    await expect(d.dispatch(alert())).rejects.toThrow(WebhookConfigError);
    dispatcher = undefined;
  });

  it('stops at the deadline, leaving retries scheduled far ahead in the queue', async () => {
    const w = scripted('w', [{ status: 503, retryAfterMs: 60_000 }]);
    const queue = new MemoryQueue();
    dispatcher = new Dispatcher({ webhooks: [w.plugin], queue });
    await dispatcher.dispatch(alert());
    const started = Date.now();
    await dispatcher.close({ drainMs: 200 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await queue.pending('w')).toBe(1);
    dispatcher = undefined;
  });
});

describe('close aborts what its deadline abandons', () => {
  it("aborts in-flight attempts' signals after the drain deadline", async () => {
    let reason: unknown;
    const stuck = scripted('stuck', [
      (ctx) =>
        new Promise<void>((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reason = ctx.signal.reason;
            reject(ctx.signal.reason);
          });
        }),
    ]);
    const d = new Dispatcher({ webhooks: [stuck.plugin] });
    await d.dispatch(alert());
    const started = Date.now();
    await d.close({ drainMs: 100 });
    expect(Date.now() - started).toBeLessThan(1000);
    expect((reason as Error).message).toBe('the host closed before this attempt finished');
  });

  it('reports nothing for an abandoned attempt afterwards: no outcome, no retry, no onFailure', async () => {
    const failures: Error[] = [];
    const outcomes: string[] = [];
    // Rejects when aborted, and its timeout would fire 200 ms later: neither may count once closed.
    const stuck = scripted(
      'stuck',
      [
        (ctx) =>
          new Promise<void>((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          ),
      ],
      {
        retryPolicy: { timeoutSeconds: 0.2, maxRetries: 0 },
        onFailure: (_w, _e, error) => void failures.push(error),
      },
    );
    const d = new Dispatcher({ webhooks: [stuck.plugin] });
    d.monitor.on((o: DeliveryOutcome) => void outcomes.push(o.kind));
    await d.dispatch(alert());
    await d.close({ drainMs: 0 });
    await new Promise((r) => setTimeout(r, 400));
    expect(stuck.attempts).toHaveLength(1);
    expect(failures).toEqual([]);
    expect(outcomes).toEqual([]);
    expect(d.monitor.getWebhookStats('stuck')).toMatchObject({ failedCount: 0, retriedCount: 0 });
  });

  it('lets the process exit at once, though an attempt that ignores its signal still hangs', () => {
    // A plugin that never settles and a 10-minute timeout: after close(), nothing may keep Node alive.
    const script = `
      import { Dispatcher, createEvent } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
      const d = new Dispatcher({ webhooks: [{ name: 'stuck', events: ['*'], retryPolicy: { timeoutSeconds: 600 }, deliver: () => new Promise(() => {}) }] });
      await d.dispatch(createEvent('alert', { message: 'x' }, { userId: 'u' }));
      await new Promise((r) => setTimeout(r, 50));
      await d.close({ drainMs: 0 });
      console.log('closed');
    `;
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe('closed');
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('timeouts are WebhookTimeoutError', () => {
  it('reaches onFailure as a timeout', async () => {
    const errors: Error[] = [];
    const w = scripted('w', ['hang'], {
      retryPolicy: { timeoutSeconds: 0.05, maxRetries: 0 },
      onFailure: (_w, _e, error) => void errors.push(error),
    });
    const d = start(w.plugin);
    await d.dispatch(alert());
    await d.flush();
    expect(isWebhookTimeoutError(errors[0])).toBe(true);
  });
});

describe('the queue seam', () => {
  /** A queue that stores synchronously and is not MemoryQueue: the dispatcher must still use its fast path. */
  class SyncQueue extends MemoryQueue {
    sync = 0;
    async_ = 0;
    failNext = false;
    override async enqueue(jobs: Parameters<MemoryQueue['enqueue']>[0]): Promise<void> {
      this.async_++;
      return super.enqueue(jobs);
    }
    override enqueueSync(jobs: Parameters<MemoryQueue['enqueueSync']>[0]): void {
      this.sync++;
      if (this.failNext) throw new WebhookConfigError('store refused');
      super.enqueueSync(jobs);
    }
  }

  it("uses any queue's enqueueSync; when it throws, so does dispatch, and the jobs are not counted", async () => {
    const queue = new SyncQueue();
    const w = scripted('w');
    dispatcher = new Dispatcher({ webhooks: [w.plugin], queue });
    await expect(dispatcher.dispatch(alert())).resolves.toBe(1);
    await dispatcher.flush();
    expect([queue.sync, queue.async_]).toEqual([1, 0]);
    expect(w.attempts).toHaveLength(1);
    queue.failNext = true;
    expect(() => dispatcher!.dispatch(alert())).toThrow('store refused');
    expect(dispatcher.monitor.getWebhookStats('w').pendingCount).toBe(0);
  });

  it('tells the queue which webhooks it has, as they come and go', () => {
    const a = scripted('a');
    const b = scripted('b');
    const d = start(a.plugin);
    const remove = d.register(b.plugin);
    expect(d.webhookNames()).toEqual(['a', 'b']);
    remove();
    expect(d.webhookNames()).toEqual(['a']);
  });
});

describe('typed errors', () => {
  it('a closed MemoryQueue refuses new jobs with a WebhookError that says so', async () => {
    const queue = new MemoryQueue();
    await queue.close();
    const job = {
      id: 'evt_1:w',
      webhook: 'w',
      event: alert(),
      attempt: 0,
      availableAt: Date.now(),
      enqueuedAt: Date.now(),
    };
    const rejected = await queue.enqueue([job]).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(isWebhookError(rejected)).toBe(true);
    expect((rejected as Error).message).toBe(
      'MemoryQueue is closed: close() was called, so it accepts no new jobs',
    );
    expect(() => queue.enqueueSync([job])).toThrow(/MemoryQueue is closed/);
  });

  it('serializeEvent names the event and the reason when its data cannot be JSON', () => {
    const cyclic: Record<string, unknown> = { message: 'loop' };
    cyclic.self = cyclic;
    for (const [data, reason] of [
      [{ message: 'big', details: { count: 10n } }, /BigInt/],
      [cyclic, /circular/i],
    ] as const) {
      const event = createEvent('alert', data as never, { userId: 'u', eventId: 'evt_bad' });
      let error: unknown;
      try {
        serializeEvent(event);
      } catch (thrown) {
        error = thrown;
      }
      expect(isWebhookConfigError(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /^\[emit\] the 'alert' event evt_bad cannot be queued: its data cannot be written as JSON \(.+\)/,
      );
      expect((error as Error).message).toMatch(reason);
      expect((error as Error).message).not.toContain('\n');
    }
    const good = createEvent('alert', { message: 'ok' }, { userId: 'u' });
    expect(JSON.parse(serializeEvent(good))).toEqual(good);
  });
});
