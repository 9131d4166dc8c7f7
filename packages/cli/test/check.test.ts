import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVendors, type Vendors } from './fakes/vendors.js';
import { FIXTURES, runBin } from './helpers.js';

let vendors: Vendors;
const empty = mkdtempSync(join(tmpdir(), 'cli-check-'));

beforeAll(async () => {
  vendors = await startVendors();
}, 120_000);
afterAll(async () => {
  await vendors?.close();
  rmSync(empty, { recursive: true, force: true });
});

describe('check', () => {
  it('prints one row per webhook (integration, events, target origin, rate limit, retry policy) and no secret', async () => {
    const { code, stdout, stderr } = await runBin(
      ['check', '--config', 'integrations.config.ts'],
      vendors.env,
    );
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe(
      'Config integrations.config.ts: 10 webhooks, queue in memory (no durable queue in the config)',
    );
    expect(lines[1]).toMatch(/^NAME +INTEGRATION +EVENTS +TARGET +RATE LIMIT +RETRY POLICY$/);
    expect(lines.slice(2, 12).map((l) => l.split(/ +/).slice(0, 2))).toEqual([
      ['slack', 'SlackWebhook'],
      ['teams', 'TeamsWebhook'],
      ['discord', 'DiscordWebhook'],
      ['email', 'EmailWebhook'],
      ['jira', 'JiraWebhook'],
      ['github', 'GitHubWebhook'],
      ['datadog', 'DatadogWebhook'],
      ['grafana', 'GrafanaWebhook'],
      ['pagerduty', 'PagerDutyWebhook'],
      ['custom', 'CustomWebhook'],
    ]);
    // The custom webhook's URL has a path and a query: only its origin is shown.
    expect(stdout).toMatch(
      new RegExp(
        `^custom +CustomWebhook +\\* +${vendors.custom.url.replace(/[.]/g, '\\.')} +none +2 retries, 0\\.1 s ×2 \\(max 300 s\\), 20 s timeout$`,
        'm',
      ),
    );
    expect(stdout).toMatch(/^slack +SlackWebhook +alert,prediction +\S+ +\d+\/min +2 retries/m);
    expect(lines.at(-1)).toBe('✓ 10 webhooks OK.');
    for (const secret of vendors.secrets) expect(stdout).not.toContain(secret);
  });

  it('--json gives every row with its policies', async () => {
    const { code, stdout } = await runBin(
      ['check', '--config', 'integrations.config.ts', '--json'],
      vendors.env,
    );
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result).toMatchObject({ ok: true, file: 'integrations.config.ts', problems: [] });
    expect(result.webhooks).toHaveLength(10);
    expect(result.webhooks.find((w: { name: string }) => w.name === 'custom')).toMatchObject({
      integration: 'CustomWebhook',
      events: ['*'],
      origin: vendors.custom.url,
      retryPolicy: { maxRetries: 2, initialDelaySeconds: 0.1, timeoutSeconds: 20 },
    });
    for (const secret of vendors.secrets) expect(stdout).not.toContain(secret);
  });

  it('finds empathy-webhooks.config.mts in the current folder', async () => {
    const { code, stdout } = await runBin(['check'], vendors.env, { cwd: join(FIXTURES, 'default-dir') });
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Config empathy-webhooks\.config\.mts: 1 webhook,/);
    expect(stdout).toMatch(/^slack +SlackWebhook +alert +\S+ +20\/min, 600\/h \(token bucket\) +3 retries/m);
  });

  it('names the webhook, the option and the missing environment variable (exit 1)', async () => {
    const { SLACK_WEBHOOK_URL: _, ...env } = vendors.env;
    const { code, stdout, stderr } = await runBin(['check', '--config', 'integrations.config.ts'], env);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(
      /^check: integrations\.config\.ts failed to load: \[slack\] .*option 'webhookUrl'/,
    );
    expect(stderr).toMatch(
      /^hint: the config reads an environment variable that is not set: SLACK_WEBHOOK_URL$/m,
    );

    const json = await runBin(['check', '--config', 'integrations.config.ts', '--json'], {
      ...env,
      JIRA_API_TOKEN: '',
    });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      file: 'integrations.config.ts',
      problems: [{ webhook: 'slack', option: 'webhookUrl' }],
      unsetEnv: ['SLACK_WEBHOOK_URL', 'JIRA_API_TOKEN'],
    });
  });

  it('names the webhook and the misspelt event type, with a "did you mean" (exit 1)', async () => {
    const { code, stderr } = await runBin(['check', '--config', 'typo.config.mjs'], vendors.env);
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^check: typo\.config\.mjs failed to load: \[pagerduty\] option 'events': unknown event type 'securty_vulnerability' \(did you mean 'security_vulnerability'\?\)/,
    );
  });

  it('reports every webhook the dispatcher would refuse: duplicate names, unknown events, bad policies (exit 1)', async () => {
    const { code, stdout, stderr } = await runBin(['check', '--config', 'plugins.config.mjs', '--json'], {});
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.ok).toBe(false);
    expect(result.webhooks.map((w: { name: string }) => w.name)).toEqual(['ops']);
    expect(result.problems).toEqual([
      expect.objectContaining({ webhook: 'ops', message: expect.stringMatching(/already registered/) }),
      expect.objectContaining({
        webhook: 'homemade',
        option: 'events',
        message: expect.stringMatching(/unknown event type 'predictoin' \(did you mean 'prediction'\?\)/),
      }),
    ]);
    expect(stderr).toBe('');
    const text = await runBin(['check', '--config', 'plugins.config.mjs'], {});
    expect(text.stderr).toMatch(/^✗ .*'ops' is already registered/m);
    expect(text.stderr).toMatch(/^2 problems\.$/m);
  });

  it('reports a config that throws while loading, one that exports something else, and a missing one (exit 1)', async () => {
    const throws = await runBin(['check', '--config', 'throws.config.ts'], {});
    expect(throws.code).toBe(1);
    expect(throws.stderr).toMatch(/^check: throws\.config\.ts failed to load: .*JSON/);

    const wrong = await runBin(['check', '--config', 'not-a-config.config.mjs'], {});
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe("check: not-a-config.config.mjs: 'webhooks' must be an array of webhooks\n");

    const missing = await runBin(['check'], {}, { cwd: empty });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^check: no config file: create empathy-webhooks\.config\.ts \(or \.mts, \.mjs, \.js\) in this folder, or pass --config <file>$/m,
    );

    const named = await runBin(['check', '--config', 'nope.config.ts'], {});
    expect(named).toMatchObject({ code: 1, stderr: 'check: no such config file: nope.config.ts\n' });
  });
});
