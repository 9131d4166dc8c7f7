import { inspect } from 'node:util';
import {
  createEvent,
  type DeliveryContext,
  Dispatcher,
  type EmpathyEvent,
  isWebhookConfigError,
  isWebhookDeliveryError,
  type WebhookDeliveryError,
} from '@empathy/webhooks-core';
import { SAMPLE_DATA, sampleEvent } from '@empathy/webhooks-core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { JiraWebhook, type JiraWebhookOptions } from '../src/index.js';
import { adfErrors } from './adf.js';
import { createFakeJira, type FakeJira } from './fake-jira.js';

const EMAIL = 'bot@example.com';
const API_TOKEN = 'ATATT3xFfGF0-behaviour-api-token-9876543210';
const BASIC = Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64');
const PAT = 'NjQ2MzA3ODk5Mzk3-behaviour-personal-access-token';
const FAST = {
  maxRetries: 2,
  initialDelaySeconds: 0.05,
  backoffMultiplier: 1,
  jitter: false,
  timeoutSeconds: 10,
};

let jira: FakeJira;
let dispatcher: Dispatcher | undefined;

afterEach(async () => {
  await dispatcher?.close({ drainMs: 0 });
  dispatcher = undefined;
  await jira?.close();
});

async function cloud(
  options: Partial<JiraWebhookOptions> = {},
  fake: Parameters<typeof createFakeJira>[0] = {},
) {
  jira = await createFakeJira({ email: EMAIL, apiToken: API_TOKEN, ...fake });
  const plugin = new JiraWebhook({
    url: jira.url,
    email: EMAIL,
    apiToken: API_TOKEN,
    project: 'EMP',
    // The fake listens on 127.0.0.1 over plain http.
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    ...options,
  });
  dispatcher = new Dispatcher({ webhooks: [plugin] });
  return plugin;
}

async function datacenter(options: Partial<JiraWebhookOptions> = {}) {
  jira = await createFakeJira({ token: PAT });
  const plugin = new JiraWebhook({
    url: jira.url,
    token: PAT,
    project: 'EMP',
    // The fake listens on 127.0.0.1 over plain http.
    allowPrivateNetwork: true,
    retryPolicy: FAST,
    ...options,
  });
  dispatcher = new Dispatcher({ webhooks: [plugin] });
  return plugin;
}

/** The same finding, as a new event each time (new id, later time). */
function finding(n: number, overrides: Partial<typeof SAMPLE_DATA.security_vulnerability> = {}) {
  return createEvent(
    'security_vulnerability',
    { ...SAMPLE_DATA.security_vulnerability, ...overrides },
    {
      userId: 'developer_123',
      severity: 'high',
      eventId: `evt_finding_${n}`,
      timestamp: new Date(Date.UTC(2025, 10, 25, 14, 30 + n)),
    },
  );
}

function ctx(signal = new AbortController().signal): DeliveryContext {
  return { signal, attempt: 1, idempotencyKey: 'evt_x', timeoutMs: 5000 };
}

async function deliveryError(plugin: JiraWebhook, event: EmpathyEvent, context = ctx()) {
  const error = await plugin.deliver(event, context).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isWebhookDeliveryError(error), String(error)).toBe(true);
  return error as WebhookDeliveryError;
}

