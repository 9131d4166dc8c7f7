/**
 * (b) emit() cost with 3 subscribed webhooks: events/s enqueued.
 * (c) memory per backlogged job when the endpoint is dead (100k jobs).
 */
import { EmpathyOS } from '@empathy/os';
import type { WebhookPlugin } from '@empathy/webhooks-core';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { type BenchRow, startSink } from './lib.js';

/** A plugin whose deliveries never finish: jobs pile up behind it. */
const stuck = (name: string): WebhookPlugin => ({
  name,
  events: ['*'],
  retryPolicy: { timeoutSeconds: 600 },
  deliver: () => new Promise(() => {}),
});

async function emitRate(): Promise<number> {
  const M = 200_000;
  const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [stuck('a'), stuck('b'), stuck('c')] });
  const data = SAMPLE_DATA.alert;
  for (let i = 0; i < 10_000; i++) await empathy.emit('alert', data); // warm-up
  const started = performance.now();
  for (let i = 0; i < M; i++) await empathy.emit('alert', data);
  const rate = M / ((performance.now() - started) / 1000);
  await empathy.close({ drainMs: 0 });
  return rate;
}

async function bytesPerBackloggedJob(deadUrl: string): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc (pnpm bench does)');
  const JOBS = 100_000;
  const webhook = new CustomWebhook({
    name: 'dead',
    url: `${deadUrl}/hook`,
    allowPrivateNetwork: true,
    concurrency: 16,
  });
  const empathy = new EmpathyOS({ userId: 'developer_123', webhooks: [webhook] });
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < JOBS; i++) await empathy.emit('prediction', SAMPLE_DATA.prediction);
  gc();
  const after = process.memoryUsage().heapUsed;
  const pending = empathy.monitor.getWebhookStats('dead').pendingCount;
  if (pending < JOBS - 16) throw new Error(`bench: expected a backlog, got ${pending}`);
  await empathy.close({ drainMs: 0 });
  await webhook.close();
  return (after - before) / JOBS;
}

export default async function run(): Promise<BenchRow[]> {
  const dead = await startSink('hang');
  try {
    const emits = await emitRate();
    const perJob = await bytesPerBackloggedJob(dead.url);
    return [
      {
        bench: 'emit() with 3 subscribed webhooks',
        metric: 'events enqueued/s',
        value: Math.round(emits),
        unit: 'events/s',
        target: '>= 200k/s',
      },
      {
        bench: 'backlog, dead endpoint (100k jobs)',
        metric: 'heap per queued job',
        value: Math.round(perJob),
        unit: 'bytes',
      },
    ];
  } finally {
    dead.stop();
  }
}
