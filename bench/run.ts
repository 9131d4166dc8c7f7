/**
 * `pnpm bench`: every benchmark in one run, side by side, printed as a table. Figures and the
 * machine they were measured on go into docs/benchmarks.md.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import type { BenchRow } from './lib.js';

const suites = ['http', 'sqlite', 'bullmq'].filter((name) =>
  existsSync(new URL(`./${name}.ts`, import.meta.url)),
);
const only = process.argv.slice(2);
const rows: BenchRow[] = [];
console.log(
  `node ${process.version}, ${os.cpus().length}x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`,
);
for (const name of suites) {
  if (only.length > 0 && !only.includes(name)) continue;
  process.stdout.write(`running ${name}… `);
  const started = Date.now();
  const mod = (await import(`./${name}.ts`)) as { default: () => Promise<BenchRow[]> };
  rows.push(...(await mod.default()));
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
// Sinks and deliberately stuck deliveries may hold handles open; the figures are printed.
process.exit(0);
