/**
 * GrafanaWebhook against local fakes of Grafana's annotations API and Loki's push API: no
 * credentials, no network. A performance issue that fires, repeats twice and clears is one
 * annotation: posted, then patched with the count, then patched with `timeEnd` into a region.
 * Run: cd /work/main && npx tsx examples/grafana/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { GrafanaWebhook } from '@empathy/webhooks-grafana';

// A tiny Grafana (annotations) and Loki (push): POST answers 200 with the annotation id, PATCH
// /api/annotations/{id} 200 "Annotation patched" (404 for an id it never gave), Loki 204.
let annotationId = 0;
const grafanaApi = await createFakeServer((req: RecordedRequest) => {
  if (req.path.startsWith('/api/annotations')) {
    if (req.headers.authorization !== 'Bearer glsa_example_token')
      return { status: 401, body: { message: 'invalid API key' } };
    if (req.method === 'POST' && req.path === '/api/annotations')
      return { status: 200, body: { message: 'Annotation added', id: ++annotationId } };
    const id = Number(/^\/api\/annotations\/(\d+)$/.exec(req.path)?.[1]);
    if (req.method === 'PATCH' && id >= 1 && id <= annotationId)
      return { status: 200, body: { message: 'Annotation patched' } };
    return { status: 404, body: { message: 'Annotation not found' } };
  }
  if (req.path === '/loki/api/v1/push') return { status: 204 };
  return { status: 404, body: { message: 'Not found' } };
});

const grafana = new GrafanaWebhook({
  url: grafanaApi.url, // your Grafana, e.g. https://acme.grafana.net
  token: 'glsa_example_token', // process.env.GRAFANA_TOKEN: a service account token
  dashboardUid: 'empathy-ops', // omit for organisation-wide annotations
  tags: ['production'],
  loki: {
    url: grafanaApi.url, // e.g. https://logs-prod-012.grafana.net
    username: '123456', // Grafana Cloud Loki user id
    password: 'glc_example_token', // process.env.LOKI_TOKEN
    labels: { app: 'empathy', env: 'production' },
  },
  events: ['*'],
  allowPrivateNetwork: true, // the fakes listen on 127.0.0.1 over http; leave it off for grafana.net
});

const empathy = new EmpathyOS({ userId: 'performance_agent', webhooks: [grafana] });

// An incident: the same performance issue three times, then `resolved: true`.
const degraded = {
  title: 'response time degraded',
  service: 'api',
  endpoint: '/api/users',
  metric: 'p95_response_time',
  threshold: 500,
};
for (const value of [1840, 2210, 2390]) {
  await empathy.emit('performance_issue', { ...degraded, value }, { severity: 'warning' });
}
await empathy.emit('performance_issue', { ...degraded, value: 310, resolved: true });
await empathy.flush();

console.log('the incident, as Grafana received it:');
const plain = (html: string) => html.replace(/<[^>]+>/g, '');
for (const req of grafanaApi.requests.filter((r) => r.path.startsWith('/api/annotations'))) {
  const { text, tags, time, timeEnd } = req.json();
  const [title, ...facts] = plain(text).split('\n');
  const seen = facts.find((f) => f.startsWith('Seen') || f.startsWith('First seen'));
  const when = req.method === 'POST' ? ` time ${new Date(time).toISOString()}` : '';
  const end = timeEnd ? ` timeEnd ${new Date(timeEnd).toISOString()}, tags +${tags.at(-1)}` : '';
  console.log(
    `  ${req.method} ${req.path} → ${req.status}${when}${end}\n    ${title}${seen ? ` · ${seen}` : ''}`,
  );
}
const firstPart = grafanaApi.requests.length;

// Other events: one annotation each, and log lines batched into Loki pushes.
await empathy.emit('deployment_risk', {
  service: 'authentication',
  environment: 'production',
  risk: 'Schema migration locks the users table for ~40s',
  version: '2.4.0',
});
for (let i = 1; i <= 5; i++) {
  await empathy.emit('completion', { content: `answer ${i}`, level_used: 4, duration_ms: 800 + i });
}
await empathy.flush();

for (const req of grafanaApi.requests.slice(firstPart)) {
  if (req.path === '/api/annotations') {
    const { tags, text } = req.json();
    console.log(`annotation [${tags.join(', ')}]\n  ${text.split('<br>\n').join('\n  ')}`);
  } else {
    const { streams } = req.json();
    const lines = streams.reduce((n: number, s: { values: unknown[] }) => n + s.values.length, 0);
    console.log(`Loki push: ${lines} line(s) in ${streams.length} stream(s)`);
    for (const s of streams) console.log(`  ${JSON.stringify(s.stream)} ${s.values[0][1].slice(0, 90)}…`);
  }
}
const stats = empathy.monitor.getWebhookStats('grafana');
console.log(
  `stats: attempts ${stats.totalSent}, delivered ${stats.successCount}, failed ${stats.failedCount}`,
);

await empathy.close();
await grafanaApi.close();
