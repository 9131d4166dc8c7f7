import { afterEach, describe, expect, it } from 'vitest';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  type IncidentContext,
  type IncidentStore,
  incidentOf,
  isWebhookConfigError,
  MemoryIncidentStore,
  MemoryQueue,
  type WebhookPlugin,
} from '../src/index.js';
import { summarizeEvent } from '../src/kit/index.js';

let dispatcher: Dispatcher | undefined;
afterEach(async () => {
  await dispatcher?.close();
  dispatcher = undefined;
});

/** A plugin that records what each attempt was told about the incident, and answers with a ref. */
function recorder(
  name: string,
  extra: Partial<WebhookPlugin> = {},
  fail: (n: number) => boolean = () => false,
) {
  const calls: { event: EmpathyEvent; incident: IncidentContext | undefined }[] = [];
  const plugin: WebhookPlugin = {
    name,
    events: ['*'],
    circuitBreaker: false,
    retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.01, jitter: false },
    ...extra,
    async deliver(event: EmpathyEvent, ctx: DeliveryContext) {
      calls.push({ event, incident: ctx.incident });
      if (fail(calls.length)) throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return ctx.incident?.ref
        ? { status: 200 }
        : { status: 200, incidentRef: { message_id: `m${calls.length}` } };
    },
  };
  return { plugin, calls };
}

const disk = (extra: Record<string, unknown> = {}) =>
  createEvent(
    'alert',
    { message: 'Disk 91% full', title: 'Disk almost full', source: 'db-1', ...extra },
    { userId: 'ops' },
  );

describe('incident identity', () => {
  it('gives repeats of one condition one key, a resolved event the same key, and other conditions another', () => {
    const first = incidentOf(disk())!;
    expect(first.key).toMatch(/^empathy:alert:[0-9a-f]{32}$/);
    expect(incidentOf(disk({ message: 'Disk 97% full' }))).toEqual(first);
    expect(incidentOf(disk({ resolved: true }))).toEqual({ key: first.key, resolved: true });
    expect(incidentOf(disk({ source: 'db-2' }))!.key).not.toBe(first.key);
  });

  it('takes data.incident_key (or its older name dedup_key) as the key, for any event type', () => {
    expect(incidentOf(disk({ incident_key: 'INC-7' }))!.key).toBe('INC-7');
    expect(incidentOf(disk({ dedup_key: 'old-7' }))!.key).toBe('old-7');
    const prediction = createEvent(
      'prediction',
      { prediction: 'p', confidence: 0.5, incident_key: 'P-1' },
      { userId: 'u' },
    );
    expect(incidentOf(prediction)).toEqual({ key: 'P-1', resolved: false });
  });

  it('leaves an event with incident_key: null outside any incident, whatever its type', () => {
    expect(incidentOf(disk({ incident_key: null }))).toBeUndefined();
    expect(incidentOf(disk({ incident_key: null, dedup_key: 'k', resolved: true }))).toBeUndefined();
  });

  it('leaves events that report no condition outside any incident', () => {
    const prediction = createEvent('prediction', { prediction: 'p', confidence: 0.5 }, { userId: 'u' });
    expect(incidentOf(prediction)).toBeUndefined();
  });

  it('refuses a bad incident_key or resolved flag at emit, naming it', () => {
    const bad = [
      { incident_key: '' },
      { incident_key: 'x'.repeat(201) },
      { incident_key: 7 },
      { resolved: 'yes' },
    ];
    for (const data of bad) {
      let thrown: unknown;
      try {
        createEvent('alert', { message: 'm', ...data } as never, { userId: 'u' });
      } catch (error) {
        thrown = error;
      }
      expect(isWebhookConfigError(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(/data\.(incident_key|resolved)/);
    }
  });
});

describe('lifecycle without group', () => {
  it('hands each attempt the count and the ref the first notification returned; resolve gets it too', async () => {
    const { plugin, calls } = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 4; i++) await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ resolved: true }));
    await dispatcher.flush();
    const seen = calls.map((c) => [c.incident?.status, c.incident?.occurrences, c.incident?.ref?.message_id]);
    expect(seen).toEqual([
      ['firing', 1, undefined],
      ['firing', 2, 'm1'],
      ['firing', 3, 'm1'],
      ['firing', 4, 'm1'],
      ['resolved', 4, 'm1'],
    ]);
    expect(new Set(calls.map((c) => c.incident!.key)).size).toBe(1);
  });

  it('opens a new incident when a resolved condition fires again (a new post, the count from 1)', async () => {
    const { plugin, calls } = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ resolved: true }));
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(calls[2]!.incident).toMatchObject({ status: 'firing', occurrences: 1, ref: undefined });
  });

  it('keeps no ref from a failed attempt: the retry still posts anew', async () => {
    const { plugin, calls } = recorder('chat', {}, (n) => n === 1);
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    // Attempt 1 failed; the repeat waited for it (one incident at a time), so the retry came
    // after the repeat had posted: whichever posted first, the other finds its ref.
    const posted = calls.filter((c) => c.incident?.ref === undefined);
    expect(posted).toHaveLength(2); // the failed attempt and the first success
    expect(calls.at(-1)!.incident!.ref).toEqual({ message_id: 'm2' });
  });

  it('keeps state in the store given, so a second dispatcher on it updates the first one’s message', async () => {
    const store = new MemoryIncidentStore();
    const one = recorder('chat');
    const d1 = new Dispatcher({ webhooks: [one.plugin], incidents: { store } });
    await d1.dispatch(disk());
    await d1.flush();
    await d1.close();
    const two = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [two.plugin], incidents: { store } });
    await dispatcher.dispatch(disk({ resolved: true }));
    await dispatcher.flush();
    expect(two.calls[0]!.incident).toMatchObject({
      status: 'resolved',
      occurrences: 1,
      ref: { message_id: 'm1' },
    });
  });

  it('forgets an incident after ttlSeconds', async () => {
    const { plugin, calls } = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [plugin], incidents: { ttlSeconds: 0.05 } });
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    await new Promise((r) => setTimeout(r, 80));
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(calls[1]!.incident).toMatchObject({ occurrences: 1, ref: undefined });
  });

  it('retries, then dead-letters, a delivery whose incident store is down; nothing is sent meanwhile', async () => {
    const broken: IncidentStore = {
      get: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
      update: () => Promise.reject(new Error('ECONNREFUSED 127.0.0.1:6379')),
    };
    const { plugin, calls } = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [plugin], incidents: { store: broken } });
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(calls).toHaveLength(0);
    const letters = await dispatcher.deadLetters.list();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.error.message).toContain('the incident store failed: ECONNREFUSED');
    expect(letters[0]!.attempts).toBe(3);
  });

  it('keeps only string refs, bounded', async () => {
    const plugin: WebhookPlugin = {
      name: 'odd',
      events: ['*'],
      async deliver(_event, ctx) {
        seen.push(ctx.incident?.ref);
        return { incidentRef: { ok: 'yes', n: 5, big: 'x'.repeat(5000) } as never };
      },
    };
    const seen: unknown[] = [];
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(seen).toEqual([undefined, { ok: 'yes' }]);
  });

  it('leaves ctx.incident unset for events outside incidents', async () => {
    const { plugin, calls } = recorder('chat');
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(
      createEvent('prediction', { prediction: 'p', confidence: 0.5 }, { userId: 'u' }),
    );
    await dispatcher.flush();
    expect(calls[0]!.incident).toBeUndefined();
  });
});

