import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type DeliveryContext, Dispatcher, type IncidentContext } from '@empathy/webhooks-core';
import { runIncidentSequence } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { JiraWebhook, type JiraWebhookOptions } from '../src/index.js';
import { adfErrors } from './adf.js';
import { createFakeJira, type FakeJira, type FakeJiraOptions } from './fake-jira.js';

const EMAIL = 'bot@example.com';
const API_TOKEN = 'ATATT3xFfGF0-lifecycle-api-token-0123456789';
const PAT = 'NjQ2MzA3ODk5Mzk3-lifecycle-personal-access-token';

let jira: FakeJira;
let dispatcher: Dispatcher | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
  await jira?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A Jira Cloud webhook for alerts against the fake, which is started first. */
async function cloud(options: Partial<JiraWebhookOptions> = {}, fake: FakeJiraOptions = {}) {
  jira = await createFakeJira({ email: EMAIL, apiToken: API_TOKEN, ...fake });
  return () =>
    new JiraWebhook({
      url: jira.url,
      email: EMAIL,
      apiToken: API_TOKEN,
      project: 'EMP',
      events: ['alert'],
      // The fake listens on 127.0.0.1 over plain http.
      allowPrivateNetwork: true,
      ...options,
    });
}

/** `METHOD /path` of every request the fake received, in order. */
const calls = () => jira.server.requests.map((r) => `${r.method} ${r.path}`);

/** The plain text of an ADF comment (or wiki markup as it is). */
function text(body: unknown): string {
  if (typeof body === 'string') return body;
  const out: string[] = [];
  const walk = (node: { text?: string; content?: unknown[] }) => {
    if (node.text) out.push(node.text);
    for (const child of node.content ?? []) walk(child as typeof node);
  };
  walk(body as { content?: unknown[] });
  return out.join('');
}

/** The fire → repeat ×3 → resolve calls on Jira Cloud with `resolveTransition` set. */
const CLOUD_SEQUENCE = [
  'POST /rest/api/3/search/jql',
  'POST /rest/api/3/issue',
  ...Array(3).fill(['GET /rest/api/3/issue/EMP-1', 'POST /rest/api/3/issue/EMP-1/comment']).flat(),
  'GET /rest/api/3/issue/EMP-1/transitions',
  'POST /rest/api/3/issue/EMP-1/transitions',
  'POST /rest/api/3/issue/EMP-1/comment',
];

/** What the ticket shows after the sequence: one issue, three "seen" comments, one "resolved". */
function expectSequenceOnTicket() {
  expect(jira.issues).toHaveLength(1);
  const [issue] = jira.issues;
  expect(issue!.key).toBe('EMP-1');
  expect(issue!.status).toBe('Done');
  const comments = issue!.comments.map((c) => c.body);
  expect(comments).toHaveLength(4);
  for (const comment of comments) expect(adfErrors(comment)).toEqual([]);
  const lines = comments.map(text);
  for (const [i, line] of lines.slice(0, 3).entries()) {
    expect(line).toMatch(/^Seen again at \d{4}-\d\d-\d\d \d\d:\d\d UTC: Error rate above 5% on checkout/);
    expect(line).toMatch(new RegExp(`Seen: ${i + 2} times since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC`));
  }
  expect(lines[3]).toMatch(/^Resolved at \d{4}-\d\d-\d\d \d\d:\d\d UTC: Error rate above 5% on checkout/);
  expect(lines[3]).toMatch(/Seen: 4 times since/);
}

