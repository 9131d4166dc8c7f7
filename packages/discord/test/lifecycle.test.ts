// One incident (a condition that fires, repeats and clears) is one Discord message: posted with
// `wait=true` for its id, then edited. These tests drive incidents through a real Dispatcher and
// assert the exact requests the fake Discord received and what its channel shows after them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordWebhook, type DiscordWebhookOptions } from '../src/discord-webhook.js';
import type { DiscordEmbed } from '../src/format.js';
import { RESOLVED_COLOR, SEVERITY_COLORS } from '../src/format.js';
import { CHANNEL_ID, discordApi, messages, TOKEN, WEBHOOK_ID, webhookUrl } from './fake-discord.js';

const BASE = `/api/v10/webhooks/${WEBHOOK_ID}/${TOKEN}`;
const TITLE = 'Error rate above 5% on checkout';
/** `2026-12-03 14:02 UTC`, as core's `Seen` fact shows the first-seen time. */
const UTC_MINUTE = /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/;

let server: FakeServer;
let dispatcher: Dispatcher | undefined;
beforeEach(async () => {
  messages.clear();
  server = await createFakeServer(discordApi);
});
afterEach(async () => {
  await dispatcher?.close();
  dispatcher = undefined;
  await server.close();
});

// The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
const create = (options: Partial<DiscordWebhookOptions> = {}) =>
  new DiscordWebhook({
    webhookUrl: webhookUrl(server.url),
    allowPrivateNetwork: true,
    retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.01, jitter: false },
    ...options,
  });

/** Each request as `METHOD /path?query`, the way Discord's API docs name them. */
const calls = () => server.requests.map((r) => `${r.method} ${r.url}`);
const embedOf = (request: { json(): { embeds: DiscordEmbed[] } }) => request.json().embeds[0]!;
const field = (embed: DiscordEmbed, name: string) => embed.fields?.find((f) => f.name === name)?.value;
/** The one message the channel shows. */
function onlyMessage() {
  expect(messages.size).toBe(1);
  return [...messages.values()][0]!;
}

const alert = (data: Record<string, unknown> = {}) =>
  createEvent(
    'alert',
    { title: TITLE, message: 'checkout-api 5xx rate is 7.2%', source: 'checkout-api', ...data },
    { userId: 'sre-bot', severity: 'high' },
  );

