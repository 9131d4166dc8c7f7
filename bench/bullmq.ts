/**
 * BullMQQueue against a bare BullMQ setup doing the same work, same Redis, same loopback sink
 * (its own process), same payload, same concurrency, interleaved runs:
 * (a) delivery: a worker drains N queued jobs, each an undici POST to the sink. Ours runs them
 *     through startWorker (core's dispatcher: rate-limit and breaker gates, timeout, monitor);
 *     the baseline is a BullMQ Worker whose processor only POSTs.
 * (b) enqueue: a producer stores N events (ours: Dispatcher.dispatch → BullMQQueue; baseline:
 *     Queue.add), 500 in flight. Informational: no target.
 * The in-memory queue's delivery rate (EmpathyOS, same plugin) is shown for scale.
 */
import { randomUUID } from 'node:crypto';
import { EmpathyOS } from '@empathy/os';
import { createEvent, Dispatcher, type EmpathyEvent, type WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { BullMQQueue, startWorker } from '@empathy/webhooks-queue-bullmq';
import { Queue, RedisConnection, Worker } from 'bullmq';
import { Pool } from 'undici';
import { type BenchRow, median, startSink } from './lib.js';

const REDIS = { host: '127.0.0.1', port: 6379 };
const CONCURRENCY = 32;
const N = 3000;
const ROUNDS = 5;

const event = (i: number): EmpathyEvent =>
  createEvent('prediction', SAMPLE_DATA.prediction, { userId: 'developer_123', eventId: `evt_bench_${i}` });

/** The one POST both sides make: undici straight to the sink. */
function poster(pool: Pool) {
  return async (body: string): Promise<number> => {
    const res = await pool.request({
      path: '/hook',
      method: 'POST',
      headers: ['content-type', 'application/json'],
      body,
    });
    await res.body.dump();
    if (res.statusCode >= 300) throw new Error(`sink answered ${res.statusCode}`);
    return res.statusCode;
  };
}

/** A minimal plugin over the same POST: the queue and dispatcher are what is measured. */
function plugin(post: (body: string) => Promise<number>, counter: { n: number }): WebhookPlugin {
  return {
    name: 'bench',
    events: ['*'],
    concurrency: CONCURRENCY,
    async deliver(e) {
      const status = await post(JSON.stringify(e));
      counter.n++;
      return { status };
    },
  };
}

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
}

async function deleteKeys(prefix: string): Promise<void> {
  const connection = new RedisConnection(REDIS, { shared: false, blocking: false });
  const client = await connection.client;
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, { MATCH: `${prefix}:*`, COUNT: 1000 });
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
  await connection.close();
}

async function inBatches(n: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < n; i += 500) {
    await Promise.all(Array.from({ length: Math.min(500, n - i) }, (_, j) => fn(i + j)));
  }
}

/** Baseline: Queue.add N jobs, then a bare Worker drains them. Returns [enqueue/s, deliveries/s]. */
async function bare(post: (body: string) => Promise<number>): Promise<[number, number]> {
  const prefix = `bench-bare:${randomUUID().slice(0, 8)}`;
  const queue = new Queue('webhook.bench', {
    connection: REDIS,
    prefix,
    defaultJobOptions: { removeOnComplete: true },
  });
  await queue.waitUntilReady();
  let started = performance.now();
  await inBatches(N, (i) => {
    const e = event(i);
    return queue.add(
      e.event_type,
      { event: e, attempt: 0, enqueuedAt: Date.now() },
      { jobId: `e.${e.event_id}` },
    );
  });
  const enqueueRate = N / ((performance.now() - started) / 1000);
  const done = { n: 0 };
  started = performance.now();
  const worker = new Worker(
    'webhook.bench',
    async (job) => {
      await post(JSON.stringify(job.data.event));
      done.n++;
    },
    { connection: REDIS, prefix, concurrency: CONCURRENCY },
  );
  await until(() => done.n >= N);
  const deliveryRate = N / ((performance.now() - started) / 1000);
  await worker.close();
  await queue.close();
  await deleteKeys(prefix);
  return [enqueueRate, deliveryRate];
}

/** Ours: a producer Dispatcher enqueues N events, then startWorker drains them. */
async function ours(post: (body: string) => Promise<number>): Promise<[number, number]> {
  const prefix = `bench-ours:${randomUUID().slice(0, 8)}`;
  const producerQueue = new BullMQQueue({ connection: REDIS, prefix });
  await producerQueue.ready();
  const producer = new Dispatcher({ webhooks: [plugin(post, { n: 0 })], queue: producerQueue });
  let started = performance.now();
  await inBatches(N, (i) => producer.dispatch(event(i)));
  const enqueueRate = N / ((performance.now() - started) / 1000);
  const done = { n: 0 };
  started = performance.now();
  const worker = startWorker({
    queue: new BullMQQueue({ connection: REDIS, prefix }),
    webhooks: [plugin(post, done)],
  });
  await until(() => done.n >= N);
  const deliveryRate = N / ((performance.now() - started) / 1000);
  if (worker.monitor.getWebhookStats('bench').successCount < N) throw new Error('bench: deliveries missing');
  await worker.close({ drainMs: 0 });
  await producer.close({ drainMs: 0 });
  await deleteKeys(prefix);
  return [enqueueRate, deliveryRate];
}

/** The in-memory queue, same plugin: emit N, flush. */
async function memory(post: (body: string) => Promise<number>): Promise<number> {
  const done = { n: 0 };
  const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [plugin(post, done)] });
  const started = performance.now();
  for (let i = 0; i < N; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  await empathy.flush();
  const rate = N / ((performance.now() - started) / 1000);
  await empathy.close();
  return rate;
}

export default async function bullmq(): Promise<BenchRow[]> {
  const sink = await startSink();
  const pool = new Pool(sink.url, { connections: CONCURRENCY, keepAliveTimeout: 30_000 });
  const post = poster(pool);
  try {
    await memory(post); // warm-up: JIT, sockets
    const results = {
      bare: [] as [number, number][],
      ours: [] as [number, number][],
      memory: [] as number[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      results.bare.push(await bare(post));
      results.ours.push(await ours(post));
      results.memory.push(await memory(post));
    }
    const deliveries = median(results.ours.map((r) => r[1]));
    const bareDeliveries = median(results.bare.map((r) => r[1]));
    // An enqueue run is short (a few hundred ms): pool the rounds (harmonic mean) rather than pick one.
    const pooled = (rates: number[]) => rates.length / rates.reduce((sum, rate) => sum + 1 / rate, 0);
    const enqueue = pooled(results.ours.map((r) => r[0]));
    const bareEnqueue = pooled(results.bare.map((r) => r[0]));
    const round = (x: number) => Math.round(x);
    return [
      {
        bench: 'bullmq queue',
        metric: `deliveries/s, 1 worker, concurrency ${CONCURRENCY}`,
        value: round(deliveries),
        unit: 'ops/s',
        baseline: round(bareDeliveries),
        ratio: deliveries / bareDeliveries,
        target: '>= 0.8x bare BullMQ worker',
      },
      {
        bench: 'bullmq queue',
        metric: 'enqueue/s (dispatch → Redis, 500 in flight)',
        value: round(enqueue),
        unit: 'ops/s',
        baseline: round(bareEnqueue),
        ratio: enqueue / bareEnqueue,
      },
      {
        bench: 'memory queue',
        metric: `deliveries/s, same plugin, concurrency ${CONCURRENCY} (for scale)`,
        value: round(median(results.memory)),
        unit: 'ops/s',
      },
    ];
  } finally {
    await pool.close();
    sink.stop();
  }
}
