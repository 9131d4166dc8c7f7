// The shared plugin contract, run on the BullMQ queue (the real Redis): retries as delayed jobs,
// Retry-After, timeouts, dead letters in Redis and replay behave as on the in-memory queue.
import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { BullMQQueue } from '../src/index.js';
import { deleteKeys, httpWebhook, REDIS, uniquePrefix } from './helpers.js';

const TOKEN = 'bullmq-contract-token-9c1d';

describeWebhookContract('minimal HTTP plugin on BullMQQueue', async () => {
  const server = await createFakeServer(() => ({ status: 200 }));
  const prefix = uniquePrefix();
  const harness = fakeServerHarness(server, {
    server_error: { status: 503 },
    rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
    client_error: { status: 400, body: { error: 'bad payload' } },
  });
  return {
    ...harness,
    secrets: [TOKEN],
    events: ['alert', 'prediction', 'bug_detected'],
    create: (o) => httpWebhook(`${server.url}/hook`, { ...o, headers: { authorization: `Bearer ${TOKEN}` } }),
    queue: () => new BullMQQueue({ connection: REDIS, prefix, consume: true }),
    async close() {
      await harness.close();
      await deleteKeys(prefix);
    },
  };
});
