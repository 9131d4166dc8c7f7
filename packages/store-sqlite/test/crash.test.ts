import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/testing';
import { afterEach, expect, it } from 'vitest';
import { peek, tempDb } from './helpers.js';

const TOTAL = 10_000;
const CONCURRENCY = 8;
const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const PACKAGE = fileURLToPath(new URL('..', import.meta.url));

const rand = (min: number, max: number) => min + Math.floor(Math.random() * (max - min));

interface Run {
  child: ChildProcess;
  /** Event ids whose emit resolved (the child said so before it died). */
  emitted: string[];
  /** Events emitted so far, over all runs. */
  emittedCount: number;
  done: boolean;
  exited: Promise<NodeJS.Signals | null>;
}

function start(path: string, sink: string, from: number, onLine: (run: Run) => void): Run {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, path, sink, String(from), String(TOTAL), String(CONCURRENCY)],
    { cwd: PACKAGE, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const run: Run = {
    child,
    emitted: [],
    emittedCount: from,
    done: false,
    exited: new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal))),
  };
  let buffered = '';
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop()!;
    for (const line of lines) {
      const [word, count, ...ids] = line.split(' ');
      if (word === 'emitted') {
        run.emittedCount = Number(count);
        run.emitted.push(...ids);
      } else if (word === 'done') run.done = true;
      onLine(run);
    }
  });
  return run;
}

let sinkServer: FakeServer | undefined;
let current: Run | undefined;
afterEach(async () => {
  current?.child.kill('SIGKILL');
  await sinkServer?.close();
});

it('loses no event when the process is SIGKILLed at random points and restarted', {
  timeout: 90_000,
}, async () => {
  const path = tempDb();
  const sink = await createFakeServer(() => ({ status: 200 }));
  sinkServer = sink;
  const emitted = new Set<string>();
  const plan = [
    // While emitting (deliveries run alongside).
    { when: 'emitted', at: rand(1_000, 5_000) },
    { when: 'emitted', at: rand(6_000, 9_500) },
    // While delivering the backlog, after everything is emitted: `at` requests into the run.
    { when: 'delivering', at: rand(200, 2_000) },
    { when: 'delivering', at: rand(100, 1_500) },
  ];
  const kills: { plan: (typeof plan)[number]; emitted: number; received: number }[] = [];
  let from = 0;

  for (let round = 0; ; round++) {
    expect(round, 'the child never finished').toBeLessThan(10);
    const step = plan[round];
    const receivedAtStart = sink.requests.length;
    let killTimer: NodeJS.Timeout | undefined;
    const shouldKill = (run: Run) =>
      step !== undefined &&
      !run.done &&
      (step.when === 'emitted'
        ? run.emittedCount >= step.at
        : run.emittedCount === TOTAL && sink.requests.length - receivedAtStart >= step.at);
    const kill = (run: Run) => {
      if (run.child.killed || run.child.exitCode !== null || !shouldKill(run)) return;
      clearInterval(killTimer);
      kills.push({ plan: step!, emitted: run.emittedCount, received: sink.requests.length });
      run.child.kill('SIGKILL');
    };
    const run = start(path, sink.url, from, kill);
    current = run;
    // Deliveries progress without output from the child: watch the sink too.
    killTimer = setInterval(() => kill(run), 2);
    const signal = await run.exited;
    clearInterval(killTimer);
    for (const id of run.emitted) emitted.add(id);
    from = run.emittedCount;
    if (signal === null) {
      expect(run.done, `the child exited with code ${run.child.exitCode} before it was done`).toBe(true);
      break;
    }
    expect(signal).toBe('SIGKILL');
  }

  const context = JSON.stringify(kills);
  expect(kills.length, context).toBeGreaterThanOrEqual(3);
  const received = new Map<string, number>();
  const seqs = new Set<number>();
  for (const request of sink.requests) {
    const event = request.json();
    received.set(event.event_id, (received.get(event.event_id) ?? 0) + 1);
    seqs.add(event.data.context.seq);
  }
  // Every event whose emit() resolved reached the sink…
  const missing = [...emitted].filter((id) => !received.has(id));
  expect(missing, context).toEqual([]);
  // …and every one of the 10,000 was emitted (a batch emitted but unreported before a kill is
  // emitted again under new ids: both are delivered, as events in their own right).
  expect(seqs.size).toBe(TOTAL);
  expect(emitted.size).toBeGreaterThanOrEqual(TOTAL);
  // Duplicates come only from deliveries in flight when a process died.
  let duplicates = 0;
  for (const count of received.values()) duplicates += count - 1;
  expect(duplicates, context).toBeLessThanOrEqual(CONCURRENCY * kills.length);
  // Nothing is left in the file.
  expect(peek(path, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 0 }]);
  expect(peek(path, 'SELECT count(*) AS n FROM dead_letters')).toEqual([{ n: 0 }]);
  console.log(
    `crash test: ${kills.length} kills at ${context}; ${sink.requests.length} requests, ${duplicates} duplicates`,
  );
});
