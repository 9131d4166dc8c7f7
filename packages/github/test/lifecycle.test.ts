import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEvent, type DeliveryContext, Dispatcher, type IncidentContext } from '@empathy/webhooks-core';
import { runIncidentSequence, SAMPLE_DATA } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ClientPayload, GitHubWebhook, type GitHubWebhookOptions } from '../src/index.js';
import { FakeGitHub } from './fake-github.js';

const TOKEN = 'ghp_lifecycleSecretToken0123456789abcdef';
const REPOSITORY = 'Smart-AI-Memory/empathy';
const REPO = `/repos/${REPOSITORY}`;

let github: FakeGitHub;
let dispatcher: Dispatcher | undefined;
const dirs: string[] = [];

beforeEach(async () => {
  github = await FakeGitHub.start(TOKEN, REPOSITORY);
});
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
  await github.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A webhook against the fake, made anew for each host (a restart makes a second one). */
const webhook = (options: Partial<GitHubWebhookOptions>) => () =>
  new GitHubWebhook({
    token: TOKEN,
    repository: REPOSITORY,
    baseUrl: github.url,
    // The fake listens on 127.0.0.1 over plain http.
    allowPrivateNetwork: true,
    circuitBreaker: false,
    ...options,
  });

/** `METHOD /path` of every request the fake received, in order. */
const calls = () => github.server.requests.map((r) => `${r.method} ${r.path}`);

/** The finding the issue-mode sequence reports: its repeats change only `message`. */
const FINDING = { ...SAMPLE_DATA.bug_detected, message: 'detected by the nightly scan' };

/** The fire → repeat ×3 → resolve calls in issue mode. */
const ISSUE_SEQUENCE = [
  `GET ${REPO}/issues`,
  `POST ${REPO}/issues`,
  ...Array(3)
    .fill([`GET ${REPO}/issues/1`, `POST ${REPO}/issues/1/comments`])
    .flat(),
  `POST ${REPO}/issues/1/comments`,
  `PATCH ${REPO}/issues/1`,
];

/** What the issue shows after the sequence: three "seen again" comments, one "resolved", closed as completed. */
function expectSequenceOnIssue() {
  expect(github.issues).toHaveLength(1);
  const [issue] = github.issues;
  expect(issue).toMatchObject({ number: 1, state: 'closed', state_reason: 'completed' });
  const comments = github.comments.filter((c) => c.issue_number === 1).map((c) => c.body);
  expect(comments).toHaveLength(4);
  const when = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d UTC';
  for (const [i, body] of comments.slice(0, 3).entries()) {
    expect(body).toMatch(
      new RegExp(`^\\*\\*🔁 Seen again\\*\\* at ${when} · ${i + 2} times since ${when}\\n`),
    );
  }
  expect(comments[3]).toMatch(new RegExp(`^\\*\\*✅ Resolved\\*\\* at ${when} · 4 times since ${when}\\n`));
  const [close] = github.server.requests.filter((r) => r.method === 'PATCH');
  expect(close!.json()).toEqual({ state: 'closed', state_reason: 'completed' });
}