describe('JiraWebhook on Jira Cloud', () => {
  it('creates the seed ticket over REST v3 with basic auth', async () => {
    await cloud();
    await dispatcher!.dispatch(finding(0));
    await dispatcher!.flush();
    const [create] = jira.requestsTo('create');
    expect(create!.path).toBe('/rest/api/3/issue');
    expect(create!.headers.authorization).toBe(`Basic ${BASIC}`);
    const { fields, properties } = create!.json();
    expect(fields).toMatchObject({
      project: { key: 'EMP' },
      // The seed's layout around the shared reading's title (the same in every integration).
      summary: '[AI Detected] Security vulnerability: SQL injection in auth.py:45',
      issuetype: { name: 'Bug' },
      priority: { name: 'High' },
    });
    expect(fields.labels.slice(0, 3)).toEqual(['ai-detected', 'security', 'sql-injection']);
    expect(adfErrors(fields.description)).toEqual([]);
    expect(properties).toEqual([
      { key: 'empathy-webhooks', value: { event_id: 'evt_finding_0', fingerprint: fields.labels[3] } },
    ]);
    expect(jira.issues).toHaveLength(1);
    expect(dispatcher!.monitor.getWebhookStats('jira')).toMatchObject({ successCount: 1, failedCount: 0 });
  });

  it('returns the issue key and link as the receipt, the key as the incident reference', async () => {
    const plugin = await cloud();
    const receipt = await plugin.deliver(finding(0), ctx());
    expect(receipt).toEqual({
      status: 201,
      id: 'EMP-1',
      detail: {
        action: 'created',
        issue: 'EMP-1',
        url: `${jira.url}/browse/EMP-1`,
        fingerprint: expect.any(String),
      },
      incidentRef: { issue: 'EMP-1' },
    });
  });

  it('the same finding emitted 5 times yields 1 issue and 4 comments, despite search index lag', async () => {
    // Cloud's search/jql is eventually consistent: the fake hides new issues for a minute unless
    // the search names them in reconcileIssues.
    await cloud({ concurrency: 4 }, { indexLagMs: 60_000 });
    for (let n = 0; n < 5; n++) await dispatcher!.dispatch(finding(n));
    await dispatcher!.flush();
    expect(jira.issues).toHaveLength(1);
    expect(jira.issues[0]!.comments).toHaveLength(4);
    expect(jira.requestsTo('create')).toHaveLength(1);
    expect(jira.requestsTo('comment')).toHaveLength(4);
    const searches = jira.requestsTo('search').map((r) => r.json());
    expect(searches[0]!.jql).toMatch(
      /^project = "EMP" AND labels = "empathy-fp-[0-9a-f]{16}" AND statusCategory != Done/,
    );
    expect(searches.slice(1).every((s) => s.reconcileIssues?.[0] === Number(jira.issues[0]!.id))).toBe(true);
    const comment = jira.issues[0]!.comments[0]!.body;
    expect(adfErrors(comment)).toEqual([]);
    expect(JSON.stringify(comment)).toContain('Seen again at 2025-11-25 14:31 UTC: ');
    expect(dispatcher!.monitor.getWebhookStats('jira')).toMatchObject({ successCount: 5, failedCount: 0 });
  });

  it('finds an issue another process created, through the search alone', async () => {
    const first = await cloud();
    await first.deliver(finding(0), ctx());
    const second = new JiraWebhook({
      allowPrivateNetwork: true,
      url: jira.url,
      email: EMAIL,
      apiToken: API_TOKEN,
      project: 'EMP',
    });
    const receipt = await second.deliver(finding(1), ctx());
    expect(receipt.detail).toMatchObject({ action: 'commented', issue: 'EMP-1' });
    expect(jira.issues).toHaveLength(1);
  });

  it('opens a new ticket when the earlier one is done, or when the finding differs', async () => {
    const plugin = await cloud();
    await plugin.deliver(finding(0), ctx());
    jira.issues[0]!.done = true;
    expect((await plugin.deliver(finding(1), ctx())).detail).toMatchObject({
      action: 'created',
      issue: 'EMP-2',
    });
    // The line moves as code changes: the same file and title is the same finding.
    expect((await plugin.deliver(finding(2, { line: 99 }), ctx())).detail).toMatchObject({
      action: 'commented',
      issue: 'EMP-2',
    });
    expect((await plugin.deliver(finding(3, { file: 'login.py' }), ctx())).detail).toMatchObject({
      action: 'created',
      issue: 'EMP-3',
    });
    expect(jira.issues.map((i) => i.comments.length)).toEqual([0, 1, 0]);
  });

  it('a retry after a lost answer does not comment on the ticket its first attempt created', async () => {
    await cloud();
    jira.dropNextCreateResponse();
    await dispatcher!.dispatch(finding(0));
    await dispatcher!.flush();
    expect(jira.issues).toHaveLength(1);
    expect(jira.issues[0]!.comments).toHaveLength(0);
    expect(dispatcher!.monitor.getWebhookStats('jira')).toMatchObject({ successCount: 1, retriedCount: 1 });
  });

  it('opens a new ticket when the open one disappears between search and comment', async () => {
    const plugin = await cloud();
    await plugin.deliver(finding(0), ctx());
    jira.failNextWrite({
      status: 404,
      body: { errorMessages: ['Issue does not exist or you do not have permission to see it.'], errors: {} },
    });
    expect((await plugin.deliver(finding(1), ctx())).detail).toMatchObject({
      action: 'created',
      issue: 'EMP-2',
    });
  });

  it('deduplicate: false always creates', async () => {
    const plugin = await cloud({ deduplicate: false });
    await plugin.deliver(finding(0), ctx());
    await plugin.deliver(finding(1), ctx());
    expect(jira.issues).toHaveLength(2);
    expect(jira.requestsTo('search')).toHaveLength(0);
  });

  it('a resolved alert comments "Resolved at" on the open ticket and never opens one', async () => {
    const plugin = await cloud({ events: ['alert'] });
    const alert = (resolved: boolean, n: number) =>
      sampleEvent('alert', { resolved }, { eventId: `evt_alert_${n}` }) as EmpathyEvent;
    expect((await plugin.deliver(alert(true, 0), ctx())).detail).toMatchObject({ action: 'skipped' });
    expect(jira.issues).toHaveLength(0);
    await plugin.deliver(alert(false, 1), ctx());
    expect((await plugin.deliver(alert(true, 2), ctx())).detail).toMatchObject({ action: 'commented' });
    expect(JSON.stringify(jira.issues[0]!.comments[0]!.body)).toContain('Resolved at ');
  });

  it('assigns to the file owner through an assignee function', async () => {
    await cloud({ assignee: (event) => ('owner' in event.data ? (event.data.owner as string) : undefined) });
    await dispatcher!.dispatch(finding(0, { owner: '5b10ac8d82e05b22cc7d4ef5' }));
    await dispatcher!.dispatch(finding(1, { file: 'other.py' }));
    await dispatcher!.flush();
    const [owned, unowned] = jira.requestsTo('create').map((r) => r.json().fields);
    expect(owned.assignee).toEqual({ accountId: '5b10ac8d82e05b22cc7d4ef5' });
    expect(unowned).not.toHaveProperty('assignee');
  });

  it('makes no request until the first delivery', async () => {
    await cloud();
    expect(jira.server.requests).toHaveLength(0);
  });
});

