// Checked by `tsc -p tsconfig.json` (not run): wrong options must not compile.
import { type DatadogEvent, DatadogWebhook } from '../src/index.js';

export function typeTests(apiKey: string): void {
  const datadog = new DatadogWebhook({
    apiKey,
    appKey: 'k',
    events: ['performance_issue', 'prediction', 'error'],
  });
  new DatadogWebhook({
    apiKey,
    site: 'datadoghq.eu',
    tags: ['env:prod'],
    metrics: { batchSize: 500, eventMetrics: true },
  });
  datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
  datadog.sendMetric('empathy.deploys', 1, [], { type: 'count', interval: 60 });
  // @ts-expect-error apiKey is required
  new DatadogWebhook({ events: ['prediction'] });
  // @ts-expect-error a misspelt event type
  new DatadogWebhook({ apiKey, events: ['predicton'] });
  // @ts-expect-error tags are an array of strings
  new DatadogWebhook({ apiKey, tags: 'env:prod' });
  // @ts-expect-error metric values are numbers
  datadog.sendMetric('empathy.x', '1');
  // @ts-expect-error the metric type is gauge, count or rate
  datadog.sendMetric('empathy.x', 1, [], { type: 'histogram' });
  // @ts-expect-error failed batches are jobs now: onFailure and the dead letters report them
  new DatadogWebhook({ apiKey, metrics: { onError: () => {} } });
  // format is typed with the Datadog event.
  new DatadogWebhook({
    apiKey,
    format: (event, defaults: DatadogEvent) => ({
      ...defaults,
      tags: [...defaults.tags, `level:${event.empathy_level}`],
    }),
  });
  // @ts-expect-error the alert type is one of Datadog's
  new DatadogWebhook({ apiKey, format: (_event, defaults) => ({ ...defaults, alertType: 'panic' }) });
}
