/**
 * A worker process: delivers what producers put in Redis. Run as many as you like, anywhere that
 * reaches the same Redis:
 *
 *   SINK_URL=http://127.0.0.1:8080 WORKER_ID=w1 npx tsx examples/distributed/worker.ts
 */
import { BullMQQueue, startWorker } from '@empathy/webhooks-queue-bullmq';
import { PREFIX, REDIS_URL, webhooks } from './webhooks.js';

const sinkUrl = process.env.SINK_URL ?? 'http://127.0.0.1:8080';
const workerId = process.env.WORKER_ID ?? `worker-${process.pid}`;

const worker = startWorker({
  queue: new BullMQQueue({ connection: { url: REDIS_URL }, prefix: PREFIX }),
  webhooks: webhooks(sinkUrl, workerId),
});
await worker.ready();
process.send?.({ ready: workerId });
console.log(`[${workerId}] delivering from ${PREFIX} on ${new URL(REDIS_URL).host}`);

// Stop taking jobs, finish the ones in flight; the rest stays in Redis for the other workers.
const stop = async () => {
  await worker.close({ drainMs: 0 });
  const stats = worker.monitor.getWebhookStats('alerts');
  console.log(`[${workerId}] stopped after ${stats.successCount} deliveries (${stats.retriedCount} retries)`);
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
// Started by index.ts: stop with it.
process.once('disconnect', stop);