describe('incident lifecycle on Jira Cloud', () => {
  it('fire → repeat ×3 → resolve: one ticket, a comment per repeat, then the Done transition and a comment', async () => {
    const webhook = await cloud({ resolveTransition: 'done' });
    const { stats } = await runIncidentSequence({ webhook });
    expect(calls()).toEqual(CLOUD_SEQUENCE);
    const [move] = jira.requestsTo('transitions').filter((r) => r.method === 'POST');
    // 'done' matched the transition named 'Done' whatever the case: its id, 31, was run.
    expect(move!.json()).toEqual({ transition: { id: '31' } });
    expectSequenceOnTicket();
    expect(stats[0]).toMatchObject({ successCount: 5, failedCount: 0 });
  });

  it('survives a restart before the resolution (SqliteQueue): the new process moves the same ticket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jira-lifecycle-'));
    dirs.push(dir);
    const path = join(dir, 'queue.db');
    const webhook = await cloud({ resolveTransition: 'Done' });
    const { stats } = await runIncidentSequence({
      webhook,
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    // The second process searched for nothing: the ticket's key came from the queue's file.
    expect(calls()).toEqual(CLOUD_SEQUENCE);
    expectSequenceOnTicket();
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
  });

  it('without resolveTransition, resolves with a comment only', async () => {
    const webhook = await cloud();
    await runIncidentSequence({ webhook });
    expect(calls()).toEqual([
      ...CLOUD_SEQUENCE.slice(0, -3),
      // The resolution: a comment, no transition asked for.
      'POST /rest/api/3/issue/EMP-1/comment',
    ]);
    expect(jira.issues[0]!.status).toBe('To Do');
    expect(text(jira.issues[0]!.comments.at(-1)!.body)).toMatch(/^Resolved at /);
  });

  it('when the workflow has no transition of that name, comments and says why in the receipt', async () => {
    const webhook = await cloud(
      { resolveTransition: 'Done' },
      {
        workflow: [
          { id: '11', name: 'Reopen', to: 'Open', category: 'new' },
          { id: '41', name: 'Close Issue', to: 'Closed', category: 'done' },
        ],
      },
    );
    const plugin = webhook();
    const fire = createEvent(
      'alert',
      { title: 'Disk almost full', message: 'db-1 at 91%' },
      { userId: 'ops' },
    );
    const created = await plugin.deliver(fire, context(incident('firing')));
    expect(created.incidentRef).toEqual({ issue: 'EMP-1' });
    const resolve = createEvent(
      'alert',
      { title: 'Disk almost full', message: 'db-1 at 91%', resolved: true },
      { userId: 'ops' },
    );
    const receipt = await plugin.deliver(resolve, context(incident('resolved', { issue: 'EMP-1' })));
    expect(receipt.detail).toMatchObject({
      action: 'commented',
      issue: 'EMP-1',
      resolved: true,
      note: "no transition named 'Done' is available for EMP-1 (available: 'Close Issue'); the issue was commented on, not moved",
    });
    expect(receipt.detail).not.toHaveProperty('transition');
    expect(jira.requestsTo('transitions').map((r) => r.method)).toEqual(['GET']);
    expect(jira.issues[0]!.status).toBe('Open');
    expect(text(jira.issues[0]!.comments[0]!.body)).toMatch(/^Resolved at .*: Disk almost full/);
  });

  it('a ticket someone closed while the condition still fires is left closed: the repeat opens a new one', async () => {
    const webhook = await cloud({ resolveTransition: 'Done' });
    const plugin = webhook();
    const fire = () =>
      createEvent('alert', { title: 'Disk almost full', message: 'db-1' }, { userId: 'ops' });
    await plugin.deliver(fire(), context(incident('firing')));
    jira.issues[0]!.done = true;
    const receipt = await plugin.deliver(fire(), context(incident('firing', { issue: 'EMP-1' }, 2)));
    expect(receipt).toMatchObject({ detail: { action: 'created' }, incidentRef: { issue: 'EMP-2' } });
    expect(jira.issues.map((i) => i.comments.length)).toEqual([0, 0]);
    // The new ticket says the condition fired before.
    expect(text(jira.issues[1]!.fields.description)).toMatch(/Seen: 2 times since/);
  });

  it('a ticket deleted meanwhile: the repeat finds none and opens a new one', async () => {
    const webhook = await cloud();
    const plugin = webhook();
    const fire = () =>
      createEvent('alert', { title: 'Disk almost full', message: 'db-1' }, { userId: 'ops' });
    await plugin.deliver(fire(), context(incident('firing')));
    jira.issues.splice(0);
    const receipt = await plugin.deliver(fire(), context(incident('firing', { issue: 'EMP-1' }, 2)));
    expect(receipt.incidentRef).toEqual({ issue: 'EMP-1' });
    expect(calls().slice(2)).toEqual([
      'GET /rest/api/3/issue/EMP-1',
      'POST /rest/api/3/search/jql',
      'POST /rest/api/3/issue',
    ]);
  });

  it('a resolved condition without a ticket opens none', async () => {
    const webhook = await cloud({ resolveTransition: 'Done' });
    const resolved = createEvent(
      'alert',
      { title: 'Disk almost full', message: 'db-1', resolved: true },
      { userId: 'ops' },
    );
    const receipt = await webhook().deliver(resolved, context(incident('resolved')));
    expect(receipt.detail).toMatchObject({ action: 'skipped' });
    expect(calls()).toEqual(['POST /rest/api/3/search/jql']);
  });
});

