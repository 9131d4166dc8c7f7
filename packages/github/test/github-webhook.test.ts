import { inspect } from 'node:util';
import {
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  type RetryPolicy,
  WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { hostileEvent, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubWebhook, type GitHubWebhookOptions, reviewMarker } from '../src/index.js';
import { BOT_LOGIN, FakeGitHub } from './fake-github.js';

const TOKEN = 'ghp_behaviourSecretToken0123456789abcdef';
const REPOSITORY = 'Smart-AI-Memory/empathy';
const FAST: RetryPolicy = { maxRetries: 2, initialDelaySeconds: 0.05, backoffMultiplier: 1, jitter: false };

let github: FakeGitHub;
let dispatcher: Dispatcher | undefined;

beforeEach(async () => {
  github = await FakeGitHub.start(TOKEN, REPOSITORY);
});
afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
  await github.close();
});

function webhook(options: Partial<GitHubWebhookOptions> = {}): GitHubWebhook {
  return new GitHubWebhook({
    token: TOKEN,
    repository: REPOSITORY,
    baseUrl: github.url,
    // The fake listens on 127.0.0.1 over plain http.
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    circuitBreaker: false,
    ...options,
  });
}

/** Runs events through core's dispatcher, as EmpathyOS does, and waits until all are settled. */
async function deliver(plugin: GitHubWebhook, ...events: EmpathyEvent[]) {
  dispatcher = new Dispatcher({ webhooks: [plugin] });
  for (const event of events) await dispatcher.dispatch(event);
  await dispatcher.flush();
  return {
    stats: dispatcher.monitor.getWebhookStats(plugin.name),
    deadLetters: await dispatcher.deadLetters.list(),
  };
}

/** One attempt, straight through `deliver`, as core makes it. */
function attempt(plugin: GitHubWebhook, event: EmpathyEvent) {
  const ctx: DeliveryContext = {
    signal: new AbortController().signal,
    attempt: 1,
    idempotencyKey: event.event_id,
    timeoutMs: 5_000,
  };
  return plugin.deliver(event, ctx);
}

async function failure(promise: Promise<unknown>): Promise<WebhookDeliveryError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(WebhookDeliveryError);
    return error as WebhookDeliveryError;
  }
  throw new Error('expected the attempt to fail');
}

const review = (pullRequest = 123, summary = 'First pass') =>
  sampleEvent(
    'code_review_complete',
    { pull_request: pullRequest, summary },
    { eventId: `evt_${pullRequest}_${summary.length}` },
  );

