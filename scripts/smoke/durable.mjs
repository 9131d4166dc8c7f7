/**
 * The durable delivery of scripts/smoke-node.mjs, run from the scratch install with the Node
 * under test: `node durable.mjs produce|consume <db file> <receiver url>`.
 *
 * produce: emits one alert into a SqliteQueue while the receiver answers 503, then exits at once
 *   without close(), as a crash would: what emit() resolved must be in the file. Prints the
 *   event id.
 * consume: a new process opens the same file while the receiver answers 200, flushes and closes.
 *   Prints the webhook's stats as JSON.
 */
import { EmpathyOS } from '@empathy/os';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SqliteQueue } from '@empathy/webhooks-store-sqlite';

const [phase, path, url] = process.argv.slice(2);
if (!['produce', 'consume'].includes(phase) || !path || !url) {
  console.error('usage: node durable.mjs produce|consume <db file> <receiver url>');
  process.exit(2);
}

const empathy = new EmpathyOS({
  userId: 'smoke',
  queue: new SqliteQueue({ path }),
  webhooks: [
    new CustomWebhook({
      name: 'ops',
      url,
      events: ['alert'],
      allowPrivateNetwork: true, // the receiver is on 127.0.0.1
      retryPolicy: { maxRetries: 5, initialDelaySeconds: 0.2 },
    }),
  ],
});

if (phase === 'produce') {
  const event = await empathy.emit('alert', { message: 'smoke: durable delivery' }, { severity: 'high' });
  console.log(event.event_id);
  process.exit(0); // no close(): the job must already be in the file
}

await empathy.flush();
await empathy.close();
console.log(JSON.stringify(empathy.monitor.getWebhookStats('ops')));
