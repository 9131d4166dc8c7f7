import { Dispatcher, isWebhookConfigError, isWebhookError, type WebhookPlugin } from '@empathy/webhooks-core';
import type { RateLimiterFactory } from '@empathy/webhooks-core/queue';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import { Queue, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BullMQQueue, startWorker } from '../src/index.js';
import { deleteKeys, httpWebhook, REDIS, uniquePrefix, waitFor, withRedis } from './helpers.js';

const FAST = { initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false, timeoutSeconds: 2 };

let prefix: string;
let sink: FakeServer;
const closers: (() => Promise<unknown>)[] = [];

beforeEach(async () => {
  prefix = uniquePrefix();
  sink = await createFakeServer();
});
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await sink.close();
  await deleteKeys(prefix);
});

/** A queue under this test's prefix, closed after the test. */
function queue(options: { consume?: boolean } = {}) {
  const q = new BullMQQueue({ connection: REDIS, prefix, ...options });
  closers.push(() => q.close({ drainMs: 0 }));
  return q;
}
function producer(webhooks: WebhookPlugin[]) {
  const dispatcher = new Dispatcher({ webhooks, queue: queue() });
  closers.push(() => dispatcher.close({ drainMs: 0 }));
  return dispatcher;
}
function worker(webhooks: WebhookPlugin[], concurrency?: number) {
  const w = startWorker({ queue: queue(), webhooks, concurrency });
  closers.push(() => w.close({ drainMs: 0 }));
  return w;
}
const event = (i: number) => sampleEvent('alert', { message: `alert ${i}` }, { eventId: `evt_q_${i}` });
const ids = (server: FakeServer) => server.requests.map((r) => r.headers['webhook-id']);

