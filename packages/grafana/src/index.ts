export {
  type AnnotationOptions,
  describeEvent,
  type EventDescription,
  formatAnnotation,
  formatLokiEntry,
  type GrafanaAnnotation,
  LEVELS,
  type LokiEntry,
  type LokiPushBody,
  lokiPushBody,
} from './format.js';
export { type GrafanaLokiOptions, GrafanaWebhook, type GrafanaWebhookOptions } from './grafana-webhook.js';