describe('sticky review comment', () => {
  it('a 200 that is not a list (a proxy page) is reported as such and retried, then works', async () => {
    github.server.respondNext({
      status: 200,
      headers: { 'content-type': 'application/json' },
      body: { message: 'Please sign in to the corporate proxy' },
    });
    const error = await failure(attempt(webhook(), review()));
    expect(error.message).toBe(
      `[github] request to ${github.url} failed: GitHub answered with something that is not a list of comments (EBADRESPONSE)`,
    );
    expect(error).toMatchObject({ code: 'EBADRESPONSE', retryable: true, status: undefined });
    expect((await attempt(webhook(), review())).detail).toMatchObject({ action: 'comment_created' });
  });

  it('posts the review once, then updates the same comment', async () => {
    const plugin = webhook();
    expect(await attempt(plugin, review(123, 'First pass'))).toMatchObject({
      status: 201,
      detail: { action: 'comment_created' },
    });
    const second = await attempt(plugin, review(123, 'Second pass, after fixes'));
    expect(second).toMatchObject({ status: 200, detail: { action: 'comment_updated' } });
    expect(github.comments).toHaveLength(1);
    expect(second.id).toBe(String(github.comments[0]!.id));
    expect(github.comments[0]!.body).toContain('Second pass, after fixes');
    expect(github.comments[0]!.body).not.toContain('First pass');
    // Another PR gets its own comment.
    await attempt(plugin, review(124));
    expect(github.comments.map((c) => c.issue_number)).toEqual([123, 124]);
    // Wire: list then create, list then update, list then create; the token went as a header.
    expect(github.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${REPOSITORY}/issues/123/comments`,
      `POST /repos/${REPOSITORY}/issues/123/comments`,
      `GET /repos/${REPOSITORY}/issues/123/comments`,
      `PATCH /repos/${REPOSITORY}/issues/comments/${github.comments[0]!.id}`,
      `GET /repos/${REPOSITORY}/issues/124/comments`,
      `POST /repos/${REPOSITORY}/issues/124/comments`,
    ]);
    expect(github.server.requests[1]!.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('finds its earlier comment past the first page, after a restart', async () => {
    for (let i = 0; i < 150; i++) github.addComment(123, `comment ${i}`, 'reviewer');
    github.addComment(123, `${reviewMarker('github')}\nold review`, BOT_LOGIN);
    const result = await attempt(webhook(), review(123, 'New review'));
    expect(result.detail).toMatchObject({ action: 'comment_updated' });
    expect(github.comments).toHaveLength(151);
    expect(github.comments[150]!.body).toContain('New review');
    const pages = github.server.requests.filter((r) => r.method === 'GET').map((r) => r.url);
    expect(pages).toEqual([
      `/repos/${REPOSITORY}/issues/123/comments?per_page=100&page=1`,
      `/repos/${REPOSITORY}/issues/123/comments?per_page=100&page=2`,
    ]);
  });

  it("ignores a marker planted in someone else's comment once it knows its own login", async () => {
    const plugin = webhook();
    await attempt(plugin, review(123, 'Ours'));
    github.comments.unshift({
      ...github.comments[0]!,
      id: 1,
      login: 'mallory',
      body: `${reviewMarker('github')}\nfake`,
    });
    await attempt(plugin, review(123, 'Updated'));
    expect(github.comments.find((c) => c.login === 'mallory')!.body).toContain('fake');
    expect(github.comments.find((c) => c.login === BOT_LOGIN)!.body).toContain('Updated');
  });

  it('with commentAuthor, never touches a planted marker, even on a cold start', async () => {
    github.addComment(123, `${reviewMarker('github')}\nplanted`, 'mallory');
    await attempt(webhook({ commentAuthor: BOT_LOGIN }), review(123, 'Real review'));
    expect(github.comments.find((c) => c.login === 'mallory')!.body).toContain('planted');
    expect(github.comments).toHaveLength(2);
  });

  it('keeps separate sticky comments for differently named webhooks', async () => {
    await attempt(webhook({ name: 'security-review' }), review(123, 'Security'));
    await attempt(webhook({ name: 'style-review' }), review(123, 'Style'));
    expect(github.comments).toHaveLength(2);
  });

  it('posts a new comment when its earlier one was deleted meanwhile', async () => {
    const plugin = webhook();
    await attempt(plugin, review());
    const id = github.comments[0]!.id;
    // The list still shows it, but it is gone by the time we update it.
    github.server.respondNext(github.ok(200, [github.commentJson(github.comments[0]!)]));
    github.comments.length = 0;
    const result = await attempt(plugin, review(123, 'Again'));
    expect(result.detail).toMatchObject({ action: 'comment_created' });
    expect(github.comments).toHaveLength(1);
    expect(github.comments[0]!.id).not.toBe(id);
  });

  it("refuses a review of another repository's PR: permanent, nothing sent", async () => {
    const { stats, deadLetters } = await deliver(
      webhook(),
      sampleEvent('code_review_complete', { repository: 'acme/other' }),
    );
    expect(stats).toMatchObject({ failedCount: 1, totalSent: 1, retriedCount: 0 });
    expect(deadLetters[0]!.error).toMatchObject({ code: 'repository_mismatch' });
    expect(deadLetters[0]!.error.message).toBe(
      `[github] the review is for acme/other, but this webhook posts to ${REPOSITORY}`,
    );
    expect(github.server.requests).toHaveLength(0);
  });

  it('sends a hostile review that GitHub accepts', async () => {
    const event = hostileEvent('code_review_complete');
    event.data.repository = REPOSITORY;
    const { stats } = await deliver(webhook(), event);
    expect(stats).toMatchObject({ successCount: 1, failedCount: 0 });
    expect(github.comments[0]!.body.length).toBeLessThanOrEqual(65_536);
  });
});

describe('issues for findings', () => {
  it('are off by default: subscribing to findings without them is a config error', () => {
    expect(() => webhook({ events: ['bug_detected'] })).toThrow(
      /\[github\] option 'events' includes 'bug_detected', which this webhook has nothing to do with/,
    );
    expect(webhook().events).toEqual(['code_review_complete']);
    expect(webhook({ issues: true }).events).toEqual([
      'code_review_complete',
      'bug_detected',
      'security_vulnerability',
    ]);
  });

  it('opens one issue per finding and recognises it on the next detection', async () => {
    const plugin = webhook({ issues: { labels: ['ai-detected', 'triage'], assignees: ['octocat'] } });
    const first = await attempt(plugin, sampleEvent('security_vulnerability'));
    expect(first).toMatchObject({ status: 201, id: '1', detail: { action: 'issue_created', issue: 1 } });
    const sent = github.server.requests.find((r) => r.method === 'POST')!.json();
    expect(sent).toMatchObject({
      title: '[AI Detected] Security vulnerability: SQL injection in auth.py:45',
      labels: ['ai-detected', 'triage', 'security', 'sql-injection'],
      assignees: ['octocat'],
    });
    // Same finding, found again on another line: no second issue.
    const again = await attempt(plugin, sampleEvent('security_vulnerability', { line: 51 }));
    expect(again).toMatchObject({ status: 200, id: '1', detail: { action: 'issue_exists' } });
    // Another finding: a new issue.
    await attempt(plugin, sampleEvent('bug_detected'));
    expect(github.issues.map((i) => i.title)).toEqual([
      '[AI Detected] Security vulnerability: SQL injection in auth.py:45',
      '[AI Detected] Bug detected: Unclosed file handle in storage/export.py:112',
    ]);
    // The search is scoped to open issues with the first label.
    expect(github.server.requests[0]!.url).toBe(
      `/repos/${REPOSITORY}/issues?state=open&labels=ai-detected&per_page=100&page=1`,
    );
  });

  it('opens a new issue when the earlier one was closed (a regression)', async () => {
    const plugin = webhook({ issues: true });
    await attempt(plugin, sampleEvent('bug_detected'));
    github.issues[0]!.state = 'closed';
    const result = await attempt(plugin, sampleEvent('bug_detected'));
    expect(result.detail).toMatchObject({ action: 'issue_created', issue: 2 });
  });

  it('does not count an issue that only mentions the fingerprint, or a pull request', async () => {
    const plugin = webhook({ issues: true });
    await attempt(plugin, sampleEvent('bug_detected'));
    const marker = github.issues[0]!.body.split('\n')[0]!;
    github.issues[0]!.state = 'closed';
    github.addIssue({ title: 'quote', body: `see ${marker}`, labels: ['ai-detected'] });
    github.addIssue({ title: 'pr', body: marker, labels: ['ai-detected'] }).pull_request = true;
    const result = await attempt(plugin, sampleEvent('bug_detected'));
    expect(result.detail).toMatchObject({ action: 'issue_created' });
  });

  it('with dedupe off, opens an issue every time', async () => {
    const plugin = webhook({ issues: { dedupe: false } });
    await attempt(plugin, sampleEvent('bug_detected'));
    await attempt(plugin, sampleEvent('bug_detected'));
    expect(github.issues).toHaveLength(2);
    expect(github.server.requests.every((r) => r.method === 'POST')).toBe(true);
  });
});

describe('repository_dispatch', () => {
  it('fires for CI/CD events with a 10-key client_payload', async () => {
    const plugin = webhook({ dispatch: true });
    expect(plugin.events).toEqual(['code_review_complete', 'deployment_risk', 'test_failure']);
    const receipt = await attempt(plugin, sampleEvent('deployment_risk'));
    expect(receipt).toEqual({
      status: 204,
      detail: { action: 'repository_dispatch', eventType: 'empathy.deployment_risk' },
    });
    const [dispatch] = github.dispatches;
    expect(dispatch!.event_type).toBe('empathy.deployment_risk');
    expect(Object.keys(dispatch!.client_payload)).toHaveLength(10);
    expect(dispatch!.client_payload).toMatchObject({
      event_id: 'evt_sample_deployment_risk',
      // The shared reading's title: the same one every integration shows.
      summary: 'Deployment risk: authentication 2.4.0 → production',
      data: { service: 'authentication', environment: 'production' },
    });
  });

  it('fires for any chosen event, with a chosen event_type', async () => {
    const plugin = webhook({
      events: ['prediction', 'security_vulnerability'],
      dispatch: { eventType: (e) => `empathy-${e.severity ?? 'none'}` },
    });
    await attempt(plugin, sampleEvent('prediction'));
    await attempt(plugin, sampleEvent('security_vulnerability'));
    expect(github.dispatches.map((d) => d.event_type)).toEqual(['empathy-warning', 'empathy-critical']);
  });

  it('refuses an event_type over 100 characters without sending', async () => {
    expect(() => webhook({ dispatch: { eventType: 'x'.repeat(101) } })).toThrow(
      /option 'dispatch.eventType'/,
    );
    const plugin = webhook({ dispatch: { eventType: () => 'x'.repeat(101) } });
    const error = await failure(attempt(plugin, sampleEvent('test_failure')));
    expect(error).toMatchObject({ retryable: false, code: 'invalid_event_type' });
    expect(github.server.requests).toHaveLength(0);
  });

  it('fits a hostile event under GitHub 64 KB payload limit', async () => {
    const { stats } = await deliver(webhook({ events: ['*'], dispatch: true }), hostileEvent('test_failure'));
    expect(stats).toMatchObject({ successCount: 1 });
    expect(Buffer.byteLength(github.server.requests[0]!.body)).toBeLessThan(65_536);
  });
});

describe('workflow_dispatch', () => {
  it('runs the workflow on the default branch, read once', async () => {
    const plugin = webhook({ workflow: { workflowId: 'deploy-gate.yml' } });
    const receipt = await attempt(plugin, sampleEvent('deployment_risk'));
    expect(receipt).toEqual({
      status: 204,
      detail: { action: 'workflow_dispatch', workflow: 'deploy-gate.yml', ref: 'trunk' },
    });
    await attempt(plugin, sampleEvent('test_failure'));
    expect(github.server.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${REPOSITORY}`,
      `POST /repos/${REPOSITORY}/actions/workflows/deploy-gate.yml/dispatches`,
      `POST /repos/${REPOSITORY}/actions/workflows/deploy-gate.yml/dispatches`,
    ]);
    expect(github.workflowRuns[0]!.inputs).toMatchObject({
      event_type: 'deployment_risk',
      event_id: 'evt_sample_deployment_risk',
      severity: 'high',
    });
    expect(JSON.parse(github.workflowRuns[0]!.inputs.payload as string).data.service).toBe('authentication');
  });

  it('takes a ref and custom inputs', async () => {
    const plugin = webhook({
      workflow: {
        workflowId: 4242,
        ref: 'main',
        inputs: (e) => ({ service: (e.data as { service: string }).service }),
      },
    });
    await attempt(plugin, sampleEvent('deployment_risk'));
    expect(github.workflowRuns).toEqual([
      { workflow: '4242', ref: 'main', inputs: { service: 'authentication' } },
    ]);
    expect(github.server.requests).toHaveLength(1);
  });

  it('reports a ref GitHub does not know as permanent', async () => {
    const error = await failure(
      attempt(webhook({ workflow: { workflowId: 'a.yml', ref: 'nope' } }), sampleEvent('test_failure')),
    );
    expect(error).toMatchObject({ status: 422, retryable: false, code: undefined });
    expect(error.message).toBe(
      `[github] HTTP 422 from POST ${github.url}/repos/${REPOSITORY}/actions/workflows/a.yml/dispatches: No ref found for: nope`,
    );
  });
});

