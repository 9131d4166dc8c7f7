import { describeWebhookContract } from '@empathy/webhooks-core/testing';
import { JiraWebhook } from '../src/index.js';
import { createFakeJira, failNextFor } from './fake-jira.js';

const EMAIL = 'bot@example.com';
const API_TOKEN = 'ATATT3xFfGF0-contract-api-token-0123456789';
const PAT = 'NjQ2MzA3ODk5Mzk3-contract-personal-access-token';

// Every built-in event type (the contract passes events: ['*']), against a fake Jira Cloud that
// validates each description and comment against the ADF schema.
describeWebhookContract('jira (Cloud, email + API token)', async () => {
  const jira = await createFakeJira({ email: EMAIL, apiToken: API_TOKEN });
  return {
    failNext: failNextFor(jira),
    received: () => jira.server.requests.map((r) => ({ at: r.receivedAt, status: r.status })),
    close: () => jira.close(),
    secrets: [API_TOKEN, Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')],
    create: (options) =>
      new JiraWebhook({ ...options, url: jira.url, email: EMAIL, apiToken: API_TOKEN, project: 'EMP' }),
  };
});

describeWebhookContract('jira (Data Center, personal access token)', async () => {
  const jira = await createFakeJira({ token: PAT });
  return {
    failNext: failNextFor(jira),
    received: () => jira.server.requests.map((r) => ({ at: r.receivedAt, status: r.status })),
    close: () => jira.close(),
    secrets: [PAT],
    create: (options) => new JiraWebhook({ ...options, url: jira.url, token: PAT, project: 'EMP' }),
  };
});
