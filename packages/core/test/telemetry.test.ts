import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  type AttemptResult,
  type DeliveryContext,
  type DeliveryTelemetry,
  Dispatcher,
  type DispatcherOptions,
  MemoryQueue,
  type QueueObserver,
  type TraceCarrier,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '../src/index.js';
import type { DeliveryJob } from '../src/queue/index.js';
import { sampleEvent } from '../src/testing/samples.js';

const TRACE: TraceCarrier = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'congo=t61rcWkgMzE',
};

/** A telemetry that records every call, the way a backend would see them. */
function recorder() {
  const calls: string[] = [];
  const emits: { eventId: string; jobs: number; error?: Error | undefined; ended: boolean }[] = [];
  const attempts: {
    job: DeliveryJob;
    attempt: number;
    trace: TraceCarrier | undefined;
    result?: AttemptResult;
  }[] = [];
  const deferrals: { webhook: string; reason: string; attempt: number }[] = [];
  const rejected: { webhook: string; message: string }[] = [];
  const observers: QueueObserver[] = [];
  let unobserved = 0;
  const telemetry: DeliveryTelemetry = {
    onEmit(event, jobs) {
      const record = { eventId: event.event_id, jobs, ended: false } as (typeof emits)[number];
      emits.push(record);
      calls.push(`emit ${event.event_type} ${jobs}`);
      return {
        trace: TRACE,
        end(error) {
          record.ended = true;
          record.error = error;
          calls.push('emit end');
        },
      };
    },
    onAttemptStart(job, attempt) {
      const record: (typeof attempts)[number] = { job, attempt, trace: job.trace };
      attempts.push(record);
      calls.push(`attempt ${job.webhook} ${attempt}`);
      return {
        headers: { traceparent: `00-0af7651916cd43dd8448eb211c80319c-00000000000000a${attempt}-01` },
        run: (fn) => {
          calls.push('run');
          return fn();
        },
        end(result) {
          record.result = result;
          calls.push(`end ${job.webhook} ${attempt} ${result.outcome}`);
        },
      };
    },
    onDeferred(job, deferral) {
      deferrals.push({ webhook: job.webhook, reason: deferral.reason, attempt: deferral.attempt });
    },
    onRejected(job, error) {
      rejected.push({ webhook: job.webhook, message: error.message });
    },
    observeQueue(observer) {
      observers.push(observer);
      return () => unobserved++;
    },
  };
  return {
    telemetry,
    calls,
    emits,
    attempts,
    deferrals,
    rejected,
    observers,
    unobserved: () => unobserved,
  };
}

/**
 * A plugin that records the context of every attempt and answers with `statuses` in turn (a
 * failure throws a WebhookDeliveryError with that status), then 200 (or `always`, if set).
 */
function recording(
  name: string,
  statuses: number[] = [],
  extra: Partial<WebhookPlugin> & { always?: number } = {},
) {
  const seen: DeliveryContext[] = [];
  const script = [...statuses];
  const plugin: WebhookPlugin = {
    name,
    events: ['*'],
    retryPolicy: { initialDelaySeconds: 0.02, backoffMultiplier: 1, jitter: false, maxRetries: 3 },
    circuitBreaker: false,
    ...extra,
    async deliver(_event, ctx) {
      seen.push(ctx);
      const status = script.shift() ?? extra.always ?? 200;
      if (status >= 300) throw new WebhookDeliveryError(`HTTP ${status}`, { webhook: name, status });
      return { status };
    },
  };
  return { plugin, seen };
}

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
});
const start = (options: DispatcherOptions) => {
  dispatcher = new Dispatcher(options);
  return dispatcher;
};

