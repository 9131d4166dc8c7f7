/**
 * What one CustomWebhook delivery costs the client, in figures a loaded machine moves less than
 * throughput: CPU time (`process.cpuUsage`, GC included), GC pause time, and (with a young
 * generation too large to fill, see below) bytes allocated per delivery. Each round sends a fixed
 * number of the http suite's events (c=64, monitor on, loopback sink).
 *
 * With `BENCH_BASE=/path/to/other/checkout` (built), that checkout's `@empathy/os` and
 * `@empathy/webhooks-http` run in the same process, rounds alternating with this one's, so both
 * see the same load; the last column is this build ÷ the base.
 *
 *   node --expose-gc --import tsx bench/delivery-cost.ts [signed|unsigned] [per round] [rounds]
 *   # bytes allocated per delivery: no GC may happen inside a round
 *   node --expose-gc --max-semi-space-size=256 --min-semi-space-size=256 --import tsx bench/delivery-cost.ts
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';
import * as thisOs from '@empathy/os';
import { SAMPLE_DATA } from '@empathy/webhooks-core/fakes';
import * as thisHttp from '@empathy/webhooks-http';
import { startSink } from './lib.js';

const mode = process.argv[2] ?? 'signed';
const N = Number(process.argv[3] ?? 4000);
const ROUNDS = Number(process.argv[4] ?? 5);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

let gcCount = 0;
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    gcCount++;
    gcMs += entry.duration;
  }
}).observe({ entryTypes: ['gc'] });

interface Build {
  label: string;
  emit: () => Promise<unknown>;
  flush: () => Promise<void>;
  delivered: () => number;
  close: () => Promise<void>;
  cpu: number[];
  gc: number[];
  bytes: number[];
}

const sink = await startSink('ok');

async function build(label: string, os: typeof thisOs, http: typeof thisHttp): Promise<Build> {
  const webhook = new http.CustomWebhook({
    name: 'bench',
    url: `${sink.url}/hook`,
    ...(mode === 'signed' ? { signingSecret: 'whsec_YmVuY2gtc2lnbmluZy1zZWNyZXQtMTIzNDU2Nzg5MA==' } : {}),
    concurrency: 64,
    allowPrivateNetwork: true,
  });
  const empathy = new os.EmpathyOS({ userId: 'developer_123', webhooks: [webhook] });
  return {
    label,
    emit: () => empathy.emit('prediction', SAMPLE_DATA.prediction),
    flush: () => empathy.flush(),
    delivered: () => empathy.monitor.getWebhookStats('bench').successCount,
    close: () => empathy.close(),
    cpu: [],
    gc: [],
    bytes: [],
  };
}

const builds = [await build('this build', thisOs, thisHttp)];
const base = process.env.BENCH_BASE;
if (base) {
  const from = (path: string) => import(pathToFileURL(`${base}/${path}`).href);
  builds.push(
    await build(base, await from('packages/os/dist/index.js'), await from('packages/http/dist/index.js')),
  );
}

async function deliveries(b: Build, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await b.emit();
  await b.flush();
}
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

for (const b of builds) await deliveries(b, N); // warm-up: JIT, pooled connections
for (let round = 0; round < ROUNDS; round++) {
  for (const b of round % 2 === 0 ? builds : [...builds].reverse()) {
    gc();
    gc();
    await settle(); // GC entries arrive asynchronously: count the forced ones before the round
    const gcsBefore = gcCount;
    const gcMsBefore = gcMs;
    const heapBefore = v8.getHeapStatistics().used_heap_size;
    const cpuBefore = process.cpuUsage();
    await deliveries(b, N);
    const used = process.cpuUsage(cpuBefore);
    const heapAfter = v8.getHeapStatistics().used_heap_size;
    await settle();
    b.cpu.push((used.user + used.system) / N);
    b.gc.push(((gcMs - gcMsBefore) * 1000) / N);
    b.bytes.push(gcCount === gcsBefore ? (heapAfter - heapBefore) / N : Number.NaN);
  }
}
const med = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
for (const b of builds) {
  if (b.delivered() !== N * (ROUNDS + 1)) throw new Error(`${b.label}: only ${b.delivered()} delivered`);
  const bytes = med(b.bytes);
  console.log(
    `${b.label}, ${mode}: client CPU ${med(b.cpu).toFixed(1)} µs/delivery [${b.cpu.map((v) => v.toFixed(0)).join(' ')}], ` +
      `GC ${med(b.gc).toFixed(1)} µs/delivery` +
      (Number.isNaN(bytes) ? '' : `, heap ${Math.round(bytes)} B/delivery`),
  );
}
if (builds.length === 2) {
  const ratio = builds[0]!.cpu.map((cpu, i) => cpu / builds[1]!.cpu[i]!);
  console.log(
    `this build ÷ base, client CPU per delivery: ${med(ratio).toFixed(2)}x [${ratio.map((r) => r.toFixed(2)).join(' ')}]`,
  );
}
for (const b of builds) await b.close();
sink.stop();
process.exit(0);
