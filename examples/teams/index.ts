/**
 * TeamsWebhook against a local fake of a Teams Workflows webhook: no credentials, no network.
 * The violation is an incident: seen, seen again, fixed (`resolved: true`). A Workflows webhook
 * cannot edit a card, so each is a new card saying where the incident stands.
 * Run: cd /work/main && npx tsx examples/teams/index.ts
 */
import { EmpathyOS } from '@empathy/os';
import { createFakeServer, type RecordedRequest } from '@empathy/webhooks-core/fakes';
import { TeamsWebhook } from '@empathy/webhooks-teams';

// A tiny Workflows trigger: checks the `sig`, answers 202 Accepted with the run id.
const SIG = 'example-signature';
let runs = 0;
const workflows = await createFakeServer((req: RecordedRequest) => {
  if (new URL(req.url, 'http://x').searchParams.get('sig') !== SIG) {
    return {
      status: 401,
      body: { error: { code: 'DirectApiInvalidAuthorizationSignature', message: 'Bad sig.' } },
    };
  }
  return { status: 202, headers: { 'x-ms-workflow-run-id': `08584000000000000000000${++runs}CU12` } };
});

// Healthcare-specific alerts to the compliance channel, as in the seed.
const teams = new TeamsWebhook({
  // process.env.TEAMS_WEBHOOK_URL, copied from the Workflows flow "When a Teams webhook request is received"
  webhookUrl: `${workflows.url}/workflows/3f1e2d4c/triggers/manual/paths/invoke?api-version=1&sv=1.0&sig=${SIG}`,
  allowPrivateNetwork: true, // the fake listens on 127.0.0.1 over http; leave it off for logic.azure.com
  name: 'compliance-teams',
  events: ['compliance_violation', 'phi_access'],
  filter: (event) => event.classification === 'SENSITIVE',
});
const empathy = new EmpathyOS({ userId: 'compliance_agent', webhooks: [teams] });
empathy.monitor.on((outcome) => {
  if (outcome.kind === 'delivered') console.log(`delivered ${outcome.eventType} (HTTP ${outcome.status})`);
});

const violation = {
  regulation: 'HIPAA',
  description: 'Patient identifiers written to application logs',
  rule: '164.312(b)',
  resource: 'services/intake/logger.ts',
  url: 'https://dashboards.example.com/compliance/4411',
};
const sensitive = { severity: 'high', classification: 'SENSITIVE' } as const;
await empathy.emit('compliance_violation', violation, sensitive);
await empathy.emit(
  'phi_access',
  { resource: 'patients/8812/record', accessor: 'dr_chen', purpose: 'treatment' },
  { severity: 'info', classification: 'INTERNAL' }, // filtered out: not SENSITIVE
);
// The same violation found again, then fixed.
await empathy.emit('compliance_violation', violation, sensitive);
await empathy.emit('compliance_violation', { ...violation, resolved: true }, sensitive);
await empathy.flush();

// What the flow received: one Adaptive Card 1.4 per event (the first in full).
for (const req of workflows.requests) {
  const card = req.json().attachments[0].content;
  console.log(`HTTP ${req.status}  Adaptive Card ${card.version}  "${card.fallbackText}"`);
  for (const element of card.body) {
    if (element.type === 'FactSet') {
      const facts = req === workflows.requests[0] ? element.facts : element.facts.slice(0, 1);
      for (const fact of facts) console.log(`  ${fact.title}: ${fact.value}`);
    }
  }
  if (req !== workflows.requests[0]) continue;
  for (const action of card.actions ?? []) console.log(`  [${action.title}] → ${action.url}`);
}
const stats = empathy.monitor.getWebhookStats('compliance-teams');
console.log(`stats: sent ${stats.totalSent}, delivered ${stats.successCount}, failed ${stats.failedCount}`);

await empathy.close();
await workflows.close();
