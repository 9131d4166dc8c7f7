export {
  DEFAULT_DISCORD_EVENTS,
  DEFAULT_DISCORD_RATE_LIMIT,
  DiscordWebhook,
  type DiscordWebhookOptions,
} from './discord-webhook.js';
export {
  DEFAULT_COLOR,
  DISCORD_LIMITS,
  type DiscordAllowedMentions,
  type DiscordEmbed,
  type DiscordEmbedField,
  type DiscordMessage,
  type DiscordMessageOptions,
  escapeMarkdown,
  fitDiscordMessage,
  formatDiscordEmbed,
  formatDiscordMessage,
  RESOLVED_COLOR,
  SEVERITY_COLORS,
} from './format.js';
