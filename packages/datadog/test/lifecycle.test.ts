import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher, incidentOf } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DatadogWebhook, type DatadogWebhookOptions } from '../src/index.js';
import { API_KEY, datadogApi } from './fake-datadog.js';

const TITLE = 'Error rate above 5% on checkout';

// Incident lifecycle (issue 15): fire → repeat ×3 → resolve, the real SDK against the fake API.
describe('Datadog incident lifecycle', () => {
  let server: FakeServer;
  let dir: string;
  const made: DatadogWebhook[] = [];
  const make = (options: Partial<DatadogWebhookOptions> = {}) => {
    const webhook = new DatadogWebhook({
      apiKey: API_KEY,
      site: server.url,
      allowPrivateNetwork: true,
      retryPolicy: { maxRetries: 1, initialDelaySeconds: 0.01, jitter: false },
      ...options,
    });
    made.push(webhook);
    return webhook;
  };
  /** The events Datadog received, in order, as it got them (snake_case). */
  const received = () => server.requests.filter((r) => r.path === '/api/v1/events').map((r) => r.json());
  /** What a user sees of each: title, alert type, key, and the "Seen" line of the body. */
  const calls = () =>
    received().map((e) => [
      e.title,
      e.alert_type,
      e.aggregation_key,
      /\*\*Seen:\*\* (\d+) times since /.exec(e.text)?.[1],
    ]);

  beforeEach(async () => {
    server = await createFakeServer(datadogApi);
    dir = mkdtempSync(join(tmpdir(), 'datadog-lifecycle-'));
  });
  afterEach(async () => {
    await Promise.all(made.splice(0).map((w) => w.close()));
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const expected = (key: string) => [
    [TITLE, 'error', key, undefined],
    [TITLE, 'error', key, '2'],
    [TITLE, 'error', key, '3'],
    [TITLE, 'error', key, '4'],
    [`Resolved: ${TITLE}`, 'success', key, '4'],
  ];

  it('posts five events with the incident key as aggregation_key; the last is a success', async () => {
    const { events } = await runIncidentSequence({ webhook: () => make() });
    const key = incidentOf(events[0]!)!.key;
    expect(key).toMatch(/^empathy:alert:[0-9a-f]{32}$/);
    expect(calls()).toEqual(expected(key));
    // A repeat's body opens with the count; its text is the repeat's own.
    const repeat = received()[3];
    expect(repeat.text).toMatch(
      /^%%% \ncheckout-api 5xx rate is 7\.2% over the last 10 minutes \(repeat 3\)\n\n\*\*Seen:\*\* 4 times since \d{4}-\d\d-\d\d \d\d:\d\d UTC\n\*\*Source:\*\* checkout-api/,
    );
    expect(server.requests.every((r) => r.status === 202)).toBe(true);
  });

  it('does the same across a restart between the repeats and the resolve (SqliteQueue)', async () => {
    const path = join(dir, 'queue.db');
    const { events, stats } = await runIncidentSequence({
      webhook: () => make(),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    // The count survives the restart: the resolution still says the condition was seen 4 times.
    expect(calls()).toEqual(expected(incidentOf(events[0]!)!.key));
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
  });

  it('keeps the aggregationKey option over the incident key, on every event', async () => {
    await runIncidentSequence({
      webhook: () => make({ aggregationKey: () => 'checkout-errors' }),
      repeats: 1,
    });
    expect(calls().map((c) => [c[1], c[2]])).toEqual([
      ['error', 'checkout-errors'],
      ['error', 'checkout-errors'],
      ['success', 'checkout-errors'],
    ]);
  });

  it('hashes an incident_key over 100 characters down to one key of 100, the same for every event', async () => {
    const incidentKey = `checkout/${'region-eu-west-1/'.repeat(10)}5xx`;
    expect(incidentKey.length).toBeGreaterThan(100);
    await runIncidentSequence({
      webhook: () => make(),
      data: { title: TITLE, message: 'm', incident_key: incidentKey },
      repeats: 1,
    });
    const hash = createHash('sha256').update(incidentKey).digest('hex').slice(0, 32);
    const key = `${incidentKey.slice(0, 67)}~${hash}`;
    expect(key).toHaveLength(100);
    expect(calls().map((c) => [c[1], c[2]])).toEqual([
      ['error', key],
      ['error', key],
      ['success', key],
    ]);
    expect(server.requests.map((r) => r.status)).toEqual([202, 202, 202]);
  });

  it('with group.waitSeconds, folds 10 repeats into one event that says 10', async () => {
    const datadog = make({ group: { waitSeconds: 2 } });
    const dispatcher = new Dispatcher({ webhooks: [datadog] });
    const failure = (message: string, extra: { resolved?: boolean } = {}) =>
      createEvent(
        'test_failure',
        { test_name: 'checkout pays', suite: 'e2e', message, ...extra },
        { userId: 'ci', severity: 'high' },
      );
    for (let i = 1; i <= 10; i++) await dispatcher.dispatch(failure(`run ${i} timed out`));
    await dispatcher.flush();
    const key = incidentOf(failure('x'))!.key;
    expect(calls()).toEqual([['Test failed: checkout pays', 'error', key, '10']]);
    expect(dispatcher.monitor.getWebhookStats(datadog.name)).toMatchObject({
      successCount: 1,
      foldedCount: 9,
    });
    await dispatcher.dispatch(failure('passed', { resolved: true }));
    await dispatcher.flush();
    await dispatcher.close();
    expect(calls()).toEqual([
      ['Test failed: checkout pays', 'error', key, '10'],
      ['Resolved: Test failed: checkout pays', 'success', key, '10'],
    ]);
  });
});
