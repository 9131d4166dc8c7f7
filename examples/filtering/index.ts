/**
 * The seed's "Filtering & Routing" example in TypeScript: high-severity alerts to PagerDuty, all
 * events to Datadog, SENSITIVE compliance events to the compliance team. One local fake answers
 * for all three services (no credentials, no network).
 *
 *   npx tsx examples/filtering/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { DatadogWebhook } from '@empathy/webhooks-datadog';
import { CustomWebhook } from '@empathy/webhooks-http';
import { PagerDutyWebhook } from '@empathy/webhooks-pagerduty';

const fake = await createFakeServer((request) => {
  if (request.path === '/v2/enqueue') {
    return {
      status: 202,
      body: { status: 'success', message: 'Event processed', dedup_key: request.json().dedup_key },
    };
  }
  if (request.path === '/api/v1/events') {
    return { status: 202, body: { status: 'ok', event: { id: 1, title: request.json().title } } };
  }
  return { status: 200, body: { status: 'ok' } }; // the compliance team's endpoint
});

// Only send high-severity events to PagerDuty
const pagerduty = new PagerDutyWebhook({
  routingKey: 'R0UT1NGK3Y0000000000000000000000', // process.env.PAGERDUTY_ROUTING_KEY
  events: ['alert'],
  filter: (event) => event.severity === 'high',
  baseUrl: fake.url,
  allowPrivateNetwork: true, // the fake is on 127.0.0.1
});

// Send all events to Datadog for logging
const datadog = new DatadogWebhook({
  apiKey: 'dd-api-key-example', // process.env.DATADOG_API_KEY
  events: ['*'], // All events
  site: fake.url,
  allowPrivateNetwork: true, // the fake is on 127.0.0.1
});

// Healthcare-specific alerts to compliance team
const compliance = new CustomWebhook({
  url: `${fake.url}/compliance/webhook`, // https://compliance.hospital.com/webhook
  events: ['compliance_violation', 'phi_access'],
  filter: (event) => event.classification === 'SENSITIVE',
  allowPrivateNetwork: true, // the fake is on 127.0.0.1
});

const empathy = new EmpathyOS({ userId: 'multi_webhook', webhooks: [pagerduty, datadog, compliance] });

await empathy.emit('alert', { title: 'Checkout down', message: '5xx rate at 40%' }, { severity: 'high' });
await empathy.emit('alert', { message: 'Disk at 71%' }, { severity: 'low' });
await empathy.emit(
  'phi_access',
  { resource: 'patients/8812/record', accessor: 'dr_chen', purpose: 'treatment' },
  { classification: 'SENSITIVE' },
);
await empathy.emit('phi_access', { resource: 'docs/handbook' }, { classification: 'INTERNAL' });
await empathy.flush();

for (const [name, stats] of Object.entries(empathy.monitor.getAllStats())) {
  console.log(`${name.padEnd(24)} delivered ${stats.successCount}, failed ${stats.failedCount}`);
}
console.log('\nwhat the services received:');
for (const r of fake.requests) console.log(`  ${r.method} ${r.path}`);
await empathy.close();
await fake.close();
