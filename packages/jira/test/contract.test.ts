import { describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { type JiraIssueFields, JiraWebhook } from '../src/index.js';
import { createFakeJira, failNextFor, jiraFailures } from './fake-jira.js';

const EMAIL = 'bot@example.com';
const API_TOKEN = 'ATATT3xFfGF0-qZ7hKdV2mW9pX4nL8sR1tY6uB3cE5-api-token';
const PAT = 'NjQ2MzA3ODk5Mzk3-g7Hq2Wz9Vd4Kp8Xm1Rt6Yc3Bn5-personal-access-token';

/** The summary is where Jira shows a ticket. */
const mark = (fields: JiraIssueFields, text: string): JiraIssueFields => ({ ...fields, summary: text });

// Every built-in event type (the contract passes events: ['*']), against a fake Jira Cloud that
// validates each description and comment against the ADF schema.
describeWebhookContract('jira (Cloud, email + API token)', async () => {
  const jira = await createFakeJira({ email: EMAIL, apiToken: API_TOKEN });
  return {
    ...fakeServerHarness(jira.server, jiraFailures),
    failNext: failNextFor(jira),
    secrets: [API_TOKEN, Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')],
    mark,
    create: ({ endpoint, ...common }) =>
      new JiraWebhook({
        ...common,
        url: endpoint ?? jira.url,
        email: EMAIL,
        apiToken: API_TOKEN,
        project: 'EMP',
      }),
  };
});

describeWebhookContract('jira (Data Center, personal access token)', async () => {
  const jira = await createFakeJira({ token: PAT });
  return {
    ...fakeServerHarness(jira.server, jiraFailures),
    failNext: failNextFor(jira),
    secrets: [PAT],
    mark,
    create: ({ endpoint, ...common }) =>
      new JiraWebhook({ ...common, url: endpoint ?? jira.url, token: PAT, project: 'EMP' }),
  };
});