describe('incident lifecycle with group', () => {
  const alert = (message: string, resolved = false) =>
    createEvent(
      'alert',
      { title: 'Error rate above 5% on checkout', message, source: 'checkout-api', resolved },
      { userId: 'sre-bot', severity: 'high' },
    );

  it('folds a burst inside waitSeconds into one ticket that says how many it stands for', async () => {
    const webhook = await cloud({ group: { waitSeconds: 0.2 } });
    dispatcher = new Dispatcher({ webhooks: [webhook()] });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(alert(`7.${i}%`));
    await dispatcher.flush();
    expect(calls()).toEqual(['POST /rest/api/3/search/jql', 'POST /rest/api/3/issue']);
    expect(text(jira.issues[0]!.fields.description)).toMatch(/Seen: 5 times since/);
    expect(dispatcher.monitor.getWebhookStats('jira')).toMatchObject({ successCount: 1, foldedCount: 4 });
  });

  it('folds repeats inside intervalSeconds into one comment; the resolution still moves the ticket', async () => {
    const webhook = await cloud({ group: { intervalSeconds: 0.5 }, resolveTransition: 'Done' });
    dispatcher = new Dispatcher({ webhooks: [webhook()] });
    await dispatcher.dispatch(alert('7.2%'));
    await dispatcher.flush();
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(alert(`7.${i + 3}%`));
    await dispatcher.flush();
    await dispatcher.dispatch(alert('1.0%', true));
    await dispatcher.flush();
    expect(calls()).toEqual([
      'POST /rest/api/3/search/jql',
      'POST /rest/api/3/issue',
      'GET /rest/api/3/issue/EMP-1',
      'POST /rest/api/3/issue/EMP-1/comment',
      'GET /rest/api/3/issue/EMP-1/transitions',
      'POST /rest/api/3/issue/EMP-1/transitions',
      'POST /rest/api/3/issue/EMP-1/comment',
    ]);
    const comments = jira.issues[0]!.comments.map((c) => text(c.body));
    expect(comments[0]).toMatch(/Seen: 4 times since/);
    expect(comments[1]).toMatch(/^Resolved at .*Seen: 4 times since/);
    expect(jira.issues[0]!.status).toBe('Done');
    expect(dispatcher.monitor.getWebhookStats('jira')).toMatchObject({ successCount: 3, foldedCount: 2 });
  });
});

describe('incident lifecycle on Jira Data Center', () => {
  it('fire → repeat ×3 → resolve over REST v2, comments in wiki markup', async () => {
    jira = await createFakeJira({ token: PAT });
    const webhook = () =>
      new JiraWebhook({
        url: jira.url,
        token: PAT,
        project: 'EMP',
        events: ['alert'],
        resolveTransition: 'Done',
        allowPrivateNetwork: true,
      });
    await runIncidentSequence({ webhook });
    expect(calls()).toEqual(
      CLOUD_SEQUENCE.map((c) => c.replace('/3/search/jql', '/2/search').replace('/3/', '/2/')),
    );
    const comments = jira.issues[0]!.comments.map((c) => c.body as string);
    expect(comments[0]).toMatch(/^\*Seen again at .*\*Seen:\* 2 times since/s);
    expect(comments[3]).toMatch(/^\*Resolved at .*\*Seen:\* 4 times since/s);
    expect(jira.issues[0]!.status).toBe('Done');
  });
});

/** An attempt's context as the dispatcher builds it for an incident. */
function context(incident: IncidentContext): DeliveryContext {
  return {
    signal: new AbortController().signal,
    attempt: 1,
    idempotencyKey: 'evt_x',
    timeoutMs: 10_000,
    incident,
  };
}

function incident(
  status: IncidentContext['status'],
  ref?: Record<string, string>,
  occurrences = 1,
): IncidentContext {
  return {
    key: 'disk-db-1',
    status,
    occurrences,
    folded: 1,
    firstSeenAt: '2026-12-03T14:02:00.000Z',
    ref,
  };
}
