export { STALE_THREAD_ERRORS, TRANSIENT_SLACK_ERRORS, UNEDITABLE_MESSAGE_ERRORS } from './errors.js';
export { fitPayload } from './fit.js';
export {
  buildPayload,
  escapeMrkdwn,
  formatMessage,
  type LinkButton,
  type MrkdwnText,
  type PlainText,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  type SlackPayload,
  type SlackPostingOptions,
  truncateMrkdwn,
} from './format.js';
export {
  DEFAULT_SLACK_EVENTS,
  DEFAULT_SLACK_RATE_LIMIT,
  defaultThreadKey,
  type SlackBotTokenOptions,
  type SlackIncomingWebhookOptions,
  SlackWebhook,
  type SlackWebhookOptions,
} from './slack-webhook.js';
