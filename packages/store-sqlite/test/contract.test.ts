// The shared plugin contract, run on the SQLite queue with a real plugin (CustomWebhook): retries,
// Retry-After, timeouts, dead letters, replay and the hostile-endpoint cases behave the same as on
// the in-memory queue.
import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { CustomWebhook } from '@empathy/webhooks-http';
import { SqliteQueue } from '../src/index.js';
import { tempDb } from './helpers.js';

const TOKEN = 'sq_tok_5f2e9a81c7d4b3e0';

describeWebhookContract('CustomWebhook on SqliteQueue', async () => {
  const server = await createFakeServer(() => ({ status: 200 }));
  return {
    ...fakeServerHarness(server, {
      server_error: { status: 503 },
      rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
      client_error: { status: 400, body: { error: 'bad payload' } },
      echo: (text) => ({ status: 401, body: { error: text } }),
    }),
    secrets: [TOKEN],
    events: ['alert', 'prediction', 'bug_detected'],
    mark: (body, text) => ({ ...body, marker: text }),
    create: ({ endpoint, ...o }) =>
      new CustomWebhook({
        ...o,
        url: `${endpoint ?? server.url}/hook`,
        headers: { authorization: `Bearer ${TOKEN}` },
      }),
    queue: () => new SqliteQueue({ path: tempDb(), pollMs: 50 }),
  };
});
