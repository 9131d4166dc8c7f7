// The shared plugin contract, run on the SQLite queue: retries, Retry-After, timeouts, dead
// letters and replay behave the same as on the in-memory queue.
import {
  type DeliveryContext,
  type EmpathyEvent,
  parseRetryAfter,
  WebhookDeliveryError,
  type WebhookPlugin,
} from '@empathy/webhooks-core';
import { createFakeServer, describeWebhookContract, fakeServerHarness } from '@empathy/webhooks-core/testing';
import { SqliteQueue } from '../src/index.js';
import { tempDb } from './helpers.js';

const TOKEN = 'sqlite-contract-token-5f2e';

/** A minimal HTTP plugin: one fetch per attempt, the vendor's status and Retry-After to core. */
function httpPlugin(url: string, options: Partial<WebhookPlugin>): WebhookPlugin {
  const name = options.name ?? 'contract';
  return {
    events: ['*'],
    ...options,
    name,
    async deliver(event: EmpathyEvent, ctx: DeliveryContext) {
      let res: Response;
      try {
        res = await fetch(url, {
          method: 'POST',
          body: JSON.stringify(event),
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          signal: ctx.signal,
        });
      } catch {
        throw new WebhookDeliveryError('request failed (network)', { webhook: name });
      }
      await res.arrayBuffer();
      if (res.ok) return { status: res.status };
      throw new WebhookDeliveryError(`HTTP ${res.status}`, {
        webhook: name,
        status: res.status,
        retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
      });
    },
  };
}

describeWebhookContract('minimal HTTP plugin on SqliteQueue', async () => {
  const server = await createFakeServer(() => ({ status: 200 }));
  return {
    ...fakeServerHarness(server, {
      server_error: { status: 503 },
      rate_limited: (s) => ({ status: 429, headers: { 'retry-after': String(s) } }),
      client_error: { status: 400, body: { error: 'bad payload' } },
    }),
    secrets: [TOKEN],
    events: ['alert', 'prediction', 'bug_detected'],
    create: (o) => httpPlugin(`${server.url}/hook`, o),
    queue: () => new SqliteQueue({ path: tempDb(), pollMs: 50 }),
  };
});