describe('group: folding repeats', () => {
  it('folds 50 repeats inside waitSeconds into one notification that says 50; the monitor counts 49 folded', async () => {
    const { plugin, calls } = recorder('chat', { group: { waitSeconds: 0.3 } });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 50; i++) {
      await dispatcher.dispatch(
        createEvent('test_failure', { test_name: 'checkout works', message: `run ${i}` }, { userId: 'ci' }),
      );
    }
    expect(calls).toHaveLength(0); // held for the wait
    await dispatcher.flush();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.incident).toMatchObject({ status: 'firing', occurrences: 50, folded: 50 });
    const stats = dispatcher.monitor.getWebhookStats('chat');
    expect(stats).toMatchObject({ foldedCount: 49, successCount: 1, pendingCount: 0 });
  });

  it('always sends a resolved event at once, and drops the held notification it already counted', async () => {
    const { plugin, calls } = recorder('chat', { group: { waitSeconds: 0.3 } });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ resolved: true }));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls.map((c) => c.incident?.status)).toEqual(['resolved']);
    expect(calls[0]!.incident).toMatchObject({ occurrences: 3, folded: 3 });
    await dispatcher.flush();
    expect(calls).toHaveLength(1);
    expect(dispatcher.monitor.getWebhookStats('chat')).toMatchObject({ foldedCount: 3, pendingCount: 0 });
  });

  it('holds later repeats to one notification per intervalSeconds, with the new count and the first ref', async () => {
    const { plugin, calls } = recorder('chat', { group: { waitSeconds: 0, intervalSeconds: 0.3 } });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    const before = Date.now();
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(disk({ message: `repeat ${i}` }));
    await dispatcher.flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.incident).toMatchObject({
      status: 'firing',
      occurrences: 6,
      folded: 5,
      ref: { message_id: 'm1' },
    });
    // It shows the latest of the five: the condition as it is now.
    expect(calls[1]!.event.data).toMatchObject({ message: 'repeat 4' });
    expect(Date.now() - before).toBeGreaterThanOrEqual(250);
  });

  it('sends a follow-up for repeats that arrive while a notification is in flight, as the latest event', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const calls: { id: string; incident: IncidentContext | undefined }[] = [];
    const plugin: WebhookPlugin = {
      name: 'slow',
      events: ['*'],
      group: { waitSeconds: 0, intervalSeconds: 0.05 },
      async deliver(event, ctx) {
        calls.push({ id: event.event_id, incident: ctx.incident });
        if (calls.length === 1) await gate;
        return { status: 200, incidentRef: { id: 'x' } };
      },
    };
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await new Promise((r) => setTimeout(r, 20));
    const later = [disk({ message: 'a' }), disk({ message: 'b' })];
    for (const event of later) await dispatcher.dispatch(event);
    release();
    await dispatcher.flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.id).toBe(later[1]!.event_id);
    expect(calls[1]!.incident).toMatchObject({ occurrences: 3, folded: 2, ref: { id: 'x' } });
  });

  it('posts anew (no ref) when a repeat comes repeatSeconds after the last post', async () => {
    const { plugin, calls } = recorder('chat', { group: { repeatSeconds: 0.1 } });
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    await new Promise((r) => setTimeout(r, 120));
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(calls.map((c) => c.incident?.ref?.message_id)).toEqual([undefined, 'm1', undefined]);
    expect(calls[2]!.incident!.occurrences).toBe(3);
  });

  it('lets the next repeat queue a notification when a grouped one was dead-lettered', async () => {
    const { plugin, calls } = recorder('chat', { group: { waitSeconds: 0 } }, (n) => n <= 3);
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(await dispatcher.deadLetters.list()).toHaveLength(1);
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(calls.at(-1)!.incident).toMatchObject({ occurrences: 2, folded: 2 });
  });

  it('refuses a bad group option, naming the field', () => {
    const bad = [{ waitSeconds: -1 }, { intervalSeconds: 'x' }, { repeatSecs: 1 }, 5];
    for (const group of bad) {
      const { plugin } = recorder('chat', { group: group as never });
      let thrown: unknown;
      try {
        new Dispatcher({ webhooks: [plugin] });
      } catch (error) {
        thrown = error;
      }
      expect(isWebhookConfigError(thrown)).toBe(true);
      expect((thrown as Error).message).toMatch(/option 'group/);
    }
  });
});

