import { randomFillSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  createEvent,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  isWebhookError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import type { DeliveryJob } from '@empathy/webhooks-core/queue';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteQueue } from '../src/index.js';
import { job, peek, recordingHandler, sleep, tempDb } from './helpers.js';

const open: { close(options?: { drainMs?: number }): Promise<void> }[] = [];
afterEach(async () => {
  for (const q of open.splice(0)) await q.close({ drainMs: 0 }).catch(() => {});
});

/** A webhook that records what it receives. */
function collector(name = 'sink') {
  const received: EmpathyEvent[] = [];
  const plugin: WebhookPlugin = {
    name,
    events: ['*'],
    async deliver(event) {
      received.push(event);
      return { status: 200 };
    },
  };
  return { plugin, received };
}

const settle = <T>(promise: Promise<T>) =>
  promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error: error as Error }),
  );

describe('an event that cannot be stored fails alone', () => {
  it('a BigInt or a cycle rejects its own emit with a WebhookConfigError; the others of the tick are stored and delivered', async () => {
    const path = tempDb();
    const sink = collector();
    const dispatcher = new Dispatcher({ queue: new SqliteQueue({ path }), webhooks: [sink.plugin] });
    open.push(dispatcher);
    const cyclic: Record<string, unknown> = { message: 'cycle' };
    cyclic.self = cyclic;
    const events = [
      createEvent('alert', { message: 'first' }, { userId: 'u' }),
      createEvent('alert', { message: 'big', details: { bytes: 10n ** 20n } } as never, { userId: 'u' }),
      createEvent('alert', { message: 'second' }, { userId: 'u' }),
      createEvent('alert', cyclic as never, { userId: 'u' }),
      createEvent('alert', { message: 'third' }, { userId: 'u' }),
    ];
    // All in one tick: the queue writes them in one transaction.
    const results = await Promise.all(events.map((e) => settle(dispatcher.dispatch(e))));

    expect(results.map((r) => r.ok)).toEqual([true, false, true, false, true]);
    for (const [i, reason] of [
      [1, /BigInt/],
      [3, /circular/i],
    ] as const) {
      const { error } = results[i] as { error: Error };
      expect(isWebhookConfigError(error)).toBe(true);
      expect(error.message).toContain(`[emit] the 'alert' event ${events[i]!.event_id} cannot be queued`);
      expect(error.message).toMatch(reason);
    }
    await dispatcher.flush();
    expect(sink.received.map((e) => e.data.message).sort()).toEqual(['first', 'second', 'third']);
    expect(await dispatcher.deadLetters.list()).toEqual([]);
    // The refused events are not counted as pending either.
    expect(dispatcher.monitor.getWebhookStats('sink')).toMatchObject({ pendingCount: 0, successCount: 3 });
  });

  it('a bad job in one enqueue call leaves nothing of that call in the file', async () => {
    const path = tempDb();
    const q = new SqliteQueue({ path });
    open.push(q);
    const bad: DeliveryJob = {
      ...job('b', 2),
      event: createEvent('alert', { message: 'x', details: { n: 1n } } as never, { userId: 'u' }),
    };
    const [good, refused] = await Promise.all([
      settle(q.enqueue([job('a', 1)])),
      settle(q.enqueue([job('a', 3), bad])),
    ]);
    expect(good.ok).toBe(true);
    expect(refused.ok).toBe(false);
    expect(peek<{ id: string }>(path, 'SELECT id FROM jobs ORDER BY seq')).toEqual([{ id: 'evt_1:a' }]);
  });
});

