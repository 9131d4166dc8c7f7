import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** One line of the benchmark table. Every bench file's default export returns a list of these. */
export interface BenchRow {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  target?: string;
}

/**
 * Starts the loopback sink in a child process; resolves with its URL and a stop function. `ok`
 * answers at once, `hang` never, `slow` after `delayMs`.
 */
export async function startSink(
  mode: 'ok' | 'hang' | 'slow' = 'ok',
  delayMs = 20,
): Promise<{ url: string; port: number; stop: () => void }> {
  const child: ChildProcess = fork(
    fileURLToPath(new URL('./sink.mjs', import.meta.url)),
    [mode, String(delayMs)],
    {
      stdio: 'ignore',
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m) => resolve((m as { port: number }).port));
    child.once('error', reject);
  });
  return { url: `http://127.0.0.1:${port}`, port, stop: () => child.kill() };
}

/** Median of a list of numbers. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}
