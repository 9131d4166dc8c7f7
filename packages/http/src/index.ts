export { BlockedAddressError, privateAddressReason } from '@empathy/webhooks-core/kit';
export {
  CustomWebhook,
  type CustomWebhookBody,
  type CustomWebhookOptions,
  WebhookConfig,
  type WebhookConfigOptions,
  type WebhookMethod,
} from './custom-webhook.js';
export type { CustomWebhookEvent, CustomWebhookIncident } from './wire-incident.js';