describe('telemetry seam', () => {
  it('without a telemetry, plugins get no trace headers and jobs carry no trace', async () => {
    const w = recording('w');
    const queue = new MemoryQueue();
    const d = start({ webhooks: [w.plugin], queue });
    await d.dispatch(sampleEvent('alert'));
    await d.flush();
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]!.traceHeaders).toBeUndefined();
  });

  it('stores the emit trace with every job and hands it to each attempt; a retry is a second attempt', async () => {
    const r = recorder();
    const flaky = recording('flaky', [503]);
    const steady = recording('steady');
    const d = start({ webhooks: [flaky.plugin, steady.plugin], telemetry: r.telemetry });
    expect(await d.dispatch(sampleEvent('alert'))).toBe(2);
    await d.flush();

    expect(r.emits).toEqual([{ eventId: 'evt_sample_alert', jobs: 2, ended: true, error: undefined }]);
    expect(r.attempts.map((a) => [a.job.webhook, a.attempt, a.result?.outcome])).toEqual(
      expect.arrayContaining([
        ['flaky', 1, 'retry'],
        ['flaky', 2, 'delivered'],
        ['steady', 1, 'delivered'],
      ]),
    );
    expect(r.attempts).toHaveLength(3);
    for (const a of r.attempts) expect(a.trace).toEqual(TRACE);
    const retry = r.attempts.find((a) => a.result?.outcome === 'retry')!.result!;
    expect(retry.status).toBe(503);
    expect(retry.error).toMatchObject({ name: 'WebhookDeliveryError', status: 503 });
    expect(retry.nextAttemptAt).toBeGreaterThan(Date.now() - 60_000);
    expect(retry.durationMs).toBeGreaterThanOrEqual(0);
    const delivered = r.attempts.find((a) => a.job.webhook === 'steady')!.result!;
    expect(delivered).toMatchObject({ outcome: 'delivered', status: 200 });
    // The attempt's headers reach the plugin, and deliver ran inside the attempt's scope.
    expect(flaky.seen.map((c) => c.traceHeaders?.traceparent)).toEqual([
      '00-0af7651916cd43dd8448eb211c80319c-00000000000000a1-01',
      '00-0af7651916cd43dd8448eb211c80319c-00000000000000a2-01',
    ]);
    expect(r.calls.filter((c) => c === 'run')).toHaveLength(3);
  });

  it('reports an emit that no webhook wants, and one whose jobs could not be stored', async () => {
    const r = recorder();
    const alerts = recording('alerts', [], { events: ['alert'] });
    const queue = new MemoryQueue();
    const d = start({ webhooks: [alerts.plugin], queue, telemetry: r.telemetry });
    expect(await d.dispatch(sampleEvent('prediction'))).toBe(0);
    expect(r.emits[0]).toMatchObject({ jobs: 0, ended: true, error: undefined });

    await queue.close({ drainMs: 0 });
    expect(() => d.dispatch(sampleEvent('alert'))).toThrow(/closed/);
    expect(r.emits[1]).toMatchObject({ jobs: 1, ended: true });
    expect(r.emits[1]!.error?.message).toMatch(/closed/);
  });

  it('tells dead attempts, deferrals and jobs nobody here can deliver', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const r = recorder();
    const refused = recording('refused', [422]);
    const limited = recording('limited', [], { rateLimit: { maxRequestsPerMinute: 1 }, concurrency: 1 });
    const queue = new MemoryQueue();
    const d = start({ webhooks: [refused.plugin, limited.plugin], queue, telemetry: r.telemetry });
    await d.dispatch(sampleEvent('alert'));
    await d.dispatch(sampleEvent('bug_detected'));
    await queue.enqueue([
      {
        id: 'evt_ghost:ghost',
        webhook: 'ghost',
        event: sampleEvent('alert', {}, { eventId: 'evt_ghost' }),
        attempt: 0,
        availableAt: Date.now(),
        enqueuedAt: Date.now(),
        trace: TRACE,
      },
    ]);
    await vi.advanceTimersByTimeAsync(61_000);
    await d.flush();

    const dead = r.attempts.find((a) => a.result?.outcome === 'dead')!;
    expect(dead.job.webhook).toBe('refused');
    expect(dead.result).toMatchObject({ status: 422, error: { status: 422 } });
    expect(r.deferrals).toEqual([{ webhook: 'limited', reason: 'rate_limit', attempt: 1 }]);
    expect(r.attempts.filter((a) => a.job.webhook === 'limited').map((a) => a.result?.outcome)).toEqual([
      'delivered',
      'delivered',
    ]);
    expect(r.rejected).toEqual([
      { webhook: 'ghost', message: '[ghost] no webhook with this name is registered in this process' },
    ]);
  });

  it('keeps the trace with a dead letter, so its replay continues the same trace', async () => {
    const r = recorder();
    let refuse = true;
    const plugin: WebhookPlugin = {
      name: 'crm',
      events: ['*'],
      circuitBreaker: false,
      async deliver() {
        if (refuse) throw new WebhookDeliveryError('HTTP 422', { webhook: 'crm', status: 422 });
        return { status: 200 };
      },
    };
    const d = start({ webhooks: [plugin], telemetry: r.telemetry });
    await d.dispatch(sampleEvent('alert'));
    await d.flush();
    const [letter] = await d.deadLetters.list();
    expect(letter!.trace).toEqual(TRACE);
    refuse = false;
    expect(await d.deadLetters.replay(letter!.id)).toBe(true);
    await d.flush();
    expect(r.attempts.map((a) => [a.attempt, a.result?.outcome, a.trace])).toEqual([
      [1, 'dead', TRACE],
      [1, 'delivered', TRACE],
    ]);
  });

  it('a telemetry that throws never breaks a delivery; the error goes to onError', async () => {
    const errors: string[] = [];
    const broken: DeliveryTelemetry = {
      onEmit() {
        throw new Error('exporter down');
      },
      onAttemptStart() {
        return {
          end() {
            throw new Error('span end failed');
          },
        };
      },
    };
    const w = recording('w');
    const d = start({
      webhooks: [w.plugin],
      telemetry: broken,
      onError: (error, { during, webhook }) => errors.push(`${during} ${webhook}: ${error.message}`),
    });
    expect(await d.dispatch(sampleEvent('alert'))).toBe(1);
    await d.flush();
    expect(d.monitor.getWebhookStats('w').successCount).toBe(1);
    expect(errors).toEqual(['telemetry *: exporter down', 'telemetry w: span end failed']);
  });

  it('lets gauges read pending jobs and dead letters per webhook, and stops on close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const r = recorder();
    const refused = recording('refused', [], { always: 400 });
    const slow = recording('slow', [], { rateLimit: { maxRequestsPerMinute: 1 }, concurrency: 1 });
    const idle = recording('idle', [], { events: ['phi_access'] });
    const d = start({ webhooks: [refused.plugin, slow.plugin, idle.plugin], telemetry: r.telemetry });
    expect(r.observers).toHaveLength(1);
    expect(r.observers[0]!.queue).toBe(d.queue);
    for (const type of ['alert', 'bug_detected', 'prediction'] as const) await d.dispatch(sampleEvent(type));
    await vi.advanceTimersByTimeAsync(100);
    expect(await r.observers[0]!.depth()).toEqual({
      pending: { refused: 0, slow: 2, idle: 0 },
      deadLetters: { refused: 3, slow: 0, idle: 0 },
    });
    await d.close({ drainMs: 0 });
    dispatcher = undefined;
    expect(r.unobserved()).toBe(1);
  });
});
