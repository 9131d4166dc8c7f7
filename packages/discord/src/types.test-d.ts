import { expectTypeOf, test } from 'vitest';
import { DiscordWebhook, type DiscordWebhookOptions } from './index.js';

test('options are checked at compile time', () => {
  new DiscordWebhook({ webhookUrl: 'https://discord.com/api/webhooks/1/t', events: ['alert', 'error'] });
  // @ts-expect-error a misspelled event type
  new DiscordWebhook({ webhookUrl: 'https://discord.com/api/webhooks/1/t', events: ['alrt'] });
  // @ts-expect-error webhookUrl is required
  new DiscordWebhook({ username: 'Empathy Bot' });
  // @ts-expect-error the seed's snake_case is not the TypeScript option name
  new DiscordWebhook({ webhookUrl: 'https://discord.com/api/webhooks/1/t', avatar_url: 'x' });
  // `format` is typed with Discord's execute-webhook body.
  new DiscordWebhook({
    webhookUrl: 'https://discord.com/api/webhooks/1/t',
    format: (_event, defaults) => ({ ...defaults, content: `${defaults.embeds.length} embed(s)` }),
  });
  // @ts-expect-error format returns the message, not text
  new DiscordWebhook({ webhookUrl: 'https://discord.com/api/webhooks/1/t', format: () => 'text' });
  expectTypeOf<DiscordWebhookOptions['content']>().toEqualTypeOf<
    string | ((event: Parameters<DiscordWebhook['deliver']>[0]) => string | undefined) | undefined
  >();
});
