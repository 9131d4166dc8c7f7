import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  type IncidentContext,
  MemoryIncidentStore,
  type RetryPolicy,
} from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackWebhook, type SlackWebhookOptions } from '../src/index.js';
import { type SlackFake, startSlackFake, TOKEN, WEBHOOK_PATH } from './fake-slack.js';

const FAST: RetryPolicy = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };
const TITLE = 'Error rate above 5% on checkout';
const MESSAGE = 'checkout-api 5xx rate is 7.2% over the last 10 minutes';

let fake: SlackFake;
const open: Dispatcher[] = [];
const dirs: string[] = [];

beforeEach(async () => {
  fake = await startSlackFake();
});
afterEach(async () => {
  for (const d of open.splice(0)) await d.close({ drainMs: 0 });
  await fake.server.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A factory of SlackWebhooks in `mode`, pointed at the fake (the real SDKs, over HTTP). */
function slack(mode: 'bot' | 'webhook', extra: Partial<SlackWebhookOptions> = {}) {
  const target =
    mode === 'bot'
      ? { token: TOKEN, channel: '#ai-alerts', baseUrl: fake.url }
      : { webhookUrl: fake.webhookUrl };
  return () =>
    new SlackWebhook({
      ...target,
      username: 'Empathy Bot',
      iconEmoji: ':robot_face:',
      allowPrivateNetwork: true,
      retryPolicy: FAST,
      circuitBreaker: false,
      ...extra,
    } as SlackWebhookOptions);
}

/** A dispatcher closed after the test. */
function host(...args: ConstructorParameters<typeof Dispatcher>) {
  const d = new Dispatcher(...args);
  open.push(d);
  return d;
}

async function deliver(d: Dispatcher, ...events: EmpathyEvent[]) {
  for (const event of events) {
    await d.dispatch(event);
    await d.flush();
  }
}

function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'slack-lifecycle-'));
  dirs.push(dir);
  return join(dir, 'queue.db');
}

/** Each request the fake got: the method, and the form fields that say where it went. */
function calls() {
  return fake.server.requests.map((r) => {
    if (!r.path.startsWith('/api/')) return { path: r.path };
    const form = r.form();
    const call: Record<string, string> = { method: r.path.slice('/api/'.length) };
    for (const key of ['channel', 'ts', 'thread_ts'] as const) {
      const value = form.get(key);
      if (value !== null) call[key] = value;
    }
    return call;
  });
}

/** The field of a message's first fields section that starts with `name`. */
function field(blocks: any[], name: string): string | undefined {
  const fields = blocks.find((b) => b.type === 'section' && b.fields)?.fields ?? [];
  return fields.map((f: any) => f.text as string).find((t: string) => t.startsWith(`*${name}:*`));
}

/** "2026-12-03 14:02 UTC" for each minute from `from` to now: the first-seen time lies in it. */
function minutesSince(from: number): string[] {
  const out: string[] = [];
  for (let t = from - (from % 60_000); t <= Date.now(); t += 60_000) {
    const iso = new Date(t).toISOString();
    out.push(`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`);
  }
  return out;
}

/** The calls of fire → repeat ×3 → resolve in bot-token mode: one post, then update + thread reply. */
function expectedBotCalls(ts: string) {
  const update = { method: 'chat.update', channel: 'C0AIALERTS', ts };
  const reply = { method: 'chat.postMessage', channel: 'C0AIALERTS', thread_ts: ts };
  return [
    { method: 'chat.postMessage', channel: '#ai-alerts' },
    update,
    reply,
    update,
    reply,
    update,
    reply,
    update,
    reply,
  ];
}

