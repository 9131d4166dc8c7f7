import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher, incidentOf } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PagerDutyWebhook, type PagerDutyWebhookOptions } from '../src/index.js';
import { eventsApi, ROUTING_KEY } from './fake-pagerduty.js';

// Incident lifecycle (issue 15): fire → repeat ×3 → resolve, against the fake Events API.
describe('PagerDuty incident lifecycle', () => {
  let server: FakeServer;
  let dir: string;
  const make = (options: Partial<PagerDutyWebhookOptions> = {}) =>
    new PagerDutyWebhook({
      routingKey: ROUTING_KEY,
      baseUrl: server.url,
      allowPrivateNetwork: true,
      retryPolicy: { maxRetries: 1, initialDelaySeconds: 0.01, jitter: false },
      ...options,
    });
  /** What PagerDuty received, in order: action, key, and the count a trigger carries. */
  const calls = () =>
    server.requests.map((r) => {
      const body = r.json();
      return [body.event_action, body.dedup_key, body.payload?.custom_details?.occurrences];
    });

  beforeEach(async () => {
    server = await createFakeServer(eventsApi);
    dir = mkdtempSync(join(tmpdir(), 'pagerduty-lifecycle-'));
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends four triggers and one resolve, all with the incident key as dedup_key', async () => {
    const { events } = await runIncidentSequence({ webhook: () => make() });
    const key = incidentOf(events[0]!)!.key;
    expect(key).toMatch(/^empathy:alert:[0-9a-f]{32}$/);
    expect(calls()).toEqual([
      ['trigger', key, 1],
      ['trigger', key, 2],
      ['trigger', key, 3],
      ['trigger', key, 4],
      ['resolve', key, undefined],
    ]);
    const bodies = server.requests.map((r) => r.json());
    // The repeats date the incident from its first event; the resolve carries only the key.
    const seen = bodies.slice(0, 4).map((b) => Date.parse(b.payload.custom_details.first_seen_at));
    expect(seen[0]).toBeGreaterThanOrEqual(Date.parse(events[0]!.timestamp));
    expect(seen[1]).toBeGreaterThanOrEqual(seen[0]!);
    expect(seen.slice(2)).toEqual([seen[1], seen[1]]);
    expect(bodies[3].payload.custom_details.message).toBe(
      'checkout-api 5xx rate is 7.2% over the last 10 minutes (repeat 3)',
    );
    expect(bodies[4]).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: key });
    expect(server.requests.every((r) => r.status === 202)).toBe(true);
  });

  it('does the same across a restart between the repeats and the resolve (SqliteQueue)', async () => {
    const path = join(dir, 'queue.db');
    const { events, stats } = await runIncidentSequence({
      webhook: () => make(),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    const key = incidentOf(events[0]!)!.key;
    expect(calls()).toEqual([
      ['trigger', key, 1],
      ['trigger', key, 2],
      ['trigger', key, 3],
      ['trigger', key, 4],
      ['resolve', key, undefined],
    ]);
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
    // The second host found the incident the first one counted, and closed it.
    const reopened = new SqliteQueue({ path });
    expect(await reopened.incidentStore.get('pagerduty', key)).toMatchObject({ count: 4, resolved: true });
    await reopened.close();
  });

  it('counts on across a restart: a repeat after it says 5, dated from the first event', async () => {
    const path = join(dir, 'queue.db');
    const alert = (message: string) =>
      createEvent(
        'alert',
        { title: 'Checkout down', message, source: 'checkout-api' },
        { userId: 'sre-bot', severity: 'high' },
      );
    const host = async (messages: string[]) => {
      const dispatcher = new Dispatcher({ webhooks: [make()], queue: new SqliteQueue({ path, pollMs: 20 }) });
      for (const message of messages) {
        await dispatcher.dispatch(alert(message));
        await dispatcher.flush();
      }
      await dispatcher.close();
    };
    await host(['1', '2', '3', '4']);
    await host(['5']);
    const key = incidentOf(alert('x'))!.key;
    expect(calls()).toEqual([1, 2, 3, 4, 5].map((n) => ['trigger', key, n]));
    const details = server.requests.map((r) => r.json().payload.custom_details);
    expect(details[4].first_seen_at).toBe(details[1].first_seen_at);
  });

  it('takes data.incident_key as the dedup_key, and the dedupKey option over it', async () => {
    const data = { title: 'Checkout down', message: 'no 2xx for 5 minutes', incident_key: 'INC-checkout' };
    await runIncidentSequence({ webhook: () => make(), data, repeats: 1 });
    await runIncidentSequence({
      webhook: () => make({ dedupKey: (event) => `mine:${event.data.source ?? 'checkout'}` }),
      data,
      repeats: 1,
    });
    expect(calls()).toEqual([
      ['trigger', 'INC-checkout', 1],
      ['trigger', 'INC-checkout', 2],
      ['resolve', 'INC-checkout', undefined],
      ['trigger', 'mine:checkout', 1],
      ['trigger', 'mine:checkout', 2],
      ['resolve', 'mine:checkout', undefined],
    ]);
  });

  it('resolves any incident event that says it cleared, not only alerts', async () => {
    await runIncidentSequence({
      webhook: () => make({ events: ['test_failure'] }),
      type: 'test_failure',
      data: { test_name: 'checkout pays', suite: 'e2e', message: 'timeout after 30s' },
      repeats: 1,
    });
    const [first] = calls();
    expect(calls()).toEqual([
      ['trigger', first![1], 1],
      ['trigger', first![1], 2],
      ['resolve', first![1], undefined],
    ]);
    expect(first![1]).toMatch(/^empathy:test_failure:/);
  });

  it('sends acknowledge() at once, with group too, and does not count it as a repeat', async () => {
    const pagerduty = make({ group: { waitSeconds: 0, intervalSeconds: 0 } });
    const d = new Dispatcher({ webhooks: [pagerduty] });
    const alert = createEvent(
      'alert',
      { title: 'Disk full', message: '97%', source: 'db-1' },
      { userId: 'ops' },
    );
    const key = incidentOf(alert)!.key;
    await d.dispatch(alert);
    await d.flush();
    await pagerduty.acknowledge(key);
    await d.flush();
    await d.dispatch(
      createEvent('alert', { title: 'Disk full', message: '98%', source: 'db-1' }, { userId: 'ops' }),
    );
    await d.flush();
    await d.close();
    expect(calls()).toEqual([
      ['trigger', key, 1],
      ['acknowledge', key, undefined],
      ['trigger', key, 2],
    ]);
  });

  it('with group.waitSeconds, folds 10 repeats into one trigger whose custom_details say 10', async () => {
    const pagerduty = make({ group: { waitSeconds: 2 } });
    const dispatcher = new Dispatcher({ webhooks: [pagerduty] });
    const alert = (message: string, extra: { resolved?: boolean } = {}) =>
      createEvent(
        'alert',
        { title: 'Queue backlog growing', message, source: 'orders', ...extra },
        { userId: 'sre-bot', severity: 'high' },
      );
    for (let i = 1; i <= 10; i++) await dispatcher.dispatch(alert(`backlog ${i * 100}`));
    await dispatcher.flush();
    const key = incidentOf(alert('x'))!.key;
    expect(calls()).toEqual([['trigger', key, 10]]);
    // One trigger for all ten, showing the condition as it is now (the latest event).
    expect(server.requests[0]!.json().payload.custom_details.message).toBe('backlog 1000');
    expect(dispatcher.monitor.getWebhookStats(pagerduty.name)).toMatchObject({
      successCount: 1,
      foldedCount: 9,
    });
    await dispatcher.dispatch(alert('backlog 0', { resolved: true }));
    await dispatcher.flush();
    await dispatcher.close();
    expect(calls()).toEqual([
      ['trigger', key, 10],
      ['resolve', key, undefined],
    ]);
  });
});
