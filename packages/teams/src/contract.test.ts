import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { SIG, teamsApi, teamsFailures, webhookUrl } from './fake-teams-api.js';
import { TeamsWebhook } from './teams-webhook.js';

describeWebhookContract('teams', async () => {
  const server = await createFakeServer(teamsApi);
  const url = webhookUrl(server.url);
  return {
    ...fakeServerHarness(server, teamsFailures),
    secrets: [url, SIG],
    create: (options) => new TeamsWebhook({ ...options, webhookUrl: url }),
  };
});
