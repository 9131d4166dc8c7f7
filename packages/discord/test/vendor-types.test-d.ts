// Type tests, checked by `tsc -p tsconfig.json` (the typecheck task): the body we post is what
// discord-api-types (the community's typings of Discord's API) says the webhook endpoint takes:
// POST /webhooks/{id}/{token} (discord.com/developers/docs/resources/webhook#execute-webhook),
// and the edit of an incident's message is what PATCH /webhooks/{id}/{token}/messages/{id}
// takes (#edit-webhook-message).
import type {
  AllowedMentionsTypes,
  APIAllowedMentions,
  APIEmbed,
  RESTPostAPIWebhookWithTokenJSONBody as DiscordBody,
  RESTPatchAPIWebhookWithTokenMessageJSONBody as DiscordEditBody,
} from 'discord-api-types/v10';
import { type DiscordMessageEdit, toMessageEdit } from '../src/format.js';
import type { DiscordEmbed, DiscordMessage } from '../src/index.js';
import { formatDiscordEmbed, formatDiscordMessage } from '../src/index.js';

type EmpathyEvent = Parameters<typeof formatDiscordEmbed>[0];

// discord-api-types types `allowed_mentions.parse` with a string enum, which no string literal is
// assignable to; its values as strings (`${AllowedMentionsTypes}`) are what the wire carries.
type Mentions = Omit<APIAllowedMentions, 'parse'> & { parse?: `${AllowedMentionsTypes}`[] };
type RESTPostAPIWebhookWithTokenJSONBody = Omit<DiscordBody, 'allowed_mentions'> & {
  allowed_mentions?: Mentions;
};
type RESTPatchAPIWebhookWithTokenMessageJSONBody = Omit<DiscordEditBody, 'allowed_mentions'> & {
  allowed_mentions?: Mentions | null;
};

export function vendorTypes(event: EmpathyEvent): void {
  const body: RESTPostAPIWebhookWithTokenJSONBody = formatDiscordMessage(event, { username: 'Empathy' });
  const declared: RESTPostAPIWebhookWithTokenJSONBody = {} as DiscordMessage;
  const embed: APIEmbed = formatDiscordEmbed(event);
  const embedType: APIEmbed = {} as DiscordEmbed;
  const edit: RESTPatchAPIWebhookWithTokenMessageJSONBody = toMessageEdit(formatDiscordMessage(event));
  const editType: RESTPatchAPIWebhookWithTokenMessageJSONBody = {} as DiscordMessageEdit;

  // The check has teeth: a wrongly typed field is refused.
  // @ts-expect-error Discord colours are integers, not CSS strings
  const bad: APIEmbed = { title: 'x', color: '#ff0000' };

  // @ts-expect-error an edit cannot change the author: it is not in Discord's edit body
  const renamed: RESTPatchAPIWebhookWithTokenMessageJSONBody = { content: 'x', username: 'Empathy' };

  void [body, declared, embed, embedType, edit, editType, bad, renamed];
}
