export {
  DATADOG_SITES,
  type DatadogMetricsOptions,
  type DatadogSite,
  DatadogWebhook,
  type DatadogWebhookOptions,
  type SendMetricOptions,
} from './datadog-webhook.js';
export { type DatadogResponse, datadogAnswerError } from './errors.js';
export {
  ALERT_TYPE_MAP,
  aggregationKey,
  alertType,
  type DatadogAlertType,
  type DatadogEvent,
  eventTags,
  type FormatOptions,
  fitAggregationKey,
  fitDatadogEvent,
  formatDatadogEvent,
  MAX_AGGREGATION_KEY,
  MAX_TEXT,
  MAX_TITLE,
} from './format.js';
export {
  type DatadogSeries,
  eventMetricPoints,
  MAX_SERIES_PAYLOAD_BYTES,
  METRICS_EVENT_TYPE,
  type MetricBatch,
  type MetricPoint,
  type MetricType,
  toSeries,
} from './metrics.js';