describe('the reading of an incident', () => {
  const at = '2026-12-03T14:02:09.120Z';
  const ctx = (extra: Partial<IncidentContext>): IncidentContext => ({
    key: 'k',
    status: 'firing',
    occurrences: 1,
    folded: 1,
    firstSeenAt: at,
    ref: undefined,
    ...extra,
  });

  it('says how often a condition fired, and when it began', () => {
    const s = summarizeEvent(disk(), ctx({ occurrences: 50 }));
    expect(s.title).toBe('Disk almost full');
    expect(s.occurrences).toBe(50);
    expect(s.facts[0]).toEqual({ name: 'Seen', value: '50 times since 2026-12-03 14:02 UTC' });
  });

  it('titles a resolution "Resolved: …" and names when a one-off condition began', () => {
    const s = summarizeEvent(disk({ resolved: true }), ctx({ status: 'resolved' }));
    expect(s).toMatchObject({ title: 'Resolved: Disk almost full', resolved: true, emoji: '✅' });
    expect(s.facts[0]).toEqual({ name: 'First seen', value: '2026-12-03 14:02 UTC' });
  });

  it('shows nothing of the kind for a first notification', () => {
    const s = summarizeEvent(disk(), ctx({}));
    expect(s.occurrences).toBeUndefined();
    expect(s.facts.map((f) => f.name)).not.toContain('Seen');
    expect(s.facts.map((f) => f.name)).not.toContain('First seen');
  });
});

describe('first seen', () => {
  it('is the same time on every notification of an incident, the first included', async () => {
    const seen: string[] = [];
    const plugin: WebhookPlugin = {
      name: 'slow',
      events: ['*'],
      async deliver(_event, ctx) {
        seen.push(ctx.incident!.firstSeenAt);
        await new Promise((r) => setTimeout(r, 15));
        return { status: 200 };
      },
    };
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(disk());
    await dispatcher.flush();
    expect(new Set(seen).size).toBe(1);
  });
});

describe('a queue that cannot store', () => {
  it('leaves no grouped incident waiting for a notification that was never queued', async () => {
    const { plugin, calls } = recorder('chat', { group: { waitSeconds: 0 } });
    let refuse = true;
    const queue = new MemoryQueue();
    const store = queue.enqueueSync.bind(queue);
    queue.enqueueSync = (jobs) => {
      if (refuse) throw new Error('disk full');
      store(jobs);
    };
    dispatcher = new Dispatcher({ webhooks: [plugin], queue });
    await expect(dispatcher.dispatch(disk())).rejects.toThrow('disk full');
    refuse = false;
    await dispatcher.dispatch(disk());
    await dispatcher.flush();
    // The second event was queued (not folded into the first, which never was): it counts both.
    expect(calls).toHaveLength(1);
    expect(calls[0]!.incident).toMatchObject({ occurrences: 2, folded: 2 });
  });
});

describe('when an incident began', () => {
  it('is when its first event was emitted, also when the first attempt failed and was retried', async () => {
    const { plugin, calls } = recorder(
      'chat',
      { retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.2, jitter: false } },
      (n) => n === 1,
    );
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    const first = disk();
    await dispatcher.dispatch(first);
    await dispatcher.flush();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.incident!.firstSeenAt).toBe(first.timestamp);
  });
});
