/**
 * Every vendor fake the integrations' own tests use, started on 127.0.0.1, and the environment a
 * config reads to point at them (test/fixtures/integrations.config.ts). Reused by relative import
 * so that the CLI is tested against the same vendor behaviour as each integration.
 */
import { createFakeServer, type FakeServer } from '@empathy/webhooks-core/fakes';
import { API_KEY, APP_KEY, datadogApi } from '../../../datadog/test/fake-datadog.js';
import { discordApi, webhookUrl as discordUrl } from '../../../discord/test/fake-discord.js';
import { type SmtpPeer, startSmtpPeer } from '../../../email/test/fake-smtp.js';
import { FakeGitHub } from '../../../github/test/fake-github.js';
import { createGrafanaFake, GRAFANA_TOKEN } from '../../../grafana/test/fake-grafana.js';
import { createFakeJira, type FakeJira } from '../../../jira/test/fake-jira.js';
import { eventsApi, ROUTING_KEY } from '../../../pagerduty/test/fake-pagerduty.js';
import { type SlackFake, startSlackFake } from '../../../slack/test/fake-slack.js';
import { teamsApi, webhookUrl as teamsUrl } from '../../../teams/test/fake-teams.js';

export const JIRA_EMAIL = 'bot@example.com';
export const JIRA_API_TOKEN = 'ATATT3xFfGF0-cli-api-token-9876543210';
export const GITHUB_TOKEN = 'ghp_CliFakeToken0123456789abcdefSECRET';
export const CUSTOM_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The running fakes. */
export interface Vendors {
  slack: SlackFake;
  teams: FakeServer;
  discord: FakeServer;
  smtp: SmtpPeer;
  jira: FakeJira;
  github: FakeGitHub;
  datadog: FakeServer;
  grafana: FakeServer;
  pagerduty: FakeServer;
  custom: FakeServer;
  /** The variables integrations.config.ts reads. */
  env: Record<string, string>;
  /** Every secret in `env`: no CLI output may contain one. */
  secrets: string[];
  close(): Promise<void>;
}

/** Starts every fake. `custom` answers with `customHandler` (200 by default). */
export async function startVendors(
  customHandler: Parameters<typeof createFakeServer>[0] = () => ({ status: 200, body: { ok: true } }),
): Promise<Vendors> {
  const [slack, teams, discord, smtp, jira, github, datadog, grafana, pagerduty, custom] = await Promise.all([
    startSlackFake(),
    createFakeServer(teamsApi),
    createFakeServer(discordApi),
    startSmtpPeer(),
    createFakeJira({ email: JIRA_EMAIL, apiToken: JIRA_API_TOKEN }),
    FakeGitHub.start(GITHUB_TOKEN, 'Smart-AI-Memory/empathy'),
    createFakeServer(datadogApi),
    createFakeServer(createGrafanaFake().handler),
    createFakeServer(eventsApi),
    createFakeServer(customHandler),
  ]);
  const env = {
    SLACK_WEBHOOK_URL: slack.webhookUrl,
    TEAMS_WEBHOOK_URL: teamsUrl(teams.url),
    DISCORD_WEBHOOK_URL: discordUrl(discord.url),
    SMTP_PORT: String(smtp.port),
    JIRA_URL: jira.url,
    JIRA_EMAIL,
    JIRA_API_TOKEN,
    GITHUB_URL: github.url,
    GITHUB_TOKEN,
    DATADOG_URL: datadog.url,
    DD_API_KEY: API_KEY,
    DD_APP_KEY: APP_KEY,
    GRAFANA_URL: grafana.url,
    GRAFANA_TOKEN,
    PAGERDUTY_URL: pagerduty.url,
    PAGERDUTY_ROUTING_KEY: ROUTING_KEY,
    CUSTOM_URL: `${custom.url}/hooks/empathy?key=s3cr3tQueryKey`,
    CUSTOM_SECRET,
  };
  const secrets = [
    new URL(slack.webhookUrl).pathname,
    new URL(env.TEAMS_WEBHOOK_URL).search,
    new URL(env.DISCORD_WEBHOOK_URL).pathname,
    JIRA_API_TOKEN,
    GITHUB_TOKEN,
    API_KEY,
    APP_KEY,
    GRAFANA_TOKEN,
    ROUTING_KEY,
    's3cr3tQueryKey',
    CUSTOM_SECRET,
  ];
  return {
    slack,
    teams,
    discord,
    smtp,
    jira,
    github,
    datadog,
    grafana,
    pagerduty,
    custom,
    env,
    secrets,
    async close() {
      await Promise.allSettled([
        slack.server.close(),
        teams.close(),
        discord.close(),
        smtp.close(),
        jira.close(),
        github.server.close(),
        datadog.close(),
        grafana.close(),
        pagerduty.close(),
        custom.close(),
      ]);
    },
  };
}