describe('incident lifecycle: issues', () => {
  it('fire → repeat ×3 → resolve: one issue, a comment per repeat, then a comment and the issue closed as completed', async () => {
    const { stats } = await runIncidentSequence({
      webhook: webhook({ issues: true }),
      type: 'bug_detected',
      data: FINDING,
    });
    expect(calls()).toEqual(ISSUE_SEQUENCE);
    expectSequenceOnIssue();
    expect(stats[0]).toMatchObject({ successCount: 5, failedCount: 0 });
  });

  it('survives a restart before the resolution (SqliteQueue): the new process closes the same issue', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'github-lifecycle-'));
    dirs.push(dir);
    const path = join(dir, 'queue.db');
    const { stats } = await runIncidentSequence({
      webhook: webhook({ issues: true }),
      type: 'bug_detected',
      data: FINDING,
      queue: () => new SqliteQueue({ path, pollMs: 20 }),
      restartBeforeResolve: true,
    });
    // The second process listed nothing: the issue number came from the queue's file.
    expect(calls()).toEqual(ISSUE_SEQUENCE);
    expectSequenceOnIssue();
    expect(stats.map((s) => s.successCount)).toEqual([4, 1]);
  });

  it('an issue someone closed while the finding is still detected stays closed: the repeat opens a new one', async () => {
    const plugin = webhook({ issues: true })();
    const finding = () => createEvent('bug_detected', FINDING, { userId: 'scanner' });
    await plugin.deliver(finding(), context(incident('firing')));
    github.issues[0]!.state = 'closed';
    const receipt = await plugin.deliver(finding(), context(incident('firing', { issue: '1' }, 2)));
    expect(receipt).toMatchObject({
      detail: { action: 'issue_created', issue: 2 },
      incidentRef: { issue: '2' },
    });
    expect(github.comments).toHaveLength(0);
    expect(github.issues[1]!.body).toMatch(/\*\*Seen:\*\* 2 times since 2026-12-03 14:02 UTC/);
  });

  it('a resolved finding without an open issue opens none', async () => {
    const resolved = createEvent('bug_detected', { ...FINDING, resolved: true }, { userId: 'scanner' });
    const receipt = await webhook({ issues: true })().deliver(resolved, context(incident('resolved')));
    expect(receipt.detail).toMatchObject({ action: 'skipped' });
    expect(calls()).toEqual([`GET ${REPO}/issues`]);
  });

  it('a resolution without a kept number closes the open issue the search finds', async () => {
    const plugin = webhook({ issues: true })();
    await plugin.deliver(
      createEvent('bug_detected', FINDING, { userId: 'scanner' }),
      context(incident('firing')),
    );
    const resolved = createEvent('bug_detected', { ...FINDING, resolved: true }, { userId: 'scanner' });
    const receipt = await plugin.deliver(resolved, context(incident('resolved')));
    expect(receipt).toMatchObject({
      detail: { action: 'issue_closed', issue: 1 },
      incidentRef: { issue: '1' },
    });
    expect(github.issues[0]).toMatchObject({ state: 'closed', state_reason: 'completed' });
  });
});

describe('incident lifecycle: the sticky review comment', () => {
  it('fire → repeat ×3 → resolve: one comment, updated in place by its kept id, resolved at the end', async () => {
    await runIncidentSequence({
      webhook: webhook({}),
      type: 'code_review_complete',
      data: { ...SAMPLE_DATA.code_review_complete, incident_key: 'review:empathy#123' },
    });
    const id = github.comments[0]!.id;
    expect(calls()).toEqual([
      `GET ${REPO}/issues/123/comments`,
      `POST ${REPO}/issues/123/comments`,
      ...Array(4).fill(`PATCH ${REPO}/issues/comments/${id}`),
    ]);
    expect(github.comments).toHaveLength(1);
    const bodies = github.server.requests
      .filter((r) => r.method !== 'GET')
      .map((r) => r.json().body as string);
    expect(bodies[0]!.split('\n')[1]).toBe('## 🤖 AI Code Review: Smart-AI-Memory/empathy#123');
    for (const [i, body] of bodies.slice(1, 4).entries()) {
      expect(body).toContain(`\n**Seen:** ${i + 2} times since `);
    }
    expect(bodies[4]!.split('\n')[1]).toBe('## ✅ Resolved: AI Code Review: Smart-AI-Memory/empathy#123');
    expect(bodies[4]).toContain('\n**Seen:** 4 times since ');
    expect(github.comments[0]!.body).toBe(bodies[4]);
  });

  it('a kept comment deleted meanwhile: finds none by the marker and posts a new one', async () => {
    const plugin = webhook({})();
    const review = () =>
      createEvent(
        'code_review_complete',
        { ...SAMPLE_DATA.code_review_complete, incident_key: 'review:empathy#123' },
        { userId: 'reviewer' },
      );
    const first = await plugin.deliver(review(), context(incident('firing')));
    expect(first.incidentRef).toEqual({ comment: first.id, pull_request: '123' });
    github.comments.splice(0);
    const again = await plugin.deliver(review(), context(incident('firing', first.incidentRef, 2)));
    expect(again.detail).toMatchObject({ action: 'comment_created' });
    expect(calls().slice(2)).toEqual([
      `PATCH ${REPO}/issues/comments/${first.id}`,
      `GET ${REPO}/issues/123/comments`,
      `POST ${REPO}/issues/123/comments`,
    ]);
  });
});