describe('bot token: the first message is updated and replied to', () => {
  it('fire → repeat ×3 → resolve: one post, then chat.update of the same ts and a reply in its thread', async () => {
    const started = Date.now();
    await runIncidentSequence({ webhook: slack('bot') });
    const ts = fake.messages[0]!.ts!;
    expect(calls()).toEqual(expectedBotCalls(ts));

    // The original now says how often the condition was seen, then that it resolved.
    expect(fake.updates.map((u) => [u.channel, u.ts, u.text])).toEqual([
      ['C0AIALERTS', ts, `🚨 ${TITLE} (seen 2 times): ${MESSAGE} (repeat 1)`],
      ['C0AIALERTS', ts, `🚨 ${TITLE} (seen 3 times): ${MESSAGE} (repeat 2)`],
      ['C0AIALERTS', ts, `🚨 ${TITLE} (seen 4 times): ${MESSAGE} (repeat 3)`],
      ['C0AIALERTS', ts, `✅ Resolved: ${TITLE} (seen 4 times): ${MESSAGE}`],
    ]);
    const resolved = fake.updates[3]!;
    expect(resolved.blocks[0].text.text).toBe(`✅ Resolved: ${TITLE}`);
    const seen = field(resolved.blocks, 'Seen')!;
    expect(minutesSince(started).map((m) => `*Seen:*\n4 times since ${m}`)).toContain(seen);

    // The thread keeps each notification as it was sent; the replies post as the original did.
    const [first, ...replies] = fake.messages;
    expect(first!.text).toBe(`🚨 ${TITLE}: ${MESSAGE}`);
    expect(field(first!.blocks, 'Seen')).toBeUndefined();
    expect(replies.map((m) => [m.thread_ts, m.text])).toEqual(fake.updates.map((u) => [ts, u.text]));
    expect(replies.map((m) => m.blocks)).toEqual(fake.updates.map((u) => u.blocks));
    expect(replies.every((m) => m.username === 'Empathy Bot' && m.icon_emoji === ':robot_face:')).toBe(true);
    // chat.update changes the content only.
    for (const r of fake.server.requests.filter((r) => r.path === '/api/chat.update')) {
      expect([r.form().has('username'), r.form().has('icon_emoji')]).toEqual([false, false]);
    }
  });

  it('updates the same message after a restart (SqliteQueue keeps the ts in its file)', async () => {
    const path = tempDb();
    const result = await runIncidentSequence({
      webhook: slack('bot'),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    const ts = fake.messages[0]!.ts!;
    expect(calls()).toEqual(expectedBotCalls(ts));
    expect(fake.updates.at(-1)!.text).toBe(`✅ Resolved: ${TITLE} (seen 4 times): ${MESSAGE}`);
    expect(result.stats.map((s) => s.successCount)).toEqual([4, 1]);
  });

  it('posts anew when the original was deleted, and the new message becomes the one updated', async () => {
    const d = host({ webhooks: [slack('bot')()] });
    const alert = (extra: Record<string, unknown> = {}) =>
      createEvent('alert', { title: TITLE, message: MESSAGE, ...extra }, { userId: 'sre-bot' });
    await deliver(d, alert());
    const first = fake.messages[0]!.ts!;
    fake.deleteMessage(first);
    await deliver(d, alert({ message: 'now 8.1%' }), alert({ resolved: true }));

    const second = fake.messages[1]!.ts!;
    expect(calls()).toEqual([
      { method: 'chat.postMessage', channel: '#ai-alerts' },
      { method: 'chat.update', channel: 'C0AIALERTS', ts: first },
      { method: 'chat.postMessage', channel: '#ai-alerts' },
      { method: 'chat.update', channel: 'C0AIALERTS', ts: second },
      { method: 'chat.postMessage', channel: 'C0AIALERTS', thread_ts: second },
    ]);
    expect(fake.messages[1]).toMatchObject({ text: `🚨 ${TITLE} (seen 2 times): now 8.1%` });
    expect(fake.messages[1]!.thread_ts).toBeUndefined();
    expect(fake.updates.map((u) => u.text)).toEqual([`✅ Resolved: ${TITLE} (seen 2 times): ${MESSAGE}`]);
    expect(d.monitor.getWebhookStats('slack')).toMatchObject({
      successCount: 3,
      failedCount: 0,
      retriedCount: 0,
    });
  });

  it('posts the resolution anew, naming the original, when its channel is gone (the webhook moved channels)', async () => {
    const started = Date.now();
    const incidents = new MemoryIncidentStore();
    const before = host({
      webhooks: [slack('bot', { channel: '#old-alerts' })()],
      incidents: { store: incidents },
    });
    const alert = (extra: Record<string, unknown> = {}) =>
      createEvent('alert', { title: TITLE, message: MESSAGE, ...extra }, { userId: 'sre-bot' });
    await deliver(before, alert());
    await before.close();
    fake.deleteChannel('C0OLDALERTS');

    const after = host({ webhooks: [slack('bot')()], incidents: { store: incidents } });
    await deliver(after, alert({ resolved: true }));
    const old = fake.messages[0]!.ts!;
    expect(calls()).toEqual([
      { method: 'chat.postMessage', channel: '#old-alerts' },
      { method: 'chat.update', channel: 'C0OLDALERTS', ts: old },
      { method: 'chat.postMessage', channel: '#ai-alerts' },
    ]);
    const resolution = fake.messages[1]!;
    expect(resolution).toMatchObject({ channel: 'C0AIALERTS', text: `✅ Resolved: ${TITLE}: ${MESSAGE}` });
    expect(resolution.thread_ts).toBeUndefined();
    expect(minutesSince(started).map((m) => `*First seen:*\n${m}`)).toContain(
      field(resolution.blocks, 'First seen'),
    );
    expect(after.monitor.getWebhookStats('slack')).toMatchObject({ successCount: 1, failedCount: 0 });
  });

  it("deliver()'s receipt says what was done: posted (with the ref to keep), updated, or reposted and why", async () => {
    const webhook = slack('bot')();
    const event = createEvent('alert', { title: TITLE, message: MESSAGE }, { userId: 'sre-bot' });
    const ctx = (incident: IncidentContext): DeliveryContext => ({
      signal: new AbortController().signal,
      attempt: 1,
      idempotencyKey: event.event_id,
      timeoutMs: 5000,
      incident,
    });
    const state = { key: 'k', firstSeenAt: new Date().toISOString() };
    const first = await webhook.deliver(
      event,
      ctx({ ...state, status: 'firing', occurrences: 1, folded: 1, ref: undefined }),
    );
    const ts = fake.messages[0]!.ts!;
    expect(first).toMatchObject({
      id: ts,
      detail: { mode: 'bot_token', action: 'posted', channel: 'C0AIALERTS' },
      incidentRef: { channel: 'C0AIALERTS', ts },
    });
    const ref = first.incidentRef!;
    const repeat = await webhook.deliver(
      event,
      ctx({ ...state, status: 'firing', occurrences: 2, folded: 1, ref }),
    );
    expect(repeat).toEqual({
      status: 200,
      id: fake.messages[1]!.ts,
      detail: { mode: 'bot_token', action: 'updated', channel: 'C0AIALERTS', ts, thread_ts: ts },
    });
    fake.deleteMessage(ts);
    const resolved = await webhook.deliver(
      event,
      ctx({ ...state, status: 'resolved', occurrences: 2, folded: 0, ref }),
    );
    const fresh = fake.messages[2]!.ts!;
    expect(resolved).toEqual({
      status: 200,
      id: fresh,
      detail: {
        mode: 'bot_token',
        action: 'reposted',
        channel: 'C0AIALERTS',
        replaced: { ts, error: 'message_not_found' },
      },
      incidentRef: { channel: 'C0AIALERTS', ts: fresh },
    });
    await webhook.close();
  });

  it.each(['cant_update_message', 'edit_window_closed'])(
    'posts anew when Slack refuses the edit with %s',
    async (code) => {
      const d = host({ webhooks: [slack('bot')()] });
      const alert = (extra: Record<string, unknown> = {}) =>
        createEvent('alert', { title: TITLE, message: MESSAGE, ...extra }, { userId: 'sre-bot' });
      await deliver(d, alert());
      fake.server.respondNext({ body: { ok: false, error: code } });
      await deliver(d, alert({ message: 'now 8.1%' }));
      expect(calls().map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update', 'chat.postMessage']);
      expect(fake.messages[1]).toMatchObject({
        channel: 'C0AIALERTS',
        text: `🚨 ${TITLE} (seen 2 times): now 8.1%`,
      });
      expect(fake.messages[1]!.thread_ts).toBeUndefined();
    },
  );

  it('retries a failed edit whole, and the thread gets one reply', async () => {
    const d = host({ webhooks: [slack('bot')()] });
    const alert = (extra: Record<string, unknown> = {}) =>
      createEvent('alert', { title: TITLE, message: MESSAGE, ...extra }, { userId: 'sre-bot' });
    await deliver(d, alert());
    const ts = fake.messages[0]!.ts!;
    fake.server.respondNext({ body: { ok: false, error: 'internal_error' } });
    await deliver(d, alert({ message: 'now 8.1%' }));
    expect(calls()).toEqual([
      { method: 'chat.postMessage', channel: '#ai-alerts' },
      { method: 'chat.update', channel: 'C0AIALERTS', ts },
      { method: 'chat.update', channel: 'C0AIALERTS', ts },
      { method: 'chat.postMessage', channel: 'C0AIALERTS', thread_ts: ts },
    ]);
    expect(fake.messages.filter((m) => m.thread_ts === ts)).toHaveLength(1);
    expect(d.monitor.getWebhookStats('slack')).toMatchObject({ successCount: 2, retriedCount: 1 });
  });

  it('does not post anew when the edit fails for another reason: the notification is dead-lettered, named', async () => {
    const d = host({ webhooks: [slack('bot')()] });
    const alert = (extra: Record<string, unknown> = {}) =>
      createEvent('alert', { title: TITLE, message: MESSAGE, ...extra }, { userId: 'sre-bot' });
    await deliver(d, alert());
    fake.server.respondNext({ body: { ok: false, error: 'not_authed' } });
    await deliver(d, alert({ message: 'now 8.1%' }));
    expect(calls().map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
    const [letter] = await d.deadLetters.list();
    expect(letter!.error.message).toBe(
      '[slack] ok:false from Slack chat.update at ' +
        new URL(fake.url).origin +
        " (not_authed): check option 'token'",
    );
  });
});

describe('incoming webhook: cannot edit, so each notification says where the incident stands', () => {
  it('fire → repeat ×3 → resolve: five messages, repeats "seen N times", the resolution naming the original', async () => {
    const started = Date.now();
    await runIncidentSequence({ webhook: slack('webhook') });
    expect(calls()).toEqual(Array.from({ length: 5 }, () => ({ path: WEBHOOK_PATH })));
    expect(fake.messages.map((m) => m.text)).toEqual([
      `🚨 ${TITLE}: ${MESSAGE}`,
      `🚨 ${TITLE} (seen 2 times): ${MESSAGE} (repeat 1)`,
      `🚨 ${TITLE} (seen 3 times): ${MESSAGE} (repeat 2)`,
      `🚨 ${TITLE} (seen 4 times): ${MESSAGE} (repeat 3)`,
      `✅ Resolved: ${TITLE} (seen 4 times): ${MESSAGE}`,
    ]);
    const resolution = fake.messages[4]!;
    expect(resolution.blocks[0].text.text).toBe(`✅ Resolved: ${TITLE}`);
    expect(minutesSince(started).map((m) => `*Seen:*\n4 times since ${m}`)).toContain(
      field(resolution.blocks, 'Seen'),
    );
  });

  it('names the first-seen time of a condition that fired once', async () => {
    const started = Date.now();
    await runIncidentSequence({ webhook: slack('webhook'), repeats: 0 });
    const [fired, resolution] = fake.messages;
    expect(field(fired!.blocks, 'First seen')).toBeUndefined();
    expect(resolution!.text).toBe(`✅ Resolved: ${TITLE}: ${MESSAGE}`);
    expect(minutesSince(started).map((m) => `*First seen:*\n${m}`)).toContain(
      field(resolution!.blocks, 'First seen'),
    );
  });

  it('keeps the count across a restart (SqliteQueue): the resolution still says seen 4 times', async () => {
    const path = tempDb();
    await runIncidentSequence({
      webhook: slack('webhook'),
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    expect(fake.messages.map((m) => m.text).at(-1)).toBe(`✅ Resolved: ${TITLE} (seen 4 times): ${MESSAGE}`);
  });
});

describe('group: a storm of one condition is one message', () => {
  it('50 failures of one test within 2 s, group.waitSeconds 5: exactly one message per mode, saying 50', async () => {
    const started = Date.now();
    const options = { events: ['test_failure'] as const, group: { waitSeconds: 5 } };
    const d = host({
      webhooks: [
        slack('bot', { ...options, name: 'slack-bot' })(),
        slack('webhook', { ...options, name: 'slack-hook' })(),
      ],
    });
    // Ten bursts of five, 150 ms apart: all inside 2 s, all inside the wait.
    for (let burst = 0; burst < 10; burst++) {
      if (burst > 0) await new Promise((r) => setTimeout(r, 150));
      for (let i = 0; i < 5; i++) {
        await d.dispatch(
          createEvent(
            'test_failure',
            {
              test_name: 'test_login_rejects_expired_token',
              suite: 'auth',
              file: 'tests/test_auth.py',
              message: `AssertionError: expected 401, got 200 (run ${burst * 5 + i + 1})`,
            },
            { userId: 'ci' },
          ),
        );
      }
    }
    expect(Date.now() - started).toBeLessThan(2000);
    // Held for the wait: nothing was posted during the storm.
    expect(fake.server.requests).toHaveLength(0);
    await d.flush();

    expect(fake.messages.map((m) => [m.mode, m.text])).toEqual(
      expect.arrayContaining([
        [
          'bot_token',
          '❌ Test failed: test_login_rejects_expired_token (seen 50 times): AssertionError: expected 401, got 200 (run 1)',
        ],
        [
          'incoming_webhook',
          '❌ Test failed: test_login_rejects_expired_token (seen 50 times): AssertionError: expected 401, got 200 (run 1)',
        ],
      ]),
    );
    expect(fake.messages).toHaveLength(2);
    expect(fake.updates).toHaveLength(0);
    for (const message of fake.messages) {
      expect(minutesSince(started).map((m) => `*Seen:*\n50 times since ${m}`)).toContain(
        field(message.blocks, 'Seen'),
      );
    }
    for (const name of ['slack-bot', 'slack-hook']) {
      expect(d.monitor.getWebhookStats(name)).toMatchObject({
        successCount: 1,
        foldedCount: 49,
        failedCount: 0,
      });
    }
  });
});
