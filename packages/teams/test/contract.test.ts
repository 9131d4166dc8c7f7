import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import type { TeamsMessage } from '../src/format.js';
import { TeamsWebhook } from '../src/teams-webhook.js';
import { SIG, teamsApi, teamsFailures, webhookUrl } from './fake-teams.js';

describeWebhookContract('teams', async () => {
  const server = await createFakeServer(teamsApi);
  const url = webhookUrl(server.url);
  return {
    ...fakeServerHarness(server, teamsFailures),
    secrets: [url, SIG],
    // A line of text added to the card's body.
    mark: (defaults: TeamsMessage, text: string): TeamsMessage => {
      const card = defaults.attachments[0].content;
      const line = { type: 'RichTextBlock' as const, inlines: [{ type: 'TextRun' as const, text }] };
      return {
        ...defaults,
        attachments: [{ ...defaults.attachments[0], content: { ...card, body: [...card.body, line] } }],
      };
    },
    create: ({ endpoint, ...options }) =>
      // The same flow path and `sig` at another origin (the SSRF cases).
      new TeamsWebhook({ ...options, webhookUrl: endpoint === undefined ? url : webhookUrl(endpoint) }),
  };
});
