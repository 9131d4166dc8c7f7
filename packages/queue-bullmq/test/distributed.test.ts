import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Dispatcher } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, sampleEvent } from '@empathy/webhooks-core/testing';
import { QueueEvents } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BullMQQueue } from '../src/index.js';
import { CONCURRENCY, distributedWebhooks, LIMIT_PER_MINUTE } from './fixtures/webhooks.js';
import { deleteKeys, httpWebhook, REDIS, uniquePrefix, waitFor } from './helpers.js';

const EVENTS = 5000;
const LIMITED_EVENTS = LIMIT_PER_MINUTE + 10;
const prefix = uniquePrefix();
let sink: FakeServer;
/** Distinct bulk event ids the sink received, counted as they arrive. */
const distinct = new Set<string>();
const workers = new Map<string, ChildProcess>();

function startWorkerProcess(id: string): Promise<ChildProcess> {
  const child = fork(fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PREFIX: prefix, SINK_URL: sink.url, WORKER_ID: id },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  workers.set(id, child);
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`worker ${id} exited early (${code})`)));
  });
}

beforeAll(async () => {
  sink = await createFakeServer((request) => {
    const id = String(request.headers['webhook-id']);
    if (id.startsWith('evt_dist_')) distinct.add(id);
    return { status: 200 };
  });
});
afterAll(async () => {
  for (const child of workers.values())
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await sink?.close();
  await deleteKeys(prefix);
});

it(`three worker processes deliver ${EVENTS} events, share one rate limit, and lose nothing when one is killed`, async () => {
  await Promise.all(['w1', 'w2', 'w3'].map(startWorkerProcess));
  const producer = new Dispatcher({
    webhooks: distributedWebhooks((options) => httpWebhook(sink.url, options)),
    queue: new BullMQQueue({ connection: REDIS, prefix }),
  });

  const ids = Array.from({ length: EVENTS }, (_, i) => `evt_dist_${i}`);
  for (let i = 0; i < EVENTS; i += 500) {
    await Promise.all(
      ids
        .slice(i, i + 500)
        .map((eventId, j) => producer.dispatch(sampleEvent('alert', { message: `#${i + j}` }, { eventId }))),
    );
  }
  for (let i = 0; i < LIMITED_EVENTS; i++) {
    await producer.dispatch(sampleEvent('prediction', {}, { eventId: `evt_limited_${i}` }));
  }

  const bulk = () => sink.requests.filter((r) => String(r.headers['webhook-id']).startsWith('evt_dist_'));
  // BullMQ reports the jobs it takes back from a dead worker as 'stalled'.
  const events = new QueueEvents('webhook.bulk', { connection: REDIS, prefix });
  await events.waitUntilReady();
  const recovered = new Set<string>();
  events.on('stalled', ({ jobId }) => recovered.add(jobId));

  await waitFor(() => distinct.size >= EVENTS * 0.3, 30_000, 'a third of the deliveries');
  workers.get('w2')!.kill('SIGKILL');

  await waitFor(() => distinct.size === EVENTS, 60_000, 'every event');
  const delivered = bulk().map((r) => r.headers['webhook-id'] as string);
  expect(new Set(delivered)).toEqual(new Set(ids));
  const duplicates = delivered.length - EVENTS;
  // At-least-once: only the attempts in flight in the killed worker may arrive twice.
  expect(duplicates).toBeLessThanOrEqual(CONCURRENCY);
  const byWorker = new Set(bulk().map((r) => r.headers['x-worker']));
  expect(byWorker).toEqual(new Set(['w1', 'w2', 'w3']));
  await waitFor(async () => (await producer.queue.pending?.('bulk')) === 0, 10_000, 'the bulk lane to drain');
  expect(recovered.size, 'the killed worker had jobs in flight, and they were taken back').toBeGreaterThan(0);
  expect(recovered.size).toBeLessThanOrEqual(CONCURRENCY);
  await events.close();

  // The limited webhook: three workers together sent the per-minute limit at once and no more
  // in any minute; the rest wait in Redis for the window to move (neither dropped nor dead).
  const limited = sink.requests
    .filter((r) => String(r.headers['webhook-id']).startsWith('evt_limited_'))
    .map((r) => r.receivedAt);
  const firstWindow = limited.filter((at) => at < limited[0]! + 60_000);
  expect(firstWindow).toHaveLength(LIMIT_PER_MINUTE);
  for (let i = 0; i + LIMIT_PER_MINUTE < limited.length; i++) {
    expect(limited[i + LIMIT_PER_MINUTE]! - limited[i]!).toBeGreaterThanOrEqual(59_000);
  }
  expect(await producer.queue.pending?.('limited')).toBe(LIMITED_EVENTS - limited.length);
  expect(await producer.deadLetters.list()).toEqual([]);

  await producer.close({ drainMs: 0 });
}, 120_000);
