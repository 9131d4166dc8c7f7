// The shared plugin contract, run on the BullMQ queue (the real Redis) with a real plugin
// (CustomWebhook): retries as delayed jobs, Retry-After, timeouts, dead letters in Redis, replay
// and the hostile-endpoint cases behave as on the in-memory queue.
import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { BullMQQueue } from '../src/index.js';
import { deleteKeys, REDIS, uniquePrefix } from './helpers.js';

const TOKEN = 'bq_tok_9c1d7e52a0f8b6c3';

describeWebhookContract('CustomWebhook on BullMQQueue', async () => {
  const server = await createFakeServer(() => ({ status: 200 }));
  const prefix = uniquePrefix();
  const harness = fakeServerHarness(server, {
    server_error: { status: 503 },
    rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
    client_error: { status: 400, body: { error: 'bad payload' } },
    echo: (text) => ({ status: 401, body: { error: text } }),
  });
  return {
    ...harness,
    secrets: [TOKEN],
    events: ['alert', 'prediction', 'bug_detected'],
    mark: (body, text) => ({ ...body, marker: text }),
    create: ({ endpoint, ...o }) =>
      new CustomWebhook({
        ...o,
        url: `${endpoint ?? server.url}/hook`,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    queue: () => new BullMQQueue({ connection: REDIS, prefix, consume: true }),
    async close() {
      await harness.close();
      await deleteKeys(prefix);
    },
  };
});
