export { BlockedAddressError, privateAddressReason } from '@empathy/webhooks-core/kit';
export {
  CustomWebhook,
  type CustomWebhookOptions,
  WebhookConfig,
  type WebhookConfigOptions,
  type WebhookMethod,
} from './custom-webhook.js';
