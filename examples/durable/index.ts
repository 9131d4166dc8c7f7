/**
 * Durable delivery with SqliteQueue: events survive a restart, and dead letters persist until
 * replayed. Runs against a local fake receiver: no credentials, no network.
 *
 *   cd /work/main && npx tsx examples/durable/index.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EmpathyOS } from '@empathy/os';
import { createFakeServer } from '@empathy/webhooks-core/fakes';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';

const dir = mkdtempSync(join(tmpdir(), 'empathy-durable-'));
const path = join(dir, 'webhooks.db');

// The receiver is down at first: every request gets a 503.
let up = false;
const receiver = await createFakeServer((req) => {
  if (!up) return { status: 503 };
  if (req.path === '/audit' && req.json().event_type === 'phi_access')
    return { status: 400, body: 'bad payload' };
  return { status: 200 };
});
const webhooks = () => [
  new CustomWebhook({
    name: 'ops',
    url: `${receiver.url}/ops`,
    events: ['alert', 'deployment_risk'],
    allowPrivateNetwork: true, // the receiver is on 127.0.0.1
    retryPolicy: { maxRetries: 5, initialDelaySeconds: 0.2 },
  }),
  new CustomWebhook({
    name: 'audit',
    url: `${receiver.url}/audit`,
    events: ['phi_access'],
    allowPrivateNetwork: true,
  }),
];

// 1. A process emits while the receiver is down, then stops. emit() resolved once the jobs
//    were committed to the file.
const first = new EmpathyOS({
  userId: 'developer_123',
  queue: new SqliteQueue({ path, drainMs: 300 }),
  webhooks: webhooks(),
});
await first.emit(
  'alert',
  { title: 'Error rate above 5%', message: 'checkout 5xx at 7.2%' },
  { severity: 'high' },
);
await first.emit('deployment_risk', { service: 'auth', environment: 'production', risk: 'high' });
await first.emit(
  'phi_access',
  { resource: 'patient/123', accessor: 'dr_smith' },
  { classification: 'SENSITIVE' },
);
await first.close();
console.log(`1. receiver down: ${receiver.requests.length} attempts failed with 503; the process stopped`);

// 2. A new process opens the same file once the receiver is back: nothing was lost.
up = true;
const queue = new SqliteQueue({ path });
console.log(`2. restart: ${await queue.pending()} deliveries waiting in ${path}`);
const second = new EmpathyOS({ userId: 'developer_123', queue, webhooks: webhooks() });
await second.flush();
const ok = receiver.requests.filter((r) => r.status === 200);
for (const r of ok) console.log(`   delivered ${r.json().event_type} ${r.json().event_id} to ${r.path}`);
console.log('   ops stats:', second.monitor.getWebhookStats('ops'));

// 3. The audit endpoint refused its event (400, permanent): it waits in the file's dead letters.
const [letter] = await second.deadLetters.list();
console.log(`3. dead letter: ${letter!.id} after ${letter!.attempts} attempt(s): ${letter!.error.message}`);
receiver.setHandler(() => ({ status: 200 })); // the receiver is fixed
await second.deadLetters.replay(letter!.id);
await second.flush();
console.log(`   replayed: ${(await second.deadLetters.list()).length} dead letters left`);
console.log(
  '   delivery records:',
  (await queue.delivered()).map((d) => `${d.webhook}:${d.eventId}`),
);

await second.close();
await receiver.close();
rmSync(dir, { recursive: true, force: true });
