/**
 * DatadogWebhook against a local fake of the Datadog API: no credentials, no network.
 * A performance issue is an incident: it fires, fires again and clears (`resolved: true`).
 * Datadog events cannot be edited, so each is an event of its own, grouped in the stream by the
 * incident's `aggregation_key`; the resolution is `alert_type: success`.
 * Run: cd /work/main && npx tsx examples/datadog/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { DatadogWebhook } from '@empathy/webhooks-datadog';

const API_KEY = '0123456789abcdef0123456789abcdef'; // process.env.DATADOG_API_KEY

// A tiny Datadog: the events stream (v1) and the metrics intake (v2), checking the API key.
const stream: { title: string; text: string; alert_type: string; tags: string[]; aggregation_key: string }[] =
  [];
const series: { metric: string; points: { value: number }[]; tags: string[] }[] = [];
let rateLimitOnce = true;
const datadogApi = await createFakeServer((req: RecordedRequest) => {
  if (req.headers['dd-api-key'] !== API_KEY) return { status: 403, body: { errors: ['Forbidden'] } };
  if (req.path === '/api/v1/events') {
    // Datadog answers a burst with 429 and X-RateLimit-Reset; core waits that long and retries.
    if (rateLimitOnce) {
      rateLimitOnce = false;
      return {
        status: 429,
        headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '1' },
        body: { errors: ['Rate limit exceeded'] },
      };
    }
    const event = req.json();
    stream.push(event);
    const id = 7_300_000_000 + stream.length;
    return {
      status: 202,
      body: {
        status: 'ok',
        event: { id, id_str: String(id), url: `https://app.datadoghq.com/event/event?id=${id}` },
      },
    };
  }
  if (req.path === '/api/v2/series') {
    series.push(...req.json().series);
    return { status: 202, body: { errors: [] } };
  }
  return { status: 404, body: { errors: ['Not found'] } };
});

// The seed's configuration, plus tags for everything and per-event metrics.
const datadog = new DatadogWebhook({
  apiKey: API_KEY,
  events: ['performance_issue', 'prediction', 'error'],
  tags: ['env:prod', 'team:platform'],
  metrics: { eventMetrics: true, flushIntervalSeconds: 10 },
  site: datadogApi.url, // omit for datadoghq.com, or e.g. site: 'datadoghq.eu'
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1; omit for Datadog itself
});

const empathy = new EmpathyOS({ userId: 'performance_agent', webhooks: [datadog] });
const degraded = {
  title: 'response time degraded',
  service: 'api',
  endpoint: '/api/users',
  metric: 'p95_response_time',
  threshold: 500,
};
const measured = (p95: number, avg: number) => ({
  ...degraded,
  value: p95,
  metrics: { avg_response_time: avg, p95_response_time: p95, error_rate: 0.012 },
});
const developer = { severity: 'warning', userId: 'developer_123' } as const;
await empathy.emit('performance_issue', measured(1840, 612), developer);
await empathy.emit(
  'prediction',
  { prediction: 'Auth deployment may conflict with user-service v2.1', confidence: 0.87 },
  developer,
);
await empathy.emit('alert', { message: 'not subscribed: never sent to Datadog' });
await empathy.flush(); // the first event meets a 429 and is retried
// The performance issue again, then cleared.
await empathy.emit('performance_issue', measured(2310, 701), developer);
await empathy.emit(
  'performance_issue',
  { ...measured(420, 180), resolved: true },
  { userId: 'developer_123' },
);

// Custom metrics, as in the seed: batched into jobs of the webhook (retried, rate limited,
// monitored and dead-lettered like events), never one request per value.
datadog.sendMetric('empathy.prediction.confidence', 0.87, ['user:developer_123', 'level:4']);
datadog.sendMetric('empathy.interactions.duration_ms', 1234, ['user:developer_123'], { unit: 'millisecond' });

await empathy.flush();
console.log('events in the stream (repeats share an aggregation key):');
for (const e of stream) {
  const seen = /\*\*(?:First seen|Seen):\*\* [^\n]+/.exec(e.text)?.[0].replaceAll('**', '');
  console.log(`  [${e.alert_type}] ${e.title}  ${e.aggregation_key}${seen ? `\n    ${seen}` : ''}`);
  console.log(`    tags: ${e.tags.join(', ')}`);
}
console.log(`metrics waiting for the next batch: ${datadog.pendingMetrics}`);

await empathy.close(); // queues the waiting metrics as one job and delivers it before closing
const requests = datadogApi.requests.filter((r) => r.path === '/api/v2/series').length;
console.log(`metrics received in ${requests} request(s):`);
for (const s of series)
  console.log(`  ${s.metric} = ${s.points.map((p) => p.value).join(', ')}  [${s.tags.join(', ')}]`);
const stats = empathy.monitor.getWebhookStats('datadog');
console.log(
  `stats: sent ${stats.totalSent}, delivered ${stats.successCount}, retried ${stats.retriedCount}, failed ${stats.failedCount}`,
);
await datadogApi.close();
