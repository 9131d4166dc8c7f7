import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { isWebhookConfigError } from '@empathy/webhooks-core';
import type { JobOutcome } from '@empathy/webhooks-core/queue';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SCHEMA_VERSION, SqliteQueue } from '../src/index.js';
import { job, peek, recordingHandler, sleep, tempDb } from './helpers.js';

const open: SqliteQueue[] = [];
const queue = (options: ConstructorParameters<typeof SqliteQueue>[0]) => {
  const q = new SqliteQueue(options);
  open.push(q);
  return q;
};
afterEach(async () => {
  for (const q of open.splice(0)) await q.close({ drainMs: 0 });
});

const delivered: JobOutcome = { kind: 'delivered', receipt: { status: 200 } };

describe('SqliteQueue: storing', () => {
  it('has the jobs in the file when enqueue resolves', async () => {
    const path = tempDb();
    const q = queue({ path });
    await Promise.all([q.enqueue([job('a', 1), job('b', 1)]), q.enqueue([job('a', 2)])]);
    const rows = peek<{ id: string; attempt: number; lease_until: number }>(
      path,
      'SELECT id, attempt, lease_until FROM jobs ORDER BY seq',
    );
    expect(rows).toEqual([
      { id: 'evt_1:a', attempt: 0, lease_until: 0 },
      { id: 'evt_1:b', attempt: 0, lease_until: 0 },
      { id: 'evt_2:a', attempt: 0, lease_until: 0 },
    ]);
    expect(await q.pending()).toBe(3);
    expect(await q.pending('a')).toBe(2);
    expect(await q.pendingByWebhook()).toEqual({ a: 2, b: 1 });
  });

  it('stores the event as sent, so a restart delivers the same envelope', async () => {
    const path = tempDb();
    const first = queue({ path });
    const original = job('a', 7);
    await first.enqueue([original]);
    await first.close();
    const second = queue({ path });
    const seen: unknown[] = [];
    second.consume(
      recordingHandler((j) => {
        seen.push(j.event);
        return delivered;
      }).handler,
    );
    await second.idle();
    expect(seen).toEqual([original.event]);
  });

  it('uses WAL and records its schema version', async () => {
    const path = tempDb();
    const q = queue({ path });
    await q.enqueue([job('a', 1)]);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });

  it('refuses a file written by a newer version, naming the path option', async () => {
    const path = tempDb();
    const db = new Database(path);
    db.pragma('user_version = 99');
    db.close();
    const q = queue({ path });
    const error = await q.enqueue([job('a', 1)]).catch((e: unknown) => e);
    expect(isWebhookConfigError(error)).toBe(true);
    expect((error as Error).message).toMatch(/option 'path'.*schema version 99/);
  });

  it('rejects invalid options at construction, naming the option', () => {
    const bad: [unknown, RegExp][] = [
      [undefined, /options must be an object/],
      [{}, /option 'path'/],
      [{ path: '' }, /option 'path'/],
      [{ path: 'x.db', leaseMs: -1 }, /option 'leaseMs' must be an integer >= 100/],
      [{ path: 'x.db', pollMs: 1.5 }, /option 'pollMs'/],
      [{ path: 'x.db', deliveredRetentionMs: -5 }, /option 'deliveredRetentionMs'/],
      [{ path: 'x.db', batchSize: 0 }, /option 'batchSize'/],
      [{ path: 'x.db', synchronous: 'off' }, /option 'synchronous' must be 'normal' or 'full'/],
    ];
    for (const [options, message] of bad) {
      let thrown: unknown;
      try {
        new SqliteQueue(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(isWebhookConfigError(thrown), String(message)).toBe(true);
      expect((thrown as Error).message).toMatch(message);
    }
  });

  it('reports a file it cannot open as a config error on the path option', async () => {
    const q = queue({ path: join(tempDb(), 'no', 'such', 'dir', 'q.db') });
    expect(() => q.consume(recordingHandler().handler)).toThrow(/SqliteQueue: cannot open option 'path'/);
  });
});

describe('SqliteQueue: running jobs', () => {
  it('runs each lane in arrival order, within its concurrency, lanes independently', async () => {
    const q = queue({ path: tempDb(), batchSize: 8 });
    const { handler, handled, maxInFlight } = recordingHandler(
      async (j) => {
        await sleep(j.webhook === 'slow' ? 20 : 1);
        return delivered;
      },
      (webhook) => (webhook === 'slow' ? 1 : 3),
    );
    q.consume(handler);
    const jobs = [];
    for (let n = 0; n < 30; n++) jobs.push(job('fast', n));
    for (let n = 0; n < 5; n++) jobs.push(job('slow', n));
    await q.enqueue(jobs);
    await q.idle();
    expect(maxInFlight.get('fast')).toBe(3);
    expect(maxInFlight.get('slow')).toBe(1);
    const order = (w: string) => handled.filter((h) => h.webhook === w).map((h) => h.id);
    expect(order('slow')).toEqual([0, 1, 2, 3, 4].map((n) => `evt_${n}:slow`));
    expect(order('fast')).toHaveLength(30);
    // The slow lane does not hold the fast one back.
    const lastFast = Math.max(...handled.filter((h) => h.webhook === 'fast').map((h) => h.at));
    const lastSlow = Math.max(...handled.filter((h) => h.webhook === 'slow').map((h) => h.at));
    expect(lastFast).toBeLessThan(lastSlow);
    expect(await q.pending()).toBe(0);
  });

  it('retries at the given time with the attempt counted and the error stored in the file', async () => {
    const path = tempDb();
    const q = queue({ path });
    let calls = 0;
    const { handler, handled } = recordingHandler(() =>
      calls++ === 0
        ? {
            kind: 'retry',
            at: Date.now() + 300,
            error: { name: 'WebhookDeliveryError', message: '[a] HTTP 503', status: 503 },
          }
        : delivered,
    );
    q.consume(handler);
    await q.enqueue([job('a', 1)]);
    await sleep(150);
    const [row] = peek<{ attempt: number; last_error: string; lease_until: number }>(
      path,
      'SELECT attempt, last_error, lease_until FROM jobs',
    );
    expect(row).toMatchObject({ attempt: 1, lease_until: 0 });
    expect(JSON.parse(row!.last_error)).toEqual({
      name: 'WebhookDeliveryError',
      message: '[a] HTTP 503',
      status: 503,
    });
    await q.idle();
    expect(handled.map((h) => h.attempt)).toEqual([0, 1]);
    expect(handled[1]!.at - handled[0]!.at).toBeGreaterThanOrEqual(290);
  });

  it('defer pauses the lane until the given time and the job keeps its place', async () => {
    const q = queue({ path: tempDb() });
    let deferred = false;
    let reopenAt = 0;
    const { handler, handled } = recordingHandler((j) => {
      if (!deferred && j.id === 'evt_1:a') {
        deferred = true;
        reopenAt = Date.now() + 200;
        return { kind: 'defer', at: reopenAt, reason: 'rate_limit' };
      }
      return delivered;
    }, 1);
    q.consume(handler);
    await q.enqueue([job('a', 1), job('a', 2), job('a', 3), job('b', 1)]);
    await q.idle();
    expect(handled.filter((h) => h.webhook === 'a').map((h) => h.id)).toEqual([
      'evt_1:a',
      'evt_1:a',
      'evt_2:a',
      'evt_3:a',
    ]);
    // No attempt was spent, and nothing in lane 'a' ran before it reopened; lane 'b' did not wait.
    expect(handled.filter((h) => h.id === 'evt_1:a').map((h) => h.attempt)).toEqual([0, 0]);
    for (const h of handled.filter((h) => h.webhook === 'a').slice(1))
      expect(h.at).toBeGreaterThanOrEqual(reopenAt - 5);
    expect(handled.find((h) => h.webhook === 'b')!.at).toBeLessThan(reopenAt - 100);
  });

  it('idle() waits for retries and for jobs from a previous run', async () => {
    const path = tempDb();
    const first = queue({ path });
    await first.enqueue([job('a', 1), job('a', 2)]);
    await first.close();
    const q = queue({ path });
    let retried = false;
    const { handler, handled } = recordingHandler(() => {
      if (!retried) {
        retried = true;
        return { kind: 'retry', at: Date.now() + 100, error: { name: 'Error', message: 'x' } };
      }
      return delivered;
    });
    q.consume(handler);
    await q.idle();
    expect(handled).toHaveLength(3);
    expect(await q.pending()).toBe(0);
  });

  it('close() stops at the deadline, commits what finished and hands the rest back', async () => {
    const path = tempDb();
    const q = queue({ path, batchSize: 10 });
    const { handler, handled } = recordingHandler(async () => {
      await sleep(100);
      return delivered;
    }, 2);
    q.consume(handler);
    await q.enqueue([1, 2, 3, 4, 5, 6].map((n) => job('a', n)));
    // 1 and 2 finish at ~100 ms; 3 and 4 start then and are cut off at the 150 ms deadline.
    await q.close({ drainMs: 150 });
    expect(handled.map((h) => h.id)).toEqual(['evt_1:a', 'evt_2:a', 'evt_3:a', 'evt_4:a']);
    const rows = peek<{ id: string; lease_until: number }>(
      path,
      'SELECT id, lease_until FROM jobs ORDER BY seq',
    );
    expect(rows).toEqual([3, 4, 5, 6].map((n) => ({ id: `evt_${n}:a`, lease_until: 0 })));
    await sleep(100); // the cut-off attempts end after close: nothing is written then.
    expect(peek(path, 'SELECT count(*) AS n FROM jobs')).toEqual([{ n: 4 }]);
    const next = queue({ path });
    const second = recordingHandler();
    next.consume(second.handler);
    await next.idle();
    expect(second.handled.map((h) => h.id)).toEqual([3, 4, 5, 6].map((n) => `evt_${n}:a`));
  });

  it('close() drains pending work within drainMs', async () => {
    const q = queue({ path: tempDb() });
    const { handler, handled } = recordingHandler(async () => {
      await sleep(5);
      return delivered;
    }, 2);
    q.consume(handler);
    await q.enqueue([1, 2, 3, 4, 5, 6].map((n) => job('a', n)));
    await q.close({ drainMs: 2000 });
    expect(handled).toHaveLength(6);
  });
});

describe('SqliteQueue: crashes and leases', () => {
  it('takes over at once the jobs leased by a process of this machine that died', async () => {
    const path = tempDb();
    const first = queue({ path });
    await first.enqueue([job('a', 1), job('a', 2)]);
    await first.close();
    // A process that leased both jobs for an hour, then died.
    const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
    const owner = `${(await import('node:os')).hostname()}:${dead.stdout.trim()}:deadbeef`;
    const db = new Database(path);
    db.prepare('UPDATE jobs SET lease_owner = ?, lease_until = ?').run(owner, Date.now() + 3_600_000);
    db.close();
    const q = queue({ path });
    const { handler, handled } = recordingHandler();
    q.consume(handler);
    await q.idle();
    expect(handled.map((h) => h.id)).toEqual(['evt_1:a', 'evt_2:a']);
  });

  it('takes over jobs whose lease expired (a process elsewhere stopped renewing)', async () => {
    const path = tempDb();
    const first = queue({ path });
    await first.enqueue([job('a', 1)]);
    await first.close();
    const db = new Database(path);
    const leasedUntil = Date.now() + 400;
    db.prepare('UPDATE jobs SET lease_owner = ?, lease_until = ?').run('other-host:1234:cafe', leasedUntil);
    db.close();
    const q = queue({ path, pollMs: 50 });
    const { handler, handled } = recordingHandler();
    q.consume(handler);
    await q.idle();
    expect(handled).toHaveLength(1);
    expect(handled[0]!.at).toBeGreaterThanOrEqual(leasedUntil);
  });

  it('renews the leases of slow deliveries, so no other process takes them over', async () => {
    const path = tempDb();
    const q = queue({ path, leaseMs: 150, pollMs: 20 });
    const { handler } = recordingHandler(async () => {
      await sleep(600);
      return delivered;
    }, 1);
    q.consume(handler);
    await q.enqueue([job('a', 1)]);
    await sleep(400);
    const [row] = peek<{ lease_until: number }>(path, 'SELECT lease_until FROM jobs');
    expect(row!.lease_until).toBeGreaterThan(Date.now());
    // A second process on the same file finds nothing to take.
    const other = queue({ path, pollMs: 20 });
    const second = recordingHandler();
    other.consume(second.handler);
    await sleep(100);
    expect(second.handled).toHaveLength(0);
    await q.idle();
  });

  it('two processes on one file deliver every job once between them', async () => {
    const path = tempDb();
    const a = queue({ path, pollMs: 20, batchSize: 4 });
    const b = queue({ path, pollMs: 20, batchSize: 4 });
    const slow = async () => {
      await sleep(2);
      return delivered;
    };
    const ra = recordingHandler(slow, 2);
    const rb = recordingHandler(slow, 2);
    a.consume(ra.handler);
    b.consume(rb.handler);
    const jobs = Array.from({ length: 60 }, (_, n) => job('w', n));
    await a.enqueue(jobs.slice(0, 30));
    await b.enqueue(jobs.slice(30));
    await Promise.all([a.idle(), b.idle()]);
    const ids = [...ra.handled, ...rb.handled].map((h) => h.id).sort();
    expect(ids).toEqual(jobs.map((j) => j.id).sort());
    expect(ra.handled.length).toBeGreaterThan(0);
    expect(rb.handled.length).toBeGreaterThan(0);
  });
});

describe('SqliteQueue: dead letters and delivery records', () => {
  const dead = (j: { webhook: string; attempt: number }): JobOutcome => ({
    kind: 'dead',
    error: { name: 'WebhookDeliveryError', message: `[${j.webhook}] HTTP 400`, status: 400 },
    attempts: j.attempt + 1,
  });

  it('persists dead letters; list, replay, replayAll, delete and clear work across restarts', async () => {
    const path = tempDb();
    const first = queue({ path });
    first.consume(recordingHandler(dead).handler);
    await first.enqueue([job('a', 1), job('a', 2), job('b', 3), job('b', 4)]);
    await first.idle();
    await first.close();

    let accept = false;
    const q = queue({ path });
    const { handler, handled } = recordingHandler((j) => (accept ? delivered : dead(j)));
    q.consume(handler);
    const letters = await q.deadLetters.list();
    expect(letters.map((l) => l.id)).toEqual(['evt_1:a', 'evt_2:a', 'evt_3:b', 'evt_4:b']);
    expect(letters[0]).toMatchObject({
      webhook: 'a',
      attempts: 1,
      error: { name: 'WebhookDeliveryError', message: '[a] HTTP 400', status: 400 },
      event: { event_id: 'evt_1', data: { message: 'alert 1' } },
    });
    expect(letters[0]!.failedAt).toBeGreaterThan(0);
    expect(await q.deadLetters.list({ webhook: 'b', limit: 1 })).toHaveLength(1);

    accept = true;
    expect(await q.deadLetters.replay('evt_1:a')).toBe(true);
    expect(await q.deadLetters.replay('evt_1:a')).toBe(false);
    await q.idle();
    expect(handled.map((h) => [h.id, h.attempt])).toEqual([['evt_1:a', 0]]);

    expect(await q.deadLetters.delete('evt_2:a')).toBe(true);
    expect(await q.deadLetters.delete('evt_2:a')).toBe(false);
    expect(await q.deadLetters.replayAll({ webhook: 'b' })).toBe(2);
    await q.idle();
    expect(handled.map((h) => h.id)).toEqual(['evt_1:a', 'evt_3:b', 'evt_4:b']);
    expect(await q.deadLetters.list()).toEqual([]);

    accept = false;
    await q.enqueue([job('c', 5), job('d', 6)]);
    await q.idle();
    expect(await q.deadLetters.clear({ webhook: 'c' })).toBe(1);
    expect(await q.deadLetters.clear()).toBe(1);
    expect(peek(path, 'SELECT * FROM dead_letters')).toEqual([]);
  });

  it('keeps a record of deliveries (no payload) and prunes it after the retention', async () => {
    const path = tempDb();
    const q = queue({ path, deliveredRetentionMs: 60_000 });
    q.consume(recordingHandler(() => delivered).handler);
    await q.enqueue([job('a', 1), job('b', 1)]);
    await q.idle();
    const records = await q.delivered();
    expect(records.map((r) => r.id).sort()).toEqual(['evt_1:a', 'evt_1:b']);
    expect(records[0]).toMatchObject({ eventId: 'evt_1', attempts: 1, status: 200 });
    expect(await q.delivered({ webhook: 'a' })).toHaveLength(1);
    expect(await q.delivered({ eventId: 'evt_nope' })).toHaveLength(0);
    expect(peek(path, 'SELECT * FROM jobs')).toEqual([]);
    await q.close();

    // Records older than the retention go at the next prune (on open, then every minute).
    const db = new Database(path);
    db.prepare('UPDATE deliveries SET delivered_at = delivered_at - 120000').run();
    db.close();
    const again = queue({ path, deliveredRetentionMs: 60_000 });
    again.consume(recordingHandler().handler);
    await sleep(50);
    expect(await again.delivered()).toEqual([]);
  });

  it('keeps no record with deliveredRetentionMs: 0', async () => {
    const path = tempDb();
    const q = queue({ path, deliveredRetentionMs: 0 });
    q.consume(recordingHandler().handler);
    await q.enqueue([job('a', 1)]);
    await q.idle();
    expect(await q.delivered()).toEqual([]);
  });
});