describe('Discord incident lifecycle', () => {
  it('posts the first event with wait=true, then edits that message for 3 repeats and the resolution', async () => {
    await runIncidentSequence({ webhook: () => create() });

    const id = onlyMessage().id;
    expect(calls()).toEqual([
      `POST ${BASE}?wait=true`,
      `PATCH ${BASE}/messages/${id}`,
      `PATCH ${BASE}/messages/${id}`,
      `PATCH ${BASE}/messages/${id}`,
      `PATCH ${BASE}/messages/${id}`,
    ]);
    expect(server.requests.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);

    const [post, ...edits] = server.requests;
    expect(embedOf(post!)).toMatchObject({ title: `🚨 ${TITLE}`, color: SEVERITY_COLORS.high });
    expect(field(embedOf(post!), 'Seen')).toBeUndefined();
    // An edit is the message's text, embeds and mentions: the author is not Discord's to change.
    for (const edit of edits) {
      expect(Object.keys(edit.json()).sort()).toEqual(['allowed_mentions', 'content', 'embeds']);
      expect(edit.json()).toMatchObject({ content: null, allowed_mentions: { parse: [] } });
    }
    const seen = edits.map((edit) => field(embedOf(edit), 'Seen'));
    expect(seen.map((s) => s?.replace(/since .*/, 'since …'))).toEqual([
      '2 times since …',
      '3 times since …',
      '4 times since …',
      '4 times since …',
    ]);
    expect(seen[0]!.replace(/^2 times since /, '')).toMatch(UTC_MINUTE);
    expect(embedOf(edits[2]!)).toMatchObject({
      title: `🚨 ${TITLE}`,
      description: 'checkout-api 5xx rate is 7.2% over the last 10 minutes (repeat 3)',
      color: SEVERITY_COLORS.high,
    });

    // What the channel shows in the end: the one message, resolved.
    const shown = onlyMessage();
    expect(shown.edited_timestamp).not.toBeNull();
    expect(shown.embeds[0]).toMatchObject({ title: `✅ Resolved: ${TITLE}`, color: RESOLVED_COLOR });
    expect(shown.embeds[0]!.fields![0]).toEqual({
      name: 'Seen',
      value: seen[2],
      inline: true,
    });
  });

  it('edits the message the first host posted after a restart between repeats and resolution (SqliteQueue)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'discord-lifecycle-'));
    try {
      const file = join(dir, 'queue.db');
      const { stats } = await runIncidentSequence({
        webhook: () => create(),
        queue: () => new SqliteQueue({ path: file }),
        restartBeforeResolve: true,
      });
      const id = onlyMessage().id;
      expect(calls()).toEqual([`POST ${BASE}?wait=true`, ...Array(4).fill(`PATCH ${BASE}/messages/${id}`)]);
      expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
      expect(onlyMessage().embeds[0]).toMatchObject({
        title: `✅ Resolved: ${TITLE}`,
        color: RESOLVED_COLOR,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('edits in the thread it posted to, keeping the URL query, without wait', async () => {
    const thread = '1200000000000000042';
    await runIncidentSequence({
      webhook: () =>
        create({ webhookUrl: `${webhookUrl(server.url)}?with_components=true`, threadId: thread }),
      repeats: 1,
    });
    const shown = onlyMessage();
    expect(shown.channel_id).toBe(thread);
    expect(calls()).toEqual([
      `POST ${BASE}?with_components=true&wait=true&thread_id=${thread}`,
      `PATCH ${BASE}/messages/${shown.id}?with_components=true&thread_id=${thread}`,
      `PATCH ${BASE}/messages/${shown.id}?with_components=true&thread_id=${thread}`,
    ]);
    expect(shown.embeds[0]!.title).toBe(`✅ Resolved: ${TITLE}`);
  });

  it('posts a new message when the first was deleted (404 Unknown Message), and edits that one from then on', async () => {
    dispatcher = new Dispatcher({ webhooks: [create()] });
    await dispatcher.dispatch(alert());
    await dispatcher.flush();
    const first = onlyMessage().id;
    // A moderator deletes the message.
    const deleted = await fetch(`${server.url}${BASE}/messages/${first}`, { method: 'DELETE' });
    expect(deleted.status).toBe(204);

    await dispatcher.dispatch(alert({ message: 'checkout-api 5xx rate is 9.8%' }));
    await dispatcher.flush();
    const second = onlyMessage().id;
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();

    expect(second).not.toBe(first);
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
      `POST ${BASE}?wait=true 200`,
      `DELETE ${BASE}/messages/${first} 204`,
      `PATCH ${BASE}/messages/${first} 404`,
      `POST ${BASE}?wait=true 200`,
      `PATCH ${BASE}/messages/${second} 200`,
    ]);
    // The new message says what the deleted one would have: the count goes on.
    expect(field(embedOf(server.requests[3]!), 'Seen')).toMatch(/^2 times since /);
    expect(onlyMessage().embeds[0]!.title).toBe(`✅ Resolved: ${TITLE}`);
    expect(await dispatcher.deadLetters.list()).toEqual([]);
  });

  it('retries a failed edit as an edit: no second message', async () => {
    dispatcher = new Dispatcher({ webhooks: [create()] });
    await dispatcher.dispatch(alert());
    await dispatcher.flush();
    const id = onlyMessage().id;
    server.respondNext({
      status: 502,
      headers: { 'content-type': 'text/html' },
      body: '<html><head><title>502 Bad Gateway</title></head></html>',
    });
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(server.requests.map((r) => `${r.method} ${r.url} ${r.status}`)).toEqual([
      `POST ${BASE}?wait=true 200`,
      `PATCH ${BASE}/messages/${id} 502`,
      `PATCH ${BASE}/messages/${id} 200`,
    ]);
    expect(onlyMessage().embeds[0]).toMatchObject({ title: `✅ Resolved: ${TITLE}`, color: RESOLVED_COLOR });
  });

  it('says when a condition that fired once was first seen when it resolves', async () => {
    dispatcher = new Dispatcher({ webhooks: [create()] });
    await dispatcher.dispatch(alert());
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(calls()).toEqual([`POST ${BASE}?wait=true`, `PATCH ${BASE}/messages/${onlyMessage().id}`]);
    const embed = onlyMessage().embeds[0] as DiscordEmbed;
    expect(field(embed, 'Seen')).toBeUndefined();
    expect(field(embed, 'First seen')).toMatch(UTC_MINUTE);
  });

  it('leaves events outside incidents as they were: one POST each, never edited', async () => {
    dispatcher = new Dispatcher({ webhooks: [create({ events: ['*'] })] });
    const note = () =>
      createEvent('pattern_discovered', { name: 'Retry storms', description: 'd' }, { userId: 'u' });
    await dispatcher.dispatch(note());
    await dispatcher.dispatch(note());
    await dispatcher.flush();
    expect(calls()).toEqual([`POST ${BASE}?wait=true`, `POST ${BASE}?wait=true`]);
  });
});

describe('Discord incident lifecycle with group', () => {
  it('folds repeats inside waitSeconds into one message that says how many, then edits it resolved', async () => {
    dispatcher = new Dispatcher({ webhooks: [create({ group: { waitSeconds: 0.5 } })] });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(alert({ message: `5xx rate ${7 + i}%` }));
    await dispatcher.flush();
    expect(calls()).toEqual([`POST ${BASE}?wait=true`]);
    expect(field(embedOf(server.requests[0]!), 'Seen')).toMatch(/^5 times since /);
    expect(dispatcher.monitor.getWebhookStats('discord')).toMatchObject({ foldedCount: 4, successCount: 1 });

    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(calls()).toEqual([`POST ${BASE}?wait=true`, `PATCH ${BASE}/messages/${onlyMessage().id}`]);
    expect(onlyMessage().embeds[0]!.title).toBe(`✅ Resolved: ${TITLE}`);
  });

  it('holds edits to one per intervalSeconds: 3 repeats become one edit that says 4', async () => {
    dispatcher = new Dispatcher({ webhooks: [create({ group: { intervalSeconds: 0.5 } })] });
    await dispatcher.dispatch(alert());
    await dispatcher.flush();
    for (let i = 1; i <= 3; i++) await dispatcher.dispatch(alert({ message: `repeat ${i}` }));
    await dispatcher.flush();
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    const id = onlyMessage().id;
    expect(calls()).toEqual([
      `POST ${BASE}?wait=true`,
      `PATCH ${BASE}/messages/${id}`,
      `PATCH ${BASE}/messages/${id}`,
    ]);
    expect(field(embedOf(server.requests[1]!), 'Seen')).toMatch(/^4 times since /);
    expect(onlyMessage().embeds[0]!.title).toBe(`✅ Resolved: ${TITLE}`);
  });
});

describe('the fake answers like Discord', () => {
  it('finds a message in a thread only with its thread_id, and answers 10008 otherwise', async () => {
    const thread = '1200000000000000042';
    const posted = await fetch(`${server.url}${BASE}?wait=true&thread_id=${thread}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ content: 'hello' }),
    });
    const { id, channel_id } = (await posted.json()) as { id: string; channel_id: string };
    expect(channel_id).toBe(thread);
    const edit = (query: string) =>
      fetch(`${server.url}${BASE}/messages/${id}${query}`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: 'edited' }),
      });
    const lost = await edit('');
    expect(lost.status).toBe(404);
    expect(await lost.json()).toEqual({ message: 'Unknown Message', code: 10008 });
    const found = await edit(`?thread_id=${thread}`);
    expect(found.status).toBe(200);
    expect(found.headers.get('x-ratelimit-bucket')).toBeTruthy();
    expect(await found.json()).toMatchObject({ id, content: 'edited', channel_id: thread });
    expect(messages.get(id)!.channel_id).not.toBe(CHANNEL_ID);
  });
});