describe('a file that cannot be used is a library error naming its path', () => {
  const consume = (q: SqliteQueue) => q.consume(recordingHandler().handler);

  it('a file of garbage bytes', async () => {
    const path = tempDb();
    writeFileSync(path, randomFillSync(Buffer.alloc(64 * 1024)));
    const q = new SqliteQueue({ path });
    open.push(q);
    expect(() => consume(q)).toThrow(
      `SqliteQueue: cannot open option 'path' (${path}): file is not a database`,
    );
    const enqueued = await settle(q.enqueue([job('a', 1)]));
    expect(isWebhookConfigError(enqueued.ok ? undefined : enqueued.error)).toBe(true);
    await expect(q.pending()).rejects.toThrow(path);
  });

  it('a directory', async () => {
    const path = join(dirname(tempDb()), 'a-directory.db');
    mkdirSync(path);
    const q = new SqliteQueue({ path });
    open.push(q);
    expect(() => consume(q)).toThrow(`SqliteQueue: cannot open option 'path' (${path}): `);
    const listed = await settle(q.deadLetters.list());
    expect(listed.ok).toBe(false);
    expect(isWebhookConfigError((listed as { error: Error }).error)).toBe(true);
    expect((listed as { error: Error }).error.message).toContain(path);
  });

  it('a real queue file whose pages were damaged after the header', async () => {
    const path = tempDb();
    const writer = new SqliteQueue({ path });
    await writer.enqueue(
      Array.from({ length: 200 }, (_, i) => job('a', i, { availableAt: Date.now() + 3_600_000 })),
    );
    await writer.close();
    const bytes = readFileSync(path);
    // Page 1 (header and schema) intact, every other page overwritten.
    randomFillSync(bytes, 4096, bytes.length - 4096);
    writeFileSync(path, bytes);

    const q = new SqliteQueue({ path });
    open.push(q);
    let thrown: unknown;
    try {
      consume(q);
    } catch (error) {
      thrown = error;
    }
    expect(isWebhookError(thrown), String(thrown)).toBe(true);
    expect((thrown as Error).message).toContain(`(${path})`);
    expect((thrown as Error).message).toMatch(/malformed/);
    for (const call of [
      () => q.pending(),
      () => q.deadLetters.list(),
      () => q.delivered(),
    ] as (() => Promise<unknown>)[]) {
      const result = await settle(call());
      expect(result.ok).toBe(false);
      expect(isWebhookError((result as { error: Error }).error)).toBe(true);
      expect((result as { error: Error }).error.message).toContain(path);
    }
  });
});

describe('a closed SqliteQueue', () => {
  it('refuses enqueue, replay and reads with a WebhookError that says it is closed', async () => {
    const path = tempDb();
    const q = new SqliteQueue({ path });
    await q.enqueue([job('a', 1)]);
    await q.close();
    for (const call of [
      () => q.enqueue([job('a', 2)]),
      () => q.deadLetters.replay('evt_1:a'),
      () => q.deadLetters.list(),
      () => q.pending(),
    ]) {
      const result = await settle(call() as Promise<unknown>);
      expect(result.ok).toBe(false);
      expect(isWebhookError((result as { error: Error }).error)).toBe(true);
      expect((result as { error: Error }).error.message).toBe(
        'SqliteQueue is closed: close() was called, so it accepts no new jobs',
      );
    }
  });
});

describe('long waits', () => {
  let warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`);
  beforeEach(() => {
    warnings = [];
    process.on('warning', onWarning);
  });
  afterEach(() => {
    process.off('warning', onWarning);
  });

  it('a job due in 1e12 ms, and huge poll and lease settings, give no TimeoutOverflowWarning', async () => {
    const path = tempDb();
    const q = new SqliteQueue({ path, pollMs: 1e12, leaseMs: 3e12 });
    open.push(q);
    const { handler, handled } = recordingHandler();
    q.consume(handler);
    await q.enqueue([job('a', 1, { availableAt: Date.now() + 1e12 })]);
    await sleep(150);
    expect(warnings).toEqual([]);
    expect(handled).toEqual([]);
    expect(await q.pending('a')).toBe(1);
  });
});

describe('failures no call can report', () => {
  it('a job row damaged in the file is reported through onError, naming it, and the others still run', async () => {
    const path = tempDb();
    const writer = new SqliteQueue({ path });
    await writer.enqueue([job('a', 1), job('a', 2)]);
    await writer.close();
    // Another program damaged one row's JSON.
    const db = new Database(path);
    db.prepare(`UPDATE jobs SET event = '{"event_type": "alert", "data": ' WHERE id = 'evt_1:a'`).run();
    db.close();

    const reported: Error[] = [];
    const q = new SqliteQueue({ path, onError: (error) => reported.push(error) });
    open.push(q);
    const { handler, handled } = recordingHandler();
    q.consume(handler);
    await vi.waitFor(() => expect(handled.map((h) => h.id)).toEqual(['evt_2:a']));
    await vi.waitFor(() => expect(reported).toHaveLength(1));
    expect(isWebhookError(reported[0])).toBe(true);
    expect(reported[0]!.message).toMatch(new RegExp(`^SqliteQueue: job evt_1:a in ${path} cannot be read: `));
    // The damaged row stays in the file for an operator to look at.
    await vi.waitFor(async () => expect(await q.pending('a')).toBe(1));
  });

  it('validates onError', () => {
    expect(() => new SqliteQueue({ path: tempDb(), onError: 'log' as never })).toThrow(
      "SqliteQueue: option 'onError' must be a function (error) => void",
    );
  });
});