describe('JiraWebhook on Jira Data Center', () => {
  it('uses REST v2, a bearer token and wiki markup; de-duplicates the same way', async () => {
    await datacenter({ assignee: 'jdoe' });
    for (let n = 0; n < 5; n++) await dispatcher!.dispatch(finding(n));
    await dispatcher!.flush();
    const [create] = jira.requestsTo('create');
    expect(create!.path).toBe('/rest/api/2/issue');
    expect(create!.headers.authorization).toBe(`Bearer ${PAT}`);
    const { fields } = create!.json();
    expect(fields.assignee).toEqual({ name: 'jdoe' });
    expect(fields.description).toContain('*File:* auth.py:45');
    expect(fields.description).toContain('{code:python}\nUse parameterized queries');
    expect(jira.requestsTo('search')[0]!.path).toBe('/rest/api/2/search');
    expect(jira.issues).toHaveLength(1);
    expect(jira.issues[0]!.comments).toHaveLength(4);
    expect(jira.issues[0]!.comments[0]!.body).toMatch(
      /^\*Seen again at 2025-11-25 14:31 UTC:\* Security vulnerability: SQL injection/,
    );
  });
});

describe('errors', () => {
  it('a 400 names the field, is permanent and dead-letters', async () => {
    await cloud();
    jira.failNextWrite({
      status: 400,
      body: { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } },
    });
    const failures: Error[] = [];
    dispatcher!.register(
      new JiraWebhook({
        name: 'jira-2',
        url: jira.url,
        allowPrivateNetwork: true,
        email: EMAIL,
        apiToken: API_TOKEN,
        project: 'EMP',
        onFailure: (_w, _e, error) => void failures.push(error),
      }),
    );
    await dispatcher!.dispatch(finding(0));
    await dispatcher!.flush();
    const stats = dispatcher!.monitor.getAllStats();
    const failed = stats.jira!.failedCount === 1 ? 'jira' : 'jira-2';
    expect(stats[failed]).toMatchObject({ failedCount: 1, retriedCount: 0, totalSent: 1 });
    expect(stats[failed]!.lastError).toBe(
      `[${failed}] HTTP 400 from POST ${jira.url}/rest/api/3/issue: summary: You must specify a summary of the issue.`,
    );
    const [letter] = await dispatcher!.deadLetters.list();
    expect(letter).toMatchObject({ webhook: failed, error: { status: 400 } });
  });

  it('a project the JQL does not know is a permanent 400 from the search', async () => {
    const plugin = await cloud({ project: 'NOPE' });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ status: 400, retryable: false });
    expect(error.message).toBe(
      `[jira] HTTP 400 from POST ${jira.url}/rest/api/3/search/jql: The value 'NOPE' does not exist for the field 'project'.`,
    );
  });

  it('a 429 carries Retry-After from the axios response headers', async () => {
    const plugin = await cloud();
    jira.server.respondNext({
      status: 429,
      headers: { 'retry-after': '7' },
      body: { errorMessages: ['Rate limit exceeded.'], errors: {} },
    });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ status: 429, retryAfterMs: 7000, retryable: true });
    expect(error.message).toBe(
      `[jira] HTTP 429 from POST ${jira.url}/rest/api/3/search/jql: Rate limit exceeded. (retry after 7s)`,
    );
  });

  it('a 429 without Retry-After waits until X-RateLimit-Reset', async () => {
    const plugin = await cloud();
    const reset = new Date(Date.now() + 30_000).toISOString();
    jira.server.respondNext({ status: 429, headers: { 'x-ratelimit-reset': reset }, body: '' });
    const error = await deliveryError(plugin, finding(0));
    expect(error.retryAfterMs).toBeGreaterThan(25_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('503 is retryable; 401 is not and names no credential', async () => {
    const plugin = await cloud();
    jira.server.respondNext({ status: 503, body: 'Service Unavailable' });
    expect(await deliveryError(plugin, finding(0))).toMatchObject({ status: 503, retryable: true });
    const wrong = new JiraWebhook({
      url: jira.url,
      allowPrivateNetwork: true,
      email: EMAIL,
      apiToken: 'wrong-token-1234',
      project: 'EMP',
    });
    const error = await deliveryError(wrong, finding(0));
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).toBe(
      `[jira] HTTP 401 from POST ${jira.url}/rest/api/3/search/jql: Client must be authenticated to access this resource.`,
    );
  });

  it('a redirect is not followed (it would carry the credentials) and points at the url option', async () => {
    const plugin = await cloud();
    jira.server.respondNext({
      status: 301,
      headers: { location: 'https://elsewhere.example/rest/api/3/search/jql' },
    });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ status: 301, retryable: false });
    expect(error.message).toBe(
      `[jira] HTTP 301 from POST ${jira.url}/rest/api/3/search/jql: redirected to https://elsewhere.example; redirects are not followed (check option 'url')`,
    );
    expect(jira.server.requests).toHaveLength(1);
  });

  it('an assignee function that throws fails the delivery for good, without a request', async () => {
    const plugin = await cloud({
      assignee: () => {
        throw new Error('owner lookup failed');
      },
    });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ retryable: false, status: undefined });
    expect(error.message).toBe('[jira] could not build the ticket: owner lookup failed');
    expect(jira.server.requests).toHaveLength(0);
  });

  it('network failures and aborted attempts are retryable, without status, and leak nothing', async () => {
    const plugin = await cloud();
    const url = jira.url;
    await jira.close();
    const refused = new JiraWebhook({
      url,
      allowPrivateNetwork: true,
      email: EMAIL,
      apiToken: API_TOKEN,
      project: 'EMP',
    });
    const network = await deliveryError(refused, finding(0));
    expect(network).toMatchObject({ status: undefined, retryable: true, code: 'ECONNREFUSED' });
    expect(network.message).toMatch(
      /^\[jira\] request to POST http:\/\/127\.0\.0\.1:\d+\/rest\/api\/3\/search\/jql failed: .*\(ECONNREFUSED\)$/,
    );

    jira = await createFakeJira({ email: EMAIL, apiToken: API_TOKEN });
    jira.server.respondNext({ hang: true });
    const hung = new JiraWebhook({
      allowPrivateNetwork: true,
      url: jira.url,
      email: EMAIL,
      apiToken: API_TOKEN,
      project: 'EMP',
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('timeout')), 100);
    const aborted = await deliveryError(hung, finding(0), ctx(controller.signal));
    expect(aborted).toMatchObject({ retryable: true, code: 'ERR_CANCELED' });
    expect(aborted.message).toBe(
      `[jira] request to POST ${jira.url}/rest/api/3/search/jql failed: canceled (ERR_CANCELED)`,
    );

    for (const error of [network, aborted]) {
      const text = inspect(error, { depth: 12, showHidden: true });
      for (const secret of [API_TOKEN, BASIC]) expect(text).not.toContain(secret);
    }
    void plugin;
  });
});

