// A Teams Workflows webhook cannot edit a card or say which message it posted, so an incident (a
// condition that fires, repeats and clears) is a card per notification: the first as always,
// repeats that say how many times it fired, and a resolved card that names the first. These
// tests drive incidents through a real Dispatcher and assert the exact posts the fake flow got.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, Dispatcher } from '@empathy/webhooks-core';
import { createFakeServer, type FakeServer, runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AdaptiveCard, TeamsMessage } from '../src/format.js';
import { TeamsWebhook, type TeamsWebhookOptions } from '../src/teams-webhook.js';
import { expectValidCard } from './expect-valid-card.js';
import { SIG, teamsApi, WORKFLOW_ID, webhookUrl } from './fake-teams.js';

const FLOW = `/workflows/${WORKFLOW_ID}/triggers/manual/paths/invoke`;
const TITLE = 'Error rate above 5% on checkout';

let server: FakeServer;
let dispatcher: Dispatcher | undefined;
beforeEach(async () => {
  server = await createFakeServer(teamsApi);
});
afterEach(async () => {
  await dispatcher?.close();
  dispatcher = undefined;
  await server.close();
});

// The fake listens on 127.0.0.1 over http: a private target, allowed on purpose.
const create = (options: Partial<TeamsWebhookOptions> = {}) =>
  new TeamsWebhook({ webhookUrl: webhookUrl(server.url), allowPrivateNetwork: true, ...options });

/** What a channel member sees of each card the flow posted: header, first fact, text. Every card is checked valid. */
function cards(): { header: string; style: string; fact: string | undefined; text: string | undefined }[] {
  return server.requests.map((request) => {
    expect(request).toMatchObject({ method: 'POST', path: FLOW, status: 202 });
    expect(new URL(request.url, server.url).searchParams.get('sig')).toBe(SIG);
    const card: AdaptiveCard = request.json<TeamsMessage>().attachments[0].content;
    expectValidCard(card);
    const header = card.body[0]!;
    if (header.type !== 'Container') throw new Error('the card starts with its header');
    const title = header.items[0]!;
    const facts = card.body.find((e) => e.type === 'FactSet');
    const text = card.body[1]?.type === 'RichTextBlock' ? card.body[1].inlines[0]!.text : undefined;
    return {
      header: title.type === 'RichTextBlock' ? title.inlines[0]!.text : '',
      style: header.style,
      fact: facts?.type === 'FactSet' ? `${facts.facts[0]!.title}: ${facts.facts[0]!.value}` : undefined,
      text,
    };
  });
}

/** `Seen: 4 times since 2026-12-03 14:02 UTC` with the time left out. */
const untimed = (fact: string | undefined) => fact?.replace(/\d{4}-\d\d-\d\d \d\d:\d\d UTC$/, '<time>');

const alert = (data: Record<string, unknown> = {}) =>
  createEvent(
    'alert',
    { title: TITLE, message: 'checkout-api 5xx rate is 7.2%', source: 'checkout-api', ...data },
    { userId: 'sre-bot', severity: 'high' },
  );

describe('Teams incident lifecycle', () => {
  it('posts the first card, a card per repeat that says seen N times, and a resolved card naming the first', async () => {
    await runIncidentSequence({ webhook: () => create() });
    const posted = cards();
    expect(posted.map((c) => [c.header, c.style, untimed(c.fact)])).toEqual([
      [`🚨 ${TITLE}`, 'attention', 'Source: checkout-api'],
      [`🚨 ${TITLE}`, 'attention', 'Seen: 2 times since <time>'],
      [`🚨 ${TITLE}`, 'attention', 'Seen: 3 times since <time>'],
      [`🚨 ${TITLE}`, 'attention', 'Seen: 4 times since <time>'],
      [`✅ Resolved: ${TITLE}`, 'good', 'Seen: 4 times since <time>'],
    ]);
    // Every count is since the first card's time: the resolved card says when it all began.
    expect(new Set(posted.slice(1).map((c) => c.fact!.replace(/^Seen: \d times /, ''))).size).toBe(1);
    expect(posted[3]!.text).toBe('checkout-api 5xx rate is 7.2% over the last 10 minutes (repeat 3)');
  });

  it('still counts and names the first card after a restart between repeats and resolution (SqliteQueue)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'teams-lifecycle-'));
    try {
      const file = join(dir, 'queue.db');
      const { stats } = await runIncidentSequence({
        webhook: () => create(),
        queue: () => new SqliteQueue({ path: file }),
        restartBeforeResolve: true,
      });
      expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
      const posted = cards();
      expect(posted).toHaveLength(5);
      expect(posted[4]).toMatchObject({ header: `✅ Resolved: ${TITLE}`, style: 'good' });
      expect(posted[4]!.fact).toBe(posted[3]!.fact);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('names the first card by its own title when the resolution is worded differently (incident_key)', async () => {
    dispatcher = new Dispatcher({ webhooks: [create()] });
    const key = { incident_key: 'INC-4711', source: 'db-1' };
    await dispatcher.dispatch(
      createEvent('alert', { title: 'Disk 91% full', message: 'db-1 /var', ...key }, { userId: 'ops' }),
    );
    await dispatcher.dispatch(
      createEvent(
        'alert',
        { title: 'Disk usage back to 60%', message: 'cleanup done', resolved: true, ...key },
        { userId: 'ops' },
      ),
    );
    await dispatcher.flush();
    expect(cards().map((c) => [c.header, untimed(c.fact), c.text])).toEqual([
      ['🚨 Disk 91% full', 'Source: db-1', 'db-1 /var'],
      ['✅ Resolved: Disk 91% full', 'First seen: <time>', 'cleanup done'],
    ]);
  });

  it('posts a resolved card under its own title when nothing is known of the incident', async () => {
    dispatcher = new Dispatcher({ webhooks: [create()] });
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(cards().map((c) => [c.header, c.fact])).toEqual([
      [`✅ Resolved: ${TITLE}`, 'Source: checkout-api'],
    ]);
  });
});

describe('Teams incident lifecycle with group', () => {
  it('holds repeats to one card per intervalSeconds: 3 repeats become one card that says 4', async () => {
    dispatcher = new Dispatcher({ webhooks: [create({ group: { intervalSeconds: 0.5 } })] });
    await dispatcher.dispatch(alert());
    await dispatcher.flush();
    for (let i = 1; i <= 3; i++) await dispatcher.dispatch(alert({ message: `repeat ${i}` }));
    await dispatcher.flush();
    await dispatcher.dispatch(alert({ resolved: true }));
    await dispatcher.flush();
    expect(cards().map((c) => [c.header, untimed(c.fact)])).toEqual([
      [`🚨 ${TITLE}`, 'Source: checkout-api'],
      [`🚨 ${TITLE}`, 'Seen: 4 times since <time>'],
      [`✅ Resolved: ${TITLE}`, 'Seen: 4 times since <time>'],
    ]);
    expect(dispatcher.monitor.getWebhookStats('teams')).toMatchObject({ foldedCount: 2, successCount: 3 });
  });

  it('folds a burst inside waitSeconds into one card that says how many', async () => {
    dispatcher = new Dispatcher({ webhooks: [create({ group: { waitSeconds: 0.5 } })] });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(alert({ message: `5xx rate ${7 + i}%` }));
    await dispatcher.flush();
    expect(cards().map((c) => [c.header, untimed(c.fact)])).toEqual([
      [`🚨 ${TITLE}`, 'Seen: 5 times since <time>'],
    ]);
  });
});
