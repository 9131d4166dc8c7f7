/**
 * PagerDutyWebhook against a local fake of the Events API v2: no credentials, no network.
 * An incident is one `dedup_key`: the alert triggers, triggers again (PagerDuty adds it to the
 * open alert, no new page) and resolves with `resolved: true`; another is acknowledged by hand.
 * Run: cd /work/main && npx tsx examples/pagerduty/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { PagerDutyWebhook } from '@empathy/webhooks-pagerduty';

// A tiny PagerDuty: keeps one incident per dedup_key, as the Events API does.
const incidents = new Map<string, { summary: string; status: string; alerts: number }>();
const pagerdutyApi = await createFakeServer((req: RecordedRequest) => {
  if (req.path !== '/v2/enqueue') return { status: 404, body: { status: 'not found' } };
  const event = req.json();
  if (event.routing_key?.length !== 32) {
    return {
      status: 400,
      body: {
        status: 'invalid event',
        message: 'Event object is invalid',
        errors: ["Length of 'routing_key' is incorrect"],
      },
    };
  }
  const key: string = event.dedup_key;
  const incident = incidents.get(key);
  if (event.event_action === 'trigger') {
    if (incident && incident.status !== 'resolved') incident.alerts++;
    else incidents.set(key, { summary: event.payload.summary, status: 'triggered', alerts: 1 });
  } else if (incident) {
    incident.status = event.event_action === 'resolve' ? 'resolved' : 'acknowledged';
  }
  return { status: 202, body: { status: 'success', message: 'Event processed', dedup_key: key } };
});

// The seed's configuration: only high-severity alerts page.
const pagerduty = new PagerDutyWebhook({
  routingKey: 'R0123456789abcdef0123456789ABCDE', // process.env.PAGERDUTY_ROUTING_KEY
  events: ['alert'],
  filter: (event) => event.severity === 'high',
  source: 'empathy-prod',
  component: 'checkout',
  baseUrl: pagerdutyApi.url, // omit for https://events.pagerduty.com (or region: 'eu')
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1 over http; leave it off for PagerDuty
});

const empathy = new EmpathyOS({ userId: 'sre_bot', webhooks: [pagerduty] });
const checkout = { title: 'Error rate above 5% on checkout', source: 'checkout-api' };

await empathy.emit('alert', { ...checkout, message: '5xx rate 7.2% over 10 minutes' }, { severity: 'high' });
await empathy.emit('alert', { ...checkout, message: '5xx rate 9.8% over 10 minutes' }, { severity: 'high' });
await empathy.emit('alert', { message: 'disk 81% full on db-2' }, { severity: 'warning' }); // filtered out
await empathy.emit(
  'alert',
  { title: 'Queue backlog growing', message: '12k jobs waiting' },
  { severity: 'high' },
);
await empathy.flush();
console.log('after three high alerts (two of the same condition):');
for (const [key, incident] of incidents)
  console.log(`  ${key}  ${incident.status}  x${incident.alerts}  ${incident.summary}`);

// The condition clears: an alert with `resolved: true` and the same title/source resolves it.
await empathy.emit(
  'alert',
  { ...checkout, message: '5xx rate back to 0.3%', resolved: true },
  { severity: 'high' },
);
await empathy.flush();

// Or act on an incident directly: acknowledge() queues a job like any delivery (rate limit,
// retries, stats, dead letters) and resolves with the queued event.
const backlog = [...incidents.keys()].find((key) => incidents.get(key)?.summary.startsWith('Queue'))!;
const acknowledged = await pagerduty.acknowledge(backlog, { userId: 'sre_on_call' });
await empathy.flush();
console.log(`acknowledge(): queued ${acknowledged.event_id}, delivered`);

console.log('what PagerDuty received:');
for (const req of pagerdutyApi.requests) {
  const { event_action, dedup_key, payload } = req.json();
  const occurrences = payload?.custom_details?.occurrences;
  console.log(
    `  ${event_action.padEnd(11)} ${dedup_key}${occurrences ? `  occurrences ${occurrences}` : ''}`,
  );
}
console.log('now:');
for (const [key, incident] of incidents)
  console.log(`  ${key}  ${incident.status}  x${incident.alerts}  ${incident.summary}`);
const stats = empathy.monitor.getWebhookStats('pagerduty');
console.log(`stats: sent ${stats.totalSent}, delivered ${stats.successCount}, failed ${stats.failedCount}`);

await empathy.close();
await pagerdutyApi.close();
