/**
 * Distributed delivery with BullMQ: one producer and two worker processes share the local Redis
 * (127.0.0.1:6379) and deliver to a local fake receiver. The receiver fails the first two
 * requests (503) to show retries running as delayed jobs. No credentials, no network.
 *
 *   npx tsx examples/distributed/index.ts
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { produce } from './producer.js';

const EVENTS = 30;

const sink = await createFakeServer();
sink.respondNext({ status: 503 }, { status: 503 });

const workers: ChildProcess[] = ['worker-1', 'worker-2'].map((id) =>
  fork(fileURLToPath(new URL('./worker.ts', import.meta.url)), {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, SINK_URL: sink.url, WORKER_ID: id },
  }),
);
await Promise.all(workers.map((w) => new Promise((resolve) => w.once('message', resolve))));

const ids = await produce(sink.url, EVENTS);

const delivered = sink.requests.filter(
  (r) => r.status === 200 && ids.includes(r.headers['webhook-id'] as string),
);
const byWorker = new Map<string, number>();
for (const r of delivered)
  byWorker.set(r.headers['x-worker'] as string, (byWorker.get(r.headers['x-worker'] as string) ?? 0) + 1);
console.log(
  `\nreceiver: ${sink.requests.length} requests, ${new Set(delivered.map((r) => r.headers['webhook-id'])).size}/${EVENTS} events delivered`,
);
for (const [worker, count] of byWorker) console.log(`  ${worker}: ${count} deliveries`);
console.log(`  retried after 503: ${sink.requests.filter((r) => r.status === 503).length}`);
const sample = delivered[0]!;
console.log('\nwhat arrived (first delivery):');
console.log(
  `  POST ${sample.path}  webhook-id: ${sample.headers['webhook-id']}  x-worker: ${sample.headers['x-worker']}`,
);
console.log(`  ${sample.body.slice(0, 160)}…`);

await Promise.all(
  workers.map((w) => {
    w.kill('SIGTERM');
    return new Promise((resolve) => w.once('exit', resolve));
  }),
);
await sink.close();
