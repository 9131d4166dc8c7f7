/**
 * SqliteQueue vs the in-memory queue, side by side in one run: end-to-end deliveries per second
 * (emit → queue → POST to a loopback sink in another process → acknowledged), plus the cost of
 * one durable emit. Run alone:
 *   npx tsx -e "import('./bench/sqlite.ts').then(async m => console.table(await m.default()))"
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmpathyOS } from '@empathy/os';
import { type DeliveryQueue, WebhookDeliveryError, type WebhookPlugin } from '@empathy/webhooks-core';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { Pool } from 'undici';

/** One figure of `pnpm bench`. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  target?: string;
}

const EVENTS = 20_000;
const BURST = 500;
const CONCURRENCY = 64;
const ROUNDS = 2;

/** A loopback HTTP sink in its own process, so it does not share the event loop being measured. */
async function startSink(): Promise<{ origin: string; stop: () => void }> {
  const code = `
    const http = require('node:http');
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); });
    });
    server.keepAliveTimeout = 60000;
    server.listen(0, '127.0.0.1', () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { origin: `http://127.0.0.1:${port}`, stop: () => child.kill() };
}

/** The same minimal HTTP integration for both queues: one undici POST per attempt. */
function sinkPlugin(origin: string): WebhookPlugin {
  const pool = new Pool(origin, { connections: CONCURRENCY });
  return {
    name: 'sink',
    events: ['*'],
    concurrency: CONCURRENCY,
    circuitBreaker: false,
    async deliver(event, ctx) {
      const { statusCode, body } = await pool.request({
        path: '/hook',
        method: 'POST',
        headers: ['content-type', 'application/json', 'webhook-id', event.event_id],
        body: JSON.stringify(event),
        signal: ctx.signal,
      });
      await body.dump();
      if (statusCode >= 300)
        throw new WebhookDeliveryError(`HTTP ${statusCode}`, { webhook: 'sink', status: statusCode });
      return { status: statusCode };
    },
    close: () => pool.close(),
  };
}

/** Emits `count` events in bursts and waits until all are delivered; returns deliveries/s. */
async function endToEnd(origin: string, queue: DeliveryQueue | undefined, count: number): Promise<number> {
  const empathy = new EmpathyOS({ userId: 'bench', webhooks: [sinkPlugin(origin)], queue });
  const started = performance.now();
  for (let sent = 0; sent < count; sent += BURST) {
    const burst: Promise<unknown>[] = [];
    for (let i = sent; i < Math.min(sent + BURST, count); i++) {
      burst.push(
        empathy.emit('alert', { message: `bench alert ${i}`, source: 'bench' }, { severity: 'high' }),
      );
    }
    await Promise.all(burst);
  }
  await empathy.flush();
  const seconds = (performance.now() - started) / 1000;
  const { successCount } = empathy.monitor.getWebhookStats('sink');
  await empathy.close();
  if (successCount !== count) throw new Error(`bench: delivered ${successCount} of ${count}`);
  return count / seconds;
}

/** Median microseconds of one awaited emit() into the SQLite queue: a commit each, deliveries alongside. */
async function emitLatency(origin: string, path: string): Promise<number> {
  const empathy = new EmpathyOS({
    userId: 'bench',
    queue: new SqliteQueue({ path }),
    webhooks: [sinkPlugin(origin)],
  });
  const samples: number[] = [];
  for (let i = 0; i < 2_000; i++) {
    const t = performance.now();
    await empathy.emit('alert', { message: `latency ${i}` });
    samples.push((performance.now() - t) * 1000);
  }
  await empathy.flush();
  await empathy.close();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

export default async function (): Promise<BenchRow[]> {
  const sink = await startSink();
  const dir = mkdtempSync(join(tmpdir(), 'bench-sqlite-'));
  let file = 0;
  const sqlite = () => new SqliteQueue({ path: join(dir, `queue-${file++}.db`) });
  try {
    // Warm up both paths (JIT, connections), then alternate so that noise hits both alike.
    await endToEnd(sink.origin, undefined, 2_000);
    await endToEnd(sink.origin, sqlite(), 2_000);
    const memory: number[] = [];
    const durable: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      memory.push(await endToEnd(sink.origin, undefined, EVENTS));
      durable.push(await endToEnd(sink.origin, sqlite(), EVENTS));
    }
    const best = (xs: number[]) => Math.round(Math.max(...xs));
    const baseline = best(memory);
    const value = best(durable);
    const latency = await emitLatency(sink.origin, join(dir, 'latency.db'));
    return [
      { bench: 'memory queue', metric: 'end-to-end deliveries/s', value: baseline, unit: 'ops/s' },
      {
        bench: 'sqlite queue',
        metric: 'end-to-end deliveries/s',
        value,
        unit: 'ops/s',
        baseline,
        ratio: Math.round((value / baseline) * 100) / 100,
        target: '>= 0.5x memory queue',
      },
      {
        bench: 'sqlite queue',
        metric: 'awaited emit() p50 (one commit)',
        value: Math.round(latency),
        unit: 'µs',
      },
    ];
  } finally {
    sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
