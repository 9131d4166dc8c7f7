import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { DiscordWebhook } from './discord-webhook.js';
import { discordApi, discordFailures, TOKEN, webhookUrl } from './fake-discord-api.js';

describeWebhookContract('discord', async () => {
  const server = await createFakeServer(discordApi);
  const url = webhookUrl(server.url);
  return {
    ...fakeServerHarness(server, discordFailures),
    secrets: [url, TOKEN],
    create: (options) => new DiscordWebhook({ ...options, webhookUrl: url, username: 'Empathy Bot' }),
  };
});