describe('options', () => {
  const base: JiraWebhookOptions = {
    url: 'https://team.atlassian.net',
    email: EMAIL,
    apiToken: API_TOKEN,
    project: 'EMP',
  };
  const cases: [string, Partial<Record<keyof JiraWebhookOptions, unknown>>, RegExp][] = [
    ['a missing url', { url: undefined }, /option 'url'/],
    [
      'a url on a private network',
      { url: 'https://10.0.0.1/jira' },
      /option 'url' points at a private address \(https:\/\/10\.0\.0\.1\); set allowPrivateNetwork: true/,
    ],
    [
      'a plain http url',
      { url: 'http://jira.example.com' },
      /plain http is allowed only with allowPrivateNetwork/,
    ],
    ['a url that is not one', { url: 'team.atlassian.net' }, /option 'url'/],
    [
      'a url with credentials',
      { url: `https://bot:${API_TOKEN}@team.atlassian.net` },
      /option 'url' must not contain credentials/,
    ],
    ['no credentials', { email: undefined, apiToken: undefined }, /option 'email'/],
    ['email without apiToken', { apiToken: undefined }, /option 'apiToken'/],
    ['token and basic auth together', { token: PAT }, /either 'token' or 'email' \+ 'apiToken'/],
    ['datacenter without token', { deployment: 'datacenter' }, /'datacenter' needs 'token'/],
    ['an unknown deployment', { deployment: 'server' }, /option 'deployment'/],
    ['a missing project', { project: undefined }, /option 'project'/],
    ['a project that is no key', { project: 'EMP" OR 1=1' }, /option 'project'/],
    ['an empty issueType', { issueType: ' ' }, /option 'issueType'/],
    [
      'an unknown severity in priorityMap',
      { priorityMap: { urgent: 'Highest' } },
      /option 'priorityMap' has unknown severity 'urgent'/,
    ],
    ['an empty priority name', { priorityMap: { high: '' } }, /option 'priorityMap.high'/],
    ['a label with a space', { labels: ['two words'] }, /option 'labels'/],
    ['an assignee of the wrong type', { assignee: 42 }, /option 'assignee'/],
    ['fields that are not an object', { fields: [] }, /option 'fields'/],
    ['an empty resolveTransition', { resolveTransition: ' ' }, /option 'resolveTransition'/],
    ['a resolveTransition that is no name', { resolveTransition: 31 }, /option 'resolveTransition'/],
    ['an unknown event', { events: ['bug_detcted'] }, /did you mean 'bug_detected'/],
    ['a negative maxRetries', { retryPolicy: { maxRetries: -1 } }, /retryPolicy.maxRetries/],
  ];
  it.each(cases)(
    'rejects %s with a WebhookConfigError naming the option and no secret',
    (_, override, message) => {
      let error: unknown;
      try {
        new JiraWebhook({ ...base, ...override } as JiraWebhookOptions);
      } catch (e) {
        error = e;
      }
      expect(isWebhookConfigError(error), String(error)).toBe(true);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^\[jira\] /);
      expect(inspect(error, { depth: 12 })).not.toContain(API_TOKEN);
    },
  );

  it('holds no secret in anything printing the webhook shows', () => {
    const plugin = new JiraWebhook(base);
    for (const text of [inspect(plugin, { depth: 12, showHidden: true }), JSON.stringify(plugin)]) {
      for (const secret of [API_TOKEN, BASIC]) expect(text).not.toContain(secret);
    }
    expect(plugin.target).toBe('https://team.atlassian.net');
  });

  it('has the documented defaults', () => {
    const plugin = new JiraWebhook(base);
    expect(plugin.name).toBe('jira');
    expect(plugin.events).toEqual(['bug_detected', 'security_vulnerability']);
    expect(plugin.deployment).toBe('cloud');
    expect(plugin.rateLimit).toEqual({ maxRequestsPerMinute: 60 });
    expect(plugin.concurrency).toBe(2);
    expect(new JiraWebhook({ url: base.url, token: PAT, project: 'EMP' }).deployment).toBe('datacenter');
    expect(
      new JiraWebhook({ url: base.url, token: PAT, project: 'EMP', deployment: 'cloud' }).deployment,
    ).toBe('cloud');
  });
});

