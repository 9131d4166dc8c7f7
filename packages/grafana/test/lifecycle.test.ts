import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher, type EmpathyEvent, incidentOf } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GrafanaWebhook, type GrafanaWebhookOptions } from '../src/index.js';
import {
  ANNOTATIONS_PATH,
  createGrafanaFake,
  GRAFANA_TOKEN,
  LOKI_PASSWORD,
  LOKI_PATH,
  LOKI_USER,
} from './fake-grafana.js';

const FAST = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };
const TITLE = 'Error rate above 5% on checkout';
const SEEN = /<b>Seen:<\/b> (\d+) times since \d{4}-\d\d-\d\d \d\d:\d\d UTC/;

let server: FakeServer;
let fake: ReturnType<typeof createGrafanaFake>;
const dirs: string[] = [];

beforeEach(async () => {
  fake = createGrafanaFake();
  server = await createFakeServer(fake.handler);
});

afterEach(async () => {
  await server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

// The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
function webhook(overrides: Partial<GrafanaWebhookOptions> = {}): GrafanaWebhook {
  return new GrafanaWebhook({
    url: server.url,
    token: GRAFANA_TOKEN,
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    circuitBreaker: false,
    ...overrides,
  });
}

/** Method, path and body of every request Grafana received. */
const calls = () =>
  server.requests.map((r) => ({ method: r.method, path: r.path, status: r.status, body: r.json() }));
const timeOf = (event: EmpathyEvent) => Date.parse(event.timestamp);
const alert = (extra: object = {}) =>
  createEvent(
    'alert',
    { title: TITLE, message: '7.2% 5xx', source: 'checkout-api', ...extra },
    { userId: 'sre-bot', severity: 'high' },
  );

/**
 * Runs each step in turn: one that makes an event (at that moment, so its time is when it
 * happened) has it delivered before the next step, like runIncidentSequence. Returns the events.
 */
async function deliverInTurn(dispatcher: Dispatcher, ...steps: (() => EmpathyEvent | unknown)[]) {
  const events: EmpathyEvent[] = [];
  for (const step of steps) {
    const event = step();
    if (event === null || typeof event !== 'object' || !('event_id' in event)) continue;
    events.push(event as EmpathyEvent);
    await dispatcher.dispatch(event as EmpathyEvent);
    await dispatcher.flush();
  }
  return events;
}

describe('grafana incident lifecycle', () => {
  it('posts one annotation, updates it on each repeat, and makes it a region ending at the resolution', async () => {
    const { events } = await runIncidentSequence({ webhook: () => webhook() });
    const sent = calls();
    expect(sent.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `POST ${ANNOTATIONS_PATH} 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
    ]);
    expect(sent[0]!.body).toMatchObject({ time: timeOf(events[0]!) });
    expect(sent[0]!.body.text).not.toMatch(SEEN);
    // Repeats change the text (seen N times), never the time: the marker stays at the first event.
    for (const [i, repeat] of sent.slice(1, 4).entries()) {
      expect(Object.keys(repeat.body)).toEqual(['text', 'tags']);
      expect(repeat.body.text.match(SEEN)?.[1]).toBe(String(i + 2));
      expect(repeat.body.tags).toEqual(sent[0]!.body.tags);
    }
    const resolve = sent[4]!.body;
    expect(Object.keys(resolve)).toEqual(['text', 'tags', 'timeEnd']);
    expect(resolve.timeEnd).toBe(timeOf(events[4]!));
    expect(resolve.text).toMatch(new RegExp(`^<b>✅ Resolved: ${TITLE}</b>`));
    expect(resolve.text.match(SEEN)?.[1]).toBe('4');
    expect(resolve.tags).toEqual([...sent[0]!.body.tags, 'resolved']);
    // What a dashboard shows now: one region, from the first event to the resolution.
    expect([...fake.annotations.entries()]).toEqual([
      [
        1,
        expect.objectContaining({
          time: timeOf(events[0]!),
          timeEnd: timeOf(events[4]!),
          tags: resolve.tags,
          text: resolve.text,
        }),
      ],
    ]);
  });

  it('updates the same annotation after a restart between fire and resolve (SqliteQueue keeps its id)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grafana-incidents-'));
    dirs.push(dir);
    const path = join(dir, 'queue.db');
    const { events } = await runIncidentSequence({
      webhook: () => webhook(),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    const sent = calls();
    expect(sent.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST ${ANNOTATIONS_PATH}`,
      ...Array.from({ length: 4 }, () => `PATCH ${ANNOTATIONS_PATH}/1`),
    ]);
    expect(sent[4]!.body.timeEnd).toBe(timeOf(events[4]!));
    expect(fake.annotations.get(1)).toMatchObject({ time: timeOf(events[0]!), timeEnd: timeOf(events[4]!) });
  });

  it('posts a resolved region when the annotation is gone (PATCH 404)', async () => {
    const dispatcher = new Dispatcher({ webhooks: [webhook()] });
    // Someone deletes the annotation in Grafana before the condition clears.
    const [fire, , resolve] = await deliverInTurn(
      dispatcher,
      () => alert(),
      () => alert(),
      () => fake.annotations.delete(1),
      () => alert({ resolved: true }),
    );
    await dispatcher.close();
    const sent = calls();
    expect(sent.map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `POST ${ANNOTATIONS_PATH} 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 404`,
      `POST ${ANNOTATIONS_PATH} 200`,
    ]);
    const region = sent[3]!.body;
    expect(region.tags).toContain('resolved');
    expect(region.text).toMatch(new RegExp(`^<b>✅ Resolved: ${TITLE}</b>`));
    expect(region.text.match(SEEN)?.[1]).toBe('2');
    // From when core first saw the condition (just after the event's own time) to the resolution.
    expect(region.time).toBeGreaterThanOrEqual(timeOf(fire!));
    expect(region.time).toBeLessThan(region.timeEnd);
    expect(region.timeEnd).toBe(timeOf(resolve!));
  });

  it('makes a new annotation the incident’s when a repeat finds the first one gone', async () => {
    const dispatcher = new Dispatcher({ webhooks: [webhook()] });
    const events = await deliverInTurn(
      dispatcher,
      () => alert(),
      () => fake.annotations.delete(1),
      () => alert(),
      () => alert(),
      () => alert({ resolved: true }),
    );
    await dispatcher.close();
    expect(calls().map((c) => `${c.method} ${c.path} ${c.status}`)).toEqual([
      `POST ${ANNOTATIONS_PATH} 200`,
      `PATCH ${ANNOTATIONS_PATH}/1 404`,
      `POST ${ANNOTATIONS_PATH} 200`,
      `PATCH ${ANNOTATIONS_PATH}/2 200`,
      `PATCH ${ANNOTATIONS_PATH}/2 200`,
    ]);
    expect(fake.annotations.get(2)).toMatchObject({ timeEnd: timeOf(events[3]!) });
  });

  it('without the annotation on record (state lost), posts a resolved annotation that names the condition', async () => {
    // The default in-memory incident store does not survive the restart.
    const { events } = await runIncidentSequence({ webhook: () => webhook(), restartBeforeResolve: true });
    const sent = calls();
    expect(sent.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST ${ANNOTATIONS_PATH}`,
      ...Array.from({ length: 3 }, () => `PATCH ${ANNOTATIONS_PATH}/1`),
      `POST ${ANNOTATIONS_PATH}`,
    ]);
    const resolved = sent[4]!.body;
    expect(resolved.time).toBe(timeOf(events[4]!));
    expect(resolved.timeEnd).toBeUndefined();
    expect(resolved.tags).toContain('resolved');
    expect(resolved.text).toMatch(new RegExp(`^<b>✅ Resolved: ${TITLE}</b>`));
    expect(resolved.text).toContain('<b>First seen:</b> not on record');
  });

  it('group: repeats inside the wait fold into one annotation that says how many; the resolution ends it', async () => {
    const plugin = webhook({ group: { waitSeconds: 1 } });
    const dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 4; i++) await dispatcher.dispatch(alert({ message: `7.${i}% 5xx` }));
    await dispatcher.flush();
    const [resolve] = await deliverInTurn(dispatcher, () => alert({ resolved: true }));
    expect(dispatcher.monitor.getWebhookStats(plugin.name)).toMatchObject({
      foldedCount: 3,
      successCount: 2,
    });
    await dispatcher.close();
    const sent = calls();
    expect(sent.map((c) => `${c.method} ${c.path}`)).toEqual([
      `POST ${ANNOTATIONS_PATH}`,
      `PATCH ${ANNOTATIONS_PATH}/1`,
    ]);
    expect(sent[0]!.body.text.match(SEEN)?.[1]).toBe('4');
    expect(sent[1]!.body).toMatchObject({
      timeEnd: timeOf(resolve!),
      tags: expect.arrayContaining(['resolved']),
    });
  });

  it('logs the incident key and status as fields of the Loki line, not as labels', async () => {
    const both = () => webhook({ loki: { url: server.url, username: LOKI_USER, password: LOKI_PASSWORD } });
    const { events } = await runIncidentSequence({ webhook: both, repeats: 1 });
    const key = incidentOf(events[0]!)!.key;
    const lines = server.requests
      .filter((r) => r.path === LOKI_PATH)
      .flatMap((r) => r.json().streams as { stream: Record<string, string>; values: [string, string][] }[]);
    for (const stream of lines) {
      expect(Object.keys(stream.stream).sort()).toEqual(['app', 'event_type', 'severity', 'user_id']);
    }
    const records = lines.flatMap((s) => s.values.map(([, line]) => JSON.parse(line)));
    expect(records.map((r) => [r.msg, r.incident.key, r.incident.status, r.incident.occurrences])).toEqual([
      [TITLE, key, 'firing', 1],
      [TITLE, key, 'firing', 2],
      [`Resolved: ${TITLE}`, key, 'resolved', 2],
    ]);
    // The annotation still went through its lifecycle next to the lines.
    expect(server.requests.filter((r) => r.path !== LOKI_PATH).map((r) => r.method)).toEqual([
      'POST',
      'PATCH',
      'PATCH',
    ]);
  });

  it('keeps the annotation made by an attempt whose log line failed: the retry does not post again', async () => {
    server.setHandler((request) => {
      if (request.path === LOKI_PATH && server.requests.filter((r) => r.path === LOKI_PATH).length === 1) {
        return { status: 503, body: 'Service Unavailable' };
      }
      return fake.handler(request);
    });
    const both = () => webhook({ loki: { url: server.url, username: LOKI_USER, password: LOKI_PASSWORD } });
    await runIncidentSequence({ webhook: both, repeats: 1 });
    expect(
      server.requests.map((r) => `${r.method} ${r.path === LOKI_PATH ? 'loki' : r.path} ${r.status}`),
    ).toEqual([
      `POST ${ANNOTATIONS_PATH} 200`,
      'POST loki 503',
      'POST loki 204',
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      'POST loki 204',
      `PATCH ${ANNOTATIONS_PATH}/1 200`,
      'POST loki 204',
    ]);
  });
});
