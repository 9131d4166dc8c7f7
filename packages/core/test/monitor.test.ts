import { afterEach, describe, expect, it } from 'vitest';
import { createEvent, type DeliveryOutcome, Dispatcher, WebhookMonitor } from '../src/index.js';
import { scripted } from './helpers.js';

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
});

describe('WebhookMonitor', () => {
  it('counts attempts, retries, outcomes and pending, and streams outcomes', async () => {
    const monitor = new WebhookMonitor();
    const outcomes: DeliveryOutcome[] = [];
    monitor.on((o) => outcomes.push(o));
    const w = scripted('w', [{ status: 503 }, { status: 400 }], {
      retryPolicy: { initialDelaySeconds: 0.01, maxRetries: 3 },
    });
    dispatcher = new Dispatcher({ webhooks: [w.plugin], monitor });
    expect(monitor.getAllStats()).toEqual({ w: expect.objectContaining({ totalSent: 0, pendingCount: 0 }) });
    const d = dispatcher;
    const queued = [0, 1, 2, 3].map((i) =>
      d.dispatch(createEvent('alert', { message: `m${i}` }, { userId: 'u' })),
    );
    expect(monitor.getWebhookStats('w').pendingCount).toBe(4); // before any attempt settles
    await Promise.all(queued);
    await dispatcher.flush();
    const stats = monitor.getWebhookStats('w');
    // m0: 503 then ok (2 attempts); m1: 400 dead; m2, m3: ok
    expect(stats).toMatchObject({
      totalSent: 5,
      successCount: 3,
      failedCount: 1,
      retriedCount: 1,
      pendingCount: 0,
      successRate: 0.75,
      lastError: '[w] HTTP 400',
    });
    expect(stats.avgResponseTimeMs).toBeGreaterThanOrEqual(0);
    expect(stats.p95ResponseTimeMs).toBeGreaterThanOrEqual(stats.avgResponseTimeMs * 0.5);
    expect(outcomes.map((o) => o.kind).sort()).toEqual([
      'dead',
      'delivered',
      'delivered',
      'delivered',
      'retry',
    ]);
    expect(outcomes.find((o) => o.kind === 'retry')).toMatchObject({
      webhook: 'w',
      attempt: 1,
      status: 503,
      nextAttemptAt: expect.any(Number),
    });
  });

  it('p95 reflects the slow tail', () => {
    const monitor = new WebhookMonitor();
    for (let i = 1; i <= 100; i++) {
      monitor.record({
        kind: 'delivered',
        webhook: 'w',
        eventId: `e${i}`,
        eventType: 'alert',
        attempt: 1,
        durationMs: i,
      });
    }
    expect(monitor.getWebhookStats('w')).toMatchObject({
      avgResponseTimeMs: 50.5,
      p95ResponseTimeMs: 95,
      totalSent: 100,
    });
    expect(monitor.getWebhookStats('unknown')).toMatchObject({ totalSent: 0, successRate: 0 });
  });

  it('a throwing listener does not break delivery', async () => {
    const monitor = new WebhookMonitor();
    monitor.on(() => {
      throw new Error('listener bug');
    });
    const w = scripted('w');
    dispatcher = new Dispatcher({ webhooks: [w.plugin], monitor });
    await dispatcher.dispatch(createEvent('alert', { message: 'x' }, { userId: 'u' }));
    await dispatcher.flush();
    expect(monitor.getWebhookStats('w').successCount).toBe(1);
  });
});

describe('pendingCount with jobs from before this process', () => {
  it('finishing jobs it never counted does not hide the ones it did', () => {
    const monitor = new WebhookMonitor();
    const done = (eventId: string) =>
      monitor.record({
        kind: 'delivered',
        webhook: 'w',
        eventId,
        eventType: 'alert',
        attempt: 1,
        durationMs: 1,
      });
    done('recovered-1'); // a durable queue's job from the last run
    done('recovered-2');
    monitor.recordQueued('w', 3);
    expect(monitor.getWebhookStats('w').pendingCount).toBe(3);
    done('new-1');
    expect(monitor.getWebhookStats('w')).toMatchObject({ pendingCount: 2, successCount: 3 });
  });
});
