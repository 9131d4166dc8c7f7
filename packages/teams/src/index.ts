export {
  type AdaptiveCard,
  type CardColor,
  type CardElement,
  type ContainerStyle,
  defuseMarkdown,
  fitTeamsMessage,
  formatTeamsMessage,
  MAX_MESSAGE_BYTES,
  type OpenUrlAction,
  SEVERITY_TONES,
  type TeamsMessage,
  type TextRun,
} from './format.js';
export {
  DEFAULT_TEAMS_EVENTS,
  DEFAULT_TEAMS_RATE_LIMIT,
  TeamsWebhook,
  type TeamsWebhookOptions,
} from './teams-webhook.js';
