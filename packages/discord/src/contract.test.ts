import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { DiscordWebhook } from './discord-webhook.js';
import { discordApi, discordFailures, TOKEN, webhookUrl } from './fake-discord-api.js';
import type { DiscordMessage } from './format.js';

describeWebhookContract('discord', async () => {
  const server = await createFakeServer(discordApi);
  const url = webhookUrl(server.url);
  return {
    ...fakeServerHarness(server, discordFailures),
    secrets: [url, TOKEN],
    mark: (defaults: DiscordMessage, text: string): DiscordMessage => ({ ...defaults, content: text }),
    create: ({ endpoint, ...options }) =>
      new DiscordWebhook({
        ...options,
        // The same path and token at another origin (the SSRF cases).
        webhookUrl: endpoint === undefined ? url : webhookUrl(endpoint),
        username: 'Empathy Bot',
      }),
  };
});