describe('incident lifecycle: repository_dispatch', () => {
  it('fire → repeat ×3 → resolve: every dispatch carries the incident key and status in client_payload', async () => {
    await runIncidentSequence({ webhook: webhook({ dispatch: true, events: ['alert'] }) });
    expect(calls()).toEqual(Array(5).fill(`POST ${REPO}/dispatches`));
    const payloads = github.dispatches.map((d) => d.client_payload as unknown as ClientPayload);
    const incidents = payloads.map((p) => (p.metadata as { incident: Record<string, unknown> }).incident);
    expect(new Set(incidents.map((i) => i.key)).size).toBe(1);
    expect(incidents[0]!.key).toMatch(/^empathy:alert:[0-9a-f]{32}$/);
    expect(incidents.map((i) => [i.status, i.occurrences])).toEqual([
      ['firing', 1],
      ['firing', 2],
      ['firing', 3],
      ['firing', 4],
      ['resolved', 4],
    ]);
    // Core stores the incident's opening time when the first notification was delivered, a few ms
    // after the first one was planned: every later notification names that same time.
    const opened = incidents.map((i) => String(i.first_seen_at));
    expect(new Set(opened.slice(1)).size).toBe(1);
    expect(opened[0]! <= opened[1]!).toBe(true);
    expect(payloads.map((p) => p.summary)).toEqual([
      ...Array(4).fill('Error rate above 5% on checkout'),
      'Resolved: Error rate above 5% on checkout',
    ]);
    // GitHub's limit of 10 top-level keys holds.
    for (const payload of payloads) expect(Object.keys(payload).length).toBeLessThanOrEqual(10);
  });
});

describe('incident lifecycle with group', () => {
  const alert = (message: string) =>
    createEvent('alert', { title: 'Error rate above 5% on checkout', message }, { userId: 'sre-bot' });

  it('repository_dispatch: a burst inside waitSeconds is one dispatch (one workflow run) that says 5', async () => {
    const plugin = webhook({ dispatch: true, events: ['alert'], group: { waitSeconds: 0.2 } })();
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    for (let i = 0; i < 5; i++) await dispatcher.dispatch(alert(`7.${i}%`));
    await dispatcher.flush();
    expect(github.dispatches).toHaveLength(1);
    expect(github.dispatches[0]!.client_payload.metadata).toMatchObject({
      incident: { status: 'firing', occurrences: 5 },
    });
    expect(dispatcher.monitor.getWebhookStats('github')).toMatchObject({ successCount: 1, foldedCount: 4 });
  });

  it('issues: repeats inside intervalSeconds fold into one comment; the resolution still closes the issue', async () => {
    const plugin = webhook({ issues: true, group: { intervalSeconds: 0.5 } })();
    dispatcher = new Dispatcher({ webhooks: [plugin] });
    const finding = (resolved = false) =>
      createEvent('bug_detected', { ...FINDING, resolved }, { userId: 'scanner' });
    await dispatcher.dispatch(finding());
    await dispatcher.flush();
    for (let i = 0; i < 3; i++) await dispatcher.dispatch(finding());
    await dispatcher.flush();
    await dispatcher.dispatch(finding(true));
    await dispatcher.flush();
    expect(calls()).toEqual([
      `GET ${REPO}/issues`,
      `POST ${REPO}/issues`,
      `GET ${REPO}/issues/1`,
      `POST ${REPO}/issues/1/comments`,
      `POST ${REPO}/issues/1/comments`,
      `PATCH ${REPO}/issues/1`,
    ]);
    expect(github.comments.map((c) => c.body.split('\n')[0])).toEqual([
      expect.stringMatching(/^\*\*🔁 Seen again\*\* at .* · 4 times since /),
      expect.stringMatching(/^\*\*✅ Resolved\*\* at .* · 4 times since /),
    ]);
    expect(github.issues[0]!.state).toBe('closed');
    expect(dispatcher.monitor.getWebhookStats('github')).toMatchObject({ successCount: 3, foldedCount: 2 });
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
  return { key: 'k', status, occurrences, folded: 1, firstSeenAt: '2026-12-03T14:02:00.000Z', ref };
}
