import type { TraceCarrier } from '@empathy/webhooks-core';
import type { DeliveryJob, JobOutcome } from '@empathy/webhooks-core/queue';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteQueue } from '../src/index.js';
import { MIGRATIONS } from '../src/schema.js';
import { job, peek, recordingHandler, tempDb } from './helpers.js';

const TRACE: TraceCarrier = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
};

const open: SqliteQueue[] = [];
const queue = (path: string) => {
  const q = new SqliteQueue({ path, pollMs: 20 });
  open.push(q);
  return q;
};
afterEach(async () => {
  for (const q of open.splice(0)) await q.close({ drainMs: 0 });
});

/** Runs every job in the file through `decide` until the file is empty; returns the jobs seen. */
async function drain(path: string, decide: (job: DeliveryJob) => JobOutcome) {
  const q = queue(path);
  const seen: DeliveryJob[] = [];
  q.consume(
    recordingHandler((j) => {
      seen.push(structuredClone(j));
      return decide(j);
    }).handler,
  );
  await q.idle();
  return { q, seen };
}

it('keeps a job’s trace context through a restart, a retry, its dead letter and a replay', async () => {
  const path = tempDb();
  const first = queue(path);
  await first.enqueue([
    job('a', 1, { trace: TRACE }),
    job('a', 2, { trace: { traceparent: TRACE.traceparent } }),
  ]);
  await first.close();

  let calls = 0;
  const { q, seen } = await drain(path, (j) => {
    calls++;
    if (j.event.event_id === 'evt_2') return { kind: 'delivered', receipt: {} };
    return j.attempt === 0
      ? {
          kind: 'retry',
          at: Date.now(),
          error: { name: 'WebhookDeliveryError', message: 'HTTP 503', status: 503 },
        }
      : {
          kind: 'dead',
          attempts: 2,
          error: { name: 'WebhookDeliveryError', message: 'HTTP 400', status: 400 },
        };
  });
  expect(calls).toBe(3);
  expect(seen.map((j) => [j.event.event_id, j.attempt, j.trace])).toEqual([
    ['evt_1', 0, TRACE],
    ['evt_2', 0, { traceparent: TRACE.traceparent }],
    ['evt_1', 1, TRACE],
  ]);
  const [letter] = await q.deadLetters.list();
  expect(letter).toMatchObject({ id: 'evt_1:a', trace: TRACE });
  expect(await q.deadLetters.get('evt_1:a')).toMatchObject({ trace: TRACE });
  expect(await q.deadLetters.countByWebhook!()).toEqual({ a: 1 });
  await q.close();

  const replayer = queue(path);
  expect(await replayer.deadLetters.replay('evt_1:a')).toBe(true);
  await replayer.close();
  const { seen: replayed } = await drain(path, () => ({ kind: 'delivered', receipt: {} }));
  expect(replayed.map((j) => [j.id, j.attempt, j.trace])).toEqual([['evt_1:a', 0, TRACE]]);
});

it('stores no trace for a job without one', async () => {
  const path = tempDb();
  const q = queue(path);
  await q.enqueue([job('a', 1)]);
  expect(peek(path, 'SELECT traceparent, tracestate FROM jobs')).toEqual([
    { traceparent: null, tracestate: null },
  ]);
  await q.close();
  const { seen } = await drain(path, () => ({ kind: 'delivered', receipt: {} }));
  expect(seen).toHaveLength(1);
  expect('trace' in seen[0]!).toBe(false);
});

it('migrates a file written by the previous version: its jobs are delivered, new ones carry a trace', async () => {
  const path = tempDb();
  // A version-1 file with a job waiting, as the previous release left it.
  const old = new Database(path);
  old.exec(MIGRATIONS[0]!);
  old.pragma('user_version = 1');
  old
    .prepare(
      `INSERT INTO jobs (id, webhook, event_id, event, attempt, available_at, enqueued_at) VALUES (?, ?, ?, ?, 0, ?, ?)`,
    )
    .run('evt_old:a', 'a', 'evt_old', JSON.stringify(job('a', 0).event), Date.now(), Date.now());
  old.close();

  const q = queue(path);
  await q.enqueue([job('a', 9, { trace: TRACE })]);
  const db = new Database(path, { readonly: true });
  expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
  db.close();
  await q.close();
  const { seen } = await drain(path, () => ({ kind: 'delivered', receipt: {} }));
  expect(seen.map((j) => [j.id, j.trace])).toEqual([
    ['evt_old:a', undefined],
    ['evt_9:a', TRACE],
  ]);
});
