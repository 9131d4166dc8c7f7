export {
  type AnnotationOptions,
  fitAnnotation,
  fitLokiEntry,
  formatAnnotation,
  formatGrafanaPayload,
  formatLokiEntry,
  type GrafanaAnnotation,
  type GrafanaPayload,
  LEVELS,
  type LokiEntry,
  type LokiPushBody,
  lokiPushBody,
  MAX_ANNOTATION_TEXT,
  MAX_LINE_BYTES,
  RESOLVED_TAG,
} from './format.js';
export { type GrafanaLokiOptions, GrafanaWebhook, type GrafanaWebhookOptions } from './grafana-webhook.js';