describe('BullMQQueue: producers and workers', () => {
  it('a producer only stores jobs; a worker in another process delivers them and flush() sees it', async () => {
    const hook = () => httpWebhook(sink.url, { name: 'sink', retryPolicy: FAST });
    const emitter = producer([hook()]);
    for (let i = 0; i < 3; i++) await emitter.dispatch(event(i));
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.requests, 'a producer must not deliver').toHaveLength(0);
    expect(await emitter.queue.pending?.('sink')).toBe(3);

    const w = worker([hook()]);
    await emitter.flush();
    expect(ids(sink).sort()).toEqual(['evt_q_0', 'evt_q_1', 'evt_q_2']);
    expect(await emitter.queue.pending?.()).toBe(0);
    expect(w.monitor.getWebhookStats('sink')).toMatchObject({ successCount: 3, totalSent: 3 });
  });

  it('consume: true produces and delivers in one process, also for a webhook registered later', async () => {
    const dispatcher = new Dispatcher({
      webhooks: [httpWebhook(sink.url, { name: 'first' })],
      queue: queue({ consume: true }),
    });
    closers.push(() => dispatcher.close({ drainMs: 0 }));
    dispatcher.register(httpWebhook(sink.url, { name: 'later' }));
    await dispatcher.dispatch(event(1));
    await dispatcher.flush();
    expect(sink.requests).toHaveLength(2);
    expect(dispatcher.monitor.getWebhookStats('later').successCount).toBe(1);
  });

  it('a worker takes only the jobs of its own webhooks; the others wait for theirs', async () => {
    const a = () => httpWebhook(`${sink.url}/a`, { name: 'a' });
    const b = () => httpWebhook(`${sink.url}/b`, { name: 'b' });
    const emitter = producer([a(), b()]);
    const onlyA = worker([a()]);
    await onlyA.ready();
    await emitter.dispatch(event(1));
    await sink.waitForRequests(1);
    await new Promise((r) => setTimeout(r, 300));
    expect(sink.requests.map((r) => r.path)).toEqual(['/a']);
    expect(await emitter.queue.pending?.('b')).toBe(1);

    worker([b()]);
    await emitter.flush();
    expect(sink.requests.map((r) => r.path).sort()).toEqual(['/a', '/b']);
    expect(await onlyA.deadLetters.list()).toEqual([]);
  });

  it('runs a retry as a BullMQ delayed job with the attempt counted', async () => {
    const hook = () =>
      httpWebhook(sink.url, { name: 'sink', retryPolicy: { ...FAST, initialDelaySeconds: 0.6 } });
    const emitter = producer([hook()]);
    const w = worker([hook()]);
    sink.respondNext({ status: 503 });
    await emitter.dispatch(event(1));
    await sink.waitForRequests(1);
    const lane = new Queue('webhook.sink', { connection: REDIS, prefix });
    closers.push(() => lane.close());
    await waitFor(async () => (await lane.getDelayedCount()) === 1, 2000, 'the retry to be a delayed job');
    await emitter.flush();
    expect(sink.requests.map((r) => r.status)).toEqual([503, 200]);
    expect(sink.requests[1]!.receivedAt - sink.requests[0]!.receivedAt).toBeGreaterThanOrEqual(550);
    expect(w.monitor.getWebhookStats('sink')).toMatchObject({
      successCount: 1,
      retriedCount: 1,
      totalSent: 2,
    });
  });

  it('waits for Retry-After', async () => {
    const hook = () => httpWebhook(sink.url, { name: 'sink', retryPolicy: FAST });
    const emitter = producer([hook()]);
    worker([hook()]);
    sink.respondNext({ status: 429, headers: { 'retry-after': '1' } });
    await emitter.dispatch(event(1));
    await emitter.flush();
    const [limited, next] = sink.requests;
    expect(limited!.status).toBe(429);
    expect(next!.receivedAt - limited!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('gives up after maxRetries: a dead letter in Redis with the attempts and the last error', async () => {
    const hook = () => httpWebhook(sink.url, { name: 'sink', retryPolicy: { ...FAST, maxRetries: 2 } });
    const emitter = producer([hook()]);
    const w = worker([hook()]);
    sink.respondNext({ status: 500 }, { status: 502 }, { status: 503 });
    await emitter.dispatch(event(1));
    await emitter.flush();
    expect(sink.requests).toHaveLength(3);
    const [letter] = await emitter.deadLetters.list();
    expect(letter).toMatchObject({
      id: 'evt_q_1:sink',
      webhook: 'sink',
      attempts: 3,
      error: { name: 'WebhookDeliveryError', message: '[sink] HTTP 503', status: 503 },
    });
    expect(letter!.event).toEqual(JSON.parse(JSON.stringify(event(1))));
    expect(w.monitor.getWebhookStats('sink')).toMatchObject({
      failedCount: 1,
      totalSent: 3,
      retriedCount: 2,
    });
  });

  it('dead-letters a permanent refusal once; any process can list, replay, delete and clear', async () => {
    const failures: string[] = [];
    const hook = () =>
      httpWebhook(`${sink.url}/hooks/T000/SECRET-PATH`, {
        name: 'sink',
        retryPolicy: FAST,
        headers: { authorization: 'Bearer xoxb-secret-token' },
        onFailure: (_w, e) => void failures.push(e.event_id),
      });
    const other = () => httpWebhook(sink.url, { name: 'other', retryPolicy: FAST });
    const emitter = producer([hook(), other()]);
    worker([hook(), other()]);
    sink.respondNext({ status: 400 }, { status: 400 }, { status: 400 }, { status: 400 });
    await emitter.dispatch(event(1));
    await emitter.dispatch(event(2));
    await emitter.flush();
    expect(sink.requests).toHaveLength(4);
    expect(failures.sort()).toEqual(['evt_q_1', 'evt_q_2']);

    // Another process (a fresh queue on the same prefix) sees the same dead letters.
    const admin = queue();
    const letters = await admin.deadLetters.list();
    expect(letters.map((l) => l.id).sort()).toEqual([
      'evt_q_1:other',
      'evt_q_1:sink',
      'evt_q_2:other',
      'evt_q_2:sink',
    ]);
    const failedAt = letters.map((l) => l.failedAt);
    expect(failedAt, 'oldest first').toEqual([...failedAt].sort((a, b) => a - b));
    expect(await admin.deadLetters.list({ webhook: 'other', limit: 1 })).toHaveLength(1);
    const raw = await withRedis((client) => client.hgetall(`${prefix}:dead-letters`));
    expect(JSON.stringify(raw)).not.toMatch(/SECRET-PATH|xoxb-secret-token/);

    expect(await admin.deadLetters.replay('evt_q_1:sink')).toBe(true);
    expect(await admin.deadLetters.replay('evt_q_1:sink')).toBe(false);
    await waitFor(() => sink.requests.length === 5, 5000, 'the replayed delivery');
    expect(sink.requests[4]!.headers['webhook-id']).toBe('evt_q_1');
    expect(await admin.deadLetters.delete('evt_q_2:sink')).toBe(true);
    expect(await admin.deadLetters.delete('evt_q_2:sink')).toBe(false);
    expect(await admin.deadLetters.replayAll({ webhook: 'other' })).toBe(2);
    await waitFor(() => sink.requests.length === 7, 5000, 'the replayed deliveries');
    expect(await admin.deadLetters.list()).toHaveLength(0);

    sink.respondNext({ status: 400 }, { status: 400 });
    await emitter.dispatch(event(3));
    await emitter.flush();
    expect(await admin.deadLetters.clear({ webhook: 'other' })).toBe(1);
    expect(await admin.deadLetters.list()).toMatchObject([{ id: 'evt_q_3:sink' }]);
    expect(await admin.deadLetters.clear()).toBe(1);
    expect(await admin.deadLetters.list()).toEqual([]);
  });

  it('close() stops taking jobs and leaves the rest in Redis for the next worker', async () => {
    sink.setHandler(() => ({ status: 200, delayMs: 150 }));
    const hook = () => httpWebhook(sink.url, { name: 'slow', concurrency: 1, retryPolicy: FAST });
    const emitter = producer([hook()]);
    for (let i = 0; i < 6; i++) await emitter.dispatch(event(i));
    const first = startWorker({ queue: new BullMQQueue({ connection: REDIS, prefix }), webhooks: [hook()] });
    await sink.waitForRequests(2);
    // Past the deadline at once: the attempt in flight is cut off and its job handed back.
    await first.close({ drainMs: 0 });
    const deliveredByFirst = first.monitor.getWebhookStats('slow').successCount;
    expect(deliveredByFirst).toBeGreaterThanOrEqual(1);
    expect(deliveredByFirst).toBeLessThan(6);
    expect(await emitter.queue.pending?.('slow')).toBe(6 - deliveredByFirst);

    // The handed-back job is due at once, not when its 30 s lock would lapse.
    const next = Date.now();
    worker([hook()]);
    await emitter.flush();
    expect(Date.now() - next).toBeLessThan(10_000);
    expect(new Set(ids(sink)).size).toBe(6);
  });

  it('close() keeps its drain deadline though an attempt hangs; the job goes to the next worker', async () => {
    let started = 0;
    const hung: WebhookPlugin = {
      name: 'hung',
      events: ['*'],
      // Ignores its abort signal, and its timeout is far away: only close()'s deadline ends it.
      retryPolicy: { timeoutSeconds: 600 },
      deliver: () => {
        started++;
        return new Promise(() => {});
      },
    };
    const emitter = producer([hung]);
    await emitter.dispatch(event(1));
    const first = startWorker({ queue: new BullMQQueue({ connection: REDIS, prefix }), webhooks: [hung] });
    await waitFor(async () => started === 1, 5000, 'the attempt to start');
    const closing = Date.now();
    await first.close({ drainMs: 200 });
    expect(Date.now() - closing).toBeLessThan(3000);

    // The job was handed back, not lost: the next worker delivers it at once (its lock is 30 s).
    expect(await emitter.queue.pending?.('hung')).toBe(1);
    worker([httpWebhook(sink.url, { name: 'hung', retryPolicy: FAST })]);
    const next = Date.now();
    await emitter.flush();
    expect(Date.now() - next).toBeLessThan(10_000);
    expect(ids(sink)).toEqual(['evt_q_1']);
  }, 30_000);

  it('moves jobs that failed inside BullMQ into the dead letters when a worker starts', async () => {
    const lane = new Queue('webhook.sink', { connection: REDIS, prefix });
    closers.push(() => lane.close());
    const data = { event: event(9), attempt: 1, enqueuedAt: Date.now() };
    await lane.add('alert', data, { jobId: 'e.evt_q_9' });
    const broken = new Worker(
      'webhook.sink',
      async () => {
        throw new Error('job stalled more than allowable limit');
      },
      { connection: REDIS, prefix },
    );
    await waitFor(async () => (await lane.getFailedCount()) === 1, 5000, 'the job to fail');
    await broken.close();

    const w = worker([httpWebhook(sink.url, { name: 'sink' })]);
    await w.ready();
    await waitFor(async () => (await w.deadLetters.list()).length === 1, 5000, 'the dead letter');
    const [letter] = await w.deadLetters.list();
    expect(letter).toMatchObject({ id: 'evt_q_9:sink', webhook: 'sink', attempts: 1 });
    expect(letter!.error.message).toMatch(/^\[sink\] the job failed in the queue worker: job stalled/);
    expect(await lane.getFailedCount()).toBe(0);
  });

  it('rejects enqueue after close', async () => {
    const q = queue();
    await q.close();
    await expect(q.enqueue([])).rejects.toThrow(/closed/);
  });
});

describe('BullMQQueue: bad input and typed errors', () => {
  it('an enqueue after close is a WebhookError that says the queue is closed', async () => {
    const q = queue();
    const dispatcher = new Dispatcher({ webhooks: [httpWebhook(sink.url, { name: 'sink' })], queue: q });
    await dispatcher.dispatch(event(1));
    await q.close();
    const error = await q
      .enqueue([
        {
          id: 'evt_q_2:sink',
          webhook: 'sink',
          event: event(2),
          attempt: 0,
          availableAt: Date.now(),
          enqueuedAt: Date.now(),
        },
      ])
      .then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
    expect(isWebhookError(error)).toBe(true);
    expect((error as Error).message).toBe(
      'BullMQQueue is closed: close() was called, so it accepts no new jobs',
    );
    await dispatcher.close({ drainMs: 0 });
  });

  it('an event Redis cannot store (a BigInt) rejects its own emit with a WebhookConfigError; nothing of it is stored', async () => {
    const hooks = () => [httpWebhook(sink.url, { name: 'a' }), httpWebhook(sink.url, { name: 'b' })];
    const emitter = producer(hooks());
    const bad = sampleEvent('alert', { message: 'big', details: { bytes: 10n ** 20n } } as never, {
      eventId: 'evt_q_big',
    });
    const [good, refused] = await Promise.allSettled([emitter.dispatch(event(1)), emitter.dispatch(bad)]);
    expect(good).toEqual({ status: 'fulfilled', value: 2 });
    expect(refused.status).toBe('rejected');
    const error = (refused as PromiseRejectedResult).reason as Error;
    expect(isWebhookConfigError(error)).toBe(true);
    expect(error.message).toMatch(/^\[emit\] the 'alert' event evt_q_big cannot be queued: .*BigInt/);
    // Only the good event's two jobs reached Redis: neither lane got half of the bad one.
    expect(await emitter.queue.pending?.()).toBe(2);
    expect(emitter.monitor.getWebhookStats('a').pendingCount).toBe(1);
  });
});

describe('BullMQQueue: rate limits shared in Redis', () => {
  /** Core's windows are a minute or an hour; tests shrink them to keep runs short. */
  const shortWindows =
    (q: BullMQQueue, limit: number, windowMs: number): RateLimiterFactory =>
    (webhook, rateLimit) =>
      q.rateLimiterFactory(webhook, { ...rateLimit, windows: [{ limit, windowMs }] });

  it('two workers together keep one limit; waiting jobs are deferred (no attempt spent) and sent later', async () => {
    const hook = () =>
      httpWebhook(sink.url, { name: 'limited', rateLimit: { maxRequestsPerMinute: 3 }, retryPolicy: FAST });
    const emitter = producer([hook()]);
    const workers = [0, 1].map(() => {
      const q = queue({ consume: true });
      const dispatcher = new Dispatcher({
        webhooks: [hook()],
        queue: q,
        rateLimiterFactory: shortWindows(q, 3, 1000),
      });
      closers.push(() => dispatcher.close({ drainMs: 0 }));
      return dispatcher;
    });
    for (let i = 0; i < 9; i++) await emitter.dispatch(event(i));
    await emitter.flush();
    const times = sink.requests.map((r) => r.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(9);
    // At most 3 in any 1000 ms window, judged at the sink: the hop from the Redis admission to the
    // sink varies by tens of ms on a loaded machine (943 ms was seen), so allow 200 ms of it.
    // Without the shared limit all 9 arrive within a few ms, so this still fails if the limit breaks.
    for (let i = 0; i + 3 < times.length; i++) expect(times[i + 3]! - times[i]!).toBeGreaterThanOrEqual(800);
    const stats = workers.map((d) => d.monitor.getWebhookStats('limited'));
    expect(
      stats.reduce((n, s) => n + s.totalSent, 0),
      'deferrals spend no attempt',
    ).toBe(9);
    expect(stats.reduce((n, s) => n + s.deferredCount, 0)).toBeGreaterThan(0);
    expect(stats.reduce((n, s) => n + s.retriedCount, 0)).toBe(0);
  });

  /** Hammers three limiters (three connections, as three workers would) for `ms`; returns admission times. */
  async function hammer(
    strategy: 'sliding_window' | 'fixed_window' | 'token_bucket',
    limit: number,
    windowMs: number,
    ms: number,
  ) {
    const limiters = [0, 1, 2].map(() =>
      queue().rateLimiterFactory('shared', { strategy, windows: [{ limit, windowMs }] }),
    );
    // Each admission happened (on Redis's clock, which is this machine's) between `before` and
    // `after`: the reply can reach a busy event loop late, so `after` alone is not the time.
    const admitted: { before: number; after: number }[] = [];
    const waits: number[] = [];
    const end = Date.now() + ms;
    await Promise.all(
      limiters.map(async (limiter) => {
        while (Date.now() < end) {
          const before = Date.now();
          const wait = await limiter.acquire(before);
          if (wait === 0) admitted.push({ before, after: Date.now() });
          else {
            waits.push(wait);
            await new Promise((r) => setTimeout(r, Math.min(wait, 20)));
          }
        }
      }),
    );
    return { admitted: admitted.sort((a, b) => a.before - b.before), waits };
  }

  it('sliding_window: at most `limit` in any window, across limiters', async () => {
    const { admitted, waits } = await hammer('sliding_window', 5, 400, 1300);
    // Any 6 admissions span at least the 400 ms window; their brackets span at least that much.
    for (let i = 0; i + 5 < admitted.length; i++) {
      const six = admitted.slice(i, i + 6);
      const span = Math.max(...six.map((a) => a.after)) - Math.min(...six.map((a) => a.before));
      expect(span).toBeGreaterThanOrEqual(399); // Date.now() rounds to the millisecond
    }
    expect(admitted.length).toBeGreaterThanOrEqual(10);
    expect(admitted.length).toBeLessThanOrEqual(20);
    expect(Math.max(...waits)).toBeLessThanOrEqual(400);
  });

  it('fixed_window and token_bucket hold their limits across limiters', async () => {
    const fixed = await hammer('fixed_window', 5, 400, 1000);
    expect(fixed.admitted.length).toBeGreaterThanOrEqual(10);
    expect(fixed.admitted.length).toBeLessThanOrEqual(20); // at most 4 aligned windows touched
    const bucket = await hammer('token_bucket', 5, 500, 1000);
    expect(bucket.admitted.length).toBeGreaterThanOrEqual(10);
    expect(bucket.admitted.length).toBeLessThanOrEqual(16); // a full bucket, then 10 refills
  });
});

describe('BullMQQueue and startWorker: options', () => {
  const configError = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      return (error as Error).message;
    }
    throw new Error('expected a WebhookConfigError');
  };

  it('names the bad option and never echoes the connection', () => {
    expect(configError(() => new BullMQQueue(undefined as never))).toMatch(/options must be an object/);
    expect(configError(() => new BullMQQueue({} as never))).toMatch(/option 'connection'/);
    expect(configError(() => new BullMQQueue({ connection: REDIS, prefix: 'has space' }))).toMatch(
      /option 'prefix'/,
    );
    expect(configError(() => new BullMQQueue({ connection: REDIS, drainMs: -1 }))).toMatch(
      /option 'drainMs'/,
    );
    expect(configError(() => new BullMQQueue({ connection: REDIS, worker: { lockDuration: 1.5 } }))).toMatch(
      /option 'worker.lockDuration'/,
    );
    const message = configError(
      () => new BullMQQueue({ connection: { password: 'hunter2-redis' }, consume: 'yes' as never }),
    );
    expect(message).toMatch(/option 'consume'/);
    expect(message).not.toContain('hunter2');
  });

  it('a worker needs an ioredis instance with maxRetriesPerRequest: null', () => {
    const instance = { connect() {}, disconnect() {}, duplicate() {}, options: { maxRetriesPerRequest: 20 } };
    expect(configError(() => new BullMQQueue({ connection: instance as never, consume: true }))).toMatch(
      /maxRetriesPerRequest: null/,
    );
    const producerOnly = new BullMQQueue({ connection: instance as never });
    expect(
      configError(() => startWorker({ queue: producerOnly, webhooks: [httpWebhook('http://127.0.0.1:9')] })),
    ).toMatch(/maxRetriesPerRequest: null/);
  });

  it('startWorker validates its options; a queue feeds one dispatcher', () => {
    const hook = httpWebhook('http://127.0.0.1:9');
    expect(configError(() => startWorker({ queue: {} as never, webhooks: [hook] }))).toMatch(
      /option 'queue'/,
    );
    expect(configError(() => startWorker({ queue: queue(), webhooks: [] }))).toMatch(/option 'webhooks'/);
    expect(configError(() => startWorker({ queue: queue(), webhooks: [hook], concurrency: 0 }))).toMatch(
      /option 'concurrency'/,
    );
    const q = queue();
    const dispatcher = new Dispatcher({ webhooks: [hook], queue: q });
    closers.push(() => dispatcher.close({ drainMs: 0 }));
    expect(configError(() => startWorker({ queue: q, webhooks: [hook] }))).toMatch(/already called/);
  });
});
