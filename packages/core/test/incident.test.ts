import { afterEach, describe, expect, it } from 'vitest';
import { HOLD_POLL_MS, heldByOther, holdRecheckAt, takeHold } from '../src/incident.js';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  type IncidentContext,
  type IncidentState,
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

  it('keeps no ref from a failed attempt; a repeat waits for the retry, then updates what it posted', async () => {
    const { plugin, calls } = recorder('chat', {}, (n) => n === 1);
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ message: 'Disk 95% full' }));
    await dispatcher.flush();
    expect(
      calls.map((c) => [c.event.data.message, c.incident?.occurrences, c.incident?.ref?.message_id]),
    ).toEqual([
      ['Disk 91% full', 1, undefined], // failed
      ['Disk 91% full', 1, undefined], // its retry posts m2
      ['Disk 95% full', 2, 'm2'], // the repeat, which waited for it, updates m2
    ]);
    expect(dispatcher.monitor.getWebhookStats('chat').successCount).toBe(2);
  });

  it('holds a resolution back while the first notification waits for its retry; it then resolves that post', async () => {
    const { plugin, calls } = recorder(
      'chat',
      { retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.3, jitter: false } },
      (n) => n === 1,
    );
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ resolved: true }));
    await dispatcher.flush();
    expect(calls.map((c) => [c.incident?.status, c.incident?.ref?.message_id])).toEqual([
      ['firing', undefined],
      ['firing', undefined],
      ['resolved', 'm2'],
    ]);
  });

  it('lets the repeat post anew when the first notification fails for good', async () => {
    const { plugin, calls } = recorder(
      'chat',
      { retryPolicy: { maxRetries: 1, initialDelaySeconds: 0.05, jitter: false } },
      (n) => n <= 2,
    );
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    const first = disk();
    await dispatcher.dispatch(first);
    await dispatcher.dispatch(disk({ message: 'Disk 95% full' }));
    await dispatcher.flush();
    expect(calls.map((c) => [c.event.data.message, c.incident?.ref])).toEqual([
      ['Disk 91% full', undefined],
      ['Disk 91% full', undefined], // dead
      ['Disk 95% full', undefined], // posts anew: m3
    ]);
    expect((await dispatcher.deadLetters.list()).map((l) => l.event.event_id)).toEqual([first.event_id]);
  });

  it('makes only the waiting job wait: other incidents of the webhook go on meanwhile', async () => {
    const { plugin, calls } = recorder(
      'chat',
      { retryPolicy: { maxRetries: 2, initialDelaySeconds: 1, jitter: false } },
      (n) => n === 1,
    );
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    const deferred: string[] = [];
    dispatcher.monitor.on((o) => {
      if (o.kind === 'deferred') deferred.push(o.reason);
    });
    await dispatcher.dispatch(disk());
    // Its first attempt failed; the retry is 1 s away.
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 5));
    await dispatcher.dispatch(disk());
    await dispatcher.dispatch(disk({ source: 'db-2' }));
    await dispatcher.flush();
    const order = calls.map((c) => `${c.event.data.source} ${c.incident?.occurrences}`);
    expect(order).toEqual(['db-1 1', 'db-2 1', 'db-1 1', 'db-1 2']);
    expect(deferred.length).toBeGreaterThan(0);
    expect(new Set(deferred)).toEqual(new Set(['incident_order']));
  });

  it('orders notifications across dispatchers sharing a store: a repeat elsewhere waits for the first post', async () => {
    const store = new MemoryIncidentStore();
    let post!: () => void;
    const posting = new Promise<void>((resolve) => {
      post = resolve;
    });
    let firstStarted!: () => void;
    const started = new Promise<void>((resolve) => {
      firstStarted = resolve;
    });
    const slow: WebhookPlugin = {
      name: 'chat',
      events: ['*'],
      async deliver() {
        firstStarted();
        await posting;
        return { status: 200, incidentRef: { message_id: 'first' } };
      },
    };
    const d1 = new Dispatcher({ webhooks: [slow], incidents: { store } });
    const two = recorder('chat');
    const outcomes: string[] = [];
    dispatcher = new Dispatcher({ webhooks: [two.plugin], incidents: { store } });
    dispatcher.monitor.on((o) => {
      outcomes.push(o.kind === 'deferred' ? `deferred ${o.reason}` : o.kind);
    });
    await d1.dispatch(disk());
    await started; // d1's attempt is in flight, holding the incident
    await dispatcher.dispatch(disk());
    await new Promise((r) => setTimeout(r, 300));
    expect(two.calls).toHaveLength(0); // it waits for d1's post
    post();
    await d1.flush();
    await dispatcher.flush();
    await d1.close();
    expect(two.calls.map((c) => [c.incident?.occurrences, c.incident?.ref])).toEqual([
      [2, { message_id: 'first' }],
    ]);
    expect(outcomes[0]).toBe('deferred incident_order');
    expect(outcomes.at(-1)).toBe('delivered');
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

describe('the hold of a notification that posts anew', () => {
  it('lapses at its time (a vanished holder), never stops its own job, and is looked at again when its holder resumes', () => {
    const holder = { job: 'a', until: 1000, resumeAt: 500 };
    const state: IncidentState = { count: 1, notified: 0, openedAt: 0, resolved: false, holder };
    expect(heldByOther(state, 'b', 999)).toBe(holder);
    expect(heldByOther(state, 'b', 1000)).toBeUndefined();
    expect(heldByOther(state, 'a', 0)).toBeUndefined();
    expect(holdRecheckAt(holder, 100)).toBe(500 + HOLD_POLL_MS);
    expect(holdRecheckAt({ job: 'a', until: 1000 }, 100)).toBe(100 + HOLD_POLL_MS);
    expect(holdRecheckAt({ job: 'a', until: 150 }, 100)).toBe(150);
    expect(takeHold(state, 'b', 5000, 999, 0)).toBe(state);
    expect(takeHold(state, 'b', 5000, 1000, 0).holder).toEqual({ job: 'b', until: 5000 });
    expect(takeHold(undefined, 'b', 5000, 0, 42)).toEqual({
      count: 0,
      notified: 0,
      openedAt: 42,
      resolved: false,
      holder: { job: 'b', until: 5000 },
    });
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
