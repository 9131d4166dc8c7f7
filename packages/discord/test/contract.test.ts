import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { DiscordWebhook } from '../src/discord-webhook.js';
import type { DiscordMessage } from '../src/format.js';
import { discordApi, discordFailures, TOKEN, webhookUrl } from './fake-discord.js';

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
