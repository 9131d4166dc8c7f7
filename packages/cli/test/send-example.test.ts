import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVendors, type Vendors } from './fakes/vendors.js';
import { runBin } from './helpers.js';

let vendors: Vendors;

beforeAll(async () => {
  vendors = await startVendors();
}, 120_000);
afterAll(async () => {
  await vendors?.close();
});

const CONFIG = ['--config', 'integrations.config.ts'];

/** What each fake received, to check that the sample really arrived. */
const received: Record<string, () => number> = {
  slack: () => vendors.slack.messages.length,
  teams: () => vendors.teams.requests.filter((r) => r.method === 'POST').length,
  discord: () => vendors.discord.requests.filter((r) => r.method === 'POST').length,
  email: () => vendors.smtp.mails.length,
  jira: () => vendors.jira.issues.length,
  github: () => vendors.github.comments.length,
  datadog: () => vendors.datadog.requests.filter((r) => r.path === '/api/v1/events').length,
  grafana: () => vendors.grafana.requests.filter((r) => r.path === '/api/annotations').length,
  pagerduty: () => vendors.pagerduty.requests.filter((r) => r.path === '/v2/enqueue').length,
  custom: () => vendors.custom.requests.length,
};

describe('send-example delivers a sample event to every integration of the config', () => {
  it.each([
    ['slack', 'alert'],
    ['teams', 'alert'],
    ['discord', 'bug_detected'],
    ['email', 'security_vulnerability'],
    ['jira', 'bug_detected'],
    ['github', 'code_review_complete'],
    ['datadog', 'performance_issue'],
    ['grafana', 'deployment_risk'],
    ['pagerduty', 'alert'],
    ['custom', 'prediction'],
  ])('%s (%s, its first event type)', async (webhook, type) => {
    const before = received[webhook]!();
    const { code, stdout, stderr } = await runBin(['send-example', webhook, ...CONFIG], vendors.env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^Sending a sample ${type} event to '${webhook}' \\(\\w+Webhook[,;] `));
    expect(stdout).toMatch(new RegExp(`^delivered +${type} +evt_\\w+ +attempt 1`, 'm'));
    expect(stdout).toMatch(new RegExp(`^Delivered evt_\\w+ to '${webhook}' in 1 attempt`, 'm'));
    expect(received[webhook]!()).toBe(before + 1);
    for (const secret of vendors.secrets) expect(stdout + stderr).not.toContain(secret);
  });

  it('sends the type asked for with --event, as JSON lines with --json, marked as an example', async () => {
    const before = vendors.custom.requests.length;
    const { code, stdout, stderr } = await runBin(
      ['send-example', 'custom', '--event', 'security_vulnerability', '--json', ...CONFIG],
      vendors.env,
    );
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /^Sending a sample security_vulnerability event to 'custom' \(CustomWebhook, http:\/\/127\.0\.0\.1:\d+;/,
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      kind: 'delivered',
      webhook: 'custom',
      eventType: 'security_vulnerability',
      attempt: 1,
      status: 200,
    });
    expect(lines.at(-1)).toMatchObject({
      kind: 'result',
      delivered: true,
      attempts: 1,
      receipt: { status: 200 },
    });
    const sent = vendors.custom.requests.slice(before);
    expect(sent).toHaveLength(1);
    const event = sent[0]!.json();
    expect(event).toMatchObject({
      event_type: 'security_vulnerability',
      user_id: 'ops_team',
      severity: 'critical',
      metadata: { example: true },
      data: { title: 'SQL injection', cwe: 'CWE-89' },
    });
    // Signed as the application signs: the config's signing secret.
    expect(sent[0]!.headers['x-signature']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses an event type the webhook does not receive, an unknown type, and an unknown webhook (exit 2)', async () => {
    const notSubscribed = await runBin(
      ['send-example', 'pagerduty', '--event', 'prediction', ...CONFIG],
      vendors.env,
    );
    expect(notSubscribed.code).toBe(2);
    expect(notSubscribed.stderr).toMatch(
      /webhook 'pagerduty' does not receive 'prediction' events \(its events: alert\)/,
    );

    const typo = await runBin(['send-example', 'custom', '--event', 'alret', ...CONFIG], vendors.env);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/unknown event type 'alret' \(did you mean 'alert'\?\)/);

    const unknown = await runBin(['send-example', 'slak', ...CONFIG], vendors.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /no webhook named 'slak' in integrations\.config\.ts \(its webhooks: 'slack', 'teams'/,
    );
  });
});

describe('send-example follows the webhook retry policy and exits 1 unless delivered', () => {
  let flaky: FakeServer;
  let calls = 0;
  beforeAll(async () => {
    flaky = await createFakeServer((req) => {
      if (req.path === '/gone') return { status: 410, body: { error: 'hook removed' } };
      calls++;
      return calls === 1 ? { status: 503, body: 'upstream unavailable' } : { status: 200 };
    });
  });
  afterAll(async () => {
    await flaky?.close();
  });

  it('prints the retry, then the delivery (exit 0)', async () => {
    const { code, stdout } = await runBin(['send-example', 'custom', ...CONFIG], {
      ...vendors.env,
      CUSTOM_URL: `${flaky.url}/flaky`,
    });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^retry +prediction +evt_\w+ +attempt 1 +HTTP 503 .*next try in/m);
    expect(stdout).toMatch(/^delivered +prediction +evt_\w+ +attempt 2 +HTTP 200/m);
    expect(stdout).toMatch(/Delivered evt_\w+ to 'custom' in 2 attempts/);
  });

  it('prints a permanent refusal as dead, with the redacted error (exit 1)', async () => {
    const { code, stdout } = await runBin(['send-example', 'custom', ...CONFIG], {
      ...vendors.env,
      CUSTOM_URL: `${flaky.url}/gone?token=n0tF0rY0urEy3s`,
    });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^dead +prediction +evt_\w+ +attempt 1 +HTTP 410/m);
    expect(stdout).toMatch(
      /Not delivered: dead after 1 attempt — \[custom\] HTTP 410 from http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(stdout).not.toContain('n0tF0rY0urEy3s');
    expect(stdout).not.toContain('/gone');
  });
});
