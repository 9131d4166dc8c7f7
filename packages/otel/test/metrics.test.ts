import { EmpathyOS } from '@empathy/os';
import { MemoryQueue } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { ATTRIBUTES, LATENCY_BUCKETS_SECONDS, METRICS, openTelemetry } from '../src/index.js';
import { otelSdk, type Point, waitFor } from './helpers.js';

const FAST = { initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false, timeoutSeconds: 5 };
const W = ATTRIBUTES.webhookName;
const T = ATTRIBUTES.eventType;
const O = ATTRIBUTES.deliveryOutcome;

let sdk: ReturnType<typeof otelSdk>;
let receiver: FakeServer;
let empathy: EmpathyOS | undefined;
beforeEach(async () => {
  sdk = otelSdk();
  receiver = await createFakeServer((request) => {
    if (request.path === '/refused') return { status: 400, body: 'bad request' };
    return { status: 200 };
  });
});
afterEach(async () => {
  await empathy?.close({ drainMs: 0 });
  empathy = undefined;
  await receiver.close();
  await sdk.shutdown();
});

const hook = (name: string, extra: Partial<ConstructorParameters<typeof CustomWebhook>[0]> = {}) =>
  new CustomWebhook({
    name,
    url: `${receiver.url}/${name}`,
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    circuitBreaker: false,
    ...extra,
  });

/** The points as `attributes → value` lines, sorted: easy to compare whole. */
const table = (points: Point[], read: (p: Point) => unknown = (p) => p.value) =>
  points
    .map((p) => `${JSON.stringify(Object.fromEntries(Object.entries(p.attributes).sort()))} ${read(p)}`)
    .sort();
const key = (attributes: Record<string, string>) =>
  JSON.stringify(Object.fromEntries(Object.entries(attributes).sort()));

it('counts a mixed run right: delivered, retried, dead-lettered, rate-limited; gauges read the queue', async () => {
  empathy = new EmpathyOS({
    userId: 'developer_123',
    webhooks: [
      hook('steady'),
      hook('flaky'),
      hook('refused', { events: ['bug_detected'] }),
      hook('limited', { events: ['alert'], rateLimit: { maxRequestsPerMinute: 1 } }),
    ],
    telemetry: openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider }),
  });
  // flaky: 503 on its first request only. The receiver answers requests in arrival order, so
  // script the first one to reach /flaky.
  let flakyFailed = false;
  receiver.setHandler((request) => {
    if (request.path === '/refused') return { status: 400, body: 'bad request' };
    if (request.path === '/flaky' && !flakyFailed) {
      flakyFailed = true;
      return { status: 503 };
    }
    return { status: 200 };
  });

  await empathy.emit('alert', { message: 'one' });
  await empathy.emit('alert', { message: 'two' });
  await empathy.emit('bug_detected', { title: 't', description: 'd' });
  // Everything but limited's second alert ends; that one waits for the next minute.
  await waitFor(() => {
    const s = empathy!.monitor.getAllStats();
    return (
      s.steady!.successCount === 3 &&
      s.flaky!.successCount === 3 &&
      s.refused!.failedCount === 1 &&
      s.limited!.successCount === 1 &&
      s.limited!.deferredCount === 1
    );
  });

  expect(table(await sdk.points(METRICS.deliveries))).toEqual(
    [
      `${key({ [W]: 'steady', [T]: 'alert', [O]: 'delivered' })} 2`,
      `${key({ [W]: 'steady', [T]: 'bug_detected', [O]: 'delivered' })} 1`,
      `${key({ [W]: 'flaky', [T]: 'alert', [O]: 'retry' })} 1`,
      `${key({ [W]: 'flaky', [T]: 'alert', [O]: 'delivered' })} 2`,
      `${key({ [W]: 'flaky', [T]: 'bug_detected', [O]: 'delivered' })} 1`,
      `${key({ [W]: 'refused', [T]: 'bug_detected', [O]: 'dead' })} 1`,
      `${key({ [W]: 'limited', [T]: 'alert', [O]: 'delivered' })} 1`,
      `${key({ [W]: 'limited', [T]: 'alert', [O]: 'deferred' })} 1`,
    ].sort(),
  );

  const durations = await sdk.points(METRICS.attemptDuration);
  expect(table(durations, (p) => p.count)).toEqual(
    [
      `${key({ [W]: 'steady', [O]: 'delivered' })} 3`,
      `${key({ [W]: 'flaky', [O]: 'retry' })} 1`,
      `${key({ [W]: 'flaky', [O]: 'delivered' })} 3`,
      `${key({ [W]: 'refused', [O]: 'dead' })} 1`,
      `${key({ [W]: 'limited', [O]: 'delivered' })} 1`,
    ].sort(),
  );
  for (const point of durations) {
    expect(point.boundaries).toEqual(LATENCY_BUCKETS_SECONDS);
    // Seconds, not milliseconds: a loopback attempt takes well under 5 s.
    expect(point.sum! / point.count!).toBeGreaterThan(0);
    expect(point.sum! / point.count!).toBeLessThan(5);
  }

  expect(table(await sdk.points(METRICS.pending))).toEqual(
    [
      `${key({ [W]: 'steady' })} 0`,
      `${key({ [W]: 'flaky' })} 0`,
      `${key({ [W]: 'refused' })} 0`,
      `${key({ [W]: 'limited' })} 1`,
    ].sort(),
  );
  expect(table(await sdk.points(METRICS.deadLetters))).toEqual(
    [
      `${key({ [W]: 'steady' })} 0`,
      `${key({ [W]: 'flaky' })} 0`,
      `${key({ [W]: 'refused' })} 1`,
      `${key({ [W]: 'limited' })} 0`,
    ].sort(),
  );

  // Bounded cardinality: no event id, no URL in any metric attribute.
  const all = [
    ...(await sdk.points(METRICS.deliveries)),
    ...(await sdk.points(METRICS.attemptDuration)),
    ...(await sdk.points(METRICS.pending)),
    ...(await sdk.points(METRICS.deadLetters)),
  ];
  for (const point of all) {
    for (const name of Object.keys(point.attributes)) expect([W, T, O]).toContain(name);
  }
  expect(JSON.stringify(all)).not.toMatch(/evt_|127\.0\.0\.1/);
});

it('gauges stop reading a queue once its host closes', async () => {
  let reads = 0;
  class CountingQueue extends MemoryQueue {
    override pendingByWebhook() {
      reads++;
      return super.pendingByWebhook();
    }
  }
  const telemetry = openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider });
  const first = new EmpathyOS({ userId: 'u', webhooks: [hook('a')], queue: new CountingQueue(), telemetry });
  expect(table(await sdk.points(METRICS.pending))).toEqual([`${key({ [W]: 'a' })} 0`]);
  expect(reads).toBe(1);
  await first.close();
  await sdk.points(METRICS.pending);
  expect(reads).toBe(1);
});
