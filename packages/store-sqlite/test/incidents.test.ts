import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  type IncidentContext,
  incidentOf,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { describe, expect, it } from 'vitest';
import { SqliteQueue } from '../src/index.js';
import { tempDb } from './helpers.js';

/** A webhook that records what each attempt was told, posting `m<n>` as its reference. */
function recorder(group?: WebhookPlugin['group']) {
  const calls: { event: EmpathyEvent; incident: IncidentContext | undefined }[] = [];
  const make = (): WebhookPlugin => ({
    name: 'chat',
    events: ['*'],
    group,
    async deliver(event: EmpathyEvent, ctx: DeliveryContext) {
      calls.push({ event, incident: ctx.incident });
      return ctx.incident?.ref
        ? { status: 200 }
        : { status: 200, incidentRef: { message_id: `m${calls.length}` } };
    },
  });
  return { make, calls };
}

describe('incident state in the file', () => {
  it('survives a restart between fire and resolve: the resolution gets the first post’s reference', async () => {
    const path = tempDb();
    const { make, calls } = recorder();
    await runIncidentSequence({
      webhook: make,
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    expect(
      calls.map((c) => [c.incident?.status, c.incident?.occurrences, c.incident?.ref?.message_id]),
    ).toEqual([
      ['firing', 1, undefined],
      ['firing', 2, 'm1'],
      ['firing', 3, 'm1'],
      ['firing', 4, 'm1'],
      ['resolved', 4, 'm1'],
    ]);
  });

  it('keeps a held grouped notification and its count across a restart: one notification for all', async () => {
    const path = tempDb();
    const { make, calls } = recorder({ waitSeconds: 0.4 });
    const first = new Dispatcher({ webhooks: [make()], queue: new SqliteQueue({ path, pollMs: 20 }) });
    for (let i = 0; i < 7; i++) {
      await first.dispatch(
        createEvent('test_failure', { test_name: 'pays', message: `run ${i}` }, { userId: 'ci' }),
      );
    }
    await first.close({ drainMs: 0 });
    expect(calls).toHaveLength(0);

    const second = new Dispatcher({ webhooks: [make()], queue: new SqliteQueue({ path, pollMs: 20 }) });
    await second.flush();
    await second.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.incident).toMatchObject({ status: 'firing', occurrences: 7, folded: 7 });
  });

  it('forgets incidents after their time to live', async () => {
    const path = tempDb();
    const queue = new SqliteQueue({ path, pollMs: 20 });
    const store = queue.incidentStore;
    await store.update('chat', 'k', () => ({ count: 1, notified: 1, openedAt: 1, resolved: false }), 30);
    expect(await store.get('chat', 'k')).toMatchObject({ count: 1 });
    await new Promise((r) => setTimeout(r, 50));
    expect(await store.get('chat', 'k')).toBeUndefined();
    await queue.close();
  });

  it('keeps a first notification’s hold across a restart: the repeat waits for its retry, then updates its post', async () => {
    const path = tempDb();
    const alert = (message: string) =>
      createEvent('alert', { title: 'Disk almost full', message, source: 'db-1' }, { userId: 'ops' });
    let failed = 0;
    const failing: WebhookPlugin = {
      name: 'chat',
      events: ['*'],
      retryPolicy: { maxRetries: 3, initialDelaySeconds: 0.6, jitter: false },
      async deliver() {
        failed++;
        throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      },
    };
    const queue = new SqliteQueue({ path });
    const before = new Dispatcher({ webhooks: [failing], queue });
    const first = alert('Disk 91% full');
    await before.dispatch(first);
    // Its attempt failed, and its hold now waits for the retry.
    const key = incidentOf(first)!.key;
    const deadline = Date.now() + 5000;
    while ((await queue.incidentStore.get('chat', key))?.holder?.resumeAt === undefined) {
      if (Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((await queue.incidentStore.get('chat', key))?.holder?.job).toBe(`${first.event_id}:chat`);
    expect(failed).toBe(1);
    // It stops (the 200 ms let the file record the failed attempt); the first notification waits
    // in the file for its retry.
    await before.close({ drainMs: 200 });
    const { make, calls } = recorder();
    const after = new Dispatcher({
      webhooks: [{ ...make(), retryPolicy: failing.retryPolicy }],
      queue: new SqliteQueue({ path }),
    });
    await after.dispatch(alert('Disk 95% full'));
    await after.flush();
    expect(calls.map((c) => [c.event.data.message, c.incident?.occurrences, c.incident?.ref])).toEqual([
      ['Disk 91% full', 1, undefined], // the retry posts m1
      ['Disk 95% full', 2, { message_id: 'm1' }],
    ]);
    await after.close();
  });

  it('shares one incident state between two queues on one file', async () => {
    const path = tempDb();
    const a = new SqliteQueue({ path });
    const b = new SqliteQueue({ path });
    const bump = (q: SqliteQueue) =>
      q.incidentStore.update(
        'chat',
        'k',
        (s) => ({ count: (s?.count ?? 0) + 1, notified: 0, openedAt: 1, resolved: false }),
        60_000,
      );
    await Promise.all(Array.from({ length: 50 }, (_, i) => bump(i % 2 ? a : b)));
    expect((await a.incidentStore.get('chat', 'k'))!.count).toBe(50);
    await a.close();
    await b.close();
  });
});
