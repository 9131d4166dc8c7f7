export {
  DEFAULT_EMAIL_EVENTS,
  DEFAULT_EMAIL_RATE_LIMIT,
  type EmailAddress,
  type EmailAuth,
  EmailWebhook,
  type EmailWebhookOptions,
} from './email-webhook.js';
export { classifySmtpReply, type SmtpReplyClass } from './errors.js';
export { fitEmail } from './fit.js';
export {
  DEFAULT_SUBJECT_PREFIX,
  EMAIL_LIMITS,
  type EmailHeaders,
  type EmailHeadersOptions,
  type EmailPayload,
  emailHeaders,
  escapeHtml,
  type FormatEmailOptions,
  formatEmail,
} from './format.js';
