/**
 * `pnpm bench`: every benchmark in one run, side by side, printed as a table. Figures and the
 * machine they were measured on go into docs/benchmarks.md.
 *
 * Each suite runs in a process of its own, so that one suite's heap and JIT state (a backlog of
 * 600k jobs, code made polymorphic by other plugins) do not weigh on the next one's figures.
 * Within a suite, the runs being compared are interleaved in one process.
 */
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './lib.js';

const SUITES = ['http', 'emit', 'sqlite', 'bullmq', 'telemetry'];

/** In a child: runs one suite and sends its rows to the parent. */
async function runSuite(name: string): Promise<void> {
  const mod = (await import(`./${name}.ts`)) as { default: () => Promise<BenchRow[]> };
  const rows = await mod.default();
  await new Promise<void>((resolve, reject) =>
    process.send!(rows, (error: Error | null) => (error ? reject(error) : resolve())),
  );
}

/** In the parent: runs `name` in a child process (same node flags: --expose-gc, tsx). */
function inChild(name: string): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--suite', name], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let rows: BenchRow[] | undefined;
    child.once('message', (message) => (rows = message as BenchRow[]));
    child.once('error', reject);
    child.once('exit', (code) =>
      rows
        ? resolve(rows)
        : reject(new Error(`bench suite '${name}' exited with code ${code} before reporting`)),
    );
  });
}

if (process.argv[2] === '--suite') {
  await runSuite(process.argv[3]!);
  // Sinks and deliberately stuck deliveries may hold handles open; the rows are sent.
  process.exit(0);
}

const only = process.argv.slice(2);
const unknown = only.filter((name) => !SUITES.includes(name));
if (unknown.length > 0)
  throw new Error(`unknown bench suite ${unknown.join(', ')}: use ${SUITES.join(' | ')}`);
const rows: BenchRow[] = [];
console.log(
  `node ${process.version}, ${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
);
for (const name of SUITES) {
  if (only.length > 0 && !only.includes(name)) continue;
  if (!existsSync(new URL(`./${name}.ts`, import.meta.url))) continue;
  process.stdout.write(`running ${name}… `);
  const started = Date.now();
  rows.push(...(await inChild(name)));
  console.log(`${((Date.now() - started) / 1000).toFixed(1)} s`);
}
console.table(
  rows.map((r) => ({
    bench: r.bench,
    metric: r.metric,
    value: `${r.value.toLocaleString('en-US')} ${r.unit}`,
    baseline: r.baseline === undefined ? '' : `${r.baseline.toLocaleString('en-US')} ${r.unit}`,
    ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    target: r.target ?? '',
  })),
);