describe('the format option', () => {
  it('changes the new ticket; the fingerprint label stays, so the next report still comments', async () => {
    const plugin = await cloud({
      format: (event, defaults) => ({
        ...defaults,
        summary: `[sec] ${event.event_id}\nsecond line`,
        labels: ['triage'],
        components: [{ name: 'auth' }],
      }),
    });
    await plugin.deliver(finding(0), ctx());
    const { fields, properties } = jira.requestsTo('create')[0]!.json();
    expect(fields.summary).toBe('[sec] evt_finding_0 second line');
    expect(fields.labels).toEqual(['triage', properties[0].value.fingerprint]);
    expect(fields.components).toEqual([{ name: 'auth' }]);
    expect((await plugin.deliver(finding(1), ctx())).detail).toMatchObject({ action: 'commented' });
  });

  it('refuses fields Jira cannot take, without a request, and only for that event', async () => {
    const plugin = await cloud({
      format: (_event, defaults) => ({
        ...defaults,
        description: {
          type: 'doc',
          version: 1,
          content: [{ type: 'paragraph', content: [{ type: 'text', text: 'x'.repeat(40_000) }] }],
        },
      }),
    });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ retryable: false, code: 'EFORMAT' });
    expect(error.message).toMatch(/'description' is \d+ characters of ADF; Jira takes at most 32767/);
    expect(jira.server.requests).toHaveLength(0);
  });
});

