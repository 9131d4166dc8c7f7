export {
  DEFAULT_EMAIL_EVENTS,
  DEFAULT_EMAIL_RATE_LIMIT,
  type EmailAddress,
  type EmailAuth,
  EmailWebhook,
  type EmailWebhookOptions,
} from './email-webhook.js';
export { classifySmtpReply, type SmtpReplyClass, toEmailDeliveryError } from './errors.js';
export {
  DEFAULT_SUBJECT_PREFIX,
  EMAIL_LIMITS,
  type EmailMessage,
  escapeHtml,
  type FormatEmailOptions,
  formatEmail,
} from './format.js';