describe('GitHub errors and rate limits', () => {
  it('primary rate limit: waits until x-ratelimit-reset, by GitHub clock', async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    github.server.respondNext(github.primaryRateLimit(reset));
    const error = await failure(attempt(webhook(), review()));
    expect(error).toMatchObject({ status: 403, code: 'rate_limited' });
    expect(error.retryAfterMs).toBeGreaterThan(118_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(121_000);
    expect(error.message).toMatch(
      /^\[github\] HTTP 403 from GET http:\/\/127\.0\.0\.1:\d+\/repos\/.+\/comments \(rate_limited\): API rate limit exceeded for user ID 1\. \(retry after 1\d\d(\.\d)?s\)$/,
    );
  });

  it('secondary rate limit: 403 with Retry-After, or a minute without', async () => {
    github.server.respondNext(github.secondaryRateLimit(7));
    const withHeader = await failure(attempt(webhook(), review()));
    expect(withHeader).toMatchObject({ status: 403, code: 'secondary_rate_limited', retryAfterMs: 7_000 });
    github.server.respondNext(github.secondaryRateLimit());
    const without = await failure(attempt(webhook(), review()));
    expect(without).toMatchObject({ status: 403, code: 'secondary_rate_limited', retryAfterMs: 60_000 });
  });

  it('core waits out a rate limit and then delivers; no hidden retry underneath', async () => {
    // A primary limit resetting in 2 s: the retry must come no earlier.
    github.server.respondNext(github.primaryRateLimit(Math.floor(Date.now() / 1000) + 2));
    const started = Date.now();
    const { stats } = await deliver(webhook({ dispatch: true }), sampleEvent('test_failure'));
    expect(stats).toMatchObject({ successCount: 1, retriedCount: 1, totalSent: 2 });
    const [limited, retried] = github.server.requests;
    expect(limited!.status).toBe(403);
    expect(retried!.receivedAt - started).toBeGreaterThanOrEqual(1_000);
    expect(github.server.requests).toHaveLength(2);
  });

  it('makes exactly one request per attempt: Octokit neither retries nor throttles', async () => {
    github.server.respondNext({ status: 503, headers: github.headers(), body: { message: 'Unavailable' } });
    github.server.respondNext(github.secondaryRateLimit(30, 429));
    const plugin = webhook({ dispatch: true, retryPolicy: { maxRetries: 0 } });
    const started = Date.now();
    const { stats } = await deliver(plugin, sampleEvent('test_failure'), sampleEvent('deployment_risk'));
    expect(stats).toMatchObject({ failedCount: 2, totalSent: 2 });
    expect(github.server.requests.map((r) => r.status)).toEqual([503, 429]);
    expect(Date.now() - started, 'nobody slept through the Retry-After').toBeLessThan(5_000);
  });

  it('a 403 that is not a rate limit is permanent', async () => {
    github.server.respondNext(github.error(403, 'Resource not accessible by integration'));
    const { stats, deadLetters } = await deliver(webhook(), review());
    expect(stats).toMatchObject({ failedCount: 1, totalSent: 1 });
    expect(deadLetters[0]!.error).toMatchObject({ status: 403 });
    expect(deadLetters[0]!.error.code).toBeUndefined();
  });

  it('422: names the request and GitHub validation errors, and keeps no SDK error', async () => {
    const plugin = webhook({ issues: { dedupe: false } });
    github.server.respondNext(
      github.validation('Issue', 'title', 'title is too long (maximum is 256 characters)'),
    );
    const error = await failure(attempt(plugin, sampleEvent('bug_detected')));
    expect(error.message).toBe(
      `[github] HTTP 422 from POST ${github.url}/repos/${REPOSITORY}/issues: Validation Failed (title is too long (maximum is 256 characters))`,
    );
    expect(error).toMatchObject({ status: 422, retryable: false });
    // Octokit's RequestError carries the request (headers included): it is never attached.
    expect(error.cause).toBeUndefined();
  });

  it('a bad token is a permanent 401 whose error holds no token', async () => {
    const plugin = webhook({ token: `${TOKEN}x` });
    const error = await failure(attempt(plugin, review()));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).toBe(
      `[github] HTTP 401 from GET ${github.url}/repos/${REPOSITORY}/issues/123/comments: Bad credentials`,
    );
    expect(inspect(error, { depth: 12, showHidden: true })).not.toContain(TOKEN);
  });

  it('redacts the token even if a server echoes it back', async () => {
    github.server.respondNext(github.error(400, `bad header: token ${TOKEN}`));
    const error = await failure(attempt(webhook(), review()));
    expect(error.message).toContain('bad header: token ***');
    expect(inspect(error, { depth: 12, showHidden: true })).not.toContain(TOKEN);
  });

  it('a refused connection is retryable, has no status and no secrets', async () => {
    const url = github.url;
    await github.close();
    const error = await failure(attempt(webhook({ baseUrl: url }), review()));
    expect(error).toMatchObject({ status: undefined, retryable: true, code: 'ECONNREFUSED' });
    expect(error.message).toMatch(
      /^\[github\] request to GET http:\/\/127\.0\.0\.1:\d+\/repos\/.+\/comments failed: .*\(ECONNREFUSED\)$/,
    );
    expect(inspect(error, { depth: 12, showHidden: true })).not.toContain(TOKEN);
    github = await FakeGitHub.start(TOKEN, REPOSITORY);
  });
});