describe('the guarded transport', () => {
  it('ignores HTTP_PROXY from the environment: the request goes to the address the guard checked', async () => {
    const saved = { HTTP_PROXY: process.env.HTTP_PROXY, http_proxy: process.env.http_proxy };
    process.env.HTTP_PROXY = 'http://127.0.0.1:9';
    process.env.http_proxy = 'http://127.0.0.1:9';
    try {
      const plugin = await cloud();
      expect((await plugin.deliver(finding(0), ctx())).detail).toMatchObject({ action: 'created' });
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('a search answer that is no search result is retried, never taken for "no open ticket"', async () => {
    const plugin = await cloud();
    await plugin.deliver(finding(0), ctx());
    jira.server.respondNext({
      status: 200,
      headers: { 'content-type': 'text/html' },
      body: '<html>Sign in</html>',
    });
    const error = await deliveryError(plugin, finding(1));
    expect(error).toMatchObject({ retryable: true, code: 'EBADRESPONSE', status: undefined });
    expect(jira.issues).toHaveLength(1);
  });

  it('reads an answer only up to its bound', async () => {
    const plugin = await cloud();
    jira.server.respondNext({ status: 200, body: { issues: [], padding: 'x'.repeat(600 * 1024) } });
    const error = await deliveryError(plugin, finding(0));
    expect(error).toMatchObject({ retryable: true, status: undefined });
    expect(error.message).toMatch(/maxContentLength/);
    expect(jira.issues).toHaveLength(0);
  });
});
