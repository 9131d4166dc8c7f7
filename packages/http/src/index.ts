export {
  CustomWebhook,
  type CustomWebhookOptions,
  WebhookConfig,
  type WebhookConfigOptions,
  type WebhookMethod,
} from './custom-webhook.js';
export { BlockedAddressError, privateAddressReason } from '@empathy/webhooks-core/kit';