describe('options', () => {
  const configError = (options: Partial<GitHubWebhookOptions>) => {
    try {
      webhook(options);
    } catch (error) {
      expect(isWebhookConfigError(error)).toBe(true);
      expect((error as Error).message).not.toContain(TOKEN);
      return (error as Error).message;
    }
    throw new Error('expected a WebhookConfigError');
  };

  it('name the option and the webhook', () => {
    expect(configError({ token: '' })).toBe(
      "[github] option 'token' must be a non-empty GitHub token without spaces",
    );
    expect(configError({ token: `${TOKEN} x` })).toMatch(/option 'token'/);
    expect(configError({ repository: 'no-slash' })).toBe(
      `[github] option 'repository' must be 'owner/name' (got "no-slash")`,
    );
    expect(configError({ name: 'gh', repository: 'a/b/c' })).toMatch(/^\[gh\] option 'repository'/);
    expect(configError({ baseUrl: 'ftp://ghe.example.com' })).toMatch(
      /option 'baseUrl' must be an https URL \(got ftp:\)/,
    );
    expect(configError({ baseUrl: 'https://10.0.0.1/api/v3', allowPrivateNetwork: false })).toBe(
      "[github] option 'baseUrl' points at a private address (https://10.0.0.1); set allowPrivateNetwork: true to allow it",
    );
    expect(configError({ baseUrl: `https://user:${TOKEN}@ghe.example.com/api/v3` })).toBe(
      "[github] option 'baseUrl' must not carry credentials, a query or a fragment (https://ghe.example.com)",
    );
    expect(configError({ events: ['code_review_complet' as 'code_review_complete'] })).toMatch(
      /did you mean 'code_review_complete'\?/,
    );
    expect(configError({ events: ['*'] })).toMatch(/option 'events' includes '\*'/);
    expect(configError({ dispatch: true, workflow: { workflowId: 'a.yml' } })).toMatch(
      /options 'dispatch' and 'workflow' exclude each other/,
    );
    expect(configError({ workflow: { workflowId: 'deploy' } })).toMatch(/option 'workflow.workflowId'/);
    expect(configError({ issues: { labels: ['a,b'] } })).toMatch(/option 'issues.labels'/);
    expect(configError({ issues: { labels: [] } })).toMatch(/needs at least one label/);
    expect(configError({ issues: { assignees: ['not a login'] } })).toMatch(/option 'issues.assignees'/);
    expect(configError({ commentAuthor: '@me' })).toMatch(/option 'commentAuthor'/);
    expect(configError({ retryPolicy: { maxRetries: -1 } })).toMatch(/option 'retryPolicy.maxRetries'/);
  });

  it("default to GitHub's pace: one at a time, 60 a minute and 500 an hour", () => {
    const plugin = webhook();
    expect(plugin.concurrency).toBe(1);
    expect(plugin.rateLimit).toEqual({ maxRequestsPerMinute: 60, maxRequestsPerHour: 500 });
    expect(plugin.name).toBe('github');
    expect(plugin.actionFor('code_review_complete')).toBe('comment');
  });

  it('hold the token in no field that printing the webhook shows', () => {
    const plugin = webhook();
    expect(inspect(plugin, { depth: 12, showHidden: true })).not.toContain(TOKEN);
    expect(JSON.stringify(plugin)).not.toContain(TOKEN);
    expect(plugin.target).toBe(github.url);
  });

  it('make no network request at construction', () => {
    webhook({ workflow: { workflowId: 'a.yml' } });
    expect(github.server.requests).toHaveLength(0);
  });

  it('accept a GitHub Enterprise base URL with a path', async () => {
    const plugin = webhook({ baseUrl: `${github.url}/api/v3/`, dispatch: true });
    await failure(attempt(plugin, sampleEvent('test_failure')));
    expect(github.server.requests[0]!.path).toBe(`/api/v3/repos/${REPOSITORY}/dispatches`);
  });
});

