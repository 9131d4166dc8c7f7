import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  type IncidentContext,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BullMQQueue } from '../src/index.js';
import { deleteKeys, REDIS, uniquePrefix, withRedis } from './helpers.js';

const prefixes: string[] = [];
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deleteKeys(prefix);
});
const prefix = () => {
  const p = uniquePrefix();
  prefixes.push(p);
  return p;
};

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

describe('incident state in Redis', () => {
  it('survives a restart between fire and resolve: the resolution gets the first post’s reference', async () => {
    const p = prefix();
    const { make, calls } = recorder();
    await runIncidentSequence({
      webhook: make,
      queue: () => new BullMQQueue({ connection: REDIS, prefix: p, consume: true }),
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

  it('folds a burst from a producer into one notification a worker sends with the whole count', async () => {
    const p = prefix();
    const { make, calls } = recorder({ waitSeconds: 0.5 });
    const worker = new Dispatcher({
      webhooks: [make()],
      queue: new BullMQQueue({ connection: REDIS, prefix: p, consume: true }),
    });
    const producer = new Dispatcher({
      webhooks: [make()],
      queue: new BullMQQueue({ connection: REDIS, prefix: p }),
    });
    for (let i = 0; i < 20; i++) {
      await producer.dispatch(
        createEvent('test_failure', { test_name: 'pays', message: `run ${i}` }, { userId: 'ci' }),
      );
    }
    expect(producer.monitor.getWebhookStats('chat').foldedCount).toBe(19);
    await worker.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.incident).toMatchObject({ status: 'firing', occurrences: 20, folded: 20 });
    await producer.close();
    await worker.close();
  });

  it('keeps one incident in order across workers: a repeat another worker takes waits for the first post, then updates it', async () => {
    const p = prefix();
    let post!: () => void;
    const posting = new Promise<void>((resolve) => {
      post = resolve;
    });
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    // The same webhook in both workers; its first post is slow. Either worker may send the repeat
    // once the first post is done.
    const calls: { worker: string; message: unknown; incident: IncidentContext | undefined }[] = [];
    const chat = (worker: string): WebhookPlugin => ({
      name: 'chat',
      events: ['*'],
      concurrency: 1,
      async deliver(event: EmpathyEvent, ctx: DeliveryContext) {
        calls.push({ worker, message: event.data.message, incident: ctx.incident });
        if (calls.length === 1) {
          firstStarted();
          await posting;
        }
        return ctx.incident?.ref
          ? { status: 200 }
          : { status: 200, incidentRef: { message_id: `${worker}${calls.length}` } };
      },
    });
    const alert = (message: string) =>
      createEvent('alert', { title: 'Disk almost full', message, source: 'db-1' }, { userId: 'ops' });
    const a = new Dispatcher({
      webhooks: [chat('a')],
      queue: new BullMQQueue({ connection: REDIS, prefix: p, consume: true }),
    });
    await a.dispatch(alert('Disk 91% full'));
    await started; // worker A is posting (and can take no other job), and holds the incident
    const b = new Dispatcher({
      webhooks: [chat('b')],
      queue: new BullMQQueue({ connection: REDIS, prefix: p, consume: true }),
    });
    const reasons: string[] = [];
    b.monitor.on((o) => {
      if (o.kind === 'deferred') reasons.push(o.reason);
    });
    await b.dispatch(alert('Disk 95% full'));
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toHaveLength(1); // B took the repeat, and waits for A's post
    expect(new Set(reasons)).toEqual(new Set(['incident_order']));
    post();
    await a.flush();
    await b.flush();
    expect(calls.map((c) => [c.worker, c.message, c.incident?.occurrences, c.incident?.ref])).toEqual([
      ['a', 'Disk 91% full', 1, undefined],
      [expect.any(String), 'Disk 95% full', 2, { message_id: 'a1' }],
    ]);
    await a.close();
    await b.close();
  });

  it('loses no update when many connections change one incident at once, and expires it after its TTL', async () => {
    const p = prefix();
    const queues = Array.from({ length: 4 }, () => new BullMQQueue({ connection: REDIS, prefix: p }));
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        queues[i % 4]!.incidentStore.update(
          'chat',
          'k',
          (s) => ({ count: (s?.count ?? 0) + 1, notified: 0, openedAt: 1, resolved: false }),
          60_000,
        ),
      ),
    );
    expect((await queues[0]!.incidentStore.get('chat', 'k'))!.count).toBe(40);
    await queues[1]!.incidentStore.update(
      'chat',
      'short',
      () => ({ count: 1, notified: 1, openedAt: 1, resolved: false }),
      100,
    );
    // bullmq's client type leaves PTTL out; ioredis has it.
    const ttl = await withRedis((client) =>
      (client as unknown as { pttl(key: string): Promise<number> }).pttl(`${p}:incident:chat:short`),
    );
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(100);
    await new Promise((r) => setTimeout(r, 150));
    expect(await queues[2]!.incidentStore.get('chat', 'short')).toBeUndefined();
    await Promise.all(queues.map((q) => q.close()));
  });
});
