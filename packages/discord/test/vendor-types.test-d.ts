// Type tests, checked by `tsc -p tsconfig.json` (the typecheck task): the body we post is what
// discord-api-types (the community's typings of Discord's API) says the webhook endpoint takes:
// POST /webhooks/{id}/{token} (discord.com/developers/docs/resources/webhook#execute-webhook).
import type {
  AllowedMentionsTypes,
  APIAllowedMentions,
  APIEmbed,
  RESTPostAPIWebhookWithTokenJSONBody as DiscordBody,
} from 'discord-api-types/v10';
import type { DiscordEmbed, DiscordMessage } from '../src/index.js';
import { formatDiscordEmbed, formatDiscordMessage } from '../src/index.js';

type EmpathyEvent = Parameters<typeof formatDiscordEmbed>[0];

// discord-api-types types `allowed_mentions.parse` with a string enum, which no string literal is
// assignable to; its values as strings (`${AllowedMentionsTypes}`) are what the wire carries.
type RESTPostAPIWebhookWithTokenJSONBody = Omit<DiscordBody, 'allowed_mentions'> & {
  allowed_mentions?: Omit<APIAllowedMentions, 'parse'> & { parse?: `${AllowedMentionsTypes}`[] };
};

export function vendorTypes(event: EmpathyEvent): void {
  const body: RESTPostAPIWebhookWithTokenJSONBody = formatDiscordMessage(event, { username: 'Empathy' });
  const declared: RESTPostAPIWebhookWithTokenJSONBody = {} as DiscordMessage;
  const embed: APIEmbed = formatDiscordEmbed(event);
  const embedType: APIEmbed = {} as DiscordEmbed;

  // The check has teeth: a wrongly typed field is refused.
  // @ts-expect-error Discord colours are integers, not CSS strings
  const bad: APIEmbed = { title: 'x', color: '#ff0000' };

  void [body, declared, embed, embedType, bad];
}