describe('the format option', () => {
  it('changes the review comment, and the sticky marker stays first', async () => {
    const plugin = webhook({
      format: (_event, defaults) =>
        defaults.action === 'comment' ? { ...defaults, body: 'Reviewed by the nightly job.' } : defaults,
    });
    await attempt(plugin, review());
    expect(github.comments[0]!.body).toBe(`${reviewMarker('github')}\nReviewed by the nightly job.`);
    // The marker lets the next review find and update that comment.
    expect((await attempt(plugin, review(123, 'again'))).detail).toMatchObject({ action: 'comment_updated' });
    expect(github.comments).toHaveLength(1);
  });

  it('changes an issue; the fingerprint marker and the search label stay', async () => {
    const plugin = webhook({
      issues: true,
      format: (event, defaults) =>
        defaults.action === 'issue'
          ? { action: 'issue', title: `[sec] ${event.event_id}`, body: 'triage me', labels: ['security'] }
          : defaults,
    });
    await attempt(plugin, sampleEvent('security_vulnerability'));
    expect(github.issues[0]).toMatchObject({ title: '[sec] evt_sample_security_vulnerability' });
    expect(github.issues[0]!.labels).toEqual(['ai-detected', 'security']);
    expect(github.issues[0]!.body).toMatch(/^<!-- empathy-webhooks:fingerprint=[0-9a-f]{16} -->\ntriage me$/);
    expect((await attempt(plugin, sampleEvent('security_vulnerability'))).detail).toMatchObject({
      action: 'issue_exists',
    });
  });

  it('refuses a payload of another kind than the event needs, without a request', async () => {
    const plugin = webhook({ format: () => ({ action: 'dispatch', event_type: 'x', client_payload: {} }) });
    const error = await failure(attempt(plugin, review()));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toBe(
      "[github] option 'format' returned a 'dispatch' payload for a 'code_review_complete' event, which this webhook sends as 'comment'",
    );
    expect(github.server.requests).toHaveLength(0);
  });

  it('refuses a dispatch payload over GitHub limits', async () => {
    const plugin = webhook({
      dispatch: true,
      format: (_event, defaults) =>
        defaults.action === 'dispatch'
          ? {
              ...defaults,
              client_payload: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])),
            }
          : defaults,
    });
    const error = await failure(attempt(plugin, sampleEvent('test_failure')));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toMatch(/'client_payload' has 11 top-level keys; GitHub takes at most 10/);
    expect(github.server.requests).toHaveLength(0);
  });
});
